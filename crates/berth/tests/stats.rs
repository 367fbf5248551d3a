//! `stats`: Docker's frames on cgroup v1 and v2, through the API, the stock docker CLI,
//! docker-py and `berth stats`.

mod common;

use common::TestDaemon;
use serde_json::Value;

/// `GET /containers/NAME/stats?QUERY`, one frame.
fn frame(d: &TestDaemon, name: &str, query: &str) -> Value {
    let (status, _, body) = d.http("GET", &format!("/containers/{name}/stats?{query}"), b"");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(body.trim()).unwrap_or_else(|e| panic!("{e}: {body}"))
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// docker-py, with `script` after `c = docker.DockerClient(...)`.
fn docker_py(d: &TestDaemon, script: &str) -> String {
    let full = format!(
        "import docker, json\nc = docker.DockerClient(base_url='unix://{}')\n{script}",
        d.socket.display()
    );
    let out = std::process::Command::new("timeout")
        .args(["60", "python3", "-c", &full])
        .output()
        .expect("python3");
    common::Out::from(out).ok()
}

/// `docker stats`' columns.
const HEADER: [&str; 8] = [
    "CONTAINER ID",
    "NAME",
    "CPU %",
    "MEM USAGE / LIMIT",
    "MEM %",
    "NET I/O",
    "BLOCK I/O",
    "PIDS",
];

/// A table line's cells (separated by at least two spaces).
fn columns(line: &str) -> Vec<&str> {
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

#[test]
fn a_v1_frame_has_dockers_keys_and_the_limits() {
    let d = TestDaemon::with_busybox(&[]);
    d.docker(&[
        "run",
        "-d",
        "--name",
        "st",
        "-m",
        "64m",
        "--pids-limit",
        "50",
        "busybox",
        "sleep",
        "1000",
    ])
    .ok();
    let f = frame(&d, "st", "stream=false");
    assert_eq!(
        keys(&f),
        [
            "blkio_stats",
            "cpu_stats",
            "id",
            "memory_stats",
            "name",
            "num_procs",
            "pids_stats",
            "precpu_stats",
            "preread",
            "read",
            "storage_stats"
        ],
        "{f}"
    );
    assert_eq!(f["name"], "/st");
    assert_eq!(f["id"].as_str().unwrap().len(), 64);
    assert_ne!(f["read"], "0001-01-01T00:00:00Z");
    assert_ne!(
        f["preread"], "0001-01-01T00:00:00Z",
        "stream=false fills the previous sample"
    );
    for cpu in [&f["cpu_stats"], &f["precpu_stats"]] {
        assert!(cpu["system_cpu_usage"].as_u64().unwrap() > 0, "{cpu}");
        assert!(cpu["online_cpus"].as_u64().unwrap() >= 1, "{cpu}");
        assert!(cpu["cpu_usage"]["percpu_usage"].is_array(), "{cpu}");
        assert!(cpu["throttling_data"]["periods"].is_u64(), "{cpu}");
    }
    let m = &f["memory_stats"];
    assert_eq!(m["limit"], 64 * 1024 * 1024, "{m}");
    assert!(m["usage"].as_u64().unwrap() > 0, "{m}");
    assert!(m["max_usage"].as_u64().unwrap() > 0, "{m}");
    assert_eq!(m["stats"].as_object().unwrap().len(), 32, "{m}");
    for k in [
        "cache",
        "rss",
        "total_inactive_file",
        "hierarchical_memory_limit",
    ] {
        assert!(m["stats"][k].is_u64(), "{k}: {m}");
    }
    assert_eq!(
        keys(&f["blkio_stats"]),
        [
            "io_merged_recursive",
            "io_queue_recursive",
            "io_service_bytes_recursive",
            "io_service_time_recursive",
            "io_serviced_recursive",
            "io_time_recursive",
            "io_wait_time_recursive",
            "sectors_recursive"
        ]
    );
    for (_, list) in f["blkio_stats"].as_object().unwrap() {
        assert!(list.is_array(), "v1 lists are never null: {f}");
    }
    assert_eq!(f["pids_stats"]["current"], 1, "{f}");
    assert_eq!(f["pids_stats"]["limit"], 50, "{f}");
    // Without a limit: the host's memory, as Docker caps it; no pids limit shown.
    d.docker(&["run", "-d", "--name", "free", "busybox", "sleep", "1000"])
        .ok();
    let f = frame(&d, "free", "stream=false&one-shot=true");
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let kb: u64 = meminfo
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(f["memory_stats"]["limit"], kb * 1024, "{f}");
    assert!(f["pids_stats"].get("limit").is_none(), "{f}");
}

#[test]
fn a_v2_frame_has_dockers_v2_keys() {
    let d = TestDaemon::start_cgroup2();
    d.import_busybox("busybox");
    d.docker(&["run", "-d", "--name", "st", "busybox", "sleep", "1000"])
        .ok();
    let f = frame(&d, "st", "stream=false&one-shot=true");
    let cpu = &f["cpu_stats"];
    assert!(cpu["cpu_usage"]["total_usage"].as_u64().unwrap() > 0, "{f}");
    assert!(cpu["cpu_usage"].get("percpu_usage").is_none(), "{f}");
    let stats = f["memory_stats"]["stats"].as_object().unwrap();
    assert_eq!(stats.len(), 31, "{f}");
    for k in [
        "anon",
        "file",
        "inactive_file",
        "workingset_refault",
        "thp_collapse_alloc",
    ] {
        assert!(stats.contains_key(k), "{k}: {f}");
    }
    assert!(!stats.contains_key("total_inactive_file"), "{f}");
    assert!(f["memory_stats"].get("max_usage").is_none(), "{f}");
    for (k, list) in f["blkio_stats"].as_object().unwrap() {
        if k != "io_service_bytes_recursive" {
            assert!(list.is_null(), "{k} is null on v2: {f}");
        }
    }
    // one-shot: no previous sample.
    assert_eq!(f["preread"], "0001-01-01T00:00:00Z");
    assert_eq!(f["precpu_stats"]["cpu_usage"]["total_usage"], 0);
}

#[test]
fn the_stock_cli_shows_the_limit_and_the_cpu_of_a_busy_loop() {
    let d = TestDaemon::with_busybox(&[]);
    d.docker(&[
        "run",
        "-d",
        "--name",
        "busy",
        "--cpus",
        "0.5",
        "-m",
        "64m",
        "busybox",
        "sh",
        "-c",
        "while :; do :; done",
    ])
    .ok();
    d.docker(&["run", "-d", "--name", "idle", "busybox", "sleep", "1000"])
        .ok();
    let out = d.docker(&["stats", "--no-stream"]).ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(columns(lines[0]), HEADER, "{out}");
    assert!(
        lines[0].starts_with("CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT"),
        "{out}"
    );
    assert_eq!(lines.len(), 3, "the running containers: {out}");
    let busy = lines.iter().find(|l| l.contains(" busy ")).expect(&out);
    assert!(busy.contains(" / 64MiB "), "{out}");
    let cols = columns(busy);
    let cpu: f64 = cols[2].trim_end_matches('%').parse().expect(&out);
    // At most half a CPU (plus noise); the lower bound leaves room for a loaded machine.
    assert!(
        (10.0..70.0).contains(&cpu),
        "a loop under --cpus 0.5 at {cpu}%: {out}"
    );
    assert_eq!(cols.last(), Some(&"1"), "the shell alone: {out}");
    // By name, custom format.
    let out = d
        .docker(&[
            "stats",
            "--no-stream",
            "--format",
            "{{.Name}} {{.MemUsage}} {{.PIDs}}",
            "idle",
        ])
        .ok();
    let out = out.trim();
    assert!(out.starts_with("idle ") && out.ends_with(" 1"), "{out}");
    let bad = d.docker(&["stats", "--no-stream", "nope"]);
    bad.fails_with(1, "No such container: nope");
}

#[test]
fn the_stock_cli_redraws_the_stream_in_a_terminal() {
    let d = TestDaemon::with_busybox(&[]);
    d.docker(&["run", "-d", "--name", "st", "busybox", "sleep", "1000"])
        .ok();
    let cmd = format!("timeout -s KILL 4 docker -H {} stats st", d.host());
    let out = d.in_terminal(&cmd, 24, 120).stdout;
    for esc in ["\x1b[H", "\x1b[K", "\x1b[J"] {
        assert!(out.contains(esc), "{esc:?} in {out:?}");
    }
    assert!(
        out.lines()
            .any(|l| l.contains("   st   ") && l.contains("iB / ")),
        "{out:?}"
    );
}

#[test]
fn docker_py_reads_a_frame_with_and_without_the_previous_sample() {
    let d = TestDaemon::with_busybox(&[]);
    d.docker(&["run", "-d", "--name", "st", "busybox", "sleep", "1000"])
        .ok();
    let out = docker_py(
        &d,
        "s = c.containers.get('st')\na = s.stats(stream=False)\nb = s.stats(stream=False, one_shot=True)\nprint(json.dumps([a['precpu_stats'].get('system_cpu_usage', 0), b['precpu_stats'].get('system_cpu_usage', 0), b['cpu_stats']['system_cpu_usage'], a['name']]))\n",
    );
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert!(v[0].as_u64().unwrap() > 0, "{out}");
    assert_eq!(v[1], 0, "{out}");
    assert!(v[2].as_u64().unwrap() > 0, "{out}");
    assert_eq!(v[3], "/st");
    // one-shot came with API 1.41: before it, stream=false always waits for the second sample.
    let f = frame(&d, "st", "stream=false&one-shot=true");
    assert_eq!(f["preread"], "0001-01-01T00:00:00Z");
    let (status, _, body) = d.http(
        "GET",
        "/v1.40/containers/st/stats?stream=false&one-shot=true",
        b"",
    );
    assert_eq!(status, 200, "{body}");
    let old: Value = serde_json::from_str(body.trim()).unwrap();
    assert_ne!(old["preread"], "0001-01-01T00:00:00Z", "{old}");
}

#[test]
fn a_stream_gives_a_frame_a_second_each_with_the_one_before() {
    let d = TestDaemon::with_busybox(&[]);
    d.docker(&["run", "-d", "--name", "st", "busybox", "sleep", "1000"])
        .ok();
    let out = docker_py(
        &d,
        "s = c.containers.get('st')\nfr = []\nfor f in s.stats(stream=True, decode=True):\n    fr.append(f)\n    if len(fr) == 3: break\nprint(json.dumps(fr))\n",
    );
    let frames: Vec<Value> = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(frames[0]["preread"], "0001-01-01T00:00:00Z");
    for w in frames.windows(2) {
        assert_eq!(w[1]["precpu_stats"], w[0]["cpu_stats"]);
        assert_eq!(w[1]["preread"], w[0]["read"]);
        let (a, b) = (time(&w[0]["read"]), time(&w[1]["read"]));
        assert!((0.8..1.5).contains(&(b - a)), "a second apart: {a} {b}");
    }
}

#[test]
fn a_stream_turns_empty_when_the_container_stops_and_ends_when_it_is_removed() {
    let d = TestDaemon::with_busybox(&[]);
    d.docker(&["run", "-d", "--name", "st", "busybox", "sleep", "1000"])
        .ok();
    let out = docker_py(
        &d,
        "s = c.containers.get('st')\ng = s.stats(stream=True, decode=True)\nfirst = next(g)\ns.kill()\nfor f in g:\n    if f['read'].startswith('0001'):\n        empty = f\n        break\ns.remove()\nrest = list(g)\nprint(json.dumps([first['read'][:4], empty['name'], empty['memory_stats'], len(rest) <= 2]))\n",
    );
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_ne!(v[0], "0001", "{out}");
    assert_eq!(v[1], "/st", "{out}");
    assert_eq!(v[2], serde_json::json!({}), "{out}");
    assert_eq!(v[3], true, "the stream ended after the removal: {out}");
}

/// Seconds of an RFC 3339 time within its day.
fn time(v: &Value) -> f64 {
    let t = v.as_str().unwrap();
    let hms = &t[11..t.len() - 1];
    let mut parts = hms.split(':');
    let h: f64 = parts.next().unwrap().parse().unwrap();
    let m: f64 = parts.next().unwrap().parse().unwrap();
    let s: f64 = parts.next().unwrap().parse().unwrap();
    h * 3600.0 + m * 60.0 + s
}

#[test]
fn a_container_not_running_gives_the_empty_frame_and_an_unknown_one_404() {
    let d = TestDaemon::with_busybox(&[]);
    let id = d
        .docker(&["create", "--name", "idle", "busybox", "true"])
        .ok();
    let f = frame(&d, "idle", "stream=false");
    assert_eq!(f["read"], "0001-01-01T00:00:00Z");
    assert_eq!(f["name"], "/idle");
    assert_eq!(f["id"], id.trim());
    assert_eq!(f["memory_stats"], serde_json::json!({}));
    assert_eq!(f["pids_stats"], serde_json::json!({}));
    assert!(
        f["blkio_stats"]["io_service_bytes_recursive"].is_null(),
        "{f}"
    );
    assert!(f.get("networks").is_none());
    let (status, _, body) = d.http("GET", "/containers/nope/stats?stream=false", b"");
    assert_eq!(status, 404);
    assert!(body.contains("No such container: nope"), "{body}");
}

#[test]
fn berth_stats_prints_the_table_formats_and_redraws_in_place() {
    let d = TestDaemon::with_busybox(&[]);
    d.docker(&[
        "create", "--name", "web", "-m", "32m", "busybox", "sleep", "1000",
    ])
    .ok();
    assert_eq!(
        d.berth(&["stats", "--no-stream"]).ok(),
        "",
        "nothing runs yet"
    );
    d.docker(&["start", "web"]).ok();
    let out = d.berth(&["stats", "--no-stream"]).ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(columns(lines[0]), HEADER, "{out}");
    assert!(
        lines[0].starts_with("CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT"),
        "{out}"
    );
    assert_eq!(columns(lines[1]).len(), 8, "{out}");
    assert!(
        lines[1].contains("   web   ") && lines[1].contains(" / 32MiB "),
        "{out}"
    );
    let out = d
        .berth(&[
            "stats",
            "--no-stream",
            "--no-trunc",
            "--format",
            "{{.ID}} {{.MemUsage}}",
            "web",
        ])
        .ok();
    let (id, mem) = out.trim().split_once(' ').unwrap();
    assert_eq!(id.len(), 64, "{out}");
    assert!(mem.ends_with(" / 32MiB"), "{out}");
    let out = d
        .berth(&["stats", "--no-stream", "--format", "json", "web"])
        .ok();
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["Name"], "web");
    assert_eq!(v["PIDs"], "1");
    d.berth(&["stats", "--no-stream", "nope"])
        .fails_with(1, "No such container: nope");
    // Streaming: Docker's cursor-home, erase-line and erase-down, every half second.
    let out = std::process::Command::new("timeout")
        .args(["2.5", common::BERTH, "-H", &d.host(), "stats", "web"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("\x1b[HCONTAINER ID"), "{text:?}");
    assert!(
        text.contains("\x1b[K\n") && text.contains("\x1b[J"),
        "{text:?}"
    );
    assert!(text.matches("\x1b[H").count() >= 3, "{text:?}");
}

#[test]
fn berth_stats_without_names_follows_containers_as_they_start_and_die() {
    use std::io::Read;
    let d = TestDaemon::with_busybox(&[]);
    d.docker(&["run", "-d", "--name", "first", "busybox", "sleep", "1000"])
        .ok();
    /// Killed however the test ends.
    struct Cli(std::process::Child);
    impl Drop for Cli {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut cli = Cli(std::process::Command::new(common::BERTH)
        .args(["-H", &d.host(), "stats"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap());
    let mut stdout = cli.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = stdout.read(&mut buf) {
            let _ = tx.send(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    });
    // The last drawn frame once `done` holds of it.
    let mut seen = String::new();
    let mut until = |done: &dyn Fn(&str) -> bool| loop {
        let frame = seen.rsplit("\x1b[H").next().unwrap_or_default().to_string();
        if frame.contains("\x1b[J") && done(&frame) {
            return frame;
        }
        match rx.recv_timeout(std::time::Duration::from_secs(20)) {
            Ok(text) => seen.push_str(&text),
            Err(_) => panic!("no such frame in {seen:?}"),
        }
    };
    until(&|f| f.contains(" first "));
    d.docker(&["run", "-d", "--name", "second", "busybox", "sleep", "1000"])
        .ok();
    until(&|f| f.contains(" second ") && f.contains(" first "));
    d.docker(&["kill", "first"]).ok();
    until(&|f| f.contains(" second ") && !f.contains(" first "));
}

#[test]
fn networks_are_counted_inside_the_container_and_left_out_without_one() {
    let d = TestDaemon::start_in_netns();
    d.import_busybox("busybox");
    d.docker(&["run", "-d", "--name", "net", "busybox", "sleep", "1000"])
        .ok();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "none",
        "--network",
        "none",
        "busybox",
        "sleep",
        "1000",
    ])
    .ok();
    let gw = d.inspect("net", "{{.NetworkSettings.Gateway}}");
    d.docker(&["exec", "net", "busybox", "ping", "-c", "2", "-W", "1", &gw])
        .ok();
    let f = frame(&d, "net", "stream=false&one-shot=true");
    let nets = f["networks"].as_object().expect("networks");
    assert_eq!(keys(&f["networks"]), ["eth0"], "{f}");
    let eth0 = &nets["eth0"];
    assert!(eth0["tx_packets"].as_u64().unwrap() >= 2, "{eth0}");
    assert!(eth0["rx_bytes"].as_u64().unwrap() > 0, "{eth0}");
    let f = frame(&d, "none", "stream=false&one-shot=true");
    assert!(f.get("networks").is_none(), "{f}");
    let out = d
        .docker(&["stats", "--no-stream", "--format", "{{.NetIO}}", "net"])
        .ok();
    assert!(!out.trim().starts_with("0B /"), "{out}");
}
