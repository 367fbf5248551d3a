//! RUN: a container of the stage's current image runs the command; what it changed becomes the
//! step's layer.

use std::sync::Arc;

use crate::containers::{MountSpec, Spec, Stdio};
use berth_build::instruction::Command;
use berth_build::{Instruction, Located};

use super::stage::{Layer, State};
use crate::containers::{Container, Containers, From, Until, WaitCondition, follow_log};
use crate::error::{Error, Result};

/// Removes a build container when dropped (also when the build is canceled mid-step), unless
/// it is to be kept.
struct Guard {
    containers: Arc<Containers>,
    container: Option<Arc<Container>>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(c) = self.container.take() {
            let containers = self.containers.clone();
            tokio::spawn(async move {
                let _ = containers.remove(&c, true, true).await;
            });
        }
    }
}

pub async fn run(st: &mut State<'_>, l: &Located) -> Result<()> {
    let Instruction::Run {
        command,
        heredocs,
        mounts,
        network,
        security,
    } = &l.instruction
    else {
        unreachable!("dispatched on RUN");
    };
    if security.as_deref().is_some_and(|s| s != "sandbox") {
        return Err(Error::new(
            berth_core::ErrorKind::NotImplemented,
            "RUN --security=insecure is not supported by berth",
        ));
    }
    // A script with its own interpreter (`#!`) runs as a file, mounted at /dev/pipes/<name>.
    let mut script_file = None;
    let argv = match (command, heredocs.as_slice()) {
        (Command::Exec(v), _) => v.clone(),
        (Command::Shell(s), [h]) if is_only_heredoc(s) && h.content.starts_with("#!") => {
            let path = format!("/dev/pipes/{}", h.name);
            script_file = Some((path.clone(), h.content.clone()));
            vec![path]
        }
        // `RUN <<EOF` alone: the heredoc is the script.
        (Command::Shell(s), [h]) if is_only_heredoc(s) => {
            let mut v = st.shell();
            v.push(h.content.clone());
            v
        }
        // Otherwise the shell reads the heredocs itself.
        (Command::Shell(s), hs) => {
            let mut script = s.clone();
            for h in hs {
                script.push('\n');
                script.push_str(&h.content);
                script.push_str(&h.name);
            }
            let mut v = st.shell();
            v.push(script);
            v
        }
    };
    // Build args reach the command as environment (not the image), and show in history.
    let mut arg_env: Vec<String> = st
        .args
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .filter(|kv| {
            let k = kv.split('=').next().unwrap_or_default();
            !st.config
                .config
                .env
                .iter()
                .flatten()
                .any(|e| e.split('=').next() == Some(k))
        })
        .collect();
    arg_env.sort();
    let created_by = if arg_env.is_empty() {
        argv.join(" ")
    } else {
        format!(
            "|{} {} {}",
            arg_env.len(),
            arg_env.join(" "),
            argv.join(" ")
        )
    };
    let proxies: Vec<String> = st
        .shared
        .opts
        .build_args
        .iter()
        .filter(|(k, _)| super::stage::is_predefined_arg(k))
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
    let net = network
        .clone()
        .filter(|n| n != "default")
        .unwrap_or_else(|| st.shared.opts.network.clone());
    let sources = super::mounts::sources_key(st, mounts)?;
    let mounts_key: Vec<String> = mounts.iter().map(|m| m.cache_key()).collect();
    let script_key = script_file
        .as_ref()
        .map_or(String::new(), |(path, content)| {
            format!("{path}\0{content}")
        });
    let key = format!(
        "{net}\n{}\n{script_key:?}\n{sources}",
        mounts_key.join("\n")
    );
    if let Some(step) = st.cached(created_by, &key)? {
        let mut prepared = super::mounts::prepare(st, mounts).await?;
        if let Some((path, content)) = script_file {
            prepared.add_file(&st.shared.builder, &path, content.as_bytes(), 0o755)?;
        }
        let env = arg_env.into_iter().chain(proxies).collect();
        let layer = execute(st, argv, env, net, &prepared).await?;
        drop(prepared);
        st.commit(step, layer).await?;
    }
    Ok(())
}

/// The network of a RUN step: `default` is the default bridge, as in Docker's classic
/// builder, or the host's network on a daemon without one; a name is that network.
fn step_network(
    containers: &crate::containers::Containers,
    network: &str,
) -> Result<(
    crate::containers::NetworkMode,
    Vec<crate::containers::EndpointSpec>,
)> {
    use crate::containers::{EndpointSpec, NetworkMode};
    let name = match network {
        "host" => return Ok((NetworkMode::Host, Vec::new())),
        "none" => return Ok((NetworkMode::None, Vec::new())),
        "default" => "bridge",
        other => other,
    };
    let Some(id) = containers.network_id(name) else {
        if network == "default" {
            return Ok((NetworkMode::Host, Vec::new()));
        }
        return Err(Error::invalid(format!("network {name} not found")));
    };
    let ep = EndpointSpec {
        network: id.clone(),
        name: name.to_string(),
        ..EndpointSpec::default()
    };
    Ok((
        NetworkMode::Network {
            id,
            name: network.to_string(),
        },
        vec![ep],
    ))
}

fn is_only_heredoc(cmd: &str) -> bool {
    let c = cmd.trim();
    c.starts_with("<<") && !c.contains(char::is_whitespace)
}

async fn execute(
    st: &mut State<'_>,
    argv: Vec<String>,
    extra_env: Vec<String>,
    network: String,
    mounts: &super::mounts::Prepared,
) -> Result<Layer> {
    let Some(image) = st.image.clone() else {
        return Err(Error::invalid(
            "RUN needs a base image with a shell: the stage starts FROM scratch",
        ));
    };
    let b = st.shared.builder.clone();
    let (mode, endpoints) = step_network(&b.containers, &network)?;
    let mut env = st.config.config.env.clone().unwrap_or_default();
    env.extend(extra_env);
    env.extend(mounts.env.iter().cloned());
    let spec = Spec {
        image: image.id.to_string(),
        user: st.config.config.user.clone(),
        working_dir: st.config.config.working_dir.clone(),
        env,
        cmd: Some(argv.clone()),
        entrypoint: Some(Vec::new()),
        stdio: Stdio {
            attach_stdout: true,
            attach_stderr: true,
            ..Stdio::default()
        },
        network: mode,
        net: crate::containers::NetSpec {
            extra_hosts: st.shared.opts.extra_hosts.clone(),
            endpoints,
            ..Default::default()
        },
        mounts: mounts.mounts.iter().map(MountSpec::from).collect(),
        shm_size: st.shared.opts.shm_size,
        resources: st.shared.opts.step_limits.resources,
        cgroup: st.shared.opts.step_limits.cgroup.clone(),
        limits: crate::containers::limits::Limits {
            ulimits: st.shared.opts.step_limits.ulimits.clone(),
            ..Default::default()
        },
        ..Spec::default()
    };
    let stubs = mount_stubs(&b, &image, &mounts.mounts)?;
    let id = b.containers.create_build_step(spec)?;
    let c = b.containers.get(&id)?;
    let mut guard = Guard {
        containers: b.containers.clone(),
        container: Some(c.clone()),
    };
    st.say(format!(" ---> Running in {}\n", &id[..12]))?;
    let log = b.containers.paths(&id).log;
    // A step that cannot start fails the build with exit 1, as Docker's does: the code the
    // container records (127, 126) is not the build's.
    b.containers.start(&c).await.map_err(|mut e| {
        e.code = None;
        e
    })?;
    let out = st.out.clone();
    let quiet = st.shared.opts.quiet;
    let mut tail: std::collections::VecDeque<String> = Default::default();
    follow_log(c.clone(), log, From::Start, Until::Stopped, |e| {
        tail.push_back(e.log.clone());
        if tail.len() > 10 {
            tail.pop_front();
        }
        quiet || out.send(super::Progress::Stream(e.log)).is_ok()
    })
    .await;
    let code = b.containers.wait(&c, WaitCondition::NotRunning).await?;
    if code != 0 {
        if !st.shared.opts.force_remove {
            // Kept for inspection, as Docker keeps it without --force-rm: an ordinary container.
            if let Some(c) = guard.container.take() {
                b.containers.keep(&c).await?;
            }
        }
        let mut msg = format!(
            "The command '{}' returned a non-zero code: {code}",
            argv.join(" ")
        );
        if quiet && !tail.is_empty() {
            msg.push('\n');
            msg.push_str(&tail.iter().cloned().collect::<String>());
        }
        return Err(Error::invalid(msg).with_code(code));
    }
    let upper = b.images.snapshots().upper(&id);
    let ids = b.images.snapshots().ids().cloned();
    let tar_path = b.workdir().with_extension("tar");
    let path = tar_path.clone();
    tokio::task::spawn_blocking(move || {
        remove_stubs(&upper, &stubs);
        let f = std::fs::File::create(&path)?;
        let out = std::io::BufWriter::new(f);
        berth_snapshot::diff_mapped(&upper, out, &Default::default(), ids.as_ref())
    })
    .await
    .map_err(|e| Error::internal("diff task", e))?
    .map_err(|e| Error::internal("reading what RUN changed", e))?;
    if !st.shared.opts.remove {
        if let Some(c) = guard.container.take() {
            b.containers.keep(&c).await?;
        }
    } else if let Some(c) = guard.container.take() {
        st.say(format!("Removing intermediate container {}\n", &id[..12]))?;
        b.containers.remove(&c, true, true).await?;
    }
    Ok(Layer::Tar(tar_path))
}

/// The paths the runtime will create for mount targets the image lacks (each target and its
/// missing parents, deepest first): they are not part of what the step made.
fn mount_stubs(
    b: &super::Builder,
    image: &berth_image::Image,
    mounts: &[berth_runtime::ExtraMount],
) -> Result<Vec<String>> {
    if mounts.is_empty() {
        return Ok(Vec::new());
    }
    let view = super::copy::View::mount(b, Some(image))?;
    let mut stubs = Vec::new();
    for m in mounts {
        let mut p = std::path::PathBuf::from(m.destination.trim_start_matches('/'));
        loop {
            if p.as_os_str().is_empty()
                || super::context::resolve(view.root(), &p.to_string_lossy()).is_some()
            {
                break;
            }
            stubs.push(p.to_string_lossy().into_owned());
            if !p.pop() {
                break;
            }
        }
    }
    Ok(stubs)
}

/// Removes mount stubs from a container's upper directory, when nothing else was put there.
fn remove_stubs(upper: &std::path::Path, stubs: &[String]) {
    for s in stubs {
        let p = upper.join(s);
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => {
                let _ = std::fs::remove_dir(&p); // only when empty
            }
            Ok(m) if m.len() == 0 => {
                let _ = std::fs::remove_file(&p);
            }
            _ => {}
        }
    }
}
