//! Docker's `syslog` driver: each line one syslog message, in the format `syslog-format`
//! names (that of Go's srslog, which Docker uses), to the local syslog socket or a server.

use std::io;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::net::{Address, Conn};
use super::{Driver, Message};
use crate::logfile::Stream;

/// `syslog-format`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// The default: `<PRI>Mmm dd hh:mm:ss TAG[PID]: MSG`.
    #[default]
    Unix,
    /// `<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG`.
    Rfc3164,
    /// `<PRI>1 TIMESTAMP HOST TAG PID TAG - MSG`.
    Rfc5424,
    /// As rfc5424, the timestamp with microseconds.
    Rfc5424Micro,
}

/// The driver's options, as the daemon resolved them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// `syslog-address`; `None`: the local syslog daemon's socket.
    pub address: Option<Address>,
    /// `syslog-facility` as its number (0-23).
    pub facility: u8,
    /// `syslog-format`.
    pub format: Format,
    /// The rendered `tag`.
    pub tag: String,
}

/// Where the local syslog daemon listens, in the order srslog tries them.
const LOCAL_SOCKETS: &[&str] = &["/dev/log", "/var/run/syslog", "/var/run/log"];

/// A connection to a syslog server.
pub struct Syslog {
    config: Config,
    conn: Conn,
    hostname: String,
}

impl Syslog {
    /// Connects as `config` says.
    pub fn connect(config: &Config) -> io::Result<Syslog> {
        let hostname = nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "localhost".into());
        Ok(Syslog {
            conn: open(config)?,
            config: config.clone(),
            hostname,
        })
    }

    /// The bytes of one message (newline-terminated, as srslog writes it).
    fn format(&self, m: &Message) -> String {
        let severity = match m.stream {
            Stream::Stdout => 6, // info
            Stream::Stderr => 3, // err
        };
        let pri = (u32::from(self.config.facility) << 3) | severity;
        let (tag, pid) = (&self.config.tag, std::process::id());
        let msg = String::from_utf8_lossy(&m.line);
        let local = m.time.with_timezone(&chrono::Local);
        let stamp = || local.format("%b %e %H:%M:%S");
        let host = &self.hostname;
        let mut out = match self.config.format {
            Format::Unix => format!("<{pri}>{} {tag}[{pid}]: {msg}", stamp()),
            Format::Rfc3164 => format!("<{pri}>{} {host} {tag}[{pid}]: {msg}", stamp()),
            Format::Rfc5424 | Format::Rfc5424Micro => {
                let digits = if self.config.format == Format::Rfc5424 {
                    chrono::SecondsFormat::Secs
                } else {
                    chrono::SecondsFormat::Micros
                };
                let ts = local.to_rfc3339_opts(digits, true);
                format!("<{pri}>1 {ts} {host} {tag} {pid} {tag} - {msg}")
            }
        };
        if !out.ends_with('\n') {
            out.push('\n');
        }
        // srslog's RFC5425MessageLengthFramer, which Docker uses for these over TLS.
        let tls = matches!(self.config.address, Some(Address::TcpTls(..)));
        if tls && matches!(self.config.format, Format::Rfc5424 | Format::Rfc5424Micro) {
            out = format!("{} {out}", out.len());
        }
        out
    }
}

fn open(config: &Config) -> io::Result<Conn> {
    if let Some(a) = &config.address {
        return Conn::connect(a);
    }
    let mut last = io::Error::new(io::ErrorKind::NotFound, "Unix syslog delivery error");
    for path in LOCAL_SOCKETS {
        for addr in [
            Address::Unixgram(PathBuf::from(path)),
            Address::Unix(PathBuf::from(path)),
        ] {
            match Conn::connect(&addr) {
                Ok(c) => return Ok(c),
                Err(e) => last = e,
            }
        }
    }
    Err(last)
}

impl Driver for Syslog {
    fn log(&mut self, m: &Message) -> io::Result<()> {
        // Docker sends nothing for an empty line.
        if m.line.is_empty() {
            return Ok(());
        }
        let bytes = self.format(m);
        if self.conn.send(bytes.as_bytes()).is_ok() {
            return Ok(());
        }
        // As srslog: one new connection and one more try.
        self.conn = open(&self.config)?;
        self.conn.send(bytes.as_bytes())
    }

    fn close(self: Box<Self>) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(stream: Stream, line: &str) -> Message {
        Message {
            stream,
            line: line.as_bytes().to_vec(),
            time: "2024-03-05T06:07:08.123456789Z".parse().unwrap(),
            partial: None,
        }
    }

    fn driver(format: Format) -> Syslog {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let _sock = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
        let config = Config {
            address: Some(Address::Unixgram(path)),
            facility: 3,
            format,
            tag: "web".into(),
        };
        let mut s = Syslog::connect(&config).unwrap();
        s.hostname = "host1".into();
        s
    }

    #[test]
    fn formats_as_srslog_does() {
        let pid = std::process::id();
        let t = message(Stream::Stdout, "")
            .time
            .with_timezone(&chrono::Local);
        let stamp = t.format("%b %e %H:%M:%S").to_string();
        let secs = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let micros = t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let out = driver(Format::Unix).format(&message(Stream::Stdout, "hi"));
        assert_eq!(out, format!("<30>{stamp} web[{pid}]: hi\n"));
        let out = driver(Format::Rfc3164).format(&message(Stream::Stderr, "oops"));
        assert_eq!(out, format!("<27>{stamp} host1 web[{pid}]: oops\n"));
        let out = driver(Format::Rfc5424).format(&message(Stream::Stdout, "hi"));
        assert_eq!(out, format!("<30>1 {secs} host1 web {pid} web - hi\n"));
        let out = driver(Format::Rfc5424Micro).format(&message(Stream::Stdout, "hi"));
        assert_eq!(out, format!("<30>1 {micros} host1 web {pid} web - hi\n"));
        if chrono::Local::now().offset().local_minus_utc() == 0 {
            assert_eq!(stamp, "Mar  5 06:07:08");
            assert_eq!(micros, "2024-03-05T06:07:08.123456Z");
        }
    }
}
