//! Cleanup off the caller's path, on a thread of its own in the namespace it was started in.
//! - Deleting a veth pair waits for RCU grace periods (15–30 ms measured on these machines),
//!   and `run --rm` would wait for that after its container has already ended. Often the
//!   container's namespace is gone first and took the pair with it: a link that no longer
//!   exists is not an error.
//! - Clearing stale conntrack entries walks the whole conntrack table (about 5 ms here, more
//!   with a large table). A stale flow's packets go astray until its entry is deleted, a few
//!   milliseconds after the endpoint is plugged and before its container has started.
//!
//! Chores run one after the other, in the order given.

use std::sync::mpsc::{self, Sender};

use crate::conntrack::{self, Cleared, Stale};
use crate::link::{LinkError, Netlink};

/// Something to clean up.
#[derive(Debug)]
pub enum Chore {
    /// Delete the link of this name.
    DeleteLink(String),
    /// Delete these conntrack entries.
    ClearConntrack(Stale),
}

/// How a chore went; the daemon logs it.
#[derive(Debug)]
pub enum Outcome {
    /// Link `name` could not be deleted.
    Link {
        /// The link.
        name: String,
        /// Why.
        error: LinkError,
    },
    /// Conntrack entries were cleared, or could not be.
    Conntrack(Result<Cleared, conntrack::ConntrackError>),
}

/// A thread that does chores.
#[derive(Debug)]
pub struct Reaper {
    tx: Sender<Chore>,
}

impl Reaper {
    /// Starts the thread in the calling thread's network namespace; `report` hears of every
    /// failed link deletion and of every conntrack clearing.
    pub fn start(report: impl Fn(Outcome) + Send + 'static) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel::<Chore>();
        std::thread::Builder::new()
            .name("berth-reaper".into())
            .spawn(move || {
                let mut nl = None;
                for chore in rx {
                    match chore {
                        Chore::DeleteLink(name) => {
                            if let Err(error) = delete(&mut nl, &name) {
                                report(Outcome::Link { name, error });
                            }
                        }
                        Chore::ClearConntrack(stale) => {
                            report(Outcome::Conntrack(conntrack::clear(&stale)));
                        }
                    }
                }
            })?;
        Ok(Self { tx })
    }

    /// Does `chore` soon.
    pub fn give(&self, chore: Chore) {
        // The thread only ends with the process.
        let _ = self.tx.send(chore);
    }
}

fn delete(nl: &mut Option<Netlink>, name: &str) -> Result<(), LinkError> {
    if nl.is_none() {
        *nl = Some(Netlink::open()?);
    }
    let nl = nl.as_ref().expect("opened above");
    match nl.delete(name) {
        Ok(()) | Err(LinkError::NotFound(_)) => Ok(()),
        Err(e) => Err(e),
    }
}
