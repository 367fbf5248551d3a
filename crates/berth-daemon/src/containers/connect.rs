//! `network connect` and `disconnect`: a container's list of networks changes in its record,
//! and a running container gets or loses the endpoint at once (its `/etc/hosts` rewritten in
//! place, as Docker does).

use std::sync::Arc;

use super::{Container, Containers, EndpointSpec, NetworkMode, Record, Status};
use crate::error::{Error, Result};

impl Containers {
    /// Joins `c` to the network of `ep` (resolved and checked by the caller).
    pub async fn connect(self: &Arc<Self>, c: &Arc<Container>, ep: EndpointSpec) -> Result<()> {
        let _op = c.op.lock().await;
        let rec = c.record();
        check_mode(&rec)?;
        if rec.spec.net.endpoint(&ep.network).is_some() {
            return Err(Error::new(
                berth_core::ErrorKind::Forbidden,
                format!(
                    "endpoint with name {} already exists in network {}",
                    rec.name, ep.name
                ),
            ));
        }
        if rec.state.status == Status::Running {
            let (this, r, e) = (self.clone(), rec.clone(), ep.clone());
            crate::blocking::run("connecting a container to a network", move || {
                let attached = this.network.connect(&r, &e)?;
                this.rewrite_hosts(&r, &attached)
            })
            .await?;
        }
        self.save(c, |r| r.spec.net.endpoints.push(ep)).await?;
        Ok(())
    }

    /// Takes `c` off network `network` (an ID).
    pub async fn disconnect(
        self: &Arc<Self>,
        c: &Arc<Container>,
        network: &str,
        name: &str,
    ) -> Result<()> {
        let _op = c.op.lock().await;
        let rec = c.record();
        if rec.spec.network == NetworkMode::Host || name == "host" {
            return Err(Error::new(
                berth_core::ErrorKind::Forbidden,
                "container cannot be disconnected from host network or connected to host network",
            ));
        }
        if rec.spec.net.endpoint(network).is_none() {
            return Err(Error::internal_msg(format!(
                "container {} is not connected to network {name}",
                rec.id
            )));
        }
        if rec.state.status == Status::Running {
            let (this, r, n) = (self.clone(), rec.clone(), network.to_string());
            crate::blocking::run("disconnecting a container from a network", move || {
                let attached = this.network.disconnect(&r.id, &n)?;
                this.rewrite_hosts(&r, &attached)
            })
            .await?;
        }
        self.save(c, |r| r.spec.net.endpoints.retain(|e| e.network != network))
            .await?;
        Ok(())
    }

    fn rewrite_hosts(&self, rec: &Record, attached: &super::network::Attached) -> Result<()> {
        // A link to a container that stopped since loses its line, as a restart would.
        let linked = self.resolve_links(rec).unwrap_or_default();
        self.paths(&rec.id)
            .write_hosts(&self.etc(rec, &rec.spec.hostname, attached, &linked))
            .map_err(|e| Error::internal("rewriting /etc/hosts", e))
    }
}

/// Docker's refusal for containers without networks of their own.
fn check_mode(rec: &Record) -> Result<()> {
    match rec.spec.network {
        NetworkMode::Network { .. } => Ok(()),
        NetworkMode::Host | NetworkMode::Container { .. } => Err(Error::new(
            berth_core::ErrorKind::Forbidden,
            "container sharing network namespace with another container or host cannot be connected to any other network",
        )),
        NetworkMode::None => Err(Error::new(
            berth_core::ErrorKind::Forbidden,
            "container cannot be connected to multiple networks with one of the networks in private (none) mode",
        )),
    }
}
