//! `docker commit`: a new image from a container, as Docker's `CreateImageFromContainer` makes
//! it: the container's image layers plus one layer of what the container changed (its upper
//! directory), the container's config (or the one the client sent) with `--change`s applied and
//! the container's config merged under it, a history entry whose `created_by` is the
//! container's command, and `container` / `container_config` naming where it came from.
//!
//! With `pause` (the default) a running container is frozen while its upper directory is read,
//! so the layer is one moment of it; without, it keeps running and what it writes meanwhile
//! may or may not be in the layer.

use berth_core::Digest;
use berth_image::config::{Empty, History, ImageConfig, RunConfig, set_env};
use berth_image::{Image, ImageStore, Reference};
use std::collections::BTreeMap;

use super::Images;
use crate::containers::{Record, Spec, Status};
use crate::error::{Error, Result};

/// The diff ID of a layer that changes nothing (an empty tar): Docker leaves it out.
const EMPTY_LAYER: &str = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";

/// What to commit and how.
#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    /// The container, by name or ID.
    pub container: String,
    /// The name to give the image (`repo`, `tag`).
    pub name: Option<(String, Option<String>)>,
    /// The history comment.
    pub comment: String,
    /// The author.
    pub author: String,
    /// The config the client sent, instead of the container's.
    pub config: Option<RunConfig>,
    /// Dockerfile instructions to apply to the config (`--change`).
    pub changes: Vec<String>,
    /// Freeze a running container while its changes are read.
    pub pause: bool,
}

impl Images {
    /// Commits a container as a new image; returns its ID.
    pub async fn commit(&self, opts: CommitOptions) -> Result<Digest> {
        let c = self.containers.get(&opts.container)?;
        let rec = c.record();
        match rec.state.status {
            Status::Dead => {
                return Err(Error::conflict(format!(
                    "You cannot commit container {} which is Dead",
                    rec.id
                )));
            }
            Status::Removing => {
                return Err(Error::conflict(format!(
                    "You cannot commit container {} which is being removed",
                    rec.id
                )));
            }
            _ => {}
        }
        let reference = match &opts.name {
            Some((repo, tag)) => Some(reference(repo, tag.as_deref())?),
            None => None,
        };
        let base = self.store.get(&rec.image_id)?;
        let comment = opts.comment.clone();
        let config = new_config(&rec, &opts)?;
        let (store, r, containers) = (self.store.clone(), rec.clone(), self.containers.clone());
        let image = crate::blocking::run("committing a container", move || {
            let stubs = containers.runtime_stubs(&c)?;
            // A paused container stays paused: thawing it after the commit would unpause it.
            let state = c.record().state;
            let frozen = opts.pause && state.status == Status::Running && !state.paused;
            let cgroup = crate::containers::spec::cgroup_path(&r.id);
            if frozen {
                berth_runtime::cgroup::freeze(&cgroup, true)
                    .map_err(|e| Error::internal("pausing the container", e))?;
            }
            let made = commit_blocking(&store, &r, &base, config, &opts, &stubs);
            if frozen && let Err(e) = berth_runtime::cgroup::freeze(&cgroup, false) {
                tracing::error!(id = %r.id, error = %e, "unpausing after commit");
            }
            made
        })
        .await?;
        let shown = match reference {
            Some(r) => {
                self.store.tag(&image.id, &r)?;
                self.publish("tag", &image.id, Some(r.familiar()));
                r.familiar()
            }
            None => String::new(),
        };
        self.containers.event(
            "commit",
            &rec,
            &[
                ("comment", comment),
                ("imageID", image.id.to_string()),
                ("imageRef", shown),
            ],
        );
        Ok(image.id)
    }
}

/// `repo[:tag]` checked as Docker checks a name to tag with.
pub fn reference(repo: &str, tag: Option<&str>) -> Result<Reference> {
    if repo.is_empty() {
        return Err(Error::invalid(
            "repository name must have at least one component",
        ));
    }
    let mut r = Reference::parse(repo)?;
    if r.digest().is_some() {
        return Err(Error::invalid(
            "refusing to create a tag with a digest reference",
        ));
    }
    if let Some(t) = tag.filter(|t| !t.is_empty()) {
        r = r.with_tag(t)?;
    }
    Ok(r.with_default_tag())
}

/// The layer of what the container changed, on the image's; then the image record. Blocks.
fn commit_blocking(
    store: &ImageStore,
    rec: &Record,
    base: &Image,
    config: RunConfig,
    opts: &CommitOptions,
    stubs: &std::collections::HashSet<String>,
) -> Result<Image> {
    let upper = store.snapshots().upper(&rec.id);
    let ids = store.snapshots().ids().cloned();
    let (reader, writer) =
        std::io::pipe().map_err(|e| Error::internal("making a pipe for the layer", e))?;
    // The tar is written on one thread while the store reads it on this one.
    let (diffed, layer) = std::thread::scope(|s| {
        let diff = s.spawn(move || {
            let out = std::io::BufWriter::new(writer);
            berth_snapshot::diff_mapped(&upper, out, stubs, ids.as_ref())
        });
        let layer = store.add_layer(base.chain_id.as_ref(), std::io::BufReader::new(reader));
        (diff.join(), layer)
    });
    diffed
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
        .map_err(|e| Error::internal("reading what the container changed", e))?;
    let layer = layer?;
    let empty = layer.stats.diff_id.as_str() == EMPTY_LAYER;
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    let mut image = ImageConfig {
        created: Some(now.clone()),
        author: Some(opts.author.clone()).filter(|a| !a.is_empty()),
        comment: None,
        container: Some(rec.id.clone()),
        container_config: Some(
            serde_json::to_value(crate::wire::inspect::config(&rec.spec))
                .expect("a config serializes"),
        ),
        config,
        ..base.config.clone()
    };
    image.history.push(History {
        created: Some(now),
        created_by: Some(rec.spec.cmd.clone().unwrap_or_default().join(" "))
            .filter(|c| !c.is_empty()),
        author: image.author.clone(),
        comment: Some(opts.comment.clone()).filter(|c| !c.is_empty()),
        empty_layer: empty,
    });
    let (chain, size) = if empty {
        (base.chain_id.clone(), base.size)
    } else {
        image.rootfs.diff_ids.push(layer.stats.diff_id.clone());
        (
            Some(layer.chain.clone()),
            base.size + layer.stats.content_size,
        )
    };
    let made = store.create(&image, chain, size, Some(&base.id))?;
    drop(layer); // the image references it now
    Ok(made)
}

/// The new image's config: the client's (or the container's) with the changes applied, the
/// container's merged under it.
fn new_config(rec: &Record, opts: &CommitOptions) -> Result<RunConfig> {
    let mut container = run_config(&rec.spec);
    // Its own, which create merged with its image's.
    container.healthcheck = rec.spec.healthcheck.clone();
    let mut config = opts.config.clone().unwrap_or_else(|| container.clone());
    let keyword = |c: &str| {
        c.split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase()
    };
    for change in &opts.changes {
        crate::changes::apply(&mut config, change)?;
    }
    // A new ENTRYPOINT drops the command unless a CMD came with it, as in a Dockerfile.
    let kinds: Vec<String> = opts.changes.iter().map(|c| keyword(c)).collect();
    if kinds.iter().any(|k| k == "ENTRYPOINT") && !kinds.iter().any(|k| k == "CMD") {
        config.cmd = None;
    }
    merge(&mut config, &container);
    Ok(config)
}

/// A container's effective config in the image config's shape.
fn run_config(s: &Spec) -> RunConfig {
    let set = |keys: &Option<Vec<String>>| {
        keys.as_ref()
            .map(|k| k.iter().map(|k| (k.clone(), Empty {})).collect())
    };
    RunConfig {
        hostname: s.hostname.clone(),
        domainname: s.domainname.clone(),
        user: s.user.clone(),
        exposed_ports: set(&s.exposed_ports),
        env: Some(s.env.clone()),
        cmd: s.cmd.clone(),
        image: s.image.clone(),
        volumes: set(&s.volumes),
        working_dir: s.working_dir.clone(),
        entrypoint: s.entrypoint.clone(),
        on_build: s.on_build.clone(),
        labels: Some(s.labels.clone()),
        stop_signal: s.stop_signal.clone(),
        shell: s.shell.clone(),
        ..RunConfig::default()
    }
}

/// Docker's `merge` of a commit: what `user` leaves unset comes from `container`.
fn merge(user: &mut RunConfig, container: &RunConfig) {
    if user.user.is_empty() {
        user.user = container.user.clone();
    }
    merge_sets(&mut user.exposed_ports, &container.exposed_ports);
    merge_sets(&mut user.volumes, &container.volumes);
    let env = user.env.get_or_insert_with(Vec::new);
    for kv in container.env.iter().flatten() {
        let key = kv.split('=').next().unwrap_or(kv);
        if !env.iter().any(|e| e.split('=').next() == Some(key)) {
            set_env(env, kv);
        }
    }
    if env.is_empty() {
        user.env = container.env.clone();
    }
    let labels = user.labels.get_or_insert_with(BTreeMap::new);
    for (k, v) in container.labels.iter().flatten() {
        labels.entry(k.clone()).or_insert_with(|| v.clone());
    }
    if user.entrypoint.as_ref().is_none_or(Vec::is_empty) {
        if user.cmd.as_ref().is_none_or(Vec::is_empty) {
            user.cmd = container.cmd.clone();
            user.args_escaped = container.args_escaped;
        }
        if user.entrypoint.is_none() {
            user.entrypoint = container.entrypoint.clone();
        }
    }
    merge_health(user, container);
    if user.working_dir.is_empty() {
        user.working_dir = container.working_dir.clone();
    }
    if user.stop_signal.is_none() {
        user.stop_signal = container.stop_signal.clone();
    }
}

/// Keys of `from` added to `to`; an empty `to` takes `from` as it is.
fn merge_sets(to: &mut Option<BTreeMap<String, Empty>>, from: &Option<BTreeMap<String, Empty>>) {
    match (to.as_mut(), from) {
        (Some(t), Some(f)) if !t.is_empty() => {
            for k in f.keys() {
                t.entry(k.clone()).or_default();
            }
        }
        _ => *to = from.clone(),
    }
}

/// The container's healthcheck fills what the user's leaves unset.
fn merge_health(user: &mut RunConfig, container: &RunConfig) {
    user.healthcheck = berth_image::config::HealthConfig::merged(
        user.healthcheck.as_ref(),
        container.healthcheck.as_ref(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_fills_what_the_user_left_unset() {
        let container = RunConfig {
            user: "app".into(),
            env: Some(vec!["PATH=/bin".into(), "A=1".into()]),
            cmd: Some(vec!["sh".into()]),
            labels: Some(BTreeMap::from([("k".into(), "v".into())])),
            working_dir: "/srv".into(),
            ..RunConfig::default()
        };
        let mut user = RunConfig {
            env: Some(vec!["A=2".into()]),
            ..RunConfig::default()
        };
        merge(&mut user, &container);
        assert_eq!(user.env.unwrap(), ["A=2", "PATH=/bin"]);
        assert_eq!(user.cmd.unwrap(), ["sh"]);
        assert_eq!(
            (user.user.as_str(), user.working_dir.as_str()),
            ("app", "/srv")
        );
        assert_eq!(user.labels.unwrap()["k"], "v");
        // An entrypoint of the user's keeps the container's command out.
        let mut user = RunConfig {
            entrypoint: Some(vec!["run".into()]),
            ..RunConfig::default()
        };
        merge(&mut user, &container);
        assert!(user.cmd.is_none());
    }
}
