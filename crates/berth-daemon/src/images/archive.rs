//! `save` and `load`: the image service's side of image archives — which images names stand
//! for, the tags a load sets (moving a name off another image as Docker does) and the events
//! both publish. The archive formats are berth-image's.

use std::io::{Read, Write};

use berth_image::archive::{self, LoadEvent, SaveItem};

use super::Images;
use crate::error::Result;

/// What a load tells its client, in order.
#[derive(Debug, Clone)]
pub enum LoadOutput {
    /// A layer is being unpacked (short diff ID, bytes of its blob) or is done.
    Layer {
        /// First 12 hex digits of its diff ID.
        id: String,
        /// Bytes of its blob.
        size: u64,
        /// Whether it is done.
        done: bool,
    },
    /// A line of text (`Loaded image: busybox:latest`), without its newline.
    Line(String),
}

impl Images {
    /// The images `names` stand for in a save (Docker's rules: see [`archive::resolve`]).
    /// Blocks (reads the store).
    pub fn save_items(&self, names: &[String]) -> Result<Vec<SaveItem>> {
        Ok(archive::resolve(&self.store, names)?)
    }

    /// Writes `items` as one archive to `out`. Blocks: call it off the async workers.
    pub fn save(&self, items: &[SaveItem], out: impl Write) -> Result<()> {
        archive::save(&self.store, items, out)?;
        for i in items {
            self.publish("save", &i.image.id, Some(i.image.id.to_string()));
        }
        Ok(())
    }

    /// Loads the archive `input`: its images, then their names; `out` hears progress and the
    /// lines Docker prints. Blocks: call it off the async workers.
    pub fn load(&self, input: impl Read + Send, out: &mut dyn FnMut(LoadOutput)) -> Result<()> {
        let loaded = archive::load(&self.store, input, &mut |e| match e {
            LoadEvent::Layer { id, size, done } => out(LoadOutput::Layer { id, size, done }),
        })?;
        for l in loaded {
            let id = &l.image.id;
            for r in &l.names {
                if let Some(old) = self.store.tag(id, r)? {
                    out(LoadOutput::Line(format!(
                        "The image {} already exists, renaming the old one with ID {old} to empty string",
                        r.familiar()
                    )));
                }
                self.publish("tag", id, Some(r.familiar()));
                out(LoadOutput::Line(format!("Loaded image: {}", r.familiar())));
            }
            if l.names.is_empty() {
                out(LoadOutput::Line(format!("Loaded image ID: {id}")));
            }
            self.publish("load", id, Some(id.to_string()));
        }
        Ok(())
    }
}
