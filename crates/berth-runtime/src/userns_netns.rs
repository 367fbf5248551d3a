//! A user namespace with a container's ID maps and a network namespace it owns, both kept at
//! files (bind mounts of their `ns` files) for the daemon to configure and the container to
//! join, as Docker's containers have them under `--userns-remap`. A network namespace the
//! host's user namespace owns would leave the container's root without its network
//! capabilities (ports below 1024, raw sockets, `net.*` settings), without a sysfs of its own,
//! and unjoinable by runc 1.1's exec, which enters the user namespace first.
//!
//! Making them takes a process of its own: a multi-threaded daemon cannot enter a new user
//! namespace. The daemon runs `berth userns-netns MAP USERNS_FILE NETNS_FILE` ([`spawn`]);
//! that process ([`run_helper`]) forks a child that makes both namespaces while it writes the
//! child's maps and keeps the namespaces.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Command;

use berth_core::idmap::{IdMap, IdRange};
use nix::sched::CloneFlags;
use nix::unistd::ForkResult;

/// Runs the helper from binary `exe`: makes the namespaces at `userns_file` and `netns_file`.
pub fn spawn(exe: &Path, map: &IdMap, userns_file: &Path, netns_file: &Path) -> Result<(), String> {
    let out = Command::new(exe)
        .arg("userns-netns")
        .arg(serde_json::to_string(map).expect("a map serializes"))
        .arg(userns_file)
        .arg(netns_file)
        .output()
        .map_err(|e| format!("running {}: {e}", exe.display()))?;
    if !out.status.success() {
        return Err(format!(
            "making the container's user and network namespaces: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

/// `berth userns-netns MAP USERNS_FILE NETNS_FILE`; the exit code.
pub fn run_helper(args: &[String]) -> i32 {
    let [map, userns, netns] = args else {
        eprintln!("usage: berth userns-netns MAP USERNS_FILE NETNS_FILE");
        return 2;
    };
    let result = serde_json::from_str::<IdMap>(map)
        .map_err(|e| format!("reading the map: {e}"))
        .and_then(|map| make(&map, Path::new(userns), Path::new(netns)));
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{e}");
            1
        }
    }
}

/// Makes the namespaces. Forks: call it only from a single-threaded process.
fn make(map: &IdMap, userns_file: &Path, netns_file: &Path) -> Result<(), String> {
    for f in [userns_file, netns_file] {
        std::fs::write(f, "").map_err(|e| format!("creating {}: {e}", f.display()))?;
    }
    let (mut parent, mut child) = UnixStream::pair().map_err(|e| format!("socketpair: {e}"))?;
    // SAFETY: the helper process is single-threaded, so the child may run any code.
    let fork = unsafe { nix::unistd::fork() }.map_err(|e| format!("fork: {e}"))?;
    let pid = match fork {
        ForkResult::Child => {
            drop(parent);
            let code = i32::from(in_child(&mut child).is_err());
            std::process::exit(code);
        }
        ForkResult::Parent { child: pid } => pid,
    };
    drop(child);
    let result = keep(&mut parent, pid, map, userns_file, netns_file);
    let _ = parent.write_all(b"x");
    drop(parent);
    let _ = nix::sys::wait::waitpid(pid, None);
    if result.is_err() {
        for f in [userns_file, netns_file] {
            let _ = nix::mount::umount2(f, nix::mount::MntFlags::MNT_DETACH);
            let _ = std::fs::remove_file(f);
        }
    }
    result
}

/// The child: a new user namespace, then (once mapped) a network namespace it owns; waits
/// until the parent has kept both.
fn in_child(s: &mut UnixStream) -> std::io::Result<()> {
    let mut byte = [0u8];
    nix::sched::unshare(CloneFlags::CLONE_NEWUSER)?;
    s.write_all(b"u")?;
    s.read_exact(&mut byte)?;
    nix::sched::unshare(CloneFlags::CLONE_NEWNET)?;
    s.write_all(b"n")?;
    s.read_exact(&mut byte)?;
    Ok(())
}

/// The parent's side: writes the child's maps, then binds its namespaces onto the files.
fn keep(
    s: &mut UnixStream,
    pid: nix::unistd::Pid,
    map: &IdMap,
    userns_file: &Path,
    netns_file: &Path,
) -> Result<(), String> {
    let mut byte = [0u8];
    let step = |e: std::io::Error| format!("the namespace child stopped: {e}");
    s.read_exact(&mut byte).map_err(step)?;
    for (file, ranges) in [("uid_map", &map.uids), ("gid_map", &map.gids)] {
        let path = format!("/proc/{pid}/{file}");
        std::fs::write(&path, lines(ranges)).map_err(|e| format!("writing {path}: {e}"))?;
    }
    s.write_all(b"m").map_err(step)?;
    s.read_exact(&mut byte).map_err(step)?;
    for (ns, file) in [("user", userns_file), ("net", netns_file)] {
        let source = format!("/proc/{pid}/ns/{ns}");
        nix::mount::mount(
            Some(source.as_str()),
            file,
            None::<&str>,
            nix::mount::MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(|e| format!("keeping {source} at {}: {e}", file.display()))?;
    }
    Ok(())
}

/// A map file's text.
fn lines(ranges: &[IdRange]) -> String {
    ranges
        .iter()
        .map(|r| format!("{} {} {}\n", r.container, r.host, r.size))
        .collect()
}
