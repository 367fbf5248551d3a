//! Links, addresses and routes over rtnetlink, in the namespace of the calling thread.
//!
//! **Blocking, on purpose.** A [`Netlink`] owns a small current-thread tokio runtime that
//! drives one rtnetlink connection, and every method blocks on it. The daemon calls these
//! from its blocking pool or from a [`Netns::run`](crate::netns::Netns::run) thread, never
//! from an async task, and the in-container half of an endpoint has to run on a thread that
//! entered the container's namespace anyway, where a multi-thread runtime could not follow.
//!
//! **Which namespace.** A netlink socket belongs to the namespace its creator was in when
//! [`Netlink::open`] ran, for its whole life. `/proc/sys` writes ([`crate::sysctl`]) follow
//! the *thread* instead, so open and use both inside the same `Netns::run`.
//!
//! One operation per file: [`bridge`](Netlink::create_bridge) and ports in `bridge.rs`,
//! veth pairs and moving them in `veth.rs`, addresses and routes in `addr.rs`, flags, names
//! and MACs in `set.rs`, reading back in `list.rs`.

mod addr;
mod bridge;
mod error;
mod list;
mod set;
mod veth;

pub use error::{LinkError, Op};
pub use list::Link;
pub use veth::Peer;

use futures_util::TryStreamExt;
use rtnetlink::Handle;
use tokio::runtime::Runtime;

/// Longest interface name the kernel accepts (IFNAMSIZ - 1).
pub const MAX_IFNAME: usize = 15;

/// One rtnetlink connection bound to the namespace it was opened in.
pub struct Netlink {
    rt: Runtime,
    handle: Handle,
}

impl Netlink {
    /// Opens a connection in the calling thread's network namespace.
    pub fn open() -> Result<Self, LinkError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(LinkError::Connect)?;
        // The socket registers with the runtime's reactor, so create it inside.
        let guard = rt.enter();
        let (conn, handle, _) = rtnetlink::new_connection().map_err(LinkError::Connect)?;
        rt.spawn(conn);
        drop(guard);
        Ok(Self { rt, handle })
    }

    /// The index of the link called `name`.
    pub fn index(&self, name: &str) -> Result<u32, LinkError> {
        let found = self.block(async {
            let mut links = self.handle.link().get().match_name(name).execute();
            links.try_next().await
        });
        match found {
            Ok(Some(msg)) => Ok(msg.header.index),
            Ok(None) => Err(LinkError::NotFound(name.into())),
            Err(e) if error::is_no_device(&e) => Err(LinkError::NotFound(name.into())),
            Err(source) => Err(LinkError::netlink(Op::Lookup, name, source)),
        }
    }

    /// Runs one request to completion; the connection task makes progress meanwhile.
    fn block<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }
}

/// Checks that `name` is a valid interface name before the kernel says `EINVAL`.
pub fn check_ifname(name: &str) -> Result<(), LinkError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_IFNAME
        && !name.contains(['/', ':'])
        && !name.chars().any(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(LinkError::InvalidName(name.into()))
    }
}
