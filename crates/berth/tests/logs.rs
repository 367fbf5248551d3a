//! Container logs that never fill the disk: json-file rotation (on by default), compression,
//! readers across rotated files, `logs -f` across a rotation, the daemon's defaults, Docker's
//! messages for bad options, `--details`, and the `none` and `local` drivers.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::TestDaemon;

/// A busybox awk program printing lines `00000001 <pad>` … `N <pad>` (each `width` bytes with
/// its newline), as fast as it can.
fn numbered(n: u32, width: usize) -> String {
    let pad = "x".repeat(width - 10);
    format!("busybox awk 'BEGIN {{ for (i = 1; i <= {n}; i++) printf \"%08d {pad}\\n\", i }}'")
}

/// The numbers of `numbered` lines, checking each line is whole.
fn numbers(text: &str) -> Vec<u32> {
    text.lines()
        .map(|l| {
            let (n, pad) = l.split_once(' ').unwrap_or_else(|| panic!("line {l:?}"));
            assert!(pad.bytes().all(|b| b == b'x'), "line {l:?}");
            n.parse().unwrap()
        })
        .collect()
}

/// Asserts `ns` is `first..=last` without a gap.
fn consecutive(ns: &[u32], last: u32) {
    assert!(!ns.is_empty());
    assert_eq!(*ns.last().unwrap(), last, "the last line");
    for w in ns.windows(2) {
        assert_eq!(w[1], w[0] + 1, "lines in order, none missing");
    }
}

fn container_dir(d: &TestDaemon, id: &str) -> PathBuf {
    d.root.join("containers").join(id)
}

/// The names and sizes of the files in `dir` whose name starts with `prefix`.
fn files(dir: &Path, prefix: &str) -> Vec<(String, u64)> {
    let mut found: Vec<(String, u64)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| {
            let len = e.metadata().unwrap().len();
            (e.file_name().to_string_lossy().into_owned(), len)
        })
        .collect();
    found.sort();
    found
}

/// Runs `script` detached with `opts`, waits for its end; returns the full ID.
fn run_to_end(d: &TestDaemon, opts: &[&str], script: &str) -> String {
    let mut args = vec!["run", "-d"];
    args.extend(opts);
    args.extend(["busybox", "sh", "-c", script]);
    let id = d.docker(&args).ok().trim().to_string();
    assert_eq!(d.docker(&["wait", &id]).ok().trim(), "0");
    id
}

#[test]
fn json_file_rotates_at_max_size_and_logs_reads_across_files() {
    let d = TestDaemon::with_busybox(&[]);
    // ~20 MB of output, ~40 MB of json.
    let id = run_to_end(
        &d,
        &["--log-opt", "max-size=1m", "--log-opt", "max-file=3"],
        &numbered(250_000, 80),
    );
    let logs = files(&container_dir(&d, &id), &format!("{id}-json.log"));
    assert!(logs.len() <= 3 && logs.len() >= 2, "{logs:?}");
    for (name, len) in &logs {
        // Rotation happens before the entry that would start past max-size.
        assert!(*len <= 1_000_000 + 200, "{name} is {len} bytes");
    }
    let all = d.docker(&["logs", &id]).ok();
    let ns = numbers(&all);
    consecutive(&ns, 250_000);
    assert!(
        ns[0] > 200_000,
        "older lines were dropped: starts at {}",
        ns[0]
    );
    let tail = numbers(&d.docker(&["logs", "--tail", "3", &id]).ok());
    assert_eq!(tail, [249_998, 249_999, 250_000]);
    // -t and --until read every file too.
    let stamped = d
        .docker(&["logs", "-t", "--until", "2999-01-01T00:00:00Z", &id])
        .ok();
    assert_eq!(stamped.lines().count(), ns.len());
    let inspect = d.inspect(&id, "{{json .HostConfig.LogConfig}}");
    assert_eq!(
        inspect.trim(),
        r#"{"Type":"json-file","Config":{"max-file":"3","max-size":"1m"}}"#
    );
}

#[test]
fn compressed_rotated_files_are_gzip_and_read() {
    let d = TestDaemon::with_busybox(&[]);
    let id = run_to_end(
        &d,
        &[
            "--log-opt",
            "max-size=100k",
            "--log-opt",
            "max-file=4",
            "--log-opt",
            "compress=true",
        ],
        &numbered(20_000, 100),
    );
    let dir = container_dir(&d, &id);
    let names: Vec<String> = files(&dir, &format!("{id}-json.log"))
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let suffixes: Vec<&str> = names.iter().map(|n| &n[id.len()..]).collect();
    assert_eq!(
        suffixes,
        [
            "-json.log",
            "-json.log.1.gz",
            "-json.log.2.gz",
            "-json.log.3.gz"
        ]
    );
    let gz = std::fs::read(dir.join(format!("{id}-json.log.3.gz"))).unwrap();
    assert_eq!(&gz[..2], b"\x1f\x8b", "a gzip file");
    // Docker's gzip header: the time of the last entry in the extra field.
    let gunzipped = Command::new("gzip")
        .args(["-dc"])
        .arg(dir.join(format!("{id}-json.log.3.gz")))
        .output()
        .unwrap();
    let first = String::from_utf8(gunzipped.stdout).unwrap();
    assert!(
        first.starts_with("{\"log\":\""),
        "{}",
        &first[..80.min(first.len())]
    );
    assert!(String::from_utf8_lossy(&gz).contains("\"lastTime\":\""));
    let ns = numbers(&d.docker(&["logs", &id]).ok());
    consecutive(&ns, 20_000);
    assert!(ns[0] > 1);
    let since_start = numbers(&d.docker(&["logs", "--since", "1", &id]).ok());
    assert_eq!(since_start, ns);
}

#[test]
fn logs_follow_started_before_rotations_sees_every_line() {
    let d = TestDaemon::with_busybox(&[]);
    let script = "echo start; while [ ! -e /tmp/go ]; do busybox sleep 0.05; done; \
                  i=1; while [ $i -le 40000 ]; do echo \"$i\"; i=$((i+1)); done";
    // Enough files that a follower slowed by a loaded machine is not outrun by the deletion
    // of the oldest (what it has open it reads on; a file gone before it got there is lost).
    let json = ["--log-opt", "max-size=500k", "--log-opt", "max-file=8"];
    let local = [
        "--log-driver",
        "local",
        "--log-opt",
        "max-size=200k",
        "--log-opt",
        "max-file=14",
    ];
    for opts in [&json[..], &local[..]] {
        let mut args = vec!["run", "-d"];
        args.extend(opts);
        args.extend(["busybox", "sh", "-c", script]);
        let id = d.docker(&args).ok().trim().to_string();
        let mut follower = Command::new("timeout")
            .args(["120", "docker", "-H", &d.host(), "logs", "-f", &id])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(follower.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert_eq!(line, "start\n");
        d.docker(&["exec", &id, "busybox", "touch", "/tmp/go"]).ok();
        let mut rest = String::new();
        out.read_to_string(&mut rest).unwrap();
        assert!(follower.wait().unwrap().success());
        let ns: Vec<u32> = rest.lines().map(|l| l.parse().unwrap()).collect();
        assert_eq!(
            ns.len(),
            40_000,
            "{opts:?}: every line after the start, across rotations"
        );
        consecutive(&ns, 40_000);
        let dir = container_dir(&d, &id);
        let rotated = if opts == local {
            files(&dir.join("local-logs"), "container.log.")
        } else {
            files(&dir, &format!("{id}-json.log."))
        };
        assert!(
            !rotated.is_empty(),
            "{opts:?}: the log rotated while followed"
        );
    }
}

#[test]
fn the_monitor_rotates_while_the_daemon_is_down() {
    let mut d = TestDaemon::with_busybox(&[]);
    // The go signal comes through a bind mount, without the daemon.
    let sig = tempfile::tempdir().unwrap();
    let bind = format!("{}:/sig", sig.path().display());
    let script = "while [ ! -e /sig/go ]; do busybox sleep 0.05; done; \
                  i=1; while [ $i -le 3000 ]; do echo \"$i\"; i=$((i+1)); done";
    let id = d
        .docker(&[
            "run",
            "-d",
            "-v",
            &bind,
            "--log-opt",
            "max-size=10k",
            "--log-opt",
            "max-file=50",
            "busybox",
            "sh",
            "-c",
            script,
        ])
        .ok()
        .trim()
        .to_string();
    d.kill9();
    std::fs::write(sig.path().join("go"), "").unwrap();
    let log = container_dir(&d, &id).join(format!("{id}-json.log"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::fs::read_to_string(&log).map_or(true, |t| !t.contains("\"3000\\n\"")) {
        assert!(
            std::time::Instant::now() < deadline,
            "the container never finished"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    d.spawn();
    assert_eq!(d.docker(&["wait", &id]).ok().trim(), "0");
    let ns: Vec<u32> = d
        .docker(&["logs", &id])
        .ok()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    consecutive(&ns, 3000);
    assert_eq!(ns[0], 1, "50 files of 10k hold it all");
    assert!(files(&container_dir(&d, &id), &format!("{id}-json.log.")).len() > 3);
}

#[test]
fn bad_drivers_and_options_get_dockers_messages() {
    let d = TestDaemon::with_busybox(&[]);
    let create = |opts: &[&str]| {
        let mut args = vec!["create"];
        args.extend(opts);
        args.extend(["busybox", "true"]);
        d.docker(&args)
    };
    create(&["--log-driver", "nope"])
        .fails_with(1, "logger: no log driver named 'nope' is registered");
    d.docker(&["run", "--rm", "--log-driver", "nope", "busybox", "true"])
        .fails_with(125, "logger: no log driver named 'nope' is registered");
    create(&["--log-opt", "max-size=-1"]).fails_with(1, "invalid size: '-1'");
    create(&["--log-opt", "max-size=0"]).fails_with(1, "max-size must be a positive number");
    create(&["--log-opt", "max-file=0"]).fails_with(1, "max-file cannot be less than 1");
    create(&["--log-opt", "max-file=1", "--log-opt", "compress=true"]).fails_with(
        1,
        "compress cannot be true when max-file is less than 2 or max-size is not set",
    );
    create(&["--log-opt", "bogus=1"])
        .fails_with(1, "unknown log opt 'bogus' for json-file log driver");
    create(&["--log-driver", "local", "--log-opt", "bogus=1"])
        .fails_with(1, "unknown log opt 'bogus' for log driver local");
    create(&["--log-driver", "gelf"])
        .fails_with(1, "berth does not support the gelf logging driver yet");
    create(&["--log-opt", "max-buffer-size=1m"]).fails_with(
        1,
        "logger: max-buffer-size option is only supported with 'mode=non-blocking'",
    );
    create(&["--log-driver", "syslog", "--log-opt", "syslog-format=x"])
        .fails_with(1, "Invalid syslog format");
    create(&["--log-opt", "mode=sometimes"])
        .fails_with(1, "logger: logging mode not supported: sometimes");
    create(&["--log-opt", "tag={{.Nope}}"]).fails_with(
        1,
        "berth does not support {{.Nope}} in the log tag template",
    );
    // The daemon's own defaults are checked at start, with dockerd's words.
    let dir = tempfile::tempdir().unwrap();
    let started = Command::new(common::BERTH)
        .args(["daemon", "--log-opt", "bogus=1", "-H"])
        .arg(format!("unix://{}", dir.path().join("s.sock").display()))
        .arg("--data-root")
        .arg(dir.path().join("root"))
        .arg("--exec-root")
        .arg(dir.path().join("run"))
        .output()
        .unwrap();
    assert!(!started.status.success());
    let err = String::from_utf8_lossy(&started.stderr);
    assert!(
        err.contains("failed to set log opts: unknown log opt 'bogus' for json-file log driver"),
        "{err}"
    );
}

#[test]
fn defaults_show_in_inspect_and_daemon_log_opts_apply() {
    let d = TestDaemon::with_busybox(&[]);
    assert_eq!(
        d.docker(&["info", "-f", "{{.LoggingDriver}}"]).ok().trim(),
        "json-file"
    );
    let id = d.docker(&["create", "busybox", "true"]).ok();
    assert_eq!(
        d.inspect(id.trim(), "{{json .HostConfig.LogConfig}}")
            .trim(),
        r#"{"Type":"json-file","Config":{"max-file":"5","max-size":"20m"}}"#,
        "berth's defaults, shown"
    );
    drop(d);
    let d = TestDaemon::with_busybox(&["--log-opt", "max-size=2k", "--log-opt", "max-file=2"]);
    assert_eq!(
        d.docker(&["info", "-f", "{{.LoggingDriver}}"]).ok().trim(),
        "json-file"
    );
    let id = run_to_end(&d, &[], &numbered(200, 50));
    assert_eq!(
        d.inspect(&id, "{{json .HostConfig.LogConfig.Config}}")
            .trim(),
        r#"{"max-file":"2","max-size":"2k"}"#
    );
    let logs = files(&container_dir(&d, &id), &format!("{id}-json.log"));
    assert_eq!(logs.len(), 2, "{logs:?}");
    assert!(logs.iter().all(|(_, len)| *len <= 2_000 + 200), "{logs:?}");
    consecutive(&numbers(&d.docker(&["logs", &id]).ok()), 200);
    drop(d);
    // daemon.json's `log-driver` and `log-opts` are dockerd's.
    let conf = tempfile::NamedTempFile::new().unwrap();
    let json = r#"{"log-driver": "local", "log-opts": {"max-file": "3"}}"#;
    std::fs::write(conf.path(), json).unwrap();
    let file = conf.path().to_str().unwrap();
    let d = TestDaemon::with_busybox(&["--config-file", file]);
    assert_eq!(
        d.docker(&["info", "-f", "{{.LoggingDriver}}"]).ok().trim(),
        "local"
    );
    let id = d.docker(&["create", "busybox", "true"]).ok();
    assert_eq!(
        d.inspect(id.trim(), "{{json .HostConfig.LogConfig}}")
            .trim(),
        r#"{"Type":"local","Config":{"max-file":"3"}}"#
    );
    // The daemon's options are its driver's only.
    let id = d
        .docker(&["create", "--log-driver", "json-file", "busybox", "true"])
        .ok();
    assert_eq!(
        d.inspect(id.trim(), "{{json .HostConfig.LogConfig.Config}}")
            .trim(),
        r#"{"max-file":"5","max-size":"20m"}"#
    );
}

#[test]
fn details_show_the_labels_env_and_tag_attributes() {
    let d = TestDaemon::with_busybox(&[]);
    let id = run_to_end(
        &d,
        &[
            "--name",
            "det",
            "-l",
            "app=web",
            "-l",
            "tier=front end",
            "-e",
            "REGION=eu",
            "--log-opt",
            "labels=app",
            "--log-opt",
            "labels-regex=^ti",
            "--log-opt",
            "env=REGION",
            "--log-opt",
            "tag={{.Name}}/{{.ID}}",
        ],
        "echo hi",
    );
    let want = format!(
        "REGION=eu,app=web,tag=det%2F{},tier=front+end hi\n",
        &id[..12]
    );
    assert_eq!(d.docker(&["logs", "--details", "det"]).ok(), want);
    assert_eq!(d.docker(&["logs", "det"]).ok(), "hi\n");
    let raw =
        std::fs::read_to_string(container_dir(&d, &id).join(format!("{id}-json.log"))).unwrap();
    assert!(
        raw.starts_with(&format!(
            r#"{{"log":"hi\n","stream":"stdout","attrs":{{"REGION":"eu","app":"web","tag":"det/{}","tier":"front end"}},"time":""#,
            &id[..12]
        )),
        "{raw}"
    );
}

#[test]
fn none_keeps_no_log_but_attached_clients_see_output() {
    let d = TestDaemon::with_busybox(&[]);
    assert_eq!(d.sh_with(&["--log-driver", "none"], "echo hi").ok(), "hi\n");
    let id = run_to_end(&d, &["--log-driver", "none"], "echo kept-nowhere");
    d.docker(&["logs", &id])
        .fails_with(1, "configured logging driver does not support reading");
    let dir = container_dir(&d, &id);
    assert!(files(&dir, &format!("{id}-json.log")).is_empty());
    assert_eq!(
        d.inspect(&id, "{{json .HostConfig.LogConfig}}").trim(),
        r#"{"Type":"none","Config":{}}"#
    );
}

/// Walks `local` frames: the length before each entry equals the one after, to the end.
fn local_frames(bytes: &[u8]) -> usize {
    let mut at = 0;
    let mut count = 0;
    while at < bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let after = &bytes[at + 4 + len..at + 8 + len];
        assert_eq!(u32::from_be_bytes(after.try_into().unwrap()) as usize, len);
        at += len + 8;
        count += 1;
    }
    assert_eq!(at, bytes.len());
    count
}

#[test]
fn local_driver_writes_framed_protobuf_and_rotates() {
    let d = TestDaemon::with_busybox(&[]);
    let id = run_to_end(
        &d,
        &[
            "--log-driver",
            "local",
            "--log-opt",
            "max-size=100k",
            "--log-opt",
            "max-file=3",
        ],
        &numbered(20_000, 60),
    );
    let dir = container_dir(&d, &id).join("local-logs");
    let names: Vec<String> = files(&dir, "container.log")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        names,
        ["container.log", "container.log.1.gz", "container.log.2.gz"]
    );
    let current = std::fs::read(dir.join("container.log")).unwrap();
    assert!(local_frames(&current) > 0);
    // Entry fields: source (1) "stdout", time_nano (2), line (3) without its newline.
    assert_eq!(&current[4..12], b"\x0a\x06stdout");
    assert!(files(&container_dir(&d, &id), &format!("{id}-json.log")).is_empty());
    let ns = numbers(&d.docker(&["logs", &id]).ok());
    consecutive(&ns, 20_000);
    assert_eq!(
        numbers(&d.docker(&["logs", "--tail", "2", &id]).ok()),
        [19_999, 20_000]
    );
    let follow = d.docker(&[
        "run",
        "--log-driver",
        "local",
        "busybox",
        "sh",
        "-c",
        "echo a; echo b >&2",
    ]);
    assert_eq!(
        (follow.stdout.as_str(), follow.stderr.as_str()),
        ("a\n", "b\n")
    );
}

#[test]
fn system_df_counts_log_bytes() {
    let d = TestDaemon::with_busybox(&[]);
    let id = run_to_end(
        &d,
        &["--log-opt", "max-size=10k", "--log-opt", "max-file=3"],
        &numbered(500, 50),
    );
    let on_disk: u64 = files(&container_dir(&d, &id), &format!("{id}-json.log"))
        .iter()
        .map(|(_, len)| len)
        .sum();
    assert!(on_disk > 20_000, "{on_disk}");
    let (status, _, body) = d.http("GET", "/system/df", b"");
    assert_eq!(status, 200);
    let df: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(df["Containers"][0]["LogSize"].as_u64(), Some(on_disk));
    let table = d.berth(&["system", "df"]).ok();
    let row = table
        .lines()
        .find(|l| l.starts_with("Logs "))
        .unwrap_or_else(|| panic!("{table}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(&cols[1..3], ["1", "0"], "{row}");
    assert!(cols[3].ends_with("kB"), "{row}");
}
