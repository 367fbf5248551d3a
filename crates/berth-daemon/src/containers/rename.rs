//! Renaming a container: the name index, its DNS names on its networks, a `rename` event.

use std::sync::Arc;

use super::{Container, Containers, free_name};
use crate::error::{Error, Result};

impl Containers {
    /// Gives `c` the name `new` (with or without the leading `/`).
    pub async fn rename(self: &Arc<Self>, c: &Arc<Container>, new: &str) -> Result<()> {
        if new.is_empty() {
            return Err(Error::invalid("Neither old nor new names may be empty"));
        }
        let _op = c.op.lock().await;
        let old = c.record().name;
        if new.strip_prefix('/').unwrap_or(new) == old {
            return Err(Error::invalid(
                "Renaming a container with the same name as its current name",
            ));
        }
        {
            // Held while the name changes, so no create or rename takes it meanwhile.
            let all = self.all.lock().expect("containers lock");
            let name = free_name(&all, new).map_err(|e| {
                Error::new(
                    e.kind,
                    format!("Error when allocating new name: {}", e.message),
                )
            })?;
            Self::update(c, |r| r.name = name);
        }
        let rec = match self.save(c, |_| {}).await {
            Ok(rec) => rec,
            Err(e) => {
                Self::update(c, |r| r.name = old);
                return Err(e);
            }
        };
        let (network, r, was) = (self.network.clone(), rec.clone(), old.clone());
        crate::blocking::run("renaming a container's DNS names", move || {
            network.rename(&r, &was);
            Ok(())
        })
        .await?;
        self.event("rename", &rec, &[("oldName", format!("/{old}"))]);
        Ok(())
    }
}
