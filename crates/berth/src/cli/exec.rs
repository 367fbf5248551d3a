//! `exec`: run a command in a running container.

use anyhow::Result;
use berth_api::exec::{ExecConfig, ExecCreateResponse, ExecInspect, ExecStartConfig};
use berth_client::Client;
use bytes::Bytes;
use hyper::Method;

use super::{run, term};

#[derive(Debug, clap::Args)]
pub struct ExecArgs {
    /// Detached mode: run command in the background.
    #[arg(short, long)]
    detach: bool,
    /// Override the key sequence for detaching a container.
    #[arg(long)]
    detach_keys: Option<String>,
    /// Set environment variables.
    #[arg(short, long = "env")]
    env: Vec<String>,
    /// Read in a file of environment variables.
    #[arg(long)]
    env_file: Vec<String>,
    /// Keep STDIN open even if not attached.
    #[arg(short, long)]
    interactive: bool,
    /// Give extended privileges to the command.
    #[arg(long)]
    privileged: bool,
    /// Allocate a pseudo-TTY.
    #[arg(short, long)]
    tty: bool,
    /// Username or UID (format: "<name|uid>[:<group|gid>]").
    #[arg(short, long)]
    user: Option<String>,
    /// Working directory inside the container.
    #[arg(short, long)]
    workdir: Option<String>,
    /// The container.
    container: String,
    /// Command and arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

pub async fn exec(client: &Client, a: ExecArgs) -> Result<u8> {
    let given = super::detach_opts::given(a.detach_keys.as_deref());
    let keys = super::detach_opts::keys(given.as_deref())?;
    let console = a.tty.then(term::size).flatten().map(|(h, w)| vec![h, w]);
    let config = ExecConfig {
        attach_stdin: a.interactive && !a.detach,
        attach_stdout: !a.detach,
        attach_stderr: !a.detach,
        detach_keys: given.unwrap_or_default(),
        detach: a.detach,
        tty: a.tty,
        console_size: console.clone(),
        env: Some(run::env_list(&a.env_file, &a.env)?),
        cmd: Some(a.command),
        privileged: a.privileged,
        user: a.user.unwrap_or_default(),
        working_dir: a.workdir.unwrap_or_default(),
        rest: Default::default(),
    };
    let created: ExecCreateResponse = client
        .post_json(&format!("/containers/{}/exec", a.container), &config)
        .await?;
    let id = created.id;
    let start = ExecStartConfig {
        detach: a.detach,
        tty: a.tty,
        console_size: console,
    };
    let body = Some((Bytes::from(serde_json::to_vec(&start)?), "application/json"));
    if a.detach {
        client
            .bytes(Method::POST, &format!("/exec/{id}/start"), body)
            .await?;
        return Ok(0);
    }
    let io = client.hijack(&format!("/exec/{id}/start"), body).await?;
    let (rd, wr) = tokio::io::split(io);
    let _raw = (a.tty && a.interactive)
        .then(term::RawMode::enable)
        .flatten();
    let resizer = a
        .tty
        .then(|| term::forward_resizes(client, format!("/exec/{id}/resize")));
    let detached = run::stream_io(rd, wr, a.tty, a.interactive, keys).await;
    if let Some(r) = resizer {
        r.abort();
    }
    drop(_raw);
    if detached? {
        // The process runs on, as with the docker CLI, which says so and exits 1.
        eprintln!("{}", super::detach_opts::DETACHED);
        return Ok(1);
    }
    let info: ExecInspect = client.get(&format!("/exec/{id}/json")).await?;
    Ok(info.exit_code.unwrap_or(0).clamp(0, 255) as u8)
}
