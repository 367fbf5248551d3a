//! Starting a service's containers once its dependencies reached their `depends_on`
//! condition (started, healthy, completed successfully), and `--wait`.

use std::time::{Duration, Instant};

use berth_api::container::Inspect;

use super::api::Api;
use super::error::{Error, project as err};
use super::observed::{self, OneOff};
use super::progress::Progress;
use crate::model::{Condition, Project, Service};

/// How often container states are read while waiting: Compose's own pace.
const POLL: Duration = Duration::from_millis(250);

/// Where a container is, for a condition.
enum Reached {
    Yes,
    NotYet,
    Failed(String),
}

fn health(i: &Inspect) -> Option<&str> {
    i.state.health.as_ref().and_then(|h| h["Status"].as_str())
}

fn check(i: &Inspect, name: &str, service: &str, c: Condition) -> Reached {
    let st = &i.state;
    match c {
        Condition::ServiceStarted => {
            if st.running || !st.started_at.starts_with("0001") && !st.started_at.is_empty() {
                Reached::Yes
            } else {
                Reached::NotYet
            }
        }
        Condition::ServiceHealthy => match health(i) {
            Some("healthy") => Reached::Yes,
            Some("unhealthy") => Reached::Failed(format!(
                "dependency failed to start: container {name} is unhealthy"
            )),
            None => Reached::Failed(format!("container {name} has no healthcheck configured")),
            Some(_) if !st.running && !st.restarting => Reached::Failed(format!(
                "dependency failed to start: container {name} exited ({})",
                st.exit_code
            )),
            Some(_) => Reached::NotYet,
        },
        Condition::ServiceCompletedSuccessfully => {
            if st.running || st.restarting || st.status == "created" {
                Reached::NotYet
            } else if st.exit_code == 0 {
                Reached::Yes
            } else {
                Reached::Failed(format!(
                    "service {service:?} didn't complete successfully: exit {}",
                    st.exit_code
                ))
            }
        }
    }
}

/// Waits until every container of `dep` reached `c`, or `deadline` passes.
async fn wait_for(
    api: &Api,
    project: &str,
    dep: &str,
    c: Condition,
    deadline: Option<Instant>,
    progress: Progress,
) -> Result<(), Error> {
    let containers =
        observed::containers(api, project, &[dep.to_string()], OneOff::Exclude).await?;
    for ctr in &containers {
        let name = observed::name(ctr);
        progress.event("Container", name, "Waiting");
        loop {
            let i = api.inspect(&ctr.id).await?;
            match check(&i, name, dep, c) {
                Reached::Yes => break,
                Reached::Failed(m) => {
                    progress.detail("Container", name, "Error", &m);
                    return Err(err(m));
                }
                Reached::NotYet => {}
            }
            if deadline.is_some_and(|d| Instant::now() > d) {
                return Err(err(format!(
                    "timeout waiting for {name} to be {}",
                    c.as_str()
                )));
            }
            tokio::time::sleep(POLL).await;
        }
        let done = match c {
            Condition::ServiceHealthy => "Healthy",
            Condition::ServiceCompletedSuccessfully => "Exited",
            Condition::ServiceStarted => "Started",
        };
        progress.event("Container", name, done);
    }
    Ok(())
}

/// Starts `s`'s containers after its dependencies in `selected` reached their conditions.
pub async fn start_service(
    api: &Api,
    p: &Project,
    s: &Service,
    selected: &[String],
    progress: Progress,
) -> Result<(), Error> {
    for (dep, d) in &s.depends_on {
        if selected.contains(dep) && d.condition != Condition::ServiceStarted {
            wait_for(api, &p.name, dep, d.condition, None, progress).await?;
        }
    }
    for c in
        observed::containers(api, &p.name, std::slice::from_ref(&s.name), OneOff::Exclude).await?
    {
        if c.state == "running" {
            continue;
        }
        let name = observed::name(&c);
        progress.event("Container", name, "Starting");
        if let Err(e) = api.start(&c.id).await {
            progress.detail("Container", name, "Error", &e.to_string());
            return Err(e.into());
        }
        progress.event("Container", name, "Started");
    }
    Ok(())
}

/// `--wait`: every container of `services` running, and healthy when it has a healthcheck
/// (the service's or its image's).
pub async fn wait_running_or_healthy(
    api: &Api,
    p: &Project,
    services: &[String],
    timeout: Option<Duration>,
    progress: Progress,
) -> Result<(), Error> {
    let deadline = timeout.map(|t| Instant::now() + t);
    let all = observed::containers(api, &p.name, services, OneOff::Exclude).await?;
    for c in &all {
        let name = observed::name(c);
        loop {
            let i = api.inspect(&c.id).await?;
            let reached = match (health(&i), i.state.running) {
                (Some(_), _) => check(&i, name, observed::service(c), Condition::ServiceHealthy),
                (None, true) => Reached::Yes,
                (None, false) if i.state.restarting => Reached::NotYet,
                (None, false) => {
                    Reached::Failed(format!("container {name} exited ({})", i.state.exit_code))
                }
            };
            match reached {
                Reached::Yes => break,
                Reached::Failed(m) => return Err(err(m)),
                Reached::NotYet => {}
            }
            if deadline.is_some_and(|d| Instant::now() > d) {
                return Err(err(format!(
                    "timeout waiting for {name} to be running or healthy"
                )));
            }
            tokio::time::sleep(POLL).await;
        }
        let done = if health(&api.inspect(&c.id).await?).is_some() {
            "Healthy"
        } else {
            "Running"
        };
        progress.event("Container", name, done);
    }
    Ok(())
}
