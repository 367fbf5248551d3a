//! The image service: what the API does to images beyond reading the store — removal with
//! Docker's conflict rules, tags, history — with the events each publishes. Handlers convert its
//! answers to Docker's JSON; the rules live here.

mod archive;
mod commit;
mod layer_fetch;
mod layer_push;
mod prune;
mod pull;
mod push;
pub mod registry;
pub use archive::LoadOutput;
pub use commit::CommitOptions;
pub use prune::Pruned;
pub use pull::PullOptions;
pub use registry::{Progress, RegistryConfig};

use std::sync::Arc;

use berth_core::Digest;
use berth_image::{Image, ImageStore, Reference};

use crate::containers::{Containers, Status};
use crate::error::{Error, Result};
use crate::events::Events;

/// What `remove` did, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removed {
    /// A name was removed (familiar form).
    Untagged(String),
    /// The image itself was removed.
    Deleted(Digest),
}

/// One step of an image's history, newest first.
#[derive(Debug, Clone)]
pub struct Step {
    /// The image the step made, when it is here (build steps).
    pub image: Option<Image>,
    /// Unix seconds.
    pub created: i64,
    /// The instruction.
    pub created_by: String,
    /// Bytes of its layer (0 for metadata steps).
    pub size: i64,
    /// Its comment.
    pub comment: String,
}

/// The image service.
pub struct Images {
    /// The image store, for reads.
    pub store: ImageStore,
    containers: Arc<Containers>,
    events: Arc<Events>,
    /// The client of every registry.
    pub registry: berth_distribution::client::Client,
    registry_config: RegistryConfig,
}

impl Images {
    /// The service over `store`; `containers` say which images are in use.
    pub fn new(
        store: ImageStore,
        containers: Arc<Containers>,
        events: Arc<Events>,
        registry_config: RegistryConfig,
    ) -> Self {
        Images {
            registry: berth_distribution::client::Client::new(registry_config.settings.clone()),
            registry_config,
            store,
            containers,
            events,
        }
    }

    fn publish(&self, action: &str, id: &Digest, name: Option<String>) {
        let attrs = name.map(|n| ("name".to_string(), n)).into_iter().collect();
        self.events.publish("image", action, id.as_str(), attrs);
    }

    /// Tags image `name` as `repo[:tag]` (`latest` by default).
    pub fn tag(&self, name: &str, repo: &str, tag: Option<&str>) -> Result<Reference> {
        let image = self.store.resolve(name)?;
        let r = commit::reference(repo, tag)?;
        self.store.tag(&image.id, &r)?;
        self.publish("tag", &image.id, Some(r.familiar()));
        Ok(r)
    }

    fn untag(&self, image: &Image, r: &Reference, out: &mut Vec<Removed>) -> Result<()> {
        self.store.untag(r)?;
        self.publish("untag", &image.id, Some(r.familiar()));
        out.push(Removed::Untagged(r.familiar()));
        Ok(())
    }

    /// `rmi`: removes a name, or the image with all its names, with Docker's conflict rules.
    /// Blocks (layers are removed): call it off the async workers.
    pub fn remove(&self, name: &str, force: bool) -> Result<Vec<Removed>> {
        let image = self.store.resolve(name)?;
        let by_name = Reference::parse(name)
            .ok()
            .map(Reference::with_default_tag)
            .filter(|r| image.refs.contains(r));
        let short = &image.id.hex()[..12];
        let mut out = Vec::new();
        // One name among several: only that name goes.
        if let (Some(r), true) = (&by_name, image.refs.len() > 1) {
            self.untag(&image, r, &mut out)?;
            return Ok(out);
        }
        // Containers of any of its platforms use it.
        let users = self.containers.image_users(&image.id);
        if let Some(running) = users.iter().find(|u| u.state.status == Status::Running) {
            return Err(Error::conflict(format!(
                "conflict: unable to delete {short} (cannot be forced) - image is being used by running container {}",
                &running.id[..12]
            )));
        }
        if let (Some(c), false) = (users.first(), force) {
            return Err(Error::conflict(match &by_name {
                Some(_) => format!(
                    "conflict: unable to remove repository reference \"{name}\" (must force) - container {} is using its referenced image {short}",
                    &c.id[..12]
                ),
                None => format!(
                    "conflict: unable to delete {short} (must be forced) - image is being used by stopped container {}",
                    &c.id[..12]
                ),
            }));
        }
        if by_name.is_none() && image.refs.len() > 1 && !force {
            return Err(Error::conflict(format!(
                "conflict: unable to delete {short} (must be forced) - image is referenced in multiple repositories"
            )));
        }
        for r in &image.refs {
            self.untag(&image, r, &mut out)?;
        }
        // A forced removal of an image that stopped containers use leaves it untagged, as
        // Docker does.
        if users.is_empty() {
            self.store.delete(&image.id)?;
            self.publish("delete", &image.id, None);
            out.push(Removed::Deleted(image.id.clone()));
        }
        Ok(out)
    }

    /// The history of image `name`, newest first: each step names the image it made when that
    /// image is here, and the size of its layer. Blocks (layer sizes).
    pub fn history(&self, name: &str) -> Result<Vec<Step>> {
        let image = self.store.resolve(name)?;
        let h = &image.config.history;
        // Layer sizes in history order: each non-empty entry takes the next layer.
        let mut sizes = Vec::with_capacity(h.len());
        let mut chain: Option<Digest> = None;
        let mut diffs = image.config.rootfs.diff_ids.iter();
        for e in h {
            let diff = if e.empty_layer { None } else { diffs.next() };
            match diff {
                Some(diff) => {
                    let c = berth_snapshot::chain_id(chain.as_ref(), diff);
                    sizes.push(self.store.snapshots().usage(&c) as i64);
                    chain = Some(c);
                }
                None => sizes.push(0),
            }
        }
        // The parent chain names the entries from the newest down, one image per step.
        let mut owners = vec![];
        let mut cur = Some(image.clone());
        while let Some(i) = cur {
            cur = i.parent.as_ref().and_then(|p| self.store.get(p).ok());
            owners.push(i);
        }
        let mut out = Vec::new();
        for (n, (e, size)) in h.iter().zip(sizes).enumerate().rev() {
            let owner = owners
                .get(h.len() - 1 - n)
                .filter(|i| i.config.history.len() == n + 1);
            out.push(Step {
                image: owner.cloned(),
                created: e
                    .created
                    .as_deref()
                    .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
                    .map_or(0, |t| t.timestamp()),
                created_by: e.created_by.clone().unwrap_or_default(),
                size,
                comment: e.comment.clone().unwrap_or_default(),
            });
        }
        Ok(out)
    }
}

/// The names of `i` that carry a tag, in familiar form.
pub fn tags(i: &Image) -> Vec<String> {
    i.refs
        .iter()
        .filter(|r| r.tag().is_some())
        .map(Reference::familiar)
        .collect()
}
