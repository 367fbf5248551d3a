//! `pause`, `unpause`, `rename`.

use anyhow::Result;
use berth_client::Client;
use hyper::Method;

use super::{each, enc};

#[derive(Debug, clap::Args)]
pub struct PauseArgs {
    #[arg(required = true)]
    containers: Vec<String>,
}

/// `pause` and `unpause` (`verb`): each container, printed as given.
pub async fn pause(client: &Client, a: PauseArgs, verb: &str) -> Result<u8> {
    each(&a.containers, |c| async move {
        client
            .bytes(Method::POST, &format!("/containers/{c}/{verb}"), None)
            .await?;
        println!("{c}");
        Ok(())
    })
    .await
}

#[derive(Debug, clap::Args)]
pub struct RenameArgs {
    container: String,
    new_name: String,
}

pub async fn rename(client: &Client, a: RenameArgs) -> Result<u8> {
    let path = format!(
        "/containers/{}/rename?name={}",
        a.container,
        enc(&a.new_name)
    );
    client.bytes(Method::POST, &path, None).await?;
    Ok(0)
}
