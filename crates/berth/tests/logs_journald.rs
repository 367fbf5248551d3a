//! The `journald` driver against a real systemd-journald: journald and the daemon share a
//! private mount namespace whose /run/systemd, /run/log and /var/log/journal are tmpfs, so
//! nothing reaches the host's journal; the entries are read back with journalctl.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;

/// Starts journald in the daemon's namespace before the daemon, and records its pid.
const PRELUDE: &str = r#"
for d in /run/systemd /run/log /var/log/journal; do mount -t tmpfs tmpfs "$d"; done
/lib/systemd/systemd-journald </dev/null >/dev/null 2>&1 &
echo $! > "$BERTH_TEST_DIR/journald.pid"
i=0; while [ ! -S /run/systemd/journal/socket ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
"#;

/// Kills journald when the test ends (after the daemon, declared before it).
struct Journal(PathBuf);

impl Journal {
    fn pid(&self) -> String {
        std::fs::read_to_string(&self.0)
            .expect("journald started")
            .trim()
            .to_string()
    }

    /// The entries of container `name`, as journalctl's JSON.
    fn entries(&self, name: &str) -> Vec<serde_json::Value> {
        let out = Command::new("nsenter")
            .arg(format!("--mount=/proc/{}/ns/mnt", self.pid()))
            .args([
                "journalctl",
                "-D",
                "/run/log/journal",
                "-o",
                "json",
                "--all",
                "--no-pager",
            ])
            .arg(format!("CONTAINER_NAME={name}"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(&self.0) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

#[test]
fn journald_entries_carry_dockers_fields() {
    let d = TestDaemon::start_in_mount_ns(PRELUDE);
    let journal = Journal(d.dir().join("journald.pid"));
    d.import_busybox("busybox");
    let id = d
        .docker(&[
            "run",
            "--name",
            "jn",
            "--label",
            "com.example.note=two\nlines",
            "--log-driver",
            "journald",
            "--log-opt",
            "labels=com.example.note",
            "--log-opt",
            "tag=web-{{.Name}}",
            "busybox",
            "sh",
            "-c",
            "echo hello; echo oops >&2",
        ])
        .ok();
    assert_eq!(id, "hello\n", "attached output comes through the cache");
    wait_for("two journal entries", || journal.entries("jn").len() >= 2);
    let entries = journal.entries("jn");
    let full = d.inspect("jn", "{{.Id}}");
    let by = |msg: &str| entries.iter().find(|e| e["MESSAGE"] == msg).unwrap();
    assert_eq!(by("hello")["PRIORITY"], "6");
    assert_eq!(by("oops")["PRIORITY"], "3");
    for e in &entries {
        assert_eq!(e["CONTAINER_ID_FULL"], full.as_str());
        assert_eq!(e["CONTAINER_ID"], &full[..12]);
        assert_eq!(e["CONTAINER_TAG"], "web-jn");
        assert_eq!(e["SYSLOG_IDENTIFIER"], "web-jn");
        assert_eq!(e["IMAGE_NAME"], "busybox");
        // A value with a newline travels length-prefixed.
        assert_eq!(e["COM_EXAMPLE_NOTE"], "two\nlines");
    }
    let logs = d.docker(&["logs", "jn"]);
    assert_eq!(
        (logs.stdout.as_str(), logs.stderr.as_str()),
        ("hello\n", "oops\n")
    );
}

#[test]
fn a_big_entry_goes_as_a_memfd() {
    let d = TestDaemon::start_in_mount_ns(PRELUDE);
    let journal = Journal(d.dir().join("journald.pid"));
    d.import_busybox("busybox");
    // Three labels of 100 KiB make every entry larger than a datagram may be.
    let big = "b".repeat(100 * 1024);
    let labels: Vec<String> = (1..=3).map(|i| format!("big{i}={big}")).collect();
    let mut args = vec!["run", "--name", "big"];
    for l in &labels {
        args.extend(["--label", l]);
    }
    args.extend([
        "--log-driver",
        "journald",
        "--log-opt",
        "labels=big1,big2,big3",
        "busybox",
        "echo",
        "large",
    ]);
    d.docker(&args).ok();
    wait_for("the big entry", || !journal.entries("big").is_empty());
    let e = &journal.entries("big")[0];
    assert_eq!(e["MESSAGE"], "large");
    for k in ["BIG1", "BIG2", "BIG3"] {
        assert_eq!(e[k].as_str().map(str::len), Some(big.len()));
    }
}

#[test]
fn without_a_journal_the_driver_says_so() {
    // An empty /run/systemd, whether or not the host runs journald.
    let d = TestDaemon::start_in_mount_ns("mount -t tmpfs tmpfs /run/systemd");
    d.import_busybox("busybox");
    d.docker(&["run", "--log-driver", "journald", "busybox", "true"])
        .fails_with(
            125,
            "failed to initialize logging driver: journald is not enabled on this host",
        );
}
