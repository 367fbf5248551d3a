//! `/networks`: create (bridge driver), list (filters `name`, `id`, `driver`, `label`, `type`,
//! `scope`), inspect, remove, prune, in Docker 20.10's shapes. `host` and `none` are listed
//! and inspected as Docker shows them.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::query::{Query, check_filters, labels_match};
use crate::networks::{Network, NetworkRequest, SubnetRequest};
use crate::{Daemon, Error};

pub fn routes() -> Router<Arc<Daemon>> {
    Router::new()
        .route("/networks", get(list))
        .route("/networks/create", post(create))
        .route("/networks/prune", post(prune))
        .route("/networks/{id}", get(inspect).delete(remove))
}

/// The containers on network `n`, as inspect's `Containers` shows them.
fn containers(d: &Daemon, n: &Network) -> Value {
    let mut out = serde_json::Map::new();
    for e in d.networks.endpoints_on(&n.id).unwrap_or_default() {
        let name = d
            .containers
            .get(&e.container)
            .map(|c| c.record().name)
            .unwrap_or_default();
        out.insert(
            e.container.clone(),
            json!({
                "Name": name, "EndpointID": e.id, "MacAddress": e.mac,
                "IPv4Address": e.address.to_string(),
                "IPv6Address": e.address6.map(|a| a.to_string()).unwrap_or_default(),
            }),
        );
    }
    Value::Object(out)
}

/// A network as Docker's API shows it.
fn shown(d: &Daemon, n: &Network) -> Value {
    let config: Vec<Value> = n
        .subnets
        .iter()
        .map(|s| {
            let mut c = json!({"Subnet": s.subnet().to_string()});
            // Docker shows no gateway for its default bridge.
            if !n.is_default() {
                c["Gateway"] = json!(s.gateway().to_string());
            }
            if let Some(r) = s.ip_range() {
                c["IPRange"] = json!(r.to_string());
            }
            if !s.aux().is_empty() {
                let aux: BTreeMap<&String, String> =
                    s.aux().iter().map(|(k, v)| (k, v.to_string())).collect();
                c["AuxiliaryAddresses"] = json!(aux);
            }
            c
        })
        .collect();
    json!({
        "Name": n.name, "Id": n.id, "Created": n.created, "Scope": "local", "Driver": "bridge",
        "EnableIPv6": n.ipv6,
        "IPAM": {"Driver": "default", "Options": if n.is_default() { Value::Null } else { json!({}) }, "Config": config},
        "Internal": n.internal, "Attachable": n.attachable, "Ingress": false,
        "ConfigFrom": {"Network": ""}, "ConfigOnly": false, "Containers": containers(d, n),
        "Options": n.options, "Labels": n.labels,
    })
}

/// `host` and `none`, which always exist; their IDs are stable per daemon.
fn predefined(d: &Daemon) -> Vec<Value> {
    [("host", "host"), ("none", "null")]
        .iter()
        .map(|(name, driver)| {
            use sha2::Digest as _;
            let id = format!("{:x}", sha2::Sha256::digest(format!("{}/{name}", d.id)));
            json!({
                "Name": name, "Id": id, "Created": "0001-01-01T00:00:00Z", "Scope": "local",
                "Driver": driver, "EnableIPv6": false,
                "IPAM": {"Driver": "default", "Options": null, "Config": []},
                "Internal": false, "Attachable": false, "Ingress": false,
                "ConfigFrom": {"Network": ""}, "ConfigOnly": false, "Containers": {},
                "Options": {}, "Labels": {},
            })
        })
        .collect()
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct IpamConfig {
    #[serde(default, deserialize_with = "berth_api::null_default")]
    subnet: String,
    #[serde(
        default,
        rename = "IPRange",
        deserialize_with = "berth_api::null_default"
    )]
    ip_range: String,
    #[serde(default, deserialize_with = "berth_api::null_default")]
    gateway: String,
    #[serde(default)]
    auxiliary_addresses: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Ipam {
    #[serde(default, deserialize_with = "berth_api::null_default")]
    driver: String,
    #[serde(default)]
    config: Option<Vec<IpamConfig>>,
    #[serde(default)]
    options: Option<BTreeMap<String, String>>,
}

/// The body of `POST /networks/create`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateBody {
    #[serde(default, deserialize_with = "berth_api::null_default")]
    name: String,
    #[serde(default, deserialize_with = "berth_api::null_default")]
    driver: String,
    #[serde(default, deserialize_with = "berth_api::null_default")]
    internal: bool,
    #[serde(default, deserialize_with = "berth_api::null_default")]
    attachable: bool,
    #[serde(default, deserialize_with = "berth_api::null_default")]
    ingress: bool,
    #[serde(default, rename = "IPAM")]
    ipam: Option<Ipam>,
    #[serde(
        default,
        rename = "EnableIPv6",
        deserialize_with = "berth_api::null_default"
    )]
    enable_ipv6: bool,
    #[serde(default)]
    options: Option<BTreeMap<String, String>>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

fn parse<T: std::str::FromStr>(what: &str, s: &str) -> Result<Option<T>, Error> {
    if s.is_empty() {
        return Ok(None);
    }
    s.parse()
        .map(Some)
        .map_err(|_| Error::invalid(format!("invalid {what}: {s}")))
}

/// Docker's request to berth's, with the drivers and options berth cannot honour refused.
fn request(b: CreateBody) -> Result<NetworkRequest, Error> {
    if b.name.is_empty() {
        return Err(Error::invalid("network name must not be empty"));
    }
    match b.driver.as_str() {
        "" | "bridge" => {}
        "host" | "null" => {
            return Err(Error::new(
                berth_core::ErrorKind::Forbidden,
                format!("only one instance of \"{}\" network is allowed", b.driver),
            ));
        }
        "overlay" | "macvlan" | "ipvlan" => {
            return Err(Error::new(
                berth_core::ErrorKind::NotImplemented,
                format!("berth does not support the {} network driver", b.driver),
            ));
        }
        other => {
            return Err(Error::not_found(format!("plugin \"{other}\" not found")));
        }
    }
    if b.ingress {
        return Err(Error::new(
            berth_core::ErrorKind::NotImplemented,
            "berth does not support ingress networks",
        ));
    }
    let ipam = b.ipam.unwrap_or_default();
    if !matches!(ipam.driver.as_str(), "" | "default") {
        return Err(Error::not_found(format!(
            "plugin \"{}\" not found",
            ipam.driver
        )));
    }
    if ipam.options.as_ref().is_some_and(|o| !o.is_empty()) {
        return Err(Error::new(
            berth_core::ErrorKind::NotImplemented,
            "berth does not support IPAM driver options",
        ));
    }
    let mut subnets = Vec::new();
    for c in ipam.config.unwrap_or_default() {
        let mut aux = BTreeMap::new();
        for (k, v) in c.auxiliary_addresses.unwrap_or_default() {
            let addr = parse("auxiliary address", &v)?
                .ok_or_else(|| Error::invalid(format!("invalid auxiliary address: {k}=")))?;
            aux.insert(k, addr);
        }
        subnets.push(SubnetRequest {
            subnet: parse("subnet", &c.subnet)?,
            ip_range: parse("ip range", &c.ip_range)?,
            gateway: parse("gateway", &c.gateway)?,
            aux,
        });
    }
    Ok(NetworkRequest {
        name: b.name,
        subnets,
        ipv6: b.enable_ipv6,
        internal: b.internal,
        attachable: b.attachable,
        labels: b.labels.unwrap_or_default(),
        options: b.options.unwrap_or_default(),
    })
}

async fn create(
    State(d): State<Arc<Daemon>>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), Error> {
    let b: CreateBody = serde_json::from_slice(&body)
        .map_err(|e| Error::invalid(format!("invalid JSON body: {e}")))?;
    let req = request(b)?;
    let n = crate::blocking::run("creating a network", move || d.networks.create(req)).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"Id": n.id, "Warning": ""})),
    ))
}

async fn list(State(d): State<Arc<Daemon>>, q: Query) -> Result<Json<Value>, Error> {
    let filters = q.filters()?;
    check_filters(
        &filters,
        &["name", "id", "driver", "label", "type", "scope", "dangling"],
    )?;
    let mut all = predefined(&d);
    all.extend(d.networks.list()?.iter().map(|n| shown(&d, n)));
    let keep = |n: &Value| {
        let s = |k: &str| n[k].as_str().unwrap_or_default().to_string();
        filters.iter().all(|(k, vals)| match k.as_str() {
            "name" => vals.iter().any(|v| s("Name").contains(v.as_str())),
            "id" => vals.iter().any(|v| s("Id").starts_with(v.as_str())),
            "driver" => vals.iter().any(|v| *v == s("Driver")),
            "scope" => vals.iter().any(|v| v == "local"),
            "type" => vals.iter().any(|v| {
                let builtin = s("Driver") != "bridge";
                (v == "builtin" && builtin) || (v == "custom" && !builtin)
            }),
            "label" => {
                let labels: BTreeMap<String, String> =
                    serde_json::from_value(n["Labels"].clone()).unwrap_or_default();
                labels_match(&labels, vals)
            }
            // No container can be on a bridge network yet: every custom one is unused.
            "dangling" => vals
                .iter()
                .all(|v| matches!(v.as_str(), "true" | "1") == (s("Driver") == "bridge")),
            _ => false,
        })
    };
    Ok(Json(Value::Array(all.into_iter().filter(keep).collect())))
}

async fn inspect(
    State(d): State<Arc<Daemon>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Error> {
    if let Some(n) = predefined(&d)
        .into_iter()
        .find(|n| n["Name"] == id.as_str() || n["Id"].as_str().is_some_and(|i| i.starts_with(&id)))
    {
        return Ok(Json(n));
    }
    Ok(Json(shown(&d, &d.networks.get(&id)?)))
}

async fn remove(State(d): State<Arc<Daemon>>, Path(id): Path<String>) -> Result<StatusCode, Error> {
    crate::blocking::run("removing a network", move || d.networks.remove(&id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn prune(State(d): State<Arc<Daemon>>, q: Query) -> Result<Json<Value>, Error> {
    let filters = q.filters()?;
    check_filters(&filters, &["label", "label!"])?;
    let (with, without) = (
        filters.get("label").cloned().unwrap_or_default(),
        filters.get("label!").cloned().unwrap_or_default(),
    );
    let gone = crate::blocking::run("pruning networks", move || {
        d.networks.prune(|n| {
            labels_match(&n.labels, &with)
                && without
                    .iter()
                    .all(|w| !labels_match(&n.labels, std::slice::from_ref(w)))
        })
    })
    .await?;
    Ok(Json(
        json!({"NetworksDeleted": if gone.is_empty() { Value::Null } else { json!(gone) }}),
    ))
}
