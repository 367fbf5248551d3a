//! `attach`: the local terminal to a running container's stdio.

use anyhow::{Result, bail};
use berth_api::container::Inspect;
use berth_client::Client;
use hyper::Method;

use super::{detach_opts, enc, run, term};

#[derive(Debug, clap::Args)]
pub struct AttachArgs {
    /// Override the key sequence for detaching a container.
    #[arg(long)]
    detach_keys: Option<String>,
    /// Do not attach STDIN.
    #[arg(long)]
    no_stdin: bool,
    /// Proxy all received signals to the process.
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    sig_proxy: bool,
    /// The container.
    container: String,
}

pub async fn attach(client: &Client, a: AttachArgs) -> Result<u8> {
    let given = detach_opts::given(a.detach_keys.as_deref());
    let keys = detach_opts::keys(given.as_deref())?;
    let info: Inspect = client
        .get(&format!("/containers/{}/json", enc(&a.container)))
        .await?;
    if !info.state.running {
        bail!("You cannot attach to a stopped container, start it first");
    }
    let (id, tty) = (info.id.clone(), info.config.tty);
    let stdin = !a.no_stdin && info.config.open_stdin;
    let io = client
        .hijack(
            &format!(
                "/containers/{id}/attach?stream=1&stdout=1&stderr=1&stdin={}{}",
                u8::from(stdin),
                detach_opts::query(given.as_deref()),
            ),
            None,
        )
        .await?;
    let waiter = client
        .request(
            Method::POST,
            &format!("/containers/{id}/wait?condition=next-exit"),
            None,
        )
        .await?;
    // As the docker CLI: a container with a terminal gets the user's keys instead.
    let proxy = super::sig_proxy::forward(a.sig_proxy && !tty, client, &id);
    let (rd, wr) = tokio::io::split(io);
    let raw = (tty && stdin).then(term::RawMode::enable).flatten();
    let resizer = tty.then(|| term::forward_resizes(client, format!("/containers/{id}/resize")));
    let detached = run::stream_io(rd, wr, tty, stdin, keys).await;
    if let Some(r) = resizer {
        r.abort();
    }
    drop(raw);
    proxy.iter().for_each(|t| t.abort());
    if detached? {
        eprintln!("{}", detach_opts::DETACHED);
        return Ok(1);
    }
    run::exit_status(waiter).await
}
