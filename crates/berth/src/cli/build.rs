//! `build`: send a context to the daemon's builder and show its progress, as Docker's classic
//! output (`--progress=plain` gives BuildKit-style numbered steps with timings).

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use berth_client::{Client, ClientError};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::Method;

use super::enc;
use super::progress::{Mode, Renderer};

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Name of the Dockerfile (default: PATH/Dockerfile; `-` reads it from stdin).
    #[arg(short, long)]
    file: Option<String>,
    /// Name and optionally a tag in the "name:tag" format.
    #[arg(short, long = "tag")]
    tag: Vec<String>,
    /// Set build-time variables.
    #[arg(long)]
    build_arg: Vec<String>,
    /// Set metadata for an image.
    #[arg(long)]
    label: Vec<String>,
    /// Set the target build stage to build.
    #[arg(long)]
    target: Option<String>,
    /// Do not use cache when building the image.
    #[arg(long)]
    no_cache: bool,
    /// Always attempt to pull a newer version of the image.
    #[arg(long, default_missing_value = "true", num_args = 0..=1)]
    pull: Option<bool>,
    /// Suppress the build output and print image ID on success.
    #[arg(short, long)]
    quiet: bool,
    /// Write the image ID to the file.
    #[arg(long)]
    iidfile: Option<PathBuf>,
    /// Set type of progress output (auto, plain, tty).
    #[arg(long, default_value = "auto")]
    progress: String,
    /// Images to consider as cache sources.
    #[arg(long)]
    cache_from: Vec<String>,
    /// Set the networking mode for the RUN instructions during build (host, none).
    #[arg(long)]
    network: Option<String>,
    /// Size of /dev/shm of the RUN instructions.
    #[arg(long)]
    shm_size: Option<String>,
    /// Remove intermediate containers after a successful build.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    rm: bool,
    /// Always remove intermediate containers.
    #[arg(long)]
    force_rm: bool,
    /// Set platform if server is multi-platform capable.
    #[arg(long)]
    platform: Option<String>,
    /// Secret to expose to RUN --mount=type=secret (id=ID,src=FILE or id=ID,env=VAR).
    #[arg(long)]
    secret: Vec<String>,
    /// The build context: a directory, a tar archive, or `-` (a tar or a Dockerfile on stdin).
    path: String,
}

/// `--secret id=x,src=file` / `id=x,env=VAR` as (id, value).
fn secrets(a: &BuildArgs) -> Result<Vec<(String, Vec<u8>)>> {
    a.secret
        .iter()
        .map(|spec| {
            let mut id = None;
            let mut value = None;
            for part in spec.split(',') {
                match part.split_once('=') {
                    Some(("id", v)) => id = Some(v.to_string()),
                    Some(("src" | "source", v)) => {
                        value = Some(
                            std::fs::read(v).with_context(|| format!("reading secret file {v}"))?,
                        )
                    }
                    Some(("env", v)) => {
                        value = Some(
                            std::env::var(v)
                                .with_context(|| format!("secret env {v} is not set"))?
                                .into_bytes(),
                        )
                    }
                    Some(("type", "file" | "env")) => {}
                    _ => bail!("invalid secret {spec:?}: use id=ID,src=FILE or id=ID,env=VAR"),
                }
            }
            let id =
                id.ok_or_else(|| anyhow::anyhow!("invalid secret {spec:?}: id is required"))?;
            if id.contains('/') || id.starts_with('.') {
                bail!("invalid secret id {id:?}");
            }
            let value = match value {
                Some(v) => v,
                None => std::env::var(&id)
                    .map(String::into_bytes)
                    .with_context(|| format!("secret {id}: no src or env given"))?,
            };
            Ok((id, value))
        })
        .collect()
}

/// The context as a tar, and the Dockerfile's name in it. Secrets travel in it under a
/// reserved directory the daemon takes out before the build sees the context (the classic API
/// has no other channel for them).
fn context(a: &BuildArgs) -> Result<(Vec<u8>, String)> {
    let extra: Vec<(String, Vec<u8>)> = secrets(a)?
        .into_iter()
        .map(|(id, v)| (format!(".berth-build-secrets/{id}"), v))
        .collect();
    context_tar(a, &extra)
}

fn context_tar(a: &BuildArgs, extra: &[(String, Vec<u8>)]) -> Result<(Vec<u8>, String)> {
    let mut stdin_dockerfile = None;
    if a.file.as_deref() == Some("-") {
        if a.path == "-" {
            bail!("invalid argument: can't use stdin for both build context and dockerfile");
        }
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        stdin_dockerfile = Some(s);
    }
    if a.path == "-" {
        let mut data = Vec::new();
        std::io::stdin().read_to_end(&mut data)?;
        let is_tar =
            data.len() >= 262 && &data[257..262] == b"ustar" || data.starts_with(&[0x1f, 0x8b]);
        if is_tar {
            return Ok((data, a.file.clone().unwrap_or_else(|| "Dockerfile".into())));
        }
        // A Dockerfile alone: an empty context.
        let mut b = tar::Builder::new(Vec::new());
        append_bytes(&mut b, "Dockerfile", &data)?;
        for (name, v) in extra {
            append_bytes(&mut b, name, v)?;
        }
        return Ok((b.into_inner()?, "Dockerfile".into()));
    }
    let root = Path::new(&a.path);
    if root.is_file() {
        if !extra.is_empty() {
            bail!("--secret needs a directory context or a Dockerfile on stdin");
        }
        return Ok((
            std::fs::read(root)?,
            a.file.clone().unwrap_or_else(|| "Dockerfile".into()),
        ));
    }
    if !root.is_dir() {
        bail!("unable to prepare context: path {:?} not found", a.path);
    }
    let dockerfile = match (&stdin_dockerfile, &a.file) {
        (Some(_), _) => format!("__dockerfile-{}", std::process::id()),
        (None, Some(f)) => {
            let p = Path::new(f);
            let abs = if p.is_absolute() {
                p.to_path_buf()
            } else {
                std::env::current_dir()?.join(p)
            };
            abs.strip_prefix(std::fs::canonicalize(root)?)
                .or_else(|_| Path::new(f).strip_prefix(root))
                .map(|r| r.display().to_string())
                .unwrap_or_else(|_| f.clone())
        }
        (None, None) => "Dockerfile".into(),
    };
    let mut b = tar::Builder::new(Vec::new());
    berth_build::context::append_directory(&mut b, root, &dockerfile)?;
    if let Some(text) = stdin_dockerfile {
        append_bytes(&mut b, &dockerfile, text.as_bytes())?;
    }
    for (name, v) in extra {
        append_bytes(&mut b, name, v)?;
    }
    Ok((b.into_inner()?, dockerfile))
}

fn append_bytes(b: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]) -> Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_cksum();
    b.append_data(&mut h, name, data)?;
    Ok(())
}

fn query(a: &BuildArgs, dockerfile: &str) -> Result<String> {
    let mut q = vec![format!("dockerfile={}", enc(dockerfile))];
    for t in &a.tag {
        q.push(format!("t={}", enc(t)));
    }
    let mut args: BTreeMap<String, Option<String>> = BTreeMap::new();
    for kv in &a.build_arg {
        match kv.split_once('=') {
            Some((k, v)) => args.insert(k.into(), Some(v.into())),
            // `--build-arg NAME` takes the value from the environment, if set.
            None => args.insert(kv.clone(), std::env::var(kv).ok()),
        };
    }
    q.push(format!("buildargs={}", enc(&serde_json::to_string(&args)?)));
    let labels: BTreeMap<&str, &str> = a
        .label
        .iter()
        .map(|l| l.split_once('=').unwrap_or((l, "")))
        .collect();
    q.push(format!("labels={}", enc(&serde_json::to_string(&labels)?)));
    if let Some(t) = &a.target {
        q.push(format!("target={}", enc(t)));
    }
    if !a.cache_from.is_empty() {
        q.push(format!(
            "cachefrom={}",
            enc(&serde_json::to_string(&a.cache_from)?)
        ));
    }
    if let Some(n) = &a.network {
        q.push(format!("networkmode={}", enc(n)));
    }
    if let Some(s) = &a.shm_size {
        q.push(format!("shmsize={}", super::run::bytes_arg(s)?));
    }
    if let Some(p) = &a.platform {
        q.push(format!("platform={}", enc(p)));
    }
    for (k, v) in [
        ("berthsecrets", !a.secret.is_empty()),
        ("nocache", a.no_cache),
        ("q", a.quiet),
        ("rm", a.rm),
        ("forcerm", a.force_rm),
        ("pull", a.pull == Some(true)),
    ] {
        q.push(format!("{k}={}", u8::from(v)));
    }
    Ok(q.join("&"))
}

pub async fn build(client: &Client, a: BuildArgs) -> Result<u8> {
    let mode = match a.progress.as_str() {
        "auto" if std::io::stderr().is_terminal() => Mode::Tty,
        "auto" | "plain" => Mode::Plain,
        "tty" => Mode::Tty,
        other => bail!("invalid --progress value {other:?}: use auto, plain or tty"),
    };
    let (tar, dockerfile) = context(&a)?;
    let resp = client
        .request(
            Method::POST,
            &format!("/build?{}", query(&a, &dockerfile)?),
            Some((Bytes::from(tar), "application/x-tar")),
        )
        .await?;
    let mut body = resp.into_body();
    let mut out = Renderer::new(if a.quiet { Mode::Quiet } else { mode });
    let mut buf = Vec::new();
    let mut id = None;
    let mut error = None;
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
    loop {
        let frame = tokio::select! {
            f = body.frame() => f,
            _ = tick.tick(), if out.live() => {
                out.draw();
                continue;
            }
        };
        let Some(frame) = frame else {
            break;
        };
        let frame = frame.map_err(ClientError::from)?;
        let Some(data) = frame.data_ref() else {
            continue;
        };
        buf.extend_from_slice(data);
        let mut stream =
            serde_json::Deserializer::from_slice(&buf).into_iter::<serde_json::Value>();
        let mut used = 0;
        while let Some(Ok(v)) = stream.next() {
            used = stream.byte_offset();
            if let Some(s) = v["stream"].as_str() {
                if a.quiet && s.starts_with("sha256:") {
                    id = Some(s.trim_end().to_string());
                }
                out.text(s);
                if let Some(n) = v["berthStep"]["step"].as_u64() {
                    let secs = v["berthStep"]["seconds"].as_f64().unwrap_or(0.0);
                    out.step_done(n, secs, v["berthStep"]["cached"] == true);
                }
            } else if let Some(i) = v["aux"]["ID"].as_str() {
                id = Some(i.to_string());
            } else if let Some(e) = v["error"].as_str() {
                // A failed RUN's exit code is the build's, as with the docker CLI.
                let code = v["errorDetail"]["code"]
                    .as_u64()
                    .filter(|c| (1..=255).contains(c));
                error = Some((e.to_string(), code.map_or(1, |c| c as u8)));
            }
        }
        buf.drain(..used);
    }
    out.finish(error.is_none());
    if let Some((e, code)) = error {
        eprintln!("ERROR: {e}");
        return Ok(code);
    }
    let Some(id) = id else {
        bail!("the daemon ended the build without an image ID");
    };
    if a.quiet {
        println!("{id}");
    }
    if let Some(f) = &a.iidfile {
        std::fs::write(f, &id).with_context(|| format!("writing {}", f.display()))?;
    }
    Ok(0)
}
