//! An attached client's input on its way to a container or an exec, watched for the detach
//! keys: Docker matches them on a terminal's input only, ends the client's stream at the last
//! key and leaves the process running.

use berth_api::detach::Escape;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::Error;

/// The keys of `given` (a `detachKeys` value), or Docker's error for the attach endpoint.
pub fn attach_keys(given: &str) -> Result<Vec<u8>, Error> {
    berth_api::detach::parse(given)
        .ok_or_else(|| Error::invalid(format!("Invalid detach keys ({given}) provided")))
}

/// The keys of an exec's `DetachKeys`, or Docker's error. dockerd answers it with a plain
/// 500; berth with 400: the request is wrong, not the daemon.
pub fn exec_keys(given: &str) -> Result<Vec<u8>, Error> {
    berth_api::detach::parse(given)
        .ok_or_else(|| Error::invalid(format!("Invalid escape keys ({given}) provided")))
}

/// Copies `rd` into `wr` until either ends or, with `escape`, the client detaches; `true`
/// when it detached.
pub async fn copy_input(
    mut rd: impl AsyncRead + Unpin,
    wr: &mut (impl AsyncWrite + Unpin),
    mut escape: Option<Escape>,
) -> bool {
    let mut buf = vec![0u8; 8192];
    let mut out = Vec::with_capacity(8192);
    loop {
        let n = match rd.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => n,
        };
        out.clear();
        let detached = match &mut escape {
            Some(e) => e.feed(&buf[..n], &mut out),
            None => {
                out.extend_from_slice(&buf[..n]);
                false
            }
        };
        if !out.is_empty() && wr.write_all(&out).await.is_err() {
            return false;
        }
        if detached {
            return true;
        }
    }
}
