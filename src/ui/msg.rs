//! The messages between the explorer's state and its worker: what to open ([`Launch`],
//! [`Target`]), work for the worker ([`Command`]), its answers ([`Msg`]) and every input of
//! [`crate::ui::App::update`] ([`Event`]).

use std::ops::Range;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use crossterm::event::{KeyEvent, MouseEvent};

use super::app::{App, Level, LoadState, Screen};
use super::filetree::{LayerView, Mode, TreeIndex};
use super::highlight::StyledLine;
use super::state::anatomy::RawListing;
use super::state::compare::{CompareState, TextDiff};
use super::state::findings::FindingsState;
use super::state::images::ImageRow;
use super::text;
use crate::analysis::diff::Diff;
use crate::analysis::efficiency::Efficiency;
use crate::analysis::finding::{Finding, Package};
use crate::analysis::pipeline::{Analysed, Settings};
use crate::config::FindingsConfig;
use crate::model::fs::VersionId;
use crate::model::Image;
use crate::redact::rules::RuleSet;
use crate::source::{LoadOptions, ProgressEvent};

/// What the explorer opens first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launch {
    /// The daemon's image list (`strata` with no argument).
    List,
    /// One image reference or archive path.
    Image(String),
    /// The built-in demo image.
    Demo,
    /// One image (A) with a second one (B) compared against it (`strata A --compare B`).
    Compare(String, String),
}

/// What to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A daemon reference, archive or layout (anything `cli::load` reads).
    Reference(String),
    /// The built-in demo image.
    Demo,
    /// The `@N`-th image of an archive or layout holding several (chosen from its list).
    Pick(String, usize),
}

/// A loaded image with everything the UI derives from it once.
#[derive(Debug)]
pub struct Loaded {
    /// The image.
    pub image: Arc<Image>,
    /// Size accounting.
    pub eff: Efficiency,
    /// Sorted children for the tree.
    pub index: Arc<TreeIndex>,
    /// The view of the first layer shown.
    pub view: Arc<LayerView>,
    /// The largest file versions of any layer, largest first.
    pub largest: Vec<VersionId>,
}

/// Part of a file's content, read by the worker.
#[derive(Debug)]
pub enum Chunk {
    /// Text lines (without `\n`; raw, made safe at render time).
    Text {
        /// Index of the first line.
        first_line: usize,
        /// Lines.
        lines: Vec<String>,
        /// File offset to continue from.
        next: u64,
        /// True at the end of the file.
        eof: bool,
        /// Syntax name used for highlighting, if any.
        syntax: Option<String>,
        /// Parts of lines a secret rule matched: (line index, byte range in the line).
        masks: Vec<(usize, Range<usize>)>,
    },
    /// Raw bytes for the hex dump.
    Binary {
        /// Offset of the first byte.
        offset: u64,
        /// Bytes.
        bytes: Vec<u8>,
        /// True at the end of the file.
        eof: bool,
        /// File offsets a secret rule matched.
        masks: Vec<Range<u64>>,
    },
}

pub use super::extract::{ExtractError, Summary as ExtractSummary};

/// A raw secret read back for the reveal key. It lives only in memory and on screen: its
/// `Debug` output is redacted so it never reaches a log.
pub struct Secret(String);

impl Secret {
    /// Wraps a raw value.
    pub fn new(raw: String) -> Self {
        Self(raw)
    }

    /// The raw value (draw it, never log it).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

/// Findings and the package inventory of one image.
pub type FindingsResult = Result<(Vec<Finding>, Vec<Package>), String>;

/// Messages from the worker.
#[derive(Debug)]
pub enum Msg {
    /// Entries read so far by a raw listing.
    RawProgress {
        /// Listing request.
        req: u64,
        /// Entries read.
        entries: usize,
    },
    /// A layer's raw listing was read.
    RawEntries {
        /// Listing request.
        req: u64,
        /// The listing, or why not.
        result: Result<Arc<RawListing>, String>,
    },
    /// The files a package lists, as paths of the image.
    PackageFiles {
        /// Request.
        req: u64,
        /// The package's paths, or why not.
        result: Result<Vec<crate::model::fs::PathId>, String>,
    },
    /// The daemon's image list.
    Images(Result<Vec<ImageRow>, String>),
    /// The archive or layout asked for holds several images and none was chosen: the
    /// explorer lists them to choose from.
    Choices {
        /// Load request.
        req: u64,
        /// The archive or layout as the user named it.
        reference: String,
        /// Its images, in `@N` order.
        images: Vec<crate::model::summary::ImageSummary>,
    },
    /// The syntax highlighting assets are loaded: redraw what was drawn plain.
    Warmed,
    /// Sent by a load right after its metadata, and answered once the next frame is drawn: the
    /// layer list is on screen before the layers' reading takes the cores.
    AfterDraw(std::sync::mpsc::Sender<()>),
    /// Load progress.
    Progress {
        /// Load request.
        req: u64,
        /// Event.
        event: ProgressEvent,
    },
    /// The load finished.
    Loaded {
        /// Load request.
        req: u64,
        /// The image or the error.
        result: Result<Box<Loaded>, String>,
    },
    /// File content.
    Content {
        /// Viewer request.
        req: u64,
        /// The content.
        chunk: Chunk,
    },
    /// Highlighted lines for the viewer.
    Highlighted {
        /// Viewer request.
        req: u64,
        /// Index of the first line.
        first_line: usize,
        /// Lines.
        lines: Vec<StyledLine>,
    },
    /// Reading content failed.
    ContentError {
        /// Viewer request.
        req: u64,
        /// The error.
        error: String,
    },
    /// An extraction finished.
    Extracted {
        /// Extract request.
        req: u64,
        /// What was written, or why nothing was.
        result: Result<ExtractSummary, ExtractError>,
    },
    /// An extraction is under way.
    ExtractProgress {
        /// Extract request.
        req: u64,
        /// Files written so far.
        files: usize,
        /// Their bytes.
        bytes: u64,
    },
    /// The findings pass over a loaded image finished.
    Findings {
        /// Load request the findings belong to.
        req: u64,
        /// Findings (worst first) and packages, or why the pass failed.
        result: FindingsResult,
    },
    /// A layer view for the tree was built.
    View {
        /// View request.
        req: u64,
        /// The view.
        view: Arc<LayerView>,
    },
    /// A secret was read back for the reveal key.
    Revealed {
        /// Reveal request.
        req: u64,
        /// The raw value, or why it could not be read.
        result: Result<Secret, String>,
    },
    /// Image B was read and compared with the open image.
    Compared {
        /// Compare request.
        req: u64,
        /// The comparison and image B, or why not.
        result: Result<(Box<Diff>, Arc<Image>), String>,
    },
    /// The text diff of one path's two versions.
    FileDiff {
        /// File-diff request.
        req: u64,
        /// The unified diff (secrets masked), or why there is none.
        result: Result<TextDiff, String>,
    },
}

/// Work for the worker.
#[derive(Debug)]
pub enum Command {
    /// Read one layer's tar entries exactly as stored, once (the anatomy view).
    RawEntries {
        /// Listing request (stale when `ticket` holds another value).
        req: u64,
        /// Current listing request, shared with the app (latest wins).
        ticket: Arc<AtomicU64>,
        /// The image.
        image: Arc<Image>,
        /// Layer.
        layer: usize,
    },
    /// Read the file listing a package's files and find them in the image.
    PackageFiles {
        /// Request.
        req: u64,
        /// The image.
        image: Arc<Image>,
        /// The version of the listing file.
        version: VersionId,
        /// The listing file's path (no leading `/`).
        listing: String,
        /// The package.
        package: Box<Package>,
    },
    /// Ask the daemon for its images.
    ListImages,
    /// Load syntaxes and themes ahead of use.
    Warmup,
    /// Load an image.
    Load {
        /// Request id.
        req: u64,
        /// What to load.
        target: Target,
        /// Options.
        opts: LoadOptions,
        /// Run the findings pass after loading, with this configuration.
        findings: Option<Arc<FindingsConfig>>,
        /// What registry signatures are checked against.
        signatures: Arc<crate::analysis::signatures::SignatureOptions>,
    },
    /// Read a chunk of a file version.
    Read {
        /// Viewer request (stale when `ticket` holds another value).
        req: u64,
        /// Current viewer request, shared with the app (latest wins).
        ticket: Arc<AtomicU64>,
        /// The image.
        image: Arc<Image>,
        /// The version to read.
        version: VersionId,
        /// File name, for syntax detection.
        name: Vec<u8>,
        /// Byte offset.
        offset: u64,
        /// Index of the first line of this chunk (text files).
        first_line: usize,
        /// `Some(true)` for binary, `Some(false)` for text, `None` to detect (first chunk).
        binary: Option<bool>,
        /// Syntax chosen for the first chunk.
        syntax: Option<String>,
        /// The secret rules whose matches the viewer masks.
        rules: Arc<RuleSet>,
        /// Read on to the end of the file in one pass (`G`, search), one chunk message per
        /// [`crate::ui::worker::TO_END_CHUNK`], instead of one chunk.
        to_end: bool,
    },
    /// Build the tree's view of one layer (milliseconds on large images: never on the render
    /// path).
    BuildView {
        /// View request (stale when `ticket` holds another value).
        req: u64,
        /// Current view request, shared with the app (latest wins).
        ticket: Arc<AtomicU64>,
        /// The image.
        image: Arc<Image>,
        /// Layer.
        layer: usize,
        /// Compare mode.
        mode: Mode,
    },
    /// Save a file, or a directory's subtree, into a directory.
    Extract {
        /// Request id.
        req: u64,
        /// The image.
        image: Arc<Image>,
        /// What, where, and what the user allowed.
        request: super::extract::Request,
    },
    /// Read image B through the engine and compare the open image (A) with it.
    Compare {
        /// Compare request.
        req: u64,
        /// The open image, analysed (findings and packages included).
        a: Box<Analysed>,
        /// Image B.
        b: Target,
        /// How to read and analyse B (A's settings).
        settings: Settings,
    },
    /// Read both versions of a path and diff their text.
    DiffFile {
        /// File-diff request.
        req: u64,
        /// Image A and its version of the path (`None` when absent).
        a: (Arc<Image>, Option<VersionId>),
        /// Image B and its version of the path.
        b: (Arc<Image>, Option<VersionId>),
        /// The secret rules whose matches are masked.
        rules: Arc<RuleSet>,
    },
    /// Read one matched secret back from its layer (the reveal key).
    Reveal {
        /// Reveal request.
        req: u64,
        /// The image.
        image: Arc<Image>,
        /// The file version holding the match.
        version: VersionId,
        /// Byte offset of the match in the file.
        offset: u64,
        /// Length of the match.
        len: u64,
    },
}

/// Input to [`crate::ui::App::update`].
#[derive(Debug)]
pub enum Event {
    /// A key press.
    Key(KeyEvent),
    /// A mouse event.
    Mouse(MouseEvent),
    /// The terminal was resized.
    Resize(u16, u16),
    /// A worker message.
    Msg(Msg),
}

/// How each worker message changes the state.
impl App {
    // ----- messages -----------------------------------------------------------------------

    pub(in crate::ui) fn message(&mut self, m: Msg) -> Vec<Command> {
        match m {
            Msg::RawProgress { req, entries } => {
                self.anatomy.progress(req, entries);
                Vec::new()
            }
            Msg::RawEntries { req, result } => {
                self.anatomy.listing(req, result);
                Vec::new()
            }
            Msg::PackageFiles { req, result } => self.package_files(req, result),
            Msg::Images(result) => {
                let notice = match result {
                    Ok(rows) => {
                        self.images.set(rows);
                        (self.images.rows.is_empty()).then(|| {
                            (
                                "the Docker daemon has no images: showing the built-in demo"
                                    .to_string(),
                                Level::Info,
                            )
                        })
                    }
                    Err(e) => {
                        self.images.loading = false;
                        Some((
                            format!(
                                "no reachable Docker daemon ({}): showing the built-in demo",
                                text::one_line(&e)
                            ),
                            Level::Error,
                        ))
                    }
                };
                match notice {
                    Some(n) if self.screen == Screen::Images => {
                        self.notice = Some(n);
                        vec![self.open(Target::Demo)]
                    }
                    _ => Vec::new(),
                }
            }
            Msg::Choices {
                req,
                reference,
                images,
            } => {
                if self.is_current_load(req) {
                    self.images.set_choices(reference, &images);
                    self.screen = Screen::Images;
                    self.load = LoadState::Idle;
                    self.notice = Some((
                        format!(
                            "{} holds {} images: choose one with Enter",
                            self.images.title_source(),
                            images.len()
                        ),
                        Level::Info,
                    ));
                }
                Vec::new()
            }
            Msg::Warmed => Vec::new(),
            Msg::AfterDraw(drawn) => {
                self.after_draw.push(drawn);
                Vec::new()
            }
            Msg::Progress { req, event } => {
                if self.is_current_load(req) {
                    self.progress_event(event);
                }
                Vec::new()
            }
            Msg::Loaded { req, result } => {
                if !self.is_current_load(req) {
                    return Vec::new();
                }
                match result {
                    Ok(l) => return self.loaded_image(*l),
                    Err(e) => self.load = LoadState::Failed(text::one_line(&e)),
                }
                Vec::new()
            }
            Msg::View { req, view } => {
                if self.tree.view_built(req, view) {
                    self.finish_jump();
                }
                Vec::new()
            }
            Msg::Content { req, chunk } => {
                if !self.viewer.content(req, chunk) {
                    return Vec::new();
                }
                self.read_ahead().into_iter().collect()
            }
            Msg::Highlighted {
                req,
                first_line,
                lines,
            } => {
                self.viewer.highlighted(req, first_line, lines);
                Vec::new()
            }
            Msg::ContentError { req, error } => {
                if let Some(n) = self.viewer.content_error(req, &error) {
                    self.notice = Some((n, Level::Error));
                }
                Vec::new()
            }
            Msg::Findings { req, result } => {
                if req == self.load_req && self.loaded() {
                    match result {
                        Ok((findings, packages)) => {
                            self.set_findings(findings, packages);
                            return self.compare_pending().into_iter().collect();
                        }
                        Err(e) => {
                            self.findings.state = FindingsState::Failed(text::one_line(&e));
                            if self.compare.state == CompareState::Waiting {
                                self.compare.state = CompareState::Failed(
                                    "the open image's findings pass failed".into(),
                                );
                            }
                        }
                    }
                }
                Vec::new()
            }
            Msg::Compared { req, result } => {
                if req == self.compare.req {
                    match result {
                        Ok((diff, image_b)) => {
                            self.compare.set(*diff, image_b);
                            self.compare.set_filter(self.tree.filter_regex());
                        }
                        Err(e) => self.compare.state = CompareState::Failed(text::one_line(&e)),
                    }
                }
                Vec::new()
            }
            Msg::FileDiff { req, result } => {
                self.compare.file_diff(req, result);
                Vec::new()
            }
            Msg::Revealed { req, result } => {
                if let Some(n) = self.findings.revealed_value(req, result) {
                    self.notice = Some((n, Level::Error));
                }
                Vec::new()
            }
            Msg::Extracted { req, result } => {
                if req == self.extract_req {
                    self.extracted(result);
                }
                Vec::new()
            }
            Msg::ExtractProgress { req, files, bytes } => {
                if req == self.extract_req {
                    self.notice = Some((
                        format!("extracting… {files} files ({})", text::bytes(bytes)),
                        Level::Info,
                    ));
                }
                Vec::new()
            }
        }
    }

    pub(in crate::ui) fn progress_event(&mut self, event: ProgressEvent) {
        match event {
            ProgressEvent::Metadata(img) => {
                if self.image.is_none() {
                    self.set_image(Arc::new(*img));
                }
            }
            ProgressEvent::Phase(p) => self.progress.phase = text::one_line(&p),
            ProgressEvent::Bytes(b) => self.progress.bytes = b,
            ProgressEvent::LayerStarted(n) => self.progress.started = n,
            ProgressEvent::LayerBytes { .. } => {}
            ProgressEvent::Notice(n) => self.progress.phase = text::one_line(&n),
            ProgressEvent::LayerDone { done, total } => {
                self.progress.done = done;
                self.progress.total = total;
            }
        }
    }

    pub(in crate::ui) fn loaded_image(&mut self, l: Loaded) -> Vec<Command> {
        let Loaded {
            image,
            eff,
            index,
            view,
            largest,
        } = l;
        self.largest = largest;
        let keep_layer = self
            .layers
            .selected
            .min(image.layers.len().saturating_sub(1));
        self.set_image(image.clone());
        self.layers.selected = keep_layer;
        self.eff = Some(eff);
        self.tree.loaded(image, index, view);
        self.load = LoadState::Done;
        self.findings.state = FindingsState::Running;
        self.anatomy.dockerfile = None;
        if self.anatomy.open {
            self.ensure_dockerfile();
        }
        let mut cmds: Vec<Command> = self.want_view().into_iter().collect();
        cmds.extend(self.anatomy_entries());
        cmds
    }

    pub(in crate::ui) fn extracted(&mut self, result: Result<ExtractSummary, ExtractError>) {
        match result {
            Ok(summary) => {
                self.prompt.pending_extract = None;
                self.notice = Some((text::one_line(&summary.status()), Level::Info));
            }
            Err(ExtractError::Exists { first, count }) => self.prompt.ask_overwrite(first, count),
            Err(ExtractError::MissingDir(dir)) => self.prompt.ask_create(dir),
            Err(ExtractError::Failed(e)) => {
                self.prompt.active = None;
                self.prompt.pending_extract = None;
                self.notice = Some((
                    format!("extract failed: {}", text::one_line(&e)),
                    Level::Error,
                ));
            }
        }
    }

    pub(in crate::ui) fn is_current_load(&self, req: u64) -> bool {
        matches!(&self.load, LoadState::Loading { req: r, .. } if *r == req)
    }

    pub(in crate::ui) fn set_image(&mut self, image: Arc<Image>) {
        self.layers.set_image(&image, &self.findings.cfg.redactor());
        self.image = Some(image);
    }
}
