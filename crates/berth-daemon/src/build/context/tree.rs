//! The context's files as a tree in memory: names, types, modes, mtimes, link targets and, for
//! regular files, a `Blob`. Built from tar entries with the rules `tar`'s `unpack_in` applies
//! to a directory (which is how berth unpacked contexts before it kept them in memory), and
//! looked up as [`berth_core::rootfs::RootDir`] looks up a directory: symlinks are followed but
//! never leave the tree.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};

use super::blobs::Blob;

/// The most symlinks one lookup follows (Linux's limit).
const MAX_LINKS: usize = 40;

/// What a name is.
#[derive(Clone, Debug)]
pub enum Kind {
    /// A directory and its entries, by name.
    Dir(BTreeMap<String, Node>),
    /// A regular file.
    File(Blob),
    /// A symlink and its target, as stored.
    Symlink(PathBuf),
}

/// One entry: its kind, mode (an `st_mode`, type bits included, as `lstat` shows it once
/// written) and modification time (seconds).
#[derive(Clone, Debug)]
pub struct Node {
    /// What it is.
    pub kind: Kind,
    /// Its `st_mode`.
    pub mode: u32,
    /// Its mtime, in seconds.
    pub mtime: i64,
}

impl Node {
    /// A directory with permission bits `perm`.
    pub fn dir(perm: u32, mtime: i64) -> Node {
        Node {
            kind: Kind::Dir(BTreeMap::new()),
            mode: libc::S_IFDIR | (perm & 0o7777),
            mtime,
        }
    }

    /// A regular file with permission bits `perm`.
    pub fn file(blob: Blob, perm: u32, mtime: i64) -> Node {
        Node {
            kind: Kind::File(blob),
            mode: libc::S_IFREG | (perm & 0o7777),
            mtime,
        }
    }

    /// A symlink.
    pub fn symlink(target: PathBuf, mtime: i64) -> Node {
        Node {
            kind: Kind::Symlink(target),
            mode: libc::S_IFLNK | 0o777,
            mtime,
        }
    }

    /// Whether it is a directory.
    pub fn is_dir(&self) -> bool {
        matches!(self.kind, Kind::Dir(_))
    }

    /// Whether it is a symlink.
    pub fn is_symlink(&self) -> bool {
        matches!(self.kind, Kind::Symlink(_))
    }

    /// The entries of a directory (none for anything else).
    pub fn children(&self) -> impl Iterator<Item = (&String, &Node)> {
        match &self.kind {
            Kind::Dir(c) => Some(c.iter()),
            _ => None,
        }
        .into_iter()
        .flatten()
    }
}

/// Why a path could not be resolved or an entry not be added.
#[derive(Debug, PartialEq, Eq)]
pub enum Fail {
    /// Nothing is there.
    Missing,
    /// It leads out of the tree.
    Outside,
    /// Too many symlinks.
    Loop,
    /// A component on the way is not a directory.
    NotDir,
    /// Something that cannot be replaced is there (a directory by a file, say).
    Exists,
    /// A hard link to a directory.
    LinkToDir,
}

impl std::fmt::Display for Fail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Fail::Missing => "no such file or directory",
            Fail::Outside => "trying to unpack outside of destination path",
            Fail::Loop => "too many levels of symbolic links",
            Fail::NotDir => "not a directory",
            Fail::Exists => "file exists",
            Fail::LinkToDir => "hard link to a directory",
        })
    }
}

/// How symlinks resolve: inside the tree (an absolute target starts at the tree's root, `..`
/// stops there), or as the host would see them in an unpacked copy (leaving the tree fails).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Resolve {
    /// As [`berth_core::rootfs::RootDir`] resolves.
    InRoot,
    /// As the host resolves in an unpacked copy.
    Host,
}

/// What a tar entry adds.
pub enum Entry {
    /// A directory, file or symlink.
    Node(Node),
    /// A hard link to the entry at this path (relative to the root).
    HardLink(PathBuf),
}

/// A path's names; `..` kept, `.` and empty ones dropped.
fn names(path: &Path) -> impl Iterator<Item = String> + '_ {
    path.to_str()
        .map(|s| s.split('/').map(str::to_string).collect::<Vec<_>>())
        .unwrap_or_else(|| {
            path.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect()
        })
        .into_iter()
        .filter(|n| !n.is_empty() && n != "." && n != "/")
}

/// A real path (names, no symlinks) as a relative slash path; the root is "".
pub fn join(real: &[String]) -> String {
    real.join("/")
}

fn split(real: &str) -> Vec<String> {
    real.split('/')
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect()
}

/// The tree.
#[derive(Debug)]
pub struct Tree {
    root: Node,
}

impl Tree {
    /// An empty tree; its root is a directory with mode 0755.
    pub fn new(mtime: i64) -> Tree {
        Tree {
            root: Node::dir(0o755, mtime),
        }
    }

    /// The node at real path `real` (no symlinks on the way).
    pub fn get(&self, real: &str) -> Option<&Node> {
        self.get_names(&split(real))
    }

    fn get_names(&self, real: &[String]) -> Option<&Node> {
        let mut n = &self.root;
        for name in real {
            match &n.kind {
                Kind::Dir(c) => n = c.get(name)?,
                _ => return None,
            }
        }
        Some(n)
    }

    fn dir_mut(&mut self, real: &[String]) -> &mut BTreeMap<String, Node> {
        let mut n = &mut self.root;
        for name in real {
            n = match &mut n.kind {
                Kind::Dir(c) => c.get_mut(name).expect("a resolved directory"),
                _ => unreachable!("a resolved directory"),
            };
        }
        match &mut n.kind {
            Kind::Dir(c) => c,
            _ => unreachable!("a resolved directory"),
        }
    }

    /// Removes the node at real path `real`, returning it.
    pub fn take(&mut self, real: &str) -> Option<Node> {
        let mut names = split(real);
        let last = names.pop()?;
        if !self.get_names(&names).is_some_and(Node::is_dir) {
            return None;
        }
        self.dir_mut(&names).remove(&last)
    }

    /// The real path `path` names, starting from the real directory `base`: symlinks are
    /// followed (the last one too with `follow_last`), as `how` says.
    pub fn resolve_from(
        &self,
        base: &[String],
        path: &Path,
        follow_last: bool,
        how: Resolve,
    ) -> Result<Vec<String>, Fail> {
        let mut cur = base.to_vec();
        if path.is_absolute() {
            match how {
                Resolve::InRoot => cur.clear(),
                Resolve::Host => return Err(Fail::Outside),
            }
        }
        let mut todo: VecDeque<String> = names(path).collect();
        let mut links = 0;
        while let Some(name) = todo.pop_front() {
            if name == ".." {
                if cur.pop().is_none() && how == Resolve::Host {
                    return Err(Fail::Outside);
                }
                continue;
            }
            let last = todo.is_empty();
            let node = match &self.get_names(&cur).ok_or(Fail::Missing)?.kind {
                Kind::Dir(c) => c.get(&name).ok_or(Fail::Missing)?,
                _ => return Err(Fail::NotDir),
            };
            match &node.kind {
                Kind::Symlink(target) if !last || follow_last => {
                    links += 1;
                    if links > MAX_LINKS {
                        return Err(Fail::Loop);
                    }
                    if target.is_absolute() {
                        match how {
                            Resolve::InRoot => cur.clear(),
                            Resolve::Host => return Err(Fail::Outside),
                        }
                    }
                    for n in names(target).collect::<Vec<_>>().into_iter().rev() {
                        todo.push_front(n);
                    }
                }
                Kind::File(_) if !last => return Err(Fail::NotDir),
                _ => cur.push(name),
            }
        }
        Ok(cur)
    }

    /// The real path of `path` inside the tree, every symlink followed (an absolute one from
    /// the root, `..` stopping there); `None` if nothing is there.
    pub fn resolve(&self, path: &str) -> Option<String> {
        self.resolve_from(&[], Path::new(path), true, Resolve::InRoot)
            .ok()
            .map(|r| join(&r))
    }

    /// Adds the entry a tar names `path` (its names, without `.`/`..`/root), as `unpack_in`
    /// would write it into a directory: missing parents are made (0755), a symlink on the way is
    /// followed only where it stays inside, a file or symlink already there is replaced, a
    /// directory stays (with the new mode), and a hard link must point at something inside
    /// that is already there.
    pub fn insert(&mut self, path: &[String], entry: Entry, now: i64) -> Result<(), Fail> {
        let Some((name, parents)) = path.split_last() else {
            return Ok(());
        };
        let mut cur: Vec<String> = Vec::new();
        for p in parents {
            let next = match self.get_names(&cur).map(|n| &n.kind) {
                Some(Kind::Dir(c)) => c.get(p),
                _ => unreachable!("cur is a resolved directory"),
            };
            match next.map(|n| &n.kind) {
                None => {
                    self.dir_mut(&cur).insert(p.clone(), Node::dir(0o755, now));
                    cur.push(p.clone());
                }
                Some(Kind::Dir(_)) => cur.push(p.clone()),
                Some(Kind::Symlink(target)) => {
                    let target = target.clone();
                    cur = self.resolve_from(&cur, &target, true, Resolve::Host)?;
                    if !self.get_names(&cur).is_some_and(Node::is_dir) {
                        return Err(Fail::NotDir);
                    }
                }
                Some(Kind::File(_)) => return Err(Fail::NotDir),
            }
        }
        let node = match entry {
            Entry::Node(n) => n,
            Entry::HardLink(target) => {
                // Present and inside, with every link followed ...
                self.resolve_from(&[], &target, true, Resolve::Host)?;
                // ... and the entry itself is linked, not what a last symlink points at.
                let real = self.resolve_from(&[], &target, false, Resolve::Host)?;
                let node = self.get_names(&real).ok_or(Fail::Missing)?;
                if node.is_dir() {
                    return Err(Fail::LinkToDir);
                }
                let node = node.clone();
                if self.dir_mut(&cur).contains_key(name) {
                    return Err(Fail::Exists);
                }
                node
            }
        };
        let dir = self.dir_mut(&cur);
        match dir.get_mut(name) {
            Some(old) if old.is_dir() => {
                if !node.is_dir() {
                    return Err(Fail::Exists);
                }
                old.mode = node.mode;
                old.mtime = node.mtime;
            }
            Some(_) if node.is_dir() => return Err(Fail::Exists),
            _ => {
                dir.insert(name.clone(), node);
            }
        }
        Ok(())
    }

    /// Removes what `ignore` excludes (a directory goes whole unless a rule may bring back
    /// something below it).
    pub fn prune(&mut self, ignore: &berth_build::Ignore) {
        fn prune(node: &mut Node, rel: &str, ignore: &berth_build::Ignore) {
            let Kind::Dir(children) = &mut node.kind else {
                return;
            };
            children.retain(|name, child| {
                let path = format!("{rel}{name}");
                let keep = !ignore.excludes(&path);
                if child.is_dir() && (keep || ignore.may_reinclude_below(&path)) {
                    prune(child, &format!("{path}/"), ignore);
                    return true;
                }
                keep
            });
        }
        prune(&mut self.root, "", ignore);
    }

    /// The paths below the root matching `pattern` (a cleaned glob, `/` not matched by `*`),
    /// sorted; a matched directory is not searched further, and symlinks are not followed.
    pub fn glob(&self, m: &globset::GlobMatcher) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![(&self.root, String::new())];
        while let Some((dir, rel)) = stack.pop() {
            for (name, child) in dir.children() {
                let path = format!("{rel}{name}");
                if m.is_match(&path) {
                    out.push(path);
                } else if child.is_dir() {
                    stack.push((child, format!("{path}/")));
                }
            }
        }
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(t: &mut Tree, path: &str) -> Result<(), Fail> {
        let blob = super::super::blobs::Blobs::memory(path.as_bytes().to_vec());
        t.insert(&split(path), Entry::Node(Node::file(blob, 0o644, 1)), 7)
    }

    fn link(t: &mut Tree, path: &str, target: &str) -> Result<(), Fail> {
        t.insert(
            &split(path),
            Entry::Node(Node::symlink(target.into(), 1)),
            7,
        )
    }

    #[test]
    fn lookups_follow_links_inside_and_entries_never_go_through_links_out() {
        let mut t = Tree::new(0);
        file(&mut t, "src/main.c").unwrap();
        link(&mut t, "out", "/etc").unwrap();
        link(&mut t, "up", "../../..").unwrap();
        link(&mut t, "in", "src").unwrap();
        link(&mut t, "loop", "loop").unwrap();
        // Lookups: an absolute link starts at the root, `..` stops there.
        assert_eq!(t.resolve("up/src/main.c").as_deref(), Some("src/main.c"));
        assert_eq!(t.resolve("in/../in/main.c").as_deref(), Some("src/main.c"));
        assert_eq!(t.resolve("out/passwd"), None);
        assert_eq!(t.resolve("loop"), None);
        assert_eq!(t.resolve("/src/../../src").as_deref(), Some("src"));
        assert_eq!(t.resolve("src/main.c/x"), None);
        // Entries: through a link that stays inside, as an unpacked copy would; never out.
        file(&mut t, "in/new.c").unwrap();
        assert!(t.get("src/new.c").is_some());
        assert_eq!(file(&mut t, "out/passwd"), Err(Fail::Outside));
        assert_eq!(file(&mut t, "up/x"), Err(Fail::Outside));
        assert_eq!(file(&mut t, "loop/x"), Err(Fail::Loop));
        assert_eq!(file(&mut t, "src/main.c/x"), Err(Fail::NotDir));
        assert!(t.get("etc").is_none());
        // Parents are made; a file replaces a file, not a directory.
        file(&mut t, "a/b/c").unwrap();
        assert!(t.get("a/b").is_some_and(Node::is_dir));
        file(&mut t, "a/b/c").unwrap();
        assert_eq!(file(&mut t, "a/b"), Err(Fail::Exists));
        // Hard links: to something inside that is there, not to a directory, not out.
        let hard = |t: &mut Tree, path: &str, target: &str| {
            t.insert(&split(path), Entry::HardLink(target.into()), 7)
        };
        hard(&mut t, "h", "src/main.c").unwrap();
        assert!(matches!(t.get("h").unwrap().kind, Kind::File(_)));
        assert_eq!(hard(&mut t, "h2", "/etc/passwd"), Err(Fail::Outside));
        assert_eq!(hard(&mut t, "h3", "../x"), Err(Fail::Outside));
        assert_eq!(hard(&mut t, "h4", "nope"), Err(Fail::Missing));
        assert_eq!(hard(&mut t, "h5", "src"), Err(Fail::LinkToDir));
        assert_eq!(hard(&mut t, "h6", "out"), Err(Fail::Outside));
        assert_eq!(hard(&mut t, "h", "src/new.c"), Err(Fail::Exists));
    }
}
