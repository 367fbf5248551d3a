//! Build progress as BuildKit shows it, made from the classic stream (`Step 2/9 : RUN ...`,
//! ` ---> ...`, command output): `plain` prints numbered lines (`#2 [2/9] RUN ...`, output with
//! its time, `#2 DONE 0.3s`); `tty` keeps a block on the terminal that it redraws in place:
//! a `[+] Building` header, one line per step with its time, and the last lines of the
//! running step's output.

use std::collections::VecDeque;
use std::io::Write;
use std::time::Instant;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Quiet,
    Plain,
    Tty,
}

/// Output lines of the running step shown under it on a terminal.
const TAIL: usize = 6;

enum Status {
    Running,
    Failed,
    Cached,
    Done(f64),
}

struct Step {
    num: String,
    /// `[2/9] RUN ...`
    label: String,
    started: Instant,
    status: Status,
    /// The classic stream said ` ---> Using cache`.
    cache_hit: bool,
    tail: VecDeque<String>,
}

pub struct Renderer {
    mode: Mode,
    steps: Vec<Step>,
    total: usize,
    /// Lines that are not steps (warnings, `Successfully built`), shown under the block.
    notes: Vec<String>,
    started: Instant,
    pending: String,
    /// Lines of the block on the terminal now.
    drawn: usize,
}

impl Renderer {
    pub fn new(mode: Mode) -> Self {
        Renderer {
            mode,
            steps: Vec::new(),
            total: 0,
            notes: Vec::new(),
            started: Instant::now(),
            pending: String::new(),
            drawn: 0,
        }
    }

    /// Whether the display wants periodic redraws (its clocks tick).
    pub fn live(&self) -> bool {
        self.mode == Mode::Tty
    }

    /// Text from the daemon's `stream`.
    pub fn text(&mut self, s: &str) {
        self.pending.push_str(s);
        while let Some(n) = self.pending.find('\n') {
            let line: String = self.pending.drain(..=n).collect();
            self.line(line.trim_end_matches(['\n', '\r']));
        }
    }

    fn running(&mut self) -> Option<&mut Step> {
        self.steps
            .last_mut()
            .filter(|s| matches!(s.status, Status::Running))
    }

    fn line(&mut self, line: &str) {
        let mode = self.mode;
        if mode == Mode::Quiet {
            return;
        }
        if let Some(rest) = line.strip_prefix("Step ") {
            self.end_step(None, false);
            let (n, what) = rest.split_once(" : ").unwrap_or((rest, ""));
            let (num, total) = n.split_once('/').unwrap_or((n, ""));
            self.total = total.parse().unwrap_or(self.total);
            let step = Step {
                num: num.to_string(),
                label: format!("[{n}] {what}"),
                started: Instant::now(),
                status: Status::Running,
                cache_hit: false,
                tail: VecDeque::new(),
            };
            if self.mode == Mode::Plain {
                eprintln!("#{} {}", step.num, step.label);
            }
            self.steps.push(step);
        } else if line == " ---> Using cache" {
            if let Some(s) = self.running() {
                s.cache_hit = true;
            }
        } else if line.starts_with(" ---> ") || line.starts_with("Removing intermediate container")
        {
            // Image and container IDs of steps: BuildKit does not show them.
        } else if line.starts_with("Successfully built") || line.starts_with("Successfully tagged")
        {
            self.end_step(None, false);
            self.note(line);
        } else if let Some(s) = self.running() {
            let at = s.started.elapsed().as_secs_f64();
            if mode == Mode::Plain {
                let num = &s.num;
                eprintln!("#{num} {at:.3} {line}");
            } else {
                s.tail.push_back(line.to_string());
                if s.tail.len() > TAIL {
                    s.tail.pop_front();
                }
            }
        } else {
            self.note(line);
        }
    }

    fn note(&mut self, line: &str) {
        match self.mode {
            Mode::Plain => eprintln!("{line}"),
            Mode::Tty => self.notes.push(line.to_string()),
            Mode::Quiet => {}
        }
    }

    /// The daemon's word that step `n` is over, with its own timing.
    pub fn step_done(&mut self, n: u64, seconds: f64, cached: bool) {
        if self.steps.last().is_some_and(|s| s.num == n.to_string()) {
            self.end_step(Some(seconds), cached);
        }
    }

    fn end_step(&mut self, seconds: Option<f64>, cached: bool) {
        let mode = self.mode;
        let Some(s) = self.running() else {
            return;
        };
        let secs = seconds.unwrap_or_else(|| s.started.elapsed().as_secs_f64());
        s.status = if cached || s.cache_hit {
            Status::Cached
        } else {
            Status::Done(secs)
        };
        if mode == Mode::Plain {
            match s.status {
                Status::Cached => eprintln!("#{} CACHED", s.num),
                _ => eprintln!("#{} DONE {secs:.1}s", s.num),
            }
        }
    }

    /// The block as it should look now, each line cut to `width` characters.
    fn block(&self, width: usize, rows: usize) -> Vec<String> {
        let done = self
            .steps
            .iter()
            .filter(|s| matches!(s.status, Status::Cached | Status::Done(_)))
            .count();
        let total = self.total.max(self.steps.len());
        let header = format!(
            "[+] Building {:.1}s ({done}/{total})",
            self.started.elapsed().as_secs_f64()
        );
        let mut lines = vec![cut(&header, width)];
        for s in &self.steps {
            let (time, color) = match s.status {
                Status::Running => (format!("{:.1}s", s.started.elapsed().as_secs_f64()), ""),
                Status::Cached => ("CACHED".to_string(), "\x1b[34m"),
                Status::Failed => ("ERROR".to_string(), "\x1b[31m"),
                Status::Done(t) => (format!("{t:.1}s"), "\x1b[34m"),
            };
            let label = cut(
                &format!(" => {}", s.label),
                width.saturating_sub(time.len() + 1),
            );
            let pad = width.saturating_sub(label.chars().count() + time.len());
            lines.push(format!("{color}{label}{}{time}\x1b[0m", " ".repeat(pad)));
            if matches!(s.status, Status::Running | Status::Failed) {
                for t in &s.tail {
                    lines.push(format!(
                        "\x1b[2m{}\x1b[0m",
                        cut(&format!(" => => # {t}"), width)
                    ));
                }
            }
        }
        lines.extend(self.notes.iter().map(|n| cut(n, width)));
        // Lines that scrolled off the screen can't be redrawn: keep the header and the newest.
        if lines.len() > rows {
            let excess = lines.len() - rows;
            lines.drain(1..=excess);
        }
        lines
    }

    /// Redraws the block in place (the caller ticks it).
    pub fn draw(&mut self) {
        if self.mode != Mode::Tty {
            return;
        }
        let (rows, cols) = super::term::size_of(&[libc::STDERR_FILENO]).unwrap_or((24, 80));
        let lines = self.block(usize::from(cols).max(20) - 1, usize::from(rows).max(4) - 1);
        let mut out = String::new();
        if self.drawn > 0 {
            out.push_str(&format!("\x1b[{}A", self.drawn));
        }
        for l in &lines {
            out.push_str(l);
            out.push_str("\x1b[K\n");
        }
        out.push_str("\x1b[J");
        self.drawn = lines.len();
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(out.as_bytes());
        let _ = err.flush();
    }

    /// The stream ended; `ok` when it ended without an error.
    pub fn finish(&mut self, ok: bool) {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.line(&rest);
        }
        if ok {
            self.end_step(None, false);
        } else if let Some(s) = self.running() {
            s.status = Status::Failed;
        }
        self.draw();
    }
}

/// `s` cut to `width` characters.
fn cut(s: &str, width: usize) -> String {
    s.chars().take(width).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_shows_steps_times_and_the_running_tail() {
        let mut r = Renderer::new(Mode::Tty);
        r.line("Step 1/3 : FROM base");
        r.line(" ---> 0123456789ab");
        r.step_done(1, 0.0, false);
        r.line("Step 2/3 : RUN make");
        r.line(" ---> Using cache");
        r.step_done(2, 0.01, true);
        r.line("Step 3/3 : RUN echo hi");
        r.line(" ---> Running in 0123456789ab");
        r.line("hi");
        let b = r.block(60, 40);
        assert!(
            b[0].starts_with("[+] Building ") && b[0].ends_with("(2/3)"),
            "{b:?}"
        );
        assert!(
            b[1].contains(" => [1/3] FROM base") && b[1].contains("0.0s"),
            "{b:?}"
        );
        assert!(b[2].contains("CACHED"), "{b:?}");
        assert!(b[3].contains(" => [3/3] RUN echo hi"), "{b:?}");
        assert!(b[4].contains(" => => # hi"), "{b:?}");
        assert_eq!(b.len(), 5, "{b:?}");

        r.step_done(3, 0.2, false);
        r.line("Successfully built 0123456789ab");
        let b = r.block(60, 40);
        assert!(b[0].ends_with("(3/3)"), "{b:?}");
        assert!(
            b[3].contains("0.2s"),
            "the finished step's output is folded: {b:?}"
        );
        assert_eq!(b[4], "Successfully built 0123456789ab");
        // On a short screen the header stays and the oldest steps go.
        let b = r.block(60, 3);
        assert_eq!(b.len(), 3, "{b:?}");
        assert!(b[0].starts_with("[+] Building"), "{b:?}");
        assert!(b[2].starts_with("Successfully built"), "{b:?}");
        // Nothing is wider than the terminal.
        assert!(r.block(12, 40).iter().all(|l| {
            let visible = l.replace("\x1b[34m", "").replace("\x1b[0m", "");
            visible.replace("\x1b[2m", "").chars().count() <= 12
        }));
    }
}
