//! `Config.Healthcheck` of a create, with Docker's checks; and the label that says what to do
//! with a container that turns unhealthy (berth's own: Docker never acts on it).

use berth_image::config::HealthConfig;
use serde_json::Value;

use crate::containers::HealthAction;
use crate::error::{Error, Result};

/// Docker's shortest interval, timeout, start period and start interval.
const MIN: i64 = 1_000_000;

/// The healthcheck asked for, checked as Docker checks it.
pub fn requested(v: &Option<Value>) -> Result<Option<HealthConfig>> {
    let Some(v) = v.as_ref().filter(|v| !berth_api::is_unset(v)) else {
        return Ok(None);
    };
    // Clients send null for what they leave unset (docker-py does).
    let mut v = v.clone();
    if let Value::Object(m) = &mut v {
        m.retain(|_, f| !f.is_null());
    }
    let h: HealthConfig = serde_json::from_value(v)
        .map_err(|e| Error::invalid(format!("invalid Healthcheck: {e}")))?;
    for (name, value) in [
        ("Interval", h.interval),
        ("Timeout", h.timeout),
        ("StartPeriod", h.start_period),
        ("StartInterval", h.start_interval),
    ] {
        if value != 0 && value < MIN {
            return Err(Error::invalid(format!(
                "{name} in Healthcheck cannot be less than 1ms"
            )));
        }
    }
    if h.retries < 0 {
        return Err(Error::invalid("Retries in Healthcheck cannot be negative"));
    }
    Ok(Some(h))
}

/// The label the stock docker CLI and compose files can set.
pub const ON_FAILURE_LABEL: &str = "berth.health-on-failure";

/// What the label says, refusing a value berth does not know.
pub fn action(labels: &std::collections::BTreeMap<String, String>) -> Result<HealthAction> {
    match labels.get(ON_FAILURE_LABEL).map(String::as_str) {
        None | Some("" | "none") => Ok(HealthAction::None),
        Some("kill") => Ok(HealthAction::Kill),
        Some("restart") => Ok(HealthAction::Restart),
        Some("stop") => Ok(HealthAction::Stop),
        Some(other) => Err(Error::invalid(format!(
            "invalid value for {ON_FAILURE_LABEL}: {other:?}: must be one of none, kill, restart, stop"
        ))),
    }
}
