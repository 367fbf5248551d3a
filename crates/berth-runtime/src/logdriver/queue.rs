//! The queue between the monitor's loop and a driver that may be slow, and the thread that
//! empties it.
//!
//! Blocking mode: the queue takes every message, and reports no room once it holds
//! [`BLOCKING_LIMIT`] bytes; the loop then stops reading the container's output until the
//! writer has taken what is queued and signals an eventfd. Non-blocking mode: Docker's
//! ring (`logger.messageRing`): a message that would take the queue over `max-buffer-size`
//! is dropped (unless the queue is empty), the loop never waits.

use std::collections::VecDeque;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use nix::sys::eventfd::{EfdFlags, EventFd};

use super::{Driver, Message, Mode};

/// Bytes of lines a blocking queue takes before the container waits.
pub const BLOCKING_LIMIT: u64 = 1024 * 1024;

/// How long closing waits for a writer that makes no progress: the container has ended, and
/// its exit must not wait on a log server that does not answer (one that takes lines, however
/// slowly, is waited for).
const CLOSE_GRACE: Duration = Duration::from_secs(5);

#[derive(Default)]
struct State {
    msgs: VecDeque<Message>,
    bytes: u64,
    closed: bool,
    /// The loop was told there is no room and waits for the eventfd.
    stalled: bool,
    dropped: u64,
}

struct Shared {
    state: Mutex<State>,
    more: Condvar,
    wake: EventFd,
    /// Messages the driver has taken.
    sent: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A driver on a writer thread, behind a queue.
pub struct Queue {
    shared: Arc<Shared>,
    mode: Mode,
    max_messages: u64,
    done: mpsc::Receiver<()>,
}

impl Queue {
    /// Starts the writer thread of `driver`; a non-blocking queue also drops what comes
    /// while it holds `max_messages`.
    pub fn spawn(driver: Box<dyn Driver>, mode: Mode, max_messages: u64) -> Queue {
        let shared = Arc::new(Shared {
            state: Mutex::default(),
            more: Condvar::new(),
            wake: EventFd::from_flags(EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK)
                .expect("eventfd"),
            sent: AtomicU64::new(0),
        });
        let (tx, done) = mpsc::channel();
        let s = shared.clone();
        std::thread::spawn(move || {
            write_all(&s, driver);
            let _ = tx.send(());
        });
        Queue {
            shared,
            mode,
            max_messages,
            done,
        }
    }

    /// Queues `m`, or drops it when a non-blocking queue is full.
    pub fn push(&self, m: Message) {
        let size = m.line.len() as u64;
        let mut st = self.shared.lock();
        if let Mode::NonBlocking { max_buffer } = self.mode
            && !st.msgs.is_empty()
            && (st.bytes + size > max_buffer || st.msgs.len() as u64 >= self.max_messages)
        {
            st.dropped += 1;
            return;
        }
        st.bytes += size;
        st.msgs.push_back(m);
        self.shared.more.notify_one();
    }

    /// Whether the loop may read more output.
    pub fn has_room(&self) -> bool {
        if !matches!(self.mode, Mode::Blocking) {
            return true;
        }
        let mut st = self.shared.lock();
        st.stalled = st.bytes >= BLOCKING_LIMIT;
        !st.stalled
    }

    /// Readable when a stalled loop may read again.
    pub fn wake_fd(&self) -> BorrowedFd<'_> {
        self.shared.wake.as_fd()
    }

    /// Resets the eventfd.
    pub fn woken(&self) {
        let _ = self.shared.wake.read();
    }

    /// Lets the writer send what is queued, for as long as it makes progress; gives up after
    /// [`CLOSE_GRACE`] without any.
    pub fn close(self) {
        self.shared.lock().closed = true;
        self.shared.more.notify_one();
        let mut sent = self.shared.sent.load(Ordering::Relaxed);
        while self.done.recv_timeout(CLOSE_GRACE).is_err() {
            let now = self.shared.sent.load(Ordering::Relaxed);
            if now == sent {
                let left = self.shared.lock().msgs.len();
                eprintln!(
                    "monitor: the log driver took nothing for {CLOSE_GRACE:?}; {left} queued messages are lost"
                );
                return;
            }
            sent = now;
        }
    }
}

/// The writer thread: sends batches until the queue is closed and empty.
fn write_all(s: &Shared, mut driver: Box<dyn Driver>) {
    let mut failing = false;
    loop {
        let batch: Vec<Message> = {
            let mut st = s.lock();
            while st.msgs.is_empty() && !st.closed {
                st = s.more.wait(st).unwrap_or_else(|p| p.into_inner());
            }
            if st.msgs.is_empty() {
                if st.dropped > 0 {
                    eprintln!(
                        "monitor: non-blocking log buffer full: {} messages dropped",
                        st.dropped
                    );
                }
                break;
            }
            st.bytes = 0;
            if std::mem::take(&mut st.stalled) {
                let _ = s.wake.write(1);
            }
            st.msgs.drain(..).collect()
        };
        for m in &batch {
            s.sent.fetch_add(1, Ordering::Relaxed);
            match driver.log(m) {
                Ok(()) => failing = false,
                // Once per run of failures: a dead server must not flood the monitor's log.
                Err(e) if !failing => {
                    failing = true;
                    eprintln!("monitor: log driver: {e}; lines are lost until it recovers");
                }
                Err(_) => {}
            }
        }
        let _ = driver.flush();
    }
    if let Err(e) = driver.close() {
        eprintln!("monitor: closing the log driver: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logfile::Stream;
    use std::sync::mpsc::{Receiver, Sender};

    /// A driver that takes a message only when the test lets it, and reports what it took.
    struct Gated {
        gate: Receiver<()>,
        took: Sender<Vec<u8>>,
    }

    impl Driver for Gated {
        fn log(&mut self, m: &Message) -> std::io::Result<()> {
            let _ = self.gate.recv();
            let _ = self.took.send(m.line.clone());
            Ok(())
        }
        fn close(self: Box<Self>) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn gated(mode: Mode, max_messages: u64) -> (Queue, Sender<()>, Receiver<Vec<u8>>) {
        let (open, gate) = mpsc::channel();
        let (took, taken) = mpsc::channel();
        (
            Queue::spawn(Box::new(Gated { gate, took }), mode, max_messages),
            open,
            taken,
        )
    }

    fn msg(len: usize) -> Message {
        Message {
            stream: Stream::Stdout,
            line: vec![b'x'; len],
            time: chrono::Utc::now(),
            partial: None,
        }
    }

    fn readable(q: &Queue) -> bool {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        let mut fds = [PollFd::new(q.wake_fd(), PollFlags::POLLIN)];
        poll(&mut fds, PollTimeout::from(5000u16)).unwrap() == 1
    }

    #[test]
    fn a_full_blocking_queue_stalls_the_loop_until_the_writer_takes_it() {
        let (q, open, taken) = gated(Mode::Blocking, u64::MAX);
        q.push(msg(10));
        // The writer holds the first message at its gate; the rest fills the queue.
        while !q.shared.lock().msgs.is_empty() {
            std::thread::yield_now();
        }
        q.push(msg(BLOCKING_LIMIT as usize));
        assert!(!q.has_room());
        open.send(()).unwrap();
        assert!(readable(&q), "the writer signals room");
        q.woken();
        assert!(q.has_room());
        open.send(()).unwrap();
        assert_eq!(taken.recv().unwrap().len(), 10);
        assert_eq!(taken.recv().unwrap().len(), BLOCKING_LIMIT as usize);
        q.close();
    }

    #[test]
    fn a_full_non_blocking_queue_drops_what_comes_and_never_stalls() {
        let (q, open, taken) = gated(Mode::NonBlocking { max_buffer: 100 }, u64::MAX);
        q.push(msg(1));
        // Let the writer take the first message and wait at its gate with it.
        while !q.shared.lock().msgs.is_empty() {
            std::thread::yield_now();
        }
        q.push(msg(60));
        q.push(msg(60)); // over 100 bytes: dropped
        q.push(msg(40));
        assert!(q.has_room());
        for _ in 0..3 {
            open.send(()).unwrap();
        }
        q.close();
        let got: Vec<usize> = taken.try_iter().map(|l| l.len()).collect();
        assert_eq!(got, [1, 60, 40]);
    }

    #[test]
    fn the_message_limit_drops_beyond_it() {
        let (q, open, taken) = gated(
            Mode::NonBlocking {
                max_buffer: u64::MAX,
            },
            2,
        );
        q.push(msg(1));
        while !q.shared.lock().msgs.is_empty() {
            std::thread::yield_now();
        }
        for n in 2..6 {
            q.push(msg(n));
        }
        for _ in 0..3 {
            open.send(()).unwrap();
        }
        q.close();
        let got: Vec<usize> = taken.try_iter().map(|l| l.len()).collect();
        assert_eq!(got, [1, 2, 3]);
    }

    #[test]
    fn closing_gives_up_on_a_writer_that_hangs() {
        let (q, _open, _taken) = gated(Mode::Blocking, u64::MAX);
        q.push(msg(1));
        while !q.shared.lock().msgs.is_empty() {
            std::thread::yield_now();
        }
        let t = std::time::Instant::now();
        q.close();
        assert!(t.elapsed() >= CLOSE_GRACE && t.elapsed() < CLOSE_GRACE * 2);
    }
}
