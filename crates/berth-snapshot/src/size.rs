//! How much a directory of files holds, as Docker counts a layer or a container's changes.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The bytes of what is under `dir`: file sizes and symlink target lengths, each hard-linked
/// file once; directories (and overlay whiteouts) count nothing.
pub fn tree_size(dir: &Path) -> u64 {
    let mut seen = HashSet::new();
    walk(dir, &mut seen)
}

fn walk(p: &Path, seen: &mut HashSet<(u64, u64)>) -> u64 {
    let Ok(m) = std::fs::symlink_metadata(p) else {
        return 0;
    };
    if m.is_dir() {
        return std::fs::read_dir(p)
            .map(|rd| rd.flatten().map(|e| walk(&e.path(), seen)).sum())
            .unwrap_or(0);
    }
    if !(m.is_file() || m.file_type().is_symlink()) || !seen.insert((m.dev(), m.ino())) {
        return 0;
    }
    m.len()
}

#[cfg(test)]
mod tests {
    #[test]
    fn files_and_links_once() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("sub")).unwrap();
        std::fs::write(d.path().join("sub/a"), "12345").unwrap();
        std::fs::hard_link(d.path().join("sub/a"), d.path().join("b")).unwrap();
        std::os::unix::fs::symlink("sub/a", d.path().join("l")).unwrap();
        assert_eq!(super::tree_size(d.path()), 5 + 5);
    }
}
