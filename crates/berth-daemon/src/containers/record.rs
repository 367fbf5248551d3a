//! A container's persisted record and its state machine's states.
//!
//! Records carry a schema version. Version 1 (berth before the domain model) stored Docker's
//! `Config` and `HostConfig` as the client sent them; [`decode`] turns such a record into the
//! current form, so a daemon upgraded in place keeps its containers. Version 3 added the
//! `restarting` status, pause and the restart counters; a version 2 record reads as one that never
//! restarted. A record from a newer berth is refused rather than misread (an older berth cannot
//! read `restarting`).

use berth_api::container::{Config, HostConfig};
use berth_core::Digest;
use serde::{Deserialize, Serialize};

use super::model::{MountSpec, Spec};

/// Docker's container states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Created, never started (or failed to start).
    Created,
    /// Its process runs.
    Running,
    /// Being removed.
    Removing,
    /// Its process ended and its restart policy starts it again after a back-off.
    Restarting,
    /// Its process ended.
    Exited,
    /// Could not be cleaned up.
    Dead,
}

impl Status {
    /// Docker's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Restarting => "restarting",
            Status::Removing => "removing",
            Status::Exited => "exited",
            Status::Dead => "dead",
        }
    }
}

/// The mutable part of a record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    /// Current state.
    pub status: Status,
    /// Host pid of the init while running, else 0.
    pub pid: i64,
    /// Exit code of the last run.
    pub exit_code: i64,
    /// Why the last start failed.
    pub error: String,
    /// When the last run started (RFC 3339), or Go's zero time.
    pub started_at: String,
    /// When the last run ended.
    pub finished_at: String,
    /// Whether the last run saw an OOM kill.
    pub oom_killed: bool,
    /// Whether its processes are frozen (only while running).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub paused: bool,
    /// Restarts by its policy since a user last started it.
    #[serde(default)]
    pub restart_count: u32,
    /// A user stopped or killed it since it was last started: `unless-stopped` leaves it down.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub manually_stopped: bool,
}

impl State {
    /// Docker's `State.Status`: a paused container is `paused`, not `running`.
    pub fn docker_status(&self) -> &'static str {
        match self.status {
            Status::Running if self.paused => "paused",
            s => s.as_str(),
        }
    }

    /// Docker's `Running`: also while paused or waiting to restart.
    pub fn docker_running(&self) -> bool {
        matches!(self.status, Status::Running | Status::Restarting)
    }
}

/// Go's zero time, which Docker shows for "never".
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

impl Default for State {
    fn default() -> Self {
        State {
            status: Status::Created,
            pid: 0,
            exit_code: 0,
            error: String::new(),
            started_at: ZERO_TIME.into(),
            finished_at: ZERO_TIME.into(),
            oom_killed: false,
            paused: false,
            restart_count: 0,
            manually_stopped: false,
        }
    }
}

/// The record schema this berth writes.
pub const SCHEMA: u32 = 3;

/// What the daemon stores for a container.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// [`SCHEMA`] when written by this berth.
    pub schema: u32,
    /// 64-hex-digit ID.
    pub id: String,
    /// Name without the leading `/`.
    pub name: String,
    /// Creation time (RFC 3339).
    pub created: String,
    /// The image ID.
    pub image_id: Digest,
    /// Its top layer.
    pub chain_id: Option<Digest>,
    /// The effective spec (image defaults merged in).
    pub spec: Spec,
    /// argv[0].
    pub path: String,
    /// argv[1..].
    pub args: Vec<String>,
    /// Run state.
    pub state: State,
    /// A build step's container: removed when found after a daemon restart (its build died).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub build_step: bool,
}

/// A record as berth wrote it before schema versions (schema 1).
#[derive(Deserialize)]
struct RecordV1 {
    id: String,
    name: String,
    created: String,
    image_id: Digest,
    chain_id: Option<Digest>,
    config: Config,
    host_config: HostConfig,
    path: String,
    args: Vec<String>,
    state: State,
    #[serde(default)]
    build_mounts: Vec<berth_runtime::ExtraMount>,
    #[serde(default)]
    build_step: bool,
}

impl From<RecordV1> for Record {
    fn from(v1: RecordV1) -> Record {
        let mut spec = crate::wire::create::from_docker(&v1.config, &v1.host_config);
        spec.mounts = v1.build_mounts.iter().map(MountSpec::from).collect();
        Record {
            schema: SCHEMA,
            id: v1.id,
            name: v1.name,
            created: v1.created,
            image_id: v1.image_id,
            chain_id: v1.chain_id,
            spec,
            path: v1.path,
            args: v1.args,
            state: v1.state,
            build_step: v1.build_step,
        }
    }
}

/// Why a stored record cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not a record of any schema.
    #[error("unreadable container record: {0}")]
    Json(#[from] serde_json::Error),
    /// Written by a newer berth.
    #[error("container record of schema {0} is newer than this berth's ({SCHEMA})")]
    Newer(u64),
}

/// Reads a stored record of any schema up to [`SCHEMA`]; the flag says it was migrated and
/// should be written back.
pub fn decode(bytes: &[u8]) -> Result<(Record, bool), DecodeError> {
    let v: serde_json::Value = serde_json::from_slice(bytes)?;
    match v.get("schema").and_then(serde_json::Value::as_u64) {
        None => Ok((serde_json::from_value::<RecordV1>(v)?.into(), true)),
        Some(s) if s == u64::from(SCHEMA) => Ok((serde_json::from_value(v)?, false)),
        // Version 2 differs only by fields that default.
        Some(2) => {
            let mut r: Record = serde_json::from_value(v)?;
            r.schema = SCHEMA;
            Ok((r, true))
        }
        Some(s) => Err(DecodeError::Newer(s)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::MountKind;
    use super::*;

    /// A record as berth 0.x wrote it, before schema versions.
    const V1: &str = r#"{"id":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "name":"web","created":"2026-11-30T10:00:00Z",
        "image_id":"sha256:1111111111111111111111111111111111111111111111111111111111111111",
        "chain_id":null,
        "config":{"Hostname":"0123456789ab","User":"nobody","Env":["PATH=/bin","A=1"],
                  "Cmd":["sleep","100"],"Image":"busybox","WorkingDir":"/srv","Tty":true,
                  "Labels":{"app":"web"},"StopSignal":"SIGINT"},
        "host_config":{"NetworkMode":"host","Memory":67108864,"PidsLimit":-1,"Init":true,
                       "RestartPolicy":{"Name":"no","MaximumRetryCount":0},
                       "LogConfig":{"Type":"json-file","Config":null}},
        "path":"sleep","args":["100"],
        "state":{"status":"exited","pid":0,"exit_code":3,"error":"",
                 "started_at":"2026-11-30T10:00:01Z","finished_at":"2026-11-30T10:00:02Z",
                 "oom_killed":false},
        "build_mounts":[{"kind":"bind","source":"/ctx","destination":"/src","readonly":true,"options":[]}],
        "build_step":true}"#;

    #[test]
    fn a_schema_1_record_migrates_with_everything_it_said() {
        let (r, migrated) = decode(V1.as_bytes()).unwrap();
        assert!(migrated);
        assert_eq!(r.schema, SCHEMA);
        assert_eq!((r.name.as_str(), r.path.as_str()), ("web", "sleep"));
        assert_eq!(r.state.status, Status::Exited);
        assert_eq!(r.state.exit_code, 3);
        let s = &r.spec;
        assert_eq!(s.image, "busybox");
        assert_eq!(s.user, "nobody");
        assert_eq!(s.working_dir, "/srv");
        assert_eq!(s.env, ["PATH=/bin", "A=1"]);
        assert!(s.stdio.tty);
        assert_eq!(s.labels["app"], "web");
        assert_eq!(s.stop_signal.as_deref(), Some("SIGINT"));
        assert_eq!(s.network, super::super::NetworkMode::Host);
        assert_eq!(s.resources.memory, 64 << 20);
        assert_eq!(s.resources.pids_limit, None);
        assert_eq!(s.init, Some(true));
        assert_eq!(
            s.mounts,
            [MountSpec {
                kind: MountKind::Bind {
                    source: "/ctx".into(),
                    propagation: Default::default(),
                    nonrecursive: false,
                },
                target: "/src".into(),
                readonly: true,
                options: vec![],
                origin: super::super::model::MountOrigin::Build,
            }]
        );
        assert!(r.build_step);
        // Written back, it reads as the current schema without a migration.
        let (again, migrated) = decode(&serde_json::to_vec(&r).unwrap()).unwrap();
        assert!(!migrated);
        assert_eq!(again.spec, r.spec);
    }

    #[test]
    fn a_schema_2_record_reads_as_one_that_never_restarted_and_is_written_back() {
        let (r, _) = decode(V1.as_bytes()).unwrap();
        let mut v = serde_json::to_value(&r).unwrap();
        v["schema"] = 2.into();
        let state = v["state"].as_object_mut().unwrap();
        state.remove("restart_count");
        let (r2, migrated) = decode(&serde_json::to_vec(&v).unwrap()).unwrap();
        assert!(migrated);
        assert_eq!(r2.schema, SCHEMA);
        assert_eq!(r2.state.restart_count, 0);
        assert!(!r2.state.paused && !r2.state.manually_stopped);
    }

    #[test]
    fn a_record_of_a_newer_schema_is_refused_not_misread() {
        let newer = r#"{"schema": 4, "id": "x"}"#;
        assert!(matches!(
            decode(newer.as_bytes()),
            Err(DecodeError::Newer(4))
        ));
        decode(b"{}").unwrap_err();
    }
}
