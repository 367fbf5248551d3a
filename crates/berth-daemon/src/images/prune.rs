//! `image prune`, as Docker's `ImagesPrune` chooses: dangling images by default (untagged,
//! not a build's intermediate with children), every image no container uses with `all`; the
//! caller's filters (`until`, labels) on what is considered. An image a container started
//! using meanwhile stays, silently, as in Docker.

use std::collections::{BTreeMap, BTreeSet};

use berth_image::Image;

use super::{Images, Removed};
use crate::error::Result;

/// What a prune removed and the bytes of the layers that went with it.
#[derive(Debug, Default)]
pub struct Pruned {
    /// Names untagged and images deleted, in order.
    pub removed: Vec<Removed>,
    /// Bytes of the layers no image uses any more.
    pub reclaimed: u64,
}

impl Images {
    /// Removes the unused images `select` picks: dangling ones, or with `all` tagged ones
    /// too. Blocks (layers are removed): call it off the async workers.
    pub fn prune(&self, all: bool, select: impl Fn(&Image) -> bool) -> Result<Pruned> {
        let layers_before = self.layer_sizes()?;
        let images = self.store.list()?;
        let parents: BTreeSet<_> = images.iter().filter_map(|i| i.parent.clone()).collect();
        let mut out = Pruned::default();
        for image in images {
            let tagged = !image.refs.is_empty();
            let skip = (!tagged && parents.contains(&image.id)) || (tagged && !all);
            if skip || !select(&image) || !self.containers.image_users(&image.id).is_empty() {
                continue;
            }
            // By ID, forced past its several names: every name goes, then the image.
            match self.remove(image.id.as_str(), true) {
                Ok(mut removed) => out.removed.append(&mut removed),
                Err(e) if e.kind == berth_core::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            }
        }
        let after = self.layer_sizes()?;
        out.reclaimed = layers_before
            .iter()
            .filter(|(chain, _)| !after.contains_key(*chain))
            .map(|(_, size)| size)
            .sum();
        Ok(out)
    }

    fn layer_sizes(&self) -> Result<BTreeMap<berth_core::Digest, u64>> {
        let layers = self
            .store
            .snapshots()
            .walk()
            .map_err(|e| crate::error::Error::internal("listing layers", e))?;
        Ok(layers.into_iter().map(|l| (l.chain, l.size)).collect())
    }
}
