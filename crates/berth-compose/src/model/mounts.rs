//! What a service mounts: `volumes`, `devices`, `secrets`, `configs`.

use indexmap::IndexMap;
use serde::Deserialize;

use super::lenient;
use super::units::Bytes;

/// One entry of `services.*.volumes`, long form.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mount {
    /// `type`.
    #[serde(rename = "type")]
    pub kind: MountKind,
    /// `source`: host path (bind), volume name (volume, `None` = anonymous).
    #[serde(default)]
    pub source: Option<String>,
    /// `target`: the path in the container.
    pub target: String,
    /// `read_only`.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub read_only: bool,
    /// `consistency` (accepted for compatibility; Linux ignores it, as Docker does).
    #[serde(default)]
    pub consistency: Option<String>,
    /// `bind` options.
    #[serde(default)]
    pub bind: Option<BindOptions>,
    /// `volume` options.
    #[serde(default)]
    pub volume: Option<VolumeOptions>,
    /// `tmpfs` options.
    #[serde(default)]
    pub tmpfs: Option<TmpfsOptions>,
}

/// A mount's `type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountKind {
    /// A host path.
    Bind,
    /// A named or anonymous volume.
    Volume,
    /// A tmpfs.
    Tmpfs,
}

impl MountKind {
    /// The name compose writes.
    pub fn as_str(self) -> &'static str {
        match self {
            MountKind::Bind => "bind",
            MountKind::Volume => "volume",
            MountKind::Tmpfs => "tmpfs",
        }
    }
}

/// `volumes[].bind`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindOptions {
    /// `propagation` (`rprivate`, `shared`, ...).
    #[serde(default)]
    pub propagation: Option<String>,
    /// `create_host_path`: make a missing source directory (compose's default: true).
    #[serde(default = "yes", deserialize_with = "lenient::bool")]
    pub create_host_path: bool,
    /// `selinux` (`z` or `Z`).
    #[serde(default)]
    pub selinux: Option<String>,
}

fn yes() -> bool {
    true
}

/// `volumes[].volume`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeOptions {
    /// `nocopy`: don't copy the image's content into a new volume.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub nocopy: bool,
    /// `subpath`: mount a directory inside the volume.
    #[serde(default)]
    pub subpath: Option<String>,
}

/// `volumes[].tmpfs`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TmpfsOptions {
    /// `size`.
    #[serde(default)]
    pub size: Option<Bytes>,
    /// `mode` (`01777` octal, or decimal).
    #[serde(default, deserialize_with = "lenient::opt_mode")]
    pub mode: Option<u32>,
}

/// One entry of `services.*.devices`, long form.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// `source`: the host's device.
    pub source: String,
    /// `target`: the path in the container.
    pub target: String,
    /// `permissions` (`rwm`).
    #[serde(default = "rwm")]
    pub permissions: String,
}

fn rwm() -> String {
    "rwm".into()
}

/// One entry of `services.*.secrets` or `services.*.configs`, long form.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRef {
    /// `source`: the project's secret or config.
    pub source: String,
    /// `target`: path in the container (secrets default to `/run/secrets/<source>`, configs to
    /// `/<source>`).
    #[serde(default)]
    pub target: Option<String>,
    /// `uid`.
    #[serde(default)]
    pub uid: Option<String>,
    /// `gid`.
    #[serde(default)]
    pub gid: Option<String>,
    /// `mode` (written in octal as `0440` or decimal).
    #[serde(default, deserialize_with = "lenient::opt_mode")]
    pub mode: Option<u32>,
}

/// Options a network or volume driver takes.
pub type DriverOpts = IndexMap<String, String>;
