//! `compose build`, `pull`, `push` and `images`: the images of a project's services.

use anyhow::{Result, bail};
use berth_compose::ops::images;
use berth_compose::ops::observed::{self, OneOff};
use clap::Parser;

use super::{Ctx, project};

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Set build-time variables for services.
    #[arg(long = "build-arg")]
    build_arg: Vec<String>,
    /// Do not use cache when building the image.
    #[arg(long)]
    no_cache: bool,
    /// Always attempt to pull a newer version of the image.
    #[arg(long)]
    pull: bool,
    /// Don't print anything to STDOUT.
    #[arg(short, long)]
    quiet: bool,
    services: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// Ignore images that can be built.
    #[arg(long)]
    ignore_buildable: bool,
    /// Pull what it can and ignores images with pull failures.
    #[arg(long)]
    ignore_pull_failures: bool,
    /// Also pull services declared as dependencies.
    #[arg(long)]
    include_deps: bool,
    /// Pull without printing progress information.
    #[arg(short, long)]
    quiet: bool,
    services: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// Push what it can and ignores images with push failures.
    #[arg(long)]
    ignore_push_failures: bool,
    /// Push without printing progress information.
    #[arg(short, long)]
    quiet: bool,
    services: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct ImagesArgs {
    /// Only display IDs.
    #[arg(short, long)]
    quiet: bool,
    /// Format the output. Values: [table | json].
    #[arg(long, default_value = "table")]
    format: String,
    services: Vec<String>,
}

/// The services a command names (all when none), checked.
fn named(p: &berth_compose::model::Project, names: &[String]) -> Result<Vec<String>> {
    for n in names {
        if !p.services.contains_key(n) {
            bail!("no such service: {n}");
        }
    }
    Ok(if names.is_empty() {
        p.services.keys().cloned().collect()
    } else {
        names.to_vec()
    })
}

pub async fn build(ctx: &Ctx, a: BuildArgs) -> Result<u8> {
    let o = project::open(ctx)?;
    let p = &o.info.project;
    for name in named(p, &a.services)? {
        let s = &p.services[&name];
        let Some(b) = &s.build else { continue };
        let mut b = b.clone();
        b.no_cache |= a.no_cache;
        b.pull |= a.pull;
        for kv in &a.build_arg {
            let (k, v) = kv
                .split_once('=')
                .map_or((kv.as_str(), None), |(k, v)| (k, Some(v.to_string())));
            b.args
                .insert(k.to_string(), v.or_else(|| std::env::var(k).ok()));
        }
        images::build_image(&ctx.api, s, &b, &s.image_name(&p.name), ctx.progress).await?;
    }
    Ok(0)
}

pub async fn pull(ctx: &Ctx, a: PullArgs) -> Result<u8> {
    let o = project::open(ctx)?;
    let p = &o.info.project;
    let mut names = named(p, &a.services)?;
    if a.include_deps && !a.services.is_empty() {
        names = berth_compose::ops::up::selected(p, &names, false)?;
    }
    let mut failed = false;
    for name in names {
        let s = &p.services[&name];
        let Some(image) = &s.image else { continue };
        if (a.ignore_buildable && s.build.is_some()) || s.pull_policy.as_deref() == Some("build") {
            continue;
        }
        ctx.progress.event("Image", image, "Pulling");
        match ctx.api.pull(image, s.platform.as_deref()).await {
            Ok(()) => ctx.progress.event("Image", image, "Pulled"),
            Err(e) if a.ignore_pull_failures || s.build.is_some() => {
                ctx.progress.detail("Image", image, "Error", &e.to_string());
                failed |= !a.ignore_pull_failures && s.build.is_none();
            }
            Err(e) => {
                ctx.progress.detail("Image", image, "Error", &e.to_string());
                return Err(e.into());
            }
        }
    }
    Ok(u8::from(failed))
}

/// The CLI's `push` arguments, parsed as `berth push` would parse them.
#[derive(Parser)]
struct Push {
    #[command(flatten)]
    a: crate::cli::push::PushArgs,
}

pub async fn push(ctx: &Ctx, a: PushArgs) -> Result<u8> {
    let o = project::open(ctx)?;
    let p = &o.info.project;
    for name in named(p, &a.services)? {
        let s = &p.services[&name];
        let Some(image) = s.image.clone() else {
            continue;
        };
        let mut argv = vec!["push".to_string()];
        if a.quiet {
            argv.push("-q".into());
        }
        argv.push(image.clone());
        let code = crate::cli::push::push(ctx.api.client(), Push::try_parse_from(argv)?.a).await;
        match code {
            Ok(0) => {}
            Ok(_) | Err(_) if a.ignore_push_failures => {
                eprintln!("WARN[0000] failed to push {image}")
            }
            Ok(c) => return Ok(c),
            Err(e) => return Err(e),
        }
    }
    Ok(0)
}

pub async fn images(ctx: &Ctx, a: ImagesArgs) -> Result<u8> {
    let name = project::name(ctx)?;
    let list = observed::containers(&ctx.api, &name, &a.services, OneOff::Exclude).await?;
    let mut rows = vec![
        ["CONTAINER", "REPOSITORY", "TAG", "IMAGE ID", "SIZE"]
            .map(String::from)
            .to_vec(),
    ];
    let mut json = Vec::new();
    for c in &list {
        let Some(img) = ctx.api.image(&c.image_id).await? else {
            continue;
        };
        let id = img["Id"].as_str().unwrap_or_default().to_string();
        if a.quiet {
            println!("{}", id.trim_start_matches("sha256:"));
            continue;
        }
        let (repo, tag) = match c.image.rsplit_once(':').filter(|(_, t)| !t.contains('/')) {
            Some((r, t)) => (r.to_string(), t.to_string()),
            None => (c.image.clone(), "latest".into()),
        };
        let size = img["Size"].as_i64().unwrap_or(0);
        let short = id
            .trim_start_matches("sha256:")
            .chars()
            .take(12)
            .collect::<String>();
        json.push(serde_json::json!({"ContainerName": observed::name(c), "Repository": repo, "Tag": tag, "ID": id, "Size": size}));
        rows.push(vec![
            observed::name(c).to_string(),
            repo,
            tag,
            short,
            crate::cli::human_size(size),
        ]);
    }
    if a.quiet {
        return Ok(0);
    }
    match a.format.as_str() {
        "table" => crate::cli::table(&rows),
        "json" => println!("{}", serde_json::Value::Array(json)),
        other => bail!("unsupported format {other:?}: use table or json"),
    }
    Ok(0)
}
