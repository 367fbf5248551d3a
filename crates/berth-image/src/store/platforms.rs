//! The platforms of a multi-platform image: the image its names point at, and a record for
//! every other platform whose blobs came along (not listed, removed with it).

use crate::platform::Platform;
use crate::{Image, ImageError, ImageStore};

impl ImageStore {
    /// Every platform of `image` that is here: the one its names point at first.
    pub fn platforms(&self, image: &Image) -> Result<Vec<Image>, ImageError> {
        let primary = match &image.primary {
            Some(p) => self.get(p)?,
            None => image.clone(),
        };
        let mut out = vec![primary.clone()];
        for (id, record) in self.records()? {
            if record.primary.as_ref() == Some(&primary.id) {
                out.push(self.load(id, record, primary.refs.clone())?);
            }
        }
        Ok(out)
    }

    /// The platform of `image` that satisfies `wanted`, if it is here.
    pub fn for_platform(
        &self,
        image: &Image,
        wanted: &Platform,
    ) -> Result<Option<Image>, ImageError> {
        if image.platform.satisfies(wanted) {
            return Ok(Some(image.clone()));
        }
        Ok(self
            .platforms(image)?
            .into_iter()
            .find(|i| i.platform.satisfies(wanted)))
    }

    /// The platform of `image` a host runs by default: `image` if it is native or another
    /// platform named by its ID, else a native platform of it, else `image`.
    pub fn default_platform(&self, image: &Image) -> Result<Image, ImageError> {
        if image.platform.is_native() || image.primary.is_some() {
            return Ok(image.clone());
        }
        let native = self
            .platforms(image)?
            .into_iter()
            .find(|i| i.platform.is_native());
        Ok(native.unwrap_or_else(|| image.clone()))
    }
}
