//! Containers' output as `logs` and an attached `up` print it: `name | line`, names padded to
//! the longest, coloured on a terminal, stderr lines on stderr.

use std::io::{IsTerminal, Write};

use berth_compose::ops::logs::{self, Line};

/// Prints lines of a known set of sources.
pub struct Printer {
    sources: Vec<String>,
    width: usize,
    color: bool,
    prefix: bool,
}

impl Printer {
    /// A printer for `sources` (`web-1`, ...); `--no-color`, `--no-log-prefix`.
    pub fn new(sources: Vec<String>, no_color: bool, no_log_prefix: bool) -> Printer {
        let width = sources.iter().map(String::len).max().unwrap_or(0) + 1;
        Printer {
            sources,
            width,
            color: !no_color && std::io::stdout().is_terminal(),
            prefix: !no_log_prefix,
        }
    }

    /// Writes `l` to stdout or stderr, as it came.
    pub fn line(&self, l: &Line) -> std::io::Result<()> {
        let prefix = if self.prefix {
            let i = self
                .sources
                .iter()
                .position(|s| *s == l.source)
                .unwrap_or(0);
            logs::prefix(&l.source, self.width, i, self.color)
        } else {
            String::new()
        };
        let text = format!("{prefix}{}\n", l.text);
        if l.stderr {
            std::io::stderr().lock().write_all(text.as_bytes())
        } else {
            std::io::stdout().lock().write_all(text.as_bytes())
        }
    }
}
