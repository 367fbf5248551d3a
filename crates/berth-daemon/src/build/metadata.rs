//! The instructions that only change the image config (ENV, LABEL, ARG, CMD, ENTRYPOINT,
//! SHELL, EXPOSE, VOLUME, USER, STOPSIGNAL, MAINTAINER, ONBUILD, HEALTHCHECK) and WORKDIR,
//! with the history text Docker's classic builder writes for each.

use berth_build::Instruction;
use berth_build::instruction::{Command, Healthcheck};
use berth_image::config::{Empty, HealthConfig};

use super::gofmt;
use super::stage::{Layer, State, platform_args};
use crate::error::{Error, Result};

impl State<'_> {
    /// Instructions that only change the config (and WORKDIR's directory).
    pub(super) async fn metadata(&mut self, ins: &Instruction) -> Result<()> {
        let mut rc = self.config.config.clone();
        let what = match ins {
            Instruction::Env(pairs) => {
                let mut env = rc.env.take().unwrap_or_default();
                let mut shown = Vec::new();
                // Every pair is expanded with the values from before the instruction, and a
                // variable already set keeps its place, as Docker does.
                for (k, v) in pairs {
                    let kv = format!("{}={}", self.expand(k)?, self.expand(v)?);
                    berth_image::config::set_env(&mut env, &kv);
                    shown.push(kv);
                }
                rc.env = Some(env);
                format!("ENV {}", shown.join(" "))
            }
            Instruction::Label(pairs) => {
                let labels = rc.labels.get_or_insert_with(Default::default);
                let mut shown = Vec::new();
                for (k, v) in pairs {
                    let (k, v) = (self.expand(k)?, self.expand(v)?);
                    shown.push(format!("{k}={v}"));
                    labels.insert(k, v);
                }
                format!("LABEL {}", shown.join(" "))
            }
            Instruction::Arg(args) => {
                // Defaults expand with the values from before the instruction (like ENV).
                let args = args
                    .iter()
                    .map(|(name, d)| Ok((name, d.as_deref().map(|d| self.expand(d)).transpose()?)))
                    .collect::<Result<Vec<_>>>()?;
                let mut shown = Vec::new();
                for (name, default) in args {
                    let global = self
                        .shared
                        .file
                        .global_args
                        .iter()
                        .find(|(g, _)| g == name)
                        .and_then(|(_, d)| d.clone());
                    let auto = platform_args(self.shared.opts.platform.as_ref())
                        .into_iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v);
                    let value = match self.shared.opts.build_args.get(name).cloned().flatten() {
                        Some(v) => Some(v),
                        None => default.clone().or(global).or(auto),
                    };
                    self.shared
                        .used_args
                        .lock()
                        .expect("args lock")
                        .insert(name.clone());
                    shown.push(match &default {
                        Some(d) => format!("{name}={d}"),
                        None => name.clone(),
                    });
                    self.args.retain(|(n, _)| n != name);
                    self.args.push((name.clone(), value));
                }
                format!("ARG {}", shown.join(" "))
            }
            Instruction::Cmd(c) => {
                let cmd = self.command(c);
                let shown = gofmt::quoted_list(&cmd);
                rc.cmd = Some(cmd);
                self.cmd_set = true;
                format!("CMD {shown}")
            }
            Instruction::Entrypoint(c) => {
                let ep = self.command(c);
                let shown = gofmt::quoted_list(&ep);
                rc.entrypoint = Some(ep);
                // A CMD from the base image does not go with a new ENTRYPOINT.
                if !self.cmd_set {
                    rc.cmd = None;
                }
                format!("ENTRYPOINT {shown}")
            }
            Instruction::Shell(s) => {
                rc.shell = Some(s.clone());
                format!("SHELL [{}]", s.join(" "))
            }
            Instruction::Expose(ports) => {
                // Docker sorts the words as written, then expands them.
                let mut raw: Vec<&str> = ports.split_whitespace().collect();
                raw.sort_unstable();
                let mut ports = Vec::new();
                for w in raw {
                    ports.extend(self.expand_words(w)?);
                }
                let set = rc.exposed_ports.get_or_insert_with(Default::default);
                for p in &ports {
                    for port in expand_port(p)? {
                        set.insert(port, Empty {});
                    }
                }
                format!("EXPOSE {}", ports.join(" "))
            }
            Instruction::Volume(v) => {
                let vols = match v {
                    Ok(list) => list
                        .iter()
                        .map(|x| self.expand(x))
                        .collect::<Result<Vec<_>>>()?,
                    Err(raw) => self.expand_words(raw)?,
                };
                if vols.iter().any(|v| v.trim().is_empty()) {
                    return Err(Error::invalid(
                        "VOLUME specified can not be an empty string",
                    ));
                }
                let set = rc.volumes.get_or_insert_with(Default::default);
                for v in &vols {
                    set.insert(v.clone(), Empty {});
                }
                format!("VOLUME [{}]", vols.join(" "))
            }
            Instruction::User(u) => {
                rc.user = self.expand(u)?;
                format!("USER {}", rc.user)
            }
            Instruction::StopSignal(s) => {
                let s = self.expand(s)?;
                if crate::signal::parse(&s).is_err() {
                    return Err(Error::invalid(format!("Invalid signal: {s}")));
                }
                rc.stop_signal = Some(s.clone());
                format!("STOPSIGNAL {s}")
            }
            Instruction::Maintainer(m) => {
                self.config.author = Some(m.clone());
                format!("MAINTAINER {m}")
            }
            Instruction::Onbuild(t) => {
                let t = t.trim().to_string();
                rc.on_build.get_or_insert_with(Vec::new).push(t.clone());
                format!("ONBUILD {t}")
            }
            Instruction::Healthcheck(h) => {
                let hc = health_config(h)?;
                if let Some(old) = rc.healthcheck.as_ref().and_then(|h| h.test.as_ref())
                    && old.first().is_some_and(|t| t != "NONE")
                {
                    self.say(format!(
                        "Note: overriding previous HEALTHCHECK: [{}]\n",
                        old.join(" ")
                    ))?;
                }
                let shown = format!("HEALTHCHECK {}", gofmt::healthcheck(&hc));
                rc.healthcheck = Some(match rc.healthcheck.take() {
                    // Docker's commit fills the options left unset from the previous check.
                    Some(old) => HealthConfig {
                        interval: nonzero_or(hc.interval, old.interval),
                        timeout: nonzero_or(hc.timeout, old.timeout),
                        start_period: nonzero_or(hc.start_period, old.start_period),
                        start_interval: nonzero_or(hc.start_interval, old.start_interval),
                        retries: nonzero_or(hc.retries, old.retries),
                        test: hc.test,
                    },
                    None => hc,
                });
                shown
            }
            Instruction::Workdir(w) => return self.workdir(w).await,
            _ => unreachable!("RUN, COPY and ADD are dispatched elsewhere"),
        };
        // Docker's prefix is the shell of the new config (SHELL shows its own).
        let shell = rc.shell.clone().filter(|s| !s.is_empty());
        let shell = shell.unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()]);
        let created_by = format!("{} #(nop)  {what}", shell.join(" "));
        if let Some(step) = self.cached(created_by, "")? {
            self.config.config = rc;
            self.commit(step, Layer::None).await?;
        }
        Ok(())
    }

    pub fn command(&self, c: &Command) -> Vec<String> {
        match c {
            Command::Exec(v) => v.clone(),
            Command::Shell(s) => {
                let mut v = self.shell();
                v.push(s.clone());
                v
            }
        }
    }

    async fn workdir(&mut self, w: &str) -> Result<()> {
        let w = self.expand(w)?;
        let cur = &self.config.config.working_dir;
        let abs = if w.starts_with('/') {
            w.clone()
        } else {
            format!("{}/{}", cur.trim_end_matches('/'), w)
        };
        let abs = format!("/{}", berth_build::ignore::clean(&abs));
        let mut rc = self.config.config.clone();
        rc.working_dir = abs.clone();
        let created_by = format!("{} #(nop) WORKDIR {abs}", self.shell().join(" "));
        if let Some(step) = self.cached(created_by, "")? {
            let layer = super::copy::workdir_layer(self, &abs).await?;
            self.config.config = rc;
            self.commit(step, layer).await?;
        }
        Ok(())
    }
}

/// A HEALTHCHECK instruction as the config stores it (durations in nanoseconds).
pub(crate) fn health_config(h: &Healthcheck) -> Result<HealthConfig> {
    let dur = |v: &Option<String>, name: &str| -> Result<i64> {
        match v {
            None => Ok(0),
            Some(s) => gofmt::parse_duration(s)
                .ok_or_else(|| Error::invalid(format!("invalid --{name} value {s:?}"))),
        }
    };
    let test = match &h.command {
        None => vec!["NONE".to_string()],
        Some(Command::Exec(v)) => std::iter::once("CMD".to_string())
            .chain(v.clone())
            .collect(),
        Some(Command::Shell(s)) => vec!["CMD-SHELL".into(), s.clone()],
    };
    let retries = match &h.retries {
        None => 0,
        Some(r) => r
            .parse::<i64>()
            .ok()
            .filter(|r| *r >= 0)
            .ok_or_else(|| Error::invalid(format!("invalid --retries value {r:?}")))?,
    };
    Ok(HealthConfig {
        test: Some(test),
        interval: dur(&h.interval, "interval")?,
        timeout: dur(&h.timeout, "timeout")?,
        start_period: dur(&h.start_period, "start-period")?,
        start_interval: dur(&h.start_interval, "start-interval")?,
        retries,
    })
}

fn nonzero_or(v: i64, fallback: i64) -> i64 {
    if v == 0 { fallback } else { v }
}

/// `80`, `80/udp`, `8000-8002/tcp` as Docker's port keys.
fn expand_port(p: &str) -> Result<Vec<String>> {
    let (range, proto) = p.split_once('/').unwrap_or((p, "tcp"));
    let proto = proto.to_ascii_lowercase();
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(Error::invalid(format!("invalid proto: {proto}")));
    }
    let bad = || Error::invalid(format!("invalid containerPort: {range}"));
    let (lo, hi) = match range.split_once('-') {
        Some((a, b)) => (
            a.parse::<u16>().map_err(|_| bad())?,
            b.parse::<u16>().map_err(|_| bad())?,
        ),
        None => {
            let n = range.parse::<u16>().map_err(|_| bad())?;
            (n, n)
        }
    };
    if hi < lo {
        return Err(bad());
    }
    Ok((lo..=hi).map(|n| format!("{n}/{proto}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports() {
        assert_eq!(expand_port("80").unwrap(), ["80/tcp"]);
        assert_eq!(expand_port("53/UDP").unwrap(), ["53/udp"]);
        assert_eq!(expand_port("8000-8002").unwrap().len(), 3);
        expand_port("x").unwrap_err();
    }
}
