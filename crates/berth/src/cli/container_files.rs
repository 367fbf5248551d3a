//! `diff`, `export`, `commit`: a container's filesystem.

use anyhow::{Context, Result, bail};
use berth_client::{Client, ClientError};
use http_body_util::BodyExt;
use hyper::Method;
use std::io::Write;

use super::enc;

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    container: String,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    container: String,
    /// Write to a file, instead of STDOUT.
    #[arg(short, long)]
    output: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct CommitArgs {
    container: String,
    /// REPOSITORY[:TAG] for the new image.
    reference: Option<String>,
    /// Author (e.g., "John Hannibal Smith <hannibal@a-team.com>").
    #[arg(short, long)]
    author: Option<String>,
    /// Apply Dockerfile instruction to the created image.
    #[arg(short = 'c', long = "change")]
    changes: Vec<String>,
    /// Commit message.
    #[arg(short, long)]
    message: Option<String>,
    /// Pause container during commit.
    #[arg(short, long, default_value_t = true, action = clap::ArgAction::Set,
          num_args = 0..=1, default_missing_value = "true")]
    pause: bool,
}

pub async fn diff(client: &Client, a: DiffArgs) -> Result<u8> {
    let v: serde_json::Value = client
        .get(&format!("/containers/{}/changes", enc(&a.container)))
        .await?;
    for c in v.as_array().into_iter().flatten() {
        let kind = match c["Kind"].as_u64() {
            Some(0) => "C",
            Some(1) => "A",
            Some(2) => "D",
            _ => "?",
        };
        println!("{kind} {}", c["Path"].as_str().unwrap_or_default());
    }
    Ok(0)
}

pub async fn export(client: &Client, a: ExportArgs) -> Result<u8> {
    use std::io::IsTerminal;
    if a.output.is_none() && std::io::stdout().is_terminal() {
        bail!("cowardly refusing to save to a terminal. Use the -o flag or redirect");
    }
    let resp = client
        .request(
            Method::GET,
            &format!("/containers/{}/export", enc(&a.container)),
            None,
        )
        .await?;
    write_out(
        resp.into_body(),
        a.output.as_deref(),
        "failed to export container",
    )
    .await
}

/// A body to standard output, or to `path`: written aside and renamed into place once the
/// whole of it arrived; `failed` starts the messages of what went wrong.
pub(super) async fn write_out(
    body: hyper::body::Incoming,
    path: Option<&str>,
    failed: &str,
) -> Result<u8> {
    let Some(path) = path else {
        return copy_body(body, &mut std::io::stdout().lock()).await;
    };
    let tmp = format!("{path}.berth-{}", std::process::id());
    let mut f =
        std::fs::File::create(&tmp).with_context(|| format!("{failed}: creating {path}"))?;
    let done = copy_body(body, &mut f).await.and_then(|code| {
        std::fs::rename(&tmp, path)
            .with_context(|| format!("{failed}: writing {path}"))
            .map(|()| code)
    });
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

pub(super) async fn copy_body(mut body: hyper::body::Incoming, out: &mut impl Write) -> Result<u8> {
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.map_err(ClientError::from)?.into_data() {
            out.write_all(&data)?;
        }
    }
    out.flush()?;
    Ok(0)
}

/// `REPOSITORY[:TAG]` split as the docker client does (a `:` after the last `/`).
fn split_reference(r: &str) -> Result<(String, String)> {
    if r.contains('@') {
        bail!("refusing to create a tag with a digest reference");
    }
    let slash = r.rfind('/').map_or(0, |i| i + 1);
    Ok(match r[slash..].rfind(':') {
        Some(i) => (r[..slash + i].to_string(), r[slash + i + 1..].to_string()),
        None => (r.to_string(), "latest".to_string()),
    })
}

pub async fn commit(client: &Client, a: CommitArgs) -> Result<u8> {
    let mut path = format!("/commit?container={}", enc(&a.container));
    if let Some(r) = &a.reference {
        let (repo, tag) = split_reference(r)?;
        path.push_str(&format!("&repo={}&tag={}", enc(&repo), enc(&tag)));
    }
    for (k, v) in [("comment", &a.message), ("author", &a.author)] {
        if let Some(v) = v {
            path.push_str(&format!("&{k}={}", enc(v)));
        }
    }
    for c in &a.changes {
        path.push_str(&format!("&changes={}", enc(c)));
    }
    if !a.pause {
        path.push_str("&pause=0");
    }
    let (_, body) = client.bytes(Method::POST, &path, None).await?;
    let v: serde_json::Value = serde_json::from_slice(&body)?;
    println!("{}", v["Id"].as_str().unwrap_or_default());
    Ok(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn references_split_at_the_tag() {
        let s = |r| super::split_reference(r).unwrap();
        assert_eq!(s("app"), ("app".into(), "latest".into()));
        assert_eq!(s("reg:5000/app:v1"), ("reg:5000/app".into(), "v1".into()));
        assert_eq!(s("reg:5000/app"), ("reg:5000/app".into(), "latest".into()));
    }
}
