//! `down`: exactly what `up` made goes: the project's containers (dependants first), its
//! networks, with `-v` its volumes, with `--rmi` its images.

use super::api::Api;
use super::converge;
use super::error::Error;
use super::graph;
use super::observed::{self, OneOff};
use super::parallel;
use super::progress::Progress;
use super::{networks, volumes};
use crate::model::Project;

/// `down`'s options.
#[derive(Clone, Debug, Default)]
pub struct DownOptions {
    /// `--remove-orphans`.
    pub remove_orphans: bool,
    /// `-v`: named volumes declared in the project and anonymous volumes of its containers.
    pub volumes: bool,
    /// `--rmi all|local`.
    pub rmi: Option<String>,
    /// `-t`.
    pub timeout: Option<u64>,
}

/// Takes project `name` down; `p` is its model when the files could be read (orphans are
/// then told apart, and `--rmi` knows the images).
pub async fn down(
    api: &Api,
    name: &str,
    p: Option<&Project>,
    o: &DownOptions,
    progress: Progress,
) -> Result<(), Error> {
    let all = observed::containers(api, name, &[], OneOff::Include).await?;
    let known =
        |svc: &str| p.is_none_or(|p| p.services.contains_key(svc) || p.disabled.contains_key(svc));
    let mut levels = graph::levels(&observed::dependencies(&all)).unwrap_or_default();
    levels.reverse();
    let placed: Vec<&String> = levels.iter().flatten().collect();
    let unplaced: Vec<String> = all
        .iter()
        .map(|c| observed::service(c).to_string())
        .filter(|s| !placed.contains(&s))
        .collect();
    levels.push(unplaced);
    for level in &levels {
        let doomed: Vec<&berth_api::container::Summary> = all
            .iter()
            .filter(|c| level.iter().any(|s| s == observed::service(c)))
            .filter(|c| known(observed::service(c)) || o.remove_orphans)
            .collect();
        parallel::each(api.parallel(), doomed, |c| {
            converge::remove(api, c, o.timeout, progress, o.volumes)
        })
        .await?;
    }
    networks::remove_all(api, name, progress).await?;
    if o.volumes {
        volumes::remove_all(api, name, progress).await?;
    }
    if let (Some(rmi), Some(p)) = (&o.rmi, p) {
        for s in p.services.values() {
            if rmi == "local" && s.image.is_some() {
                continue;
            }
            let img = s.image_name(&p.name);
            if api.image(&img).await?.is_some() {
                progress.event("Image", &img, "Removing");
                api.remove_image(&img).await?;
                progress.event("Image", &img, "Removed");
            }
        }
    }
    Ok(())
}
