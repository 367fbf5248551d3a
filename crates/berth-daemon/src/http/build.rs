//! `POST /build` (the classic builder's API: a tar context in, Docker's JSON progress stream
//! out) and `POST /build/prune`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::Response;
use axum::routing::post;
use futures_util::TryStreamExt;
use serde_json::json;
use tokio_util::io::{StreamReader, SyncIoBridge};

use super::query::Query;
use super::stream;
use crate::build::{BuildOptions, Progress, context};
use crate::{Daemon, Error};

pub fn routes() -> Router<Arc<Daemon>> {
    Router::new()
        .route("/build", post(build))
        .route("/build/prune", post(prune))
}

fn json_param<T: serde::de::DeserializeOwned + Default>(q: &Query, key: &str) -> Result<T, Error> {
    match q.get(key) {
        None | Some("") => Ok(T::default()),
        Some(v) => serde_json::from_str(v)
            .map_err(|e| Error::invalid(format!("invalid value for {key}: {e}"))),
    }
}

/// Build options berth does not implement: refused when set, never ignored.
const UNSUPPORTED: &[&str] = &["remote", "squash", "outputs"];

/// `X-Registry-Config`: base64url JSON of the credentials by registry (as the docker CLI
/// sends every login it has); an undecodable header is no credentials, as dockerd takes it.
fn registry_config(
    headers: &axum::http::HeaderMap,
) -> BTreeMap<String, berth_distribution::client::Credentials> {
    let map: BTreeMap<String, berth_distribution::client::Credentials> = headers
        .get("x-registry-config")
        .and_then(|v| v.to_str().ok())
        .and_then(berth_distribution::client::auth::decode_header)
        .unwrap_or_default();
    map.into_iter().map(|(k, c)| (k, c.normalized())).collect()
}

fn options(q: &Query) -> Result<BuildOptions, Error> {
    for key in UNSUPPORTED {
        if let Some(v) = q.get(key)
            && !matches!(v, "" | "0" | "false" | "null" | "[]" | "{}")
        {
            return Err(Error::new(
                berth_core::ErrorKind::NotImplemented,
                format!("berth does not support the build option {key}={v} yet"),
            ));
        }
    }
    if q.get("version") == Some("2") {
        return Err(Error::new(
            berth_core::ErrorKind::NotImplemented,
            "berth serves the classic build API only: set DOCKER_BUILDKIT=0 or use `berth build`",
        ));
    }
    let network = match q.get("networkmode").unwrap_or("") {
        "" | "default" | "bridge" => "default",
        other if other.starts_with("container:") => {
            return Err(Error::new(
                berth_core::ErrorKind::NotImplemented,
                format!("network mode \"{other}\" is not supported by berth builds"),
            ));
        }
        other => other,
    };
    let build_args: BTreeMap<String, Option<String>> = json_param(q, "buildargs")?;
    Ok(BuildOptions {
        dockerfile: q.get("dockerfile").unwrap_or("Dockerfile").to_string(),
        tags: q.all("t").to_vec(),
        build_args,
        target: q.get("target").filter(|t| !t.is_empty()).map(String::from),
        platform: super::containers::platform(q)?,
        pull: false,
        auth: BTreeMap::new(),
        no_cache: q.flag("nocache"),
        labels: json_param(q, "labels")?,
        quiet: q.flag("q"),
        remove: q.get("rm").is_none() || q.flag("rm"),
        force_remove: q.flag("forcerm"),
        cache_from: json_param(q, "cachefrom")?,
        network: network.into(),
        extra_hosts: extra_hosts(q)?,
        shm_size: shm_size(q)?,
        step_limits: step_limits(q)?,
    })
}

/// `memory`, `memswap`, `cpushares`, `cpuperiod`, `cpuquota`, `cpusetcpus`, `cpusetmems` and
/// `ulimits`: the RUN steps' limits (docker-compose 1.x `build --memory` sends `memory`).
fn step_limits(q: &Query) -> Result<crate::build::StepLimits, Error> {
    let int = |key: &str| -> Result<i64, Error> {
        match q.get(key).unwrap_or("") {
            "" => Ok(0),
            v => v
                .parse()
                .map_err(|_| Error::invalid(format!("invalid value for {key}: {v}"))),
        }
    };
    let text = |key: &str| q.get(key).unwrap_or("").to_string();
    let h = berth_api::container::HostConfig {
        memory: int("memory")?,
        memory_swap: int("memswap")?,
        cpu_shares: int("cpushares")?,
        cpu_period: int("cpuperiod")?,
        cpu_quota: int("cpuquota")?,
        cpuset_cpus: text("cpusetcpus"),
        cpuset_mems: text("cpusetmems"),
        ulimits: json_param::<Option<Vec<_>>>(q, "ulimits")?.filter(|u| !u.is_empty()),
        ..Default::default()
    };
    crate::wire::create::step_limits(&h)
}

/// `shmsize`: bytes of the RUN steps' `/dev/shm` (0: Docker's 64 MiB).
fn shm_size(q: &Query) -> Result<i64, Error> {
    let size = match q.get("shmsize").unwrap_or("") {
        "" => 0,
        v => v
            .parse::<i64>()
            .map_err(|_| Error::invalid(format!("invalid value for shmsize: {v}")))?,
    };
    if size < 0 {
        return Err(Error::invalid("SHM size can not be less than 0"));
    }
    Ok(size)
}

/// `extrahosts` (repeated, `name:ip` each, as the docker CLI sends `--add-host`).
fn extra_hosts(q: &Query) -> Result<Vec<String>, Error> {
    let hosts: Vec<String> = q
        .all("extrahosts")
        .iter()
        .flat_map(|v| v.split(','))
        .filter(|h| !h.is_empty())
        .map(str::to_string)
        .collect();
    for h in &hosts {
        crate::wire::net::extra_host(h)?;
    }
    Ok(hosts)
}

/// One message of the progress stream; `quiet` builds give the image ID as their only
/// `stream` text, as Docker's do.
fn message(p: &Progress, quiet: bool) -> Bytes {
    let v = match p {
        Progress::Built(id) if quiet => json!({ "stream": format!("{id}\n") }),
        Progress::Stream(s) => json!({ "stream": s }),
        Progress::StepEnd {
            text,
            step,
            seconds,
            cached,
        } => json!({
            "stream": text,
            "berthStep": { "step": step, "seconds": seconds, "cached": cached },
        }),
        Progress::Built(id) => json!({ "aux": { "ID": id.to_string() } }),
    };
    Bytes::from(format!("{v}\r\n"))
}

async fn build(
    State(d): State<Arc<Daemon>>,
    q: Query,
    req: Request,
) -> Result<Response<Body>, Error> {
    let opts = options(&q).map(|mut o| {
        o.pull = q.flag("pull");
        o.auth = registry_config(req.headers());
        o
    });
    let opts = match opts {
        Ok(o) => o,
        Err(e) => {
            stream::drain(req.into_body()).await;
            return Err(e);
        }
    };
    // The build's private directory: made only if the context spills over or a step needs its
    // files on disk.
    let dir = d.builder.workdir().with_extension("context");
    let stream = req
        .into_body()
        .into_data_stream()
        .map_err(std::io::Error::other);
    let reader = SyncIoBridge::new(StreamReader::new(stream));
    let (root, dockerfile) = (dir.clone(), opts.dockerfile.clone());
    let secrets = q.flag("berthsecrets");
    let unpacked =
        tokio::task::spawn_blocking(move || context::unpack(reader, &root, &dockerfile, secrets))
            .await
            .map_err(|e| Error::internal("context task", e))?;
    let ctx = match unpacked {
        Ok(c) => c,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
    };
    let (tx, body) = stream::channel();
    let quiet = opts.quiet;
    tokio::spawn(async move {
        let (ptx, prx) = tokio::sync::mpsc::channel::<Progress>(64);
        let builder = d.builder.clone();
        let gone = tx.clone();
        let run = builder.build(opts, ctx, ptx);
        let forward = async move {
            let mut prx = prx;
            while let Some(p) = prx.recv().await {
                if tx.send(message(&p, quiet)).await.is_err() {
                    break; // the client went away: dropping prx cancels the build
                }
            }
            drop(prx);
            tx
        };
        // A client that goes away cancels the build at once, even in the middle of a long RUN:
        // dropping the build drops its step guards, which remove its containers.
        tokio::select! {
            (result, tx) = async { tokio::join!(run, forward) } => {
                if let Err(e) = result {
                    let detail = match e.code {
                        Some(code) => json!({ "code": code, "message": e.message }),
                        None => json!({ "message": e.message }),
                    };
                    let v = json!({ "errorDetail": detail, "error": e.message });
                    let _ = tx.send(Bytes::from(format!("{v}\r\n"))).await;
                }
            }
            () = gone.closed() => tracing::info!("build canceled: the client went away"),
        }
        let _ = tokio::task::spawn_blocking(move || std::fs::remove_dir_all(&dir)).await;
    });
    Ok(stream::response("application/json", body))
}

async fn prune(
    State(d): State<Arc<Daemon>>,
    q: Query,
) -> Result<axum::Json<serde_json::Value>, Error> {
    let filters = q.filters()?;
    super::query::check_filters(&filters, &[])?;
    let (deleted, freed) =
        crate::blocking::run("pruning the build cache", move || d.builder.prune()).await?;
    Ok(axum::Json(
        json!({ "CachesDeleted": deleted, "SpaceReclaimed": freed }),
    ))
}
