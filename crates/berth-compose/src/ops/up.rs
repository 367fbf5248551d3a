//! `up` and `create`: networks and volumes, images, then each service converged and started
//! in dependency order, waiting on `depends_on` conditions.

use std::time::Duration;

use indexmap::IndexMap;

use super::api::Api;
use super::converge::{self, ConvergeOptions, ProjectInfo};
use super::error::{Error, project as err};
use super::images::{self, ImageOptions};
use super::observed::{self, OneOff};
use super::progress::Progress;
use super::{graph, networks, parallel, start, volumes};
use crate::model::Project;

/// `up`'s options.
#[derive(Clone, Debug, Default)]
pub struct UpOptions {
    /// Services named on the command line (all when empty).
    pub services: Vec<String>,
    /// `--no-deps`.
    pub no_deps: bool,
    /// Image options.
    pub images: ImageOptions,
    /// Recreate options.
    pub converge: ConvergeOptions,
    /// `--scale SERVICE=N`.
    pub scale: IndexMap<String, u32>,
    /// `--no-start` (and `create`).
    pub no_start: bool,
    /// `--remove-orphans`.
    pub remove_orphans: bool,
    /// `--wait`.
    pub wait: bool,
    /// `--wait-timeout`.
    pub wait_timeout: Option<Duration>,
}

/// Each service's dependencies in the project.
pub fn dependencies(p: &Project) -> IndexMap<String, Vec<String>> {
    p.services
        .iter()
        .map(|(n, s)| (n.clone(), s.depends_on.keys().cloned().collect()))
        .collect()
}

/// The services a command acts on, in start order: `names` (all when empty) and, unless
/// `no_deps`, what they depend on.
pub fn selected(p: &Project, names: &[String], no_deps: bool) -> Result<Vec<String>, Error> {
    for n in names {
        if !p.services.contains_key(n) {
            return Err(err(format!("no such service: {n}")));
        }
    }
    let deps = dependencies(p);
    let want: Vec<String> = match (names.is_empty(), no_deps) {
        (true, _) => deps.keys().cloned().collect(),
        (false, true) => names.to_vec(),
        (false, false) => graph::with_dependencies(&deps, names),
    };
    let sub: IndexMap<String, Vec<String>> =
        deps.into_iter().filter(|(k, _)| want.contains(k)).collect();
    graph::start_order(&sub).map_err(err)
}

/// Containers of the project whose service it no longer has.
async fn orphans(api: &Api, p: &Project) -> Result<Vec<berth_api::container::Summary>, Error> {
    let all = observed::containers(api, &p.name, &[], OneOff::Exclude).await?;
    Ok(all
        .into_iter()
        .filter(|c| {
            let s = observed::service(c);
            !p.services.contains_key(s) && !p.disabled.contains_key(s)
        })
        .collect())
}

/// Runs `up`; the services it acted on, in start order.
pub async fn up(
    api: &Api,
    info: &ProjectInfo,
    o: &UpOptions,
    progress: Progress,
) -> Result<Vec<String>, Error> {
    let p = &info.project;
    let order = selected(p, &o.services, o.no_deps)?;
    for s in o.scale.keys() {
        if !p.services.contains_key(s) {
            return Err(err(format!("no such service: {s}")));
        }
    }
    let orphans = orphans(api, p).await?;
    if o.remove_orphans {
        for c in &orphans {
            converge::remove(api, c, o.converge.timeout, progress, false).await?;
        }
    } else if !orphans.is_empty() {
        let names: Vec<&str> = orphans.iter().map(observed::name).collect();
        eprintln!(
            "WARN[0000] Found orphan containers ([{}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.",
            names.join(" ")
        );
    }
    networks::ensure(api, p, &networks::used(p, &order), progress).await?;
    volumes::ensure(api, p, &volumes::used(p, &order), progress).await?;
    let mut image_ids = IndexMap::new();
    for name in &order {
        let s = &p.services[name];
        image_ids.insert(
            name.clone(),
            images::ensure(api, p, s, &o.images, progress).await?,
        );
    }
    for name in &order {
        let s = &p.services[name];
        let mut co = o.converge.clone();
        co.scale = o.scale.get(name).copied();
        let image = s.image_name(&p.name);
        converge::converge(api, info, s, (&image, &image_ids[name]), &co, progress).await?;
    }
    if o.no_start {
        return Ok(order);
    }
    let sub: IndexMap<String, Vec<String>> = dependencies(p)
        .into_iter()
        .filter(|(k, _)| order.contains(k))
        .collect();
    for level in graph::levels(&sub).map_err(err)? {
        let services: Vec<&crate::model::Service> = level.iter().map(|n| &p.services[n]).collect();
        parallel::each(api.parallel(), services, |s| {
            start::start_service(api, p, s, &order, progress)
        })
        .await?;
    }
    if o.wait {
        start::wait_running_or_healthy(api, p, &order, o.wait_timeout, progress).await?;
    }
    Ok(order)
}
