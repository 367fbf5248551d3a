//! The remote drivers (`syslog`, `fluentd`, `journald`): their options, checked with the
//! messages of Docker's validators, and the driver configs the monitor gets.
//!

use std::collections::BTreeMap;
use std::path::PathBuf;

use berth_runtime::logdriver::{Address, Remote, TlsSettings, fluentd, journald, syslog};

use super::units::{parse_bool, ram_in_bytes};
use crate::error::{Error, Result};

/// The remote drivers berth has.
pub const DRIVERS: &[&str] = &["syslog", "fluentd", "journald"];

const SYSLOG_OPTS: &[&str] = &[
    "syslog-address",
    "syslog-facility",
    "syslog-tls-ca-cert",
    "syslog-tls-cert",
    "syslog-tls-key",
    "syslog-tls-skip-verify",
    "syslog-format",
];

const FLUENTD_OPTS: &[&str] = &[
    "fluentd-address",
    "fluentd-async",
    "fluentd-async-connect",
    "fluentd-async-reconnect-interval",
    "fluentd-buffer-limit",
    "fluentd-max-retries",
    "fluentd-request-ack",
    "fluentd-retry-wait",
    "fluentd-sub-second-precision",
    "fluentd-write-timeout",
    "fluentd-read-timeout",
];

fn invalid(msg: impl Into<String>) -> Error {
    Error::invalid(msg.into())
}

/// The driver's own validator (`opts` without the options every driver takes).
pub fn check(driver: &str, opts: &BTreeMap<String, String>) -> Result<()> {
    let own: &[&str] = match driver {
        "syslog" => SYSLOG_OPTS,
        "fluentd" => FLUENTD_OPTS,
        _ => &[],
    };
    for key in opts.keys() {
        if !own.contains(&key.as_str()) && !super::ATTR_OPTS.contains(&key.as_str()) {
            return Err(invalid(format!(
                "unknown log opt '{key}' for {driver} log driver"
            )));
        }
    }
    let common = Common {
        tag: String::new(),
        record: BTreeMap::new(),
    };
    resolve(driver, opts, common).map(drop)
}

/// What every remote driver is told about the container.
pub struct Common {
    /// The rendered `tag` (default `{{.ID}}`).
    pub tag: String,
    /// The container's fields and its `labels`/`env` attributes, per driver.
    pub record: BTreeMap<String, String>,
}

/// The driver config of `driver` with `opts`.
pub fn resolve(driver: &str, opts: &BTreeMap<String, String>, c: Common) -> Result<Remote> {
    let get = |k: &str| opts.get(k).map(String::as_str).unwrap_or("");
    Ok(match driver {
        "syslog" => Remote::Syslog(syslog::Config {
            address: syslog_address(get("syslog-address"), opts)?,
            facility: facility(get("syslog-facility"))?,
            format: match get("syslog-format") {
                "" => syslog::Format::Unix,
                "rfc3164" => syslog::Format::Rfc3164,
                "rfc5424" => syslog::Format::Rfc5424,
                "rfc5424micro" => syslog::Format::Rfc5424Micro,
                _ => return Err(invalid("Invalid syslog format")),
            },
            tag: c.tag,
        }),
        "fluentd" => Remote::Fluentd(fluentd_config(opts, c)?),
        "journald" => Remote::Journald(journald::Config { fields: c.record }),
        other => return Err(invalid(format!("no remote log driver {other}"))),
    })
}

/// Docker's `parseAddress` of `syslog-address`, with the `syslog-tls-*` options for
/// `tcp+tls://`.
fn syslog_address(v: &str, opts: &BTreeMap<String, String>) -> Result<Option<Address>> {
    if v.is_empty() {
        return Ok(None);
    }
    let (scheme, rest) = v.split_once("://").unwrap_or(("", v));
    match scheme {
        "unix" | "unixgram" => {
            let path = PathBuf::from(rest);
            std::fs::metadata(&path)
                .map_err(|_| invalid(format!("stat {rest}: no such file or directory")))?;
            Ok(Some(if scheme == "unix" {
                Address::Unix(path)
            } else {
                Address::Unixgram(path)
            }))
        }
        "udp" | "tcp" | "tcp+tls" => {
            let host = rest.trim_end_matches('/');
            let has_port = match host.strip_prefix('[') {
                Some(h) => h.contains("]:"),
                None => host.contains(':'),
            };
            let host = if has_port {
                host.to_string()
            } else {
                format!("{host}:514")
            };
            let file = |k: &str| opts.get(k).filter(|v| !v.is_empty()).map(PathBuf::from);
            Ok(Some(match scheme {
                "udp" => Address::Udp(host),
                "tcp" => Address::Tcp(host),
                _ => Address::TcpTls(
                    host,
                    TlsSettings {
                        ca: file("syslog-tls-ca-cert"),
                        cert: file("syslog-tls-cert"),
                        key: file("syslog-tls-key"),
                        // Docker looks only at whether the option is there.
                        skip_verify: opts.contains_key("syslog-tls-skip-verify"),
                    },
                ),
            }))
        }
        other => Err(invalid(format!("unsupported scheme: '{other}'"))),
    }
}

fn facility(v: &str) -> Result<u8> {
    const NAMES: &[&str] = &[
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
        "authpriv", "ftp",
    ];
    if v.is_empty() {
        return Ok(3); // daemon
    }
    if let Some(i) = NAMES.iter().position(|n| *n == v) {
        return Ok(i as u8);
    }
    if let Some(n) = v.strip_prefix("local").and_then(|n| n.parse::<u8>().ok())
        && n <= 7
    {
        return Ok(16 + n);
    }
    match v.parse::<u8>() {
        Ok(n) if n <= 23 => Ok(n),
        _ => Err(invalid("invalid syslog facility")),
    }
}

/// Docker's `parseAddress` of `fluentd-address`.
fn fluentd_address(v: &str) -> std::result::Result<Address, String> {
    if v.is_empty() {
        return Ok(Address::Tcp("127.0.0.1:24224".into()));
    }
    let v = if v.contains("://") {
        v.to_string()
    } else {
        format!("tcp://{v}")
    };
    let (scheme, rest) = v.split_once("://").expect("added above");
    match scheme {
        "unix" => {
            if rest.trim_start_matches('/').is_empty() {
                return Err("path is empty".into());
            }
            return Ok(Address::Unix(PathBuf::from(rest)));
        }
        "tcp" | "tls" => {}
        other => return Err(format!("unsupported scheme: '{other}'")),
    }
    let (hostport, path) = rest.split_once('/').unwrap_or((rest, ""));
    if !path.is_empty() || rest.ends_with('/') {
        return Err("should not contain a path element".into());
    }
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, _)) if !h.ends_with(']') && h.contains(':') => (hostport, ""), // bare IPv6
        Some((h, p)) => (h, p),
        None => (hostport, ""),
    };
    let host = if host.is_empty() { "127.0.0.1" } else { host };
    let port: u16 = match port {
        "" => 24224,
        p => p.parse().map_err(|_| {
            format!("invalid port: strconv.ParseUint: parsing {p:?}: invalid syntax")
        })?,
    };
    let hostport = format!("{host}:{port}");
    Ok(if scheme == "tls" {
        // fluent-logger-golang's TLS: the well-known roots, no client certificate.
        Address::TcpTls(hostport, TlsSettings::default())
    } else {
        Address::Tcp(hostport)
    })
}

fn go_duration_ms(key: &str, v: &str) -> Result<u64> {
    crate::build::gofmt::parse_duration(v)
        .filter(|n| *n >= 0)
        .map(|ns| (ns / 1_000_000) as u64)
        .ok_or_else(|| {
            invalid(format!(
                "invalid value for {key}: time: invalid duration {v:?}"
            ))
        })
}

fn fluentd_config(opts: &BTreeMap<String, String>, c: Common) -> Result<fluentd::Config> {
    let get = |k: &str| opts.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let raw = get("fluentd-address").unwrap_or("");
    let address = fluentd_address(raw)
        .map_err(|e| invalid(format!("invalid fluentd-address ({raw}): {e}")))?;
    let flag = |k: &str| get(k).map_or(Ok(false), |v| parse_bool(v).map_err(invalid));
    let max_retries = match get("fluentd-max-retries") {
        None => i32::MAX as u32,
        Some(v) => match v.parse::<u64>() {
            Ok(n) if n > i32::MAX as u64 => {
                return Err(invalid("invalid fluentd-max-retries: value out of range"));
            }
            Ok(n) => n as u32,
            Err(_) => {
                return Err(invalid(format!(
                    "strconv.ParseUint: parsing {v:?}: invalid syntax"
                )));
            }
        },
    };
    let ms = |k: &str| get(k).map_or(Ok(0), |v| go_duration_ms(k, v));
    let reconnect = ms("fluentd-async-reconnect-interval")?;
    if reconnect != 0 && !(100..=10_000).contains(&reconnect) {
        return Err(invalid(format!(
            "invalid value for fluentd-async-reconnect-interval: value ({:?}) must be between 100ms and 10s",
            get("fluentd-async-reconnect-interval").unwrap_or("")
        )));
    }
    let retry_wait = match get("fluentd-retry-wait") {
        Some(v) => go_duration_ms("fluentd-retry-wait", v)?,
        None => 1000,
    };
    let async_connect = flag("fluentd-async")? || flag("fluentd-async-connect")?;
    Ok(fluentd::Config {
        address,
        tag: c.tag,
        record: c.record,
        async_connect,
        buffer_limit: match get("fluentd-buffer-limit") {
            Some(v) => ram_in_bytes(v).map_err(invalid)? as u64,
            None => 1024 * 1024,
        },
        // An async driver reconnects at the interval asked for, if one was.
        retry_wait_ms: if async_connect && reconnect > 0 {
            reconnect
        } else {
            retry_wait
        },
        max_retries,
        sub_second: flag("fluentd-sub-second-precision")?,
        request_ack: flag("fluentd-request-ack")?,
        write_timeout_ms: ms("fluentd-write-timeout")?,
        read_timeout_ms: ms("fluentd-read-timeout")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(driver: &str, kv: &[(&str, &str)]) -> String {
        let opts = kv
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        check(driver, &opts).unwrap_err().message
    }

    #[test]
    fn options_are_checked_with_dockers_messages() {
        assert_eq!(
            err("syslog", &[("bogus", "1")]),
            "unknown log opt 'bogus' for syslog log driver"
        );
        assert_eq!(
            err("syslog", &[("syslog-address", "http://x")]),
            "unsupported scheme: 'http'"
        );
        assert_eq!(
            err("syslog", &[("syslog-address", "unix:///nonexistent/log")]),
            "stat /nonexistent/log: no such file or directory"
        );
        assert_eq!(
            err("syslog", &[("syslog-facility", "24")]),
            "invalid syslog facility"
        );
        assert_eq!(
            err("syslog", &[("syslog-format", "rfc9999")]),
            "Invalid syslog format"
        );
        assert_eq!(
            err("fluentd", &[("fluentd-address", "udp://x:1")]),
            "invalid fluentd-address (udp://x:1): unsupported scheme: 'udp'"
        );
        assert_eq!(
            err("fluentd", &[("fluentd-address", "tcp://x:1/p")]),
            "invalid fluentd-address (tcp://x:1/p): should not contain a path element"
        );
        assert_eq!(
            err("fluentd", &[("fluentd-max-retries", "4294967295")]),
            "invalid fluentd-max-retries: value out of range"
        );
        assert_eq!(
            err("fluentd", &[("fluentd-async", "maybe")]),
            r#"strconv.ParseBool: parsing "maybe": invalid syntax"#
        );
        assert_eq!(
            err("journald", &[("journald-x", "1")]),
            "unknown log opt 'journald-x' for journald log driver"
        );
    }

    #[test]
    fn addresses_get_dockers_defaults() {
        let none = BTreeMap::new();
        assert_eq!(
            syslog_address("udp://10.0.0.1", &none).unwrap(),
            Some(Address::Udp("10.0.0.1:514".into()))
        );
        assert_eq!(
            syslog_address("tcp://[::1]:601", &none).unwrap(),
            Some(Address::Tcp("[::1]:601".into()))
        );
        let tls = [("syslog-tls-skip-verify".to_string(), "false".to_string())].into();
        assert_eq!(
            syslog_address("tcp+tls://logs", &tls).unwrap(),
            Some(Address::TcpTls(
                "logs:514".into(),
                TlsSettings {
                    skip_verify: true,
                    ..Default::default()
                }
            ))
        );
        assert_eq!(
            fluentd_address("tls://f:24284").unwrap(),
            Address::TcpTls("f:24284".into(), TlsSettings::default())
        );
        assert_eq!(
            fluentd_address("").unwrap(),
            Address::Tcp("127.0.0.1:24224".into())
        );
        assert_eq!(
            fluentd_address("fluent:24225").unwrap(),
            Address::Tcp("fluent:24225".into())
        );
        assert_eq!(
            fluentd_address("unix:///run/f.sock").unwrap(),
            Address::Unix("/run/f.sock".into())
        );
        assert_eq!(facility("local3").unwrap(), 19);
        assert_eq!(facility("").unwrap(), 3);
    }
}
