//! `pull`: an image from a registry into the store, as dockerd's puller does it, with the same
//! progress lines.
//!
//! - The manifest comes from the first endpoint that has it: for Docker Hub's names the
//!   mirrors first; a mirror that fails or lacks it gives way to the next endpoint.
//! - An index gives the manifest of the host's platform (or `--platform`'s); none is dockerd's
//!   "no matching manifest" error. A single manifest whose config is of another platform than
//!   `--platform` asks for is refused too.
//! - The config is fetched and verified. Layers whose chain is here already are `Already
//!   exists`; the others download `max-concurrent-downloads` at a time, each verified by digest
//!   as it streams and extracted while it downloads (staging needs no parent), then committed
//!   bottom first on its parent.
//! - Nothing is recorded before every layer is in, and every layer must have the diff ID its
//!   config lists: a failure leaves unreferenced blobs and layers only, which the collection
//!   that follows removes.

use std::sync::Arc;

use berth_core::{Digest, ErrorKind};
use berth_distribution::client::{Credentials, Manifest, Repository};
use berth_distribution::spec::{Descriptor, Document, media};
use berth_image::{BlobSource, ImageConfig, Platform, PulledManifest, Reference};

use super::Images;
use super::layer_fetch::{self, Fetched};
use super::registry::{Progress, Say, pull_error, transfer_error};
use crate::error::{Error, Result};

/// What to pull.
#[derive(Debug, Clone)]
pub struct PullOptions {
    /// The image: a tag or a digest (the tag defaults to `latest`).
    pub reference: Reference,
    /// `--platform`: another than the host's.
    pub platform: Option<Platform>,
    /// From `X-Registry-Auth`.
    pub creds: Credentials,
}

impl Images {
    /// Pulls `opts.reference`; with `all_tags`, every tag of its repository.
    pub async fn pull(
        self: &Arc<Self>,
        opts: PullOptions,
        all_tags: bool,
        say: &Say,
    ) -> Result<()> {
        if !all_tags {
            return self.pull_one(&opts, say).await;
        }
        let (repo, _) = self.open_repository(&opts, None).await?;
        let tags = repo
            .tags()
            .await
            .map_err(|e| pull_error(e, &opts.reference))?;
        for tag in tags {
            let reference = opts.reference.with_tag(&tag)?;
            let one = PullOptions {
                reference,
                ..opts.clone()
            };
            self.pull_one(&one, say).await?;
        }
        let repo = opts.reference.familiar_repository();
        let _ = say.send(Progress::status(
            None,
            format!("Status: Downloaded newer images for {repo}"),
        ));
        Ok(())
    }

    async fn pull_one(self: &Arc<Self>, opts: &PullOptions, say: &Say) -> Result<()> {
        let reference = match opts.reference.digest() {
            Some(_) => opts.reference.clone(),
            None => opts.reference.clone().with_default_tag(),
        };
        let tag_or_digest = match reference.digest() {
            Some(d) => d.to_string(),
            None => reference.tag().unwrap_or("latest").to_string(),
        };
        let opts = PullOptions {
            reference: reference.clone(),
            ..opts.clone()
        };
        let (repo, top) = self.open_repository(&opts, Some(&tag_or_digest)).await?;
        let (repo, top) = (Arc::new(repo), top.expect("asked for a manifest"));
        let manifest = self.platform_manifest(&repo, &opts, &top).await?;
        let _ = say.send(Progress::status(
            Some(&tag_or_digest),
            format!("Pulling from {}", familiar_path(&reference)),
        ));
        let before = self
            .store
            .resolve(&reference.to_string())
            .ok()
            .map(|i| i.id);
        let id = self
            .fetch_image(&repo, &reference, &opts, &manifest, say)
            .await?;
        let repository = reference.repository();
        let store = self.store.clone();
        let (tag_ref, top_digest) = (reference.clone(), top.digest.clone());
        let recorded_id = id.clone();
        crate::blocking::run("recording a pulled image", move || {
            store.add_repo_digest(&recorded_id, &format!("{repository}@{top_digest}"))?;
            if tag_ref.tag().is_some() {
                store.tag(&recorded_id, &tag_ref)?;
            }
            Ok(())
        })
        .await?;
        let _ = say.send(Progress::status(None, format!("Digest: {}", top.digest)));
        let name = reference.familiar();
        let status = match before.as_ref() == Some(&id) {
            true => format!("Status: Image is up to date for {name}"),
            false => format!("Status: Downloaded newer image for {name}"),
        };
        let _ = say.send(Progress::status(None, status));
        self.publish("pull", &id, Some(name));
        Ok(())
    }

    /// What `GET /distribution/{name}/json` tells of `reference`: the descriptor of its manifest
    /// or index at the registry, and the platforms it holds.
    pub async fn distribution_info(
        &self,
        reference: Reference,
        creds: Credentials,
    ) -> Result<(Descriptor, Vec<berth_distribution::spec::Platform>)> {
        let reference = match reference.digest() {
            Some(_) => reference,
            None => reference.with_default_tag(),
        };
        let tag = match reference.digest() {
            Some(d) => d.to_string(),
            None => reference.tag().unwrap_or("latest").to_string(),
        };
        let opts = PullOptions {
            reference: reference.clone(),
            platform: None,
            creds,
        };
        let (repo, top) = self.open_repository(&opts, Some(&tag)).await?;
        let top = top.expect("asked for a manifest");
        let doc = parse(&top)?;
        let platforms = match doc.is_index() {
            true => doc
                .manifests
                .iter()
                .filter_map(|m| m.platform.clone())
                .collect(),
            false => {
                let config = doc
                    .config
                    .clone()
                    .ok_or_else(|| invalid("the manifest has no config"))?;
                let bytes =
                    layer_fetch::small_blob(&repo, &config, self.registry_config.max_attempts)
                        .await
                        .map_err(|e| pull_error(e, &reference))?;
                let c: ImageConfig = serde_json::from_slice(&bytes)
                    .map_err(|e| invalid(format!("invalid image config: {e}")))?;
                vec![berth_distribution::spec::Platform {
                    architecture: c.architecture,
                    os: c.os,
                    variant: c.variant,
                    os_version: None,
                }]
            }
        };
        let descriptor = Descriptor {
            media_type: top.media_type.clone(),
            digest: top.digest.clone(),
            size: top.bytes.len() as u64,
            platform: None,
            artifact_type: None,
            annotations: Default::default(),
            urls: Vec::new(),
        };
        Ok((descriptor, platforms))
    }

    /// The repository at the first endpoint that answers, with the manifest `reference` there.
    async fn open_repository(
        &self,
        opts: &PullOptions,
        reference: Option<&str>,
    ) -> Result<(Repository, Option<Manifest>)> {
        let r = &opts.reference;
        let endpoints = self
            .registry
            .settings()
            .endpoints(r.domain(), false)
            .await
            .map_err(transfer_error)?;
        let mut last = None;
        for endpoint in &endpoints {
            let repo = self
                .registry
                .repository(endpoint, r.path(), &opts.creds, "pull")
                .map_err(transfer_error)?;
            let Some(tag) = reference else {
                return Ok((repo, None));
            };
            match repo.manifest(tag).await {
                Ok(m) => return Ok((repo, Some(m))),
                Err(e) if e.falls_back() || endpoint.mirror => {
                    tracing::debug!(endpoint = %endpoint.base, error = %e, "trying the next endpoint");
                    last = Some(e);
                }
                Err(e) => return Err(pull_error(e, r)),
            }
        }
        Err(pull_error(last.expect("at least one endpoint"), r))
    }

    /// The image manifest for the platform wanted: `top` itself, or its index's entry.
    async fn platform_manifest(
        &self,
        repo: &Repository,
        opts: &PullOptions,
        top: &Manifest,
    ) -> Result<Manifest> {
        let doc = parse(top)?;
        if !doc.is_index() {
            return Ok(top.clone());
        }
        let wanted = opts.platform.clone().unwrap_or_else(Platform::host);
        // dockerd names the host's platform without amd64's micro-architecture level.
        let shown = match &opts.platform {
            Some(p) => p.to_string(),
            None => format!("{}/{}", wanted.os, wanted.architecture),
        };
        let entry = doc
            .manifests
            .iter()
            .find(|d| platform_of(d).is_some_and(|p| p.satisfies(&wanted)))
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NotFound,
                    format!("no matching manifest for {shown} in the manifest list entries"),
                )
            })?;
        repo.manifest(&entry.digest)
            .await
            .map_err(|e| pull_error(e, &opts.reference))
    }

    /// Fetches the config and layers of `manifest` and records the image; its ID.
    async fn fetch_image(
        self: &Arc<Self>,
        repo: &Arc<Repository>,
        reference: &Reference,
        opts: &PullOptions,
        manifest: &Manifest,
        say: &Say,
    ) -> Result<Digest> {
        let doc = parse(manifest)?;
        let config_desc = doc
            .config
            .clone()
            .ok_or_else(|| invalid("the manifest has no config"))?;
        let config = layer_fetch::small_blob(repo, &config_desc, self.registry_config.max_attempts)
            .await
            .map_err(|e| pull_error(e, reference))?;
        let id: Digest = config_desc
            .digest
            .parse()
            .map_err(|_| invalid(format!("unsupported config digest {}", config_desc.digest)))?;
        let parsed: ImageConfig = serde_json::from_slice(&config)
            .map_err(|e| invalid(format!("invalid image config {id}: {e}")))?;
        check_platform(&parsed, opts, reference)?;
        let diff_ids = parsed.rootfs.diff_ids.clone();
        if diff_ids.len() != doc.layers.len() {
            return Err(invalid(format!(
                "invalid manifest: {} layers for {} diff IDs in the config",
                doc.layers.len(),
                diff_ids.len()
            )));
        }
        let fetched = layer_fetch::fetch_all(self, repo, &doc.layers, &diff_ids, say).await;
        let fetched = match fetched {
            Ok(f) => f,
            Err(e) => {
                self.collect_after_failure().await;
                return Err(e);
            }
        };
        self.record(&id, config, manifest, reference, &doc.layers, fetched)
            .await
    }

    async fn record(
        &self,
        id: &Digest,
        config: Vec<u8>,
        manifest: &Manifest,
        reference: &Reference,
        layers: &[Descriptor],
        fetched: Fetched,
    ) -> Result<Digest> {
        let store = self.store.clone();
        let (id, repository) = (id.clone(), reference.repository());
        let pulled = PulledManifest {
            media_type: manifest.media_type.clone(),
            bytes: String::from_utf8_lossy(&manifest.bytes).into_owned(),
        };
        let sources: Vec<(Digest, BlobSource)> = fetched
            .diff_ids
            .iter()
            .zip(layers)
            .map(|(diff, l)| {
                let source = BlobSource {
                    digest: l.digest.clone(),
                    media_type: l.media_type.clone(),
                    size: l.size,
                    repository: repository.clone(),
                };
                (diff.clone(), source)
            })
            .collect();
        crate::blocking::run("recording a pulled image", move || {
            let image =
                store.create_loaded(&id, &config, None, fetched.chain, fetched.size, None)?;
            drop(fetched.pins);
            store.remember_manifest(&image.id, &repository, &pulled)?;
            for (diff, source) in sources {
                store.add_blob_source(&diff, source)?;
            }
            Ok(image.id)
        })
        .await
    }

    async fn collect_after_failure(&self) {
        let store = self.store.clone();
        let done = tokio::task::spawn_blocking(move || store.gc()).await;
        if let Ok(Err(e)) = done {
            tracing::warn!(error = %e, "collecting after a failed pull");
        }
    }
}

fn parse(m: &Manifest) -> Result<Document> {
    let doc = Document::parse(&m.bytes).map_err(|e| invalid(format!("invalid manifest: {e}")))?;
    let t = m.media_type.as_str();
    if !media::is_index(t) && !media::is_manifest(t) {
        return Err(invalid(format!("unsupported manifest media type {t}")));
    }
    Ok(doc)
}

fn platform_of(d: &Descriptor) -> Option<Platform> {
    let p = d.platform.as_ref()?;
    Some(Platform {
        os: p.os.clone(),
        architecture: p.architecture.clone(),
        variant: p.variant.clone(),
    })
}

/// A single manifest of another platform than `--platform` asks for is dockerd's error.
fn check_platform(config: &ImageConfig, opts: &PullOptions, reference: &Reference) -> Result<()> {
    let Some(wanted) = &opts.platform else {
        return Ok(());
    };
    let actual = Platform {
        os: config.os.clone(),
        architecture: config.architecture.clone(),
        variant: config.variant.clone(),
    };
    if actual.satisfies(wanted) {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::NotFound,
        format!(
            "image with reference {} was found but does not match the specified platform: wanted {}, actual: {}",
            reference.familiar(),
            wanted,
            actual
        ),
    ))
}

/// What dockerd shows after `Pulling from`: the path on the registry (`library/busybox`,
/// `x` for `localhost:5000/x`).
fn familiar_path(r: &Reference) -> String {
    r.path().to_string()
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, message)
}
