//! `-v`, `--mount` and `--tmpfs` of `run` and `create`, turned into the API's fields as the
//! docker CLI does: the daemon checks the mounts; the client only splits its own syntax.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use berth_api::container::{BindOptions, Driver, Mount, TmpfsOptions, VolumeOptions};

/// The mount flags of a container.
#[derive(Debug, Default, clap::Args)]
pub struct MountOpts {
    /// Bind mount a volume.
    #[arg(short = 'v', long = "volume")]
    volume: Vec<String>,
    /// Attach a filesystem mount to the container.
    #[arg(long)]
    mount: Vec<String>,
    /// Mount a tmpfs directory.
    #[arg(long)]
    tmpfs: Vec<String>,
    /// Mount volumes from the specified container(s).
    #[arg(long)]
    volumes_from: Vec<String>,
    /// Optional volume driver for the container.
    #[arg(long)]
    volume_driver: Option<String>,
}

/// What the flags put in a create request.
#[derive(Debug, Default)]
pub struct Parsed {
    /// `HostConfig.Binds`.
    pub binds: Option<Vec<String>>,
    /// `Config.Volumes`: `-v /path`, an anonymous volume.
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
    /// `HostConfig.Mounts`.
    pub mounts: Option<Vec<Mount>>,
    /// `HostConfig.Tmpfs`.
    pub tmpfs: Option<BTreeMap<String, String>>,
    /// `HostConfig.VolumesFrom`.
    pub volumes_from: Option<Vec<String>>,
    /// `HostConfig.VolumeDriver`.
    pub volume_driver: String,
}

impl MountOpts {
    /// The request fields, or the docker CLI's error for a malformed `--mount` or `--tmpfs`.
    pub fn parse(&self) -> Result<Parsed> {
        let mut binds = Vec::new();
        let mut volumes = BTreeMap::new();
        for v in &self.volume {
            match v.split_once(':') {
                // A relative host path is the client's: made absolute here, as docker does.
                Some((host, rest)) if host == "." || host.starts_with("./") => {
                    let abs = std::path::absolute(host)?;
                    binds.push(format!("{}:{rest}", abs.display()));
                }
                Some(_) => binds.push(v.clone()),
                None => {
                    volumes.insert(v.clone(), serde_json::json!({}));
                }
            }
        }
        let mut tmpfs = BTreeMap::new();
        for t in &self.tmpfs {
            let (path, opts) = t.split_once(':').unwrap_or((t, ""));
            tmpfs.insert(path.to_string(), opts.to_string());
        }
        let mounts = self
            .mount
            .iter()
            .map(|m| mount(m))
            .collect::<Result<Vec<_>>>()?;
        let some = |empty: bool| !empty;
        Ok(Parsed {
            binds: some(binds.is_empty()).then_some(binds),
            volumes: some(volumes.is_empty()).then_some(volumes),
            mounts: some(mounts.is_empty()).then_some(mounts),
            tmpfs: some(tmpfs.is_empty()).then_some(tmpfs),
            volumes_from: some(self.volumes_from.is_empty()).then(|| self.volumes_from.clone()),
            volume_driver: self.volume_driver.clone().unwrap_or_default(),
        })
    }
}

fn flag(key: &str, value: Option<&str>) -> Result<bool> {
    match value.map(str::to_ascii_lowercase).as_deref() {
        None | Some("true") | Some("1") => Ok(true),
        Some("false") | Some("0") => Ok(false),
        Some(v) => bail!("invalid value for {key}: {v}"),
    }
}

/// One `--mount` value: `type=…,source=…,target=…,…` (docker CLI's keys and aliases).
fn mount(csv: &str) -> Result<Mount> {
    let mut m = Mount {
        r#type: "volume".into(),
        ..Mount::default()
    };
    let (mut bind, mut volume, mut tmpfs) = (
        BindOptions::default(),
        VolumeOptions::default(),
        TmpfsOptions::default(),
    );
    let (mut has_bind, mut has_volume, mut has_tmpfs) = (false, false, false);
    let mut driver = Driver::default();
    for field in csv.split(',') {
        let (key, value) = match field.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v)),
            None => (field.trim().to_ascii_lowercase(), None),
        };
        let need = |v: Option<&str>| -> Result<String> {
            v.map(str::to_string)
                .ok_or_else(|| anyhow::anyhow!("invalid field '{field}' must be a key=value pair"))
        };
        match key.as_str() {
            "type" => m.r#type = need(value)?,
            "source" | "src" => m.source = need(value)?,
            "target" | "dst" | "destination" => m.target = need(value)?,
            "readonly" | "ro" => m.read_only = flag(&key, value)?,
            "consistency" => m.consistency = need(value)?,
            "bind-propagation" => {
                has_bind = true;
                bind.propagation = need(value)?;
            }
            "bind-nonrecursive" => {
                has_bind = true;
                bind.non_recursive = flag(&key, value)?;
            }
            "bind-recursive" => match value {
                Some("enabled") => {}
                Some("disabled") => {
                    has_bind = true;
                    bind.non_recursive = true;
                }
                Some(v @ ("writable" | "readonly")) => {
                    bail!("berth does not support bind-recursive={v} yet")
                }
                _ => bail!("invalid value for {key}: {}", value.unwrap_or("")),
            },
            "volume-nocopy" => {
                has_volume = true;
                volume.no_copy = flag(&key, value)?;
            }
            "volume-label" => {
                has_volume = true;
                let v = need(value)?;
                let (k, val) = v.split_once('=').unwrap_or((&v, ""));
                volume
                    .labels
                    .get_or_insert_with(BTreeMap::new)
                    .insert(k.into(), val.into());
            }
            "volume-driver" => {
                has_volume = true;
                driver.name = need(value)?;
            }
            "volume-opt" => {
                has_volume = true;
                let v = need(value)?;
                let (k, val) = v.split_once('=').unwrap_or((&v, ""));
                driver
                    .options
                    .get_or_insert_with(BTreeMap::new)
                    .insert(k.into(), val.into());
            }
            "tmpfs-size" => {
                has_tmpfs = true;
                tmpfs.size_bytes = super::run::bytes_arg(&need(value)?)?;
            }
            "tmpfs-mode" => {
                has_tmpfs = true;
                let v = need(value)?;
                tmpfs.mode = u32::from_str_radix(&v, 8)
                    .map_err(|_| anyhow::anyhow!("invalid value for {key}: {v}"))?;
            }
            _ => bail!("unexpected key '{key}' in '{field}'"),
        }
    }
    if has_volume || driver != Driver::default() {
        // docker sends an (empty) DriverConfig with any volume option.
        volume.driver_config = Some(driver);
        m.volume_options = Some(volume);
    }
    if has_bind {
        m.bind_options = Some(bind);
    }
    if has_tmpfs {
        m.tmpfs_options = Some(tmpfs);
    }
    if m.target.is_empty() {
        bail!("target is required");
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_values_read_as_the_docker_cli_reads_them() {
        let m = mount("type=bind,src=/tmp,dst=/b,bind-propagation=rslave,ro").unwrap();
        assert_eq!(
            (m.r#type.as_str(), m.source.as_str(), m.target.as_str()),
            ("bind", "/tmp", "/b")
        );
        assert!(m.read_only);
        assert_eq!(m.bind_options.unwrap().propagation, "rslave");
        let m = mount("target=/v,volume-label=a=b,volume-nocopy").unwrap();
        assert_eq!(m.r#type, "volume");
        let v = m.volume_options.unwrap();
        assert!(v.no_copy && v.labels.unwrap()["a"] == "b");
        let m = mount("type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=700").unwrap();
        let t = m.tmpfs_options.unwrap();
        assert_eq!((t.size_bytes, t.mode), (1 << 20, 0o700));
        assert!(
            mount("type=bind,src=/tmp")
                .unwrap_err()
                .to_string()
                .contains("target is required")
        );
        mount("dst=/x,bogus=1").unwrap_err();
    }
}
