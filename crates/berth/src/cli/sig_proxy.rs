//! `--sig-proxy`: the signals the CLI receives go to the container (`POST /kill`), as the
//! docker CLI forwards them while it is attached.

use berth_client::Client;
use hyper::Method;
use tokio::signal::unix::{SignalKind, signal};

/// The signals forwarded, by their names in the kill API. The docker CLI forwards every
/// catchable one; these are the ones a user or a supervisor sends.
const FORWARDED: &[(i32, &str)] = &[
    (libc::SIGHUP, "SIGHUP"),
    (libc::SIGINT, "SIGINT"),
    (libc::SIGQUIT, "SIGQUIT"),
    (libc::SIGUSR1, "SIGUSR1"),
    (libc::SIGUSR2, "SIGUSR2"),
    (libc::SIGTERM, "SIGTERM"),
    (libc::SIGALRM, "SIGALRM"),
];

/// With `on`, forwards the signals to container `id` until the returned tasks are aborted
/// (they replace the signals' default actions meanwhile).
pub fn forward(on: bool, client: &Client, id: &str) -> Vec<tokio::task::JoinHandle<()>> {
    if !on {
        return Vec::new();
    }
    FORWARDED
        .iter()
        .filter_map(|&(signo, name)| {
            let mut rx = signal(SignalKind::from_raw(signo)).ok()?;
            let (client, path) = (
                client.clone(),
                format!("/containers/{id}/kill?signal={name}"),
            );
            Some(tokio::spawn(async move {
                while rx.recv().await.is_some() {
                    let _ = client.bytes(Method::POST, &path, None).await;
                }
            }))
        })
        .collect()
}
