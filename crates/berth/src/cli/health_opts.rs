//! The healthcheck flags of `run` and `create`, read as the docker CLI reads them, and berth's
//! `--health-on-failure`, sent as the label the daemon acts on (so the stock CLI and compose
//! files can ask for it with `--label` / `labels:`).

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use serde_json::{Value, json};

/// The label `--health-on-failure` sets.
pub const ON_FAILURE_LABEL: &str = "berth.health-on-failure";

#[derive(Debug, Default, clap::Args)]
pub struct HealthOpts {
    /// Command to run to check health.
    #[arg(long)]
    health_cmd: Option<String>,
    /// Time between running the check (ms|s|m|h) (default 0s).
    #[arg(long)]
    health_interval: Option<String>,
    /// Consecutive failures needed to report unhealthy.
    #[arg(long, allow_negative_numbers = true)]
    health_retries: Option<i64>,
    /// Start period for the container to initialize before starting health-retries countdown
    /// (ms|s|m|h) (default 0s).
    #[arg(long)]
    health_start_period: Option<String>,
    /// Time between running the check during the start period (ms|s|m|h) (default 0s).
    #[arg(long)]
    health_start_interval: Option<String>,
    /// Maximum time to allow one check to run (ms|s|m|h) (default 0s).
    #[arg(long)]
    health_timeout: Option<String>,
    /// Disable any container-specified HEALTHCHECK.
    #[arg(long)]
    no_healthcheck: bool,
    /// What to do when the container turns unhealthy: none, kill, restart or stop.
    #[arg(long, value_parser = ["none", "kill", "restart", "stop"])]
    health_on_failure: Option<String>,
}

impl HealthOpts {
    /// `Config.Healthcheck`, and the label of `--health-on-failure` added to `labels`.
    pub fn parse(&self, labels: &mut BTreeMap<String, String>) -> Result<Option<Value>> {
        if let Some(a) = &self.health_on_failure {
            labels.insert(ON_FAILURE_LABEL.into(), a.clone());
        }
        let durations = [
            ("Interval", "--health-interval", &self.health_interval),
            ("Timeout", "--health-timeout", &self.health_timeout),
            (
                "StartPeriod",
                "--health-start-period",
                &self.health_start_period,
            ),
            (
                "StartInterval",
                "--health-start-interval",
                &self.health_start_interval,
            ),
        ];
        let any_set = self.health_cmd.is_some()
            || self.health_retries.is_some()
            || durations.iter().any(|(_, _, v)| v.is_some());
        if self.no_healthcheck {
            if any_set {
                bail!("--no-healthcheck conflicts with --health-* options");
            }
            return Ok(Some(json!({"Test": ["NONE"]})));
        }
        if !any_set {
            return Ok(None);
        }
        let mut h = serde_json::Map::new();
        if let Some(cmd) = &self.health_cmd {
            h.insert("Test".into(), json!(["CMD-SHELL", cmd]));
        }
        for (key, flag, value) in durations {
            if let Some(v) = value {
                let ns = go_duration(v).map_err(|e| {
                    anyhow::anyhow!("invalid argument {v:?} for \"{flag}\" flag: {e}")
                })?;
                if ns < 0 {
                    bail!("{flag} cannot be negative");
                }
                h.insert(key.into(), ns.into());
            }
        }
        if let Some(r) = self.health_retries {
            if r < 0 {
                bail!("--health-retries cannot be negative");
            }
            h.insert("Retries".into(), r.into());
        }
        Ok(Some(Value::Object(h)))
    }
}

/// A Go duration (`1h2m3.5s`, `100ms`, `-1s`) in nanoseconds.
fn go_duration(s: &str) -> Result<i64, String> {
    let bad = || format!("time: invalid duration {s:?}");
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("time: missing unit in duration {s:?}"))?;
        let n: f64 = rest[..num_end].parse().map_err(|_| bad())?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            u => return Err(format!("time: unknown unit {u:?} in duration {s:?}")),
        };
        total += n * scale;
        rest = &rest[unit_end..];
    }
    let ns = total.round() as i64;
    Ok(if neg { -ns } else { ns })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_as_gos() {
        assert_eq!(go_duration("100ms"), Ok(100_000_000));
        assert_eq!(go_duration("1m30s"), Ok(90_000_000_000));
        assert_eq!(go_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(go_duration("-1s"), Ok(-1_000_000_000));
        assert_eq!(go_duration("0"), Ok(0));
        assert!(go_duration("5").unwrap_err().contains("missing unit"));
        assert!(go_duration("5x").unwrap_err().contains("unknown unit"));
    }

    #[test]
    fn the_flags_make_dockers_healthcheck() {
        let opts = HealthOpts {
            health_cmd: Some("true".into()),
            health_interval: Some("1s".into()),
            health_retries: Some(2),
            health_on_failure: Some("restart".into()),
            ..HealthOpts::default()
        };
        let mut labels = BTreeMap::new();
        let h = opts.parse(&mut labels).unwrap().unwrap();
        assert_eq!(
            h,
            json!({"Test": ["CMD-SHELL", "true"], "Interval": 1_000_000_000i64, "Retries": 2})
        );
        assert_eq!(labels[ON_FAILURE_LABEL], "restart");
        let conflict = HealthOpts {
            no_healthcheck: true,
            health_retries: Some(1),
            ..HealthOpts::default()
        };
        let err = conflict.parse(&mut labels).unwrap_err().to_string();
        assert_eq!(err, "--no-healthcheck conflicts with --health-* options");
    }
}
