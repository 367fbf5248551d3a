//! A project's named volumes: created by `up` with compose's labels, removed by `down -v`;
//! `external` volumes must exist and are never removed.

use serde_json::{Value, json};

use super::api::Api;
use super::convert::volume_name;
use super::error::{Error, project as err};
use super::labels;
use super::progress::Progress;
use crate::model::{MountKind, Project, Volume};

/// The named volumes the selected services mount, as project keys.
pub fn used(p: &Project, services: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for s in services.iter().filter_map(|s| p.services.get(s)) {
        for m in s.volumes.iter().filter(|m| m.kind == MountKind::Volume) {
            if let Some(src) = m.source.as_ref().filter(|s| p.volumes.contains_key(*s))
                && !keys.contains(src)
            {
                keys.push(src.clone());
            }
        }
    }
    keys
}

fn create_body(p: &Project, key: &str, v: &Volume) -> Value {
    let labels = labels::of_resource(&v.labels, &p.name, labels::VOLUME, key);
    json!({
        "Name": volume_name(p, key),
        "Driver": v.driver.clone().unwrap_or_else(|| "local".into()),
        "DriverOpts": v.driver_opts,
        "Labels": labels,
    })
}

/// Makes sure every volume of `keys` exists.
pub async fn ensure(
    api: &Api,
    p: &Project,
    keys: &[String],
    progress: Progress,
) -> Result<(), Error> {
    for key in keys {
        let v = p.volumes.get(key).cloned().unwrap_or_default();
        let name = volume_name(p, key);
        let existing = api.volume(&name).await?;
        if v.external {
            if existing.is_none() {
                return Err(err(format!("external volume {name:?} not found")));
            }
            continue;
        }
        if let Some(e) = existing {
            match e["Labels"][labels::PROJECT].as_str() {
                None => eprintln!(
                    "WARN[0000] volume {name:?} already exists but was not created by Docker Compose. Use `external: true` to use an existing volume"
                ),
                Some(o) if o != p.name => eprintln!(
                    "WARN[0000] volume {name:?} already exists but was created for project {o:?} (expected {:?}). Use `external: true` to use an existing volume",
                    p.name
                ),
                Some(_) => {}
            }
            continue;
        }
        let body = create_body(p, key, &v);
        let create = api.create_volume(&body);
        progress
            .step("Volume", &name, ("Creating", "Created"), create)
            .await?;
    }
    Ok(())
}

/// Removes the project's own volumes (by label): `down -v`.
pub async fn remove_all(api: &Api, project: &str, progress: Progress) -> Result<(), Error> {
    for v in api.volumes(&labels::of_project(project)).await? {
        let remove = api.remove_volume(&v.name);
        progress
            .step("Volume", &v.name, ("Removing", "Removed"), remove)
            .await?;
    }
    Ok(())
}
