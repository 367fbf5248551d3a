//! The tree every compose file becomes: YAML values that remember where they came from, so
//! that an error anywhere after parsing (interpolation, merge, decoding) names file, line and key.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;

/// Where a node was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pos {
    /// The compose file (or `.env` file).
    pub file: Arc<Path>,
    /// 1-based; 0 for the file as a whole.
    pub line: u32,
    /// 1-based.
    pub col: u32,
}

/// A value with its position and YAML tag (`!reset`, `!override`).
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where it was written; `None` for values berth made (defaults, merges of nothing).
    pub pos: Option<Pos>,
    /// A local tag without its `!`, as in `!reset` → `reset`.
    pub tag: Option<String>,
}

/// A YAML value. Scalars keep their text: what a scalar means (a number, a bool, a string)
/// depends on the key that holds it and is decided when the tree is decoded.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `~`, `null`, or nothing.
    Null,
    /// Any other scalar.
    Scalar(Scalar),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in the file's order; keys are scalars' text.
    Map(IndexMap<String, Node>),
}

/// A scalar as written (after interpolation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scalar {
    /// Its text, without quotes.
    pub text: String,
    /// Quoted in the file: always a string, never a number or a bool.
    pub quoted: bool,
}

/// An error in a compose project, with the file, line and key it is about when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// Where.
    pub pos: Option<Pos>,
    /// The key, dotted from the top (`services.web.ports`), when known.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.pos {
            Some(p) if p.line > 0 => write!(f, "{}:{}: ", p.file.display(), p.line)?,
            Some(p) => write!(f, "{}: ", p.file.display())?,
            None => {}
        }
        if let Some(k) = &self.key {
            write!(f, "{k}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for LoadError {}

impl LoadError {
    /// An error about `node` (its position) at `key`.
    pub fn at(node: &Node, key: impl Into<String>, message: impl Into<String>) -> LoadError {
        LoadError {
            pos: node.pos.clone(),
            key: Some(key.into()),
            message: message.into(),
        }
    }

    /// An error about a file as a whole (missing, unreadable).
    pub fn file(path: &Path, message: impl Into<String>) -> LoadError {
        let file: PathBuf = path.into();
        LoadError {
            pos: Some(Pos {
                file: file.into(),
                line: 0,
                col: 0,
            }),
            key: None,
            message: message.into(),
        }
    }
}

impl Node {
    /// A node berth made, with no position.
    pub fn new(value: Value) -> Node {
        Node {
            value,
            pos: None,
            tag: None,
        }
    }

    /// A plain (unquoted) scalar.
    pub fn scalar(text: impl Into<String>) -> Node {
        Node::new(Value::Scalar(Scalar {
            text: text.into(),
            quoted: false,
        }))
    }

    /// A quoted scalar: always a string.
    pub fn string(text: impl Into<String>) -> Node {
        Node::new(Value::Scalar(Scalar {
            text: text.into(),
            quoted: true,
        }))
    }

    /// The mapping, if this is one.
    pub fn as_map(&self) -> Option<&IndexMap<String, Node>> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The scalar's text, if this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) => Some(&s.text),
            _ => None,
        }
    }
}

impl Node {
    /// The mapping, mutably, if this is one.
    pub fn as_map_mut(&mut self) -> Option<&mut IndexMap<String, Node>> {
        match &mut self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// An empty mapping berth made.
    pub fn map() -> Node {
        Node::new(Value::Map(IndexMap::new()))
    }

    /// This node at `pos`.
    pub fn with_pos(mut self, pos: Option<Pos>) -> Node {
        self.pos = pos;
        self
    }

    /// The node under `key`, if this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map().and_then(|m| m.get(key))
    }

    /// Whether this is `null` (or nothing).
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// A scalar with `text` at `pos`, quoted as `quoted`.
    pub fn text_at(text: impl Into<String>, quoted: bool, pos: Option<Pos>) -> Node {
        Node {
            value: Value::Scalar(Scalar {
                text: text.into(),
                quoted,
            }),
            pos,
            tag: None,
        }
    }

    /// The tree as JSON with every scalar as a string (golden tests, debugging).
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Scalar(s) => serde_json::Value::String(s.text.clone()),
            Value::Seq(items) => items.iter().map(Node::to_json).collect(),
            Value::Map(m) => {
                serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }
}

impl LoadError {
    /// An error with no position or key.
    pub fn msg(message: impl Into<String>) -> LoadError {
        LoadError {
            pos: None,
            key: None,
            message: message.into(),
        }
    }

    /// An error at `pos` with no key.
    pub fn at_pos(pos: Option<Pos>, message: impl Into<String>) -> LoadError {
        LoadError {
            pos,
            key: None,
            message: message.into(),
        }
    }
}

/// A file that could not be read, worded as Go's `open` errors are in compose's messages
/// (`open /p/x.yaml: no such file or directory`).
pub fn open_error(path: &Path, e: &std::io::Error) -> LoadError {
    let why = match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    };
    LoadError::msg(format!("open {}: {why}", path.display()))
}
