//! `/containers/...`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{Response, StatusCode};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use berth_api::container::{CreateRequest, CreateResponse, Inspect, Summary, WaitResponse};
use berth_api::image::GraphDriver;
use berth_runtime::logfile::Stream;
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;

use super::query::{Query, check_filters, labels_match};
use super::stream;
use crate::containers::{From, Record, Status, Until, WaitCondition, follow_log, log_end};
use crate::{Daemon, Error};

pub fn routes() -> Router<Arc<Daemon>> {
    Router::new()
        .route("/containers/create", post(create))
        .route("/containers/json", get(list))
        .route("/containers/prune", post(prune))
        .route("/containers/{id}/json", get(inspect))
        .route("/containers/{id}/start", post(start))
        .route("/containers/{id}/stop", post(stop))
        .route("/containers/{id}/restart", post(restart))
        .route("/containers/{id}/kill", post(kill))
        .route("/containers/{id}/pause", post(pause))
        .route("/containers/{id}/unpause", post(unpause))
        .route("/containers/{id}/rename", post(rename))
        .route("/containers/{id}/wait", post(wait))
        .route("/containers/{id}/logs", get(logs))
        .route("/containers/{id}/attach", post(attach))
        .route("/containers/{id}/resize", post(resize))
        .route("/containers/{id}", delete(remove))
}

async fn create(
    State(d): State<Arc<Daemon>>,
    q: Query,
    body: Bytes,
) -> Result<(StatusCode, Json<CreateResponse>), Error> {
    let req: CreateRequest = berth_api::fields::decode_create(&body)
        .map_err(|e| Error::invalid(format!("invalid JSON body: {e}")))?;
    let (mut spec, mut warnings) = crate::wire::create::spec(req, &d.config)?;
    spec.platform = platform(&q)?;
    crate::userns::check(&spec, &d.config.security)?;
    super::container_net::resolve(&d, &mut spec)?;
    crate::containers::namespaces::resolve_donors(&d.containers, &mut spec.namespaces);
    warnings.extend(super::container_net::warnings(&spec));
    warnings.extend(crate::wire::create::security_warnings(&spec));
    let name = q.get("name").filter(|n| !n.is_empty()).map(str::to_string);
    let (id, more) = crate::blocking::run("creating a container", move || {
        d.containers.create(name.as_deref(), spec)
    })
    .await?;
    warnings.extend(more);
    Ok((StatusCode::CREATED, Json(CreateResponse { id, warnings })))
}

/// The `platform` query parameter (`os[/arch[/variant]]`; empty: none).
pub fn platform(q: &Query) -> Result<Option<berth_image::Platform>, Error> {
    q.get("platform")
        .filter(|p| !p.is_empty())
        .map(|p| berth_image::Platform::parse(p).map_err(|e| Error::invalid(e.to_string())))
        .transpose()
}

/// The `Command` of `ps`: the path and arguments, those with a space in single quotes, as
/// Docker writes it.
fn command(r: &Record) -> String {
    std::iter::once(r.path.clone())
        .chain(r.args.iter().map(|a| {
            if a.contains(' ') {
                format!("'{a}'")
            } else {
                a.clone()
            }
        }))
        .collect::<Vec<_>>()
        .join(" ")
}

fn ago(t: &str) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(t) else {
        return "a while".into();
    };
    berth_api::human_duration((chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_seconds())
}

/// Docker's `Status` of `ps`: `Up 5 seconds (healthy)` for a container with a healthcheck.
fn status_text(d: &Daemon, r: &Record) -> String {
    let text = base_status_text(r);
    match d.containers.health(r) {
        Some(h) if r.state.status == Status::Running && !r.state.paused => match h.status {
            berth_runtime::health::Status::Starting => format!("{text} (health: starting)"),
            s => format!("{text} ({})", s.as_str()),
        },
        _ => text,
    }
}

fn base_status_text(r: &Record) -> String {
    match r.state.status {
        Status::Created => "Created".into(),
        Status::Running if r.state.paused => format!("Up {} (Paused)", ago(&r.state.started_at)),
        Status::Running => format!("Up {}", ago(&r.state.started_at)),
        Status::Restarting => format!(
            "Restarting ({}) {} ago",
            r.state.exit_code,
            ago(&r.state.finished_at)
        ),
        Status::Exited => format!(
            "Exited ({}) {} ago",
            r.state.exit_code,
            ago(&r.state.finished_at)
        ),
        Status::Removing => "Removal In Progress".into(),
        Status::Dead => "Dead".into(),
    }
}

fn image_name(d: &Daemon, r: &Record) -> String {
    match d.images.store.get(&r.image_id) {
        Ok(i) if !i.refs.is_empty() => r.spec.image.clone(),
        _ => r.image_id.to_string(),
    }
}

async fn list(State(d): State<Arc<Daemon>>, q: Query) -> Result<Json<Vec<Summary>>, Error> {
    // Sizes walk container trees.
    crate::blocking::run("listing containers", move || list_blocking(d, q)).await
}

fn list_blocking(d: Arc<Daemon>, q: Query) -> Result<Json<Vec<Summary>>, Error> {
    let filters = q.filters()?;
    check_filters(
        &filters,
        &[
            "status", "name", "label", "id", "exited", "ancestor", "volume", "network", "publish",
            "expose", "before", "since", "is-task", "health",
        ],
    )?;
    if let Some(bad) = filters.get("status").into_iter().flatten().find(|s| {
        ![
            "created",
            "restarting",
            "running",
            "removing",
            "paused",
            "exited",
            "dead",
        ]
        .contains(&s.as_str())
    }) {
        return Err(Error::invalid(format!("invalid filter 'status={bad}'")));
    }
    let mut port_filter = BTreeMap::new();
    for key in ["publish", "expose"] {
        if let Some(vals) = filters.get(key) {
            let mut ports = Vec::new();
            for v in vals {
                ports.extend(super::container_net::port_filter_values(key, v)?);
            }
            port_filter.insert(key, ports);
        }
    }
    if let Some(bad) = filters
        .get("health")
        .into_iter()
        .flatten()
        .find(|s| !["none", "starting", "healthy", "unhealthy"].contains(&s.as_str()))
    {
        return Err(Error::invalid(format!(
            "invalid filter 'health={bad}': invalid value for health ({bad}): must be one of none, starting, healthy, unhealthy"
        )));
    }
    let limit = q.int("limit")?.filter(|l| *l > 0);
    let all = q.flag("all")
        || filters.contains_key("status")
        || filters.contains_key("exited")
        || limit.is_some();
    let mut recs: Vec<Record> = d.containers.list().iter().map(|c| c.record()).collect();
    recs.sort_by(|a, b| (&b.created, &b.id).cmp(&(&a.created, &a.id)));
    let mut recs = created_between(&d, recs, &filters)?;
    if is_task(&filters)? {
        recs.clear(); // no container here belongs to a swarm task
    }
    let mut out = Vec::new();
    for r in recs {
        if !all && !r.state.docker_running() {
            continue;
        }
        let labels = r.spec.labels.clone();
        let keep = filters.iter().all(|(k, vals)| match k.as_str() {
            "status" => vals.iter().any(|v| v == r.state.docker_status()),
            "before" | "since" | "is-task" => true,
            "health" => {
                let now = d
                    .containers
                    .health(&r)
                    .map_or("none", |h| h.status.as_str());
                vals.iter().any(|v| v == now)
            }
            "name" => vals
                .iter()
                .any(|v| r.name.contains(v.trim_start_matches('/'))),
            "id" => vals.iter().any(|v| r.id.starts_with(v.as_str())),
            "label" => labels_match(&labels, vals),
            "exited" => {
                r.state.status == Status::Exited
                    && vals
                        .iter()
                        .any(|v| v.parse::<i64>().ok() == Some(r.state.exit_code))
            }
            "ancestor" => vals
                .iter()
                .any(|v| d.images.store.resolve(v).is_ok_and(|i| i.id == r.image_id)),
            "volume" => vals.iter().any(|v| mounts_volume(&d, &r, v)),
            "network" => super::container_net::on_network(&d, &r, vals),
            "publish" | "expose" => port_filter.get(k.as_str()).is_some_and(|want| {
                let have = if k == "publish" {
                    super::container_net::port_keys(&d, &r)
                } else {
                    super::container_net::exposed_keys(&r)
                };
                want.iter().any(|p| have.contains(p))
            }),
            _ => false,
        });
        if !keep {
            continue;
        }
        out.push(Summary {
            id: r.id.clone(),
            names: vec![format!("/{}", r.name)],
            image: image_name(&d, &r),
            image_id: r.image_id.to_string(),
            command: command(&r),
            created: chrono::DateTime::parse_from_rfc3339(&r.created).map_or(0, |t| t.timestamp()),
            ports: super::container_net::summary_ports(&d, &r),
            labels: labels.into_iter().collect(),
            state: r.state.docker_status().into(),
            status: status_text(&d, &r),
            host_config: BTreeMap::from([("NetworkMode".into(), r.spec.network.as_str().into())]),
            network_settings: serde_json::json!({"Networks": super::container_net::networks(&d, &r)}),
            mounts: mount_points(&d, &r),
            size_rw: None,
            size_root_fs: None,
        });
        if q.flag("size") {
            let last = out.last_mut().expect("just pushed");
            let (rw, root) = d.containers.sizes(&r);
            (last.size_rw, last.size_root_fs) = (Some(rw), Some(root));
        }
    }
    if let Some(limit) = limit {
        out.truncate(limit as usize);
    }
    Ok(Json(out))
}

/// Docker's `before` and `since` filters: of `recs`, newest first, those created before or
/// after the named container.
fn created_between(
    d: &Daemon,
    recs: Vec<Record>,
    filters: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<Record>, Error> {
    let point = |key: &str| -> Result<Option<String>, Error> {
        match filters.get(key).and_then(|v| v.last()) {
            Some(v) => Ok(Some(d.containers.get(v)?.id.clone())),
            None => Ok(None),
        }
    };
    let (before, since) = (point("before")?, point("since")?);
    let mut out = Vec::new();
    let mut past_before = before.is_none();
    for r in recs {
        if since.as_deref() == Some(r.id.as_str()) {
            break;
        }
        if !past_before {
            past_before = before.as_deref() == Some(r.id.as_str());
            continue;
        }
        out.push(r);
    }
    Ok(out)
}

/// The `is-task` filter: whether only swarm tasks are asked for.
fn is_task(filters: &BTreeMap<String, Vec<String>>) -> Result<bool, Error> {
    let Some(vals) = filters.get("is-task") else {
        return Ok(false);
    };
    let parsed: Vec<bool> = vals
        .iter()
        .map(|v| match v.as_str() {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            // Go prints the filter's values as a list.
            _ => Err(Error::invalid(format!("invalid filter 'is-task=[{v}]'"))),
        })
        .collect::<Result<_, _>>()?;
    Ok(parsed.contains(&true))
}

/// `POST /containers/prune` with Docker's filters `until` and `label`/`label!`.
async fn prune(State(d): State<Arc<Daemon>>, q: Query) -> Result<Json<serde_json::Value>, Error> {
    let filters = q.filters()?;
    check_filters(&filters, &["until", "label", "label!"])?;
    let until = match filters.get("until").and_then(|v| v.first()) {
        Some(t) => Some(super::query::time_value(t)?),
        None => None,
    };
    let (with, without) = (
        filters.get("label").cloned().unwrap_or_default(),
        filters.get("label!").cloned().unwrap_or_default(),
    );
    let (deleted, reclaimed) = d
        .containers
        .prune(|r| {
            let labels = &r.spec.labels;
            let created = chrono::DateTime::parse_from_rfc3339(&r.created)
                .map_or(0, |t| t.timestamp_nanos_opt().unwrap_or(0));
            until.is_none_or(|u| created < u)
                && labels_match(labels, &with)
                && without
                    .iter()
                    .all(|w| !labels_match(labels, std::slice::from_ref(w)))
        })
        .await?;
    Ok(Json(serde_json::json!({
        "ContainersDeleted": if deleted.is_empty() { serde_json::Value::Null } else { deleted.into() },
        "SpaceReclaimed": reclaimed,
    })))
}

async fn inspect(
    State(d): State<Arc<Daemon>>,
    Path(id): Path<String>,
    q: Query,
) -> Result<Json<Inspect>, Error> {
    crate::blocking::run("inspecting a container", move || {
        inspect_blocking(d, &id, q)
    })
    .await
}

fn inspect_blocking(d: Arc<Daemon>, id: &str, q: Query) -> Result<Json<Inspect>, Error> {
    let c = d.containers.get(id)?;
    let r = c.record();
    let (size_rw, size_root_fs) = if q.flag("size") {
        let (rw, root) = d.containers.sizes(&r);
        (Some(rw), Some(root))
    } else {
        (None, None)
    };
    let p = d.containers.paths(&r.id);
    let s = &r.state;
    Ok(Json(Inspect {
        id: r.id.clone(),
        created: r.created.clone(),
        path: r.path.clone(),
        args: r.args.clone(),
        state: berth_api::container::State {
            status: s.docker_status().into(),
            running: s.docker_running(),
            paused: s.paused,
            restarting: s.status == Status::Restarting,
            oom_killed: s.oom_killed,
            dead: s.status == Status::Dead,
            pid: s.pid,
            exit_code: s.exit_code,
            error: s.error.clone(),
            started_at: s.started_at.clone(),
            finished_at: s.finished_at.clone(),
            health: d
                .containers
                .health(&r)
                .map(|h| serde_json::to_value(h).expect("health serializes")),
        },
        image: r.image_id.to_string(),
        resolv_conf_path: p.resolv_conf.display().to_string(),
        hostname_path: p.hostname.display().to_string(),
        hosts_path: p.hosts.display().to_string(),
        log_path: p.log.display().to_string(),
        name: format!("/{}", r.name),
        restart_count: i64::from(s.restart_count),
        driver: "overlay2".into(),
        platform: "linux".into(),
        mount_label: String::new(),
        process_label: String::new(),
        app_armor_profile: String::new(),
        exec_ids: Some(d.containers.exec_ids(&r.id)).filter(|ids| !ids.is_empty()),
        host_config: crate::wire::inspect::host_config(&r.spec, &r.name),
        graph_driver: GraphDriver {
            name: "overlay2".into(),
            data: BTreeMap::from([(
                "UpperDir".into(),
                d.snapshots.upper(&r.id).display().to_string(),
            )]),
        },
        mounts: mount_points(&d, &r),
        config: crate::wire::inspect::config(&r.spec),
        network_settings: super::container_net::network_settings(&d, &r),
        size_rw,
        size_root_fs,
    }))
}

async fn start(State(d): State<Arc<Daemon>>, Path(id): Path<String>) -> Result<StatusCode, Error> {
    let c = d.containers.get(&id)?;
    if let Err(e) = d.containers.start(&c).await {
        // Docker removes an auto-remove container whose start failed.
        if c.record().spec.auto_remove {
            let _ = d.containers.remove(&c, true, true).await;
        }
        return Err(e);
    }
    Ok(StatusCode::NO_CONTENT)
}

fn stop_params(q: &Query) -> Result<(Option<i32>, Option<i64>), Error> {
    let signal = q
        .get("signal")
        .filter(|s| !s.is_empty())
        .map(crate::signal::parse)
        .transpose()?;
    Ok((signal, q.int("t")?))
}

async fn stop(
    State(d): State<Arc<Daemon>>,
    Path(id): Path<String>,
    q: Query,
) -> Result<StatusCode, Error> {
    let c = d.containers.get(&id)?;
    let (signal, t) = stop_params(&q)?;
    d.containers.stop(&c, signal, t).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn restart(
    State(d): State<Arc<Daemon>>,
    Path(id): Path<String>,
    q: Query,
) -> Result<StatusCode, Error> {
    let c = d.containers.get(&id)?;
    let (signal, t) = stop_params(&q)?;
    d.containers.restart(&c, signal, t).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn pause(State(d): State<Arc<Daemon>>, Path(id): Path<String>) -> Result<StatusCode, Error> {
    d.containers.pause(&d.containers.get(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn unpause(
    State(d): State<Arc<Daemon>>,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    d.containers.unpause(&d.containers.get(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn rename(
    State(d): State<Arc<Daemon>>,
    Path(id): Path<String>,
    q: Query,
) -> Result<StatusCode, Error> {
    let c = d.containers.get(&id)?;
    d.containers
        .rename(&c, q.get("name").unwrap_or_default())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn kill(
    State(d): State<Arc<Daemon>>,
    Path(id): Path<String>,
    q: Query,
) -> Result<StatusCode, Error> {
    // Docker's API says which container could not be killed.
    let wrap = |e: Error| {
        Error::new(
            e.kind,
            format!("Cannot kill container: {id}: {}", e.message),
        )
    };
    let signo = match q.get("signal").filter(|s| !s.is_empty()) {
        Some(s) => crate::signal::parse(s)?,
        None => libc::SIGKILL,
    };
    let c = d.containers.get(&id).map_err(wrap)?;
    d.containers.kill(&c, signo).await.map_err(wrap)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn wait(
    State(d): State<Arc<Daemon>>,
    Path(id): Path<String>,
    q: Query,
) -> Result<Response<Body>, Error> {
    let c = d.containers.get(&id)?;
    let cond = match q.get("condition").unwrap_or("") {
        "" | "not-running" => WaitCondition::NotRunning,
        "next-exit" => WaitCondition::NextExit,
        "removed" => WaitCondition::Removed,
        other => return Err(Error::invalid(format!("invalid condition: \"{other}\""))),
    };
    // Headers go out at once (clients wait for them before starting the container); the
    // status follows when the condition is met.
    let (tx, body) = stream::channel();
    let containers = d.containers.clone();
    tokio::spawn(async move {
        let code = containers.wait(&c, cond).await.unwrap_or(-1);
        let rec = c.record();
        // Docker reports a failed start only to a not-running wait; a next-exit or removed
        // wait (what `run` uses) gets the exit code alone.
        let error = (cond == WaitCondition::NotRunning && !rec.state.error.is_empty()).then_some(
            berth_api::container::WaitError {
                message: rec.state.error,
            },
        );
        let body = serde_json::to_vec(&WaitResponse {
            status_code: code,
            error,
        })
        .expect("serializes");
        let _ = tx.send(body.into()).await;
    });
    Ok(stream::response("application/json", body))
}

async fn remove(
    State(d): State<Arc<Daemon>>,
    Path(id): Path<String>,
    q: Query,
) -> Result<StatusCode, Error> {
    let c = d.containers.get(&id)?;
    if q.flag("link") {
        return Err(Error::new(
            berth_core::ErrorKind::NotImplemented,
            "berth does not support links",
        ));
    }
    d.containers
        .remove(&c, q.flag("force"), q.flag("v"))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Output selection shared by logs and attach.
struct Output {
    stdout: bool,
    stderr: bool,
    tty: bool,
    timestamps: bool,
}

impl Output {
    fn encode(&self, e: &berth_runtime::logfile::Entry) -> Option<Bytes> {
        let wanted = match e.stream {
            Stream::Stdout => self.stdout,
            Stream::Stderr => self.stderr,
        };
        if !wanted {
            return None;
        }
        let payload = if self.timestamps {
            format!("{} {}", e.time, e.log)
        } else {
            e.log.clone()
        };
        Some(if self.tty {
            Bytes::from(payload)
        } else {
            stream::frame(e.stream, payload.as_bytes())
        })
    }
}

/// A log time bound as the RFC 3339 text log entries carry (which sorts like time); Docker
/// reads `0` as "no bound".
fn log_bound(q: &Query, key: &str) -> Result<Option<String>, Error> {
    if q.get(key) == Some("0") {
        return Ok(None);
    }
    Ok(q.time(key)?.map(|nanos| {
        chrono::DateTime::from_timestamp_nanos(nanos)
            .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
    }))
}

/// The most bytes of log entries one write to a `logs` client carries.
const LOG_CHUNK: usize = 64 * 1024;

async fn logs(
    State(d): State<Arc<Daemon>>,
    Path(id): Path<String>,
    q: Query,
) -> Result<Response<Body>, Error> {
    let c = d.containers.get(&id)?;
    let r = c.record();
    let out = Output {
        stdout: q.flag("stdout"),
        stderr: q.flag("stderr"),
        tty: r.spec.stdio.tty,
        timestamps: q.flag("timestamps"),
    };
    if !out.stdout && !out.stderr {
        return Err(Error::invalid(
            "Bad parameters: you must choose at least one stream",
        ));
    }
    let since = log_bound(&q, "since")?;
    let until = log_bound(&q, "until")?;
    let tail: Option<usize> = match q.get("tail") {
        None | Some("" | "all") => None,
        Some(t) => Some(
            t.parse()
                .map_err(|_| Error::invalid(format!("invalid value for tail: {t:?}")))?,
        ),
    };
    let follow = q.flag("follow");
    if !r.spec.log.readable() {
        return Err(Error::new(
            berth_core::ErrorKind::NotImplemented,
            "configured logging driver does not support reading",
        ));
    }
    let details = q.flag("details");
    let file = r.spec.log.file(&d.containers.paths(&r.id));
    let (tx, body) = stream::channel();
    tokio::spawn(async move {
        let keep = |e: &berth_runtime::logfile::Entry| {
            since.as_ref().is_none_or(|s| e.time.as_str() >= s.as_str())
                && until.as_ref().is_none_or(|u| e.time.as_str() <= u.as_str())
        };
        let send = |mut e: berth_runtime::logfile::Entry| {
            if details {
                e.log = berth_runtime::logread::details(e.attrs.as_ref()) + &e.log;
            }
            out.encode(&e)
        };
        // The backlog (the last `tail` entries of it), then the rest as it comes.
        let mut backlog = std::collections::VecDeque::new();
        let start = match tail {
            Some(n) => berth_runtime::logtail::cursor(&file.path, file.format, n),
            None => berth_runtime::logread::Cursor::start(&file.path, file.format),
        };
        let cursor = crate::containers::follow(c.clone(), &file, start, Until::Now, |e| {
            if keep(&e) {
                backlog.push_back(e);
                if tail.is_some_and(|t| backlog.len() > t) {
                    backlog.pop_front();
                }
            }
            true
        })
        .await;
        // Entries go out in chunks of up to 64 KiB, not one write each.
        let mut chunk = Vec::new();
        for e in backlog {
            if let Some(b) = send(e) {
                chunk.extend_from_slice(&b);
            }
            if chunk.len() >= LOG_CHUNK && tx.send(std::mem::take(&mut chunk).into()).await.is_err()
            {
                return;
            }
        }
        if !chunk.is_empty() && tx.send(chunk.into()).await.is_err() {
            return;
        }
        if follow {
            let (etx, mut erx) = tokio::sync::mpsc::unbounded_channel();
            let c2 = c.clone();
            let from_end = tokio::spawn(async move {
                crate::containers::follow(c2, &file, cursor, Until::Stopped, move |e| {
                    etx.send(e).is_ok()
                })
                .await;
            });
            while let Some(first) = erx.recv().await {
                let mut chunk = Vec::new();
                let mut next = Some(first);
                while let Some(e) = next.take() {
                    if keep(&e)
                        && let Some(b) = send(e)
                    {
                        chunk.extend_from_slice(&b);
                    }
                    if chunk.len() < LOG_CHUNK {
                        next = erx.try_recv().ok();
                    }
                }
                if !chunk.is_empty() && tx.send(chunk.into()).await.is_err() {
                    break;
                }
            }
            from_end.abort();
        }
    });
    let ctype = stream::output_type(r.spec.stdio.tty);
    Ok(stream::response(ctype, body))
}

async fn resize(
    State(d): State<Arc<Daemon>>,
    Path(id): Path<String>,
    q: Query,
) -> Result<StatusCode, Error> {
    let c = d.containers.get(&id)?;
    let h = q.int("h")?.unwrap_or(0);
    let w = q.int("w")?.unwrap_or(0);
    if c.status() != Status::Running {
        return Err(Error::conflict(format!(
            "Container {} is not running",
            c.id
        )));
    }
    d.containers.resize(&c, h as u16, w as u16).await?;
    Ok(StatusCode::OK)
}

/// `POST /containers/{id}/attach`: hijacks the connection (HTTP upgrade to `tcp`); container
/// output goes down it, and with `stdin=1` what the client sends becomes the container's stdin.
async fn attach(
    State(d): State<Arc<Daemon>>,
    Path(id): Path<String>,
    q: Query,
    mut req: Request,
) -> Result<Response<Body>, Error> {
    let keys = super::detach::attach_keys(q.get("detachKeys").unwrap_or_default())?;
    let c = d.containers.get(&id)?;
    let r = c.record();
    let out = Output {
        stdout: q.flag("stdout"),
        stderr: q.flag("stderr"),
        tty: r.spec.stdio.tty,
        timestamps: false,
    };
    let want_stdin = q.flag("stdin") && r.spec.stdio.open_stdin;
    let replay = q.flag("logs");
    let stream_output = q.flag("stream");
    let until = if stream_output {
        Until::RunEnds
    } else {
        Until::Now
    };
    let asked_upgrade = req.headers().contains_key(axum::http::header::UPGRADE);
    let upgrade = hyper::upgrade::on(&mut req);
    d.containers.attached(&c);
    let log = d.containers.paths(&r.id).log;
    let containers = d.containers.clone();
    // Fixed before the client hears back: output of a start that follows is never missed.
    let start_offset = if replay {
        From::Start
    } else {
        From::Offset(log_end(&log))
    };
    if !asked_upgrade {
        // A plain request gets the output as the response body, as Docker answers it (no
        // stdin: there is no way back).
        let (wr, rd) = tokio::io::duplex(64 * 1024);
        tokio::spawn(forward_output(c, log, start_offset, until, out, wr));
        let body = Body::from_stream(tokio_util::io::ReaderStream::new(rd));
        return Ok(stream::response(
            stream::output_type(r.spec.stdio.tty),
            body,
        ));
    }
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let io = TokioIo::new(upgraded);
        let (rd, wr) = tokio::io::split(io);
        let (detached, on_detach) = tokio::sync::oneshot::channel::<()>();
        if want_stdin {
            let c2 = c.clone();
            let containers = containers.clone();
            // Docker watches a terminal's input only.
            let escape = out.tty.then(|| berth_api::detach::Escape::new(keys));
            tokio::spawn(async move {
                let Some(mut sock) = containers.stdin(&c2).await else {
                    return;
                };
                if super::detach::copy_input(rd, &mut sock, escape).await {
                    // The container keeps its stdin; this client's stream ends.
                    containers.event("detach", &c2.record(), &[]);
                    let _ = detached.send(());
                    return;
                }
                let _ = sock.shutdown().await;
            });
        }
        tokio::select! {
            () = forward_output(c, log, start_offset, until, out, wr) => {}
            Ok(()) = on_detach => {}
        }
    });
    Ok(stream::upgraded(stream::output_type(r.spec.stdio.tty)))
}

/// Copies a container's output (from `start` in its log, until `until`) to `wr` in the
/// stream format `out` says, then closes `wr`.
async fn forward_output(
    c: Arc<crate::containers::Container>,
    log: std::path::PathBuf,
    start: From,
    until: Until,
    out: Output,
    mut wr: impl tokio::io::AsyncWrite + Unpin,
) {
    let (etx, mut erx) = tokio::sync::mpsc::unbounded_channel();
    let follower = tokio::spawn(follow_log(c, log, start, until, move |e| {
        etx.send(e).is_ok()
    }));
    while let Some(e) = erx.recv().await {
        if let Some(b) = out.encode(&e)
            && wr.write_all(&b).await.is_err()
        {
            break;
        }
    }
    follower.abort();
    let _ = wr.shutdown().await;
}

pub(super) fn mount_points(d: &Daemon, r: &Record) -> Vec<berth_api::container::MountPoint> {
    crate::wire::inspect::mount_points(&r.spec, &|name| d.volumes.path(name).display().to_string())
}

/// The `volume` filter of `ps`: a mount's volume name, source or destination.
fn mounts_volume(d: &Daemon, r: &Record, value: &str) -> bool {
    mount_points(d, r).iter().any(|m| {
        m.destination == value
            || if m.name.is_empty() {
                m.source == value
            } else {
                m.name == value
            }
    })
}
