//! A repository's push side: existence checks, cross-repository mounts, blob uploads (a
//! streamed PATCH closed by a PUT with the digest, or one PUT for small blobs) and manifests.

use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use reqwest::{Response, StatusCode, Url};

use super::repository::ok;
use super::{ClientError, Repository};

/// How an upload began.
#[derive(Debug)]
pub enum Started {
    /// The registry mounted the blob from the other repository: nothing to send.
    Mounted,
    /// Send the blob to this location.
    Upload(Url),
}

impl Repository {
    /// The size of blob `digest` if the repository has it.
    pub async fn blob_size(&self, digest: &str) -> Result<Option<u64>, ClientError> {
        let url = self.url(&format!("blobs/{digest}"))?;
        let response = self
            .send("checking a blob", |h| h.head(url.clone()))
            .await?;
        match response.status() {
            StatusCode::NOT_FOUND => Ok(None),
            s if s.is_success() => Ok(Some(
                response
                    .headers()
                    .get(CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok()?.parse().ok())
                    .unwrap_or(0),
            )),
            _ => {
                let status = response.status().as_u16();
                let body = response.text().await.unwrap_or_default();
                Err(ClientError::from_reply(status, &body))
            }
        }
    }

    /// Starts an upload; with `mount` (`digest`, source repository on the same registry) the
    /// registry may mount the blob instead.
    pub async fn start_upload(&self, mount: Option<(&str, &str)>) -> Result<Started, ClientError> {
        let mut url = self.url("blobs/uploads/")?;
        if let Some((digest, from)) = mount {
            self.add_pull_scope(from);
            url.query_pairs_mut()
                .append_pair("mount", digest)
                .append_pair("from", from);
        }
        let response = self
            .send("starting an upload", |h| {
                h.post(url.clone()).header(CONTENT_LENGTH, "0")
            })
            .await?;
        let response = ok(response).await?;
        if response.status() == StatusCode::CREATED && mount.is_some() {
            return Ok(Started::Mounted);
        }
        Ok(Started::Upload(location(&response)?))
    }

    /// Streams `body` to an upload at `at`; the location to close it at.
    pub async fn send_chunk<S>(&self, at: Url, body: S) -> Result<Url, ClientError>
    where
        S: futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static,
    {
        let req = self
            .http_client()
            .patch(at)
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(reqwest::Body::wrap_stream(body));
        let response = ok(self.send_once("uploading a blob", req).await?).await?;
        location(&response)
    }

    /// Closes the upload at `at` as blob `digest`, with `body` as its last bytes (or none).
    pub async fn finish_upload(
        &self,
        at: Url,
        digest: &str,
        body: Vec<u8>,
    ) -> Result<(), ClientError> {
        let mut url = at;
        url.query_pairs_mut().append_pair("digest", digest);
        let response = self
            .send("closing an upload", |h| {
                h.put(url.clone())
                    .header(CONTENT_TYPE, "application/octet-stream")
                    .body(body.clone())
            })
            .await?;
        ok(response).await.map(drop)
    }

    /// Uploads a small blob whose digest is known, in one PUT.
    pub async fn put_blob(&self, digest: &str, bytes: Vec<u8>) -> Result<(), ClientError> {
        match self.start_upload(None).await? {
            Started::Upload(at) => self.finish_upload(at, digest, bytes).await,
            Started::Mounted => Ok(()),
        }
    }

    /// Stores a manifest under `reference` (a tag or its digest).
    pub async fn put_manifest(
        &self,
        reference: &str,
        media_type: &str,
        bytes: Vec<u8>,
    ) -> Result<(), ClientError> {
        let url = self.url(&format!("manifests/{reference}"))?;
        let response = self
            .send("pushing the manifest", |h| {
                h.put(url.clone())
                    .header(CONTENT_TYPE, media_type)
                    .body(bytes.clone())
            })
            .await?;
        ok(response).await.map(drop)
    }

    fn http_client(&self) -> &reqwest::Client {
        &self.http
    }
}

fn location(response: &Response) -> Result<Url, ClientError> {
    let value = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ClientError::Protocol("the registry's upload reply has no Location".into())
        })?;
    response
        .url()
        .join(value)
        .map_err(|e| ClientError::Protocol(format!("invalid upload location {value:?}: {e}")))
}
