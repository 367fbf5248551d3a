//! The event bus behind `GET /events`: a broadcast channel for live subscribers and a bounded
//! history for `since`. Events are shared, never copied per subscriber, and the history is
//! bounded by its size as well as its length: labels are the client's to choose, and 20
//! containers with a megabyte of labels each must not grow the daemon by a gigabyte.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use berth_api::system::{Event, EventActor};
use tokio::sync::broadcast;

const HISTORY: usize = 1024;
/// The most bytes of attributes the history keeps.
const HISTORY_BYTES: usize = 4 << 20;

/// Publishes and replays events.
pub struct Events {
    tx: broadcast::Sender<Arc<Event>>,
    history: Mutex<History>,
}

#[derive(Default)]
struct History {
    events: VecDeque<Arc<Event>>,
    bytes: usize,
}

/// What an event costs the history, roughly: its attributes plus a fixed part.
fn weight(e: &Event) -> usize {
    256 + e
        .actor
        .attributes
        .iter()
        .map(|(k, v)| k.len() + v.len())
        .sum::<usize>()
}

impl Default for Events {
    fn default() -> Self {
        Events {
            tx: broadcast::channel(256).0,
            history: Mutex::new(History::default()),
        }
    }
}

impl Events {
    /// Publishes an event about object `id` of `kind` (`container`, `image`).
    pub fn publish(
        &self,
        kind: &str,
        action: &str,
        id: &str,
        attributes: BTreeMap<String, String>,
    ) {
        let now = chrono::Utc::now();
        let nanos = now.timestamp_nanos_opt().unwrap_or(0);
        let from = attributes.get("image").cloned().unwrap_or_default();
        let event = Event {
            status: if kind == "container" || kind == "image" {
                action.to_string()
            } else {
                String::new()
            },
            id: if kind == "container" || kind == "image" {
                id.to_string()
            } else {
                String::new()
            },
            from: if kind == "container" {
                from
            } else {
                String::new()
            },
            kind: kind.to_string(),
            action: action.to_string(),
            actor: EventActor {
                id: id.to_string(),
                attributes,
            },
            scope: "local".into(),
            time: nanos / 1_000_000_000,
            time_nano: nanos,
        };
        let event = Arc::new(event);
        let mut h = self.history.lock().expect("events lock");
        h.bytes += weight(&event);
        h.events.push_back(event.clone());
        while h.events.len() > HISTORY || h.bytes > HISTORY_BYTES {
            let Some(old) = h.events.pop_front() else {
                break;
            };
            h.bytes -= weight(&old);
        }
        let _ = self.tx.send(event);
    }

    /// Past events (oldest first) and a receiver for the ones to come, taken atomically so none is
    /// lost or seen twice.
    pub fn subscribe(&self) -> (Vec<Arc<Event>>, broadcast::Receiver<Arc<Event>>) {
        let h = self.history.lock().expect("events lock");
        (h.events.iter().cloned().collect(), self.tx.subscribe())
    }

    /// Number of live subscribers.
    pub fn listeners(&self) -> usize {
        self.tx.receiver_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_bounded_by_bytes() {
        let ev = Events::default();
        let labels: BTreeMap<String, String> = [("big".to_string(), "x".repeat(1 << 20))].into();
        for i in 0..20 {
            ev.publish("container", "create", &format!("c{i}"), labels.clone());
        }
        let (past, _) = ev.subscribe();
        assert!(past.len() < 5, "{} events kept", past.len());
        assert_eq!(past.last().unwrap().actor.id, "c19");
        let h = ev.history.lock().unwrap();
        assert!(h.bytes <= HISTORY_BYTES);
    }
}
