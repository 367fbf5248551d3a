//! The host side of `--device`: the node (or the nodes under a directory) a host path names, as
//! moby's `oci.DevicesFromPath` finds them.

use std::path::Path;

use nix::sys::stat::{SFlag, lstat};

use super::{Access, Device, NodeKind, Rule};

/// A host path that gives no device, in Docker's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("error gathering device information while adding custom device {host:?}: {reason}")]
pub struct HostDeviceError {
    /// The path as given.
    pub host: String,
    /// Why, as Go prints it (`no such file or directory`, `not a device node`).
    pub reason: String,
}

/// Why a path is not a node.
enum NotNode {
    /// It exists, as something else.
    Other,
    /// It cannot be read.
    Io(std::io::Error),
}

/// The nodes `host` gives, at `container` in the container, each with a rule allowing
/// `access` (none for a FIFO). A symlink is followed; a directory is walked, its nodes placed
/// under `container` as they are under `host`, anything else in it skipped.
pub fn from_host(
    host: &str,
    container: &str,
    access: Access,
) -> Result<(Vec<Device>, Vec<Rule>), HostDeviceError> {
    let mut resolved = host.to_string();
    if lstat(host).is_ok_and(|s| kind(s.st_mode) == Some(SFlag::S_IFLNK))
        && let Ok(target) = std::fs::canonicalize(host)
    {
        resolved = target.display().to_string();
    }
    let reason = match node(Path::new(&resolved), container) {
        Ok(d) => {
            let rules = d.rule(access).into_iter().collect();
            return Ok((vec![d], rules));
        }
        Err(NotNode::Io(e)) => go_text(&e),
        Err(NotNode::Other) => {
            let mut devices = Vec::new();
            if std::fs::metadata(&resolved).is_ok_and(|m| m.is_dir()) {
                walk(Path::new(&resolved), &resolved, container, &mut devices);
            }
            if !devices.is_empty() {
                let rules = devices.iter().filter_map(|d| d.rule(access)).collect();
                return Ok((devices, rules));
            }
            "not a device node".to_string()
        }
    };
    Err(HostDeviceError {
        host: host.to_string(),
        reason,
    })
}

/// The nodes under `dir`, in name order, not following symlinks; what cannot be read is
/// skipped, as Docker skips it.
fn walk(dir: &Path, root: &str, container: &str, out: &mut Vec<Device>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let path_text = path.display().to_string();
        let inside = format!("{container}{}", &path_text[root.len()..]);
        match node(&path, &inside) {
            Ok(d) => out.push(d),
            Err(_) if e.file_type().is_ok_and(|t| t.is_dir()) => walk(&path, root, container, out),
            Err(_) => {}
        }
    }
}

fn kind(mode: u32) -> Option<SFlag> {
    SFlag::from_bits(mode & SFlag::S_IFMT.bits())
}

/// The node at `path` (not following a symlink), placed at `container`.
fn node(path: &Path, container: &str) -> Result<Device, NotNode> {
    let st = lstat(path).map_err(|e| NotNode::Io(std::io::Error::from(e)))?;
    let kind = match kind(st.st_mode) {
        Some(SFlag::S_IFCHR) => NodeKind::Char,
        Some(SFlag::S_IFBLK) => NodeKind::Block,
        Some(SFlag::S_IFIFO) => NodeKind::Fifo,
        _ => return Err(NotNode::Other),
    };
    Ok(Device {
        path: container.to_string(),
        kind,
        major: nix::sys::stat::major(st.st_rdev) as u32,
        minor: nix::sys::stat::minor(st.st_rdev) as u32,
        file_mode: st.st_mode & 0o7777,
        uid: st.st_uid,
        gid: st.st_gid,
    })
}

/// An I/O error as Go prints an errno: `no such file or directory`.
fn go_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    let s = s.split(" (os error").next().unwrap_or(&s);
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::stat::{Mode, makedev, mknod};

    #[test]
    fn nodes_links_and_directories_are_found_as_docker_finds_them() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let (null, _) = from_host("/dev/null", "/dev/mynull", Access::READ).unwrap();
        assert_eq!(
            null,
            [Device {
                path: "/dev/mynull".into(),
                kind: NodeKind::Char,
                major: 1,
                minor: 3,
                file_mode: 0o666,
                uid: 0,
                gid: 0,
            }]
        );
        // A symlink is resolved; the container path stays as asked.
        std::os::unix::fs::symlink("/dev/null", d.join("link")).unwrap();
        let link = d.join("link").display().to_string();
        let (devices, rules) = from_host(&link, "/dev/x", Access::ALL).unwrap();
        assert_eq!((devices[0].major, devices[0].minor), (1, 3));
        assert_eq!(rules[0].to_string(), "c 1:3 rwm");

        // A directory: its nodes, in order, under the container path; other files skipped.
        let snd = d.join("snd");
        std::fs::create_dir_all(snd.join("by-id")).unwrap();
        let mk = |p: &Path, k: SFlag, maj, min| {
            mknod(p, k, Mode::from_bits_truncate(0o640), makedev(maj, min)).unwrap()
        };
        mk(&snd.join("timer"), SFlag::S_IFCHR, 116, 33);
        mk(&snd.join("by-id/disk"), SFlag::S_IFBLK, 7, 0);
        mk(&snd.join("pipe"), SFlag::S_IFIFO, 0, 0);
        std::fs::write(snd.join("readme"), "").unwrap();
        std::os::unix::fs::symlink("/dev/zero", snd.join("zero")).unwrap();
        let (devices, rules) =
            from_host(&snd.display().to_string(), "/dev/snd", Access::READ).unwrap();
        let paths: Vec<_> = devices
            .iter()
            .map(|d| (d.path.as_str(), d.kind, d.file_mode))
            .collect();
        assert_eq!(
            paths,
            [
                ("/dev/snd/by-id/disk", NodeKind::Block, 0o640),
                ("/dev/snd/pipe", NodeKind::Fifo, 0o640),
                ("/dev/snd/timer", NodeKind::Char, 0o640),
            ]
        );
        let rules: Vec<String> = rules.iter().map(|r| r.to_string()).collect();
        assert_eq!(rules, ["b 7:0 r", "c 116:33 r"], "no rule for a FIFO");

        let missing = from_host("/dev/nosuch", "/dev/nosuch", Access::ALL).unwrap_err();
        assert_eq!(
            missing.to_string(),
            "error gathering device information while adding custom device \"/dev/nosuch\": no such file or directory"
        );
        let empty = d.join("empty");
        std::fs::create_dir(&empty).unwrap();
        let plain = from_host(&empty.display().to_string(), "/dev/e", Access::ALL).unwrap_err();
        assert_eq!(plain.reason, "not a device node");
    }
}
