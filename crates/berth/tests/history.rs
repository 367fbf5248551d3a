//! `berth history` prints what the stock docker CLI prints for the same image, in every
//! form (`--no-trunc`, `-H=false`, `-q`, `--format`), also for a loaded image.

mod common;

use common::*;

/// The output with the relative times, which may tick between two commands, masked:
/// "N seconds ago", "Less than a second ago", "About a minute ago".
fn masked(s: &str) -> String {
    s.lines()
        .map(|l| {
            let mut l = l.replace("Less than a second ago", "<t>");
            l = l.replace("About a minute ago", "<t>");
            let words: Vec<&str> = l.split(' ').collect();
            let mut out = Vec::new();
            let mut i = 0;
            while i < words.len() {
                if i + 2 < words.len()
                    && words[i].parse::<u32>().is_ok()
                    && words[i + 1] == "seconds"
                    && words[i + 2] == "ago"
                {
                    out.push("<t>");
                    i += 3;
                } else {
                    out.push(words[i]);
                    i += 1;
                }
            }
            out.join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
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
    }
    let default = d.berth(&["history", "hist"]).ok();
    assert!(default.starts_with("IMAGE "), "{default}");
    assert!(default.contains('…'), "long steps are cut: {default}");
}
