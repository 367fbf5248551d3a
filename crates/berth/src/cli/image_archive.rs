//! `save` and `load`: image archives out of and into the daemon, streamed both ways.

use std::io::{IsTerminal, Read};

use anyhow::{Context, Result, bail};
use berth_client::Client;
use bytes::Bytes;
use hyper::Method;
use tokio::sync::mpsc;

use super::enc;
use super::jsonmessage::Renderer;

#[derive(Debug, clap::Args)]
pub struct SaveArgs {
    #[arg(required = true)]
    images: Vec<String>,
    /// Write to a file, instead of STDOUT.
    #[arg(short, long)]
    output: Option<String>,
    /// Save only the given platform (berth saves the host's platform of an image).
    #[arg(long)]
    platform: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// Read from tar archive file, instead of STDIN.
    #[arg(short, long)]
    input: Option<String>,
    /// Suppress the load output.
    #[arg(short, long)]
    quiet: bool,
    /// Load only the given platform (berth loads every platform an archive has).
    #[arg(long)]
    platform: Option<String>,
}

pub async fn save(client: &Client, a: SaveArgs) -> Result<u8> {
    if a.output.is_none() && std::io::stdout().is_terminal() {
        bail!("cowardly refusing to save to a terminal. Use the -o flag or redirect");
    }
    check_platform(a.platform.as_deref())?;
    let names: Vec<String> = a
        .images
        .iter()
        .map(|n| format!("names={}", enc(n)))
        .collect();
    let resp = client
        .request(
            Method::GET,
            &format!("/images/get?{}", names.join("&")),
            None,
        )
        .await?;
    super::container_files::write_out(
        resp.into_body(),
        a.output.as_deref(),
        "failed to save image",
    )
    .await
}

/// `save` and `load` move every platform they have (`load`) or the host's (`save`):
/// `--platform` may only name the host's.
fn check_platform(p: Option<&str>) -> Result<()> {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    match p {
        Some(p) if p != format!("linux/{arch}") && p != arch => {
            bail!(
                "--platform {p}: berth saves the host's platform (linux/{arch}) and loads every platform of an archive; pick one with run, create or build --platform"
            )
        }
        _ => Ok(()),
    }
}

/// Sends `input` in chunks from a thread of its own (files and pipes block).
fn send_input(mut input: Box<dyn Read + Send>) -> mpsc::Receiver<std::io::Result<Bytes>> {
    let (tx, rx) = mpsc::channel(8);
    std::thread::spawn(move || {
        loop {
            let mut buf = vec![0u8; 256 << 10];
            match input.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    buf.truncate(n);
                    if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    break;
                }
            }
        }
    });
    rx
}

pub async fn load(client: &Client, a: LoadArgs) -> Result<u8> {
    check_platform(a.platform.as_deref())?;
    let input: Box<dyn Read + Send> = match &a.input {
        Some(path) => {
            Box::new(std::fs::File::open(path).with_context(|| format!("opening {path}"))?)
        }
        None => {
            if std::io::stdin().is_terminal() {
                bail!("requested load from stdin, but stdin is empty");
            }
            Box::new(std::io::stdin())
        }
    };
    // The docker CLI shows progress only on a terminal.
    let tty = std::io::stdout().is_terminal();
    let quiet = a.quiet || !tty;
    let resp = client
        .request_stream(
            Method::POST,
            &format!("/images/load?quiet={}", if quiet { "1" } else { "0" }),
            "application/x-tar",
            send_input(input),
        )
        .await?;
    // The stream as docker renders it: on a terminal, each layer's bar redrawn in place.
    super::jsonmessage::display(resp.into_body(), &mut Renderer::stdout(), &mut |_| {}).await?;
    Ok(0)
}
