//! Tests run everything in network namespaces of their own, never the host's.

use crate::link::Netlink;
use crate::netns::Netns;

/// Runs `f` in a new network namespace whose loopback is up; the namespace goes after it.
pub fn in_new_netns<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    let ns = Netns::new().expect("a new network namespace");
    ns.run(|| {
        Netlink::open()
            .and_then(|nl| nl.set_up("lo"))
            .expect("lo up");
        f()
    })
    .expect("the namespace's thread")
}
