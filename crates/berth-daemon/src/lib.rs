//! The berth engine as a library.
//!
//! [`Daemon`] holds the services: [`containers::Containers`], the image store
//! ([`berth_image::ImageStore`]) and [`events::Events`]. [`http`] serves the Docker Engine API over
//! them; handlers parse the request once, call one service method and map the result, and
//! `http::error` is the one place where an error kind becomes a status code.
//!
//! State lives in one redb database (`<root>/metadata.redb`): image names and records, container
//! records. The file is locked while a daemon has it open, which is also what stops a second
//! daemon from using the same data root.
#![deny(missing_docs)]

pub mod blocking;
pub mod build;
pub mod changes;
pub mod compress;
pub mod config;
pub mod containers;
pub mod defaults;
pub mod error;
pub mod events;
pub mod http;
pub mod images;
pub mod networks;
pub mod reload;
pub mod signal;
pub mod userns;
pub mod volumes;
pub mod wire;

use std::sync::Arc;

use berth_content::ContentStore;
use berth_image::ImageStore;
use berth_snapshot::Overlay;

pub use config::DaemonConfig;
pub use error::{Error, Result};

/// The engine: its services and settings.
pub struct Daemon {
    /// Settings.
    pub config: DaemonConfig,
    /// Images.
    pub images: Arc<images::Images>,
    /// The snapshotter holding image layers and container filesystems.
    pub snapshots: Arc<dyn berth_snapshot::Snapshotter>,
    /// Containers.
    pub containers: Arc<containers::Containers>,
    /// Events.
    pub events: Arc<events::Events>,
    /// Image builds.
    pub builder: Arc<build::Builder>,
    /// Volumes.
    pub volumes: Arc<volumes::Volumes>,
    /// Networks.
    pub networks: Arc<networks::Networks>,
    /// Daemon ID shown in `/info`.
    pub id: String,
    /// The options SIGHUP reloads.
    live: reload::Live,
}

impl Daemon {
    /// Opens the data root (refusing one another daemon holds) and restores running containers.
    pub fn open(config: DaemonConfig) -> Result<Arc<Daemon>> {
        let mkdir = |p: &std::path::Path| {
            std::fs::create_dir_all(p)
                .map_err(|e| Error::internal(&format!("creating {}", p.display()), e))
        };
        mkdir(&config.root)?;
        mkdir(&config.exec_root)?;
        mkdir(&config.root.join("containers"))?;
        let db_path = config.root.join("metadata.redb");
        let db = redb::Database::create(&db_path).map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => Error::new(
                berth_core::ErrorKind::Conflict,
                format!(
                    "another berth daemon is using the data root {}",
                    config.root.display()
                ),
            ),
            e => Error::internal(&format!("opening {}", db_path.display()), e),
        })?;
        let db = Arc::new(db);
        let content =
            ContentStore::open(config.root.join("content")).map_err(Error::from_kinded)?;
        let snapshots: Arc<dyn berth_snapshot::Snapshotter> = Arc::new(
            Overlay::open(config.root.join("snapshots"), db.clone())
                .map_err(Error::from_kinded)?
                .with_ids(config.security.userns_remap.as_ref().map(|r| r.map.clone())),
        );
        let images = ImageStore::new(db.clone(), content, snapshots.clone())?;
        let events = Arc::new(events::Events::default());
        let networks = Arc::new(networks::Networks::open(
            db.clone(),
            events.clone(),
            &config.network,
        )?);
        let volumes = Arc::new(
            volumes::Volumes::open(db.clone(), config.root.join("volumes"), events.clone())?
                .with_owner(
                    config
                        .security
                        .userns_remap
                        .as_ref()
                        .map(|r| r.map.root_pair()),
                ),
        );
        let containers = containers::Containers::open(
            config.clone(),
            db.clone(),
            images.clone(),
            events.clone(),
            Arc::new(
                networks::BridgeHook::new(networks.clone(), &config.exec_root)?.with_userns(
                    config.security.userns_remap.as_ref().map(|r| r.map.clone()),
                    &config.exe,
                ),
            ),
            volumes.clone(),
        )?;

        let id = std::fs::read_to_string(config.root.join("engine-id")).unwrap_or_else(|_| {
            let id = berth_core::id::generate();
            let _ = std::fs::write(config.root.join("engine-id"), &id);
            id
        });
        let images_store = images;
        let images = Arc::new(images::Images::new(
            images_store.clone(),
            containers.clone(),
            events.clone(),
            config.registry.clone(),
        ));
        let builder = Arc::new(build::Builder::new(
            db,
            images_store.clone(),
            images.clone(),
            containers.clone(),
            &config.root.join("build"),
        )?);
        let live = reload::Live::new(config.live.clone());
        Ok(Arc::new(Daemon {
            config,
            images,
            snapshots,
            containers,
            events,
            builder,
            volumes,
            networks,
            id: id.trim().to_string(),
            live,
        }))
    }

    /// Reconnects to containers that kept running while no daemon was up. Needs a tokio runtime.
    pub fn restore(&self) {
        self.containers.restore();
    }

    /// At the daemon's stop: without live restore, stops the running containers; with it
    /// (berth's default), they keep running under their monitors.
    pub async fn shutdown(&self) {
        let live = self.live();
        if !live.live_restore {
            self.containers.stop_all(live.shutdown_timeout).await;
        }
    }
}
