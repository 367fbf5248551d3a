//! The images of a project's services: pulled or built as `pull_policy`, `--pull`, `--build`
//! and `--no-build` say, as Compose v2 decides.

use std::collections::BTreeMap;
use std::path::Path;

use bytes::Bytes;

use super::api::{Api, enc};
use super::error::{Error, project as err};
use super::progress::Progress;
use crate::model::{Build, Project, Service};

/// How `up`/`create` get images.
#[derive(Clone, Debug, Default)]
pub struct ImageOptions {
    /// `--build`: build before starting.
    pub build: bool,
    /// `--no-build`: never build.
    pub no_build: bool,
    /// `--pull always|missing|never|build`.
    pub pull: Option<String>,
}

/// Makes sure `s`'s image is there; its ID.
pub async fn ensure(
    api: &Api,
    p: &Project,
    s: &Service,
    o: &ImageOptions,
    progress: Progress,
) -> Result<String, Error> {
    let name = s.image_name(&p.name);
    let policy = o
        .pull
        .clone()
        .or_else(|| s.pull_policy.clone())
        .unwrap_or_else(|| "missing".into());
    let have = api.image(&name).await?;
    let build = s.build.as_ref().filter(|_| !o.no_build);
    let must_build =
        build.is_some() && (o.build || policy == "build" || (have.is_none() && s.image.is_none()));
    if must_build && let Some(b) = build {
        return build_image(api, s, b, &name, progress).await;
    }
    match (policy.as_str(), &have) {
        ("always", _) | ("missing" | "if_not_present", None) => {}
        ("never", None) => {
            return Err(err(format!(
                "image {name:?} for service {:?} is not present and pull_policy is never",
                s.name
            )));
        }
        ("missing" | "if_not_present" | "never" | "build", Some(i)) => return Ok(id_of(i)),
        ("build", None) if build.is_none() => {}
        (other, _)
            if !["always", "missing", "if_not_present", "never", "build"].contains(&other) =>
        {
            return Err(err(format!(
                "invalid pull policy {other:?} for service {:?}",
                s.name
            )));
        }
        _ => {}
    }
    if s.image.is_none() {
        return match build {
            Some(b) => build_image(api, s, b, &name, progress).await,
            None => Err(err(format!(
                "service {:?} has neither an image nor a build context specified: invalid compose project",
                s.name
            ))),
        };
    }
    progress.event("Image", &name, "Pulling");
    if let Err(e) = api.pull(&name, s.platform.as_deref()).await {
        progress.detail("Image", &name, "Error", &e.to_string());
        if let (Some(b), None) = (build, &have) {
            return build_image(api, s, b, &name, progress).await;
        }
        return Err(e.into());
    }
    progress.event("Image", &name, "Pulled");
    let i = api
        .image(&name)
        .await?
        .ok_or_else(|| err(format!("image {name} missing after its pull")))?;
    Ok(id_of(&i))
}

fn id_of(inspect: &serde_json::Value) -> String {
    inspect["Id"].as_str().unwrap_or_default().to_string()
}

/// Builds `b` as `tag` (and `b.tags`): `compose build`, and `up` when an image is missing.
pub async fn build_image(
    api: &Api,
    s: &Service,
    b: &Build,
    tag: &str,
    progress: Progress,
) -> Result<String, Error> {
    let context = b.context.clone().unwrap_or_else(|| ".".into());
    if context.contains("://") || context.starts_with("git@") {
        return Err(err(format!(
            "services.{}.build.context: remote contexts are not supported by berth compose",
            s.name
        )));
    }
    for (key, set) in [
        ("additional_contexts", !b.additional_contexts.is_empty()),
        ("platforms", b.platforms.len() > 1),
        ("extra_hosts", !b.extra_hosts.is_empty()),
    ] {
        if set {
            return Err(err(format!(
                "services.{}.build.{key} is not supported by berth compose",
                s.name
            )));
        }
    }
    let dockerfile = b.dockerfile.clone().unwrap_or_else(|| "Dockerfile".into());
    let (tar, dockerfile) = context_tar(
        Path::new(&context),
        &dockerfile,
        b.dockerfile_inline.as_deref(),
    )
    .map_err(|e| err(format!("services.{}.build: {e}", s.name)))?;
    let mut q = vec![
        format!("dockerfile={}", enc(&dockerfile)),
        format!("t={}", enc(tag)),
    ];
    q.extend(b.tags.iter().map(|t| format!("t={}", enc(t))));
    let args: BTreeMap<&String, &Option<String>> = b.args.iter().collect();
    q.push(format!(
        "buildargs={}",
        enc(&serde_json::to_string(&args).unwrap_or_default())
    ));
    q.push(format!(
        "labels={}",
        enc(&serde_json::to_string(&b.labels).unwrap_or_default())
    ));
    if let Some(t) = &b.target {
        q.push(format!("target={}", enc(t)));
    }
    if !b.cache_from.is_empty() {
        q.push(format!(
            "cachefrom={}",
            enc(&serde_json::to_string(&b.cache_from).unwrap_or_default())
        ));
    }
    if let Some(n) = &b.network {
        q.push(format!("networkmode={}", enc(n)));
    }
    if let Some(sz) = b.shm_size {
        q.push(format!("shmsize={}", sz.0));
    }
    if let Some(p) = b.platforms.first().or(s.platform.as_ref()) {
        q.push(format!("platform={}", enc(p)));
    }
    q.push(format!(
        "nocache={}&pull={}&rm=1&forcerm=1",
        u8::from(b.no_cache),
        u8::from(b.pull)
    ));
    progress.event("Image", tag, "Building");
    if let Err(e) = api.build(&q.join("&"), Bytes::from(tar)).await {
        progress.detail("Image", tag, "Error", &e.to_string());
        return Err(err(format!("failed to build service {:?}: {e}", s.name)));
    }
    progress.event("Image", tag, "Built");
    let i = api
        .image(tag)
        .await?
        .ok_or_else(|| err(format!("image {tag} missing after its build")))?;
    Ok(id_of(&i))
}

/// The context directory as a tar, with an inline Dockerfile added when given; the
/// Dockerfile's name in it.
fn context_tar(
    root: &Path,
    dockerfile: &str,
    inline: Option<&str>,
) -> std::io::Result<(Vec<u8>, String)> {
    if !root.is_dir() {
        return Err(std::io::Error::other(format!(
            "build context {} is not a directory",
            root.display()
        )));
    }
    let name = match inline {
        Some(_) => format!(".berth-compose-inline-{}.Dockerfile", std::process::id()),
        None => relative_dockerfile(root, dockerfile),
    };
    let mut b = tar::Builder::new(Vec::new());
    berth_build::context::append_directory(&mut b, root, &name)?;
    if let Some(text) = inline {
        let mut h = tar::Header::new_gnu();
        h.set_size(text.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, &name, text.as_bytes())?;
    }
    Ok((b.into_inner()?, name))
}

/// `dockerfile` relative to the context when it lies inside it (compose resolves it against
/// the context).
fn relative_dockerfile(root: &Path, dockerfile: &str) -> String {
    let p = Path::new(dockerfile);
    if p.is_absolute()
        && let Ok(r) = p.strip_prefix(root)
    {
        return r.display().to_string();
    }
    dockerfile.to_string()
}
