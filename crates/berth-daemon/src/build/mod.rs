//! The build service: a context and a Dockerfile in, an image out, with Docker's classic
//! builder's cache rules and progress messages.
//!
//! Every instruction commits an image (untagged, its parent the previous step's image, hidden
//! from `images` unless `-a`), as Docker's classic builder does; the cache maps a key (parent
//! image, the instruction after expansion, the build args it sees, the checksum of what COPY and
//! ADD copy) to that image, in the metadata database, so it survives restarts. Stages run as soon
//! as the stages they use are built, so independent stages build in parallel; their output is
//! passed on stage by stage.

mod cache;
pub mod context;
mod copy;
pub(crate) mod gofmt;
pub(crate) mod metadata;
mod mounts;
pub(crate) mod remote;
mod run;
mod stage;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use berth_build::Dockerfile;
use berth_core::Digest;
use berth_image::{Image, ImageStore, Reference};
use redb::Database;
use tokio::sync::mpsc;

use crate::containers::Containers;
use crate::error::{Error, Result};

/// What a build reports as it goes.
#[derive(Debug, Clone)]
pub enum Progress {
    /// Text for the user (Docker's `stream`).
    Stream(String),
    /// The text that ends step `step` (` ---> <id>`), with how long the step took and whether
    /// the cache had it; clients other than berth's see only the text.
    StepEnd {
        /// The text.
        text: String,
        /// The step's number.
        step: usize,
        /// Seconds the step took.
        seconds: f64,
        /// Whether it came from the cache.
        cached: bool,
    },
    /// The built image's ID (Docker's `aux`).
    Built(Digest),
}

/// Options of one build (the query of `POST /build`).
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// The Dockerfile's path in the context.
    pub dockerfile: String,
    /// Names for the result.
    pub tags: Vec<String>,
    /// `--build-arg`s (a `None` value means "from the client's environment", already resolved
    /// by clients; it counts as unset).
    pub build_args: BTreeMap<String, Option<String>>,
    /// The stage to build (default: the last).
    pub target: Option<String>,
    /// Don't use the cache.
    pub no_cache: bool,
    /// Labels added to the final image.
    pub labels: BTreeMap<String, String>,
    /// Only report the image ID.
    pub quiet: bool,
    /// Remove intermediate containers after a successful build.
    pub remove: bool,
    /// Remove them even after a failure.
    pub force_remove: bool,
    /// Images whose build history may serve as cache (none given: any local image).
    pub cache_from: Vec<String>,
    /// Network of RUN steps: `default` (the default bridge, or the host's network on a daemon
    /// without one), `host`, `none` or a network's name.
    pub network: String,
    /// `--add-host` entries of RUN steps (`name:ip`).
    pub extra_hosts: Vec<String>,
    /// `--shm-size` of RUN steps, bytes; 0 is Docker's 64 MiB.
    pub shm_size: i64,
    /// `--platform`: what to build for (`None`: the host's); base images are taken for it and
    /// RUN steps of another architecture run under emulation.
    pub platform: Option<berth_image::Platform>,
    /// `--pull`: pull every base image, even one that is here.
    pub pull: bool,
    /// `X-Registry-Config`: credentials by registry, for the pulls of base images.
    pub auth: BTreeMap<String, berth_distribution::client::Credentials>,
    /// `--memory`, `--cpu-shares`, `--cpuset-cpus`, `--ulimit`, ... of RUN steps.
    pub step_limits: StepLimits,
}

/// The resource limits of every RUN step's container, checked as a container's (Docker
/// creates each step's container with them).
#[derive(Debug, Clone, Default)]
pub struct StepLimits {
    /// Memory, swap, CPU shares, period and quota.
    pub resources: crate::containers::Resources,
    /// The cpusets.
    pub cgroup: crate::containers::resources::Cgroup,
    /// `--ulimit`s.
    pub ulimits: Option<Vec<crate::containers::limits::Ulimit>>,
}

/// The credentials of `auth` (`X-Registry-Config`, keyed as the docker CLI keys its logins)
/// for registry `domain`.
pub(crate) fn auth_for(
    auth: &BTreeMap<String, berth_distribution::client::Credentials>,
    domain: &str,
) -> berth_distribution::client::Credentials {
    auth.iter()
        .find(|(k, _)| berth_distribution::client::endpoint::registry_host(k) == domain)
        .map(|(_, c)| c.clone())
        .unwrap_or_default()
}

/// The build service.
pub struct Builder {
    images: ImageStore,
    /// Pulls base images that are missing (or all, with `--pull`).
    pulls: Arc<crate::images::Images>,
    containers: Arc<Containers>,
    cache: cache::Cache,
    tmp: std::path::PathBuf,
    /// `RUN --mount=type=cache` directories, kept between builds.
    cache_mounts: std::path::PathBuf,
    cache_locks: mounts::CacheLocks,
}

/// A `RUN --mount=type=cache` directory.
pub struct CacheMount {
    /// Its directory's name (unique).
    pub name: String,
    /// The `id` it was made for.
    pub id: String,
    /// Bytes used.
    pub size: u64,
    /// When it was made.
    pub created: Option<chrono::DateTime<chrono::Utc>>,
}

/// What one stage produced.
type StageResult = Option<Image>;

impl Builder {
    /// A builder over the daemon's stores; `root` holds `tmp/` (contexts, COPY staging; emptied
    /// at start) and `cache/` (cache mounts).
    pub fn new(
        db: Arc<Database>,
        images: ImageStore,
        pulls: Arc<crate::images::Images>,
        containers: Arc<Containers>,
        root: &std::path::Path,
    ) -> Result<Builder> {
        let tmp = root.join("tmp");
        let cache_mounts = root.join("cache");
        let _ = std::fs::remove_dir_all(&tmp);
        for d in [&tmp, &cache_mounts] {
            std::fs::create_dir_all(d).map_err(|e| Error::internal("creating build dir", e))?;
        }
        Ok(Builder {
            images,
            pulls,
            containers,
            cache: cache::Cache::open(db)?,
            tmp,
            cache_mounts,
            cache_locks: mounts::CacheLocks::default(),
        })
    }

    /// The cache mounts.
    pub fn cache_mounts(&self) -> Vec<CacheMount> {
        let Ok(rd) = std::fs::read_dir(&self.cache_mounts) else {
            return Vec::new();
        };
        rd.flatten()
            .filter(|e| e.path().is_dir())
            .map(|e| {
                let id_file = e.path().with_extension("id");
                CacheMount {
                    name: e.file_name().to_string_lossy().into_owned(),
                    id: std::fs::read_to_string(&id_file)
                        .unwrap_or_else(|_| e.file_name().to_string_lossy().into_owned()),
                    size: berth_snapshot::tree_size(&e.path()),
                    created: std::fs::metadata(&id_file)
                        .and_then(|m| m.modified())
                        .ok()
                        .map(chrono::DateTime::<chrono::Utc>::from),
                }
            })
            .collect()
    }

    /// Forgets the build cache and removes the cache mounts (`builder prune`); returns what
    /// was deleted and the bytes freed.
    pub fn prune(&self) -> Result<(Vec<String>, u64)> {
        let mut deleted = self.cache.clear()?;
        let mut freed = 0;
        for m in self.cache_mounts() {
            let dir = self.cache_mounts.join(&m.name);
            if std::fs::remove_dir_all(&dir).is_ok() {
                let _ = std::fs::remove_file(dir.with_extension("id"));
                freed += m.size;
                deleted.push(m.name);
            }
        }
        Ok((deleted, freed))
    }

    /// A fresh private directory for one build.
    pub fn workdir(&self) -> std::path::PathBuf {
        self.tmp.join(&berth_core::id::generate()[..16])
    }

    /// Builds `ctx` and tags the result; progress goes to `progress` (a closed channel cancels
    /// the build).
    pub async fn build(
        self: &Arc<Self>,
        opts: BuildOptions,
        mut ctx: context::Context,
        progress: mpsc::Sender<Progress>,
    ) -> Result<Digest> {
        let file = Dockerfile::parse(&ctx.dockerfile_name, &ctx.dockerfile)
            .map_err(|e| Error::invalid(e.to_string()))?;
        if let Some(s) = file.directives.syntax.as_deref()
            && !is_builtin_syntax(s)
        {
            return Err(Error::new(
                berth_core::ErrorKind::NotImplemented,
                format!(
                    "berth builds the docker/dockerfile:1 syntax itself and cannot run the frontend image {s}"
                ),
            ));
        }
        // Dockerfile checks (lint) are not run yet: a file that asks to fail on them is refused
        // rather than built as if it had passed.
        if let Some(c) = &file.directives.check
            && c.split(';').any(|kv| kv.trim() == "error=true")
        {
            return Err(Error::new(
                berth_core::ErrorKind::NotImplemented,
                format!(
                    "berth does not run Dockerfile checks yet, so it cannot honour `# check={c}`"
                ),
            ));
        }
        let tags = opts
            .tags
            .iter()
            .map(|t| {
                Reference::parse(t)
                    .map(Reference::with_default_tag)
                    .map_err(|_| Error::invalid(format!("invalid reference format: {t}")))
            })
            .collect::<Result<Vec<_>>>()?;
        let cache_from = self.cache_sources(&opts.cache_from)?;
        let target = file
            .target(opts.target.as_deref())
            .map_err(Error::invalid)?
            .index;
        // `--label`s are LABEL steps at the end of the target stage, one per label (as Docker
        // adds them): cached and counted like the others.
        let mut file = file;
        let escape = file.directives.escape;
        file.stages[target].instructions.extend(
            opts.labels
                .iter()
                .map(|(k, v)| stage::label_step(k, v, escape)),
        );
        let target = &file.stages[target];
        let needed = file.needed(target);
        let total: usize = needed
            .iter()
            .map(|&i| file.stages[i].instructions.len() + 1)
            .sum();
        let secrets = std::mem::take(&mut ctx.secrets);
        let shared = Arc::new(stage::Shared {
            builder: self.clone(),
            file: file.clone(),
            opts: opts.clone(),
            ctx: Arc::new(ctx),
            total,
            cache_from,
            used_args: std::sync::Mutex::new(BTreeSet::new()),
            secrets,
        });
        let results = self.run_stages(&shared, &needed, progress.clone()).await?;
        let image = results
            .get(&target.index)
            .cloned()
            .flatten()
            .ok_or_else(|| Error::internal_msg("the target stage produced no image"))?;
        let used = shared.used_args.lock().expect("args lock").clone();
        let unused: Vec<&String> = opts
            .build_args
            .keys()
            .filter(|k| !used.contains(*k) && !stage::is_predefined_arg(k))
            .collect();
        let say = |s: String| async {
            progress
                .send(Progress::Stream(s))
                .await
                .map_err(|_| canceled())
        };
        if !unused.is_empty() && !opts.quiet {
            let names: Vec<&str> = unused.iter().map(|s| s.as_str()).collect();
            say(format!(
                "[Warning] One or more build-args [{}] were not consumed\n",
                names.join(" ")
            ))
            .await?;
        }
        progress
            .send(Progress::Built(image.id.clone()))
            .await
            .map_err(|_| canceled())?;
        if !opts.quiet {
            say(format!("Successfully built {}\n", &image.id.hex()[..12])).await?;
        }
        for t in &tags {
            self.images.tag(&image.id, t)?;
            if !opts.quiet {
                say(format!("Successfully tagged {}\n", t.familiar())).await?;
            }
        }
        Ok(image.id)
    }

    /// Runs the stages in `needed` (dependencies first), each as soon as what it uses is
    /// built; passes their progress on in stage order.
    async fn run_stages(
        self: &Arc<Self>,
        shared: &Arc<stage::Shared>,
        needed: &[usize],
        progress: mpsc::Sender<Progress>,
    ) -> Result<BTreeMap<usize, StageResult>> {
        let mut done: BTreeMap<usize, tokio::sync::watch::Receiver<Option<StageResult>>> =
            BTreeMap::new();
        let mut senders = BTreeMap::new();
        for &i in needed {
            let (tx, rx) = tokio::sync::watch::channel(None);
            done.insert(i, rx);
            senders.insert(i, tx);
        }
        let mut outputs = Vec::new();
        let mut tasks = tokio::task::JoinSet::new();
        let mut step = 0;
        for &i in needed {
            let (out_tx, out_rx) = mpsc::unbounded_channel::<Progress>();
            outputs.push(out_rx);
            let deps: Vec<(usize, tokio::sync::watch::Receiver<Option<StageResult>>)> = shared
                .file
                .deps(&shared.file.stages[i])
                .into_iter()
                .map(|d| (d, done[&d].clone()))
                .collect();
            let first_step = step + 1;
            step += shared.file.stages[i].instructions.len() + 1;
            let shared = shared.clone();
            let tx = senders.remove(&i).expect("one sender per stage");
            tasks.spawn(async move {
                let mut inputs = BTreeMap::new();
                for (d, mut rx) in deps {
                    let r = rx
                        .wait_for(Option::is_some)
                        .await
                        .map_err(|_| canceled())?
                        .clone()
                        .expect("waited for a result");
                    inputs.insert(d, r);
                }
                let image = stage::run(&shared, i, first_step, inputs, out_tx).await?;
                tx.send_replace(Some(image.clone()));
                Ok::<_, Error>((i, image))
            });
        }
        let forward = async {
            for mut rx in outputs {
                while let Some(p) = rx.recv().await {
                    if progress.send(p).await.is_err() {
                        return Err(canceled());
                    }
                }
            }
            Ok(())
        };
        let collect = async {
            let mut results = BTreeMap::new();
            while let Some(joined) = tasks.join_next().await {
                let (i, image) = joined.map_err(|e| Error::internal("build stage task", e))??;
                results.insert(i, image);
            }
            Ok::<_, Error>(results)
        };
        // The first error wins; dropping the JoinSet aborts the other stages.
        let (results, ()) = tokio::try_join!(collect, forward)?;
        Ok(results)
    }

    /// The image IDs `--cache-from` allows, with their ancestors; `None` when any image may
    /// serve.
    fn cache_sources(&self, names: &[String]) -> Result<Option<BTreeSet<Digest>>> {
        if names.is_empty() {
            return Ok(None);
        }
        let mut ids = BTreeSet::new();
        for n in names {
            // An image that is not here can't serve as cache: Docker just skips it.
            let Ok(mut image) = self.images.resolve(n) else {
                continue;
            };
            loop {
                ids.insert(image.id.clone());
                match image.parent.clone().and_then(|p| self.images.get(&p).ok()) {
                    Some(p) => image = p,
                    None => break,
                }
            }
        }
        Ok(Some(ids))
    }
}

fn is_builtin_syntax(s: &str) -> bool {
    let s = s.trim();
    let base = s.split('@').next().unwrap_or(s);
    let (repo, tag) = base.rsplit_once(':').unwrap_or((base, "latest"));
    matches!(
        repo,
        "docker/dockerfile" | "docker.io/docker/dockerfile" | "docker/dockerfile-upstream"
    ) && (tag == "latest" || tag.starts_with('1'))
}

pub(crate) fn canceled() -> Error {
    Error::invalid("build canceled: the client went away")
}
