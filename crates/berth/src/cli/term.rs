//! The local terminal during `run -t`, `start -a` and `exec -t`: raw mode while attached, and
//! window size changes forwarded to the container's terminal.

use std::os::fd::AsFd;

use berth_client::Client;
use hyper::Method;
use nix::sys::termios::{self, SetArg, Termios};

/// Puts stdin's terminal in raw mode; the previous mode comes back on drop.
pub struct RawMode {
    saved: Termios,
}

impl RawMode {
    /// `None` when stdin is not a terminal.
    pub fn enable() -> Option<RawMode> {
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(stdin.as_fd()).ok()?;
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw).ok()?;
        Some(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, &self.saved);
    }
}

/// The size of the terminal on stdout (else stdin) as `(rows, columns)`.
pub fn size() -> Option<(u16, u16)> {
    size_of(&[libc::STDOUT_FILENO, libc::STDIN_FILENO])
}

/// The size of the terminal on the first of `fds` that is one, as `(rows, columns)`.
pub fn size_of(fds: &[libc::c_int]) -> Option<(u16, u16)> {
    fds.iter().copied().find_map(|fd| {
        let mut ws = libc::winsize {
            ws_row: 0,
            ws_col: 0,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCGWINSZ writes a winsize struct that lives across the call.
        let ok = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0;
        (ok && ws.ws_row > 0).then_some((ws.ws_row, ws.ws_col))
    })
}

/// Sends the current size to `resize_path` (`/containers/{id}/resize` or `/exec/{id}/resize`)
/// now and on every SIGWINCH, until the returned task is aborted.
pub fn forward_resizes(client: &Client, resize_path: String) -> tokio::task::JoinHandle<()> {
    let client = client.clone();
    tokio::spawn(async move {
        let Ok(mut winch) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change())
        else {
            return;
        };
        loop {
            if let Some((h, w)) = size() {
                let _ = client
                    .bytes(Method::POST, &format!("{resize_path}?h={h}&w={w}"), None)
                    .await;
            }
            if winch.recv().await.is_none() {
                return;
            }
        }
    })
}
