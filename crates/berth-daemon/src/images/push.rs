//! `push`: an image's layers, config and manifest to a registry, as dockerd's pusher does it,
//! with the same progress lines.
//!
//! - The repository's endpoints are tried in turn (HTTPS, then plain HTTP for an insecure
//!   registry; never mirrors). Without a tag, every local tag of the repository goes.
//! - Layers go `max-concurrent-uploads` at a time, each only when the repository lacks it
//!   (see `layer_push`); the config is checked with a HEAD and sent when missing.
//! - The manifest is the one the image was pulled with when its layers are the blobs pushed
//!   (so a pulled image pushed back keeps its digest); otherwise a Docker schema 2 manifest of
//!   the gzipped layers, as dockerd writes it.

use std::sync::Arc;

use berth_core::{Digest, ErrorKind};
use berth_distribution::client::Credentials;
use berth_distribution::spec::{Descriptor, Document, media};
use berth_image::{Image, Reference};
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use tokio::sync::Semaphore;

use super::Images;
use super::layer_push::{Target, push_layer};
use super::registry::{Progress, Say, short, transfer_error};
use crate::error::{Error, Result};

impl Images {
    /// Pushes `reference` (`repo:tag`), or with no tag every tag of `repo` here.
    pub async fn push(
        self: &Arc<Self>,
        reference: Reference,
        creds: Credentials,
        say: &Say,
    ) -> Result<()> {
        // First, as dockerd: what fails after it is in the stream (the docker CLI asks for a
        // login only when the answer itself is a 401).
        let _ = say.send(Progress::status(
            None,
            format!("The push refers to repository [{}]", reference.repository()),
        ));
        let tags = self.tags_to_push(&reference)?;
        let target = Arc::new(self.open_target(&reference, &creds).await?);
        for (tag, image) in tags {
            self.push_one(&target, &tag, &image, say).await?;
        }
        Ok(())
    }

    fn tags_to_push(&self, reference: &Reference) -> Result<Vec<(String, Image)>> {
        if let Some(tag) = reference.tag() {
            let image = self
                .store
                .resolve(&reference.to_string())
                .map_err(|_| no_such(reference))?;
            return Ok(vec![(tag.to_string(), image)]);
        }
        let repository = reference.repository();
        let mut out = Vec::new();
        for image in self.store.list()? {
            for r in &image.refs {
                if r.repository() == repository
                    && let Some(t) = r.tag()
                {
                    out.push((t.to_string(), image.clone()));
                }
            }
        }
        if out.is_empty() {
            return Err(no_such(reference));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    async fn open_target(&self, reference: &Reference, creds: &Credentials) -> Result<Target> {
        let endpoints = self
            .registry
            .settings()
            .endpoints(reference.domain(), true)
            .await
            .map_err(transfer_error)?;
        let mut last = None;
        for endpoint in &endpoints {
            let repo = self
                .registry
                .repository(endpoint, reference.path(), creds, "pull,push")
                .map_err(transfer_error)?;
            // Any answer of the registry (even "no such blob") says the endpoint works.
            match repo.blob_size(&format!("sha256:{}", "0".repeat(64))).await {
                Err(e) if e.falls_back() => last = Some(e),
                Err(e) => return Err(transfer_error(e)),
                Ok(_) => {
                    return Ok(Target {
                        repo: Arc::new(repo),
                        name: reference.repository(),
                        domain: reference.domain().to_string(),
                    });
                }
            }
        }
        Err(transfer_error(last.expect("at least one endpoint")))
    }

    async fn push_one(
        self: &Arc<Self>,
        target: &Arc<Target>,
        tag: &str,
        image: &Image,
        say: &Say,
    ) -> Result<()> {
        let diff_ids = image.config.rootfs.diff_ids.clone();
        for d in diff_ids.iter().rev() {
            let _ = say.send(Progress::status(Some(&short(d.as_str())), "Preparing"));
        }
        let slots = Arc::new(Semaphore::new(self.registry_config.max_uploads.max(1)));
        let jobs: Vec<_> = diff_ids
            .iter()
            .map(|d| {
                let job = push_layer(
                    self.store.clone(),
                    target.clone(),
                    d.clone(),
                    slots.clone(),
                    say.clone(),
                );
                tokio::spawn(job)
            })
            .collect();
        let aborts: Vec<_> = jobs.iter().map(|j| j.abort_handle()).collect();
        let mut layers = Vec::new();
        for job in jobs {
            let done = job
                .await
                .map_err(|e| Error::internal("pushing a layer", e))
                .and_then(|r| r);
            match done {
                Ok(l) => layers.push(l),
                Err(e) => {
                    aborts.iter().for_each(|a| a.abort());
                    return Err(e);
                }
            }
        }
        let config = self
            .store
            .content()
            .read(&image.id)
            .map_err(|e| Error::internal("reading the image config", e))?;
        let repo = &target.repo;
        if repo
            .blob_size(image.id.as_str())
            .await
            .map_err(transfer_error)?
            .is_none()
        {
            repo.put_blob(image.id.as_str(), config.clone())
                .await
                .map_err(transfer_error)?;
        }
        let (media_type, manifest) = match self.pulled_manifest_for(image, &layers)? {
            Some(m) => m,
            None => (
                media::DOCKER_MANIFEST.to_string(),
                schema2(&image.id, config.len() as u64, &layers),
            ),
        };
        let digest = format!("sha256:{:x}", Sha256::digest(&manifest));
        let size = manifest.len() as u64;
        repo.put_manifest(tag, &media_type, manifest)
            .await
            .map_err(transfer_error)?;
        let store = self.store.clone();
        let (id, repo_digest) = (image.id.clone(), format!("{}@{digest}", target.name));
        crate::blocking::run("recording a push", move || {
            Ok(store.add_repo_digest(&id, &repo_digest)?)
        })
        .await?;
        let _ = say.send(Progress::status(
            None,
            format!("{tag}: digest: {digest} size: {size}"),
        ));
        let _ = say.send(Progress {
            aux: Some((tag.to_string(), digest, size)),
            ..Progress::status(None, "")
        });
        self.publish("push", &image.id, Some(format!("{}:{tag}", target.name)));
        Ok(())
    }

    /// A manifest `image` was pulled with, if its layers are exactly `layers`.
    fn pulled_manifest_for(
        &self,
        image: &Image,
        layers: &[Descriptor],
    ) -> Result<Option<(String, Vec<u8>)>> {
        for (_, m) in self.store.pulled_manifests(&image.id)? {
            let Ok(doc) = Document::parse(m.bytes.as_bytes()) else {
                continue;
            };
            let digests =
                |ls: &[Descriptor]| ls.iter().map(|l| l.digest.clone()).collect::<Vec<_>>();
            let same_config = doc
                .config
                .as_ref()
                .is_some_and(|c| c.digest == image.id.as_str());
            if same_config && digests(&doc.layers) == digests(layers) {
                return Ok(Some((m.media_type, m.bytes.into_bytes())));
            }
        }
        Ok(None)
    }
}

fn no_such(reference: &Reference) -> Error {
    Error::new(
        ErrorKind::NotFound,
        format!(
            "An image does not exist locally with the tag: {}",
            reference.familiar_repository()
        ),
    )
}

/// Docker's schema 2 manifest, byte for byte as dockerd writes it (Go's `MarshalIndent`
/// with three spaces; a descriptor's fields in distribution's order).
fn schema2(config: &Digest, config_size: u64, layers: &[Descriptor]) -> Vec<u8> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Desc<'a> {
        media_type: &'a str,
        size: u64,
        digest: &'a str,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Manifest<'a> {
        schema_version: u32,
        media_type: &'a str,
        config: Desc<'a>,
        layers: Vec<Desc<'a>>,
    }
    let m = Manifest {
        schema_version: 2,
        media_type: media::DOCKER_MANIFEST,
        config: Desc {
            media_type: media::DOCKER_CONFIG,
            size: config_size,
            digest: config.as_str(),
        },
        layers: layers
            .iter()
            .map(|l| Desc {
                media_type: &l.media_type,
                size: l.size,
                digest: &l.digest,
            })
            .collect(),
    };
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"   ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    m.serialize(&mut ser).expect("a manifest serializes");
    out
}
