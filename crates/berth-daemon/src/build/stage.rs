//! One stage: FROM, then each instruction as a cached step that commits an image.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use berth_build::{Dockerfile, Instruction, Located, shell};
use berth_core::Digest;
use berth_image::config::{History, ImageConfig, RootFs};
use berth_image::{Image, Platform};
use tokio::sync::mpsc::UnboundedSender;

use super::context::Context;
use super::{BuildOptions, Builder, Progress, cache, canceled};
use crate::error::{Error, Result};

/// What every stage of one build shares.
pub struct Shared {
    pub builder: Arc<Builder>,
    pub file: Dockerfile,
    pub opts: BuildOptions,
    pub ctx: Arc<Context>,
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

/// `BUILDPLATFORM` (this host) and `TARGETPLATFORM` (`target`, else the host) and friends.
pub(super) fn platform_args(target: Option<&Platform>) -> Vec<(String, String)> {
    let arch = berth_image::config::host_architecture();
    let build = Platform {
        os: "linux".into(),
        architecture: arch.into(),
        variant: None,
    };
    let mut v = Vec::new();
    for (p, plat) in [("BUILD", &build), ("TARGET", target.unwrap_or(&build))] {
        v.push((format!("{p}PLATFORM"), plat.to_string()));
        v.push((format!("{p}OS"), plat.os.clone()));
        v.push((format!("{p}ARCH"), plat.architecture.clone()));
        v.push((
            format!("{p}VARIANT"),
            plat.variant.clone().unwrap_or_default(),
        ));
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
    pub(super) cmd_set: bool,
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
        config: empty_config(shared.opts.platform.as_ref()),
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

fn empty_config(platform: Option<&Platform>) -> ImageConfig {
    let host = berth_image::config::host_architecture();
    ImageConfig {
        architecture: platform.map_or(host.into(), |p| p.architecture.clone()),
        os: platform.map_or("linux".into(), |p| p.os.clone()),
        variant: platform.and_then(|p| p.variant.clone()),
        created: None,
        author: None,
        comment: None,
        container: None,
        container_config: None,
        config: Default::default(),
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids: vec![],
        },
        history: vec![],
    }
}

/// A `LABEL k=v` step for `--label k=v`: key and value single-quoted, so that nothing in
/// them is expanded.
pub fn label_step(k: &str, v: &str, escape: char) -> Located {
    let quote = |s: &str| format!("'{}'", s.replace('\'', &format!("'{escape}''")));
    Located {
        instruction: Instruction::Label(vec![(quote(k), quote(v))]),
        node: berth_build::parse::Node {
            keyword: "LABEL".into(),
            flags: vec![],
            rest: String::new(),
            heredocs: vec![],
            line: 0,
            column: 0,
            source_line: format!("LABEL {k}={v}"),
        },
    }
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

    /// The image a source names (`COPY --from`, `RUN --mount from=`): a stage of this build
    /// (`None` for one on scratch) or a local image; `missing` is the error when it is neither.
    pub fn source_image(
        &self,
        name: &str,
        missing: impl FnOnce() -> Error,
    ) -> Result<Option<Image>> {
        match self.shared.file.stage(name) {
            // The graph builds what a stage uses before it: a missing input is a bug here.
            Some(s) => self.inputs.get(&s.index).cloned().ok_or_else(|| {
                Error::internal_msg(format!("stage {name} was not built before its use"))
            }),
            None => self
                .shared
                .builder
                .images
                .resolve(name)
                .map(Some)
                .map_err(|_| missing()),
        }
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
        // What a commit recorded of its container is not the step's.
        (config.container, config.container_config) = (None, None);
        // Docker's classic builder records the image each step started from.
        config.config.image = parent.as_ref().map(ToString::to_string).unwrap_or_default();
        // A new layer stays pinned (`_new`) until the image that references it exists.
        let (chain, size, empty_layer, _new) = match layer {
            Layer::None => (
                self.image.as_ref().and_then(|i| i.chain_id.clone()),
                self.image.as_ref().map_or(0, |i| i.size),
                true,
                None,
            ),
            Layer::Tar(path) => {
                let images = b.images.clone();
                let parent_chain = self.image.as_ref().and_then(|i| i.chain_id.clone());
                let new = tokio::task::spawn_blocking(move || {
                    let f = std::fs::File::open(&path)?;
                    let r = images.add_layer(parent_chain.as_ref(), std::io::BufReader::new(f));
                    let _ = std::fs::remove_file(&path);
                    Ok::<_, std::io::Error>(r)
                })
                .await
                .map_err(|e| Error::internal("layer task", e))?
                .map_err(|e| Error::internal("reading layer", e))??;
                config.rootfs.diff_ids.push(new.stats.diff_id.clone());
                let size = self.image.as_ref().map_or(0, |i| i.size) + new.stats.content_size;
                (Some(new.chain.clone()), size, false, Some(new))
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
            .chain(platform_args(self.shared.opts.platform.as_ref()))
            .collect();
        let name = shell::word(base, self.escape, &|n: &str| global.get(n).cloned())
            .map_err(Error::invalid)?;
        // `FROM --platform=`, else the build's `--platform`, else the host's.
        let mut wanted = self.shared.opts.platform.clone();
        if let Instruction::From {
            platform: Some(p), ..
        } = &l.instruction
        {
            let p = shell::word(p, self.escape, &|n: &str| global.get(n).cloned())
                .map_err(Error::invalid)?;
            wanted = Some(Platform::parse(&p).map_err(|e| Error::invalid(e.to_string()))?);
        }
        if let Some(dep) = self.shared.file.stage(&name)
            && dep.index < self.shared.file.stages.len()
            && let Some(image) = self.inputs.get(&dep.index)
        {
            self.image = image.clone();
        } else if name == "scratch" {
            self.image = None;
        } else {
            let images = &self.shared.builder.images;
            let here = images
                .resolve(&name)
                .ok()
                .filter(|_| !self.shared.opts.pull);
            let image = match here {
                Some(i) => i,
                None => {
                    self.pull_base(&name, wanted.as_ref()).await?;
                    images.resolve(&name)?
                }
            };
            let (image, warnings) =
                crate::containers::emulation::pick(images, &name, image, wanted.as_ref())?;
            for w in warnings {
                self.say(format!("WARNING: {w}\n"))?;
            }
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
            None => self.config = empty_config(wanted.as_ref()),
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

    /// Pulls base image `name` (for `wanted`), showing the pull's status lines in the build's
    /// output as dockerd's classic builder does.
    async fn pull_base(&mut self, name: &str, wanted: Option<&Platform>) -> Result<()> {
        let reference = berth_image::Reference::parse(name)?;
        let creds = super::auth_for(&self.shared.opts.auth, reference.domain());
        let opts = crate::images::PullOptions {
            reference,
            platform: wanted.cloned(),
            creds,
        };
        let (say, mut heard) = tokio::sync::mpsc::unbounded_channel();
        let pulls = self.shared.builder.pulls.clone();
        let pull = tokio::spawn(async move { pulls.pull(opts, false, &say).await });
        while let Some(p) = heard.recv().await {
            if p.detail.is_some() {
                continue;
            }
            match &p.id {
                Some(id) => self.say(format!("{id}: {}\n", p.status))?,
                None => self.say(format!("{}\n", p.status))?,
            }
        }
        pull.await
            .map_err(|e| Error::internal("pulling a base image", e))?
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
}
