//! `run`: a one-off container of a service (`<project>-<service>-run-<slug>`), after its
//! dependencies are up, with the command line's overrides. Ports are published only with
//! `--service-ports` or `-p`, as in Compose.

use sha2::{Digest, Sha256};

use super::api::Api;
use super::converge::{self, ProjectInfo};
use super::convert;
use super::error::{Error, project as err};
use super::images::{self, ImageOptions};
use super::labels;
use super::progress::Progress;
use super::up::{self, UpOptions};
use super::{networks, volumes};
use crate::model::{Mount, Port, Service};

/// `run`'s overrides.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// The service.
    pub service: String,
    /// The command, when given.
    pub command: Option<Vec<String>>,
    /// `--entrypoint`.
    pub entrypoint: Option<Vec<String>>,
    /// `-e`: `None` takes the value from berth's environment.
    pub env: Vec<(String, Option<String>)>,
    /// `-l`.
    pub labels: Vec<(String, String)>,
    /// `--name`.
    pub name: Option<String>,
    /// `-u`.
    pub user: Option<String>,
    /// `-w`.
    pub workdir: Option<String>,
    /// `-p`.
    pub publish: Vec<Port>,
    /// `--service-ports`.
    pub service_ports: bool,
    /// `-v`.
    pub volumes: Vec<Mount>,
    /// `--use-aliases`.
    pub use_aliases: bool,
    /// `--no-deps`.
    pub no_deps: bool,
    /// `--rm`.
    pub rm: bool,
    /// A terminal.
    pub tty: bool,
    /// Keep stdin open.
    pub interactive: bool,
    /// Images.
    pub images: ImageOptions,
}

/// A random-enough slug for a one-off container's name.
fn slug() -> String {
    let seed = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
    hex::encode(Sha256::digest(seed.as_bytes()))[..12].to_string()
}

fn overridden(s: &Service, o: &RunOptions) -> Service {
    let mut s = s.clone();
    if o.command.is_some() {
        s.command = o.command.clone();
    }
    if o.entrypoint.is_some() {
        s.entrypoint = o.entrypoint.clone();
    }
    for (k, v) in &o.env {
        let v = v.clone().or_else(|| std::env::var(k).ok());
        s.environment.insert(k.clone(), v);
    }
    s.labels.extend(o.labels.iter().cloned());
    if o.user.is_some() {
        s.user = o.user.clone();
    }
    if o.workdir.is_some() {
        s.working_dir = o.workdir.clone();
    }
    if !o.service_ports {
        s.ports.clear();
    }
    s.ports.extend(o.publish.iter().cloned());
    s.volumes.extend(o.volumes.iter().cloned());
    s.tty = o.tty;
    s.stdin_open = o.interactive;
    s.restart = None;
    s.container_name = None;
    s
}

/// Creates the one-off container (not started); its name.
pub async fn create(
    api: &Api,
    info: &ProjectInfo,
    o: &RunOptions,
    progress: Progress,
) -> Result<String, Error> {
    let p = &info.project;
    let base = p
        .services
        .get(&o.service)
        .ok_or_else(|| err(format!("no such service: {}", o.service)))?;
    if !o.no_deps {
        let deps: Vec<String> = up::selected(p, std::slice::from_ref(&o.service), false)?
            .into_iter()
            .filter(|d| *d != o.service)
            .collect();
        if !deps.is_empty() {
            let uo = UpOptions {
                services: deps,
                images: o.images.clone(),
                ..UpOptions::default()
            };
            up::up(api, info, &uo, progress).await?;
        }
    }
    let s = overridden(base, o);
    let one = [s.name.clone()];
    networks::ensure(api, p, &networks::used(p, &one), progress).await?;
    volumes::ensure(api, p, &volumes::used(p, &one), progress).await?;
    let image_id = images::ensure(api, p, &s, &o.images, progress).await?;
    let image = s.image_name(&p.name);
    let mut t = converge::target(api, info, &s, 0, (&image, &image_id)).await?;
    t.use_aliases = o.use_aliases;
    let slug = slug();
    let name = o
        .name
        .clone()
        .unwrap_or_else(|| format!("{}-{}-run-{slug}", p.name, s.name));
    let mut req = convert::create_request(p, &s, &t)?;
    req.host_config.auto_remove = o.rm;
    if let Some(l) = req.config.labels.as_mut() {
        l.insert(labels::SLUG.into(), slug);
    }
    req.config.attach_stdin = o.interactive;
    req.config.stdin_once = o.interactive;
    converge::create_named(api, info, &s, &t, &name, &req).await?;
    Ok(name)
}
