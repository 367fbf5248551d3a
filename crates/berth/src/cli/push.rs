//! `push`: the daemon pushes (`POST /images/{name}/push`), the client sends the registry's
//! stored credentials and renders the progress, as the docker CLI does.

use anyhow::{Result, bail};
use berth_client::Client;

use super::enc;
use super::jsonmessage::{self, Renderer};
use super::pull::{ContentTrust, parse_reference, post_with_auth, with_default_tag};
use super::registry_auth::ConfigFile;

#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// Push all tags of an image to the repository
    #[arg(short = 'a', long = "all-tags")]
    all_tags: bool,
    /// Suppress verbose output
    #[arg(short, long)]
    quiet: bool,
    /// Push a platform-specific manifest as a single-platform image (API 1.46; not in berth)
    #[arg(long)]
    platform: Option<String>,
    #[command(flatten)]
    trust: ContentTrust,
    /// NAME[:TAG]
    name: String,
}

pub async fn push(client: &Client, a: PushArgs) -> Result<u8> {
    a.trust.check()?;
    if a.platform.as_deref().is_some_and(|p| !p.is_empty()) {
        // What the docker CLI says to a daemon of berth's API version.
        bail!(
            "\"platform\" requires API version 1.46, but the Docker daemon API version is {}",
            berth_api::MAX_VERSION
        );
    }
    let r = with_default_tag(parse_reference(&a.name)?, a.all_tags, a.quiet)?;
    if r.digest().is_some() {
        bail!("cannot push a digest reference");
    }
    let mut path = format!("/images/{}/push", r.repository());
    if let (false, Some(tag)) = (a.all_tags, r.tag()) {
        path.push_str(&format!("?tag={}", enc(tag)));
    }
    let cfg = ConfigFile::load_default();
    let body = post_with_auth(client, &path, &cfg, r.domain(), "push").await?;
    let mut notes = Vec::new();
    let mut aux = |v: &serde_json::Value| notes.extend(aux_note(v));
    let shown = if a.quiet {
        let mut out = Renderer::new(std::io::sink(), false);
        jsonmessage::display(body, &mut out, &mut aux).await
    } else {
        jsonmessage::display(body, &mut Renderer::stdout(), &mut aux).await
    };
    // As docker's deferred notes: shown whether or not the push went through.
    let tty = std::io::IsTerminal::is_terminal(&std::io::stdout());
    for n in &notes {
        super::login::print_note(&mut std::io::stdout(), tty, n);
    }
    shown?;
    if a.quiet {
        println!("{r}");
    }
    Ok(0)
}

/// docker's notes for the `aux` messages of a multi-platform push.
fn aux_note(v: &serde_json::Value) -> Option<String> {
    if v["manifestPushedInsteadOfIndex"] == true {
        let digest = |k: &str| v[k]["digest"].as_str().unwrap_or("").to_string();
        return Some(format!(
            "Not all multiplatform-content is present and only the available single-platform image was pushed\n\x1b[31m{}\x1b[0m -> \x1b[32m{}\x1b[0m",
            digest("originalIndex"),
            digest("selectedManifest")
        ));
    }
    if v["contentMissing"] == true {
        return Some(
            "You're trying to push a manifest list/index which \n\t\t\t\treferences multiple platform specific manifests, but not all of them are available locally\n\t\t\t\tor available to the remote repository.\n\n\t\t\t\tMake sure you have all the referenced content and try again.\n\n\t\t\t\tYou can also push only a single platform specific manifest directly by specifying the platform you want to push with the --platform flag.".into(),
        );
    }
    None
}
