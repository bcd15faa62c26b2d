//! Extracting a file or a whole directory subtree of the image into a directory of the user's
//! machine (the explorer's extract key). The worker runs it; the app only asks.
//!
//! Safety rules, for one file as for a subtree:
//! - every name is one plain path component: `..`, `.`, empty names and NUL are refused (the
//!   model already normalises `../` in tar names; this is the second line of defence);
//! - nothing is written through a symlink: every directory on the way is checked with
//!   `lstat` (a symlink already in the target directory is refused), files are created with
//!   `O_CREAT|O_EXCL`, and the image's symlinks are created last, so none made by this
//!   extraction can be followed by a later write;
//! - symlinks are recreated as symlinks, never followed; one whose target is absolute or
//!   climbs out of the target directory is refused;
//! - nothing existing is replaced without asking: the whole plan is checked first, and only
//!   regular files are ever replaced (after a yes);
//! - devices and FIFOs are skipped, and counted;
//! - permission bits are kept exactly (`mode & 0o777`), setuid, setgid and sticky bits dropped.
//!
//! The bytes written are the file's real bytes, secrets included: extracting is the user's
//! deliberate act, as it was for the one-file extract before (the viewer and every other
//! output stay redacted).

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::model::fs::{EntryKind, FileSystem, PathId, Snapshot, VersionId};
use crate::model::{sanitize, sanitize_bytes, Image};

/// Base directory the prompt proposes (`./strata-extract/NAME/`).
pub const DEFAULT_BASE: &str = "./strata-extract";

/// What to extract and where.
#[derive(Debug, Clone)]
pub struct Request {
    /// The selected path (a file or a directory).
    pub root: PathId,
    /// The version shown for the selected file (the one written); `None` for a directory.
    pub version: Option<VersionId>,
    /// The layer whose filesystem the tree shows (a directory's contents as of it).
    pub layer: usize,
    /// The directory to write into.
    pub dir: PathBuf,
    /// Keep the path in the image (`etc/nginx/nginx.conf` under the directory) or write the
    /// file (or the directory) under its own name only.
    pub keep_path: bool,
    /// Create the directory when it is missing (the user said yes).
    pub create_dir: bool,
    /// Replace existing regular files (the user said yes).
    pub overwrite: bool,
}

/// Why an extraction did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtractError {
    /// Files the extraction would write exist; ask before replacing them.
    Exists {
        /// The first one.
        first: PathBuf,
        /// How many.
        count: usize,
    },
    /// The directory does not exist; ask before creating it.
    MissingDir(PathBuf),
    /// Anything else, phrased for the user.
    Failed(String),
}

/// What an extraction did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// The directory written into.
    pub dir: PathBuf,
    /// The one file written, when a single file was asked for.
    pub file: Option<PathBuf>,
    /// Regular files written.
    pub files: usize,
    /// Their bytes.
    pub bytes: u64,
    /// Symlinks created.
    pub symlinks: usize,
    /// Devices and FIFOs skipped.
    pub special: usize,
    /// Entries refused, each with why (unsafe names, symlinks out of the directory, symlinks
    /// on the way, existing entries that are not regular files).
    pub refused: Vec<String>,
}

impl Summary {
    /// The status line: `extracted N files (X MiB) to DIR`, then what was skipped or refused.
    pub fn status(&self) -> String {
        let mut s = format!(
            "extracted {} ({}) to {}",
            count(self.files, "file"),
            crate::text::bytes(self.bytes),
            sanitize(
                &self
                    .file
                    .as_ref()
                    .unwrap_or(&self.dir)
                    .display()
                    .to_string()
            )
        );
        if self.symlinks > 0 {
            s.push_str(&format!(", {}", count(self.symlinks, "symlink")));
        }
        if self.special > 0 {
            s.push_str(&format!(
                "; skipped {}",
                count(self.special, "special file")
            ));
        }
        if let Some(first) = self.refused.first() {
            s.push_str(&format!("; refused {}: {first}", self.refused.len()));
            if self.refused.len() > 1 {
                s.push_str(" …");
            }
        }
        s
    }
}

/// `1 file`, `2 files`.
fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// The directory name proposed for an image: its first tag or reference, last path component,
/// `:`/`@` and anything but letters, digits, `.`, `_`, `-` made `_` (`nginx:1.27` →
/// `nginx_1.27`).
pub fn dir_name(image: &Image) -> String {
    let reference = image.repo_tags.first().unwrap_or(&image.reference);
    let reference = reference.split(" (").next().unwrap_or(reference);
    let last = reference.rsplit('/').next().unwrap_or(reference);
    let mut out = String::new();
    for c in last.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
            c
        } else {
            '_'
        };
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    let out: String = out
        .trim_matches(|c| c == '_' || c == '.')
        .chars()
        .take(64)
        .collect();
    if out.is_empty() {
        "image".into()
    } else {
        out
    }
}

/// One thing to write, at a path relative to the target directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemKind {
    /// A directory with its permission bits.
    Dir(u32),
    /// A regular file: where its bytes are (the version holding them), its mode and size.
    File {
        /// Version whose bytes are written (a hard link's target).
        content: VersionId,
        /// Permission bits.
        mode: u32,
    },
    /// A symlink and its target as stored.
    Symlink(Vec<u8>),
    /// A device or FIFO (skipped).
    Special,
}

/// A planned entry: its components under the target directory and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Path components (raw bytes), checked safe.
    pub rel: Vec<Vec<u8>>,
    /// What to write.
    pub kind: ItemKind,
}

/// True for a name that can be created as one path component.
pub fn safe_component(c: &[u8]) -> bool {
    !(c.is_empty() || c == b"." || c == b".." || c.contains(&b'/') || c.contains(&0))
}

/// True when the symlink at `rel` with `target` stays inside the target directory: a
/// relative target whose `..` never climb above the directory.
pub fn link_stays_inside(rel: &[Vec<u8>], target: &[u8]) -> bool {
    if target.starts_with(b"/") || target.is_empty() {
        return false;
    }
    let mut depth = rel.len().saturating_sub(1) as isize;
    for part in target.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => depth += 1,
        }
    }
    true
}

fn show(rel: &[Vec<u8>]) -> String {
    sanitize_bytes(&rel.join(&b'/'))
}

/// What to write for `entries`: `(components, kind)` in creation order (parents first), with
/// the refusals (unsafe names, symlinks leaving the directory) said in words.
pub fn check(entries: Vec<(Vec<Vec<u8>>, ItemKind)>) -> (Vec<Item>, Vec<String>) {
    let mut items = Vec::new();
    let mut refused = Vec::new();
    for (rel, kind) in entries {
        if rel.is_empty() || !rel.iter().all(|c| safe_component(c)) {
            refused.push(format!(
                "unsafe name {:?}",
                sanitize_bytes(&rel.join(&b'/'))
            ));
            continue;
        }
        if let ItemKind::Symlink(t) = &kind {
            if !link_stays_inside(&rel, t) {
                refused.push(format!(
                    "symlink {} → {} points outside the directory",
                    show(&rel),
                    sanitize_bytes(t)
                ));
                continue;
            }
        }
        items.push(Item { rel, kind });
    }
    (items, refused)
}

fn kind_of(fs: &FileSystem, vid: Option<VersionId>) -> Option<ItemKind> {
    let Some(vid) = vid else {
        return Some(ItemKind::Dir(0o755));
    };
    let v = &fs.versions[vid as usize];
    Some(match v.kind {
        EntryKind::Dir => ItemKind::Dir(v.mode & 0o777),
        EntryKind::File => ItemKind::File {
            content: vid,
            mode: v.mode & 0o777,
        },
        EntryKind::HardLink => ItemKind::File {
            content: v.link_version?,
            mode: fs.versions[v.link_version? as usize].mode & 0o777,
        },
        EntryKind::Symlink => ItemKind::Symlink(v.link.as_deref().unwrap_or_default().to_vec()),
        EntryKind::CharDevice | EntryKind::BlockDevice | EntryKind::Fifo => ItemKind::Special,
    })
}

fn components(path: &[u8]) -> Vec<Vec<u8>> {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// The entries of a request, before the checks: the selected file, or the directory and
/// everything under it as of the request's layer, parents first; with the path kept, the
/// parents of the selection too.
pub fn entries(image: &Image, req: &Request) -> Vec<(Vec<Vec<u8>>, ItemKind)> {
    let fs = &image.fs;
    let snapshot: Snapshot = fs.snapshot(req.layer);
    let full = components(fs.path(req.root));
    // Components dropped from every image path: none with the path kept, else the parents.
    let strip = if req.keep_path {
        0
    } else {
        full.len().saturating_sub(1)
    };
    let mut out = Vec::new();
    if req.keep_path {
        let mut id = fs.parent(req.root);
        let mut parents = Vec::new();
        while id != 0 {
            parents.push(id);
            id = fs.parent(id);
        }
        for p in parents.into_iter().rev() {
            let mode = match snapshot.version(p).map(|v| &fs.versions[v as usize]) {
                Some(v) if v.kind == EntryKind::Dir => v.mode & 0o777,
                _ => 0o755,
            };
            out.push((components(fs.path(p)), ItemKind::Dir(mode)));
        }
    }
    let root_version = req.version.or_else(|| snapshot.version(req.root));
    let mut stack = vec![(req.root, root_version)];
    while let Some((id, vid)) = stack.pop() {
        let Some(kind) = kind_of(fs, vid) else {
            continue;
        };
        let is_dir = matches!(kind, ItemKind::Dir(_));
        out.push((components(fs.path(id))[strip..].to_vec(), kind));
        if is_dir {
            let mut children: Vec<PathId> = fs
                .children(id)
                .iter()
                .copied()
                .filter(|&c| snapshot.exists(c))
                .collect();
            children.sort_by(|a, b| fs.name(*b).cmp(fs.name(*a)));
            stack.extend(children.into_iter().map(|c| (c, snapshot.version(c))));
        }
    }
    out
}

fn symlink_in_the_way(p: &Path) -> String {
    format!(
        "{} is a symlink, not a regular file or directory: nothing is written through it",
        sanitize(&p.display().to_string())
    )
}

/// The one-line reason a directory on the way cannot be used, if any: every component of
/// `rel`'s parents under `dir` must be a real directory (or not exist yet), never a symlink.
fn parents_ok(dir: &Path, rel: &[Vec<u8>]) -> Result<(), String> {
    let mut p = dir.to_path_buf();
    for c in &rel[..rel.len() - 1] {
        p.push(os(c));
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => return Err(symlink_in_the_way(&p)),
            Ok(m) if !m.is_dir() => {
                return Err(format!(
                    "{} is not a directory",
                    sanitize(&p.display().to_string())
                ))
            }
            Ok(_) => {}
            Err(_) => return Ok(()),
        }
    }
    Ok(())
}

#[cfg(unix)]
fn os(c: &[u8]) -> &std::ffi::OsStr {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::OsStr::from_bytes(c)
}

#[cfg(not(unix))]
fn os(c: &[u8]) -> std::ffi::OsString {
    String::from_utf8_lossy(c).into_owned().into()
}

fn target(dir: &Path, rel: &[Vec<u8>]) -> PathBuf {
    let mut p = dir.to_path_buf();
    for c in rel {
        p.push(os(c));
    }
    p
}

fn failed(what: &str, path: &Path, e: &io::Error) -> ExtractError {
    ExtractError::Failed(format!(
        "{what} {}: {e}",
        sanitize(&path.display().to_string())
    ))
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o777))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> io::Result<()> {
    Ok(())
}

/// The files written from one version's bytes (a file and its hard links): path and mode.
type Outputs = Vec<(PathBuf, u32)>;

/// Runs an extraction; `progress(files, bytes)` is called now and then while files are
/// written.
pub fn run(
    image: &Image,
    req: &Request,
    progress: &mut dyn FnMut(usize, u64),
) -> Result<Summary, ExtractError> {
    if req.dir.as_os_str().is_empty() {
        return Err(ExtractError::Failed("no directory given".into()));
    }
    let root_version = req.version.map(|v| &image.fs.versions[v as usize]);
    if let Some(v) = root_version {
        if !matches!(
            v.kind,
            EntryKind::File | EntryKind::HardLink | EntryKind::Dir
        ) {
            return Err(ExtractError::Failed(
                "only regular files and directories can be extracted".into(),
            ));
        }
    }
    let (items, plan_refused) = check(entries(image, req));
    // What stands in the way in the user's directory is said first, then the image's own
    // unsafe entries.
    let mut refused = Vec::new();
    let mut summary = Summary {
        dir: req.dir.clone(),
        special: items.iter().filter(|i| i.kind == ItemKind::Special).count(),
        ..Summary::default()
    };
    // The directory: the user's (followed if it is their symlink), created after a yes.
    match std::fs::metadata(&req.dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(ExtractError::Failed(format!(
                "{} is not a directory",
                sanitize(&req.dir.display().to_string())
            )))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound && !req.create_dir => {
            return Err(ExtractError::MissingDir(req.dir.clone()))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            std::fs::create_dir_all(&req.dir).map_err(|e| failed("cannot create", &req.dir, &e))?
        }
        Err(e) => return Err(failed("cannot use directory", &req.dir, &e)),
    }
    // Check the whole plan before writing anything.
    let mut existing = Vec::new();
    let mut writable = Vec::new();
    for item in items {
        if item.kind == ItemKind::Special {
            continue;
        }
        if let Err(why) = parents_ok(&req.dir, &item.rel) {
            refused.push(why);
            continue;
        }
        let path = target(&req.dir, &item.rel);
        match (std::fs::symlink_metadata(&path), &item.kind) {
            (Ok(m), _) if m.file_type().is_symlink() => {
                refused.push(symlink_in_the_way(&path));
                continue;
            }
            (Ok(m), ItemKind::Dir(_)) if m.is_dir() => {}
            (Ok(m), ItemKind::File { .. }) if m.file_type().is_file() => {
                existing.push(path.clone())
            }
            (Ok(_), _) => {
                refused.push(format!(
                    "{} exists and is not a regular file: not touched",
                    sanitize(&path.display().to_string())
                ));
                continue;
            }
            (Err(e), _) if e.kind() == io::ErrorKind::NotFound => {}
            (Err(e), _) => return Err(failed("cannot check", &path, &e)),
        }
        writable.push((path, item));
    }
    refused.extend(plan_refused);
    if !existing.is_empty() && !req.overwrite {
        return Err(ExtractError::Exists {
            first: existing[0].clone(),
            count: existing.len(),
        });
    }
    if writable.is_empty() && refused.len() == 1 && req.version.is_some() {
        return Err(ExtractError::Failed(refused.remove(0)));
    }
    // Directories first (kept writable until the end), then the files layer by layer in
    // archive order (each layer read once), then the symlinks.
    let mut made_dirs = Vec::new();
    let mut files: BTreeMap<(u32, u64, VersionId), Outputs> = BTreeMap::new();
    let mut links = Vec::new();
    for (path, item) in writable {
        match item.kind {
            ItemKind::Dir(mode) => {
                if std::fs::symlink_metadata(&path).is_err() {
                    std::fs::create_dir(&path).map_err(|e| failed("cannot create", &path, &e))?;
                    made_dirs.push((path, mode));
                }
            }
            ItemKind::File { content, mode } => {
                let v = &image.fs.versions[content as usize];
                files
                    .entry((v.layer, v.offset, content))
                    .or_default()
                    .push((path, mode));
            }
            ItemKind::Symlink(t) => links.push((path, t)),
            ItemKind::Special => {}
        }
    }
    let mut by_layer: BTreeMap<u32, Vec<(VersionId, Outputs)>> = BTreeMap::new();
    for ((layer, _, vid), outs) in files {
        by_layer.entry(layer).or_default().push((vid, outs));
    }
    let mut written: Vec<PathBuf> = Vec::new();
    let result = (|| -> Result<(), ExtractError> {
        for (layer, list) in by_layer {
            let mut stream = crate::source::content::open_layer(image, layer as usize)
                .map_err(|e| ExtractError::Failed(e.to_string()))?;
            let mut pos = 0u64;
            for (vid, outs) in list {
                let v = &image.fs.versions[vid as usize];
                io::copy(
                    &mut (&mut stream).take(v.offset - pos.min(v.offset)),
                    &mut io::sink(),
                )
                .map_err(|e| ExtractError::Failed(e.to_string()))?;
                let (first, first_mode) = &outs[0];
                let mut out = create_file(first, req.overwrite)?;
                written.push(first.clone());
                let n = io::copy(&mut (&mut stream).take(v.size), &mut out)
                    .map_err(|e| failed("cannot write", first, &e))?;
                out.flush().map_err(|e| failed("cannot write", first, &e))?;
                pos = v.offset + n;
                if n != v.size {
                    return Err(ExtractError::Failed(format!(
                        "layer {layer} ended after {n} of {} bytes of {}",
                        v.size,
                        sanitize(&first.display().to_string())
                    )));
                }
                set_mode(first, *first_mode).map_err(|e| failed("cannot chmod", first, &e))?;
                summary.files += 1;
                summary.bytes += n;
                // Hard links to the same bytes: copies of the file just written.
                for (path, mode) in &outs[1..] {
                    let mut out = create_file(path, req.overwrite)?;
                    written.push(path.clone());
                    let mut src =
                        std::fs::File::open(first).map_err(|e| failed("cannot read", first, &e))?;
                    io::copy(&mut src, &mut out).map_err(|e| failed("cannot write", path, &e))?;
                    set_mode(path, *mode).map_err(|e| failed("cannot chmod", path, &e))?;
                    summary.files += 1;
                    summary.bytes += n;
                }
                if summary.files % 64 == 0 || v.size > 8 << 20 {
                    progress(summary.files, summary.bytes);
                }
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        // A single file half written is removed; a subtree keeps what was written.
        if req.version.is_some() {
            for p in &written {
                let _ = std::fs::remove_file(p);
            }
        }
        return Err(e);
    }
    for (path, t) in links {
        #[cfg(unix)]
        match std::os::unix::fs::symlink(os(&t), &path) {
            Ok(()) => summary.symlinks += 1,
            Err(e) => refused.push(format!(
                "symlink {}: {e}",
                sanitize(&path.display().to_string())
            )),
        }
        #[cfg(not(unix))]
        refused.push(format!(
            "symlink {}: not supported here",
            sanitize(&path.display().to_string())
        ));
    }
    for (path, mode) in made_dirs.into_iter().rev() {
        set_mode(&path, mode).map_err(|e| failed("cannot chmod", &path, &e))?;
    }
    if req.version.is_some() && summary.files == 1 {
        summary.file = written.first().cloned();
    }
    summary.refused = refused;
    Ok(summary)
}

/// Creates `path` as a new regular file, never through a symlink; with `overwrite`, an
/// existing regular file is replaced.
fn create_file(path: &Path, overwrite: bool) -> Result<std::fs::File, ExtractError> {
    if overwrite {
        if let Ok(m) = std::fs::symlink_metadata(path) {
            if !m.file_type().is_file() {
                return Err(ExtractError::Failed(format!(
                    "{} exists and is not a regular file: not touched",
                    sanitize(&path.display().to_string())
                )));
            }
            std::fs::remove_file(path).map_err(|e| failed("cannot replace", path, &e))?;
        }
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
        .map_err(|e| failed("cannot create", path, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(s: &str) -> Vec<Vec<u8>> {
        s.split('/').map(|c| c.as_bytes().to_vec()).collect()
    }

    #[test]
    fn names_and_links_are_checked() {
        assert!(safe_component(b"..evil"));
        assert!(!safe_component(b".."));
        assert!(!safe_component(b""));
        assert!(!safe_component(b"a\0b"));
        assert!(link_stays_inside(&rel("a/b/link"), b"../c"));
        assert!(link_stays_inside(&rel("a/link"), b"x/../y"));
        assert!(!link_stays_inside(&rel("a/link"), b"../../etc/passwd"));
        assert!(!link_stays_inside(&rel("link"), b"/etc/passwd"));
        let (items, refused) = check(vec![
            (rel("ok"), ItemKind::Dir(0o755)),
            (rel("ok/../../x"), ItemKind::Special),
            (rel("ok/l"), ItemKind::Symlink(b"../../outside".to_vec())),
        ]);
        assert_eq!(items.len(), 1);
        assert_eq!(refused.len(), 2, "{refused:?}");
        assert!(refused[0].contains("unsafe name"), "{refused:?}");
        assert!(refused[1].contains("points outside"), "{refused:?}");
    }
}
