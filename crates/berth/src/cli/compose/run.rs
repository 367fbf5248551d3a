//! `compose run`: a one-off command in a new container of a service.

use std::io::IsTerminal;

use anyhow::{Result, bail};
use berth_compose::model::{Mount, MountKind, Port};
use berth_compose::ops::images::ImageOptions;
use berth_compose::ops::run::{self, RunOptions};

use super::{Ctx, project};

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Run container in background and print container ID.
    #[arg(short, long)]
    detach: bool,
    /// Automatically remove the container when it exits.
    #[arg(long)]
    rm: bool,
    /// Set environment variables.
    #[arg(short, long = "env")]
    env: Vec<String>,
    /// Add or override a label.
    #[arg(short, long = "label")]
    label: Vec<String>,
    /// Override the entrypoint of the image.
    #[arg(long)]
    entrypoint: Option<String>,
    /// Don't start linked services.
    #[arg(long)]
    no_deps: bool,
    /// Publish a container's port(s) to the host.
    #[arg(short, long = "publish")]
    publish: Vec<String>,
    /// Run command with all service's ports enabled and mapped to the host.
    #[arg(long)]
    service_ports: bool,
    /// Bind mount a volume.
    #[arg(short, long = "volume")]
    volume: Vec<String>,
    /// Use the service's network useAliases in the network(s) the container connects to.
    #[arg(long)]
    use_aliases: bool,
    /// Assign a name to the container.
    #[arg(long)]
    name: Option<String>,
    /// Run as specified username or uid.
    #[arg(short, long)]
    user: Option<String>,
    /// Working directory inside the container.
    #[arg(short, long)]
    workdir: Option<String>,
    /// Disable pseudo-TTY allocation (default: auto-detected).
    #[arg(short = 'T', long = "no-TTY")]
    no_tty: bool,
    /// Build image before starting container.
    #[arg(long)]
    build: bool,
    /// Pull image before running ("always"|"missing"|"never").
    #[arg(long)]
    pull: Option<String>,
    service: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

/// `-p [IP:][PUBLISHED:]TARGET[/PROTO]`.
fn port(spec: &str) -> Result<Port> {
    let (addr, proto) = spec.rsplit_once('/').unwrap_or((spec, "tcp"));
    let parts: Vec<&str> = addr.rsplitn(3, ':').collect();
    let target: u16 = parts[0]
        .parse()
        .map_err(|_| anyhow::anyhow!("invalid port {spec:?}"))?;
    Ok(Port {
        name: None,
        mode: "ingress".into(),
        host_ip: parts.get(2).map(|s| s.trim_matches(['[', ']']).to_string()),
        target,
        published: parts
            .get(1)
            .filter(|p| !p.is_empty())
            .map(|p| p.to_string()),
        protocol: proto.to_string(),
        app_protocol: None,
    })
}

/// `-v SOURCE:TARGET[:ro|rw]` or `-v TARGET`: a bind when the source is a path.
fn volume(spec: &str) -> Result<Mount> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [t] => (None, *t, ""),
        [s, t] => (Some(*s), *t, ""),
        [s, t, m] => (Some(*s), *t, *m),
        _ => bail!("invalid volume specification: {spec:?}"),
    };
    if !["", "ro", "rw"].contains(&mode) {
        bail!("invalid mode {mode:?} in volume specification {spec:?}");
    }
    let is_path = source.is_some_and(|s| s.starts_with(['/', '.', '~']));
    let source = match source {
        Some(s) if s.starts_with('.') => {
            Some(std::env::current_dir()?.join(s).display().to_string())
        }
        other => other.map(str::to_string),
    };
    Ok(Mount {
        kind: if is_path {
            MountKind::Bind
        } else {
            MountKind::Volume
        },
        source,
        target: target.to_string(),
        read_only: mode == "ro",
        consistency: None,
        bind: None,
        volume: None,
        tmpfs: None,
    })
}

fn kv(s: &str) -> (String, Option<String>) {
    match s.split_once('=') {
        Some((k, v)) => (k.to_string(), Some(v.to_string())),
        None => (s.to_string(), None),
    }
}

pub async fn run(ctx: &Ctx, a: RunArgs) -> Result<u8> {
    let mut o = project::open(ctx)?;
    o.info.project = o
        .info
        .project
        .with_services_enabled(std::slice::from_ref(&a.service))?;
    let tty = !a.no_tty && std::io::stdin().is_terminal() && !a.detach;
    let opts = RunOptions {
        service: a.service.clone(),
        command: (!a.command.is_empty()).then(|| a.command.clone()),
        entrypoint: a
            .entrypoint
            .as_deref()
            .map(berth_compose::model::shellwords::split)
            .transpose()
            .map_err(|e| anyhow::anyhow!("invalid --entrypoint: {e}"))?,
        env: a.env.iter().map(|e| kv(e)).collect(),
        labels: a
            .label
            .iter()
            .map(|l| kv(l))
            .map(|(k, v)| (k, v.unwrap_or_default()))
            .collect(),
        name: a.name.clone(),
        user: a.user.clone(),
        workdir: a.workdir.clone(),
        publish: a.publish.iter().map(|p| port(p)).collect::<Result<_>>()?,
        service_ports: a.service_ports,
        volumes: a.volume.iter().map(|v| volume(v)).collect::<Result<_>>()?,
        use_aliases: a.use_aliases,
        no_deps: a.no_deps,
        rm: a.rm,
        tty,
        interactive: !a.detach,
        images: ImageOptions {
            build: a.build,
            no_build: false,
            pull: a.pull.clone(),
        },
    };
    let name = run::create(&ctx.api, &o.info, &opts, ctx.progress).await?;
    if a.detach {
        ctx.api.start(&name).await?;
        println!("{name}");
        return Ok(0);
    }
    crate::cli::run::start_attached(ctx.api.client(), &name, true, None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_specs_parse_as_compose_reads_them() {
        let p = port("127.0.0.1:8080:80/udp").unwrap();
        assert_eq!(
            (
                p.host_ip.as_deref(),
                p.published.as_deref(),
                p.target,
                p.protocol.as_str()
            ),
            (Some("127.0.0.1"), Some("8080"), 80, "udp")
        );
        let p = port("80").unwrap();
        assert_eq!((p.host_ip, p.published, p.target), (None, None, 80));
        port("x:80:y").unwrap_err();
    }

    #[test]
    fn volume_specs_tell_binds_from_named_volumes() {
        assert_eq!(volume("/src:/dst:ro").unwrap().kind, MountKind::Bind);
        let v = volume("data:/dst").unwrap();
        assert_eq!(
            (v.kind, v.source.as_deref(), v.read_only),
            (MountKind::Volume, Some("data"), false)
        );
        volume("a:b:zz").unwrap_err();
    }
}
