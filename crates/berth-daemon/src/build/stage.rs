//! One stage: FROM, then each instruction as a cached step that commits an image.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use berth_build::instruction::{Command, Healthcheck};
use berth_build::{Dockerfile, Instruction, Located, shell};
use berth_core::Digest;
use berth_image::Image;
use berth_image::config::{Empty, HealthConfig, History, ImageConfig, RootFs};
use tokio::sync::mpsc::UnboundedSender;

use super::context::Context;
use super::{BuildOptions, Builder, Progress, cache, canceled, gofmt};
use crate::error::{Error, Result};

/// What every stage of one build shares.
pub struct Shared {
    pub builder: Arc<Builder>,
    pub file: Dockerfile,
    pub opts: BuildOptions,
    pub ctx: Context,
    pub total: usize,
    pub cache_from: Option<BTreeSet<Digest>>,
    /// Build args some stage declared (the others are reported as not consumed).
    pub used_args: Mutex<BTreeSet<String>>,
    /// Secrets for `RUN --mount=type=secret`, by id.
    pub secrets: BTreeMap<String, Vec<u8>>,
}

const PREDEFINED_ARGS: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// Proxy variables: usable as build args without an `ARG`, and kept out of history.
pub fn is_predefined_arg(name: &str) -> bool {
    PREDEFINED_ARGS.contains(&name)
}

/// `TARGETPLATFORM` and friends, for this host.
fn platform_args() -> Vec<(String, String)> {
    let arch = berth_image::config::host_architecture();
    let platform = format!("linux/{arch}");
    let mut v = Vec::new();
    for p in ["BUILD", "TARGET"] {
        v.push((format!("{p}PLATFORM"), platform.clone()));
        v.push((format!("{p}OS"), "linux".into()));
        v.push((format!("{p}ARCH"), arch.into()));
        v.push((format!("{p}VARIANT"), String::new()));
    }
    v
}

/// A stage being built.
pub struct State<'a> {
    pub shared: &'a Shared,
    pub out: UnboundedSender<Progress>,
    /// The image so far (`None` for `FROM scratch` before any step).
    pub image: Option<Image>,
    /// The config the next commit starts from.
    pub config: ImageConfig,
    /// Declared ARGs with their values.
    pub args: Vec<(String, Option<String>)>,
    pub step: usize,
    pub escape: char,
    /// Images of the stages this one uses, by index.
    pub inputs: BTreeMap<usize, Option<Image>>,
    /// Whether this stage set CMD (an ENTRYPOINT then keeps it).
    cmd_set: bool,
    /// When the current step started.
    started: std::time::Instant,
}

/// Builds stage `index`; returns its image.
pub async fn run(
    shared: &Shared,
    index: usize,
    first_step: usize,
    inputs: BTreeMap<usize, Option<Image>>,
    out: UnboundedSender<Progress>,
) -> Result<Option<Image>> {
    let stage = &shared.file.stages[index];
    let mut st = State {
        shared,
        out,
        image: None,
        config: empty_config(),
        args: Vec::new(),
        step: first_step,
        escape: shared.file.directives.escape,
        inputs,
        cmd_set: false,
        started: std::time::Instant::now(),
    };
    st.from(&stage.base, &stage.from).await?;
    for l in &stage.instructions {
        st.step += 1;
        st.instruction(l).await?;
    }
    Ok(st.image)
}

fn empty_config() -> ImageConfig {
    ImageConfig {
        architecture: berth_image::config::host_architecture().into(),
        os: "linux".into(),
        variant: None,
        created: None,
        author: None,
        comment: None,
        config: Default::default(),
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids: vec![],
        },
        history: vec![],
    }
}

/// Adds `--label`s to the final image as one more step (as Docker does).
pub fn add_labels(b: &Builder, image: &Image, labels: &BTreeMap<String, String>) -> Result<Image> {
    let mut config = image.config.clone();
    config
        .config
        .labels
        .get_or_insert_with(Default::default)
        .extend(labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    config.created = Some(now());
    let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    config.history.push(History {
        created: config.created.clone(),
        created_by: Some(format!("/bin/sh -c #(nop)  LABEL {}", pairs.join(" "))),
        empty_layer: true,
        ..History::default()
    });
    Ok(b.images
        .create(&config, image.chain_id.clone(), image.size, Some(&image.id))?)
}

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// A step the cache did not have.
pub struct Pending {
    key: String,
    created_by: String,
    parent: Option<Digest>,
}

/// A step's effect beyond the config change.
pub enum Layer {
    /// Metadata only.
    None,
    /// A layer tar (a file the step wrote).
    Tar(std::path::PathBuf),
}

impl State<'_> {
    pub fn say(&self, text: impl Into<String>) -> Result<()> {
        if self.shared.opts.quiet {
            return Ok(());
        }
        self.out
            .send(Progress::Stream(text.into()))
            .map_err(|_| canceled())
    }

    /// Ends the current step with its ` ---> ` text.
    fn step_end(&self, text: String, cached: bool) -> Result<()> {
        if self.shared.opts.quiet {
            return Ok(());
        }
        self.out
            .send(Progress::StepEnd {
                text,
                step: self.step,
                seconds: self.started.elapsed().as_secs_f64(),
                cached,
            })
            .map_err(|_| canceled())
    }

    fn header(&mut self, l: &Located) -> Result<()> {
        self.started = std::time::Instant::now();
        let text = l.node.source_line.trim();
        let text = if l.node.heredocs.is_empty() && text.ends_with(self.escape) {
            // A continued instruction is shown whole, on one line.
            format!("{} {}", l.node.keyword, l.node.rest)
        } else {
            text.to_string()
        };
        self.say(format!(
            "Step {}/{} : {}\n",
            self.step, self.shared.total, text
        ))
    }

    /// Variables for expansion: ARGs (with values), overridden by ENV.
    pub fn vars(&self) -> HashMap<String, String> {
        let mut m: HashMap<String, String> = self
            .args
            .iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v)))
            .collect();
        for kv in self.config.config.env.iter().flatten() {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            m.insert(k.into(), v.into());
        }
        m
    }

    pub fn expand(&self, s: &str) -> Result<String> {
        let vars = self.vars();
        shell::word(s, self.escape, &|n: &str| vars.get(n).cloned()).map_err(Error::invalid)
    }

    pub fn expand_words(&self, s: &str) -> Result<Vec<String>> {
        let vars = self.vars();
        shell::words(s, self.escape, &|n: &str| vars.get(n).cloned()).map_err(Error::invalid)
    }

    /// The shell of shell-form commands.
    pub fn shell(&self) -> Vec<String> {
        self.config
            .config
            .shell
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()])
    }

    /// Looks the step up in the cache. On a hit the stage moves to the cached image (and Docker's
    /// ` ---> Using cache` is printed) and `None` is returned; on a miss, the pending step, to
    /// be done and then passed to [`State::commit`].
    pub fn cached(&mut self, created_by: String, extra_key: &str) -> Result<Option<Pending>> {
        let parent = self.image.as_ref().map(|i| i.id.clone());
        let key = cache::key(parent.as_ref(), &created_by, extra_key);
        let b = &self.shared.builder;
        let hit = match &self.shared.cache_from {
            _ if self.shared.opts.no_cache => None,
            None => b
                .cache
                .get(&key)?
                .and_then(|id| b.images.get(&id).ok())
                .filter(|hit| hit.parent == parent),
            // With --cache-from, a step hits an image of those images' histories that was made
            // by the same instruction on the same parent, as Docker's classic builder looks.
            Some(allowed) => allowed.iter().find_map(|id| {
                let i = b.images.get(id).ok()?;
                (i.parent == parent
                    && i.config.history.last()?.created_by.as_deref() == Some(created_by.as_str()))
                .then_some(i)
            }),
        };
        if let Some(hit) = hit {
            let id = hit.id.clone();
            self.step_end(
                format!(" ---> Using cache\n ---> {}\n", &id.hex()[..12]),
                true,
            )?;
            self.config = hit.config.clone();
            self.image = Some(hit);
            return Ok(None);
        }
        Ok(Some(Pending {
            key,
            created_by,
            parent,
        }))
    }

    /// Commits a step that was done: an image with the current config plus `layer`.
    pub async fn commit(&mut self, step: Pending, layer: Layer) -> Result<()> {
        let Pending {
            key,
            created_by,
            parent,
        } = step;
        let b = self.shared.builder.clone();
        let mut config = self.config.clone();
        config.created = Some(now());
        // Docker's classic builder records the image each step started from.
        config.config.image = parent.as_ref().map(ToString::to_string).unwrap_or_default();
        let (chain, size, empty_layer) = match layer {
            Layer::None => (
                self.image.as_ref().and_then(|i| i.chain_id.clone()),
                self.image.as_ref().map_or(0, |i| i.size),
                true,
            ),
            Layer::Tar(path) => {
                let images = b.images.clone();
                let parent_chain = self.image.as_ref().and_then(|i| i.chain_id.clone());
                let (stats, chain) = tokio::task::spawn_blocking(move || {
                    let f = std::fs::File::open(&path)?;
                    let r = images.add_layer(parent_chain.as_ref(), std::io::BufReader::new(f));
                    let _ = std::fs::remove_file(&path);
                    Ok::<_, std::io::Error>(r)
                })
                .await
                .map_err(|e| Error::internal("layer task", &e))?
                .map_err(|e| Error::internal("reading layer", &e))??;
                config.rootfs.diff_ids.push(stats.diff_id);
                let size = self.image.as_ref().map_or(0, |i| i.size) + stats.content_size;
                (Some(chain), size, false)
            }
        };
        config.history.push(History {
            created: config.created.clone(),
            created_by: Some(created_by),
            empty_layer,
            ..History::default()
        });
        let image = b.images.create(&config, chain, size, parent.as_ref())?;
        b.cache.put(&key, &image.id)?;
        self.step_end(format!(" ---> {}\n", &image.id.hex()[..12]), false)?;
        self.config = image.config.clone();
        self.image = Some(image);
        Ok(())
    }

    async fn from(&mut self, base: &str, l: &Located) -> Result<()> {
        self.header(l)?;
        // FROM sees only the ARGs declared before the first FROM.
        let global: HashMap<String, String> = self
            .shared
            .file
            .global_args
            .iter()
            .filter_map(|(k, default)| {
                self.shared
                    .opts
                    .build_args
                    .get(k)
                    .cloned()
                    .flatten()
                    .or_else(|| default.clone())
                    .map(|v| (k.clone(), v))
            })
            .chain(platform_args())
            .collect();
        let name = shell::word(base, self.escape, &|n: &str| global.get(n).cloned())
            .map_err(Error::invalid)?;
        if let Instruction::From {
            platform: Some(p), ..
        } = &l.instruction
        {
            let p = shell::word(p, self.escape, &|n: &str| global.get(n).cloned())
                .map_err(Error::invalid)?;
            let host = format!("linux/{}", berth_image::config::host_architecture());
            if p != host && p != "linux" {
                return Err(Error::new(
                    berth_core::ErrorKind::NotImplemented,
                    format!(
                        "FROM --platform={p}: berth builds for this host's platform ({host}) only"
                    ),
                ));
            }
        }
        if let Some(dep) = self.shared.file.stage(&name)
            && dep.index < self.shared.file.stages.len()
            && let Some(image) = self.inputs.get(&dep.index)
        {
            self.image = image.clone();
        } else if name == "scratch" {
            self.image = None;
        } else {
            let image = self.shared.builder.images.resolve(&name).map_err(|_| {
                Error::not_found(format!(
                    "pull access denied for {name}: the image is not here and berth cannot pull images yet (load or build it first)"
                ))
            })?;
            self.image = Some(image);
        }
        // Global ARGs are declared again in the stage to be used there.
        self.args.clear();
        match &self.image {
            Some(i) => {
                self.config = i.config.clone();
                // With triggers to run, the step ends with the image they make.
                if self
                    .config
                    .config
                    .on_build
                    .as_ref()
                    .is_none_or(Vec::is_empty)
                {
                    self.step_end(format!(" ---> {}\n", &i.id.hex()[..12]), false)?;
                }
            }
            None => self.config = empty_config(),
        }
        // What the stage makes is its own: not the base's author or import comment; and, as
        // Docker does, it gets the default PATH when the base sets none.
        self.config.author = None;
        self.config.comment = None;
        let env = self.config.config.env.get_or_insert_with(Vec::new);
        if !env.iter().any(|e| e.starts_with("PATH=")) {
            env.push(crate::containers::spec::DEFAULT_PATH.to_string());
        }
        let triggers = self.config.config.on_build.take().unwrap_or_default();
        if !triggers.is_empty() {
            self.say(format!(
                "# Executing {} build trigger{}\n",
                triggers.len(),
                if triggers.len() == 1 { "" } else { "s" }
            ))?;
            for t in triggers {
                let parsed = berth_build::parse::parse("ONBUILD", &t)
                    .and_then(|p| berth_build::instruction::instructions("ONBUILD", &p))
                    .map_err(|e| Error::invalid(e.to_string()))?;
                for l in &parsed {
                    Box::pin(self.dispatch(l)).await?;
                }
            }
        }
        Ok(())
    }

    async fn instruction(&mut self, l: &Located) -> Result<()> {
        self.header(l)?;
        self.dispatch(l).await
    }

    async fn dispatch(&mut self, l: &Located) -> Result<()> {
        let at = |e: Error| {
            Error::new(
                e.kind,
                format!(
                    "{}:{}: {}: {}",
                    self.shared.ctx.dockerfile_name, l.node.line, l.node.keyword, e.message
                ),
            )
        };
        match &l.instruction {
            Instruction::Run { .. } => super::run::run(self, l).await,
            Instruction::Copy(spec) => super::copy::copy(self, spec, false).await,
            Instruction::Add(spec) => super::copy::copy(self, spec, true).await,
            other => self.metadata(other).await.map_err(at),
        }
    }

    /// Instructions that only change the config (and WORKDIR's directory).
    async fn metadata(&mut self, ins: &Instruction) -> Result<()> {
        let mut rc = self.config.config.clone();
        let what = match ins {
            Instruction::Env(pairs) => {
                let mut env = rc.env.take().unwrap_or_default();
                let mut shown = Vec::new();
                for (k, v) in pairs {
                    let (k, v) = (self.expand(k)?, self.expand(v)?);
                    env.retain(|e| e.split('=').next() != Some(k.as_str()));
                    env.push(format!("{k}={v}"));
                    shown.push(format!("{k}={v}"));
                    // Later pairs of the same ENV see earlier ones.
                    self.config.config.env = Some(env.clone());
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
                let mut shown = Vec::new();
                for (name, default) in args {
                    let global = self
                        .shared
                        .file
                        .global_args
                        .iter()
                        .find(|(g, _)| g == name)
                        .and_then(|(_, d)| d.clone());
                    let auto = platform_args()
                        .into_iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v);
                    let value = match self.shared.opts.build_args.get(name).cloned().flatten() {
                        Some(v) => Some(v),
                        None => match default {
                            Some(d) => Some(self.expand(d)?),
                            None => global.or(auto),
                        },
                    };
                    self.shared
                        .used_args
                        .lock()
                        .expect("args lock")
                        .insert(name.clone());
                    shown.push(match default {
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
                let hc = self.healthcheck(h)?;
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

    fn healthcheck(&self, h: &Healthcheck) -> Result<HealthConfig> {
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
