//! `berth history` prints what the stock docker CLI prints for the same image, in every
//! form (`--no-trunc`, `-H=false`, `-q`, `--format`), also for a loaded image.

mod common;

use common::*;

/// The output as cells (columns are three or more spaces apart), the relative times, which
/// may tick between two commands and change a column's width, masked.
fn masked(s: &str) -> Vec<Vec<String>> {
    s.lines()
        .map(|l| {
            l.split("   ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(|c| {
                    if c.ends_with(" ago") {
                        "<t>".to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        })
        .collect()
}

#[test]
fn history_prints_what_the_docker_cli_prints() {
    let d = TestDaemon::with_busybox(&[]);
    let ctx = context(&[(
        "Dockerfile",
        "FROM busybox\nLABEL a=b\nRUN echo 'a long enough command to be cut at forty-five characters' > /f\nCMD [\"sh\"]\n",
    )]);
    d.docker_build(&["-t", "hist", ctx.path().to_str().unwrap()])
        .ok();
    // A loaded image keeps its history.
    let tar = d.dir().join("h.tar");
    d.docker(&["save", "-o", tar.to_str().unwrap(), "hist"])
        .ok();
    d.docker(&["rmi", "hist"]).ok();
    d.docker(&["load", "-i", tar.to_str().unwrap()]).ok();
    for args in [
        vec!["history", "hist"],
        vec!["history", "--no-trunc", "hist"],
        vec!["history", "-H=false", "hist"],
        vec!["history", "-q", "hist"],
        vec![
            "history",
            "--format",
            "{{.ID}}: {{.CreatedBy}} {{.Size}}",
            "hist",
        ],
        vec!["history", "--format", "table {{.ID}}\t{{.Comment}}", "hist"],
    ] {
        let ours = d.berth(&args).ok();
        let docker = d.docker(&args).ok();
        assert_eq!(masked(&ours), masked(&docker), "{args:?}");
        // Without relative times, to the byte (padding included).
        if !ours.contains(" ago") {
            assert_eq!(ours, docker, "{args:?}");
        }
    }
    let default = d.berth(&["history", "hist"]).ok();
    assert!(default.starts_with("IMAGE "), "{default}");
    assert!(default.contains('…'), "long steps are cut: {default}");
}
