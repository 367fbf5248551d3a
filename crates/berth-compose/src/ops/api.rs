//! The Engine API calls a project needs, typed, over [`berth_client`]: the only place the
//! orchestration meets HTTP paths and query strings.

use std::collections::BTreeMap;

use berth_api::container::{CreateRequest, CreateResponse, Inspect, Summary};
pub(crate) use berth_client::percent_encode as enc;
use berth_client::{Client, ClientError};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::Method;
use serde::Deserialize;
use serde_json::{Value, json};

/// `filters={"label": [...]}` for labels `k=v`.
fn label_filter(labels: &[String]) -> String {
    enc(&json!({ "label": labels }).to_string())
}

/// A network as listed.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkSummary {
    /// Its name.
    pub name: String,
    /// Its ID.
    pub id: String,
    /// Its labels.
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
}

/// A volume as listed.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VolumeSummary {
    /// Its name.
    pub name: String,
    /// Its labels.
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VolumeList {
    #[serde(default)]
    volumes: Option<Vec<VolumeSummary>>,
}

/// The calls, on one client.
#[derive(Clone, Debug)]
pub struct Api {
    client: Client,
    parallel: Option<usize>,
}

impl Api {
    /// Calls through `client`.
    pub fn new(client: Client) -> Api {
        Api {
            client,
            parallel: None,
        }
    }

    /// At most `n` containers acted on at once (`--parallel`; `None`: no limit).
    pub fn with_parallel(mut self, n: Option<usize>) -> Api {
        self.parallel = n;
        self
    }

    /// The `--parallel` limit.
    pub fn parallel(&self) -> Option<usize> {
        self.parallel
    }

    /// The client, for streams the orchestration reads itself (logs, attach).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Containers, stopped ones too, carrying every label of `labels` (`k=v`).
    pub async fn containers(&self, labels: &[String]) -> Result<Vec<Summary>, ClientError> {
        let path = format!("/containers/json?all=1&filters={}", label_filter(labels));
        self.client.get(&path).await
    }

    /// One container's inspect.
    pub async fn inspect(&self, id: &str) -> Result<Inspect, ClientError> {
        self.client
            .get(&format!("/containers/{}/json", enc(id)))
            .await
    }

    /// Creates container `name`.
    pub async fn create(&self, name: &str, req: &CreateRequest) -> Result<String, ClientError> {
        let path = format!("/containers/create?name={}", enc(name));
        let r: CreateResponse = self.client.post_json(&path, req).await?;
        Ok(r.id)
    }

    async fn post(&self, path: &str) -> Result<(), ClientError> {
        self.client
            .bytes(Method::POST, path, None)
            .await
            .map(|_| ())
    }

    /// Starts a container (a running one is left alone: 304).
    pub async fn start(&self, id: &str) -> Result<(), ClientError> {
        self.post(&format!("/containers/{}/start", enc(id))).await
    }

    /// Stops a container, killing it after `timeout` seconds (its own when `None`).
    pub async fn stop(&self, id: &str, timeout: Option<u64>) -> Result<(), ClientError> {
        let t = timeout.map(|t| format!("?t={t}")).unwrap_or_default();
        self.post(&format!("/containers/{}/stop{t}", enc(id))).await
    }

    /// Restarts a container.
    pub async fn restart(&self, id: &str, timeout: Option<u64>) -> Result<(), ClientError> {
        let t = timeout.map(|t| format!("?t={t}")).unwrap_or_default();
        self.post(&format!("/containers/{}/restart{t}", enc(id)))
            .await
    }

    /// Sends `signal` to a container.
    pub async fn kill(&self, id: &str, signal: &str) -> Result<(), ClientError> {
        self.post(&format!(
            "/containers/{}/kill?signal={}",
            enc(id),
            enc(signal)
        ))
        .await
    }

    /// Pauses or unpauses a container.
    pub async fn pause(&self, id: &str, pause: bool) -> Result<(), ClientError> {
        let verb = if pause { "pause" } else { "unpause" };
        self.post(&format!("/containers/{}/{verb}", enc(id))).await
    }

    /// Renames a container.
    pub async fn rename(&self, id: &str, name: &str) -> Result<(), ClientError> {
        self.post(&format!(
            "/containers/{}/rename?name={}",
            enc(id),
            enc(name)
        ))
        .await
    }

    /// Removes a container (and its anonymous volumes with `volumes`).
    pub async fn remove(&self, id: &str, force: bool, volumes: bool) -> Result<(), ClientError> {
        let path = format!("/containers/{}?force={force}&v={volumes}", enc(id));
        self.client
            .bytes(Method::DELETE, &path, None)
            .await
            .map(|_| ())
    }

    /// Waits for a container to reach `condition` (`not-running`, `next-exit`); its exit code.
    pub async fn wait(&self, id: &str, condition: &str) -> Result<i64, ClientError> {
        let path = format!("/containers/{}/wait?condition={condition}", enc(id));
        let r: berth_api::container::WaitResponse =
            self.client.post_json(&path, &json!({})).await?;
        Ok(r.status_code)
    }

    /// Networks carrying every label of `labels`.
    pub async fn networks(&self, labels: &[String]) -> Result<Vec<NetworkSummary>, ClientError> {
        let path = format!("/networks?filters={}", label_filter(labels));
        self.client.get(&path).await
    }

    /// A network by name or ID, if it exists.
    pub async fn network(&self, name: &str) -> Result<Option<Value>, ClientError> {
        not_found_is_none(self.client.get(&format!("/networks/{}", enc(name))).await)
    }

    /// Creates a network from the API's create body.
    pub async fn create_network(&self, body: &Value) -> Result<(), ClientError> {
        self.client
            .post_json::<Value>("/networks/create", body)
            .await
            .map(|_| ())
    }

    /// Removes a network.
    pub async fn remove_network(&self, name: &str) -> Result<(), ClientError> {
        let path = format!("/networks/{}", enc(name));
        self.client
            .bytes(Method::DELETE, &path, None)
            .await
            .map(|_| ())
    }

    /// Connects a container to a network with an endpoint (aliases, addresses).
    pub async fn connect(&self, net: &str, id: &str, endpoint: &Value) -> Result<(), ClientError> {
        let body = json!({ "Container": id, "EndpointConfig": endpoint });
        let path = format!("/networks/{}/connect", enc(net));
        let bytes = Bytes::from(serde_json::to_vec(&body)?);
        self.client
            .bytes(Method::POST, &path, Some((bytes, "application/json")))
            .await
            .map(|_| ())
    }

    /// Extracts tar `archive` at `path` in container `id`.
    pub async fn put_archive(
        &self,
        id: &str,
        path: &str,
        archive: Bytes,
    ) -> Result<(), ClientError> {
        let p = format!("/containers/{}/archive?path={}", enc(id), enc(path));
        self.client
            .bytes(Method::PUT, &p, Some((archive, "application/x-tar")))
            .await
            .map(|_| ())
    }

    /// Takes a container off a network.
    pub async fn disconnect(&self, net: &str, id: &str) -> Result<(), ClientError> {
        let body = json!({ "Container": id, "Force": true });
        let path = format!("/networks/{}/disconnect", enc(net));
        let bytes = Bytes::from(serde_json::to_vec(&body)?);
        self.client
            .bytes(Method::POST, &path, Some((bytes, "application/json")))
            .await
            .map(|_| ())
    }

    /// Volumes carrying every label of `labels`.
    pub async fn volumes(&self, labels: &[String]) -> Result<Vec<VolumeSummary>, ClientError> {
        let path = format!("/volumes?filters={}", label_filter(labels));
        let list: VolumeList = self.client.get(&path).await?;
        Ok(list.volumes.unwrap_or_default())
    }

    /// A volume by name, if it exists.
    pub async fn volume(&self, name: &str) -> Result<Option<Value>, ClientError> {
        not_found_is_none(self.client.get(&format!("/volumes/{}", enc(name))).await)
    }

    /// Creates a volume from the API's create body.
    pub async fn create_volume(&self, body: &Value) -> Result<(), ClientError> {
        self.client
            .post_json::<Value>("/volumes/create", body)
            .await
            .map(|_| ())
    }

    /// Removes a volume.
    pub async fn remove_volume(&self, name: &str) -> Result<(), ClientError> {
        let path = format!("/volumes/{}", enc(name));
        self.client
            .bytes(Method::DELETE, &path, None)
            .await
            .map(|_| ())
    }

    /// An image's inspect, if the image is there.
    pub async fn image(&self, reference: &str) -> Result<Option<Value>, ClientError> {
        not_found_is_none(
            self.client
                .get(&format!("/images/{}/json", enc(reference)))
                .await,
        )
    }

    /// Removes an image.
    pub async fn remove_image(&self, reference: &str) -> Result<(), ClientError> {
        let path = format!("/images/{}", enc(reference));
        self.client
            .bytes(Method::DELETE, &path, None)
            .await
            .map(|_| ())
    }

    /// Pulls `reference` (`name:tag`), reading the progress stream to its end; an error
    /// message in the stream is the call's error.
    pub async fn pull(&self, reference: &str, platform: Option<&str>) -> Result<(), ClientError> {
        let (name, tag) = split_tag(reference);
        let mut path = format!("/images/create?fromImage={}&tag={}", enc(name), enc(tag));
        if let Some(p) = platform {
            path.push_str(&format!("&platform={}", enc(p)));
        }
        let resp = self.client.request(Method::POST, &path, None).await?;
        let body = resp.into_body().collect().await?.to_bytes();
        stream_error(&body)
    }

    /// Builds from a tar context (`query` already encoded: `t=...&dockerfile=...`).
    pub async fn build(&self, query: &str, context: Bytes) -> Result<(), ClientError> {
        let path = format!("/build?{query}");
        let resp = self
            .client
            .request(Method::POST, &path, Some((context, "application/x-tar")))
            .await?;
        let body = resp.into_body().collect().await?.to_bytes();
        stream_error(&body)
    }
}

/// `name:tag` split as the API's `fromImage`/`tag` want it (a digest stays in the name).
fn split_tag(reference: &str) -> (&str, &str) {
    if reference.contains('@') {
        return (reference, "");
    }
    match reference.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n, t),
        _ => (reference, "latest"),
    }
}

/// The first `error` of a JSON-lines progress stream, as an API error.
fn stream_error(body: &[u8]) -> Result<(), ClientError> {
    for line in body.split(|b| *b == b'\n') {
        let Ok(v) = serde_json::from_slice::<Value>(line) else {
            continue;
        };
        if let Some(e) = v.get("error").and_then(Value::as_str) {
            return Err(ClientError::Api {
                status: 500,
                message: e.to_string(),
            });
        }
    }
    Ok(())
}

fn not_found_is_none<T>(r: Result<T, ClientError>) -> Result<Option<T>, ClientError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(ClientError::Api { status: 404, .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_split_as_the_api_wants() {
        assert_eq!(split_tag("busybox"), ("busybox", "latest"));
        assert_eq!(split_tag("reg:5000/app:1.2"), ("reg:5000/app", "1.2"));
        assert_eq!(split_tag("reg:5000/app"), ("reg:5000/app", "latest"));
        assert_eq!(split_tag("app@sha256:ab"), ("app@sha256:ab", ""));
    }

    #[test]
    fn an_error_in_the_stream_is_the_error() {
        let body = b"{\"status\":\"Pulling\"}\n{\"error\":\"manifest unknown\"}\n";
        let e = stream_error(body).unwrap_err();
        assert!(e.to_string().contains("manifest unknown"), "{e}");
        stream_error(b"{\"status\":\"ok\"}\n").unwrap();
    }
}
