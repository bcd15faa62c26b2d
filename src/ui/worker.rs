//! Runs [`Command`]s off the render loop and reports back with [`Msg`]s: loading (with
//! progress), the daemon image list, file contents with highlighting (latest wins through a
//! ticket), extraction. [`execute`] is synchronous; the run loop calls it on blocking threads
//! and tests call it inline through [`settle`].

use std::cell::Cell;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::app::{App, Chunk, Command, Event, ExtractError, ImageRow, Loaded, Msg, Secret, Target};
use super::filetree::{LayerView, Mode, TreeIndex};
use super::highlight;
use super::state::anatomy::RawListing;
use crate::analysis::finding::Package;
use crate::analysis::pipeline::{self, Opened, Settings};
use crate::config::FindingsConfig;
use crate::model::fs::{EntryKind, PathId, VersionId};
use crate::model::Image;
use crate::redact::rules::RuleSet;
use crate::source::cache::LayerCache;
use crate::source::resolve::ImageSelector;
use crate::source::{Input, LoadOptions, Progress};

/// Where workers send their messages.
pub type Sender = tokio::sync::mpsc::UnboundedSender<Msg>;

/// Bytes read per text chunk.
pub const TEXT_CHUNK: u64 = 256 << 10;
/// Bytes read per binary chunk.
pub const BINARY_CHUNK: u64 = 64 << 10;
/// Bytes per message when a file is read on to its end (`G`, search) in one pass.
pub const TO_END_CHUNK: u64 = 1 << 20;
/// Lines at the end of a file highlighted after reading to its end (the lines passed over
/// stay plain: highlighting them would cost seconds and a styled copy of the file).
const TAIL_HIGHLIGHT: usize = 512;
/// Lines highlighted per message.
const HIGHLIGHT_BATCH: usize = 256;

thread_local! {
    static IN_WORKER: Cell<bool> = const { Cell::new(false) };
}

static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// True on a thread currently running a command (its panics are caught and reported in the
/// UI instead of tearing the terminal down).
pub fn in_worker() -> bool {
    IN_WORKER.with(Cell::get)
}

/// Records a worker panic message (called by the panic hook).
pub fn record_panic(msg: String) {
    if let Ok(mut g) = LAST_PANIC.lock() {
        *g = Some(msg);
    }
}

fn take_panic() -> String {
    LAST_PANIC
        .lock()
        .ok()
        .and_then(|mut g| g.take())
        .unwrap_or_else(|| "internal error".into())
}

/// Runs one command to completion, sending its messages to `tx`. A panic inside becomes an
/// error message for the UI.
pub fn execute(cmd: Command, tx: &Sender) {
    IN_WORKER.with(|w| w.set(true));
    let kind = match &cmd {
        Command::Load { req, .. } => Some(("load", *req)),
        Command::RawEntries { req, .. } => Some(("raw", *req)),
        Command::Read { req, .. } => Some(("read", *req)),
        Command::Extract { req, .. } => Some(("extract", *req)),
        Command::Reveal { req, .. } => Some(("reveal", *req)),
        Command::Compare { req, .. } => Some(("compare", *req)),
        Command::DiffFile { req, .. } => Some(("diff-file", *req)),
        Command::PackageFiles { req, .. } => Some(("package-files", *req)),
        _ => None,
    };
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(cmd, tx)));
    IN_WORKER.with(|w| w.set(false));
    if r.is_err() {
        let msg = format!("internal error: {}", take_panic());
        let _ = match kind {
            Some(("load", req)) => tx.send(Msg::Loaded {
                req,
                result: Err(msg),
            }),
            Some(("read", req)) => tx.send(Msg::ContentError { req, error: msg }),
            Some(("reveal", req)) => tx.send(Msg::Revealed {
                req,
                result: Err(msg),
            }),
            Some(("compare", req)) => tx.send(Msg::Compared {
                req,
                result: Err(msg),
            }),
            Some(("raw", req)) => tx.send(Msg::RawEntries {
                req,
                result: Err(msg),
            }),
            Some(("diff-file", req)) => tx.send(Msg::FileDiff {
                req,
                result: Err(msg),
            }),
            Some(("package-files", req)) => tx.send(Msg::PackageFiles {
                req,
                result: Err(msg),
            }),
            Some((_, req)) => tx.send(Msg::Extracted {
                req,
                result: Err(ExtractError::Failed(msg)),
            }),
            None => Ok(()),
        };
    }
}

fn run(cmd: Command, tx: &Sender) {
    match cmd {
        Command::ListImages => {
            let _ = tx.send(Msg::Images(list_images()));
        }
        Command::PackageFiles {
            req,
            image,
            version,
            listing,
            package,
        } => {
            let result = package_files(&image, version, &listing, &package);
            let _ = tx.send(Msg::PackageFiles { req, result });
        }
        Command::RawEntries {
            req,
            ticket,
            image,
            layer,
        } => {
            if ticket.load(Ordering::SeqCst) == req {
                let result = raw_listing(req, &ticket, &image, layer, tx);
                if ticket.load(Ordering::SeqCst) == req {
                    let _ = tx.send(Msg::RawEntries { req, result });
                }
            }
        }
        Command::Warmup => {
            highlight::assets();
            // Snippets drawn plain until now can be drawn highlighted.
            let _ = tx.send(Msg::Warmed);
        }
        Command::Load {
            req,
            target,
            opts,
            findings,
            signatures,
        } => load(req, &target, &opts, findings.as_deref(), signatures, tx),
        Command::Compare {
            req,
            a,
            b,
            settings,
        } => {
            // B goes through the engine's one entry point, as A did, taking the layers it
            // shares with A from A's model instead of reading them again.
            let b = input(&b);
            let mut settings = settings;
            settings.load.layer_cache =
                LayerCache::from_image(&a.image, &b, &settings.load).map(Arc::new);
            let result = pipeline::analyse(&b, &settings, &Progress::default())
                .map(|b| {
                    let diff = crate::analysis::diff::compare(&a, &b);
                    (Box::new(diff), b.image)
                })
                .map_err(|e| e.to_string());
            let _ = tx.send(Msg::Compared { req, result });
        }
        Command::DiffFile { req, a, b, rules } => {
            let result = super::textdiff::file_diff((&a.0, a.1), (&b.0, b.1), &rules);
            let _ = tx.send(Msg::FileDiff { req, result });
        }
        Command::Reveal {
            req,
            image,
            version,
            offset,
            len,
        } => {
            // The raw value goes to the UI only, never to a log or a file.
            let result = crate::source::content::read_range(&image, version, offset, len)
                .map(|b| Secret::new(String::from_utf8_lossy(&b).into_owned()))
                .map_err(|e| e.to_string());
            let _ = tx.send(Msg::Revealed { req, result });
        }
        Command::Read {
            req,
            ticket,
            image,
            version,
            name,
            offset,
            first_line,
            binary,
            syntax,
            rules,
            to_end,
        } => read(
            &ReadJob {
                req,
                ticket: &ticket,
                image: &image,
                version,
                name: &name,
                offset,
                first_line,
                binary,
                syntax,
                rules: &rules,
                to_end,
            },
            tx,
        ),
        Command::BuildView {
            req,
            ticket,
            image,
            layer,
            mode,
        } => {
            let current = || ticket.load(Ordering::SeqCst) == req;
            if current() {
                let view = Arc::new(LayerView::build(&image.fs, layer, mode));
                if current() {
                    let _ = tx.send(Msg::View { req, view });
                }
            }
        }
        Command::Extract {
            req,
            image,
            request,
        } => {
            let mut progress = |files, bytes| {
                let _ = tx.send(Msg::ExtractProgress { req, files, bytes });
            };
            let result = super::extract::run(&image, &request, &mut progress);
            let _ = tx.send(Msg::Extracted { req, result });
        }
    }
}

/// Reads `layer`'s tar entries once and explains the special ones (the anatomy view),
/// reporting progress; a newer request makes this one stop early.
pub fn raw_listing(
    req: u64,
    ticket: &Arc<AtomicU64>,
    image: &Image,
    layer: usize,
    tx: &Sender,
) -> Result<Arc<RawListing>, String> {
    let progress_tx = tx.clone();
    let t = ticket.clone();
    let progress: Arc<dyn Fn(usize) -> bool + Send + Sync> = Arc::new(move |entries| {
        let current = t.load(Ordering::SeqCst) == req;
        if current {
            let _ = progress_tx.send(Msg::RawProgress { req, entries });
        }
        current
    });
    let entries = crate::source::content::raw_entries(image, layer, Some(progress))
        .map_err(|e| e.to_string())?;
    let removals = crate::analysis::anatomy::LayerRemovals::of(image, layer);
    let explained = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| crate::analysis::anatomy::is_special(e))
        .filter_map(|(i, e)| crate::analysis::anatomy::explain(&removals, e).map(|x| (i as u32, x)))
        .collect();
    Ok(Arc::new(RawListing {
        layer,
        entries,
        explained,
    }))
}

/// The daemon's images, newest first.
pub fn list_images() -> Result<Vec<ImageRow>, String> {
    crate::source::daemon::list_images()
        .map(|images| {
            images
                .into_iter()
                .map(|i| ImageRow {
                    // Untagged rows read as in `strata images`: `<none>:<none>` (or
                    // `repo:<none>`) beside the short id; they open by id.
                    reference: if i.tag == "<none>" {
                        format!("{}:<none>", i.repository)
                    } else {
                        i.reference
                    },
                    id: i.id,
                    size: i.size_bytes,
                    created: i.created,
                    pick: None,
                })
                .collect()
        })
        .map_err(|e| e.to_string())
}

/// The engine input of a target.
pub fn input(target: &Target) -> Input {
    match target {
        Target::Reference(r) => Input::parse(r),
        Target::Demo => Input::Demo,
        Target::Pick(r, n) => match Input::parse(r) {
            Input::Archive(path, _) => Input::Archive(path, Some(ImageSelector::Index(*n))),
            Input::Directory(path, _) => Input::Directory(path, Some(ImageSelector::Index(*n))),
            other => other,
        },
    }
}

/// Loads `target` (sizes only, no findings) and derives what the UI needs.
pub fn load_image(
    target: &Target,
    opts: &LoadOptions,
    progress: &Progress,
) -> crate::Result<Loaded> {
    let settings = Settings {
        load: opts.clone(),
        ..Settings::default()
    };
    Ok(loaded(&pipeline::open(
        &input(target),
        &settings,
        progress,
    )?))
}

/// What the UI needs of an opened image (efficiency, sorted tree, first view).
fn loaded(opened: &Opened) -> Loaded {
    let image = opened.image.clone();
    let eff = opened.efficiency.clone();
    let index = Arc::new(TreeIndex::build(&image.fs));
    let view = Arc::new(LayerView::build(&image.fs, 0, Mode::PerLayer));
    let largest = largest_files(&image, LARGEST);
    Loaded {
        image,
        eff,
        index,
        view,
        largest,
    }
}

/// How many of the largest files the image details list.
pub const LARGEST: usize = 6;

/// The `n` largest regular-file versions written by any layer, largest first.
pub fn largest_files(image: &Image, n: usize) -> Vec<VersionId> {
    let mut heap = std::collections::BinaryHeap::new();
    for (i, v) in image.fs.versions.iter().enumerate() {
        if v.kind != EntryKind::File || v.size == 0 {
            continue;
        }
        heap.push(std::cmp::Reverse((
            v.size,
            std::cmp::Reverse(i as VersionId),
        )));
        if heap.len() > n {
            heap.pop();
        }
    }
    let mut out: Vec<(u64, VersionId)> = heap
        .into_iter()
        .map(|std::cmp::Reverse((size, std::cmp::Reverse(v)))| (size, v))
        .collect();
    out.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    out.into_iter().map(|(_, v)| v).collect()
}

/// How long a load waits for its layer list to be drawn before reading the layers.
const PREVIEW_DRAW_WAIT: std::time::Duration = std::time::Duration::from_millis(150);

/// How often the byte count of a load reaches the screen.
const BYTES_EVERY: std::time::Duration = std::time::Duration::from_millis(50);

fn load(
    req: u64,
    target: &Target,
    opts: &LoadOptions,
    findings: Option<&FindingsConfig>,
    signatures: Arc<crate::analysis::signatures::SignatureOptions>,
    tx: &Sender,
) {
    let ptx = tx.clone();
    // Byte counts arrive per downloaded chunk, thousands a second on loopback: the screen
    // needs a few. Per-layer byte counts are not shown at all.
    let last_bytes = std::sync::Mutex::new(None::<std::time::Instant>);
    let progress = Progress::new(move |event| {
        match &event {
            crate::source::ProgressEvent::LayerBytes { .. } => return,
            crate::source::ProgressEvent::Bytes(_) => {
                let Ok(mut last) = last_bytes.lock() else {
                    return;
                };
                if last.is_some_and(|t| t.elapsed() < BYTES_EVERY) {
                    return;
                }
                *last = Some(std::time::Instant::now());
            }
            _ => {}
        }
        let preview = matches!(event, crate::source::ProgressEvent::Metadata(_));
        let _ = ptx.send(Msg::Progress { req, event });
        if preview && super::terminal::is_active() {
            let (drawn, wait) = std::sync::mpsc::channel();
            if ptx.send(Msg::AfterDraw(drawn)).is_ok() {
                let _ = wait.recv_timeout(PREVIEW_DRAW_WAIT);
            }
        }
    });
    let settings = Settings {
        load: opts.clone(),
        config: findings.cloned().unwrap_or_default(),
        findings: findings.is_some(),
        signatures,
    };
    let opened = pipeline::open(&input(target), &settings, &progress);
    if let (Err(crate::Error::SeveralImages { images, .. }), Target::Reference(reference)) =
        (&opened, target)
    {
        let _ = tx.send(Msg::Choices {
            req,
            reference: reference.clone(),
            images: images.clone(),
        });
        return;
    }
    let opened = opened.map_err(|e| e.to_string());
    let _ = tx.send(Msg::Loaded {
        req,
        result: opened
            .as_ref()
            .map(|o| Box::new(loaded(o)))
            .map_err(Clone::clone),
    });
    // The explorer opens as soon as the image is read; findings follow.
    if let (Ok(opened), true) = (opened, findings.is_some()) {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let a = opened.analyse();
            (a.findings, a.packages)
        }))
        .map_err(|_| format!("the findings pass failed: {}", take_panic()));
        let _ = tx.send(Msg::Findings { req, result });
    }
}

struct ReadJob<'a> {
    req: u64,
    ticket: &'a AtomicU64,
    image: &'a Image,
    version: VersionId,
    name: &'a [u8],
    offset: u64,
    first_line: usize,
    binary: Option<bool>,
    syntax: Option<String>,
    rules: &'a RuleSet,
    to_end: bool,
}

/// True when the bytes look binary: a NUL, or many control bytes or invalid UTF-8 sequences.
pub fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return true;
    }
    let mut odd = 0usize;
    for chunk in head.utf8_chunks() {
        odd += chunk.invalid().len();
        odd += chunk
            .valid()
            .bytes()
            .filter(|b| b.is_ascii_control() && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0c | 0x1b))
            .count();
    }
    // A multi-byte character cut at the end of the chunk is not a sign of binary data.
    odd > 8 && odd * 20 > head.len()
}

fn content_size(image: &Image, version: VersionId) -> u64 {
    let v = &image.fs.versions[version as usize];
    match (v.kind, v.link_version) {
        (EntryKind::HardLink, Some(t)) => image.fs.versions[t as usize].size,
        _ => v.size,
    }
}

/// Splits text into lines (without `\n`, `\r\n` endings trimmed); invalid UTF-8 lines are made
/// visible as `\xNN` escapes.
pub fn split_lines(body: &[u8]) -> Vec<String> {
    let body = body.strip_suffix(b"\n").unwrap_or(body);
    if body.is_empty() {
        return vec![String::new()];
    }
    body.split(|&b| b == b'\n')
        .map(|l| {
            let l = l.strip_suffix(b"\r").unwrap_or(l);
            match std::str::from_utf8(l) {
                Ok(s) => s.to_owned(),
                Err(_) => crate::model::sanitize_bytes(l),
            }
        })
        .collect()
}

fn read(job: &ReadJob<'_>, tx: &Sender) {
    let current = || job.ticket.load(Ordering::SeqCst) == job.req;
    if !current() {
        return;
    }
    if let (true, Some(binary)) = (job.to_end, job.binary) {
        if let Err(error) = read_to_end(job, binary, tx) {
            let _ = tx.send(Msg::ContentError {
                req: job.req,
                error,
            });
        }
        return;
    }
    let size = content_size(job.image, job.version);
    let want = if job.binary == Some(true) {
        BINARY_CHUNK
    } else {
        TEXT_CHUNK
    };
    let bytes = match crate::source::content::read_range(job.image, job.version, job.offset, want) {
        Ok(b) => b,
        Err(e) => {
            let _ = tx.send(Msg::ContentError {
                req: job.req,
                error: e.to_string(),
            });
            return;
        }
    };
    let end = job.offset + bytes.len() as u64;
    let eof = end >= size || bytes.is_empty();
    let binary = job.binary.unwrap_or_else(|| looks_binary(&bytes));
    if binary {
        let masks = super::mask::file_spans(job.rules, job.image, job.version, job.offset, &bytes);
        let _ = tx.send(Msg::Content {
            req: job.req,
            chunk: Chunk::Binary {
                offset: job.offset,
                bytes,
                eof,
                masks,
            },
        });
        return;
    }
    let take = if eof {
        bytes.len()
    } else {
        bytes
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(bytes.len(), |i| i + 1)
    };
    let lines = split_lines(&bytes[..take]);
    let spans = super::mask::file_spans(
        job.rules,
        job.image,
        job.version,
        job.offset,
        &bytes[..take],
    );
    let masks = super::mask::line_spans(&bytes[..take], job.offset, &spans)
        .into_iter()
        .map(|(i, r)| (job.first_line + i, r))
        .collect();
    let next = job.offset + take as u64;
    let assets = highlight::assets();
    let syntax = match &job.syntax {
        Some(s) => assets.syntaxes.find_syntax_by_name(s),
        None if job.offset == 0 => {
            highlight::detect(assets, job.name, lines.first().map_or("", String::as_str))
        }
        None => None,
    }
    .filter(|s| s.name != "Plain Text");
    let _ = tx.send(Msg::Content {
        req: job.req,
        chunk: Chunk::Text {
            first_line: job.first_line,
            lines: lines.clone(),
            next,
            eof,
            syntax: syntax.map(|s| s.name.clone()),
            masks,
        },
    });
    let Some(syntax) = syntax else {
        return;
    };
    let mut batch = Vec::with_capacity(HIGHLIGHT_BATCH);
    let mut first = job.first_line;
    let send = |batch: &mut Vec<highlight::StyledLine>, first: &mut usize| {
        let n = batch.len();
        let _ = tx.send(Msg::Highlighted {
            req: job.req,
            first_line: *first,
            lines: std::mem::take(batch),
        });
        *first += n;
    };
    highlight::highlight_lines(assets, syntax, &lines, &|| !current(), &mut |l| {
        batch.push(l);
        if batch.len() == HIGHLIGHT_BATCH {
            send(&mut batch, &mut first);
        }
    });
    if !batch.is_empty() && current() {
        send(&mut batch, &mut first);
    }
}

/// Reads the rest of the file from `job.offset` in one pass over its layer (opened and
/// skipped to the offset once), sending a chunk per [`TO_END_CHUNK`] bytes (cut after the last
/// line break, the rest carried into the next chunk) until the end or until the viewer moves
/// on (its ticket changes). The lines passed over are sent plain; the last
/// [`TAIL_HIGHLIGHT`] lines are highlighted when `job.syntax` is set.
fn read_to_end(job: &ReadJob<'_>, binary: bool, tx: &Sender) -> Result<(), String> {
    let current = || job.ticket.load(Ordering::SeqCst) == job.req;
    let (mut stream, left) =
        crate::source::content::open_content(job.image, job.version, job.offset)
            .map_err(|e| e.to_string())?;
    let size = job.offset + left;
    let mut offset = job.offset;
    let mut first_line = job.first_line;
    let mut buf: Vec<u8> = Vec::new();
    let mut tail: std::collections::VecDeque<String> = std::collections::VecDeque::new();
    loop {
        if !current() {
            return Ok(());
        }
        let n = (&mut stream)
            .take(TO_END_CHUNK)
            .read_to_end(&mut buf)
            .map_err(|e| format!("reading layer: {e}"))?;
        let end = offset + buf.len() as u64;
        let eof = n == 0 || end >= size;
        if binary {
            let bytes = std::mem::take(&mut buf);
            let masks = super::mask::file_spans(job.rules, job.image, job.version, offset, &bytes);
            let _ = tx.send(Msg::Content {
                req: job.req,
                chunk: Chunk::Binary {
                    offset,
                    bytes,
                    eof,
                    masks,
                },
            });
            offset = end;
        } else {
            let take = if eof {
                buf.len()
            } else {
                buf.iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(buf.len(), |i| i + 1)
            };
            let body = &buf[..take];
            let lines = if body.is_empty() {
                Vec::new()
            } else {
                split_lines(body)
            };
            let spans = super::mask::file_spans(job.rules, job.image, job.version, offset, body);
            let masks = super::mask::line_spans(body, offset, &spans)
                .into_iter()
                .map(|(i, r)| (first_line + i, r))
                .collect();
            if job.syntax.is_some() {
                let keep = lines.len().min(TAIL_HIGHLIGHT);
                tail.extend(lines[lines.len() - keep..].iter().cloned());
                while tail.len() > TAIL_HIGHLIGHT {
                    tail.pop_front();
                }
            }
            let count = lines.len();
            offset += take as u64;
            let _ = tx.send(Msg::Content {
                req: job.req,
                chunk: Chunk::Text {
                    first_line,
                    lines,
                    next: offset,
                    eof,
                    syntax: None,
                    masks,
                },
            });
            first_line += count;
            buf.drain(..take);
        }
        if eof {
            break;
        }
    }
    let assets = highlight::assets();
    let Some(syntax) = job
        .syntax
        .as_deref()
        .and_then(|s| assets.syntaxes.find_syntax_by_name(s))
    else {
        return Ok(());
    };
    let lines: Vec<String> = tail.into();
    let mut batch = Vec::with_capacity(HIGHLIGHT_BATCH);
    let mut first = first_line - lines.len();
    highlight::highlight_lines(assets, syntax, &lines, &|| !current(), &mut |l| {
        batch.push(l);
        if batch.len() == HIGHLIGHT_BATCH {
            let n = batch.len();
            let _ = tx.send(Msg::Highlighted {
                req: job.req,
                first_line: first,
                lines: std::mem::take(&mut batch),
            });
            first += n;
        }
    });
    if !batch.is_empty() && current() {
        let _ = tx.send(Msg::Highlighted {
            req: job.req,
            first_line: first,
            lines: batch,
        });
    }
    Ok(())
}

/// Runs `cmds` and every command they lead to inline until the app is idle (tests, scripts).
pub fn settle(app: &mut App, cmds: Vec<Command>) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut queue = cmds;
    loop {
        for c in queue.drain(..) {
            execute(c, &tx);
        }
        while let Ok(m) = rx.try_recv() {
            queue.extend(app.update(Event::Msg(m)));
        }
        if queue.is_empty() {
            break;
        }
    }
}

/// The paths of the image that the file at `listing` lists as `package`'s files.
fn package_files(
    image: &Image,
    version: VersionId,
    listing: &str,
    package: &Package,
) -> Result<Vec<PathId>, String> {
    let bytes = crate::source::content::read_content(image, version, MAX_LISTING_BYTES)
        .map_err(|e| format!("/{listing}: {e}"))?;
    let files = crate::analysis::packages::files::listed_files(package, listing, &bytes)?;
    Ok(files
        .iter()
        .filter_map(|f| image.fs.lookup(f.as_bytes()))
        .collect())
}

/// Listing files larger than this are not read (rpm databases are the largest, tens of MiB).
const MAX_LISTING_BYTES: u64 = 256 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_detection_and_lines() {
        assert!(looks_binary(b"\x7fELF\x02\x01\x00\x00"));
        assert!(!looks_binary(b"plain text\nwith \x1b[31mcolour\x1b[0m\n"));
        assert_eq!(split_lines(b"a\r\nb\n"), vec!["a", "b"]);
        assert_eq!(split_lines(b"a\n\nb"), vec!["a", "", "b"]);
        assert_eq!(split_lines(b"caf\xe9\n"), vec!["caf\\xe9"]);
    }
}
