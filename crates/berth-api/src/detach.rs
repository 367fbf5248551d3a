//! Docker's detach keys (`detachKeys`, `--detach-keys`): the key list as moby/term's `ToBytes`
//! reads it, and the matcher an attached client's input passes through, which holds back a
//! partial sequence and gives it back when the sequence breaks, as moby/term's escape proxy.

/// `ctrl-p,ctrl-q`, Docker's default.
pub const DEFAULT: &[u8] = &[0x10, 0x11];

/// The bytes of a key list (`ctrl-<a-z@[\]^_>`, `DEL`, or single characters, comma separated);
/// `None` for a key Docker does not know. Empty means Docker's default.
pub fn parse(keys: &str) -> Option<Vec<u8>> {
    if keys.is_empty() {
        return Some(DEFAULT.to_vec());
    }
    keys.split(',')
        .map(|key| match key.as_bytes() {
            [c] => Some(*c),
            b"DEL" => Some(127),
            _ => {
                let c = key.strip_prefix("ctrl-")?.as_bytes();
                match c {
                    [c @ b'a'..=b'z'] => Some(c - b'a' + 1),
                    [b'@'] => Some(0),
                    [c @ (b'[' | b'\\' | b']' | b'^' | b'_')] => Some(c - b'@'),
                    _ => None,
                }
            }
        })
        .collect()
}

/// Watches a stream of input for the detach sequence.
#[derive(Debug, Clone)]
pub struct Escape {
    keys: Vec<u8>,
    matched: usize,
}

impl Escape {
    /// A matcher of `keys` (not empty).
    pub fn new(keys: Vec<u8>) -> Escape {
        Escape { keys, matched: 0 }
    }

    /// Appends to `out` the part of `input` to forward; `true` once the sequence is complete
    /// (what followed it is dropped, as the client detached).
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> bool {
        for &b in input {
            if b == self.keys[self.matched] {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    return true;
                }
                continue;
            }
            // A broken sequence was input after all; the byte that broke it starts no new
            // match, as in moby/term.
            out.extend_from_slice(&self.keys[..self.matched]);
            self.matched = 0;
            out.push(b);
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_as_moby_term_reads_them() {
        assert_eq!(parse("").unwrap(), DEFAULT);
        assert_eq!(parse("ctrl-p,ctrl-q").unwrap(), DEFAULT);
        assert_eq!(parse("ctrl-x").unwrap(), [0x18]);
        assert_eq!(parse("a,ctrl-@,ctrl-_,DEL").unwrap(), [b'a', 0, 0x1f, 127]);
        assert_eq!(parse("ctrl-\\").unwrap(), [0x1c]);
        for bad in ["foo", "ctrl-", "ctrl-1", "ctrl-A", "a,,b", "ctrl-ab"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_sequence_is_held_back_and_given_back_when_it_breaks() {
        let mut e = Escape::new(DEFAULT.to_vec());
        let mut out = Vec::new();
        assert!(!e.feed(b"ab\x10", &mut out));
        assert_eq!(out, b"ab");
        assert!(!e.feed(b"c", &mut out));
        assert_eq!(out, b"ab\x10c");
        out.clear();
        assert!(e.feed(b"x\x10\x11rest", &mut out));
        assert_eq!(out, b"x");
        let mut e = Escape::new(DEFAULT.to_vec());
        out.clear();
        assert!(!e.feed(b"\x10", &mut out));
        assert!(e.feed(b"\x11", &mut out));
        assert!(out.is_empty());
    }
}
