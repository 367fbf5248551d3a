//! A project's networks: created by `up` with compose's labels, removed by `down`; an
//! `external` network must exist and is never touched.

use serde_json::{Value, json};

use super::api::Api;
use super::convert::network_name;
use super::error::{Error, project as err};
use super::labels;
use super::progress::Progress;
use crate::model::{Network, Project};

/// The networks the selected services use, as project keys (file order, no duplicates).
pub fn used(p: &Project, services: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for s in services.iter().filter_map(|s| p.services.get(s)) {
        for k in s.networks.keys() {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    keys
}

fn create_body(p: &Project, key: &str, n: &Network) -> Value {
    let labels = labels::of_resource(&n.labels, &p.name, labels::NETWORK, key);
    let mut body = json!({
        "Name": network_name(p, key),
        "Driver": n.driver.clone().unwrap_or_else(|| "bridge".into()),
        "Options": n.driver_opts,
        "Internal": n.internal,
        "Attachable": n.attachable,
        "Labels": labels,
    });
    if let Some(v6) = n.enable_ipv6 {
        body["EnableIPv6"] = json!(v6);
    }
    if let Some(v4) = n.enable_ipv4 {
        body["EnableIPv4"] = json!(v4);
    }
    if let Some(ipam) = &n.ipam {
        let config: Vec<Value> = ipam
            .config
            .iter()
            .map(|c| {
                json!({
                    "Subnet": c.subnet.clone().unwrap_or_default(),
                    "Gateway": c.gateway.clone().unwrap_or_default(),
                    "IPRange": c.ip_range.clone().unwrap_or_default(),
                    "AuxiliaryAddresses": c.aux_addresses,
                })
            })
            .collect();
        body["IPAM"] = json!({
            "Driver": ipam.driver.clone().unwrap_or_else(|| "default".into()),
            "Config": config, "Options": ipam.options,
        });
    }
    body
}

/// Makes sure every network of `keys` exists.
pub async fn ensure(
    api: &Api,
    p: &Project,
    keys: &[String],
    progress: Progress,
) -> Result<(), Error> {
    for key in keys {
        let n = p.networks.get(key).cloned().unwrap_or_default();
        let name = network_name(p, key);
        let existing = api.network(&name).await?;
        if n.external {
            if existing.is_none() {
                return Err(err(format!(
                    "network {name} declared as external, but could not be found"
                )));
            }
            continue;
        }
        if let Some(e) = existing {
            let owner = e["Labels"][labels::PROJECT].as_str().unwrap_or_default();
            if owner != p.name {
                eprintln!(
                    "WARN[0000] a network with name {name} exists but was not created for project {:?}.\nSet `external: true` to use an existing network",
                    p.name
                );
            }
            continue;
        }
        let body = create_body(p, key, &n);
        let create = api.create_network(&body);
        progress
            .step("Network", &name, ("Creating", "Created"), create)
            .await
            .map_err(|e| err(format!("failed to create network {name}: {e}")))?;
    }
    Ok(())
}

/// Removes the project's own networks (by label), leaving external ones.
pub async fn remove_all(api: &Api, project: &str, progress: Progress) -> Result<(), Error> {
    for n in api.networks(&labels::of_project(project)).await? {
        let remove = api.remove_network(&n.id);
        progress
            .step("Network", &n.name, ("Removing", "Removed"), remove)
            .await?;
    }
    Ok(())
}
