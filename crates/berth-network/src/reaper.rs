//! Deleting links off the caller's path. Deleting a veth pair waits for RCU grace periods
//! (15–30 ms measured on these machines), and `run --rm` would wait for that after its
//! container has already ended. A [`Reaper`] is a thread, in the namespace it was made in,
//! that deletes the links it is given one after the other. Often the container's namespace
//! is gone first and took the pair with it; a link that no longer exists is not an error.

use std::sync::mpsc::{self, Sender};

use crate::link::{LinkError, Netlink};

/// A thread that deletes links.
#[derive(Debug)]
pub struct Reaper {
    tx: Sender<String>,
}

impl Reaper {
    /// Starts the thread in the calling thread's network namespace. `failed` is told of
    /// every link it could not delete (the daemon logs them).
    pub fn start(failed: impl Fn(&str, &LinkError) + Send + 'static) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::Builder::new()
            .name("berth-reaper".into())
            .spawn(move || {
                let mut nl = None;
                for name in rx {
                    if nl.is_none() {
                        nl = Netlink::open().map_err(|e| failed(&name, &e)).ok();
                    }
                    let Some(nl) = &nl else { continue };
                    match nl.delete(&name) {
                        Ok(()) | Err(LinkError::NotFound(_)) => {}
                        Err(e) => failed(&name, &e),
                    }
                }
            })?;
        Ok(Self { tx })
    }

    /// Deletes link `name` soon.
    pub fn delete(&self, name: &str) {
        // The thread only ends with the process.
        let _ = self.tx.send(name.to_string());
    }
}
