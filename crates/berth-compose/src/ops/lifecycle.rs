//! `start`, `stop`, `restart`, `kill`, `pause`, `unpause` and `rm` of a project's existing
//! containers: in dependency order (reverse for stopping), as Compose v2 reports them.

use berth_api::container::Summary;
use berth_client::ClientError;

use super::api::Api;
use super::graph;
use super::observed::{self, OneOff};
use super::parallel;
use super::progress::Progress;

/// What to do to each container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Start stopped containers.
    Start,
    /// Stop with a timeout (seconds; the container's own when `None`).
    Stop(Option<u64>),
    /// Restart with a timeout.
    Restart(Option<u64>),
    /// Send a signal to running containers.
    Kill(String),
    /// Freeze.
    Pause,
    /// Thaw.
    Unpause,
    /// Remove stopped containers (running ones too when stopping first); anonymous volumes
    /// with `volumes`.
    Remove {
        /// Stop running containers first.
        stop: bool,
        /// Remove anonymous volumes.
        volumes: bool,
    },
}

impl Action {
    fn words(&self) -> (&'static str, &'static str) {
        match self {
            Action::Start => ("Starting", "Started"),
            Action::Stop(_) => ("Stopping", "Stopped"),
            Action::Restart(_) => ("Restarting", "Started"),
            Action::Kill(_) => ("Killing", "Killed"),
            Action::Pause => ("Pausing", "Paused"),
            Action::Unpause => ("Unpausing", "Unpaused"),
            Action::Remove { .. } => ("Removing", "Removed"),
        }
    }

    /// Whether `c` is one this action applies to.
    fn applies(&self, c: &Summary) -> bool {
        let running = c.state == "running" || c.state == "restarting";
        match self {
            Action::Start => c.state != "running" && c.state != "paused",
            Action::Stop(_) | Action::Kill(_) | Action::Pause => running,
            Action::Restart(_) => true,
            Action::Unpause => c.state == "paused",
            Action::Remove { stop, .. } => *stop || !running,
        }
    }

    /// Stopping-like actions go dependants first.
    fn reverse(&self) -> bool {
        !matches!(self, Action::Start | Action::Restart(_) | Action::Unpause)
    }
}

/// Applies `action` to the containers of `services` (all when empty) of `project`; the names
/// of the containers it acted on.
pub async fn apply(
    api: &Api,
    project: &str,
    services: &[String],
    oneoff: OneOff,
    action: &Action,
    progress: Progress,
) -> Result<Vec<String>, ClientError> {
    let all = observed::containers(api, project, services, oneoff).await?;
    let mut levels = graph::levels(&observed::dependencies(&all)).unwrap_or_default();
    if action.reverse() {
        levels.reverse();
    }
    let (doing, done) = action.words();
    let mut names = Vec::new();
    for level in &levels {
        let now: Vec<&Summary> = all
            .iter()
            .filter(|c| level.iter().any(|s| s == observed::service(c)) && action.applies(c))
            .collect();
        let acted = parallel::each(api.parallel(), now, |c| async move {
            let name = observed::name(c).to_string();
            progress.event("Container", &name, doing);
            one(api, c, action).await?;
            progress.event("Container", &name, done);
            Ok::<_, ClientError>(name)
        })
        .await?;
        names.extend(acted);
    }
    Ok(names)
}

async fn one(api: &Api, c: &Summary, action: &Action) -> Result<(), ClientError> {
    match action {
        Action::Start => api.start(&c.id).await,
        Action::Stop(t) => api.stop(&c.id, *t).await,
        Action::Restart(t) => api.restart(&c.id, *t).await,
        Action::Kill(sig) => api.kill(&c.id, sig).await,
        Action::Pause => api.pause(&c.id, true).await,
        Action::Unpause => api.pause(&c.id, false).await,
        Action::Remove { stop, volumes } => {
            if *stop && c.state == "running" {
                api.stop(&c.id, None).await?;
            }
            api.remove(&c.id, true, *volumes).await
        }
    }
}
