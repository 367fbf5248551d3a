//! `/_ping`, `/version`, `/info`, `/events`, `/system/df`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{Response, header};
use axum::routing::get;
use axum::{Json, Router};
use berth_api::system::{Component, Event, Info, Version};
use berth_api::{MAX_VERSION, MIN_VERSION};

use super::query::{Query, check_filters};
use super::stream;
use crate::{Daemon, Error};

pub fn routes() -> Router<Arc<Daemon>> {
    Router::new()
        .route("/_ping", get(ping).head(ping))
        .route("/version", get(version))
        .route("/info", get(info))
        .route("/events", get(events))
        .route("/system/df", get(df))
}

async fn ping() -> Response<Body> {
    Response::builder()
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-cache, no-store, must-revalidate")
        .header("Pragma", "no-cache")
        .header("Builder-Version", "1")
        .body(Body::from("OK"))
        .expect("valid response")
}

fn kernel() -> String {
    nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default()
}

async fn version() -> Json<Version> {
    let arch = berth_image::config::host_architecture().to_string();
    let v = env!("CARGO_PKG_VERSION").to_string();
    Json(Version {
        platform: BTreeMap::from([("Name".into(), "berth".into())]),
        components: vec![Component {
            name: "Engine".into(),
            version: v.clone(),
            details: BTreeMap::from([
                ("ApiVersion".into(), MAX_VERSION.to_string()),
                ("MinAPIVersion".into(), MIN_VERSION.to_string()),
                ("Os".into(), "linux".into()),
                ("Arch".into(), arch.clone()),
            ]),
        }],
        version: v,
        api_version: MAX_VERSION.to_string(),
        min_api_version: MIN_VERSION.to_string(),
        git_commit: String::new(),
        go_version: format!("rust (berth {})", env!("CARGO_PKG_VERSION")),
        os: "linux".into(),
        arch,
        kernel_version: kernel(),
        build_time: String::new(),
    })
}

async fn info(State(d): State<Arc<Daemon>>) -> Result<Json<Info>, Error> {
    let all = d.containers.list();
    // Docker's counts by state word: a restarting container counts as stopped.
    let states: Vec<&str> = all
        .iter()
        .map(|c| c.record().state.docker_status())
        .collect();
    let count = |s: &str| states.iter().filter(|&&w| w == s).count() as u64;
    let mem_total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024;
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("PRETTY_NAME=")
                    .map(|v| v.trim_matches('"').to_string())
            })
        })
        .unwrap_or_else(|| "Linux".into());
    let unified = berth_runtime::cgroup::is_unified();
    let cg = berth_runtime::cgroup::controllers();
    Ok(Json(Info {
        id: d.id.clone(),
        containers: all.len() as u64,
        containers_running: count("running"),
        containers_paused: count("paused"),
        containers_stopped: states.len() as u64 - count("running") - count("paused"),
        images: d.images.store.list()?.len() as u64,
        driver: "overlay2".into(),
        driver_status: vec![["Backing Filesystem".into(), "extfs".into()]],
        memory_limit: cg.memory,
        swap_limit: cg.swap,
        cpu_cfs_period: cg.cpu,
        cpu_cfs_quota: cg.cpu,
        cpu_shares: cg.cpu,
        pids_limit: cg.pids,
        nfd: std::fs::read_dir("/proc/self/fd")
            .map(|r| r.count() as u64)
            .unwrap_or(0),
        system_time: berth_runtime::logfile::now(),
        logging_driver: d.config.logging.driver.clone(),
        cgroup_driver: "cgroupfs".into(),
        cgroup_version: if unified { "2" } else { "1" }.into(),
        nevents_listener: d.events.listeners() as u64,
        kernel_version: kernel(),
        operating_system: os,
        os_version: String::new(),
        os_type: "linux".into(),
        architecture: std::env::consts::ARCH.into(),
        ncpu: std::thread::available_parallelism()
            .map(|n| n.get() as u64)
            .unwrap_or(1),
        mem_total,
        index_server_address: "https://index.docker.io/v1/".into(),
        docker_root_dir: d.config.root.display().to_string(),
        name: nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default(),
        server_version: env!("CARGO_PKG_VERSION").into(),
        runtimes: d
            .config
            .runtimes
            .list()
            .into_iter()
            .map(|(name, path)| (name, serde_json::json!({ "path": path })))
            .collect(),
        default_runtime: d.config.runtimes.default_name(),
        security_options: security_options(&d.config.security),
        warnings: d.config.api_warnings.clone(),
        live_restore_enabled: d.live().live_restore,
        init_binary: "docker-init".into(),
        http_proxy: proxy_env("HTTP_PROXY"),
        https_proxy: proxy_env("HTTPS_PROXY"),
        no_proxy: proxy_env("NO_PROXY"),
        containerd_commit: serde_json::json!({"ID": "", "Expected": ""}),
        runc_commit: serde_json::json!({"ID": "", "Expected": ""}),
        init_commit: serde_json::json!({
            "ID": env!("CARGO_PKG_VERSION"),
            "Expected": env!("CARGO_PKG_VERSION"),
        }),
        plugins: serde_json::json!({
            "Volume": [], "Network": ["host", "null"], "Authorization": null, "Log": crate::containers::logging::DRIVERS,
        }),
        registry_config: registry_config(d.images.registry.settings()),
        debug: d.live().debug,
        labels: d.live().labels,
        swarm: serde_json::json!({
            "NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive",
            "ControlAvailable": false, "Error": "", "RemoteManagers": null,
        }),
        ..Info::default()
    }))
}

/// A proxy setting of the daemon's environment (either case), credentials masked as Docker
/// masks them.
fn proxy_env(name: &str) -> String {
    let v = std::env::var(name)
        .or_else(|_| std::env::var(name.to_ascii_lowercase()))
        .unwrap_or_default();
    match (v.split_once("://"), v.rfind('@')) {
        (Some((scheme, _)), Some(at)) => format!("{scheme}://xxxxx:xxxxx{}", &v[at..]),
        _ => v,
    }
}

fn event_matches(e: &Event, filters: &BTreeMap<String, Vec<String>>) -> bool {
    filters.iter().all(|(k, vals)| {
        vals.is_empty()
            || vals.iter().any(|v| match k.as_str() {
                "type" => e.kind == *v,
                // `health_status` matches `health_status: healthy`, as in Docker.
                "event" => e.action == *v || e.action.split(':').next() == Some(v.as_str()),
                "container" => {
                    e.kind == "container"
                        && (e.actor.id.starts_with(v.as_str())
                            || e.actor.attributes.get("name") == Some(v))
                }
                "image" => {
                    e.actor.attributes.get("image") == Some(v)
                        || (e.kind == "image" && e.actor.id.contains(v.as_str()))
                }
                "label" => super::query::labels_match(&e.actor.attributes, std::slice::from_ref(v)),
                "daemon" => {
                    e.kind == "daemon"
                        && (e.actor.id == *v || e.actor.attributes.get("name") == Some(v))
                }
                _ => false,
            })
    })
}

async fn events(State(d): State<Arc<Daemon>>, q: Query) -> Result<Response<Body>, Error> {
    let filters = q.filters()?;
    check_filters(
        &filters,
        &["type", "event", "container", "image", "label", "daemon"],
    )?;
    let since = q.time("since")?;
    let until = q.time("until")?;
    let (past, mut rx) = d.events.subscribe();
    let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
    let (tx, body) = stream::channel();
    tokio::spawn(async move {
        let send = |e: &Event| {
            let mut line = serde_json::to_vec(e).expect("event serializes");
            line.push(b'\n');
            line
        };
        if let Some(since) = since {
            for e in past
                .iter()
                .filter(|e| e.time_nano >= since && until.is_none_or(|u| e.time_nano <= u))
            {
                if event_matches(e, &filters) && tx.send(send(e).into()).await.is_err() {
                    return;
                }
            }
        }
        if until.is_some_and(|u| u <= now) {
            return;
        }
        let deadline = until.map(|u| {
            tokio::time::Instant::now() + std::time::Duration::from_nanos((u - now) as u64)
        });
        loop {
            let next = async {
                match deadline {
                    Some(d) => tokio::time::timeout_at(d, rx.recv()).await.ok(),
                    None => Some(rx.recv().await),
                }
            };
            match next.await {
                None => return,
                Some(Ok(e)) => {
                    if event_matches(&e, &filters) && tx.send(send(&e).into()).await.is_err() {
                        return;
                    }
                }
                Some(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => continue,
                Some(Err(_)) => return,
            }
        }
    });
    Ok(stream::response("application/json", body))
}

/// The volumes of `system df`: each with its size and how many containers mount it.
fn volume_usage(
    d: &Daemon,
    containers: &[Arc<crate::containers::Container>],
) -> Result<Vec<serde_json::Value>, Error> {
    let users: Vec<Vec<String>> = containers
        .iter()
        .map(|c| {
            c.record()
                .spec
                .mounts
                .iter()
                .filter_map(|m| match &m.kind {
                    crate::containers::MountKind::Volume { name, .. } => Some(name.clone()),
                    _ => None,
                })
                .collect()
        })
        .collect();
    Ok(d.volumes
        .list()?
        .iter()
        .map(|v| {
            let refs = users.iter().filter(|u| u.contains(&v.name)).count();
            serde_json::json!({
                "CreatedAt": v.created_at,
                "Driver": v.driver,
                "Labels": if v.labels.is_empty() { serde_json::Value::Null } else { serde_json::json!(v.labels) },
                "Mountpoint": v.mountpoint,
                "Name": v.name,
                "Options": null,
                "Scope": "local",
                "UsageData": {
                    "Size": berth_snapshot::tree_size(&v.mountpoint),
                    "RefCount": refs,
                },
            })
        })
        .collect())
}

/// `GET /system/df`: what images, containers, volumes and the build cache take.
async fn df(State(d): State<Arc<Daemon>>) -> Result<Json<serde_json::Value>, Error> {
    crate::blocking::run("measuring disk use", move || df_blocking(d)).await
}

fn df_blocking(d: Arc<Daemon>) -> Result<Json<serde_json::Value>, Error> {
    let images = d.images.store.list()?;
    let containers = d.containers.list();
    let mut layers: BTreeMap<String, u64> = BTreeMap::new();
    // How many images use each layer: a layer of several is their shared size.
    let mut stacks = Vec::new();
    let mut users: BTreeMap<String, usize> = BTreeMap::new();
    for i in &images {
        let stack = d.images.store.layers_of(i)?;
        for l in &stack {
            layers
                .entry(l.to_string())
                .or_insert_with(|| d.snapshots.usage(l));
            *users.entry(l.to_string()).or_default() += 1;
        }
        stacks.push(stack.iter().map(|l| l.to_string()).collect::<Vec<_>>());
    }
    let mut image_rows = Vec::new();
    for (i, stack) in images.iter().zip(&stacks) {
        let shared: u64 = stack
            .iter()
            .filter(|l| users.get(*l).is_some_and(|n| *n > 1))
            .map(|l| layers[l])
            .sum();
        let used = containers
            .iter()
            .filter(|c| c.record().image_id == i.id)
            .count();
        image_rows.push(serde_json::json!({
            "Id": i.id.to_string(),
            "ParentId": i.parent.as_ref().map(|p| p.to_string()).unwrap_or_default(),
            "RepoTags": i.refs.iter().map(|r| r.familiar()).collect::<Vec<_>>(),
            "RepoDigests": [],
            "Created": i.config.created.as_deref().and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok()).map_or(0, |t| t.timestamp()),
            "Size": i.size,
            "SharedSize": shared,
            "VirtualSize": i.size,
            "Labels": i.config.config.labels.clone().unwrap_or_default(),
            "Containers": used,
        }));
    }
    let container_rows: Vec<serde_json::Value> = containers
        .iter()
        .map(|c| {
            let r = c.record();
            let (size_rw, size_root_fs) = d.containers.sizes(&r);
            serde_json::json!({
                "Id": r.id,
                "Names": [format!("/{}", r.name)],
                "Image": r.spec.image,
                "ImageID": r.image_id.to_string(),
                "Command": r.path,
                "Created": chrono::DateTime::parse_from_rfc3339(&r.created).map_or(0, |t| t.timestamp()),
                "State": r.state.status.as_str(),
                "Status": r.state.status.as_str(),
                "SizeRw": size_rw,
                "SizeRootFs": size_root_fs,
                // berth's own: the bytes of its log files, rotated ones included.
                "LogSize": crate::containers::logging::disk_usage(&d.containers.paths(&r.id)),
                "Labels": r.spec.labels.clone(),
                "Mounts": super::containers::mount_points(&d, &r),
            })
        })
        .collect();
    let cache: Vec<serde_json::Value> = d
        .builder
        .cache_mounts()
        .into_iter()
        .map(|m| {
            let created = m
                .created
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true));
            serde_json::json!({
                "ID": m.name,
                "Type": "exec.cachemount",
                "Description": format!("cached mount {}", m.id),
                "InUse": false,
                "Shared": false,
                "Size": m.size,
                "CreatedAt": created,
                "LastUsedAt": null,
                "UsageCount": 0,
            })
        })
        .collect();
    Ok(Json(serde_json::json!({
        // Every layer on disk, those of an image's other platforms too.
        "LayersSize": d
            .snapshots
            .walk()
            .map_err(|e| Error::internal("listing layers", e))?
            .iter()
            .map(|l| l.size)
            .sum::<u64>(),
        "Images": image_rows,
        "Containers": container_rows,
        "Volumes": volume_usage(&d, &containers)?,
        "BuildCache": cache,
    })))
}

/// `SecurityOptions` of `info`, in Docker's order and words.
fn security_options(s: &crate::config::SecurityConfig) -> Vec<String> {
    let mut options = vec![format!("name=seccomp,profile={}", s.seccomp.name())];
    if s.userns_remap.is_some() {
        options.push("name=userns".into());
    }
    if s.no_new_privileges {
        options.push("name=no-new-privileges".into());
    }
    options
}

/// `RegistryConfig` of `/info`, as dockerd shows its registry options: mirrors with a
/// trailing slash, CIDRs and hosts of `insecure-registries` apart.
fn registry_config(s: &berth_distribution::client::Settings) -> serde_json::Value {
    let mirrors: Vec<String> = s
        .mirrors
        .iter()
        .map(|m| match m.ends_with('/') {
            true => m.clone(),
            false => format!("{m}/"),
        })
        .collect();
    let (cidrs, hosts): (Vec<&String>, Vec<&String>) = s
        .insecure
        .iter()
        .partition(|i| i.parse::<ipnet::IpNet>().is_ok());
    let mut all_cidrs = vec!["127.0.0.0/8".to_string()];
    all_cidrs.extend(cidrs.into_iter().cloned());
    let mut index = serde_json::Map::new();
    index.insert(
        "docker.io".into(),
        serde_json::json!({"Name": "docker.io", "Mirrors": mirrors, "Secure": true, "Official": true}),
    );
    for h in hosts {
        index.insert(
            h.clone(),
            serde_json::json!({"Name": h, "Mirrors": [], "Secure": false, "Official": false}),
        );
    }
    serde_json::json!({
        "AllowNondistributableArtifactsCIDRs": null,
        "AllowNondistributableArtifactsHostnames": null,
        "InsecureRegistryCIDRs": all_cidrs,
        "IndexConfigs": index,
        "Mirrors": mirrors,
    })
}
