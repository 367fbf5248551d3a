//! COPY and ADD (and the directory a WORKDIR creates): sources from the context, another stage
//! or an image, copied into a fresh layer directory that becomes the step's layer. The cache
//! key includes a checksum of what is copied (paths, types, modes, owners, contents), never
//! mtimes. Context sources are looked up and hashed in the context's tree in memory; they are
//! written to disk only when the step runs.

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use berth_build::CopySpec;
use berth_image::Image;
use sha2::{Digest as _, Sha256};

use super::Builder;
use berth_core::rootfs::RootDir;

use super::context::tree::{Kind, Node};
use super::context::{Context, resolve};
use super::stage::{Layer, State};
use crate::error::{Error, Result};

/// A read-only overlay view of an image, unmounted on drop.
pub struct View {
    dir: PathBuf,
}

impl View {
    pub fn mount(b: &Builder, image: Option<&Image>) -> Result<View> {
        let dir = b.workdir();
        fs::create_dir_all(&dir).map_err(|e| Error::internal("creating mount point", e))?;
        let Some(chain) = image.and_then(|i| i.chain_id.as_ref()) else {
            // `scratch`, or an image without layers: an empty directory is the whole view.
            return Ok(View { dir });
        };
        // A stack of layers is one read-only overlay.
        for m in b
            .images
            .snapshots()
            .view(Some(chain))
            .map_err(Error::from_kinded)?
        {
            nix::mount::mount(
                Some(m.source.as_str()),
                &dir,
                Some(m.kind.as_str()),
                nix::mount::MsFlags::MS_RDONLY,
                Some(m.options.join(",").as_str()),
            )
            .map_err(|e| Error::internal("mounting an image for COPY", e))?;
        }
        Ok(View { dir })
    }

    pub fn root(&self) -> &Path {
        &self.dir
    }
}

impl Drop for View {
    fn drop(&mut self) {
        let _ = nix::mount::umount2(&self.dir, nix::mount::MntFlags::MNT_DETACH);
        let _ = fs::remove_dir(&self.dir);
    }
}

/// Where a source is: in the build context (a real path of its tree, on disk only once the step
/// runs) or on the host (in a read-only view of a stage or an image).
#[derive(Debug)]
enum Src {
    Context(String),
    Host(PathBuf),
}

impl Src {
    fn is_symlink(&self, ctx: &Context) -> bool {
        match self {
            Src::Context(p) => ctx.node(p).is_some_and(Node::is_symlink),
            Src::Host(p) => p.is_symlink(),
        }
    }

    /// Whether it is a directory, a symlink followed.
    fn is_dir(&self, ctx: &Context) -> bool {
        match self {
            Src::Context(p) => ctx
                .resolve(p)
                .and_then(|r| ctx.node(&r).map(Node::is_dir))
                .unwrap_or(false),
            Src::Host(p) => p.is_dir(),
        }
    }

    fn open<'a>(&self, ctx: &'a Context) -> io::Result<Box<dyn Read + 'a>> {
        match self {
            Src::Context(p) => ctx.open(p),
            Src::Host(p) => Ok(Box::new(fs::File::open(p)?)),
        }
    }

    /// The sha256 of a regular file.
    fn sha256(&self, ctx: &Context) -> io::Result<[u8; 32]> {
        match self {
            Src::Context(p) => match ctx.node(p).map(|n| &n.kind) {
                Some(Kind::File(b)) => Ok(b.sha256),
                _ => Err(io::ErrorKind::NotFound.into()),
            },
            Src::Host(p) => file_sha256(p),
        }
    }

    /// Its host path: a context source is written to disk first (once per build).
    fn host(&self, ctx: &Context) -> io::Result<PathBuf> {
        match self {
            Src::Context(p) => ctx.materialise(p),
            Src::Host(p) => Ok(p.clone()),
        }
    }
}

fn file_sha256(p: &Path) -> io::Result<[u8; 32]> {
    let mut h = Sha256::new();
    io::copy(&mut fs::File::open(p)?, &mut h)?;
    Ok(h.finalize().into())
}

/// One thing to copy: a source file or tree, or literal content (a heredoc), to a path in the
/// layer.
enum Item {
    Path {
        src: Src,
        dest: String,
    },
    /// A download: mode 0600 (unless --chmod) and the server's mtime, as Docker writes it.
    Remote {
        src: PathBuf,
        dest: String,
        mtime: Option<i64>,
    },
    Content {
        data: Vec<u8>,
        dest: String,
    },
    Archive {
        src: Src,
        dest: String,
    },
}

/// A heredoc source (`COPY <<EOF /dst`), as a file item; `None` for other sources.
fn heredoc(
    st: &State<'_>,
    spec: &CopySpec,
    raw: &str,
    into: impl Fn(&str) -> String,
) -> Result<Option<Item>> {
    let Some(h) = raw
        .strip_prefix("<<")
        .map(|n| {
            n.trim_start_matches('-')
                .trim_matches(|c| c == '"' || c == '\'')
        })
        .and_then(|n| spec.heredocs.iter().find(|h| h.name == n))
    else {
        return Ok(None);
    };
    let content = if h.expand {
        st.expand(&literal_quotes(&h.content, st.escape))?
    } else {
        h.content.clone()
    };
    Ok(Some(Item::Content {
        data: content.into_bytes(),
        dest: into(&h.name),
    }))
}

/// An `ADD` of a URL: downloaded to `file`, checked against `checksum` when given.
async fn download(
    src: &str,
    file: PathBuf,
    checksum: Option<&str>,
    into: impl Fn(&str) -> String,
) -> Result<Item> {
    let got = super::remote::fetch(src, &file).await?;
    if let Some(want) = checksum {
        let want = want.strip_prefix("sha256:").ok_or_else(|| {
            Error::invalid(format!("unsupported checksum {want:?}: use sha256:<hex>"))
        })?;
        if want != got.sha256 {
            return Err(Error::invalid(format!(
                "ADD {src}: checksum mismatch: expected sha256:{want}, got sha256:{}",
                got.sha256
            )));
        }
    }
    Ok(Item::Remote {
        src: file,
        dest: into(&got.name),
        mtime: got.mtime,
    })
}

/// `COPY` and `ADD` (`add`): the sources are resolved and hashed for the cache key; on a miss
/// the layer is assembled from them.
pub async fn copy(st: &mut State<'_>, spec: &CopySpec, add: bool) -> Result<()> {
    let what = if add { "ADD" } else { "COPY" };
    let b = st.shared.builder.clone();
    let dest_raw = st.expand(&spec.dest)?;
    let workdir = st.config.config.working_dir.clone();
    let dest_abs = if dest_raw.starts_with('/') {
        dest_raw.clone()
    } else {
        format!("{}/{}", workdir.trim_end_matches('/'), dest_raw)
    };
    let dest_dir_syntax = dest_raw.ends_with('/') || dest_raw == "." || dest_raw.ends_with("/.");
    // Where sources come from.
    let from = spec.from.as_deref().map(|f| st.expand(f)).transpose()?;
    let ctx = st.shared.ctx.clone();
    let mut _from_view = None;
    // `None`: the context.
    let src_root: Option<PathBuf> = match &from {
        None => None,
        Some(name) => {
            let image = st.source_image(name, || {
                Error::not_found(format!(
                    "{what} --from={name}: no such stage, and the image is not here"
                ))
            })?;
            let v = View::mount(&b, image.as_ref())?;
            let root = v.root().to_path_buf();
            _from_view = Some(v);
            Some(root)
        }
    };
    let lookup = |p: &str| match &src_root {
        None => ctx.resolve(p).map(Src::Context),
        Some(root) => resolve(root, p).map(Src::Host),
    };
    let dest_view = View::mount(&b, st.image.as_ref())?;
    let (uid, gid) = match &spec.chown {
        None => (0, 0),
        Some(c) => chown(&st.expand(c)?, dest_view.root())?,
    };
    let mode = spec
        .chmod
        .as_deref()
        .map(|m| {
            u32::from_str_radix(m, 8)
                .ok()
                .filter(|m| *m <= 0o7777)
                .ok_or_else(|| Error::invalid(format!("invalid chmod parameter: {m}")))
        })
        .transpose()?;
    let excludes = berth_build::Ignore::parse(&spec.exclude.join("\n")).map_err(Error::invalid)?;
    // Sources.
    let mut items = Vec::new();
    let mut downloads = Cleanup(Vec::new());
    let count = spec.sources.len();
    for raw in &spec.sources {
        let into = |name: &str| {
            if dest_dir_syntax || count > 1 {
                format!("{}/{name}", dest_abs.trim_end_matches('/'))
            } else {
                dest_abs.clone()
            }
        };
        if let Some(item) = heredoc(st, spec, raw, into)? {
            items.push(item);
            continue;
        }
        let src = st.expand(raw)?;
        if add && (src.starts_with("git@") || src.ends_with(".git")) {
            return Err(Error::new(
                berth_core::ErrorKind::NotImplemented,
                format!("ADD of a git repository ({src}) is not supported by berth yet"),
            ));
        }
        if add && (src.starts_with("http://") || src.starts_with("https://")) {
            let file = b.workdir().with_extension("download");
            downloads.0.push(file.clone());
            items.push(download(&src, file, spec.checksum.as_deref(), into).await?);
            continue;
        }
        if spec.checksum.is_some() {
            return Err(Error::invalid(format!(
                "ADD --checksum is only for URL sources, not {src}"
            )));
        }
        let matches: Vec<(Src, String)> = if src.contains(['*', '?', '[']) {
            let m = matcher(&src)?;
            match &src_root {
                None => ctx
                    .glob(&m)
                    .into_iter()
                    .map(|p| (Src::Context(p.clone()), p))
                    .collect(),
                Some(root) => glob(root, &m)
                    .into_iter()
                    .map(|(p, name)| (Src::Host(p), name))
                    .collect(),
            }
        } else {
            match lookup(&src) {
                Some(p) => vec![(p, berth_build::ignore::clean(&src))],
                None => return Err(missing(st, what, &src, from.is_none())),
            }
        };
        if matches.is_empty() {
            return Err(missing(st, what, &src, from.is_none()));
        }
        let many = count > 1 || matches.len() > 1 || src.contains(['*', '?', '[']);
        for (path, rel) in matches {
            // A source that is a symlink is followed (inside the source root) and copied under
            // its own name, as Docker does; links further down are copied as links.
            let path = if path.is_symlink(&ctx) {
                lookup(&rel).ok_or_else(|| missing(st, what, &rel, from.is_none()))?
            } else {
                path
            };
            let is_dir = path.is_dir(&ctx);
            let base = Path::new(&rel)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            // --link copies into an empty layer: what the image has at the destination is
            // not looked at.
            let existing_dir = !spec.link && dest_is_dir(&dest_view, &dest_abs);
            let into_dir = dest_dir_syntax || many || is_dir || existing_dir;
            if many && !dest_dir_syntax && !existing_dir {
                return Err(Error::invalid(format!(
                    "When using {what} with more than one source file, the destination must be a directory and end with a /"
                )));
            }
            let target = if spec.parents {
                format!("{}/{}", dest_abs.trim_end_matches('/'), rel)
            } else if is_dir {
                dest_abs.clone()
            } else if into_dir {
                format!("{}/{}", dest_abs.trim_end_matches('/'), base)
            } else {
                dest_abs.clone()
            };
            if add && !is_dir && path.open(&ctx).is_ok_and(is_archive) {
                items.push(Item::Archive {
                    src: path,
                    dest: dest_abs.clone(),
                });
            } else {
                items.push(Item::Path {
                    src: path,
                    dest: target,
                });
            }
        }
    }
    // Destinations resolved against the image's symlinks (`/bin` -> `usr/bin`); with --link
    // they are taken as written, and the layer has real directories there.
    let view_root = dest_view.root().to_path_buf();
    let place = |dest: &str| {
        if spec.link {
            Ok(dest.to_string())
        } else {
            real_dest(&view_root, dest)
        }
    };
    let items: Vec<Item> = items
        .into_iter()
        .map(|i| {
            Ok(match i {
                Item::Path { src, dest } => Item::Path {
                    src,
                    dest: place(&dest)?,
                },
                Item::Content { data, dest } => Item::Content {
                    data,
                    dest: place(&dest)?,
                },
                Item::Archive { src, dest } => Item::Archive {
                    src,
                    dest: place(&dest)?,
                },
                Item::Remote { src, dest, mtime } => Item::Remote {
                    src,
                    dest: place(&dest)?,
                    mtime,
                },
            })
        })
        .collect::<Result<_>>()?;
    let (ex, c) = (excludes.clone(), ctx.clone());
    let (items, checksum) = crate::blocking::run("hashing COPY sources", move || {
        let sum = checksum(&items, &c, uid, gid, mode, &ex)
            .map_err(|e| Error::internal("reading COPY sources", e))?;
        Ok((items, sum))
    })
    .await?;
    let kind = match items.as_slice() {
        [Item::Path { src, .. }] if src.is_dir(&ctx) => "dir",
        [_] => "file",
        _ => "multi",
    };
    // Docker writes `--chown=U:Gfile:...`, with no space: kept, so histories compare equal.
    let chown_shown = match &spec.chown {
        Some(c) => format!("--chown={}", st.expand(c)?),
        None => String::new(),
    };
    let created_by = format!(
        "{} #(nop) {what} {chown_shown}{kind}:{checksum} in {dest_raw} ",
        st.shell().join(" ")
    );
    drop(dest_view);
    let Some(step) = st.cached(created_by, "")? else {
        return Ok(());
    };
    let layer_dir = b.workdir();
    let tar = layer_dir.with_extension("tar");
    let (ld, tp) = (layer_dir.clone(), tar.clone());
    let result = tokio::task::spawn_blocking(move || {
        fs::create_dir_all(&ld)?;
        for item in &items {
            materialize(item, &ctx, &ld, uid, gid, mode, &excludes)?;
        }
        berth_snapshot::diff(&ld, io::BufWriter::new(fs::File::create(&tp)?))
    })
    .await
    .map_err(|e| Error::internal("copy task", e))?;
    let _ = fs::remove_dir_all(&layer_dir);
    result.map_err(|e| Error::internal("copying files", e))?;
    drop(_from_view);
    st.commit(step, Layer::Tar(tar)).await
}
/// Removes downloaded files when a COPY/ADD step is over, however it ends.
struct Cleanup(Vec<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for f in &self.0 {
            let _ = fs::remove_file(f);
        }
    }
}

/// The directory a WORKDIR names, as a layer, when the image lacks it.
pub async fn workdir_layer(st: &mut State<'_>, abs: &str) -> Result<Layer> {
    let b = st.shared.builder.clone();
    let view = View::mount(&b, st.image.as_ref())?;
    if resolve(view.root(), abs).is_some_and(|p| p.is_dir()) {
        return Ok(Layer::None);
    }
    let dest = real_dest(view.root(), abs)?;
    drop(view);
    let layer_dir = b.workdir();
    let tar = layer_dir.with_extension("tar");
    let (ld, tp) = (layer_dir.clone(), tar.clone());
    let r = tokio::task::spawn_blocking(move || {
        mkdirs(&ld, &dest)?;
        berth_snapshot::diff(&ld, io::BufWriter::new(fs::File::create(&tp)?))
    })
    .await
    .map_err(|e| Error::internal("workdir task", e))?;
    let _ = fs::remove_dir_all(&layer_dir);
    r.map_err(|e| Error::internal("creating WORKDIR", e))?;
    Ok(Layer::Tar(tar))
}

/// Docker's message for a missing source, saying which rule excluded it when one did.
fn missing(st: &State<'_>, what: &str, src: &str, from_context: bool) -> Error {
    let clean = berth_build::ignore::clean(src);
    if from_context && let Some(rule) = st.shared.ctx.ignore.excluded_by(&clean) {
        return Error::invalid(format!(
            "{what} failed: {src} is excluded by .dockerignore (rule \"{rule}\")"
        ));
    }
    Error::invalid(format!(
        "{what} failed: file not found in build context or excluded by .dockerignore: stat {src}: file does not exist"
    ))
}

/// Quotes in a heredoc body are text, not shell quoting.
fn literal_quotes(s: &str, escape: char) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\'' || c == '"' {
            out.push(escape);
        }
        out.push(c);
    }
    out
}

fn dest_is_dir(view: &View, dest: &str) -> bool {
    resolve(view.root(), dest).is_some_and(|p| p.is_dir())
}

/// `dest` with the symlinks of its parents in the image followed, as a path in the image.
fn real_dest(view_root: &Path, dest: &str) -> Result<String> {
    RootDir::open(view_root)
        .and_then(|r| r.real_path(dest))
        .map_err(Error::from_kinded)
}

/// `user[:group]` for --chown; without a group the GID is the UID, as Docker does.
fn chown(spec: &str, root: &Path) -> Result<(u32, u32)> {
    let root = berth_core::rootfs::RootDir::open(root).map_err(Error::from_kinded)?;
    let (uid, gid, _) = crate::containers::spec::resolve_user(spec, &root)?;
    Ok(if spec.contains(':') {
        (uid, gid)
    } else {
        (uid, uid)
    })
}

/// The matcher of source pattern `pattern` (`*` does not match `/`).
fn matcher(pattern: &str) -> Result<globset::GlobMatcher> {
    let pat = berth_build::ignore::clean(pattern);
    Ok(globset::GlobBuilder::new(&pat)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| Error::invalid(format!("invalid source pattern {pattern}: {e}")))?
        .compile_matcher())
}

/// Paths under `root` matching `m` (a matched directory is taken whole).
fn glob(root: &Path, m: &globset::GlobMatcher) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        let Ok(rd) = fs::read_dir(&dir) else { continue };
        for e in rd.flatten() {
            let name = format!("{rel}{}", e.file_name().to_string_lossy());
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            if m.is_match(&name) {
                out.push((e.path(), name));
            } else if is_dir {
                stack.push((e.path(), format!("{name}/")));
            }
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

/// `path`'s content, decompressed when it is gzip, bzip2 or xz (the formats ADD unpacks).
fn decompressed(path: &Path) -> io::Result<Box<dyn Read>> {
    crate::compress::decompress(io::BufReader::new(fs::File::open(path)?))
}

/// Whether ADD unpacks a file of content `content`: a tar, plain or compressed, whose first
/// header is sound. Anything else (a gzipped file that is not a tar, say) is copied as it is,
/// as Docker does.
fn is_archive(content: impl Read) -> bool {
    let mut head = [0u8; 512];
    crate::compress::decompress(io::BufReader::new(content))
        .is_ok_and(|mut r| r.read_exact(&mut head).is_ok())
        && tar_header_sound(&head)
}

/// A tar header block whose checksum (the byte sum with the checksum field as spaces) matches.
fn tar_header_sound(h: &[u8; 512]) -> bool {
    let stored = std::str::from_utf8(&h[148..156])
        .ok()
        .map(|s| s.trim_matches(|c: char| c == '\0' || c == ' '))
        .and_then(|s| u32::from_str_radix(s, 8).ok());
    let sum: u32 = h
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(*b)
            }
        })
        .sum();
    stored == Some(sum)
}

/// A hash of everything that decides the layer's content.
fn checksum(
    items: &[Item],
    ctx: &Context,
    uid: u32,
    gid: u32,
    mode: Option<u32>,
    excludes: &berth_build::Ignore,
) -> io::Result<String> {
    let mut h = Sha256::new();
    h.update(format!("{uid}:{gid}:{mode:?}\n"));
    for item in items {
        match item {
            Item::Content { data, dest } => {
                h.update(format!("content {dest}\n"));
                h.update(data);
            }
            Item::Archive { src, dest } => {
                h.update(format!("archive {dest}\n"));
                h.update(src.sha256(ctx)?);
            }
            Item::Path {
                src: Src::Context(p),
                dest,
            } => hash_context_tree(&mut h, ctx, p, dest, excludes),
            Item::Path {
                src: Src::Host(src),
                dest,
            } => hash_tree(&mut h, src, dest, "", excludes)?,
            Item::Remote { src, dest, mtime } => {
                h.update(format!("remote {dest} {mtime:?}\n"));
                io::copy(&mut fs::File::open(src)?, &mut h)?;
            }
        }
    }
    Ok(format!("{:x}", h.finalize()))
}

/// A hash of the files under real path `real` of the context (contents, modes, links; not
/// times).
pub fn context_checksum(ctx: &Context, real: &str) -> String {
    let mut h = Sha256::new();
    hash_context_tree(&mut h, ctx, real, "", &berth_build::Ignore::default());
    format!("{:x}", h.finalize())
}

// A tree hashes as one record per entry, parents first and names in byte order: its
// destination and `st_mode`, then a symlink's target or a file's sha256. The context's tree
// and a directory on the host hash alike, so that the same files have the same checksum
// wherever they come from.

fn hash_entry(h: &mut Sha256, dest: &str, mode: u32) {
    h.update(format!("{dest}\0{mode:o}\0"));
}

fn hash_context_tree(
    h: &mut Sha256,
    ctx: &Context,
    real: &str,
    dest: &str,
    ex: &berth_build::Ignore,
) {
    ctx.walk(real, ex, &mut |at, node| {
        hash_entry(h, &format!("{dest}{at}"), node.mode);
        match &node.kind {
            Kind::Symlink(target) => h.update(target.as_os_str().as_encoded_bytes()),
            Kind::File(blob) => h.update(blob.sha256),
            Kind::Dir(_) => {}
        }
    });
}

fn hash_tree(
    h: &mut Sha256,
    src: &Path,
    dest: &str,
    rel: &str,
    ex: &berth_build::Ignore,
) -> io::Result<()> {
    let meta = fs::symlink_metadata(src)?;
    hash_entry(h, dest, meta.mode());
    if meta.file_type().is_symlink() {
        h.update(fs::read_link(src)?.as_os_str().as_encoded_bytes());
    } else if meta.is_file() {
        h.update(file_sha256(src)?);
    } else if meta.is_dir() {
        let mut names: Vec<_> = fs::read_dir(src)?.collect::<std::result::Result<_, _>>()?;
        names.sort_by_key(|e| e.file_name());
        for e in names {
            let name = e.file_name().to_string_lossy().into_owned();
            let r = format!("{rel}{name}");
            if ex.excludes(&r) {
                continue;
            }
            hash_tree(
                h,
                &e.path(),
                &format!("{dest}/{name}"),
                &format!("{r}/"),
                ex,
            )?;
        }
    }
    Ok(())
}

fn mkdirs(layer: &Path, dir: &str) -> io::Result<()> {
    fs::create_dir_all(layer)?;
    let root = RootDir::open(layer)?;
    root.mkdir_all(dir, 0o755)?;
    root.open_dir(dir)?
        .set_permissions(fs::Permissions::from_mode(0o755))
}

/// Writes `item` into the fresh layer directory `layer`. Every write resolves inside the layer:
/// a symlink an earlier item left there cannot send a later one outside it.
fn materialize(
    item: &Item,
    ctx: &Context,
    layer: &Path,
    uid: u32,
    gid: u32,
    mode: Option<u32>,
    ex: &berth_build::Ignore,
) -> io::Result<()> {
    let root = RootDir::open(layer)?;
    let write = |dest: &str, from: &mut dyn Read, default_mode: u32| -> io::Result<fs::File> {
        let mut f = root.create_file(dest, 0o600)?;
        io::copy(from, &mut f)?;
        std::os::unix::fs::fchown(&f, Some(uid), Some(gid))?;
        f.set_permissions(fs::Permissions::from_mode(mode.unwrap_or(default_mode)))?;
        Ok(f)
    };
    match item {
        Item::Content { data, dest } => write(dest, &mut &data[..], 0o644).map(drop),
        Item::Archive { src, dest } => {
            let src = src.host(ctx)?;
            root.mkdir_all(dest, 0o755)?;
            // The layer is ours alone while it is written, so its host path stays true.
            let p = root
                .host_path(dest)?
                .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
            // The layer extractor's rules, devices skipped, whiteout names kept as names.
            berth_snapshot::unpack_archive(&p, decompressed(&src)?)
                .map(drop)
                .map_err(io::Error::other)
        }
        Item::Path { src, dest } => {
            copy_tree(&src.host(ctx)?, &root, dest, "", Some((uid, gid)), mode, ex)
        }
        Item::Remote { src, dest, mtime } => {
            let f = write(dest, &mut fs::File::open(src)?, 0o600)?;
            let t = std::time::UNIX_EPOCH
                + std::time::Duration::from_secs(mtime.unwrap_or(0).max(0) as u64);
            f.set_times(fs::FileTimes::new().set_accessed(t).set_modified(t))
        }
    }
}

/// Copies `src` (a host path in a tree nothing else writes: a context or a read-only view) to
/// `dst` inside `root`, with owner `owner` (else the source's) and mode `mode` (else the
/// source's), leaving out what `ex` excludes.
pub fn copy_tree(
    src: &Path,
    root: &RootDir,
    dst: &str,
    rel: &str,
    owner: Option<(u32, u32)>,
    mode: Option<u32>,
    ex: &berth_build::Ignore,
) -> io::Result<()> {
    let meta = fs::symlink_metadata(src)?;
    let ft = meta.file_type();
    let (uid, gid) = owner.unwrap_or((meta.uid(), meta.gid()));
    let mtime = (meta.mtime(), meta.mtime_nsec());
    let file = if ft.is_symlink() {
        root.symlink(dst, &fs::read_link(src)?)?;
        return Ok(root.set_owner_and_mtime(dst, (uid, gid), mtime)?);
    } else if ft.is_dir() {
        root.mkdir_all(dst, 0o755)?;
        for e in fs::read_dir(src)? {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            let r = format!("{rel}{name}");
            if ex.excludes(&r) {
                continue;
            }
            let d = format!("{}/{name}", dst.trim_end_matches('/'));
            copy_tree(&e.path(), root, &d, &format!("{r}/"), owner, mode, ex)?;
        }
        root.open_dir(dst)?
    } else if ft.is_file() {
        let mut f = root.create_file(dst, 0o600)?;
        io::copy(&mut fs::File::open(src)?, &mut f)?;
        f
    } else {
        return Ok(()); // sockets, fifos and devices are not copied
    };
    // Owner first: a chown clears set-user-ID and set-group-ID bits.
    std::os::unix::fs::fchown(&file, Some(uid), Some(gid))?;
    file.set_permissions(fs::Permissions::from_mode(
        mode.unwrap_or(meta.mode() & 0o7777),
    ))?;
    let t = std::time::UNIX_EPOCH
        + std::time::Duration::new(mtime.0.max(0) as u64, mtime.1.clamp(0, 999_999_999) as u32);
    file.set_times(fs::FileTimes::new().set_accessed(t).set_modified(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file: path, content, mode, mtime.
    type File<'a> = (&'a str, &'a str, u32, u64);

    /// A context whose `src/` holds `files`.
    fn context(dir: &Path, files: &[File]) -> Context {
        let mut b = tar::Builder::new(Vec::new());
        let mut add = |name: &str, body: &str, mode: u32, mtime: u64| {
            let mut h = tar::Header::new_gnu();
            h.set_size(body.len() as u64);
            h.set_mode(mode);
            h.set_mtime(mtime);
            h.set_cksum();
            b.append_data(&mut h, name, body.as_bytes()).unwrap();
        };
        add("Dockerfile", "FROM scratch\n", 0o644, 0);
        for (name, body, mode, mtime) in files {
            add(&format!("src/{name}"), body, *mode, *mtime);
        }
        let tar = b.into_inner().unwrap();
        super::super::context::unpack(&tar[..], dir, "", false).unwrap()
    }

    /// The COPY checksum of `src` from the context's tree and from its copy on disk.
    fn sums(files: &[File]) -> (String, String) {
        let dir = tempfile::tempdir().unwrap();
        let ctx = context(&dir.path().join("b"), files);
        let ex = berth_build::Ignore::parse("d/*.tmp").unwrap();
        let sum = |src: Src| {
            let items = [
                Item::Path {
                    src,
                    dest: "/app".into(),
                },
                Item::Archive {
                    src: Src::Context("src/a".into()),
                    dest: "/x".into(),
                },
            ];
            checksum(&items, &ctx, 0, 0, None, &ex).unwrap()
        };
        let in_memory = sum(Src::Context("src".into()));
        assert_eq!(ctx.written().entries, 0, "hashing writes nothing");
        let on_disk = sum(Src::Host(ctx.materialise("src").unwrap()));
        (in_memory, on_disk)
    }

    #[test]
    fn context_sources_hash_as_their_copy_on_disk_and_only_what_matters_counts() {
        let base = [
            ("a", "a", 0o644, 1),
            ("d/b", "b", 0o755, 1),
            ("d/skip.tmp", "t", 0o644, 1),
        ];
        let (sum, on_disk) = sums(&base);
        assert_eq!(
            sum, on_disk,
            "the tree in memory hashes as the files it writes"
        );
        let with = |i: usize, f: &dyn Fn(&mut File)| {
            let mut v = base;
            f(&mut v[i]);
            sums(&v).0
        };
        assert_eq!(with(0, &|e| e.3 = 99), sum, "mtimes don't count");
        assert_eq!(
            with(2, &|e| e.1 = "other"),
            sum,
            "excluded files don't count"
        );
        assert_ne!(with(1, &|e| e.1 = "c"), sum, "contents count");
        assert_ne!(with(1, &|e| e.2 = 0o644), sum, "modes count");
        assert_ne!(with(1, &|e| e.0 = "d/c"), sum, "names count");
        assert_ne!(with(0, &|e| e.1 = "b"), sum, "an archive's content counts");
    }
}
