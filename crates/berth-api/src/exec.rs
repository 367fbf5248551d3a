//! Exec endpoints: `POST /containers/{id}/exec`, `POST /exec/{id}/start`, `GET /exec/{id}/json`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The body of `POST /containers/{id}/exec`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ExecConfig {
    #[serde(default, deserialize_with = "crate::null_default")]
    pub attach_stdin: bool,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub attach_stdout: bool,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub attach_stderr: bool,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub detach_keys: String,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub detach: bool,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub tty: bool,
    /// `[height, width]` of the terminal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console_size: Option<Vec<u16>>,
    #[serde(default)]
    pub env: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::str_slice")]
    pub cmd: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub privileged: bool,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub user: String,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub working_dir: String,
    /// Fields berth does not implement.
    #[serde(flatten)]
    pub rest: BTreeMap<String, Value>,
}

/// The response of `POST /containers/{id}/exec`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExecCreateResponse {
    /// The exec's ID.
    #[serde(rename = "Id")]
    pub id: String,
}

/// The body of `POST /exec/{id}/start`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ExecStartConfig {
    #[serde(default, deserialize_with = "crate::null_default")]
    pub detach: bool,
    #[serde(default, deserialize_with = "crate::null_default")]
    pub tty: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console_size: Option<Vec<u16>>,
}

/// `ProcessConfig` of an exec's inspect.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct ProcessConfig {
    pub arguments: Vec<String>,
    pub entrypoint: String,
    pub privileged: bool,
    pub tty: bool,
    pub user: String,
}

/// The response of `GET /exec/{id}/json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ExecInspect {
    pub can_remove: bool,
    #[serde(rename = "ContainerID")]
    pub container_id: String,
    pub detach_keys: String,
    /// `null` until the process ended.
    pub exit_code: Option<i64>,
    #[serde(rename = "ID")]
    pub id: String,
    pub open_stderr: bool,
    pub open_stdin: bool,
    pub open_stdout: bool,
    pub process_config: ProcessConfig,
    pub running: bool,
    pub pid: i64,
}
