//! Docker's `journald` driver: each line one entry of systemd's native journal protocol
//! (`KEY=value` lines in a datagram to the journal's socket; a value with a newline is
//! length-prefixed; an entry too big for a datagram goes as a sealed memfd), with the fields
//! Docker's driver writes.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixDatagram;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Driver, Message};
use crate::logfile::Stream;

/// Where journald takes native-protocol entries.
pub const SOCKET: &str = "/run/systemd/journal/socket";

/// The driver's options, as the daemon resolved them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// The fields of every entry: `CONTAINER_ID`, `CONTAINER_ID_FULL`, `CONTAINER_NAME`,
    /// `CONTAINER_TAG`, `IMAGE_NAME`, `SYSLOG_IDENTIFIER` and the `labels`/`env`
    /// attributes (their names made journal field names).
    pub fields: BTreeMap<String, String>,
}

/// Docker's `sanitizeKeyMod`: upper case, anything but letters and digits to `_`, no
/// leading `_` (journal field names cannot start with one).
pub fn field_name(key: &str) -> String {
    let mut out = String::new();
    for c in key.chars() {
        let c = match c {
            'a'..='z' => c.to_ascii_uppercase(),
            'A'..='Z' | '0'..='9' => c,
            _ => '_',
        };
        if !(out.is_empty() && c == '_') {
            out.push(c);
        }
    }
    out
}

/// A socket to the journal.
pub struct Journald {
    config: Config,
    sock: UnixDatagram,
    epoch: String,
    ordinal: u64,
}

impl Journald {
    /// Connects to the journal's socket.
    pub fn open(config: &Config) -> io::Result<Journald> {
        let sock = UnixDatagram::unbound()?;
        sock.connect(Path::new(SOCKET))
            .map_err(|e| io::Error::new(e.kind(), "journald is not enabled on this host"))?;
        let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
        Ok(Journald {
            config: config.clone(),
            sock,
            epoch: format!("{now:032x}{:08x}", std::process::id()),
            ordinal: 0,
        })
    }

    /// The datagram of `m`.
    pub fn encode(&mut self, m: &Message) -> Vec<u8> {
        self.ordinal += 1;
        let priority = match m.stream {
            Stream::Stdout => "6",
            Stream::Stderr => "3",
        };
        let mut out = Vec::with_capacity(m.line.len() + 512);
        field(&mut out, "MESSAGE", &m.line);
        field(&mut out, "PRIORITY", priority.as_bytes());
        for (k, v) in &self.config.fields {
            field(&mut out, k, v.as_bytes());
        }
        field(&mut out, "SYSLOG_TIMESTAMP", m.rfc3339().as_bytes());
        if let Some(p) = &m.partial {
            field(&mut out, "CONTAINER_PARTIAL_ID", p.id.as_bytes());
            field(
                &mut out,
                "CONTAINER_PARTIAL_ORDINAL",
                p.ordinal.to_string().as_bytes(),
            );
            field(
                &mut out,
                "CONTAINER_PARTIAL_LAST",
                p.last.to_string().as_bytes(),
            );
            if !p.last {
                field(&mut out, "CONTAINER_PARTIAL_MESSAGE", b"true");
            }
        }
        field(&mut out, "CONTAINER_LOG_EPOCH", self.epoch.as_bytes());
        field(
            &mut out,
            "CONTAINER_LOG_ORDINAL",
            self.ordinal.to_string().as_bytes(),
        );
        out
    }

    /// Sends an entry too big for one datagram as a sealed memfd, as sd_journal_send does.
    fn send_fd(&self, entry: &[u8]) -> io::Result<()> {
        use nix::sys::memfd::{MemFdCreateFlag, memfd_create};
        use nix::sys::socket::{ControlMessage, MsgFlags, sendmsg};
        let fd = memfd_create(
            c"journal-entry",
            MemFdCreateFlag::MFD_CLOEXEC | MemFdCreateFlag::MFD_ALLOW_SEALING,
        )?;
        let mut f = std::fs::File::from(fd);
        f.write_all(entry)?;
        use nix::fcntl::{FcntlArg, SealFlag, fcntl};
        let seals = SealFlag::F_SEAL_SEAL
            | SealFlag::F_SEAL_SHRINK
            | SealFlag::F_SEAL_GROW
            | SealFlag::F_SEAL_WRITE;
        fcntl(f.as_raw_fd(), FcntlArg::F_ADD_SEALS(seals))?;
        let fds = [f.as_raw_fd()];
        sendmsg::<()>(
            self.sock.as_raw_fd(),
            &[],
            &[ControlMessage::ScmRights(&fds)],
            MsgFlags::empty(),
            None,
        )?;
        Ok(())
    }
}

/// One field: `KEY=value\n`, or, for a value with a newline, `KEY\n`, its length as a
/// little-endian u64, the value and `\n`.
fn field(out: &mut Vec<u8>, key: &str, value: &[u8]) {
    out.extend_from_slice(key.as_bytes());
    if value.contains(&b'\n') {
        out.push(b'\n');
        out.extend_from_slice(&(value.len() as u64).to_le_bytes());
    } else {
        out.push(b'=');
    }
    out.extend_from_slice(value);
    out.push(b'\n');
}

impl Driver for Journald {
    fn log(&mut self, m: &Message) -> io::Result<()> {
        let entry = self.encode(m);
        match self.sock.send(&entry) {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.raw_os_error(), Some(libc::EMSGSIZE | libc::ENOBUFS)) => {
                self.send_fd(&entry)
            }
            Err(e) => Err(io::Error::new(
                e.kind(),
                format!("writing to the journal: {e}"),
            )),
        }
    }

    fn close(self: Box<Self>) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_as_docker_sanitizes_them() {
        assert_eq!(field_name("com.example.app"), "COM_EXAMPLE_APP");
        assert_eq!(field_name("_x-y"), "X_Y");
        assert_eq!(field_name("..A1"), "A1");
    }

    #[test]
    fn values_with_newlines_are_length_prefixed() {
        let mut out = Vec::new();
        field(&mut out, "A", b"one");
        field(&mut out, "B", b"x\ny");
        let mut want = b"A=one\nB\n".to_vec();
        want.extend_from_slice(&3u64.to_le_bytes());
        want.extend_from_slice(b"x\ny\n");
        assert_eq!(out, want);
    }
}
