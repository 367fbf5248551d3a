//! Docker's `fluentd` driver: each line one event of Fluentd's forward protocol (msgpack
//! `[tag, time, record, option]`, as fluent-logger-golang sends it), over TCP or a unix
//! socket, retried with fluent-logger-golang's back-off and, with `fluentd-request-ack`,
//! acknowledged by the server.

use std::collections::BTreeMap;
use std::io;
use std::time::Duration;

use rmpv::Value;
use serde::{Deserialize, Serialize};

use super::net::{Address, Conn};
use super::{Driver, Message};

/// The driver's options, as the daemon resolved them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// `fluentd-address` (TCP or unix).
    pub address: Address,
    /// The rendered `tag`.
    pub tag: String,
    /// `container_id`, `container_name` and the `labels`/`env` attributes.
    pub record: BTreeMap<String, String>,
    /// `fluentd-async`: connect in the background, never hold the container up.
    pub async_connect: bool,
    /// `fluentd-buffer-limit`: events kept while an async driver waits for its server.
    pub buffer_limit: u64,
    /// `fluentd-retry-wait`, milliseconds.
    pub retry_wait_ms: u64,
    /// `fluentd-max-retries`.
    pub max_retries: u32,
    /// `fluentd-sub-second-precision`: times as EventTime (nanoseconds).
    pub sub_second: bool,
    /// `fluentd-request-ack`.
    pub request_ack: bool,
    /// `fluentd-write-timeout`, milliseconds; 0: none.
    pub write_timeout_ms: u64,
    /// `fluentd-read-timeout` (of acks), milliseconds; 0: none.
    pub read_timeout_ms: u64,
}

/// fluent-logger-golang's back-off: the wait grows 1.5 times per retry, to at most a minute.
fn retry_wait(config: &Config, attempt: u32) -> Duration {
    let ms = config.retry_wait_ms as f64 * 1.5f64.powi(attempt as i32);
    Duration::from_millis(ms.min(60_000.0) as u64)
}

/// A connection to a Fluentd server, made (again) when needed.
pub struct Fluentd {
    config: Config,
    conn: Option<Conn>,
    chunks: u64,
}

impl Fluentd {
    /// Connects once, as a container start does without `fluentd-async`.
    pub fn connect(config: &Config) -> io::Result<Conn> {
        let mut c = Conn::connect(&config.address)?;
        let ms = |v: u64| (v > 0).then(|| Duration::from_millis(v));
        c.set_timeouts(ms(config.write_timeout_ms), ms(config.read_timeout_ms))?;
        Ok(c)
    }

    /// A driver that connects at its first message.
    pub fn new(config: Config) -> Fluentd {
        Fluentd {
            config,
            conn: None,
            chunks: 0,
        }
    }

    /// The event of `m`, with the ack request `chunk`.
    pub fn encode(&self, m: &Message, chunk: Option<&str>) -> Vec<u8> {
        let s = |v: &str| Value::from(v);
        let mut record: Vec<(Value, Value)> = vec![
            (s("source"), s(m.source())),
            (
                s("log"),
                Value::from(String::from_utf8_lossy(&m.line).as_ref()),
            ),
        ];
        record.extend(self.config.record.iter().map(|(k, v)| (s(k), s(v))));
        if let Some(p) = &m.partial {
            record.push((s("partial_message"), s("true")));
            record.push((s("partial_id"), s(&p.id)));
            record.push((s("partial_ordinal"), s(&p.ordinal.to_string())));
            record.push((s("partial_last"), s(&p.last.to_string())));
        }
        let secs = m.time.timestamp().max(0) as u64;
        let time = if self.config.sub_second {
            let mut b = (secs as u32).to_be_bytes().to_vec();
            b.extend_from_slice(&m.time.timestamp_subsec_nanos().to_be_bytes());
            Value::Ext(0, b) // Fluentd's EventTime
        } else {
            Value::from(secs)
        };
        let option = match chunk {
            Some(c) => Value::Map(vec![(s("chunk"), s(c))]),
            None => Value::Nil,
        };
        let event = Value::Array(vec![s(&self.config.tag), time, Value::Map(record), option]);
        let mut out = Vec::with_capacity(m.line.len() + 256);
        rmpv::encode::write_value(&mut out, &event).expect("writing to a Vec");
        out
    }

    /// Sends one event on the current connection and waits for its ack if asked to.
    fn send(&mut self, bytes: &[u8], chunk: Option<&str>) -> io::Result<()> {
        if self.conn.is_none() {
            self.conn = Some(Self::connect(&self.config)?);
        }
        let conn = self.conn.as_mut().expect("connected above");
        conn.send(bytes)?;
        let Some(chunk) = chunk else { return Ok(()) };
        let reader = conn
            .reader()
            .ok_or_else(|| io::Error::other("acks need a stream"))?;
        let reply = rmpv::decode::read_value(&mut &mut *reader).map_err(io::Error::other)?;
        let acked = reply
            .as_map()
            .and_then(|m| m.iter().find(|(k, _)| k.as_str() == Some("ack")))
            .and_then(|(_, v)| v.as_str())
            == Some(chunk);
        if acked {
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "fluent#send: ack mismatch: {reply}"
            )))
        }
    }
}

impl Driver for Fluentd {
    fn log(&mut self, m: &Message) -> io::Result<()> {
        self.chunks += 1;
        let chunk = self
            .config
            .request_ack
            .then(|| format!("{:x}-{:x}", std::process::id(), self.chunks));
        let bytes = self.encode(m, chunk.as_deref());
        let mut attempt = 0;
        loop {
            match self.send(&bytes, chunk.as_deref()) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    self.conn = None;
                    if attempt >= self.config.max_retries {
                        return Err(io::Error::new(
                            e.kind(),
                            format!(
                                "fluent#write: failed to reconnect, max retry: {} ({e})",
                                self.config.max_retries
                            ),
                        ));
                    }
                }
            }
            std::thread::sleep(retry_wait(&self.config, attempt));
            attempt += 1;
        }
    }

    fn close(self: Box<Self>) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logfile::Stream;

    fn config() -> Config {
        Config {
            address: Address::Tcp("127.0.0.1:24224".into()),
            tag: "app.web".into(),
            record: [("container_id".to_string(), "abc".to_string())].into(),
            async_connect: false,
            buffer_limit: 1024 * 1024,
            retry_wait_ms: 1000,
            max_retries: 3,
            sub_second: true,
            request_ack: false,
            write_timeout_ms: 0,
            read_timeout_ms: 0,
        }
    }

    #[test]
    fn events_are_forward_protocol_messages() {
        let m = Message {
            stream: Stream::Stderr,
            line: b"hi".to_vec(),
            time: "2024-03-05T06:07:08.5Z".parse().unwrap(),
            partial: None,
        };
        let bytes = Fluentd::new(config()).encode(&m, Some("c1"));
        let v = rmpv::decode::read_value(&mut bytes.as_slice()).unwrap();
        let a = v.as_array().unwrap();
        assert_eq!(a[0].as_str(), Some("app.web"));
        let secs: u32 = 1709618828;
        let mut t = secs.to_be_bytes().to_vec();
        t.extend_from_slice(&500_000_000u32.to_be_bytes());
        assert_eq!(a[1], Value::Ext(0, t));
        let rec: BTreeMap<_, _> = a[2]
            .as_map()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str().unwrap(), v.as_str().unwrap()))
            .collect();
        assert_eq!(rec["log"], "hi");
        assert_eq!(rec["source"], "stderr");
        assert_eq!(rec["container_id"], "abc");
        assert_eq!(a[3].to_string(), r#"{"chunk": "c1"}"#);
    }

    #[test]
    fn back_off_grows_to_a_minute() {
        let c = config();
        assert_eq!(retry_wait(&c, 0), Duration::from_millis(1000));
        assert_eq!(retry_wait(&c, 1), Duration::from_millis(1500));
        assert_eq!(retry_wait(&c, 20), Duration::from_secs(60));
    }
}
