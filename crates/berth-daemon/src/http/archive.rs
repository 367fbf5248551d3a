//! `HEAD`, `GET` and `PUT /containers/{id}/archive`: a path's stat, its tar, and a tar
//! extracted into a directory.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, Response};
use axum::routing::get;
use futures_util::TryStreamExt;
use serde_json::json;
use tokio_util::io::{StreamReader, SyncIoBridge};

use super::query::Query;
use crate::containers::{ExtractOptions, PathInfo};
use crate::{Daemon, Error};

const STAT_HEADER: &str = "X-Docker-Container-Path-Stat";

pub fn routes() -> Router<Arc<Daemon>> {
    Router::new().route(
        "/containers/{id}/archive",
        get(archive).head(stat).put(extract),
    )
}

fn path(q: &Query) -> &str {
    q.get("path").unwrap_or("")
}

async fn stat(
    State(d): State<Arc<Daemon>>,
    Path(id): Path<String>,
    q: Query,
) -> Result<Response<Body>, Error> {
    let c = d.containers.get(&id)?;
    let info = d.containers.stat_path(&c, &id, path(&q)).await?;
    Ok(with_stat(Response::builder(), &info)
        .body(Body::empty())
        .expect("response"))
}

async fn archive(
    State(d): State<Arc<Daemon>>,
    Path(id): Path<String>,
    q: Query,
) -> Result<Response<Body>, Error> {
    let c = d.containers.get(&id)?;
    let (info, rx) = d.containers.archive_path(&c, &id, path(&q)).await?;
    let chunks = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    Ok(with_stat(Response::builder(), &info)
        .header(axum::http::header::CONTENT_TYPE, "application/x-tar")
        .body(Body::from_stream(chunks))
        .expect("response"))
}

async fn extract(
    State(d): State<Arc<Daemon>>,
    Path(id): Path<String>,
    q: Query,
    body: Body,
) -> Result<Response<Body>, Error> {
    let c = d.containers.get(&id)?;
    let opts = ExtractOptions {
        no_overwrite_dir_non_dir: q.flag("noOverwriteDirNonDir"),
        copy_uid_gid: q.flag("copyUIDGID"),
    };
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    let input = SyncIoBridge::new(StreamReader::new(stream));
    d.containers
        .extract_to_dir(&c, &id, path(&q), opts, input)
        .await?;
    Ok(Response::new(Body::empty()))
}

fn with_stat(b: axum::http::response::Builder, info: &PathInfo) -> axum::http::response::Builder {
    let stat = json!({
        "name": info.name,
        "size": info.size,
        "mode": go_mode(info.mode),
        "mtime": go_time(info.mtime),
        "linkTarget": info.link_target,
    });
    let encoded = base64(stat.to_string().as_bytes());
    b.header(
        STAT_HEADER,
        HeaderValue::from_str(&encoded).expect("base64 is a header value"),
    )
}

/// An `st_mode` as Go's `os.FileMode`, which Docker's stat carries: permission bits plus one
/// high bit per file type and per special bit.
pub fn go_mode(mode: u32) -> u32 {
    const DIR: u32 = 1 << 31;
    const SYMLINK: u32 = 1 << 27;
    const DEVICE: u32 = 1 << 26;
    const NAMED_PIPE: u32 = 1 << 25;
    const SOCKET: u32 = 1 << 24;
    const SETUID: u32 = 1 << 23;
    const SETGID: u32 = 1 << 22;
    const CHAR_DEVICE: u32 = 1 << 21;
    const STICKY: u32 = 1 << 20;
    let mut m = mode & 0o777;
    m |= match mode & libc::S_IFMT {
        libc::S_IFDIR => DIR,
        libc::S_IFLNK => SYMLINK,
        libc::S_IFIFO => NAMED_PIPE,
        libc::S_IFSOCK => SOCKET,
        libc::S_IFBLK => DEVICE,
        libc::S_IFCHR => DEVICE | CHAR_DEVICE,
        _ => 0,
    };
    for (bit, go) in [
        (libc::S_ISUID, SETUID),
        (libc::S_ISGID, SETGID),
        (libc::S_ISVTX, STICKY),
    ] {
        if mode & bit != 0 {
            m |= go;
        }
    }
    m
}

/// A time as Go's JSON writes it (RFC 3339, nanoseconds without trailing zeros), in UTC.
fn go_time((secs, nanos): (i64, i64)) -> String {
    let t = chrono::DateTime::from_timestamp(secs, nanos as u32).unwrap_or_default();
    let mut s = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

/// Standard base64 with padding (Go's `base64.StdEncoding`).
fn base64(data: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from_be_bytes([0, b[0], b[1], b[2]]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_gos() {
        assert_eq!(go_mode(libc::S_IFDIR | 0o755), (1 << 31) | 0o755);
        assert_eq!(go_mode(libc::S_IFLNK | 0o777), (1 << 27) | 0o777);
        assert_eq!(go_mode(libc::S_IFREG | 0o4755), (1 << 23) | 0o755);
        assert_eq!(
            go_mode(libc::S_IFCHR | 0o666),
            (1 << 26) | (1 << 21) | 0o666
        );
    }

    #[test]
    fn times_and_base64_are_gos() {
        assert_eq!(go_time((0, 0)), "1970-01-01T00:00:00Z");
        assert_eq!(go_time((1, 500_000_000)), "1970-01-01T00:00:01.5Z");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
        assert_eq!(base64(b"a"), "YQ==");
    }
}
