//! Bringing one service's containers to what the project says: scale down, recreate what
//! changed, create what is missing. Nothing is started here ([`super::start`] does that).
//!
//! A container is recreated when its service's config hash ([`Service::config_hash`], the
//! label `config --hash` prints), its image's ID, or the container whose network it shares
//! changed.

use berth_api::container::Summary;

use super::api::Api;
use super::convert::{self, Target};
use super::error::{Error, project as err};
use super::labels;
use super::observed::{self, OneOff};
use super::progress::Progress;
use super::update::{self, Policy, Spec, Step};
use crate::model::{Project, Service};

/// What `up`/`create` may do to existing containers.
#[derive(Clone, Debug, Default)]
pub struct ConvergeOptions {
    /// `--force-recreate`.
    pub force_recreate: bool,
    /// `--no-recreate`.
    pub no_recreate: bool,
    /// `-V`: recreate anonymous volumes instead of keeping the old container's.
    pub renew_anon_volumes: bool,
    /// `-t`: seconds to wait before killing a container being replaced.
    pub timeout: Option<u64>,
    /// `--scale` for this service.
    pub scale: Option<u32>,
}

/// The project's context a container needs (labels, paths).
#[derive(Clone, Debug, Default)]
pub struct ProjectInfo {
    /// The project.
    pub project: Project,
    /// Its directory.
    pub working_dir: String,
    /// Its files, comma-separated.
    pub config_files: String,
    /// `--env-file`s, comma-separated.
    pub env_files: String,
}

/// How many containers a service wants.
pub fn scale_of(s: &Service, o: &ConvergeOptions) -> u32 {
    o.scale
        .or(s.scale)
        .or_else(|| s.deploy.as_ref().and_then(|d| d.replicas))
        .unwrap_or(1)
}

/// The target of replica `number`, with the namespaces and links it shares resolved
/// against the containers that exist now.
pub async fn target(
    api: &Api,
    info: &ProjectInfo,
    s: &Service,
    number: u32,
    image: (&str, &str),
) -> Result<Target, Error> {
    let p = &info.project;
    let mut t = Target {
        number,
        image: image.0.to_string(),
        image_id: image.1.to_string(),
        working_dir: info.working_dir.clone(),
        config_files: info.config_files.clone(),
        env_files: info.env_files.clone(),
        use_aliases: true,
        ..Target::default()
    };
    for (key, mode) in [
        ("network", &s.network_mode),
        ("ipc", &s.ipc),
        ("pid", &s.pid),
    ] {
        if let Some(dep) = mode.as_deref().and_then(|m| m.strip_prefix("service:")) {
            let c = first_container(api, &p.name, dep).await?.ok_or_else(|| {
                err(format!(
                    "service {dep:?} has no container to share its {key} namespace with {:?}",
                    s.name
                ))
            })?;
            t.shared.insert(key.into(), format!("container:{}", c.id));
        }
    }
    for l in &s.links {
        let (svc, alias) = l.split_once(':').unwrap_or((l, l));
        for c in observed::containers(api, &p.name, &[svc.to_string()], OneOff::Exclude).await? {
            t.links.push(format!("{}:{alias}", observed::name(&c)));
        }
    }
    for l in &s.external_links {
        let (c, alias) = l.split_once(':').unwrap_or((l, l));
        t.links.push(format!("{c}:{alias}"));
    }
    t.hash = s.config_hash();
    Ok(t)
}

async fn first_container(api: &Api, project: &str, svc: &str) -> Result<Option<Summary>, Error> {
    Ok(
        observed::containers(api, project, &[svc.to_string()], OneOff::Exclude)
            .await?
            .into_iter()
            .next(),
    )
}

/// How replica `t` of `s` is made, for a rolling update.
fn spec_for(p: &Project, s: &Service, t: &Target) -> Result<Spec, Error> {
    let networks = if s.network_mode.is_some() {
        Vec::new()
    } else {
        convert::networks_by_priority(s)
            .into_iter()
            .map(|(k, cfg)| (convert::network_name(p, k), convert::endpoint(s, cfg, t)))
            .collect()
    };
    Ok(Spec {
        request: convert::create_request(p, s, t)?,
        networks,
    })
}

/// The container name of replica `number`.
pub fn container_name(p: &Project, s: &Service, number: u32) -> String {
    s.container_name
        .clone()
        .unwrap_or_else(|| format!("{}-{}-{number}", p.name, s.name))
}

/// Converges `s`; the names of its containers afterwards.
pub async fn converge(
    api: &Api,
    info: &ProjectInfo,
    s: &Service,
    image: (&str, &str),
    o: &ConvergeOptions,
    progress: Progress,
) -> Result<Vec<String>, Error> {
    let p = &info.project;
    let want = scale_of(s, o);
    if want > 1 && s.container_name.is_some() {
        return Err(err(format!(
            "WARNING: The {:?} service is using the custom container name {:?}. Docker requires each container to have a unique name. Remove the custom name to scale the service",
            s.name,
            s.container_name.as_deref().unwrap_or_default()
        )));
    }
    let existing =
        observed::containers(api, &p.name, std::slice::from_ref(&s.name), OneOff::Exclude).await?;
    let mut names = Vec::new();
    let mut numbers: Vec<u32> = Vec::new();
    let policy = s
        .deploy
        .as_ref()
        .and_then(|d| d.update_config.as_ref())
        .map(|u| Policy::of(&s.name, u))
        .transpose()?;
    if policy.is_some() && super::secrets::has_written(p, s)? {
        return Err(err(format!(
            "services.{}: deploy.update_config with secrets or configs from environment or content is not supported by berth compose yet",
            s.name
        )));
    }
    let mut steps: Vec<Step> = Vec::new();
    for c in &existing {
        let n = observed::number(c);
        let name = observed::name(c).to_string();
        if n == 0 || n > want || numbers.contains(&n) {
            remove(api, c, o.timeout, progress, false).await?;
            continue;
        }
        numbers.push(n);
        let mut t = target(api, info, s, n, image).await?;
        let shared_moved = t
            .shared
            .get("network")
            .is_some_and(|m| c.host_config.get("NetworkMode") != Some(m));
        let changed = c.labels.get(labels::CONFIG_HASH) != Some(&t.hash)
            || c.labels
                .get(labels::IMAGE)
                .is_some_and(|i| *i != t.image_id)
            || shared_moved;
        if !o.no_recreate && (o.force_recreate || changed) {
            if !o.renew_anon_volumes {
                t.inherited = anonymous_volumes(c);
            }
            if policy.is_some() {
                let spec = spec_for(p, s, &t)?;
                steps.push(Step {
                    old: c.clone(),
                    name: name.clone(),
                    spec,
                });
                names.push(name);
                continue;
            }
            progress.event("Container", &name, "Recreate");
            let quiet = Progress::new(super::progress::Mode::Quiet, false);
            remove(api, c, o.timeout, quiet, o.renew_anon_volumes).await?;
            let new = create(api, info, s, &t).await?;
            progress.event("Container", &new, "Recreated");
            names.push(new);
        } else {
            progress.event("Container", &name, "Running");
            names.push(name);
        }
    }
    if let Some(policy) = &policy
        && !steps.is_empty()
    {
        update::rolling(api, steps, policy, progress).await?;
    }
    for n in (1..=want).filter(|n| !numbers.contains(n)) {
        let t = target(api, info, s, n, image).await?;
        let name = container_name(p, s, n);
        progress.event("Container", &name, "Creating");
        create(api, info, s, &t).await?;
        progress.event("Container", &name, "Created");
        names.push(name);
    }
    Ok(names)
}

/// Creates replica `t.number` and connects it to the service's other networks; its name.
pub async fn create(
    api: &Api,
    info: &ProjectInfo,
    s: &Service,
    t: &Target,
) -> Result<String, Error> {
    let name = container_name(&info.project, s, t.number);
    let req = convert::create_request(&info.project, s, t)?;
    create_named(api, info, s, t, &name, &req).await?;
    Ok(name)
}

/// Creates container `name` from `req` and connects it to `s`'s other networks; its ID.
pub async fn create_named(
    api: &Api,
    info: &ProjectInfo,
    s: &Service,
    t: &Target,
    name: &str,
    req: &berth_api::container::CreateRequest,
) -> Result<String, Error> {
    let p = &info.project;
    let id = api.create(name, req).await?;
    super::secrets::write(api, p, s, &id).await?;
    if s.network_mode.is_none() {
        for (key, cfg) in convert::networks_by_priority(s).into_iter().skip(1) {
            let ep = convert::endpoint(s, cfg, t);
            let ep = serde_json::to_value(&ep).map_err(|e| err(e.to_string()))?;
            api.connect(&convert::network_name(p, key), &id, &ep)
                .await?;
        }
    }
    Ok(id)
}

/// A container's anonymous volumes (named by the engine with 64 hex digits), by target.
fn anonymous_volumes(c: &Summary) -> std::collections::BTreeMap<String, String> {
    c.mounts
        .iter()
        .filter(|m| {
            m.r#type == "volume"
                && m.name.len() == 64
                && m.name.bytes().all(|b| b.is_ascii_hexdigit())
        })
        .map(|m| (m.destination.clone(), m.name.clone()))
        .collect()
}

/// Stops and removes a container (with its anonymous volumes with `volumes`), reporting it.
pub async fn remove(
    api: &Api,
    c: &Summary,
    timeout: Option<u64>,
    progress: Progress,
    volumes: bool,
) -> Result<(), Error> {
    let name = observed::name(c);
    if c.state == "running" || c.state == "restarting" || c.state == "paused" {
        let stop = api.stop(&c.id, timeout);
        progress
            .step("Container", name, ("Stopping", "Stopped"), stop)
            .await?;
    }
    let rm = api.remove(&c.id, true, volumes);
    progress
        .step("Container", name, ("Removing", "Removed"), rm)
        .await?;
    Ok(())
}
