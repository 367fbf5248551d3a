//! The body of `POST /commit`: a container `Config` for the new image, read as Docker reads a
//! create body (keys without regard to case, Go's message for a wrong type), fields berth does
//! not keep in an image config refused by name.

use berth_api::container::Config;
use berth_api::fields::CONTAINER_CONFIG;
use berth_image::config::{Empty, HealthConfig, RunConfig};

use crate::Error;

/// The config a commit body carries; `None` for an empty body or `null`.
pub fn config(body: &[u8]) -> Result<Option<RunConfig>, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let invalid = |e: String| Error::invalid(format!("invalid JSON body: {e}"));
    let mut v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| invalid(e.to_string()))?;
    let Some(obj) = v.as_object_mut() else {
        return match v {
            serde_json::Value::Null => Ok(None),
            _ => Err(invalid("the config must be a JSON object".into())),
        };
    };
    CONTAINER_CONFIG.canonicalize(obj);
    if let Some(m) = CONTAINER_CONFIG.mistyped(obj) {
        return Err(Error::invalid(m));
    }
    let c: Config = serde_json::from_value(v).map_err(|e| invalid(e.to_string()))?;
    let refused = CONTAINER_CONFIG.refused(&c.rest);
    if !refused.is_empty() {
        return Err(Error::invalid(format!(
            "berth does not keep {} in an image config",
            refused.join(", ")
        )));
    }
    run_config(c).map(Some)
}

fn run_config(c: Config) -> Result<RunConfig, Error> {
    let set = |s: Option<berth_api::container::Set>| {
        s.map(|m| m.into_keys().map(|k| (k, Empty {})).collect())
    };
    let healthcheck = c
        .healthcheck
        .filter(|h| !h.is_null())
        .map(serde_json::from_value::<HealthConfig>)
        .transpose()
        .map_err(|e| Error::invalid(format!("invalid Healthcheck: {e}")))?;
    Ok(RunConfig {
        hostname: c.hostname,
        domainname: c.domainname,
        user: c.user,
        exposed_ports: set(c.exposed_ports),
        env: c.env,
        cmd: c.cmd,
        healthcheck,
        image: c.image,
        volumes: set(c.volumes),
        working_dir: c.working_dir,
        entrypoint: c.entrypoint,
        on_build: c.on_build,
        labels: c.labels,
        stop_signal: c.stop_signal,
        shell: c.shell,
        ..RunConfig::default()
    })
}
