//! The build context: the uploaded tar (plain or compressed), read once as it streams in and kept
//! as a tree in memory, with `.dockerignore` applied so excluded files never reach the build.
//!
//! A context is mostly needed for its checksums: a cached step only has to know that what it
//! would copy is what it copied last time. So the tar is not unpacked. Each entry goes into a
//! [`tree::Tree`] with its metadata and, for a regular file, the sha256 of its content computed
//! while it is read. Contents stay in memory up to 64 MiB for the whole context
//! (`blobs::MEMORY_LIMIT`; files `.dockerignore` excludes count until the stream ends); past
//! that they go to one spill file, written sequentially. The Dockerfile and `.dockerignore` are
//! files of the tree like the others, read once the stream has ended, so they may come anywhere
//! in the tar; the ignore rules are applied to the tree then.
//!
//! COPY, ADD and `RUN --mount=type=bind` look sources up in the tree (symlinks followed, never
//! out of it) and compute their cache keys from it. Only a step the cache does not have writes
//! the sources it uses to disk ([`Context::materialise`]: that subtree, once per build, through
//! [`RootDir`], into this build's private directory), then copies or mounts them from there as
//! from any directory, so that steps that run copy exactly as they did from an unpacked context.
//! A fully cached rebuild, or a build whose steps use no context files, writes nothing of a
//! context under the bound to disk; the private directory is not even made.
//!
//! Hostile input is held to what unpacking it into a directory allowed: names with `..` are
//! skipped and absolute ones taken as relative, entries through a symlink that leads out (or
//! hard links to anything outside or absent) fail the upload, device nodes are dropped, and
//! symlinks are stored as they are but resolve inside the tree, as [`RootDir`] resolves them.

mod blobs;
mod materialise;
pub mod tree;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, BufReader, Read};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use berth_build::Ignore;
use berth_core::rootfs::RootDir;

pub use materialise::Written;
use tree::{Entry, Kind, Node, Tree};

use crate::error::{Error, Result};

/// A context, as a tree in memory.
pub struct Context {
    /// This build's private directory: the spill file and what is materialised go there; it
    /// is made only when something is written.
    dir: PathBuf,
    tree: Tree,
    blobs: blobs::Blobs,
    /// The Dockerfile's text.
    pub dockerfile: String,
    /// The Dockerfile's name in the context (for messages).
    pub dockerfile_name: String,
    /// The rules that were applied.
    pub ignore: Ignore,
    /// Secrets the client sent along (berth's CLI), by id.
    pub secrets: BTreeMap<String, Vec<u8>>,
    on_disk: Mutex<OnDisk>,
}

/// The subtrees written so far (real paths, none below another), and how much that was.
#[derive(Default)]
struct OnDisk {
    done: BTreeSet<String>,
    written: Written,
}

/// Where `berth build --secret` puts secrets in the context it sends; taken out before the
/// build sees the context.
pub const SECRETS_DIR: &str = ".berth-build-secrets";

/// Reads the context `tar` into memory (`dir`, this build's private directory, is only made if
/// the context spills over), reads `dockerfile` from it and applies `<dockerfile>.dockerignore`
/// or `.dockerignore`. With `take_secrets`, [`SECRETS_DIR`] is moved out of the context into
/// [`Context::secrets`]. Blocking.
pub fn unpack(tar: impl Read, dir: &Path, dockerfile: &str, take_secrets: bool) -> Result<Context> {
    unpack_bounded(tar, dir, dockerfile, take_secrets, blobs::MEMORY_LIMIT)
}

/// [`unpack`], keeping up to `limit` bytes of contents in memory.
fn unpack_bounded(
    mut tar: impl Read,
    dir: &Path,
    dockerfile: &str,
    take_secrets: bool,
    limit: u64,
) -> Result<Context> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut tree = Tree::new(now);
    let mut blobs = blobs::Blobs::new(dir.join("spill"), limit);
    let read = read_entries(&mut tar, &mut tree, &mut blobs, now);
    // The client is still sending (tar padding, or all of a context refused early): it must
    // be able to finish, or it sees a broken pipe instead of our answer.
    let _ = io::copy(&mut tar, &mut io::sink());
    read?;
    let mut secrets = BTreeMap::new();
    if take_secrets
        && tree.get(SECRETS_DIR).is_some_and(Node::is_dir)
        && let Some(dir) = tree.take(SECRETS_DIR)
    {
        for (name, child) in dir.children() {
            if let Kind::File(b) = &child.kind {
                let v = blobs
                    .read(b, u64::MAX)
                    .map_err(|e| Error::internal("reading secrets", e))?;
                secrets.insert(name.clone(), v.unwrap_or_default());
            }
        }
    }
    let name = if dockerfile.is_empty() {
        "Dockerfile"
    } else {
        dockerfile
    };
    let name = berth_build::ignore::clean(name);
    let read = |f: &str| -> Option<String> {
        let real = tree.resolve(f)?;
        let Kind::File(b) = &tree.get(&real)?.kind else {
            return None;
        };
        String::from_utf8(blobs.read(b, DOCKERFILE_LIMIT).ok()??).ok()
    };
    let Some(text) = read(&name) else {
        return Err(Error::invalid(format!(
            "Cannot locate specified Dockerfile: {name}"
        )));
    };
    let ignore_text = [format!("{name}.dockerignore"), ".dockerignore".into()]
        .iter()
        .find_map(|f| read(f))
        .unwrap_or_default();
    let ignore = Ignore::parse(&ignore_text).map_err(Error::invalid)?;
    if !ignore.is_empty() {
        tree.prune(&ignore);
    }
    Ok(Context {
        dir: dir.to_path_buf(),
        tree,
        blobs,
        dockerfile: text,
        dockerfile_name: name,
        ignore,
        secrets,
        on_disk: Mutex::new(OnDisk::default()),
    })
}

/// A tar entry's path as names: `.`, `/` and empty names dropped; `None` (skip the entry) if
/// one is `..`.
fn entry_names(path: &Path) -> Option<Vec<String>> {
    let mut names = Vec::new();
    for c in path.components() {
        match c {
            Component::Prefix(_) | Component::RootDir | Component::CurDir => {}
            Component::ParentDir => return None,
            Component::Normal(n) => names.push(n.to_string_lossy().into_owned()),
        }
    }
    Some(names)
}

/// Adds the entries of the (possibly compressed) tar `tar` to `tree`, their contents to `blobs`.
fn read_entries(
    tar: &mut dyn Read,
    tree: &mut Tree,
    blobs: &mut blobs::Blobs,
    now: i64,
) -> Result<()> {
    let reader = crate::compress::decompress(BufReader::new(tar))
        .map_err(|e| Error::invalid(format!("reading build context: {e}")))?;
    let mut archive = tar::Archive::new(reader);
    let entries = archive
        .entries()
        .map_err(|e| Error::invalid(format!("reading build context: {e}")))?;
    for entry in entries {
        let mut entry = match entry {
            Ok(e) => e,
            // The docker CLI's `-f -` context ends right after the last file's data, without
            // padding or end blocks: what was there has been read whole.
            Err(e)
                if e.kind() == io::ErrorKind::UnexpectedEof
                    || e.to_string() == "unexpected EOF during skip" =>
            {
                break;
            }
            Err(e) => return Err(Error::invalid(format!("reading build context: {e}"))),
        };
        let kind = entry.header().entry_type();
        // Device nodes have no business in a context; extension headers are not files.
        if matches!(kind, tar::EntryType::Char | tar::EntryType::Block)
            || kind.is_pax_global_extensions()
            || kind.is_pax_local_extensions()
            || kind.is_gnu_longname()
            || kind.is_gnu_longlink()
        {
            continue;
        }
        let bad = |what: &dyn std::fmt::Display| {
            Error::invalid(format!("unpacking build context: {what}"))
        };
        let path = entry
            .path()
            .map_err(|e| bad(&format!("invalid path in entry header: {e}")))?
            .into_owned();
        let Some(names) = entry_names(&path) else {
            continue;
        };
        if names.is_empty() {
            continue;
        }
        let header = entry.header();
        let mtime = header.mtime().map_or(now, |t| t as i64);
        let mode = header.mode().ok();
        let old_dir = header.as_ustar().is_none() && entry.path_bytes().ends_with(b"/");
        let link = || -> Result<PathBuf> {
            match entry.link_name() {
                Ok(Some(l)) if l.iter().count() > 0 => Ok(l.into_owned()),
                _ => Err(bad(&format!("{}: a link without a target", path.display()))),
            }
        };
        let new = if kind.is_dir() || old_dir {
            Entry::Node(Node::dir(mode.unwrap_or(0o755), mtime))
        } else if kind.is_symlink() {
            Entry::Node(Node::symlink(link()?, mtime))
        } else if kind.is_hard_link() {
            Entry::HardLink(link()?)
        } else {
            // Anything else is a regular file (as POSIX wants of unknown types, and as
            // unpacking it did), FIFOs included.
            let size = entry.size();
            let blob = blobs
                .ingest(&mut entry, size)
                .map_err(|e| bad(&format!("{}: {e}", path.display())))?;
            Entry::Node(Node::file(blob, mode.unwrap_or(0o644), mtime))
        };
        tree.insert(&names, new, now)
            .map_err(|f| bad(&format!("{}: {f}", path.display())))?;
    }
    Ok(())
}

impl Context {
    /// Where materialised sources go: the context's root on disk.
    fn root(&self) -> PathBuf {
        self.dir.join("root")
    }

    /// The real path (no symlinks, relative, "" for the root) `path` names, its symlinks
    /// followed inside the context; `None` if nothing is there.
    pub fn resolve(&self, path: &str) -> Option<String> {
        self.tree.resolve(path)
    }

    /// The entry at real path `real` (a last symlink is not followed).
    pub fn node(&self, real: &str) -> Option<&Node> {
        self.tree.get(real)
    }

    /// The paths matching `m`, sorted (see [`Tree::glob`]).
    pub fn glob(&self, m: &globset::GlobMatcher) -> Vec<String> {
        self.tree.glob(m)
    }

    /// Visits the entry at real path `real` and what is below it that `ex` does not exclude
    /// (`ex` sees paths relative to `real`), parents first and names in byte order; `f` gets
    /// each entry's path relative to `real` (`""`, then `/a`, `/a/b`, ...).
    pub fn walk(&self, real: &str, ex: &Ignore, f: &mut dyn FnMut(&str, &Node)) {
        fn walk(n: &Node, at: &str, rel: &str, ex: &Ignore, f: &mut dyn FnMut(&str, &Node)) {
            f(at, n);
            for (name, child) in n.children() {
                let r = format!("{rel}{name}");
                if !ex.excludes(&r) {
                    walk(child, &format!("{at}/{name}"), &format!("{r}/"), ex, f);
                }
            }
        }
        if let Some(n) = self.tree.get(real) {
            walk(n, "", "", ex, f);
        }
    }

    /// The content of the regular file at real path `real`.
    pub fn open(&self, real: &str) -> io::Result<Box<dyn Read + '_>> {
        match self.tree.get(real).map(|n| &n.kind) {
            Some(Kind::File(b)) => self.blobs.reader(b),
            _ => Err(io::ErrorKind::NotFound.into()),
        }
    }

    /// The host path of real path `real`, with it and everything below it written to disk
    /// first unless an earlier step did so. Blocking.
    pub fn materialise(&self, real: &str) -> io::Result<PathBuf> {
        let root = self.root();
        let host = if real.is_empty() {
            root.clone()
        } else {
            root.join(real)
        };
        let node = self
            .tree
            .get(real)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        let mut on_disk = self.on_disk.lock().expect("context lock");
        if on_disk.done.iter().any(|d| materialise::is_within(real, d)) {
            return Ok(host);
        }
        std::fs::create_dir_all(&root)?;
        let dir = RootDir::open(&root)?;
        let mut written = Written::default();
        materialise::write(node, real, &self.blobs, &dir, &on_disk.done, &mut written)?;
        on_disk.done.retain(|d| !materialise::is_within(d, real));
        on_disk.done.insert(real.to_string());
        on_disk.written.entries += written.entries;
        on_disk.written.bytes += written.bytes;
        tracing::debug!(
            path = real,
            entries = written.entries,
            bytes = written.bytes,
            "build context: sources written to disk"
        );
        Ok(host)
    }

    /// What was written to disk so far: spilled contents aside, nothing before a step needs
    /// its sources there.
    pub fn written(&self) -> Written {
        self.on_disk.lock().expect("context lock").written
    }

    /// Whether contents spilled over to the spill file.
    pub fn spilled(&self) -> bool {
        self.blobs.spilled()
    }
}

/// The most of a Dockerfile or .dockerignore berth reads.
const DOCKERFILE_LIMIT: u64 = 16 << 20;

/// The host path of `path` inside `root` with symlinks followed but kept inside `root` (a link
/// to `/etc` means `<root>/etc`), as Docker resolves paths in a context or a container
/// filesystem. `None` if it does not exist. Only for trees nothing else writes to.
pub fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    RootDir::open(root).ok()?.host_path(path).ok()?
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    /// A tar entry; names are written as they are (`..` and absolute ones included).
    enum E<'a> {
        File(&'a str, &'a str),
        Mode(&'a str, &'a str, u32),
        Dir(&'a str, u32),
        Link(&'a str, &'a str),
        Hard(&'a str, &'a str),
        Fifo(&'a str),
        Char(&'a str),
    }

    fn tar(entries: &[E]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for e in entries {
            let mut h = tar::Header::new_gnu();
            let (name, kind, mode, data, link) = match *e {
                E::File(n, d) => (n, tar::EntryType::Regular, 0o644, d, None),
                E::Mode(n, d, m) => (n, tar::EntryType::Regular, m, d, None),
                E::Dir(n, m) => (n, tar::EntryType::Directory, m, "", None),
                E::Link(n, t) => (n, tar::EntryType::Symlink, 0o777, "", Some(t)),
                E::Hard(n, t) => (n, tar::EntryType::Link, 0o644, "", Some(t)),
                E::Fifo(n) => (n, tar::EntryType::Fifo, 0o644, "", None),
                E::Char(n) => (n, tar::EntryType::Char, 0o644, "", None),
            };
            h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            if let Some(t) = link {
                h.as_old_mut().linkname[..t.len()].copy_from_slice(t.as_bytes());
            }
            h.set_entry_type(kind);
            h.set_mode(mode);
            h.set_mtime(1_000_000);
            h.set_size(data.len() as u64);
            h.set_cksum();
            b.append(&h, data.as_bytes()).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn ignore_rules_remove_files_and_symlinks_stay_inside() {
        let dir = tempfile::tempdir().unwrap();
        let build = dir.path().join("build");
        let root = build.join("root");
        let tar = tar(&[
            E::File("Dockerfile", "FROM scratch\n"),
            E::File(".dockerignore", "*.log\nsecret\n!keep.log\n"),
            E::File("a.log", "x"),
            E::File("keep.log", "x"),
            E::File("secret/key", "x"),
            E::File("src/main", "x"),
            E::Link("out", "/etc"),
            E::Link("up", "../../.."),
        ]);
        let ctx = unpack(&tar[..], &build, "", false).unwrap();
        assert_eq!(ctx.dockerfile, "FROM scratch\n");
        assert!(!build.exists(), "nothing is written before a step needs it");
        assert_eq!(ctx.resolve("a.log"), None);
        assert_eq!(ctx.resolve("up/src/main").as_deref(), Some("src/main"));
        assert_eq!(ctx.resolve("out/passwd"), None);
        assert_eq!(ctx.materialise("").unwrap(), root);
        assert!(!root.join("a.log").exists());
        assert!(root.join("keep.log").exists());
        assert!(!root.join("secret").exists());
        assert!(root.join("src/main").exists());
        // A link to /etc resolves to <root>/etc, which does not exist: never the host's.
        assert_eq!(resolve(&root, "out/passwd"), None);
        assert_eq!(resolve(&root, "up/src/main"), Some(root.join("src/main")));
        let e = unpack(&tar[..], &dir.path().join("other"), "nope", false)
            .err()
            .unwrap();
        assert!(
            e.message
                .contains("Cannot locate specified Dockerfile: nope")
        );
    }

    #[test]
    fn a_dockerfile_and_dockerignore_that_come_last_still_apply() {
        let dir = tempfile::tempdir().unwrap();
        let tar = tar(&[
            E::File("a.log", "x"),
            E::File("src/b.log", "x"),
            E::File("src/main.c", "x"),
            E::File("z.txt", "x"),
            E::File(".dockerignore", "*.log\n"),
            E::File("app.df.dockerignore", "**/*.log\nz.txt\n"),
            E::Link("df-link", "app.df"),
            E::File("app.df", "FROM scratch\nCOPY . /\n"),
        ]);
        let ctx = unpack(&tar[..], dir.path(), "./df-link", false).unwrap();
        assert_eq!(ctx.dockerfile, "FROM scratch\nCOPY . /\n");
        assert_eq!(ctx.dockerfile_name, "df-link");
        // `<Dockerfile>.dockerignore` is `df-link.dockerignore`, absent: `.dockerignore` rules.
        assert_eq!(ctx.resolve("a.log"), None);
        assert!(ctx.resolve("src/b.log").is_some());
        let ctx = unpack(&tar[..], dir.path(), "app.df", false).unwrap();
        for gone in ["a.log", "src/b.log", "z.txt"] {
            assert_eq!(ctx.resolve(gone), None, "{gone}");
        }
        assert!(ctx.resolve("src/main.c").is_some());
        assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
    }

    #[test]
    fn hostile_entries_are_refused_or_dropped_as_unpacking_them_was() {
        let dir = tempfile::tempdir().unwrap();
        let ok = |entries: Vec<E>| {
            let mut all = vec![E::File("Dockerfile", "FROM scratch\n")];
            all.extend(entries);
            unpack(&tar(&all)[..], &dir.path().join("b"), "", false)
        };
        let ctx = ok(vec![
            E::File("../escape", "x"),
            E::File("a/../../escape2", "x"),
            E::File("/abs/file", "x"),
            E::Char("tty"),
            E::Fifo("fifo"),
            E::Link("in", "abs"),
            E::File("in/through", "x"),
            E::Hard("hard", "abs/file"),
        ])
        .unwrap();
        assert_eq!(ctx.resolve("escape"), None);
        assert_eq!(ctx.resolve("escape2"), None);
        assert_eq!(ctx.resolve("tty"), None);
        assert!(ctx.resolve("abs/file").is_some());
        assert!(ctx.resolve("abs/through").is_some());
        assert!(matches!(ctx.node("fifo").unwrap().kind, Kind::File(_)));
        let mut hard = Vec::new();
        ctx.open("hard").unwrap().read_to_end(&mut hard).unwrap();
        assert_eq!(hard, b"x");
        for (bad, why) in [
            (
                vec![E::Link("out", "/etc"), E::File("out/passwd", "x")],
                "out/passwd: trying to unpack outside of destination path",
            ),
            (
                vec![E::Link("up", ".."), E::File("up/x", "x")],
                "outside of destination",
            ),
            (
                vec![E::Hard("h", "/etc/passwd")],
                "h: trying to unpack outside",
            ),
            (vec![E::Hard("h", "../etc/passwd")], "outside"),
            (vec![E::Hard("h", "nope")], "h: no such file"),
            (
                vec![E::Dir("d", 0o755), E::Hard("h", "d")],
                "hard link to a directory",
            ),
            (
                vec![E::Dir("d", 0o755), E::File("d", "x")],
                "d: file exists",
            ),
        ] {
            let e = ok(bad).err().expect(why);
            assert!(e.message.contains(why), "{why}: {}", e.message);
            assert!(!e.message.contains("/tmp"), "no host path: {}", e.message);
        }
        assert!(!dir.path().join("b").exists());
    }

    #[test]
    fn only_the_sources_asked_for_are_written_and_only_once() {
        let dir = tempfile::tempdir().unwrap();
        let build = dir.path().join("b");
        let tar = tar(&[
            E::File("Dockerfile", "FROM scratch\n"),
            E::Dir("files", 0o750),
            E::Mode("files/run.sh", "#!/bin/sh\n", 0o4755),
            E::File("files/sub/a", "a"),
            E::Link("files/l", "sub/a"),
            E::File("other", "o"),
        ]);
        let ctx = unpack(&tar[..], &build, "", false).unwrap();
        let files = ctx.materialise("files").unwrap();
        let root = build.join("root");
        assert_eq!(files, root.join("files"));
        assert!(!root.join("other").exists() && !root.join("Dockerfile").exists());
        let meta = |p: &str| std::fs::symlink_metadata(root.join(p)).unwrap();
        assert_eq!(meta("files").mode(), libc::S_IFDIR | 0o750);
        assert_eq!(meta("files").mtime(), 1_000_000);
        assert_eq!(meta("files/run.sh").mode(), libc::S_IFREG | 0o4755);
        assert_eq!(meta("files/run.sh").mtime(), 1_000_000);
        assert_eq!(meta("files/sub").mode() & 0o7777, 0o755);
        assert!(meta("files/l").is_symlink());
        assert_eq!(
            std::fs::read_link(root.join("files/l")).unwrap(),
            Path::new("sub/a")
        );
        let first = ctx.written();
        assert_eq!((first.entries, first.bytes), (5, 11));
        // Below what is there: nothing more; the whole context: the rest, not `files` again.
        ctx.materialise("files/sub").unwrap();
        assert_eq!(ctx.written(), first);
        assert_eq!(ctx.materialise("").unwrap(), root);
        let all = ctx.written();
        assert_eq!((all.entries, all.bytes), (5 + 3, 11 + 14));
        assert_eq!(meta("").mode(), libc::S_IFDIR | 0o755);
        assert_eq!(
            std::fs::read_to_string(root.join("other")).unwrap(),
            "o",
            "contents come back whole"
        );
        ctx.materialise("nope").unwrap_err();
    }

    #[test]
    fn a_context_past_the_memory_bound_spills_to_one_file_and_reads_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let build = dir.path().join("b");
        let body = "x".repeat(1000);
        let tar = tar(&[
            E::File("f1", &body),
            E::File("f2", &body),
            E::File("Dockerfile", "FROM scratch\nCOPY . /\n"),
            E::File(".dockerignore", "f1\n"),
        ]);
        let ctx = unpack_bounded(&tar[..], &build, "", false, 1500).unwrap();
        assert_eq!(ctx.dockerfile, "FROM scratch\nCOPY . /\n");
        assert!(ctx.spilled());
        let on_disk: Vec<_> = std::fs::read_dir(&build).unwrap().flatten().collect();
        assert_eq!(on_disk.len(), 1, "only the spill file: {on_disk:?}");
        let root = ctx.materialise("").unwrap();
        assert_eq!(std::fs::read_to_string(root.join("f2")).unwrap(), body);
        assert!(!root.join("f1").exists());
    }

    #[test]
    fn random_hostile_tars_never_panic_and_write_only_inside() {
        // Entries drawn from a few names, `..`, absolute paths and links to them, in every
        // order: each tar is refused or read, and what it writes stays in its directory.
        let names = [
            "a", "b", "..", "/", "a/b", "/etc", "../a", "l", "l/x", "a/l",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as usize % n
        };
        let dir = tempfile::tempdir().unwrap();
        let mut read = 0;
        for i in 0..600 {
            let mut entries = vec![E::File("Dockerfile", "FROM scratch\n")];
            for _ in 0..1 + next(6) {
                let (n, t) = (names[next(names.len())], names[next(names.len())]);
                entries.push(match next(5) {
                    0 => E::File(n, "x"),
                    1 => E::Dir(n, 0o755),
                    2 => E::Link(n, t),
                    3 => E::Hard(n, t),
                    _ => E::Fifo(n),
                });
            }
            let build = dir.path().join(format!("b{i}"));
            let Ok(ctx) = unpack(&tar(&entries)[..], &build, "", false) else {
                continue;
            };
            read += 1;
            let _ = ctx.materialise("");
            if build.exists() {
                let beside: Vec<_> = std::fs::read_dir(&build).unwrap().flatten().collect();
                assert_eq!(beside.len(), 1, "only root/ in the build's directory: {i}");
            }
            for n in ["etc", "a", "b", "l", "x"] {
                assert!(!dir.path().join(n).exists(), "{n} written outside: {i}");
            }
        }
        assert!(read > 100, "only {read} tars were read");
        let made: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert!(
            made.iter()
                .all(|e| e.file_name().to_string_lossy().starts_with('b'))
        );
    }

    #[test]
    fn secrets_are_taken_out_and_links_among_them_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let tar = tar(&[
            E::File("Dockerfile", "FROM scratch\n"),
            E::File(".berth-build-secrets/tok", "s3cret"),
            E::Link(".berth-build-secrets/host", "/etc/hostname"),
        ]);
        let ctx = unpack(&tar[..], dir.path(), "", true).unwrap();
        assert_eq!(
            ctx.secrets.iter().collect::<Vec<_>>(),
            [(&"tok".to_string(), &b"s3cret".to_vec())]
        );
        assert_eq!(ctx.resolve(SECRETS_DIR), None);
        let ctx = unpack(&tar[..], dir.path(), "", false).unwrap();
        assert!(ctx.secrets.is_empty() && ctx.resolve(SECRETS_DIR).is_some());
    }
}
