//! The event bus behind `GET /events`: a broadcast channel for live subscribers and a bounded
//! history for `since`.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use berth_api::system::{Event, EventActor};
use tokio::sync::broadcast;

const HISTORY: usize = 1024;

/// Publishes and replays events.
pub struct Events {
    tx: broadcast::Sender<Event>,
    history: Mutex<VecDeque<Event>>,
}

impl Default for Events {
    fn default() -> Self {
        Events {
            tx: broadcast::channel(256).0,
            history: Mutex::new(VecDeque::new()),
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
        let mut h = self.history.lock().expect("events lock");
        if h.len() == HISTORY {
            h.pop_front();
        }
        h.push_back(event.clone());
        let _ = self.tx.send(event);
    }

    /// Past events (oldest first) and a receiver for the ones to come, taken atomically so none is
    /// lost or seen twice.
    pub fn subscribe(&self) -> (Vec<Event>, broadcast::Receiver<Event>) {
        let h = self.history.lock().expect("events lock");
        (h.iter().cloned().collect(), self.tx.subscribe())
    }

    /// Number of live subscribers.
    pub fn listeners(&self) -> usize {
        self.tx.receiver_count()
    }
}
