//! Tests run everything in network namespaces of their own, never the host's.

/// Runs `f` on a thread of its own in a new network namespace whose loopback is up; the
/// namespace goes with the thread.
pub fn in_new_netns<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).expect("unshare");
            let up = std::process::Command::new("ip")
                .args(["link", "set", "lo", "up"])
                .status()
                .expect("ip");
            assert!(up.success(), "ip link set lo up");
            f()
        })
        .join()
        .expect("netns thread")
    })
}
