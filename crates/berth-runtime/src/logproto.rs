//! Docker's `local` log format: each entry a protobuf `LogEntry` framed by its length as a
//! big-endian u32 before and after (the trailing copy lets readers walk backwards).
//!
//! The message has six fields (`source`, `time_nano`, `line`, `partial`,
//! `partial_log_metadata`, `attrs`); a hand-written encoder and decoder of those is shorter
//! than a protobuf code generator and its build step.

use std::collections::BTreeMap;

/// One decoded `LogEntry`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalEntry {
    /// `stdout` or `stderr`.
    pub source: String,
    /// Nanoseconds since the epoch.
    pub time_nano: i64,
    /// The line, without its newline.
    pub line: Vec<u8>,
    /// A piece of a longer line (no newline follows it).
    pub partial: bool,
    /// `PartialLogEntryMetadata`: (last, id, ordinal), when partial.
    pub partial_meta: Option<(bool, String, i32)>,
    /// `attrs`, from the `labels`/`env`/`tag` options.
    pub attrs: BTreeMap<String, String>,
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn bytes_field(out: &mut Vec<u8>, field: u64, b: &[u8]) {
    varint(out, (field << 3) | 2);
    varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn varint_field(out: &mut Vec<u8>, field: u64, v: u64) {
    varint(out, field << 3);
    varint(out, v);
}

impl LocalEntry {
    /// The protobuf message (proto3: default values are left out).
    pub fn encode(&self) -> Vec<u8> {
        let mut m = Vec::with_capacity(self.line.len() + 32);
        if !self.source.is_empty() {
            bytes_field(&mut m, 1, self.source.as_bytes());
        }
        if self.time_nano != 0 {
            varint_field(&mut m, 2, self.time_nano as u64);
        }
        if !self.line.is_empty() {
            bytes_field(&mut m, 3, &self.line);
        }
        if self.partial {
            varint_field(&mut m, 4, 1);
        }
        if let Some((last, id, ordinal)) = &self.partial_meta {
            let mut p = Vec::new();
            if *last {
                varint_field(&mut p, 1, 1);
            }
            if !id.is_empty() {
                bytes_field(&mut p, 2, id.as_bytes());
            }
            if *ordinal != 0 {
                varint_field(&mut p, 3, i64::from(*ordinal) as u64);
            }
            bytes_field(&mut m, 5, &p);
        }
        for (k, v) in &self.attrs {
            let mut a = Vec::new();
            bytes_field(&mut a, 1, k.as_bytes());
            bytes_field(&mut a, 2, v.as_bytes());
            bytes_field(&mut m, 6, &a);
        }
        m
    }

    /// The entry framed as the file holds it.
    pub fn frame(&self) -> Vec<u8> {
        let msg = self.encode();
        let len = (msg.len() as u32).to_be_bytes();
        let mut out = Vec::with_capacity(msg.len() + 8);
        out.extend_from_slice(&len);
        out.extend_from_slice(&msg);
        out.extend_from_slice(&len);
        out
    }

    /// Decodes a message; `None` when it is not a `LogEntry`.
    pub fn decode(mut b: &[u8]) -> Option<LocalEntry> {
        let mut e = LocalEntry::default();
        while !b.is_empty() {
            let (field, value) = next_field(&mut b)?;
            match (field, value) {
                (1, Value::Bytes(s)) => e.source = String::from_utf8_lossy(s).into_owned(),
                (2, Value::Varint(v)) => e.time_nano = v as i64,
                (3, Value::Bytes(l)) => e.line = l.to_vec(),
                (4, Value::Varint(v)) => e.partial = v != 0,
                (5, Value::Bytes(mut p)) => {
                    let (mut last, mut id, mut ordinal) = (false, String::new(), 0);
                    while !p.is_empty() {
                        match next_field(&mut p)? {
                            (1, Value::Varint(v)) => last = v != 0,
                            (2, Value::Bytes(s)) => id = String::from_utf8_lossy(s).into_owned(),
                            (3, Value::Varint(v)) => ordinal = v as i32,
                            _ => {}
                        }
                    }
                    e.partial_meta = Some((last, id, ordinal));
                }
                (6, Value::Bytes(mut a)) => {
                    let (mut k, mut v) = (String::new(), String::new());
                    while !a.is_empty() {
                        match next_field(&mut a)? {
                            (1, Value::Bytes(s)) => k = String::from_utf8_lossy(s).into_owned(),
                            (2, Value::Bytes(s)) => v = String::from_utf8_lossy(s).into_owned(),
                            _ => {}
                        }
                    }
                    e.attrs.insert(k, v);
                }
                _ => {}
            }
        }
        Some(e)
    }
}

enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Other,
}

fn read_varint(b: &mut &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = b.split_first()?;
        *b = rest;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

fn next_field<'a>(b: &mut &'a [u8]) -> Option<(u64, Value<'a>)> {
    let key = read_varint(b)?;
    let value = match key & 7 {
        0 => Value::Varint(read_varint(b)?),
        1 => {
            *b = b.get(8..)?;
            Value::Other
        }
        2 => {
            let n = usize::try_from(read_varint(b)?).ok()?;
            let (v, rest) = (b.get(..n)?, b.get(n..)?);
            *b = rest;
            Value::Bytes(v)
        }
        5 => {
            *b = b.get(4..)?;
            Value::Other
        }
        _ => return None,
    };
    Some((key >> 3, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_matches_protobuf_bytes() {
        let e = LocalEntry {
            source: "stdout".into(),
            time_nano: 1,
            line: b"hi".to_vec(),
            ..Default::default()
        };
        // What protoc's encoder writes for {source:"stdout", time_nano:1, line:"hi"}.
        assert_eq!(e.encode(), b"\x0a\x06stdout\x10\x01\x1a\x02hi");
        let framed = e.frame();
        assert_eq!(&framed[..4], &[0, 0, 0, 14]);
        assert_eq!(&framed[framed.len() - 4..], &[0, 0, 0, 14]);
        let full = LocalEntry {
            source: "stderr".into(),
            time_nano: 1_700_000_000_123_456_789,
            line: vec![b'x'; 300],
            partial: true,
            partial_meta: Some((true, "id".into(), 3)),
            attrs: BTreeMap::from([("a".into(), "b".into())]),
        };
        assert_eq!(LocalEntry::decode(&full.encode()), Some(full));
        assert_eq!(LocalEntry::decode(b"\x0a\x09short"), None);
    }
}
