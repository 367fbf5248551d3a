//! Issue 9: the `berth volume` commands and volumes in `system df`.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{BERTH, TestDaemon};

#[test]
fn volume_commands_print_as_docker_does() {
    let d = TestDaemon::start();
    assert_eq!(
        d.berth(&["volume", "create", "--label", "app=web", "data"])
            .ok(),
        "data\n"
    );
    assert_eq!(
        d.berth(&["volume", "create", "--name", "v10"]).ok(),
        "v10\n"
    );
    d.berth(&["volume", "create", "v2"]).ok();
    assert_eq!(
        d.berth(&["volume", "ls"]).ok(),
        "DRIVER    VOLUME NAME\nlocal     data\nlocal     v2\nlocal     v10\n"
    );
    assert_eq!(
        d.berth(&["volume", "ls", "-q", "-f", "label=app=web"]).ok(),
        "data\n"
    );
    assert_eq!(
        d.berth(&[
            "volume",
            "ls",
            "--format",
            "{{.Name}}:{{.Labels}}",
            "-f",
            "name=data"
        ])
        .ok(),
        "data:app=web\n"
    );
    let shown = d
        .berth(&[
            "volume",
            "inspect",
            "-f",
            "{{.Driver}} {{.Labels.app}}",
            "data",
        ])
        .ok();
    assert_eq!(shown, "local web\n");
    let json: serde_json::Value =
        serde_json::from_str(&d.berth(&["volume", "inspect", "data", "v2"]).ok()).unwrap();
    assert_eq!(json[1]["Name"], "v2");
    d.berth(&["volume", "inspect", "nope"])
        .fails_with(1, "no such volume");
    d.berth(&["volume", "create", "-o", "type=tmpfs", "t"])
        .fails_with(1, "missing required option: \"device\"");
    assert_eq!(d.berth(&["volume", "rm", "v2", "v10"]).ok(), "v2\nv10\n");
    // Prune asks first; "n" keeps everything.
    d.berth(&[
        "volume",
        "create",
        "--label",
        "com.docker.volume.anonymous=",
        "anon",
    ])
    .ok();
    let mut p = Command::new(BERTH)
        .args(["-H", &d.host(), "volume", "prune"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    p.stdin.take().unwrap().write_all(b"n\n").unwrap();
    let out = String::from_utf8(p.wait_with_output().unwrap().stdout).unwrap();
    assert_eq!(
        out,
        "WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] Total reclaimed space: 0B\n"
    );
    std::fs::write(d.root.join("volumes/anon/_data/f"), vec![0u8; 4096]).unwrap();
    assert_eq!(
        d.berth(&["volume", "prune", "-f"]).ok(),
        "Deleted Volumes:\nanon\n\nTotal reclaimed space: 4.096kB\n"
    );
    // system df counts the volumes and their size.
    std::fs::write(d.root.join("volumes/data/_data/f"), vec![0u8; 2000]).unwrap();
    let df = d.berth(&["system", "df"]).ok();
    assert!(
        df.contains("Local Volumes   1         0         2kB       2kB (100%)"),
        "{df}"
    );
    let verbose = d.berth(&["system", "df", "-v"]).ok();
    assert!(
        verbose.contains("VOLUME NAME   LINKS     SIZE\ndata          0         2kB"),
        "{verbose}"
    );
    let (_, _, body) = d.http("GET", "/system/df", b"");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["Volumes"][0]["UsageData"]["RefCount"], 0, "{v}");
    assert_eq!(v["Volumes"][0]["UsageData"]["Size"], 2000, "{v}");
    let stock = d
        .docker(&[
            "system",
            "df",
            "--format",
            "{{.Type}} {{.TotalCount}} {{.Size}}",
        ])
        .ok();
    assert!(stock.contains("Local Volumes 1 2kB"), "{stock}");
    assert_eq!(
        d.berth(&["volume", "prune", "-a", "-f"])
            .ok()
            .lines()
            .nth(1),
        Some("data")
    );
}
