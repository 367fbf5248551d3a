//! `deploy.update_config` on one host, which Compose leaves to Swarm: a service's changed
//! containers are replaced in batches, `start-first` or `stop-first`, each replacement watched
//! (healthy, then `monitor` long) before the next batch; a failure rolls back, pauses or goes on.
//!
//! With `start-first` a replacement runs beside the container it replaces, off the service's
//! DNS name until it is ready; it then takes the name (its endpoints reconnected with the
//! service's aliases) and only then is the old container stopped, which the engine takes out of
//! DNS before its stop signal: a client asking for the service by name always finds a
//! container that serves.
//!
//! Every replacement carries what it replaced (`berth.compose.previous`: the create request
//! and endpoints, one level deep), which `rollback` and a failed update go back to.

use std::time::{Duration, Instant};

use berth_api::container::{CreateRequest, EndpointSettings, Inspect, NetworkingConfig, Summary};
use serde::{Deserialize, Serialize};

use super::api::Api;
use super::error::{Error, project as err};
use super::observed;
use super::progress::Progress;
use crate::model::UpdateConfig;

/// The label holding a container's predecessor.
pub const PREVIOUS: &str = "berth.compose.previous";

/// How a container is made: its create request (first network, no aliases) and every
/// endpoint it has once it is ready.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Spec {
    /// The body of `POST /containers/create`.
    pub request: CreateRequest,
    /// Network name → the endpoint with the service's aliases.
    pub networks: Vec<(String, EndpointSettings)>,
}

/// What to do when a replacement fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnFailure {
    /// Put back what was replaced so far, then fail.
    Rollback,
    /// Stop where it is and fail.
    Pause,
    /// Go on with the next replicas.
    Continue,
}

/// An `update_config` (or `rollback_config`), checked.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// `order: start-first`.
    pub start_first: bool,
    /// Replicas per batch (0: all).
    pub parallelism: usize,
    /// Between batches.
    pub delay: Duration,
    /// How long a replacement must stay up.
    pub monitor: Duration,
    /// `failure_action`.
    pub on_failure: OnFailure,
}

impl Policy {
    /// `c` with Swarm's defaults (parallelism 1, no delay, monitor 5s, stop-first, pause).
    pub fn of(service: &str, c: &UpdateConfig) -> Result<Policy, Error> {
        let bad = |k: &str, v: &str| {
            err(format!(
                "services.{service}.deploy.update_config.{k}: invalid value {v:?}"
            ))
        };
        let start_first = match c.order.as_deref() {
            None | Some("stop-first") => false,
            Some("start-first") => true,
            Some(o) => return Err(bad("order", o)),
        };
        let on_failure = match c.failure_action.as_deref() {
            None | Some("pause") => OnFailure::Pause,
            Some("rollback") => OnFailure::Rollback,
            Some("continue") => OnFailure::Continue,
            Some(o) => return Err(bad("failure_action", o)),
        };
        if c.max_failure_ratio.is_some_and(|r| r != 0.0) {
            return Err(err(format!(
                "services.{service}.deploy.update_config.max_failure_ratio is not supported by berth compose"
            )));
        }
        Ok(Policy {
            start_first,
            parallelism: c.parallelism.unwrap_or(1) as usize,
            delay: c.delay.map_or(Duration::ZERO, |d| d.0),
            monitor: c.monitor.map_or(Duration::from_secs(5), |d| d.0),
            on_failure,
        })
    }
}

/// `spec` as a create request without aliases on its first network.
fn bare(spec: &Spec) -> CreateRequest {
    let mut req = spec.request.clone();
    if let Some(nc) = req.networking_config.as_mut() {
        for ep in nc.endpoints_config.values_mut().flatten() {
            ep.aliases = None;
        }
    }
    req
}

/// How `old` was made, from its inspect (the predecessor label left out).
pub fn spec_of(i: &Inspect) -> Spec {
    let mut config = i.config.clone();
    if let Some(l) = config.labels.as_mut() {
        l.remove(PREVIOUS);
    }
    let short = &i.id[..12.min(i.id.len())];
    let mut networks = Vec::new();
    if let Some(nets) = i.network_settings["Networks"].as_object() {
        for (name, ep) in nets {
            let mut e: EndpointSettings = serde_json::from_value(ep.clone()).unwrap_or_default();
            e.rest.clear();
            if let Some(a) = e.aliases.as_mut() {
                a.retain(|a| a != short);
            }
            networks.push((name.clone(), e));
        }
    }
    let primary = i.host_config.network_mode.clone();
    networks.sort_by_key(|(n, _)| *n != primary);
    let networking_config = networks
        .first()
        .filter(|(n, _)| *n == primary)
        .map(|(n, e)| NetworkingConfig {
            endpoints_config: [(n.clone(), Some(e.clone()))].into(),
        });
    Spec {
        request: CreateRequest {
            config,
            host_config: i.host_config.clone(),
            networking_config,
        },
        networks,
    }
}

/// `spec`'s request (without aliases unless `aliases`) with `previous` recorded on it.
fn with_previous(spec: &Spec, previous: &Spec, aliases: bool) -> Result<CreateRequest, Error> {
    let mut req = if aliases {
        spec.request.clone()
    } else {
        bare(spec)
    };
    let json = serde_json::to_string(previous).map_err(|e| err(e.to_string()))?;
    req.config
        .labels
        .get_or_insert_with(Default::default)
        .insert(PREVIOUS.into(), json);
    Ok(req)
}

/// Waits until container `id` is ready (healthy when it has a healthcheck, else running) and
/// stays so for `monitor`; the reason when it does not.
async fn ready(api: &Api, id: &str, name: &str, monitor: Duration) -> Result<(), String> {
    const POLL: Duration = Duration::from_millis(100);
    let check = |i: &Inspect| -> Result<bool, String> {
        let health = i
            .state
            .health
            .as_ref()
            .and_then(|h| h["Status"].as_str().map(str::to_string));
        match (i.state.running, health.as_deref()) {
            (false, _) => Err(format!("container {name} exited ({})", i.state.exit_code)),
            (true, Some("unhealthy")) => Err(format!("container {name} is unhealthy")),
            (true, Some("healthy") | None) => Ok(true),
            (true, Some(_)) => Ok(false),
        }
    };
    loop {
        let i = api.inspect(id).await.map_err(|e| e.to_string())?;
        if check(&i)? {
            break;
        }
        tokio::time::sleep(POLL).await;
    }
    let until = Instant::now() + monitor;
    while Instant::now() < until {
        tokio::time::sleep(POLL.min(until - Instant::now())).await;
        check(&api.inspect(id).await.map_err(|e| e.to_string())?)?;
    }
    Ok(())
}

/// Gives a ready replacement the service's names: each endpoint reconnected with its aliases.
async fn join(api: &Api, id: &str, spec: &Spec) -> Result<(), Error> {
    for (net, ep) in &spec.networks {
        api.disconnect(net, id).await?;
        let mut ep = ep.clone();
        ep.ipam_config = None;
        let ep = serde_json::to_value(&ep).map_err(|e| err(e.to_string()))?;
        api.connect(net, id, &ep).await?;
    }
    Ok(())
}

/// Replaces container `old` (named `name`) by one made from `spec`; the replacement records
/// `old` as its predecessor.
pub async fn replace(
    api: &Api,
    old: &Summary,
    name: &str,
    spec: &Spec,
    policy: &Policy,
    progress: Progress,
) -> Result<(), Error> {
    let previous = spec_of(&api.inspect(&old.id).await?);
    if policy.start_first {
        let req = with_previous(spec, &previous, false)?;
        let temp = format!("{name}-{}", &old.id[..8.min(old.id.len())]);
        progress.event("Container", name, "Recreate");
        let id = create_with(api, &temp, &req, spec, false).await?;
        api.start(&id).await?;
        progress.event("Container", &temp, "Started");
        if let Err(why) = ready(api, &id, &temp, policy.monitor).await {
            progress.detail("Container", &temp, "Error", &why);
            let _ = api.remove(&id, true, false).await;
            return Err(err(why));
        }
        join(api, &id, spec).await?;
        progress.event("Container", name, "Stopping");
        api.stop(&old.id, None).await?;
        api.remove(&old.id, true, false).await?;
        api.rename(&id, name).await?;
        progress.event("Container", name, "Recreated");
        return Ok(());
    }
    progress.event("Container", name, "Recreate");
    api.stop(&old.id, None).await?;
    api.remove(&old.id, true, false).await?;
    let id = create_with(
        api,
        name,
        &with_previous(spec, &previous, true)?,
        spec,
        true,
    )
    .await?;
    api.start(&id).await?;
    if let Err(why) = ready(api, &id, name, policy.monitor).await {
        progress.detail("Container", name, "Error", &why);
        // The predecessor comes back in its place.
        let _ = api.remove(&id, true, false).await;
        let back = create_with(api, name, &previous.request, &previous, true).await?;
        api.start(&back).await?;
        return Err(err(why));
    }
    progress.event("Container", name, "Recreated");
    Ok(())
}

/// Creates `name` from `req` and connects it to `spec`'s other networks (with the service's
/// aliases when `aliases`).
async fn create_with(
    api: &Api,
    name: &str,
    req: &CreateRequest,
    spec: &Spec,
    aliases: bool,
) -> Result<String, Error> {
    let id = api.create(name, req).await?;
    let first: Vec<String> = req
        .networking_config
        .iter()
        .flat_map(|n| n.endpoints_config.keys().cloned())
        .collect();
    for (net, ep) in spec.networks.iter().filter(|(n, _)| !first.contains(n)) {
        let mut ep = ep.clone();
        if !aliases {
            ep.aliases = None;
        }
        let ep = serde_json::to_value(&ep).map_err(|e| err(e.to_string()))?;
        api.connect(net, &id, &ep).await?;
    }
    Ok(id)
}

/// One replica to replace: the container, its name, what replaces it.
pub struct Step {
    /// The running container.
    pub old: Summary,
    /// Its name (the replacement's).
    pub name: String,
    /// The replacement.
    pub spec: Spec,
}

/// Replaces `steps` by `policy`, batch by batch; on a failure, does what the policy says.
pub async fn rolling(
    api: &Api,
    steps: Vec<Step>,
    policy: &Policy,
    progress: Progress,
) -> Result<(), Error> {
    let size = if policy.parallelism == 0 {
        steps.len().max(1)
    } else {
        policy.parallelism
    };
    let mut done: Vec<String> = Vec::new();
    let mut failures = Vec::new();
    for (n, batch) in steps.chunks(size).enumerate() {
        if n > 0 && !policy.delay.is_zero() {
            tokio::time::sleep(policy.delay).await;
        }
        for step in batch {
            match replace(api, &step.old, &step.name, &step.spec, policy, progress).await {
                Ok(()) => done.push(step.name.clone()),
                Err(e) => match policy.on_failure {
                    OnFailure::Continue => failures.push(e.to_string()),
                    OnFailure::Pause => return Err(err(format!("update paused: {e}"))),
                    OnFailure::Rollback => {
                        roll_back(api, &done, policy, progress).await?;
                        return Err(err(format!("update failed, rolled back: {e}")));
                    }
                },
            }
        }
    }
    match failures.is_empty() {
        true => Ok(()),
        false => Err(err(format!(
            "update finished with failures: {}",
            failures.join("; ")
        ))),
    }
}

/// Puts back the predecessors of containers `names`.
async fn roll_back(
    api: &Api,
    names: &[String],
    policy: &Policy,
    progress: Progress,
) -> Result<(), Error> {
    for name in names.iter().rev() {
        let i = api.inspect(name).await?;
        let Some(prev) = i.config.labels.as_ref().and_then(|l| l.get(PREVIOUS)) else {
            continue;
        };
        let spec: Spec =
            serde_json::from_str(prev).map_err(|e| err(format!("{name}: {PREVIOUS}: {e}")))?;
        let old = summary_of(&i);
        replace(api, &old, name, &spec, policy, progress).await?;
    }
    Ok(())
}

/// The fields of a list entry [`replace`] needs, from an inspect.
pub fn summary_of(i: &Inspect) -> Summary {
    Summary {
        id: i.id.clone(),
        names: vec![i.name.clone()],
        image: i.config.image.clone(),
        image_id: i.image.clone(),
        command: String::new(),
        created: 0,
        ports: Vec::new(),
        labels: i.config.labels.clone().unwrap_or_default(),
        state: i.state.status.clone(),
        status: String::new(),
        host_config: Default::default(),
        network_settings: serde_json::Value::Null,
        mounts: Vec::new(),
        size_rw: None,
        size_root_fs: None,
    }
}

/// `rollback`: every container of `containers` that has a predecessor gets it back.
pub async fn rollback(
    api: &Api,
    containers: &[Summary],
    policy: &Policy,
    progress: Progress,
) -> Result<usize, Error> {
    let mut n = 0;
    for c in containers {
        let Some(prev) = c.labels.get(PREVIOUS) else {
            continue;
        };
        let spec: Spec = serde_json::from_str(prev)
            .map_err(|e| err(format!("{}: {PREVIOUS}: {e}", observed::name(c))))?;
        replace(api, c, observed::name(c), &spec, policy, progress).await?;
        n += 1;
    }
    Ok(n)
}
