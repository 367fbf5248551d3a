//! `POST /images/create?fromSrc=URL`: `import` of what a GET of the URL answers (Docker's
//! rules: a source without a scheme is `http://`; the download is the layer tar, compressed
//! or not).

use std::sync::Arc;

use axum::body::Body;
use axum::http::Response;
use berth_api::image::ProgressMessage;
use berth_image::{ImportOptions, Reference};

use crate::{Daemon, Error};

/// The source as Docker reads it: `-`, or a URL (`http://` added when it has no scheme).
pub fn source(src: &str) -> String {
    match src == "-" || src.contains("://") {
        true => src.to_string(),
        false => format!("http://{src}"),
    }
}

/// Downloads `src` into the daemon's temporary directory, then imports it as `import` does
/// the request body, with Docker's `Downloading from URL` line first.
pub async fn from_url(
    d: Arc<Daemon>,
    src: &str,
    target: Option<Reference>,
    opts: ImportOptions,
) -> Result<Response<Body>, Error> {
    let url = source(src);
    if !url.starts_with("http://") && !url.starts_with("https://") {
        return Err(Error::invalid(format!(
            "unsupported import source {url}: only http:// and https:// URLs (or - for the request body)"
        )));
    }
    let dir = d.config.root.join("tmp");
    std::fs::create_dir_all(&dir).map_err(|e| Error::internal("creating tmp", e))?;
    let path = dir.join(format!("import-{}", berth_core::id::generate()));
    let fetched = crate::build::remote::fetch(&url, &path).await;
    let imported = match fetched {
        Ok(_) => match tokio::fs::File::open(&path).await {
            Ok(file) => {
                // Unlinked now: the open file is read to its end by the import.
                let _ = std::fs::remove_file(&path);
                let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
                let first = ProgressMessage {
                    status: Some(format!("Downloading from {url}")),
                    ..ProgressMessage::default()
                };
                super::images::import(d, body, target, opts, vec![first]).await
            }
            Err(e) => Err(Error::internal("opening the download", e)),
        },
        Err(e) => Err(e),
    };
    let _ = std::fs::remove_file(&path);
    imported
}
