//! The builder through `docker build` (the classic API) and `berth build`.

mod common;

use common::{TestDaemon, context, tar_of};

fn inspect(d: &TestDaemon, image: &str, format: &str) -> String {
    d.docker(&["image", "inspect", "-f", format, image])
        .ok()
        .trim()
        .to_string()
}

fn built(out: common::Out) -> String {
    assert_eq!(out.code, 0, "build failed:\n{}\n{}", out.stdout, out.stderr);
    out.stdout
}

const APP: &str = r#"# syntax=docker/dockerfile:1
FROM busybox
ARG GREETING=hello
ENV APP=/app \
    MODE="two words"
WORKDIR $APP
COPY hello.txt ./
COPY <<EOF /app/heredoc.txt
made by ${GREETING}
EOF
RUN <<EOF
echo "$GREETING from a heredoc" > /app/run.txt
EOF
RUN echo "$GREETING $MODE" > out.txt && cat hello.txt
LABEL version=1 "com.example.name"="the app"
EXPOSE 8080 53/udp
VOLUME /data
USER u1
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --retries=2 CMD true
SHELL ["/bin/sh", "-ec"]
ONBUILD RUN echo triggered
ENTRYPOINT ["cat"]
CMD ["out.txt"]
"#;

#[test]
fn dockerfile_instructions_make_dockers_image_config() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let ctx = context(&[("Dockerfile", APP), ("hello.txt", "hi file\n")]);
    let out = built(d.docker_build(&["-t", "app:1", ctx.path().to_str().unwrap()]));
    assert!(out.contains("Step 1/18 : FROM busybox"), "{out}");
    assert!(out.contains("hi file"), "RUN output is streamed: {out}");
    assert!(out.contains("Successfully tagged app:1"), "{out}");
    assert_eq!(
        d.docker(&["run", "--rm", "app:1"]).ok(),
        "hello two words\n"
    );
    assert_eq!(
        d.docker(&["run", "--rm", "app:1", "heredoc.txt", "run.txt"])
            .ok(),
        "made by hello\nhello from a heredoc\n"
    );
    let config = [
        (
            "{{json .Config.Env}}",
            r#"["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","APP=/app","MODE=two words"]"#,
        ),
        ("{{.Comment}}|{{.Author}}", "|"),
        (
            "{{.Config.WorkingDir}} {{.Config.User}} {{.Config.StopSignal}}",
            "/app u1 SIGINT",
        ),
        (
            "{{json .Config.ExposedPorts}}",
            r#"{"53/udp":{},"8080/tcp":{}}"#,
        ),
        ("{{json .Config.Volumes}}", r#"{"/data":{}}"#),
        (
            "{{json .Config.Labels}}",
            r#"{"com.example.name":"the app","version":"1"}"#,
        ),
        (
            "{{json .Config.Healthcheck}}",
            r#"{"Test":["CMD-SHELL","true"],"Interval":5000000000,"Retries":2}"#,
        ),
        ("{{json .Config.Shell}}", r#"["/bin/sh","-ec"]"#),
        ("{{json .Config.OnBuild}}", r#"["RUN echo triggered"]"#),
        (
            "{{json .Config.Entrypoint}} {{json .Config.Cmd}}",
            r#"["cat"] ["out.txt"]"#,
        ),
        // busybox, then one layer each for WORKDIR, the two COPYs and the two RUNs.
        ("{{len .RootFS.Layers}}", "6"),
    ];
    for (format, want) in config {
        assert_eq!(inspect(&d, "app:1", format), want, "{format}");
    }
    assert_eq!(
        inspect(&d, "app:1", "{{.Config.Image}}"),
        inspect(&d, "app:1", "{{.Parent}}"),
        "each step records the image it started from"
    );
    // History as Docker's classic builder writes it.
    let history = d
        .docker(&[
            "history",
            "--no-trunc",
            "--format",
            "{{.CreatedBy}} | {{.Size}}",
            "app:1",
        ])
        .ok();
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines[0], r#"/bin/sh -ec #(nop)  CMD ["out.txt"] | 0B"#);
    // Compared with Docker 20.10's classic builder, byte for byte (sizes are of the files).
    for want in [
        "/bin/sh -c #(nop)  ARG GREETING=hello | 0B",
        "/bin/sh -c #(nop) WORKDIR /app | 0B",
        r#"|1 GREETING=hello /bin/sh -c echo "$GREETING $MODE" > out.txt && cat hello.txt | 16B"#,
        "/bin/sh -ec #(nop)  SHELL [/bin/sh -ec] | 0B",
        r#"/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "true"] "5s" "0s" "0s" '\x02'} | 0B"#,
        "/bin/sh -c #(nop)  EXPOSE 53/udp 8080 | 0B",
    ] {
        assert!(lines.contains(&want), "{want} in {history}");
    }
    // One ENV (or ARG) expands every pair with the values from before it; a variable keeps
    // its place.
    let env = context(&[(
        "Dockerfile",
        "FROM busybox\nARG X=1 Y=$X\nENV A=1 PATH=/x:$PATH\nENV A=2 B=$A C=$X$Y\n",
    )]);
    built(d.docker_build(&["-t", "env", env.path().to_str().unwrap()]));
    assert_eq!(
        inspect(&d, "env", "{{json .Config.Env}}"),
        r#"["PATH=/x:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","A=2","B=1","C=1"]"#
    );
    // ONBUILD triggers run in a child's build, and are not inherited further.
    let child = context(&[("Dockerfile", "FROM app:1\n")]);
    let out = built(d.docker_build(&["-t", "child", child.path().to_str().unwrap()]));
    assert!(out.contains("# Executing 1 build trigger"), "{out}");
    assert!(out.contains("triggered"), "{out}");
    assert_eq!(inspect(&d, "child", "{{json .Config.OnBuild}}"), "null");
}

#[test]
fn cache_follows_dockers_rules_and_survives_restarts() {
    let mut d = TestDaemon::start();
    d.import_busybox("busybox");
    let ctx = context(&[
        (
            "Dockerfile",
            "FROM busybox\nARG V=1\nCOPY a.txt /a.txt\nRUN echo run-$V > /r.txt\nCOPY b.txt /b.txt\nCMD [\"cat\", \"/r.txt\"]\n",
        ),
        ("a.txt", "a"),
        ("b.txt", "b"),
    ]);
    let path = ctx.path().to_str().unwrap();
    built(d.docker_build(&["-t", "c", path]));
    let id = inspect(&d, "c", "{{.Id}}");
    let again = built(d.docker_build(&["-t", "c", path]));
    assert_eq!(again.matches("Using cache").count(), 5, "{again}");
    assert_eq!(
        inspect(&d, "c", "{{.Id}}"),
        id,
        "a cached rebuild is the same image"
    );
    // mtimes don't matter, contents do.
    let t = std::process::Command::new("touch")
        .arg(ctx.path().join("a.txt"))
        .status()
        .unwrap();
    assert!(t.success());
    let again = built(d.docker_build(&["-t", "c", path]));
    assert_eq!(again.matches("Using cache").count(), 5, "{again}");
    std::fs::write(ctx.path().join("b.txt"), "changed").unwrap();
    let again = built(d.docker_build(&["-t", "c", path]));
    assert_eq!(
        again.matches("Using cache").count(),
        3,
        "only steps before the changed COPY hit: {again}"
    );
    // A build arg that RUN sees is part of its key.
    let again = built(d.docker_build(&["--build-arg", "V=2", "-t", "c2", path]));
    assert!(
        !again.contains("Step 4/6 : RUN echo run-$V > /r.txt\n ---> Using cache"),
        "{again}"
    );
    assert_eq!(d.docker(&["run", "--rm", "c2"]).ok(), "run-2\n");
    let unused = built(d.docker_build(&["--build-arg", "NOPE=1", path]));
    assert!(
        unused.contains("[Warning] One or more build-args [NOPE] were not consumed"),
        "{unused}"
    );
    // The cache is in the daemon's store: a restarted daemon still has it.
    d.kill9();
    d.spawn();
    let again = built(d.docker_build(&["-t", "c", path]));
    assert_eq!(again.matches("Using cache").count(), 5, "{again}");
    let fresh = built(d.docker_build(&["--no-cache", "-t", "c", path]));
    assert_eq!(fresh.matches("Using cache").count(), 0, "{fresh}");
    // Intermediate images are hidden from `images`, shown with -a.
    let plain = d.docker(&["images", "-q"]).ok().lines().count();
    let all = d.docker(&["images", "-aq"]).ok().lines().count();
    assert!(all > plain, "{all} > {plain}");
}

#[test]
fn stages_targets_and_parallel_graph() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let ctx = context(&[(
        "Dockerfile",
        "FROM busybox AS base\nRUN echo base > /base\n\
         FROM busybox AS broken\nRUN exit 3\n\
         FROM base AS tool\nRUN echo tool > /tool\n\
         FROM busybox\nCOPY --from=tool /tool /base /out/\nCOPY --from=0 /base /again\n\
         CMD [\"cat\", \"/out/tool\", \"/out/base\", \"/again\"]\n",
    )]);
    let path = ctx.path().to_str().unwrap();
    // The `broken` stage is not needed by the target, so it is not built.
    let out = built(d.docker_build(&["-t", "multi", path]));
    assert!(!out.contains("exit 1"), "{out}");
    assert_eq!(
        d.docker(&["run", "--rm", "multi"]).ok(),
        "tool\nbase\nbase\n"
    );
    built(d.docker_build(&["--target", "base", "-t", "only-base", path]));
    assert_eq!(
        d.docker(&["run", "--rm", "only-base", "cat", "/base"]).ok(),
        "base\n"
    );
    let out = d.docker_build(&["--target", "nope", path]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("failed to reach build target nope"),
        "{}",
        out.stderr
    );
    // The build exits with the failed step's code, as with Docker.
    let out = d.docker_build(&["--target", "broken", "-t", "broken", path]);
    assert_eq!(out.code, 3);
    assert!(
        out.stderr
            .contains("The command '/bin/sh -c exit 3' returned a non-zero code: 3"),
        "{}",
        out.stderr
    );
    let out = d.berth(&["build", "--target", "broken", path]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    // A failed build tags nothing.
    d.docker(&["image", "inspect", "broken"])
        .fails_with(1, "No such image");
}

#[test]
fn context_rules_and_bad_input() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let ctx = context(&[
        (
            "Dockerfile",
            "FROM busybox\nCOPY . /ctx/\nRUN ls -a /ctx | sort | tr '\\n' ' '\n",
        ),
        (".dockerignore", "*.log\nsecret\n!keep.log\n"),
        ("a.log", "x"),
        ("keep.log", "x"),
        ("secret/key", "x"),
        ("src/main.c", "x"),
    ]);
    // A symlink pointing out of the context stays inside it.
    std::os::unix::fs::symlink("/etc/passwd", ctx.path().join("escape")).unwrap();
    let out = built(d.docker_build(&["--no-cache", ctx.path().to_str().unwrap()]));
    assert!(
        out.contains(". .. .dockerignore Dockerfile escape keep.log src"),
        "{out}"
    );
    let f = |text: &str| context(&[("Dockerfile", text), ("x.log", "x")]);
    let c = f("FROM busybox\nCOPY x.log /\n");
    let c2 = context(&[
        ("Dockerfile", "FROM busybox\nCOPY x.log /\n"),
        (".dockerignore", "*.log\n"),
    ]);
    built(d.docker_build(&[c.path().to_str().unwrap()]));
    let out = d.docker_build(&[c2.path().to_str().unwrap()]);
    assert!(
        out.stderr
            .contains("COPY failed: x.log is excluded by .dockerignore (rule \"*.log\")"),
        "{}",
        out.stderr
    );
    let out = d.docker_build(&[f("FROM busybox\nCOPY nope /\n").path().to_str().unwrap()]);
    assert!(
        out.stderr
            .contains("file not found in build context or excluded by .dockerignore: stat nope"),
        "{}",
        out.stderr
    );
    let out = d.docker_build(&[f("# check=error=true\nFROM busybox\n")
        .path()
        .to_str()
        .unwrap()]);
    assert!(
        out.stderr
            .contains("berth does not run Dockerfile checks yet"),
        "{}",
        out.stderr
    );
    let out = d.docker_build(&[f("FROM busybox\nRUNN x\n").path().to_str().unwrap()]);
    assert!(
        out.stderr
            .contains("Dockerfile:2:1: unknown instruction: RUNN"),
        "{}",
        out.stderr
    );
    built(
        d.docker_build(&[f("FROM --platform=$BUILDPLATFORM busybox\n")
            .path()
            .to_str()
            .unwrap()]),
    );
    let out = d.docker_build(&[f("FROM --platform=linux/s390x busybox\n")
        .path()
        .to_str()
        .unwrap()]);
    assert!(
        out.stderr.contains("image with reference busybox was found but does not match the specified platform: wanted linux/s390x, actual: linux/amd64"),
        "{}",
        out.stderr
    );
    // `<Dockerfile>.dockerignore` wins over `.dockerignore`.
    let own = context(&[
        ("app.Dockerfile", "FROM busybox\nCOPY . /c/\nRUN ls /c\n"),
        ("app.Dockerfile.dockerignore", "secret.txt\n"),
        (".dockerignore", "other.txt\n"),
        ("secret.txt", "s"),
        ("other.txt", "o"),
    ]);
    let file = own.path().join("app.Dockerfile");
    let out = d.berth(&[
        "build",
        "--progress=plain",
        "-f",
        file.to_str().unwrap(),
        own.path().to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("other.txt") && !out.stderr.contains("secret.txt"),
        "{}",
        out.stderr
    );
    // A base image that is not here is pulled: from a registry that is not there, the
    // pull's error ends the build.
    let out = d.docker_build(&[f("FROM 127.0.0.1:1/nosuchimage\n").path().to_str().unwrap()]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("127.0.0.1:1"), "{}", out.stderr);
    // Nothing above left a container behind, and the store still works.
    assert_eq!(d.docker(&["ps", "-aq"]).ok(), "");
    assert_eq!(
        d.docker(&["run", "--rm", "busybox", "echo", "ok"]).ok(),
        "ok\n"
    );
}

#[test]
fn berth_build_cli() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let ctx = context(&[("Dockerfile", "FROM busybox\nRUN echo hi > /hi\n")]);
    let iid = ctx.path().join("iid");
    let out = d.berth(&[
        "build",
        "-q",
        "--iidfile",
        iid.to_str().unwrap(),
        "-t",
        "cli",
        ctx.path().to_str().unwrap(),
    ]);
    let id = out.ok();
    assert!(id.starts_with("sha256:"), "{id}");
    assert_eq!(std::fs::read_to_string(&iid).unwrap(), id.trim());
    assert_eq!(inspect(&d, "cli", "{{.Id}}"), id.trim());
    // Plain progress: numbered steps, CACHED on a rebuild.
    let out = d.berth(&["build", "--progress=plain", ctx.path().to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("#2 [2/2] RUN echo hi > /hi\n#2 CACHED"),
        "{}",
        out.stderr
    );
    // A Dockerfile on stdin, with no context.
    let out = d.docker_stdin(&["build", "-q", "-"], b"FROM busybox\nLABEL from=stdin\n");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let quiet_id = out.stdout.trim();
    assert!(
        quiet_id.starts_with("sha256:"),
        "docker build -q: {quiet_id:?}"
    );
    assert_eq!(inspect(&d, quiet_id, "{{.Config.Labels.from}}"), "stdin");
    let out = std::process::Command::new(common::BERTH)
        .args(["-H", &d.host(), "build", "-t", "stdin", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(b"FROM busybox\nLABEL from=stdin\n")?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(inspect(&d, "stdin", "{{.Config.Labels.from}}"), "stdin");
    // `-f -`: the Dockerfile from stdin, the context from a directory.
    let out = d.docker_stdin(
        &[
            "build",
            "-f",
            "-",
            "-t",
            "fstdin",
            ctx.path().to_str().unwrap(),
        ],
        b"FROM busybox\nCOPY Dockerfile /copied\n",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = d.berth(&[
        "build",
        "--progress=plain",
        "-f",
        "/nonexistent/Dockerfile",
        "/nonexistent",
    ]);
    assert_ne!(out.code, 0);
}

#[test]
fn copy_and_add_options() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let ctx = context(&[
        (
            "Dockerfile",
            "FROM busybox\n\
             COPY --chown=u1:extra --chmod=600 a.txt /owned/\n\
             COPY --chown=1000 a.txt /uid-only\n\
             COPY *.md /docs/\n\
             COPY --exclude=*.tmp dir /dir\n\
             COPY --parents src/x/one.c /p/\n\
             ADD layer.tar /unpacked/\n\
             COPY layer.tar /kept/\n\
             RUN stat -c '%u:%g %a %n' /owned/a.txt /uid-only && ls /docs /dir /p/src/x /unpacked /kept\n",
        ),
        ("a.txt", "a"),
        ("r1.md", "1"),
        ("r2.md", "2"),
        ("dir/keep", "k"),
        ("dir/skip.tmp", "s"),
        ("src/x/one.c", "c"),
    ]);
    // A tar in the context: ADD unpacks it, COPY does not.
    std::fs::write(ctx.path().join("layer.tar"), tar_of("inside.txt", b"in")).unwrap();
    let out = built(d.docker_build(&["--no-cache", "-t", "opts", ctx.path().to_str().unwrap()]));
    for want in [
        "1000:2000 600 /owned/a.txt",
        "1000:1000 644 /uid-only",
        "r1.md\nr2.md",
        "/dir:\nkeep\n",
        "one.c",
        "/unpacked:\ninside.txt",
        "/kept:\nlayer.tar",
    ] {
        assert!(out.contains(want), "{want:?} in {out}");
    }
    assert!(!out.contains("skip.tmp"), "{out}");
    let history = d
        .docker(&[
            "history",
            "--no-trunc",
            "--format",
            "{{.CreatedBy}}",
            "opts",
        ])
        .ok();
    assert!(
        history.contains("/bin/sh -c #(nop) COPY --chown=1000file:"),
        "Docker's spelling, missing space and all: {history}"
    );
    // A stage from scratch: COPY works on nothing, and the default PATH is set as Docker does.
    let scratch = context(&[
        ("Dockerfile", "FROM scratch\nCOPY a.txt /a\nENV A=1\n"),
        ("a.txt", "a"),
    ]);
    built(d.docker_build(&["-t", "from-scratch", scratch.path().to_str().unwrap()]));
    assert_eq!(
        inspect(&d, "from-scratch", "{{json .Config.Env}} {{.Size}}"),
        r#"["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","A=1"] 1"#
    );
    // Symlinks named as sources (or matched by a wildcard) are followed and copied under their
    // own names; links inside a copied directory stay links. A gzip that is not a tar is
    // copied as it is.
    let links = context(&[
        (
            "Dockerfile",
            "FROM busybox\nCOPY d/* /star/\nCOPY d/l /named/\nCOPY d /whole\nADD p.gz /gz/\n\
             RUN test ! -L /star/l && cat /star/l /named/l; readlink /whole/l; ls /gz\n",
        ),
        ("d/f", "target\n"),
    ]);
    std::os::unix::fs::symlink("f", links.path().join("d/l")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, b"plain").unwrap();
    std::fs::write(links.path().join("p.gz"), gz.finish().unwrap()).unwrap();
    let out = built(d.docker_build(&["--no-cache", links.path().to_str().unwrap()]));
    assert!(out.contains("target\ntarget\nf\np.gz\n"), "{out}");
    // ADD unpacks tars compressed with bzip2 and xz too.
    let plain = tar_of("in.txt", b"in");
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    std::io::Write::write_all(&mut bz, &plain).unwrap();
    let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 6);
    std::io::Write::write_all(&mut xz, &plain).unwrap();
    let packed = context(&[(
        "Dockerfile",
        "FROM busybox\nADD a.tar.bz2 /bz/\nADD a.tar.xz /xz/\nRUN cat /bz/in.txt /xz/in.txt\n",
    )]);
    std::fs::write(packed.path().join("a.tar.bz2"), bz.finish().unwrap()).unwrap();
    std::fs::write(packed.path().join("a.tar.xz"), xz.finish().unwrap()).unwrap();
    let out = built(d.docker_build(&["--no-cache", packed.path().to_str().unwrap()]));
    assert!(out.contains("inin"), "{out}");
    // A build context and an import may come compressed the same ways.
    let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 6);
    std::io::Write::write_all(
        &mut xz,
        &tar_of("Dockerfile", b"FROM busybox\nLABEL xz=1\n"),
    )
    .unwrap();
    let (status, _, body) = d.http("POST", "/build?t=xzctx", &xz.finish().unwrap());
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Successfully tagged xzctx:latest"), "{body}");
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    std::io::Write::write_all(&mut bz, common::busybox_tar()).unwrap();
    let (status, _, body) = d.http(
        "POST",
        "/images/create?fromSrc=-&repo=bzimport",
        &bz.finish().unwrap(),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        d.docker(&["run", "--rm", "bzimport", "echo", "imported"])
            .ok(),
        "imported\n"
    );
    // COPY --link does not look at the image: a symlink on the way is not followed.
    let link = context(&[
        (
            "Dockerfile",
            "FROM busybox\nRUN mkdir /real && ln -s /real /lnk\n\
             COPY a.txt /lnk/\nCOPY --link b.txt /lnk/\n\
             RUN echo real=$(ls /real) lnk=$(ls /lnk)\n",
        ),
        ("a.txt", "a"),
        ("b.txt", "b"),
    ]);
    let out = built(d.docker_build(&["--no-cache", link.path().to_str().unwrap()]));
    assert!(out.contains("real=a.txt lnk=b.txt"), "{out}");
    let out = d.docker_build(&[context(&[
        ("Dockerfile", "FROM busybox\nCOPY a b /notadir\n"),
        ("a", ""),
        ("b", ""),
    ])
    .path()
    .to_str()
    .unwrap()]);
    assert!(
        out.stderr
            .contains("the destination must be a directory and end with a /"),
        "{}",
        out.stderr
    );
}

#[test]
fn build_options_and_a_large_context() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let ctx = context(&[(
        "Dockerfile",
        "FROM busybox\nCOPY files /files\nRUN ls /files | wc -l\n",
    )]);
    let files = ctx.path().join("files");
    std::fs::create_dir(&files).unwrap();
    for i in 0..10_000 {
        std::fs::write(files.join(format!("f{i}")), i.to_string()).unwrap();
    }
    let path = ctx.path().to_str().unwrap();
    let out = built(d.docker_build(&["-t", "big:1", "-t", "big:2", "--label", "a=b", path]));
    assert!(out.contains("10000"), "{out}");
    assert_eq!(
        inspect(&d, "big:1", "{{.Id}}"),
        inspect(&d, "big:2", "{{.Id}}")
    );
    assert_eq!(inspect(&d, "big:1", "{{.Config.Labels.a}}"), "b");
    // A label is one more LABEL step, counted and cached like the others: a rebuild is the
    // same image. Nothing in a label value is expanded.
    let out = built(d.docker_build(&["-t", "big:3", "--label", "a=b", path]));
    assert!(
        out.contains("Step 4/4 : LABEL a=b\n ---> Using cache"),
        "{out}"
    );
    assert_eq!(
        inspect(&d, "big:3", "{{.Id}}"),
        inspect(&d, "big:1", "{{.Id}}")
    );
    built(d.docker_build(&["-t", "lit", "--label", "v=it's $HOME", path]));
    assert_eq!(inspect(&d, "lit", "{{.Config.Labels.v}}"), "it's $HOME");
    // --cache-from limits the cache to that image's history.
    let other = context(&[("Dockerfile", "FROM busybox\nRUN echo x > /x\n")]);
    let op = other.path().to_str().unwrap();
    built(d.docker_build(&["-t", "x1", op]));
    let out = built(d.docker_build(&["--cache-from", "big:1", op]));
    assert!(!out.contains("Using cache"), "{out}");
    let out = built(d.docker_build(&["--cache-from", "x1", op]));
    assert!(out.contains("Using cache"), "{out}");
    // --pull asks the registry even for a base that is here.
    d.docker(&["tag", "busybox", "127.0.0.1:1/busybox"]).ok();
    let far = context(&[("Dockerfile", "FROM 127.0.0.1:1/busybox\n")]);
    let out = d.docker_build(&["--pull", far.path().to_str().unwrap()]);
    assert!(out.stderr.contains("127.0.0.1:1"), "{}", out.stderr);
    built(d.docker_build(&["--pull=false", far.path().to_str().unwrap()]));
}

#[test]
fn run_mounts_cache_bind_tmpfs_and_secrets() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let ctx = context(&[
        (
            "Dockerfile",
            "FROM busybox\n\
             RUN --mount=type=cache,target=/cache sh -c 'echo x >> /cache/hits; echo hits=$(wc -l < /cache/hits)'\n\
             RUN --mount=type=bind,source=data,target=/data cat /data/f\n\
             RUN --mount=type=bind,source=data,target=/data,rw sh -c 'echo w > /data/new && ls /data | tr \"\\n\" \" \"'\n\
             RUN --mount=type=tmpfs,target=/t sh -c 'echo tmp > /t/x; cat /t/x'\n\
             RUN --mount=type=secret,id=tok cat /run/secrets/tok\n\
             RUN --mount=type=secret,id=tok,env=TOK sh -c 'echo env=$TOK'\n\
             RUN <<EOF\n#!/bin/busybox sh\necho \"script $0\"\nEOF\n\
             RUN test ! -e /cache/hits && test ! -e /t/x && test ! -e /run/secrets/tok && test ! -e /data/f && echo clean\n",
        ),
        ("data/f", "from-bind\n"),
        ("tok.txt", "s3cret"),
    ]);
    let secret = format!("id=tok,src={}", ctx.path().join("tok.txt").display());
    let build = || {
        d.berth(&[
            "build",
            "--no-cache",
            "--progress=plain",
            "--secret",
            &secret,
            ctx.path().to_str().unwrap(),
        ])
    };
    let out = build();
    assert_eq!(out.code, 0, "{}", out.stderr);
    for want in [
        "hits=1",
        "from-bind",
        "f new",
        "tmp",
        "s3cret",
        "env=s3cret",
        "script /dev/pipes/EOF",
        "clean",
    ] {
        assert!(out.stderr.contains(want), "{want:?} in {}", out.stderr);
    }
    assert!(
        !ctx.path().join("data/new").exists(),
        "rw bind writes are thrown away"
    );
    // The cache directory persists between builds.
    let out = build();
    assert!(out.stderr.contains("hits=2"), "{}", out.stderr);
    // ... shows in `system df` and goes with `builder prune`.
    let df = d
        .docker(&["system", "df", "--format", "{{.Type}} {{.TotalCount}}"])
        .ok();
    assert!(df.contains("Build Cache 1"), "{df}");
    d.docker(&["builder", "prune", "-f"]).ok();
    let out = build();
    assert!(out.stderr.contains("hits=1"), "{}", out.stderr);
    assert!(
        d.berth(&["system", "df"])
            .ok()
            .contains("Build Cache     1")
    );
    assert!(
        d.berth(&["builder", "prune", "-f"])
            .ok()
            .contains("Total reclaimed space")
    );
    let out = build();
    assert!(out.stderr.contains("hits=1"), "{}", out.stderr);
    // A secret that is required but not given is an error; an optional one is just absent.
    let req = context(&[(
        "Dockerfile",
        "FROM busybox\nRUN --mount=type=secret,id=nope,required=true true\n",
    )]);
    let out = d.docker_build(&[req.path().to_str().unwrap()]);
    assert!(
        out.stderr.contains("secret nope: not provided"),
        "{}",
        out.stderr
    );
}

#[test]
fn mount_sources_are_in_the_cache_key_and_cache_mounts_share_as_asked() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let build = |ctx: &tempfile::TempDir, extra: &[&str]| {
        let mut args = vec!["build", "--progress=plain"];
        args.extend_from_slice(extra);
        args.push(ctx.path().to_str().unwrap());
        let out = d.berth(&args);
        assert_eq!(out.code, 0, "{}", out.stderr);
        out.stderr
    };
    // What a bind mount shows the command decides whether the RUN may come from the cache.
    let ctx = context(&[
        (
            "Dockerfile",
            "FROM busybox AS src\nARG V\nRUN echo v=$V > /v\n\
             FROM busybox\n\
             RUN --mount=type=bind,source=data,target=/data cat /data/f > /f\n\
             RUN --mount=type=bind,from=src,target=/s cat /s/v > /v\n",
        ),
        ("data/f", "one\n"),
    ]);
    build(&ctx, &["-t", "m", "--build-arg", "V=1"]);
    let show = || d.berth(&["run", "--rm", "m", "cat", "/f", "/v"]).ok();
    assert_eq!(show(), "one\nv=1\n");
    std::fs::write(ctx.path().join("data/f"), "two\n").unwrap();
    build(&ctx, &["-t", "m", "--build-arg", "V=1"]);
    assert_eq!(show(), "two\nv=1\n");
    build(&ctx, &["-t", "m", "--build-arg", "V=2"]);
    assert_eq!(show(), "two\nv=2\n");
    let again = build(&ctx, &["-t", "m", "--build-arg", "V=2"]);
    assert_eq!(again.matches("CACHED").count(), 4, "{again}");

    // A cache seeded from a stage starts as a copy of it, then keeps what RUNs add.
    let seeded = context(&[(
        "Dockerfile",
        "FROM busybox AS seed\nRUN mkdir /c && echo seeded > /c/s\n\
         FROM busybox\nARG N\n\
         RUN --mount=type=cache,target=/cache,from=seed,source=/c sh -c 'echo more >> /cache/s; echo got $(cat /cache/s)'\n",
    )]);
    assert!(build(&seeded, &["--build-arg", "N=1"]).contains("got seeded more"));
    let out = build(&seeded, &["--build-arg", "N=2"]);
    assert!(out.contains("got seeded more more"), "{out}");

    // sharing=private: two RUNs inside at once get two instances (they wait for each other
    // through a shared mount, so they overlap for sure); sharing=locked: one at a time.
    let run = |who: &str, other: &str, sharing: &str| {
        let tries = if sharing == "private" { 200 } else { 10 };
        format!(
            "RUN --mount=type=cache,id=sync,target=/sync --mount=type=cache,id={sharing},target=/c,sharing={sharing} \
             sh -c 'touch /c/{who} /sync/{sharing}-{who}; i=0; \
             while [ ! -e /sync/{sharing}-{other} ] && [ $i -lt {tries} ]; do sleep 0.1; i=$((i+1)); done; \
             echo {who}-sees-$(ls /c | tr \"\\n\" ,)'\n"
        )
    };
    let df = |sharing: &str| {
        format!(
            "FROM busybox AS a\n{}FROM busybox AS b\n{}FROM busybox\nCOPY --from=a /etc/passwd /a\nCOPY --from=b /etc/passwd /b\n",
            run("a", "b", sharing),
            run("b", "a", sharing)
        )
    };
    let private = context(&[("Dockerfile", &df("private"))]);
    let out = build(&private, &[]);
    assert!(
        out.contains("a-sees-a,") && out.contains("b-sees-b,"),
        "{out}"
    );
    // Locked: the second sees what the first left (the first waited for it in vain, 1 s).
    let locked = context(&[("Dockerfile", &df("locked"))]);
    let out = build(&locked, &[]);
    assert!(
        out.contains("a-sees-a,b,") || out.contains("b-sees-a,b,"),
        "{out}"
    );
    let (status, _, body) = d.http("GET", "/system/df", b"");
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let cache = v["BuildCache"].as_array().unwrap().len();
    assert_eq!(
        cache, 5,
        "sync, two private instances, locked, seeded: {body}"
    );
}

/// Serves `body` to every GET on 127.0.0.1 (an ephemeral port) from a thread.
fn http_server(body: &'static str) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nLast-Modified: Wed, 21 Oct 2015 07:28:00 GMT\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

#[test]
fn add_downloads_urls_with_checksums() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let port = http_server("remote content\n");
    // sha256 of "remote content\n"
    let sum = "sha256:2a5a9d0ac3dc6b2e8d0f5e46a8cfc3bd6e0dc5b43e1bb9b7bbc3d2b4e8b4c2f0";
    let real = {
        let out = std::process::Command::new("sh")
            .args([
                "-c",
                "printf 'remote content\\n' | sha256sum | cut -d' ' -f1",
            ])
            .output()
            .unwrap();
        format!("sha256:{}", String::from_utf8_lossy(&out.stdout).trim())
    };
    let ctx = context(&[(
        "Dockerfile",
        &format!(
            "FROM busybox\nADD http://127.0.0.1:{port}/files/remote.txt /r/\n\
             ADD --checksum={real} http://127.0.0.1:{port}/x /r2.txt\n\
             RUN stat -c '%a %Y' /r/remote.txt && cat /r/remote.txt /r2.txt\n"
        ),
    )]);
    let out = built(d.docker_build(&["--no-cache", ctx.path().to_str().unwrap()]));
    assert!(
        out.contains("600 1445412480\n"),
        "mode 0600, Last-Modified: {out}"
    );
    assert!(out.contains("remote content\nremote content\n"), "{out}");
    let bad = context(&[(
        "Dockerfile",
        &format!("FROM busybox\nADD --checksum={sum} http://127.0.0.1:{port}/x /x\n"),
    )]);
    let out = d.docker_build(&[bad.path().to_str().unwrap()]);
    assert!(out.stderr.contains("checksum mismatch"), "{}", out.stderr);
}

/// Starts a build of `RUN echo started; sleep 60` over a raw connection; returns once the RUN
/// runs.
fn start_slow_build(d: &TestDaemon) -> std::os::unix::net::UnixStream {
    use std::io::{Read, Write};
    let body = tar_of("Dockerfile", b"FROM busybox\nRUN echo started; sleep 60\n");
    let mut s = std::os::unix::net::UnixStream::connect(&d.socket).unwrap();
    write!(
        s,
        "POST /build?t=never HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-tar\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(&body).unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains(r#"{"stream":"started"#) {
        let n = s.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "build ended early: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    assert_eq!(
        d.docker(&["ps", "-q"]).ok().lines().count(),
        1,
        "the RUN runs"
    );
    s
}

fn no_containers_left(d: &TestDaemon) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !d.docker(&["ps", "-aq"]).ok().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "build container left behind"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    d.docker(&["image", "inspect", "never"])
        .fails_with(1, "No such image");
}

#[test]
fn interrupted_builds_leave_nothing_behind() {
    let mut d = TestDaemon::start();
    d.import_busybox("busybox");
    // The client goes away (Ctrl-C): the build stops at once.
    drop(start_slow_build(&d));
    no_containers_left(&d);
    let leftovers = std::fs::read_dir(d.root.join("build/tmp")).unwrap().count();
    assert_eq!(leftovers, 0, "build scratch space cleaned");
    // The daemon is killed mid-build: the next one removes the build's container.
    let _client = start_slow_build(&d);
    d.kill9();
    d.spawn();
    no_containers_left(&d);
}

// Issue 8, "Cached rebuilds at the cost of hashing": the context is hashed as it streams in,
// and only the sources of steps that run are written to disk.

/// Names of what the daemon makes in its build scratch space while `f` runs: a build's context
/// directory (`<id>.context`, made when the build spills its context or writes sources to disk),
/// mount points of image views, layers being written.
fn scratch_made(d: &TestDaemon, f: impl FnOnce()) -> Vec<String> {
    let mut watch = inotify::Inotify::init().unwrap();
    watch
        .watches()
        .add(
            d.root.join("build/tmp"),
            inotify::WatchMask::CREATE | inotify::WatchMask::MOVED_TO,
        )
        .unwrap();
    f();
    let mut made = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match watch.read_events(&mut buf) {
            Ok(events) => {
                made.extend(events.filter_map(|e| e.name.map(|n| n.to_string_lossy().into_owned())))
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return made,
            Err(e) => panic!("inotify: {e}"),
        }
    }
}

fn contexts(names: Vec<String>) -> Vec<String> {
    names
        .into_iter()
        .filter(|n| n.ends_with(".context"))
        .collect()
}

/// A context directory with 200 small files in `files/`, an 8 MiB `big.bin`, `other.txt` and
/// `dockerfile`.
fn issue8_context(dockerfile: &str) -> tempfile::TempDir {
    let ctx = context(&[("Dockerfile", dockerfile), ("other.txt", "one\n")]);
    std::fs::write(ctx.path().join("big.bin"), vec![7u8; 8 << 20]).unwrap();
    std::fs::create_dir(ctx.path().join("files")).unwrap();
    for i in 0..200 {
        std::fs::write(
            ctx.path().join(format!("files/f{i}.txt")),
            format!("{i}\n").repeat(400),
        )
        .unwrap();
    }
    ctx
}

#[test]
fn issue8_cached_rebuilds_and_metadata_only_builds_write_nothing_of_the_context() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let ctx = issue8_context(
        "FROM busybox\nWORKDIR /app\nCOPY files/ /app/files/\nCOPY other.txt /\nRUN ls /app/files | wc -l\nLABEL l=1\n",
    );
    let meta = ctx.path().join("meta.Dockerfile");
    std::fs::write(
        &meta,
        "FROM busybox\nENV A=1\nLABEL x=y\nEXPOSE 80\nCMD [\"sh\"]\n",
    )
    .unwrap();
    let (path, meta) = (ctx.path().to_str().unwrap(), meta.to_str().unwrap());
    // The first build copies, so the files it copies go to disk.
    let made = scratch_made(&d, || {
        let out = built(d.docker_build(&["-t", "c8", path]));
        assert!(out.contains("200\n"), "{out}");
    });
    assert_eq!(contexts(made.clone()).len(), 1, "{made:?}");
    // A fully cached rebuild hashes the context as it comes in, and writes none of it.
    let made = scratch_made(&d, || {
        let out = built(d.docker_build(&["-t", "c8", path]));
        assert_eq!(out.matches("Using cache").count(), 5, "{out}");
    });
    assert_eq!(
        contexts(made),
        [""; 0],
        "a cached rebuild wrote its context"
    );
    // Steps that copy nothing need nothing on disk, cached or not: a metadata-only build in
    // this context does what it does in an empty one.
    for _ in 0..2 {
        let made = scratch_made(&d, || {
            built(d.docker_build(&["-f", meta, "-t", "meta8", path]));
        });
        assert_eq!(made, [""; 0], "a metadata-only build wrote to disk");
    }
    assert_eq!(inspect(&d, "meta8", "{{json .Config.Cmd}}"), r#"["sh"]"#);
}

/// `dir` as a build context tar.
fn tar_dir(dir: &std::path::Path) -> Vec<u8> {
    let mut t = tar::Builder::new(Vec::new());
    t.follow_symlinks(false);
    t.append_dir_all(".", dir).unwrap();
    t.into_inner().unwrap()
}

#[test]
fn issue8_a_changed_file_reruns_only_the_copy_that_uses_it_and_only_it_is_written() {
    use std::io::{Read, Write};
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let ctx = issue8_context(
        "FROM busybox\nCOPY files /files\nCOPY other.txt /other\nARG N\n\
         RUN echo started-$N; if [ \"$N\" = slow ]; then sleep 60; fi\n",
    );
    built(d.docker_build(&[ctx.path().to_str().unwrap()]));
    std::fs::write(ctx.path().join("other.txt"), "two\n").unwrap();
    // Rebuilt over a raw connection, to look at the build's files while its RUN runs.
    let body = tar_dir(ctx.path());
    let mut s = std::os::unix::net::UnixStream::connect(&d.socket).unwrap();
    write!(
        s,
        "POST /build?t=changed&buildargs=%7B%22N%22%3A%22slow%22%7D HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-tar\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(&body).unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("started-slow") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "build ended: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    let out = String::from_utf8_lossy(&seen);
    let cached: Vec<(u64, bool)> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            let s = &v["berthStep"];
            Some((s["step"].as_u64()?, s["cached"].as_bool()?))
        })
        .collect();
    assert_eq!(
        cached,
        [(1, false), (2, true), (3, false), (4, false)],
        "only the COPY of the changed file runs again: {out}"
    );
    let dirs: Vec<std::path::PathBuf> = std::fs::read_dir(d.root.join("build/tmp"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "context"))
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let root = dirs[0].join("root");
    assert_eq!(
        std::fs::read_to_string(root.join("other.txt")).unwrap(),
        "two\n"
    );
    for absent in ["files", "Dockerfile"] {
        assert!(
            !root.join(absent).exists(),
            "{absent} was written, though no step that ran needed it"
        );
    }
    drop(s);
    no_containers_left_but(&d, "changed");
}

fn no_containers_left_but(d: &TestDaemon, tag: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !d.docker(&["ps", "-aq"]).ok().is_empty() {
        assert!(std::time::Instant::now() < deadline, "build container left");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    d.docker(&["image", "inspect", tag])
        .fails_with(1, "No such image");
}

#[test]
fn issue8_a_dockerfile_and_dockerignore_at_the_end_of_the_tar_work() {
    let d = TestDaemon::start();
    d.import_busybox("busybox");
    let mut t = tar::Builder::new(Vec::new());
    let mut add = |name: &str, body: &str| {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        t.append_data(&mut h, name, body.as_bytes()).unwrap();
    };
    add("a.txt", "a\n");
    add("b.log", "b\n");
    add("sub/c.txt", "c\n");
    add(".dockerignore", "*.log\n");
    add(
        "Dockerfile",
        "FROM busybox\nCOPY . /c/\nRUN cd /c && find . -type f | sort | tr '\\n' ' '\n",
    );
    let (status, _, body) = d.http("POST", "/build?t=late", &t.into_inner().unwrap());
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("./.dockerignore ./Dockerfile ./a.txt ./sub/c.txt "),
        "{body}"
    );
    assert!(body.contains("Successfully tagged late:latest"), "{body}");
}
