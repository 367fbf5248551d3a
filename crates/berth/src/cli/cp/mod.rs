//! `cp`: copy files between a container and the local filesystem, through the archive API,
//! with the docker CLI's rules and messages. Tars are streamed both ways: the local side is
//! packed or extracted on the blocking pool while the request runs.

mod paths;

use std::io::{self, Read, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use berth_client::{Client, ClientError};
use berth_snapshot::copy::{self, Owner, Tree, UnpackOptions, base_name};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::Method;
use tokio::sync::mpsc;

use super::enc;
use paths::{Dest, absolute, place, split_arg};

#[derive(Debug, clap::Args)]
pub struct CpArgs {
    /// Archive mode (copy all uid/gid information).
    #[arg(short = 'a', long)]
    archive: bool,
    /// Always follow symbol link in SRC_PATH.
    #[arg(short = 'L', long)]
    follow_link: bool,
    /// Suppress progress output during copy. Progress output is automatically suppressed if
    /// no terminal is attached.
    #[arg(short, long)]
    quiet: bool,
    /// CONTAINER:SRC_PATH, or a local SRC_PATH (`-`: a tar archive on standard input).
    source: String,
    /// A local DEST_PATH (`-`: a tar archive on standard output), or CONTAINER:DEST_PATH.
    destination: String,
}

/// Go's FileMode bits the copy checks.
const GO_DIR: u32 = 1 << 31;
const GO_SYMLINK: u32 = 1 << 27;
const GO_DEVICE: u32 = 1 << 26;

/// Chunks of a local tar sent to the daemon, and how many may wait.
const CHUNK: usize = 256 * 1024;
const QUEUED: usize = 8;

/// The stat the daemon sends in `X-Docker-Container-Path-Stat`.
#[derive(Debug, serde::Deserialize)]
struct Stat {
    mode: u32,
    #[serde(rename = "linkTarget", default)]
    link_target: String,
}

pub async fn cp(client: &Client, a: CpArgs) -> Result<u8> {
    if a.source.is_empty() {
        bail!("source can not be empty");
    }
    if a.destination.is_empty() {
        bail!("destination can not be empty");
    }
    let quiet = a.quiet || !(is_terminal(1) && is_terminal(2));
    let (copied, to) = match (split_arg(&a.source), split_arg(&a.destination)) {
        ((Some(_), _), (Some(_), _)) => bail!("copying between containers is not supported"),
        ((Some(c), src), (None, dst)) => (
            from_container(client, &a, c, src, dst).await?,
            dst.to_string(),
        ),
        ((None, src), (Some(c), dst)) => (
            to_container(client, &a, src, c, dst).await?,
            a.destination.clone(),
        ),
        _ => bail!("must specify at least one container source"),
    };
    if !quiet && to != "-" {
        eprintln!(
            "Successfully copied {} to {to}",
            super::human_size(copied as i64)
        );
    }
    Ok(0)
}

fn is_terminal(fd: i32) -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(fd) == 1 }
}

async fn stat(client: &Client, container: &str, path: &str) -> Result<Stat, ClientError> {
    let url = format!("/containers/{}/archive?path={}", enc(container), enc(path));
    let resp = client.request(Method::HEAD, &url, None).await?;
    decode_stat(resp.headers())
}

fn decode_stat(h: &hyper::HeaderMap) -> Result<Stat, ClientError> {
    let raw = h
        .get("X-Docker-Container-Path-Stat")
        .map(|v| v.as_bytes().to_vec())
        .unwrap_or_default();
    let json = unbase64(&raw);
    Ok(serde_json::from_slice(&json)?)
}

async fn from_container(client: &Client, a: &CpArgs, c: &str, src: &str, dst: &str) -> Result<u64> {
    let dst = if dst == "-" {
        dst.to_string()
    } else {
        absolute(dst)?
    };
    if dst != "-" {
        paths::check_output(&dst)?;
    }
    // -L: a symlink is replaced by its target, which keeps the symlink's name.
    let mut from = src.to_string();
    if a.follow_link
        && let Ok(s) = stat(client, c, src).await
        && s.mode & GO_SYMLINK != 0
    {
        let mut target = s.link_target;
        if copy::asserts_dir(src) {
            target.push_str(if src.ends_with('.') { "/." } else { "/" });
        }
        from = target;
    }
    let url = format!("/containers/{}/archive?path={}", enc(c), enc(&from));
    let resp = client.request(Method::GET, &url, None).await?;
    let st = decode_stat(resp.headers())?;
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(QUEUED);
    let mut body = resp.into_body();
    let pump = async move {
        while let Some(frame) = body.frame().await {
            let item = match frame {
                Ok(f) => match f.into_data() {
                    Ok(d) => Ok(d),
                    Err(_) => continue, // trailers
                },
                Err(e) => Err(io::Error::other(e)),
            };
            let broke = item.is_err();
            if tx.send(item).await.is_err() || broke {
                return;
            }
        }
    };
    let src_name = base_name(src);
    let is_dir = st.mode & GO_DIR != 0;
    let extract = tokio::task::spawn_blocking(move || -> Result<u64> {
        let mut input = Counting(
            ChannelReader {
                rx,
                buf: Bytes::new(),
            },
            0,
        );
        if dst == "-" {
            io::copy(&mut input, &mut io::stdout().lock())?;
            return Ok(input.1);
        }
        let d = paths::local_dest(&dst)?;
        let p = place(is_dir, &src_name, &d)?;
        // The archive's names start with what was fetched; they end up as the source's name
        // in an existing directory, or as the destination's.
        let old = base_name(&from);
        let new = if d.exists && d.is_dir {
            src_name
        } else {
            p.name.clone()
        };
        let rebase = (old != new).then(|| (prefix(&old), prefix(&new)));
        unpack_local(&p.dir, &mut input, rebase)?;
        Ok(input.1)
    });
    let (_, copied) = tokio::join!(pump, extract);
    copied.context("extracting the copy")?
}

/// An entry name prefix for a top name (`/` is the empty prefix: root entries are `/bin`).
fn prefix(name: &str) -> String {
    if name == "/" {
        String::new()
    } else {
        name.to_string()
    }
}

/// Extracts `input` into local directory `dir`, owned by whoever runs the copy.
fn unpack_local(dir: &str, input: &mut impl Read, rebase: Option<(String, String)>) -> Result<()> {
    let tree = Tree::open(Path::new("/"))?;
    let dest = tree.locate(dir, true)?;
    let opts = UnpackOptions {
        no_overwrite_dir_non_dir: true,
        owner: Owner::Caller,
        rebase,
    };
    copy::unpack(&tree, &dest, opts, input)?;
    Ok(())
}

async fn to_container(client: &Client, a: &CpArgs, src: &str, c: &str, dst: &str) -> Result<u64> {
    let mut dest = Dest {
        path: dst.to_string(),
        exists: false,
        is_dir: false,
    };
    let mut found = stat(client, c, dst).await;
    if let Ok(s) = &found
        && s.mode & GO_SYMLINK != 0
    {
        dest.path = s.link_target.clone();
        found = stat(client, c, &dest.path).await;
    }
    if let Ok(s) = &found {
        if s.mode & GO_DEVICE != 0 {
            bail!("destination \"{c}:{dst}\" must be a directory or a regular file: got a device");
        }
        dest.exists = true;
        dest.is_dir = s.mode & GO_DIR != 0;
    }
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(QUEUED);
    let (dir, producer) = if src == "-" {
        if !dest.is_dir {
            bail!("destination \"{c}:{dst}\" must be a directory");
        }
        (
            dest.path.clone(),
            tokio::task::spawn_blocking(move || send_stdin(tx)),
        )
    } else {
        let src = absolute(src)?;
        let tree = Tree::open(Path::new("/"))?;
        let loc = match tree.locate(&src, a.follow_link || copy::asserts_dir(&src)) {
            Ok(loc) => loc,
            Err(copy::CopyError::NotFound { .. }) => {
                bail!("lstat {src}: no such file or directory")
            }
            Err(e) => return Err(e.into()),
        };
        let is_dir = loc.stat()?.mode & libc::S_IFMT == libc::S_IFDIR;
        let p = place(is_dir, &base_name(&src), &dest)?;
        let producer = tokio::task::spawn_blocking(move || send_tar(&tree, &loc, &p.name, tx));
        (p.dir, producer)
    };
    let url = format!(
        "/containers/{}/archive?path={}&noOverwriteDirNonDir=true&copyUIDGID={}",
        enc(c),
        enc(&dir),
        a.archive
    );
    let sent = client
        .request_stream(Method::PUT, &url, "application/x-tar", rx)
        .await;
    let produced = producer.await.context("packing the copy")?;
    sent?;
    produced
}

/// Packs `loc` as `name` into the request body.
fn send_tar(
    tree: &Tree,
    loc: &copy::Located,
    name: &str,
    tx: mpsc::Sender<io::Result<Bytes>>,
) -> Result<u64> {
    let mut out = io::BufWriter::with_capacity(CHUNK, Sending(tx, 0));
    copy::pack(tree, loc, name, &mut out)?;
    let sent = out.into_inner().map_err(|e| e.into_error())?;
    Ok(sent.1)
}

/// Sends standard input (a tar) as the request body.
fn send_stdin(tx: mpsc::Sender<io::Result<Bytes>>) -> Result<u64> {
    let mut out = Sending(tx, 0);
    io::copy(&mut io::stdin().lock(), &mut out).context("reading standard input")?;
    Ok(out.1)
}

/// A writer into a request body channel, counting bytes.
struct Sending(mpsc::Sender<io::Result<Bytes>>, u64);

impl Write for Sending {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the daemon stopped reading"))?;
        self.1 += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A reader of a response body that another task feeds.
struct ChannelReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    buf: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.buf.is_empty() {
            match self.rx.blocking_recv() {
                Some(chunk) => self.buf = chunk?,
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len());
        out[..n].copy_from_slice(&self.buf.split_to(n));
        Ok(n)
    }
}

/// A reader counting the bytes through it.
struct Counting<R>(R, u64);

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.0.read(out)?;
        self.1 += n as u64;
        Ok(n)
    }
}

/// Standard base64 (with or without padding) decoded; invalid input gives what decodes.
fn unbase64(input: &[u8]) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for v in input.iter().filter_map(|&c| val(c)) {
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_decodes() {
        assert_eq!(super::unbase64(b"YWI="), b"ab");
        assert_eq!(super::unbase64(b"YWJj"), b"abc");
    }
}
