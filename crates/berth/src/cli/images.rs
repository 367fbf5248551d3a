//! `import`, `images`, `tag`, `rmi`.

use anyhow::{Context, Result};
use berth_api::image::{DeleteItem, ImageSummary, ProgressMessage};
use berth_client::Client;
use bytes::Bytes;
use hyper::Method;

use super::{ago, each, enc, filters_json, human_size, table};

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Tarball path, or - for standard input.
    file: String,
    /// Repository and tag for the image.
    reference: Option<String>,
    /// Apply Dockerfile instruction to the created image.
    #[arg(short = 'c', long = "change")]
    changes: Vec<String>,
    /// Set commit message for imported image.
    #[arg(short = 'm', long)]
    message: Option<String>,
    /// Set platform if server is multi-platform capable.
    #[arg(long)]
    platform: Option<String>,
}

pub async fn import(client: &Client, a: ImportArgs) -> Result<u8> {
    // A URL is for the daemon to download, as in Docker; a path or `-` is sent.
    let url = a.file.starts_with("http://") || a.file.starts_with("https://");
    let data = if url {
        Vec::new()
    } else if a.file == "-" {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut v)
            .context("reading standard input")?;
        v
    } else {
        std::fs::read(&a.file).with_context(|| format!("reading {}", a.file))?
    };
    let src = if url { enc(&a.file) } else { "-".to_string() };
    let mut path = format!("/images/create?fromSrc={src}");
    if let Some(p) = a.platform.as_ref().filter(|p| !p.is_empty()) {
        path.push_str(&format!("&platform={}", enc(p)));
    }
    if let Some(r) = &a.reference {
        path.push_str(&format!("&repo={}", enc(r)));
    }
    for c in &a.changes {
        path.push_str(&format!("&changes={}", enc(c)));
    }
    if let Some(m) = &a.message {
        path.push_str(&format!("&message={}", enc(m)));
    }
    let (_, body) = client
        .bytes(
            Method::POST,
            &path,
            Some((Bytes::from(data), "application/x-tar")),
        )
        .await?;
    for line in body
        .split(|b| *b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
    {
        let m: ProgressMessage = serde_json::from_slice(line)?;
        if let Some(e) = m.error {
            anyhow::bail!(e);
        }
        if let Some(s) = m.status {
            println!("{s}");
        }
    }
    Ok(0)
}

#[derive(Debug, clap::Args)]
pub struct ImagesArgs {
    /// Repository to list.
    reference: Option<String>,
    /// Show all images.
    #[arg(short, long)]
    all: bool,
    /// Only show image IDs.
    #[arg(short, long)]
    quiet: bool,
    /// Show digests.
    #[arg(long)]
    digests: bool,
    /// Don't truncate output.
    #[arg(long)]
    no_trunc: bool,
    /// Filter output based on conditions provided.
    #[arg(short, long = "filter")]
    filter: Vec<String>,
}

pub async fn images(client: &Client, a: ImagesArgs) -> Result<u8> {
    let mut filters = a.filter.clone();
    if let Some(r) = &a.reference {
        filters.push(format!("reference={r}"));
    }
    let list: Vec<ImageSummary> = client
        .get(&format!(
            "/images/json?all={}&filters={}",
            a.all,
            enc(&filters_json(&filters)?)
        ))
        .await?;
    let id = |i: &ImageSummary| {
        if a.no_trunc {
            i.id.clone()
        } else {
            i.id.trim_start_matches("sha256:")[..12].to_string()
        }
    };
    if a.quiet {
        // One line per name, as Docker prints them.
        for i in &list {
            for _ in 0..i.repo_tags.len().max(1) {
                println!("{}", id(i));
            }
        }
        return Ok(0);
    }
    let mut rows = vec![{
        let mut h = vec!["REPOSITORY".to_string(), "TAG".into()];
        if a.digests {
            h.push("DIGEST".into());
        }
        h.extend(["IMAGE ID".into(), "CREATED".into(), "SIZE".into()]);
        h
    }];
    for i in &list {
        let names: Vec<(String, String)> = if i.repo_tags.is_empty() {
            vec![("<none>".into(), "<none>".into())]
        } else {
            i.repo_tags
                .iter()
                .map(|t| {
                    t.rsplit_once(':')
                        .map_or((t.clone(), "<none>".into()), |(r, t)| (r.into(), t.into()))
                })
                .collect()
        };
        for (repo, tag) in names {
            let mut row = vec![repo, tag];
            if a.digests {
                row.push(
                    i.repo_digests
                        .first()
                        .and_then(|d| d.split('@').nth(1))
                        .unwrap_or("<none>")
                        .to_string(),
                );
            }
            row.extend([id(i), ago(i.created), human_size(i.size)]);
            rows.push(row);
        }
    }
    table(&rows);
    Ok(0)
}

#[derive(Debug, clap::Args)]
pub struct TagArgs {
    source: String,
    target: String,
}

pub async fn tag(client: &Client, a: TagArgs) -> Result<u8> {
    // Split the target into repo and tag the way the API wants them.
    let last = a.target.rsplit('/').next().unwrap_or("");
    let (repo, tag) = match last.rsplit_once(':') {
        Some((_, t)) => (&a.target[..a.target.len() - t.len() - 1], t),
        None => (a.target.as_str(), ""),
    };
    client
        .bytes(
            Method::POST,
            &format!(
                "/images/{}/tag?repo={}&tag={}",
                a.source,
                enc(repo),
                enc(tag)
            ),
            None,
        )
        .await?;
    Ok(0)
}

#[derive(Debug, clap::Args)]
pub struct RmiArgs {
    #[arg(required = true)]
    images: Vec<String>,
    /// Force removal of the image.
    #[arg(short, long)]
    force: bool,
    /// Do not delete untagged parents.
    #[arg(long)]
    no_prune: bool,
}

pub async fn rmi(client: &Client, a: RmiArgs) -> Result<u8> {
    each(&a.images, |name| async move {
        let (_, body) = client
            .bytes(
                Method::DELETE,
                &format!("/images/{name}?force={}&noprune={}", a.force, a.no_prune),
                None,
            )
            .await?;
        for item in serde_json::from_slice::<Vec<DeleteItem>>(&body)? {
            match item {
                DeleteItem::Untagged(r) => println!("Untagged: {r}"),
                DeleteItem::Deleted(d) => println!("Deleted: {d}"),
            }
        }
        Ok(())
    })
    .await
}
