//! The explorer's state and its update function: key presses, mouse events and worker messages
//! in, state changes and [`Command`]s for the worker out. Nothing here blocks or does I/O.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::{Position, Rect};

use super::filetree::{Change, LayerView, Mode, Sort, TreeIndex, TreeState};
use super::highlight::StyledLine;
use super::keymap::{self, Action, Scope};
use super::text;
use crate::analysis::efficiency::Efficiency;
use crate::analysis::finding::{Category, Finding, Package, Severity};
use crate::analysis::findings::FindingsConfig;
use crate::analysis::inspector::Inspector;
use crate::model::fs::{EntryKind, PathId, VersionId};
use crate::model::Image;
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
}

/// What to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A daemon reference, archive or layout (anything `cli::load` reads).
    Reference(String),
    /// The built-in demo image.
    Demo,
}

/// One image of the daemon's image list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImageRow {
    /// `repo:tag`, or the short id for untagged images.
    pub reference: String,
    /// Image id (`sha256:…`).
    pub id: String,
    /// Size in bytes as the daemon reports it.
    pub size: u64,
    /// Creation time, seconds since the epoch.
    pub created: i64,
}

/// Severity of a badge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadgeLevel {
    /// Informational.
    Info,
    /// Worth a look.
    Warning,
    /// A real problem (secret, setuid root…).
    Critical,
}

/// A short marker shown on a layer row and/or a tree row (findings hook).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Badge {
    /// Layer it belongs to (shown in the layers pane).
    pub layer: Option<usize>,
    /// Path it belongs to (shown in the tree).
    pub path: Option<PathId>,
    /// Text, a few characters (already safe).
    pub text: String,
    /// Severity (colour).
    pub level: BadgeLevel,
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
    },
    /// Raw bytes for the hex dump.
    Binary {
        /// Offset of the first byte.
        offset: u64,
        /// Bytes.
        bytes: Vec<u8>,
        /// True at the end of the file.
        eof: bool,
    },
}

/// Why an extraction did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtractError {
    /// The target file exists; ask before overwriting.
    Exists(PathBuf),
    /// Anything else, phrased for the user.
    Failed(String),
}

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
    /// The daemon's image list.
    Images(Result<Vec<ImageRow>, String>),
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
        /// Written file and byte count, or why not.
        result: Result<(PathBuf, u64), ExtractError>,
    },
    /// The findings pass over a loaded image finished.
    Findings {
        /// Load request the findings belong to.
        req: u64,
        /// Findings (worst first) and packages, or why the pass failed.
        result: FindingsResult,
    },
    /// A secret was read back for the reveal key.
    Revealed {
        /// Reveal request.
        req: u64,
        /// The raw value, or why it could not be read.
        result: Result<Secret, String>,
    },
}

/// Work for the worker.
#[derive(Debug)]
pub enum Command {
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
    },
    /// Save a file version into a directory.
    Extract {
        /// Request id.
        req: u64,
        /// The image.
        image: Arc<Image>,
        /// The version.
        version: VersionId,
        /// File name to create (the path's last component).
        name: Vec<u8>,
        /// Target directory.
        dir: PathBuf,
        /// Replace an existing file.
        overwrite: bool,
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

/// Input to [`App::update`].
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

/// Top-level screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// The daemon's image list.
    Images,
    /// The explorer panes.
    Explorer,
}

/// Panes of the explorer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    /// Layers list.
    Layers,
    /// Selected layer's details.
    LayerDetails,
    /// Image details.
    ImageDetails,
    /// File tree (or the viewer when open).
    Tree,
    /// Findings list (replaces the tree while open).
    Findings,
}

/// Loading state.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadState {
    /// Nothing requested.
    Idle,
    /// Loading.
    Loading {
        /// Request id.
        req: u64,
        /// What.
        label: String,
    },
    /// Loaded.
    Done,
    /// Failed with this message.
    Failed(String),
}

/// Load progress for the progress bar.
#[derive(Debug, Clone, Default)]
pub struct LoadProgress {
    /// Last phase message.
    pub phase: String,
    /// Layers finished.
    pub done: usize,
    /// Layers to read (0 when unknown).
    pub total: usize,
    /// Layers started (streaming sources).
    pub started: usize,
    /// Bytes read.
    pub bytes: u64,
}

/// One row of the layers pane: a history step, with or without a layer.
#[derive(Debug, Clone)]
pub struct LayerRow {
    /// The layer this step produced (`None` for empty steps such as ENV or CMD).
    pub layer: Option<usize>,
    /// Index into the image history.
    pub history: Option<usize>,
    /// One-line instruction, already safe.
    pub text: String,
}

/// What the viewer shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewerKind {
    /// Waiting for the first chunk.
    Loading,
    /// Text lines.
    Text,
    /// Hex dump.
    Binary,
    /// A message instead of content (directories, links, devices, errors).
    Message(String),
}

/// The file viewer.
#[derive(Debug)]
pub struct Viewer {
    /// Request id of this viewer.
    pub req: u64,
    /// The version shown.
    pub version: VersionId,
    /// Its path.
    pub path: PathId,
    /// Layer the content comes from.
    pub layer: usize,
    /// Safe display path.
    pub title: String,
    /// File size.
    pub size: u64,
    /// What is shown.
    pub kind: ViewerKind,
    /// Text lines (raw; made safe when drawn).
    pub lines: Vec<String>,
    /// Highlighted lines, when ready.
    pub styled: Vec<Option<StyledLine>>,
    /// Syntax name.
    pub syntax: Option<String>,
    /// Bytes for the hex dump.
    pub bytes: Vec<u8>,
    /// Offset to read next.
    pub next: u64,
    /// Whole file read.
    pub eof: bool,
    /// A chunk is being read.
    pub pending: bool,
    /// First line (or hex row) on screen.
    pub scroll: usize,
    /// Rows on screen at the last draw.
    pub height: usize,
    /// Bytes per hex dump row (16, or 8 on narrow panes).
    pub hex_per_row: usize,
}

impl Viewer {
    /// Number of scrollable rows loaded.
    pub fn rows(&self) -> usize {
        match self.kind {
            ViewerKind::Text => self.lines.len(),
            ViewerKind::Binary => self.bytes.len().div_ceil(self.hex_per_row.max(1)),
            _ => 0,
        }
    }
}

/// A file chosen for extraction.
#[derive(Debug, Clone)]
pub struct ExtractTarget {
    /// Version to write.
    pub version: VersionId,
    /// File name (last path component, raw bytes).
    pub name: Vec<u8>,
    /// Safe display path.
    pub display: String,
    /// Layer of the version.
    pub layer: usize,
}

/// A one-line prompt in the status bar.
#[derive(Debug, Clone)]
pub enum Prompt {
    /// Typing a path filter.
    Filter {
        /// Text typed.
        text: String,
        /// Error of the current text, if it is not a valid regex.
        error: Option<String>,
    },
    /// Typing the directory to extract into.
    ExtractDir {
        /// Text typed.
        text: String,
        /// The file.
        target: ExtractTarget,
    },
    /// Confirming that one secret may be shown on screen.
    Reveal {
        /// Index of the finding in [`App::findings`].
        finding: usize,
    },
    /// Confirming an overwrite.
    Overwrite {
        /// The file.
        target: ExtractTarget,
        /// Directory chosen.
        dir: PathBuf,
        /// Existing file.
        existing: PathBuf,
    },
}

/// Severity of a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Information.
    Info,
    /// Something went wrong.
    Error,
}

/// Screen regions recorded at the last draw, for mouse hit-testing.
#[derive(Debug, Clone, Default)]
pub struct Areas {
    /// Layers pane (inner rows area).
    pub layers: Rect,
    /// Layer details pane.
    pub layer_details: Rect,
    /// Image details pane.
    pub image_details: Rect,
    /// Tree or viewer pane (inner rows area).
    pub tree: Rect,
    /// Image list (inner rows area).
    pub images: Rect,
    /// Findings list (inner rows area).
    pub findings: Rect,
}

/// Rows of the findings list per finding.
pub const FINDING_ROWS: usize = 2;

/// State of the reveal key for the selected secret finding.
#[derive(Debug)]
pub enum Reveal {
    /// Reading the value back.
    Pending {
        /// Reveal request.
        req: u64,
        /// Finding index.
        finding: usize,
    },
    /// Shown on screen until the selection moves.
    Shown {
        /// Finding index.
        finding: usize,
        /// The raw value.
        secret: Secret,
    },
}

/// Progress of the findings pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindingsState {
    /// No image loaded yet.
    Idle,
    /// Running on the worker.
    Running,
    /// Done.
    Ready,
    /// Failed with this message.
    Failed(String),
}

/// The whole UI state.
#[derive(Debug)]
pub struct App {
    /// Current screen.
    pub screen: Screen,
    /// Load options for every image opened.
    pub opts: LoadOptions,
    /// Images from the daemon.
    pub images: Vec<ImageRow>,
    /// Selected image row.
    pub images_selected: usize,
    /// First image row on screen.
    pub images_scroll: usize,
    /// The image list is being fetched.
    pub images_loading: bool,
    /// The explorer was opened from the image list (Back returns there).
    pub from_list: bool,
    /// The image: a preview without files while loading, then the full one.
    pub image: Option<Arc<Image>>,
    /// Size accounting, once loaded.
    pub eff: Option<Efficiency>,
    /// The largest file versions of any layer, largest first.
    pub largest: Vec<VersionId>,
    /// Load state.
    pub load: LoadState,
    /// Load progress.
    pub progress: LoadProgress,
    /// When the current load started.
    pub load_started: Option<Instant>,
    /// Rows of the layers pane.
    pub layer_rows: Vec<LayerRow>,
    /// Selected layer.
    pub layer: usize,
    /// First layers row on screen.
    pub layers_scroll: usize,
    /// Compare mode of the tree.
    pub mode: Mode,
    /// The tree, once loaded.
    pub tree: Option<TreeState>,
    tree_stale: bool,
    views: Vec<Arc<LayerView>>,
    /// Show the permission/owner/size columns.
    pub attributes: bool,
    /// Focused pane.
    pub focus: Pane,
    /// The viewer, when open.
    pub viewer: Option<Viewer>,
    /// The viewer takes the whole width.
    pub viewer_full: bool,
    /// The help overlay is shown.
    pub help: bool,
    /// Help scroll offset.
    pub help_scroll: usize,
    /// Scroll of the layer details pane.
    pub layer_details_scroll: usize,
    /// Scroll of the image details pane.
    pub image_details_scroll: usize,
    /// Active prompt.
    pub prompt: Option<Prompt>,
    /// Last regex filter text applied.
    pub filter_text: String,
    /// One-line notice in the status bar.
    pub notice: Option<(String, Level)>,
    /// Finding badges (set by the findings engine).
    pub badges: Vec<Badge>,
    /// Configuration of the findings pass.
    pub findings_cfg: Arc<FindingsConfig>,
    /// Findings of the loaded image, worst first.
    pub findings: Vec<Finding>,
    /// Package inventory of the loaded image.
    pub packages: Vec<Package>,
    /// Progress of the findings pass.
    pub findings_state: FindingsState,
    /// The findings pane is shown (in place of the tree).
    pub findings_open: bool,
    /// Selected finding.
    pub finding_selected: usize,
    /// First finding on screen.
    pub findings_scroll: usize,
    /// The revealed secret of the selected finding, if the user asked for it.
    pub reveal: Option<Reveal>,
    load_req: u64,
    reveal_req: u64,
    /// Time to first frame etc. can be measured from here.
    pub started: Instant,
    /// Set when the program should exit.
    pub quit: bool,
    /// Something changed since the last draw.
    pub dirty: bool,
    /// Terminal size.
    pub size: (u16, u16),
    /// Regions of the last draw.
    pub areas: Areas,
    next_req: u64,
    viewer_ticket: Arc<AtomicU64>,
    extract_req: u64,
    /// Default directory offered for extraction.
    pub extract_dir: String,
}

/// Longest secret read back for the reveal key.
const MAX_REVEAL: u64 = 16 << 10;

/// Short severity label for badges.
pub fn severity_short(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRIT",
        Severity::High => "HIGH",
        Severity::Medium => "MED",
        Severity::Low => "LOW",
        Severity::Info => "INFO",
    }
}

/// Badge level of a severity.
pub fn badge_level(s: Severity) -> BadgeLevel {
    match s {
        Severity::Critical | Severity::High => BadgeLevel::Critical,
        Severity::Medium | Severity::Low => BadgeLevel::Warning,
        Severity::Info => BadgeLevel::Info,
    }
}

/// Rows kept for the text viewer before reading the next chunk.
const READ_AHEAD_SCREENS: usize = 2;

impl App {
    /// A fresh app with the default findings configuration; call [`App::start`] for the
    /// first commands.
    pub fn new(opts: LoadOptions) -> Self {
        Self::with_findings(opts, Arc::new(FindingsConfig::default()))
    }

    /// A fresh app using `cfg` for findings. When `opts` has no content inspector, the
    /// findings inspector is installed so secrets are found during the single layer pass.
    pub fn with_findings(mut opts: LoadOptions, cfg: Arc<FindingsConfig>) -> Self {
        if opts.scan.inspector.is_none() {
            opts.scan.inspector = Some(Arc::new(Inspector::new(&cfg)));
        }
        let cwd = std::env::current_dir()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| ".".into());
        Self {
            screen: Screen::Explorer,
            opts,
            images: Vec::new(),
            images_selected: 0,
            images_scroll: 0,
            images_loading: false,
            from_list: false,
            image: None,
            eff: None,
            largest: Vec::new(),
            load: LoadState::Idle,
            progress: LoadProgress::default(),
            load_started: None,
            layer_rows: Vec::new(),
            layer: 0,
            layers_scroll: 0,
            mode: Mode::PerLayer,
            tree: None,
            tree_stale: false,
            views: Vec::new(),
            attributes: true,
            focus: Pane::Layers,
            viewer: None,
            viewer_full: false,
            help: false,
            help_scroll: 0,
            layer_details_scroll: 0,
            image_details_scroll: 0,
            prompt: None,
            filter_text: String::new(),
            notice: None,
            badges: Vec::new(),
            findings_cfg: cfg,
            findings: Vec::new(),
            packages: Vec::new(),
            findings_state: FindingsState::Idle,
            findings_open: false,
            finding_selected: 0,
            findings_scroll: 0,
            reveal: None,
            load_req: 0,
            reveal_req: 0,
            started: Instant::now(),
            quit: false,
            dirty: true,
            size: (0, 0),
            areas: Areas::default(),
            next_req: 1,
            viewer_ticket: Arc::new(AtomicU64::new(0)),
            extract_req: 0,
            extract_dir: cwd,
        }
    }

    /// The first commands for `launch`.
    pub fn start(&mut self, launch: Launch) -> Vec<Command> {
        let mut cmds = vec![Command::Warmup];
        match launch {
            Launch::List => {
                self.screen = Screen::Images;
                self.images_loading = true;
                cmds.push(Command::ListImages);
            }
            Launch::Image(r) => cmds.push(self.open(Target::Reference(r))),
            Launch::Demo => cmds.push(self.open(Target::Demo)),
        }
        cmds
    }

    fn req(&mut self) -> u64 {
        self.next_req += 1;
        self.next_req
    }

    /// Starts loading `target`, resetting the explorer.
    pub fn open(&mut self, target: Target) -> Command {
        let req = self.req();
        let label = match &target {
            Target::Reference(r) => crate::model::sanitize(r),
            Target::Demo => crate::source::demo::REFERENCE.to_string(),
        };
        self.screen = Screen::Explorer;
        self.image = None;
        self.eff = None;
        self.tree = None;
        self.views.clear();
        self.layer_rows.clear();
        self.layer = 0;
        self.layers_scroll = 0;
        self.close_viewer();
        self.focus = Pane::Layers;
        self.clear_findings();
        self.load_req = req;
        self.progress = LoadProgress::default();
        self.load = LoadState::Loading { req, label };
        self.load_started = Some(Instant::now());
        self.dirty = true;
        Command::Load {
            req,
            target,
            opts: self.opts.clone(),
            findings: Some(self.findings_cfg.clone()),
        }
    }

    fn clear_findings(&mut self) {
        self.findings.clear();
        self.packages.clear();
        self.badges.clear();
        self.findings_state = FindingsState::Idle;
        self.findings_open = false;
        self.finding_selected = 0;
        self.findings_scroll = 0;
        self.reveal = None;
    }

    /// Sets the findings badges.
    pub fn set_badges(&mut self, badges: Vec<Badge>) {
        self.badges = badges;
        self.dirty = true;
    }

    /// The key scope for the current focus.
    pub fn scope(&self) -> Scope {
        if self.screen == Screen::Images {
            return Scope::Images;
        }
        match self.focus {
            Pane::Layers => Scope::Layers,
            Pane::LayerDetails | Pane::ImageDetails => Scope::Details,
            Pane::Tree if self.viewer.is_some() => Scope::Viewer,
            Pane::Tree => Scope::Tree,
            Pane::Findings => Scope::Findings,
        }
    }

    /// True when the image's files are known.
    pub fn loaded(&self) -> bool {
        self.load == LoadState::Done
    }

    /// Handles one input; returns work for the worker.
    pub fn update(&mut self, ev: Event) -> Vec<Command> {
        self.dirty = true;
        match ev {
            Event::Key(k) => {
                if k.kind == KeyEventKind::Release {
                    self.dirty = false;
                    return Vec::new();
                }
                self.key(k)
            }
            Event::Mouse(m) => self.mouse(m),
            Event::Resize(w, h) => {
                self.size = (w, h);
                Vec::new()
            }
            Event::Msg(m) => self.message(m),
        }
    }

    // ----- messages -----------------------------------------------------------------------

    fn message(&mut self, m: Msg) -> Vec<Command> {
        match m {
            Msg::Images(Ok(rows)) => {
                self.images_loading = false;
                self.images = rows;
                self.images_selected = 0;
                if self.images.is_empty() && self.screen == Screen::Images {
                    self.notice = Some((
                        "the Docker daemon has no images: showing the built-in demo".into(),
                        Level::Info,
                    ));
                    return vec![self.open(Target::Demo)];
                }
                Vec::new()
            }
            Msg::Images(Err(e)) => {
                self.images_loading = false;
                if self.screen == Screen::Images {
                    self.notice = Some((
                        format!(
                            "no reachable Docker daemon ({}): showing the built-in demo",
                            text::one_line(&e)
                        ),
                        Level::Error,
                    ));
                    return vec![self.open(Target::Demo)];
                }
                Vec::new()
            }
            Msg::Progress { req, event } => {
                if !self.is_current_load(req) {
                    return Vec::new();
                }
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
                Vec::new()
            }
            Msg::Loaded { req, result } => {
                if !self.is_current_load(req) {
                    return Vec::new();
                }
                match result {
                    Ok(l) => {
                        let Loaded {
                            image,
                            eff,
                            index,
                            view,
                            largest,
                        } = *l;
                        self.largest = largest;
                        let keep_layer = self.layer.min(image.layers.len().saturating_sub(1));
                        self.set_image(image.clone());
                        self.layer = keep_layer;
                        self.eff = Some(eff);
                        self.views = vec![view.clone()];
                        let mut tree = TreeState::new(image, index, view);
                        tree.sort = Sort::Name;
                        self.tree = Some(tree);
                        self.tree_stale = true;
                        self.load = LoadState::Done;
                        self.findings_state = FindingsState::Running;
                        self.prepare();
                    }
                    Err(e) => {
                        self.load = LoadState::Failed(text::one_line(&e));
                    }
                }
                Vec::new()
            }
            Msg::Content { req, chunk } => {
                let Some(v) = self.viewer.as_mut().filter(|v| v.req == req) else {
                    return Vec::new();
                };
                v.pending = false;
                match chunk {
                    Chunk::Text {
                        first_line,
                        lines,
                        next,
                        eof,
                        syntax,
                    } => {
                        if first_line != v.lines.len() {
                            return Vec::new();
                        }
                        v.kind = ViewerKind::Text;
                        v.styled.resize(first_line + lines.len(), None);
                        v.lines.extend(lines);
                        v.next = next;
                        v.eof = eof;
                        if v.syntax.is_none() {
                            v.syntax = syntax;
                        }
                    }
                    Chunk::Binary { offset, bytes, eof } => {
                        if offset != v.bytes.len() as u64 {
                            return Vec::new();
                        }
                        v.kind = ViewerKind::Binary;
                        v.next = offset + bytes.len() as u64;
                        v.bytes.extend(bytes);
                        v.eof = eof;
                    }
                }
                self.read_ahead().into_iter().collect()
            }
            Msg::Highlighted {
                req,
                first_line,
                lines,
            } => {
                if let Some(v) = self.viewer.as_mut().filter(|v| v.req == req) {
                    for (i, l) in lines.into_iter().enumerate() {
                        if let Some(slot) = v.styled.get_mut(first_line + i) {
                            *slot = Some(l);
                        }
                    }
                }
                Vec::new()
            }
            Msg::ContentError { req, error } => {
                if let Some(v) = self.viewer.as_mut().filter(|v| v.req == req) {
                    v.pending = false;
                    let msg = format!("cannot read this file: {}", text::one_line(&error));
                    if v.rows() == 0 {
                        v.kind = ViewerKind::Message(msg);
                    } else {
                        v.eof = true;
                        self.notice = Some((msg, Level::Error));
                    }
                }
                Vec::new()
            }
            Msg::Findings { req, result } => {
                if req != self.load_req || !self.loaded() {
                    return Vec::new();
                }
                match result {
                    Ok((findings, packages)) => self.set_findings(findings, packages),
                    Err(e) => self.findings_state = FindingsState::Failed(text::one_line(&e)),
                }
                Vec::new()
            }
            Msg::Revealed { req, result } => {
                let finding = match &self.reveal {
                    Some(Reveal::Pending { req: r, finding }) if *r == req => *finding,
                    _ => return Vec::new(),
                };
                match result {
                    Ok(secret) if finding == self.finding_selected && self.findings_open => {
                        self.reveal = Some(Reveal::Shown { finding, secret });
                    }
                    Ok(_) => self.reveal = None,
                    Err(e) => {
                        self.reveal = None;
                        self.notice = Some((
                            format!("cannot read the secret back: {}", text::one_line(&e)),
                            Level::Error,
                        ));
                    }
                }
                Vec::new()
            }
            Msg::Extracted { req, result } => {
                if req != self.extract_req {
                    return Vec::new();
                }
                match result {
                    Ok((path, n)) => {
                        self.notice = Some((
                            format!(
                                "extracted {} to {}",
                                text::bytes(n),
                                sanitize_input(&path.display().to_string())
                            ),
                            Level::Info,
                        ));
                    }
                    Err(ExtractError::Exists(existing)) => {
                        if let Some(Prompt::ExtractDir { text, target }) = self.prompt.take() {
                            self.prompt = Some(Prompt::Overwrite {
                                target,
                                dir: PathBuf::from(text.trim()),
                                existing,
                            });
                        }
                    }
                    Err(ExtractError::Failed(e)) => {
                        self.prompt = None;
                        self.notice = Some((
                            format!("extract failed: {}", text::one_line(&e)),
                            Level::Error,
                        ));
                    }
                }
                if !matches!(self.prompt, Some(Prompt::Overwrite { .. })) {
                    self.prompt = None;
                }
                Vec::new()
            }
        }
    }

    fn is_current_load(&self, req: u64) -> bool {
        matches!(&self.load, LoadState::Loading { req: r, .. } if *r == req)
    }

    fn set_image(&mut self, image: Arc<Image>) {
        let mut rows = Vec::new();
        let mut seen = vec![false; image.layers.len()];
        for (hi, h) in image.history.iter().enumerate() {
            let layer = h.layer.filter(|&l| l < image.layers.len());
            if let Some(l) = layer {
                seen[l] = true;
            }
            rows.push(LayerRow {
                layer,
                history: Some(hi),
                text: text::one_line(
                    &self
                        .findings_cfg
                        .redactor()
                        .instruction(&text::instruction(&h.created_by)),
                ),
            });
        }
        for (l, s) in seen.iter().enumerate() {
            if !s {
                // Layers without history: keep them in order among the mapped ones.
                let pos = rows
                    .iter()
                    .position(|r| r.layer.is_some_and(|x| x > l))
                    .unwrap_or(rows.len());
                rows.insert(
                    pos,
                    LayerRow {
                        layer: Some(l),
                        history: None,
                        text: "(no history for this layer)".into(),
                    },
                );
            }
        }
        self.layer_rows = rows;
        self.image = Some(image);
    }

    // ----- keys ---------------------------------------------------------------------------

    fn key(&mut self, k: KeyEvent) -> Vec<Command> {
        if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
            self.quit = true;
            return Vec::new();
        }
        if self.prompt.is_some() {
            return self.prompt_key(k);
        }
        self.notice = None;
        let Some(action) = keymap::lookup(self.scope(), &k) else {
            self.dirty = false;
            return Vec::new();
        };
        if self.help {
            match action {
                Action::Help | Action::Back | Action::Close => self.help = false,
                Action::Up => self.help_scroll = self.help_scroll.saturating_sub(1),
                Action::Down => self.help_scroll += 1,
                Action::PageUp => self.help_scroll = self.help_scroll.saturating_sub(10),
                Action::PageDown => self.help_scroll += 10,
                Action::Top => self.help_scroll = 0,
                Action::Quit => self.quit = true,
                _ => {}
            }
            return Vec::new();
        }
        self.act(action)
    }

    /// Performs an action (as if its key was pressed).
    pub fn act(&mut self, action: Action) -> Vec<Command> {
        self.dirty = true;
        match action {
            Action::Quit => {
                self.quit = true;
                Vec::new()
            }
            Action::Help => {
                self.help = true;
                self.help_scroll = 0;
                Vec::new()
            }
            Action::Back => {
                self.back();
                Vec::new()
            }
            Action::Close => {
                if self.focus == Pane::Findings {
                    self.close_findings();
                } else if self.viewer.is_some() {
                    self.close_viewer();
                } else if self.screen == Screen::Explorer && self.from_list {
                    self.back_to_list();
                } else {
                    self.quit = true;
                }
                Vec::new()
            }
            Action::Filter if self.screen == Screen::Explorer => {
                self.close_findings();
                self.close_viewer();
                self.focus = Pane::Tree;
                self.prompt = Some(Prompt::Filter {
                    text: self.filter_text.clone(),
                    error: None,
                });
                Vec::new()
            }
            _ if self.screen == Screen::Images => self.images_action(action),
            Action::Findings if self.screen == Screen::Explorer => {
                if self.findings_open && self.focus == Pane::Findings {
                    self.close_findings();
                } else {
                    self.findings_open = true;
                    self.focus = Pane::Findings;
                    if self.findings_state == FindingsState::Running {
                        self.notice =
                            Some(("findings are still being computed…".into(), Level::Info));
                    }
                }
                Vec::new()
            }
            Action::SwitchPane => {
                self.focus = if matches!(self.focus, Pane::Tree | Pane::Findings) {
                    Pane::Layers
                } else {
                    self.right_pane()
                };
                Vec::new()
            }
            Action::NextLeftPane => {
                self.focus = match self.focus {
                    Pane::Layers => Pane::LayerDetails,
                    Pane::LayerDetails => Pane::ImageDetails,
                    Pane::ImageDetails | Pane::Tree | Pane::Findings => Pane::Layers,
                };
                Vec::new()
            }
            Action::PrevLeftPane => {
                self.focus = match self.focus {
                    Pane::Layers => self.right_pane(),
                    Pane::LayerDetails => Pane::Layers,
                    Pane::ImageDetails => Pane::LayerDetails,
                    Pane::Tree | Pane::Findings => Pane::ImageDetails,
                };
                Vec::new()
            }
            Action::PerLayer => {
                self.set_mode(Mode::PerLayer);
                Vec::new()
            }
            Action::Aggregated => {
                self.set_mode(Mode::Aggregated);
                Vec::new()
            }
            Action::ToggleCompare => {
                let m = if self.mode == Mode::PerLayer {
                    Mode::Aggregated
                } else {
                    Mode::PerLayer
                };
                self.set_mode(m);
                Vec::new()
            }
            _ => match self.focus {
                Pane::Layers => {
                    self.layers_action(action);
                    Vec::new()
                }
                Pane::LayerDetails => {
                    scroll(&mut self.layer_details_scroll, action);
                    Vec::new()
                }
                Pane::ImageDetails => {
                    scroll(&mut self.image_details_scroll, action);
                    Vec::new()
                }
                Pane::Tree if self.viewer.is_some() => self.viewer_action(action),
                Pane::Tree => self.tree_action(action),
                Pane::Findings => self.findings_action(action),
            },
        }
    }

    /// The pane on the right: the findings while open, else the tree (or viewer).
    pub fn right_pane(&self) -> Pane {
        if self.findings_open {
            Pane::Findings
        } else {
            Pane::Tree
        }
    }

    fn back(&mut self) {
        if self.focus == Pane::Findings {
            self.close_findings();
        } else if self.viewer.is_some() {
            self.close_viewer();
        } else if !self.filter_text.is_empty() && self.screen == Screen::Explorer {
            let _ = self.set_filter(String::new());
        } else if self.screen == Screen::Explorer && self.from_list {
            self.back_to_list();
        } else {
            self.dirty = false;
        }
    }

    fn back_to_list(&mut self) {
        self.clear_findings();
        self.screen = Screen::Images;
        self.load = LoadState::Idle;
        self.image = None;
        self.eff = None;
        self.tree = None;
        self.views.clear();
        self.filter_text.clear();
    }

    fn images_action(&mut self, action: Action) -> Vec<Command> {
        let n = self.images.len();
        match action {
            Action::Open => {
                if let Some(row) = self.images.get(self.images_selected) {
                    let reference =
                        if row.reference.starts_with("<none>") || row.reference.is_empty() {
                            row.id.clone()
                        } else {
                            row.reference.clone()
                        };
                    self.from_list = true;
                    return vec![self.open(Target::Reference(reference))];
                }
            }
            other => move_index(&mut self.images_selected, n, other, 10),
        }
        Vec::new()
    }

    fn layer_count(&self) -> usize {
        self.image.as_ref().map_or(0, |i| i.layers.len())
    }

    fn layers_action(&mut self, action: Action) {
        let n = self.layer_count();
        let before = self.layer;
        move_index(&mut self.layer, n, action, 5);
        if self.layer != before {
            self.layer_changed();
        }
    }

    /// Selects layer `layer`.
    pub fn select_layer(&mut self, layer: usize) {
        if layer < self.layer_count() && layer != self.layer {
            self.layer = layer;
            self.layer_changed();
        }
    }

    fn layer_changed(&mut self) {
        self.layer_details_scroll = 0;
        self.tree_stale = true;
        self.dirty = true;
    }

    fn set_mode(&mut self, mode: Mode) {
        if self.mode != mode {
            self.mode = mode;
            self.tree_stale = true;
            self.notice = Some((
                match mode {
                    Mode::PerLayer => "file tree: what the selected layer changed".into(),
                    Mode::Aggregated => {
                        "file tree: everything changed since the first layer, up to the selected one"
                            .into()
                    }
                },
                Level::Info,
            ));
        }
    }

    /// Brings the tree up to date with the selected layer and mode (called before drawing and
    /// before tree actions; cheap when nothing changed).
    pub fn prepare(&mut self) {
        if !self.tree_stale {
            return;
        }
        self.tree_stale = false;
        let Some(tree) = self.tree.as_mut() else {
            return;
        };
        let (layer, mode) = (self.layer, self.mode);
        let view = match self
            .views
            .iter()
            .position(|v| v.layer == layer && v.mode == mode)
        {
            Some(i) => {
                let v = self.views.remove(i);
                self.views.push(v.clone());
                v
            }
            None => {
                let v = Arc::new(LayerView::build(&tree.image.fs, layer, mode));
                self.views.push(v.clone());
                if self.views.len() > 4 {
                    self.views.remove(0);
                }
                v
            }
        };
        if !Arc::ptr_eq(&tree.view, &view) {
            tree.set_view(view);
        }
    }

    fn tree_action(&mut self, action: Action) -> Vec<Command> {
        self.prepare();
        let page = self.areas.tree.height.max(1) as isize;
        let Some(tree) = self.tree.as_mut() else {
            return Vec::new();
        };
        match action {
            Action::Up => tree.move_by(-1),
            Action::Down => tree.move_by(1),
            Action::PageUp => tree.move_by(-page),
            Action::PageDown => tree.move_by(page),
            Action::Top => tree.selected = 0,
            Action::Bottom => tree.selected = tree.rows.len().saturating_sub(1),
            Action::Left => tree.left(),
            Action::Right => tree.right(),
            Action::ToggleCollapse => tree.toggle_selected(),
            Action::ToggleCollapseAll => tree.toggle_all(),
            Action::ToggleAdded => {
                tree.filter.added = !tree.filter.added;
                tree.refilter();
            }
            Action::ToggleRemoved => {
                tree.filter.removed = !tree.filter.removed;
                tree.refilter();
            }
            Action::ToggleModified => {
                tree.filter.modified = !tree.filter.modified;
                tree.refilter();
            }
            Action::ToggleUnchanged => {
                tree.filter.unchanged = !tree.filter.unchanged;
                tree.refilter();
            }
            Action::Sort => {
                tree.sort = match tree.sort {
                    Sort::Name => Sort::Size,
                    Sort::Size => Sort::Name,
                };
                tree.rebuild();
            }
            Action::Attributes => self.attributes = !self.attributes,
            Action::Open => return self.open_selected(),
            Action::Extract => self.start_extract(),
            _ => {}
        }
        Vec::new()
    }

    /// The selected tree entry: path, version shown and change.
    pub fn selected_entry(&self) -> Option<(PathId, Option<VersionId>, Change)> {
        let tree = self.tree.as_ref()?;
        let id = tree.selected_id()?;
        Some((id, tree.view.version_of(id), tree.view.change[id as usize]))
    }

    fn open_selected(&mut self) -> Vec<Command> {
        let Some((id, version, _)) = self.selected_entry() else {
            return Vec::new();
        };
        let Some(tree) = self.tree.as_mut() else {
            return Vec::new();
        };
        if tree.is_dir(id) {
            tree.toggle_selected();
            return Vec::new();
        }
        let image = tree.image.clone();
        let req = self.req();
        let title = crate::model::path::display(image.fs.path(id));
        let mut viewer = Viewer {
            req,
            version: version.unwrap_or(u32::MAX),
            path: id,
            layer: self.layer,
            title,
            size: 0,
            kind: ViewerKind::Loading,
            lines: Vec::new(),
            styled: Vec::new(),
            syntax: None,
            bytes: Vec::new(),
            next: 0,
            eof: false,
            pending: false,
            scroll: 0,
            height: self.areas.tree.height as usize,
            hex_per_row: 16,
        };
        let Some(vid) = version else {
            viewer.kind =
                ViewerKind::Message("no content: this path has no entry of its own".into());
            self.viewer = Some(viewer);
            return Vec::new();
        };
        let v = &image.fs.versions[vid as usize];
        viewer.layer = v.layer as usize;
        viewer.size = v.size;
        let message = match v.kind {
            EntryKind::File => None,
            EntryKind::HardLink => match v.link_version {
                Some(t) => {
                    viewer.size = image.fs.versions[t as usize].size;
                    None
                }
                None => Some(format!(
                    "hard link to {} (target not found in the image)",
                    link_text(v.link.as_deref())
                )),
            },
            EntryKind::Symlink => Some(format!(
                "symbolic link → {}\n(strata never follows links on the host)",
                link_text(v.link.as_deref())
            )),
            EntryKind::Dir => Some("directory".into()),
            EntryKind::CharDevice | EntryKind::BlockDevice => Some(format!(
                "device node {}",
                v.device
                    .map(|(a, b)| format!("{a},{b}"))
                    .unwrap_or_default()
            )),
            EntryKind::Fifo => Some("named pipe (no content)".into()),
        };
        if let Some(m) = message {
            viewer.kind = ViewerKind::Message(m);
            self.viewer = Some(viewer);
            return Vec::new();
        }
        if viewer.size == 0 {
            viewer.kind = ViewerKind::Message("empty file".into());
            self.viewer = Some(viewer);
            return Vec::new();
        }
        viewer.pending = true;
        self.viewer_ticket.store(req, Ordering::SeqCst);
        let name = image.fs.name(id).to_vec();
        self.viewer = Some(viewer);
        vec![Command::Read {
            req,
            ticket: self.viewer_ticket.clone(),
            image,
            version: vid,
            name,
            offset: 0,
            first_line: 0,
            binary: None,
            syntax: None,
        }]
    }

    fn close_viewer(&mut self) {
        self.viewer = None;
        self.viewer_ticket.store(0, Ordering::SeqCst);
    }

    fn read_ahead(&mut self) -> Option<Command> {
        let v = self.viewer.as_mut()?;
        if v.eof || v.pending || !matches!(v.kind, ViewerKind::Text | ViewerKind::Binary) {
            return None;
        }
        let height = v.height.max(10);
        if v.scroll + height * READ_AHEAD_SCREENS < v.rows() {
            return None;
        }
        let image = self.tree.as_ref()?.image.clone();
        v.pending = true;
        Some(Command::Read {
            req: v.req,
            ticket: self.viewer_ticket.clone(),
            image,
            version: v.version,
            name: image_name(&self.tree, v.path),
            offset: v.next,
            first_line: v.lines.len(),
            binary: Some(v.kind == ViewerKind::Binary),
            syntax: v.syntax.clone(),
        })
    }

    fn viewer_action(&mut self, action: Action) -> Vec<Command> {
        let Some(v) = self.viewer.as_mut() else {
            return Vec::new();
        };
        let page = v.height.max(1);
        let max = v.rows().saturating_sub(page);
        match action {
            Action::Up => v.scroll = v.scroll.saturating_sub(1),
            Action::Down => v.scroll = (v.scroll + 1).min(max),
            Action::PageUp => v.scroll = v.scroll.saturating_sub(page),
            Action::PageDown | Action::ToggleCollapse => v.scroll = (v.scroll + page).min(max),
            Action::Top => v.scroll = 0,
            Action::Bottom => v.scroll = max,
            Action::Extract => {
                self.start_extract();
                return Vec::new();
            }
            Action::Zoom => self.viewer_full = !self.viewer_full,
            _ => {}
        }
        self.read_ahead().into_iter().collect()
    }

    // ----- findings -----------------------------------------------------------------------

    /// Stores the findings of the loaded image (worst first) and derives the badges.
    pub fn set_findings(&mut self, mut findings: Vec<Finding>, packages: Vec<Package>) {
        crate::analysis::findings::sort(&mut findings);
        self.findings = findings;
        self.packages = packages;
        self.findings_state = FindingsState::Ready;
        self.finding_selected = 0;
        self.findings_scroll = 0;
        self.reveal = None;
        let badges = self.finding_badges();
        self.set_badges(badges);
    }

    /// Badges from the findings: one per layer (count and worst severity) and one per path
    /// (a `!` marker with the worst severity).
    fn finding_badges(&self) -> Vec<Badge> {
        use std::collections::BTreeMap;
        let mut layers: BTreeMap<usize, (usize, Severity)> = BTreeMap::new();
        let mut paths: BTreeMap<PathId, Severity> = BTreeMap::new();
        let fs = self.tree.as_ref().map(|t| &t.image.fs);
        for f in &self.findings {
            if let Some(l) = f.layer {
                let e = layers.entry(l).or_insert((0, f.severity));
                e.0 += 1;
                e.1 = e.1.max(f.severity);
            }
            if let (Some(p), Some(fs)) = (&f.path, fs) {
                if let Some(id) = fs.lookup(p.trim_start_matches('/').as_bytes()) {
                    let e = paths.entry(id).or_insert(f.severity);
                    *e = (*e).max(f.severity);
                }
            }
        }
        let mut out: Vec<Badge> = layers
            .into_iter()
            .map(|(l, (n, sev))| Badge {
                layer: Some(l),
                path: None,
                text: format!("{n} {:<4}", severity_short(sev)),
                level: badge_level(sev),
            })
            .collect();
        out.extend(paths.into_iter().map(|(id, sev)| Badge {
            layer: None,
            path: Some(id),
            text: format!("!{}", severity_short(sev)),
            level: badge_level(sev),
        }));
        out
    }

    /// The selected finding.
    pub fn selected_finding(&self) -> Option<&Finding> {
        self.findings.get(self.finding_selected)
    }

    fn close_findings(&mut self) {
        self.findings_open = false;
        self.reveal = None;
        if self.focus == Pane::Findings {
            self.focus = Pane::Tree;
        }
    }

    fn findings_action(&mut self, action: Action) -> Vec<Command> {
        let n = self.findings.len();
        let page = (self.areas.findings.height as usize / FINDING_ROWS).max(1);
        match action {
            Action::Open => self.jump_to_finding(),
            Action::Reveal => self.start_reveal(),
            other => {
                let before = self.finding_selected;
                move_index(&mut self.finding_selected, n, other, page);
                if self.finding_selected != before {
                    // A revealed secret belongs to one finding only.
                    self.reveal = None;
                }
            }
        }
        Vec::new()
    }

    /// Enter on a finding: select its layer and, for a file, show that file in the tree
    /// (parents expanded, filters cleared when they hide it).
    fn jump_to_finding(&mut self) {
        let Some(f) = self.selected_finding().cloned() else {
            return;
        };
        self.reveal = None;
        let Some(layer) = f.layer.filter(|&l| l < self.layer_count()) else {
            self.focus = Pane::ImageDetails;
            self.notice = Some((
                "this finding is about the image configuration: see Image details".into(),
                Level::Info,
            ));
            return;
        };
        self.select_layer(layer);
        let Some(path) = f.path else {
            self.focus = Pane::Layers;
            self.notice = Some((format!("layer {layer} selected"), Level::Info));
            return;
        };
        self.findings_open = false;
        self.close_viewer();
        self.focus = Pane::Tree;
        let shown = crate::model::sanitize(&path);
        if self.show_path(&path) {
            self.notice = Some((
                format!("{shown} in layer {layer}: Enter opens it"),
                Level::Info,
            ));
        } else {
            self.notice = Some((
                format!("{shown} is not in the tree of layer {layer}"),
                Level::Error,
            ));
        }
    }

    /// Selects `path` in the tree of the selected layer, expanding its parents and clearing
    /// filters that hide it.
    fn show_path(&mut self, path: &str) -> bool {
        self.prepare();
        let Some(tree) = self.tree.as_mut() else {
            return false;
        };
        let Some(id) = tree
            .image
            .fs
            .lookup(path.trim_start_matches('/').as_bytes())
        else {
            return false;
        };
        let mut cur = tree.image.fs.parent(id);
        while cur != 0 {
            tree.collapsed[cur as usize] = false;
            cur = tree.image.fs.parent(cur);
        }
        tree.rebuild();
        if tree.select_path(id) {
            return true;
        }
        tree.filter = Default::default();
        tree.refilter();
        self.filter_text.clear();
        tree.select_path(id)
    }

    /// Where the raw value of a secret finding is: (version, offset, length), from the
    /// content matches recorded during the layer pass (same path and layer, same rule first).
    pub fn secret_location(&self, f: &Finding) -> Option<(VersionId, u64, u64)> {
        if f.category != Category::Secret {
            return None;
        }
        let image = &self.tree.as_ref()?.image;
        let id = image
            .fs
            .lookup(f.path.as_deref()?.trim_start_matches('/').as_bytes())?;
        let layer = f.layer?;
        let vids: Vec<VersionId> = image
            .fs
            .versions_of(id)
            .iter()
            .copied()
            .filter(|&v| image.fs.versions[v as usize].layer as usize == layer)
            .collect();
        let mut matches = image
            .content_matches
            .iter()
            .filter(|(v, _)| vids.contains(v));
        let same_rule = matches.clone().find(|(_, m)| *m.rule == *f.rule);
        same_rule
            .or_else(|| matches.next())
            .map(|(v, m)| (*v, m.offset, u64::from(m.len)))
    }

    fn start_reveal(&mut self) {
        let Some(f) = self.selected_finding() else {
            return;
        };
        if f.category != Category::Secret {
            self.notice = Some((
                "only secret findings have a value to reveal".into(),
                Level::Info,
            ));
            return;
        }
        if self.secret_location(f).is_none() {
            self.notice = Some((
                "no matched value to reveal for this finding (Enter shows its file)".into(),
                Level::Info,
            ));
            return;
        }
        self.prompt = Some(Prompt::Reveal {
            finding: self.finding_selected,
        });
    }

    fn reveal_command(&mut self, finding: usize) -> Option<Command> {
        if finding != self.finding_selected {
            return None;
        }
        let f = self.findings.get(finding)?;
        let (version, offset, len) = self.secret_location(f)?;
        let image = self.tree.as_ref()?.image.clone();
        self.reveal_req = self.req();
        self.reveal = Some(Reveal::Pending {
            req: self.reveal_req,
            finding,
        });
        Some(Command::Reveal {
            req: self.reveal_req,
            image,
            version,
            offset,
            len: len.min(MAX_REVEAL),
        })
    }

    /// The revealed raw secret of finding `i`, if the user asked for it.
    pub fn revealed(&self, i: usize) -> Option<&Secret> {
        match &self.reveal {
            Some(Reveal::Shown { finding, secret }) if *finding == i => Some(secret),
            _ => None,
        }
    }

    // ----- prompts ------------------------------------------------------------------------

    fn start_extract(&mut self) {
        let target = match &self.viewer {
            Some(v) if v.version != u32::MAX => Some((v.path, v.version)),
            Some(_) => None,
            None => self
                .selected_entry()
                .and_then(|(id, v, _)| v.map(|v| (id, v))),
        };
        let Some((id, vid)) = target else {
            self.notice = Some(("select a file to extract".into(), Level::Error));
            return;
        };
        let Some(tree) = self.tree.as_ref() else {
            return;
        };
        let v = &tree.image.fs.versions[vid as usize];
        if !matches!(v.kind, EntryKind::File | EntryKind::HardLink) {
            self.notice = Some(("only regular files can be extracted".into(), Level::Error));
            return;
        }
        let target = ExtractTarget {
            version: vid,
            name: tree.image.fs.name(id).to_vec(),
            display: crate::model::path::display(tree.image.fs.path(id)),
            layer: v.layer as usize,
        };
        self.prompt = Some(Prompt::ExtractDir {
            text: self.extract_dir.clone(),
            target,
        });
    }

    fn prompt_key(&mut self, k: KeyEvent) -> Vec<Command> {
        let Some(prompt) = self.prompt.take() else {
            return Vec::new();
        };
        match prompt {
            Prompt::Filter { mut text, .. } => match k.code {
                KeyCode::Esc => {
                    let _ = self.set_filter(String::new());
                }
                KeyCode::Enter => {
                    if self.set_filter(text.clone()).is_err() {
                        self.prompt = Some(Prompt::Filter {
                            error: self.filter_error(&text),
                            text,
                        });
                    }
                }
                _ => {
                    edit(&mut text, k);
                    let error = self.set_filter(text.clone()).err();
                    self.prompt = Some(Prompt::Filter { text, error });
                }
            },
            Prompt::ExtractDir { mut text, target } => match k.code {
                KeyCode::Esc => {}
                KeyCode::Enter => {
                    let dir = PathBuf::from(text.trim());
                    self.extract_dir = text.trim().to_string();
                    let cmd = self.extract_command(&target, dir, false);
                    self.prompt = Some(Prompt::ExtractDir { text, target });
                    return cmd.into_iter().collect();
                }
                _ => {
                    edit(&mut text, k);
                    self.prompt = Some(Prompt::ExtractDir { text, target });
                }
            },
            Prompt::Reveal { finding } => match k.code {
                KeyCode::Char('y' | 'Y') => {
                    return self.reveal_command(finding).into_iter().collect();
                }
                _ => {
                    self.notice = Some(("not revealed".into(), Level::Info));
                }
            },
            Prompt::Overwrite {
                target,
                dir,
                existing,
            } => match k.code {
                KeyCode::Char('y' | 'Y') => {
                    return self
                        .extract_command(&target, dir, true)
                        .into_iter()
                        .collect();
                }
                KeyCode::Char('n' | 'N') | KeyCode::Esc | KeyCode::Enter => {
                    self.notice = Some(("not overwritten".into(), Level::Info));
                }
                _ => {
                    self.prompt = Some(Prompt::Overwrite {
                        target,
                        dir,
                        existing,
                    });
                }
            },
        }
        Vec::new()
    }

    fn extract_command(
        &mut self,
        target: &ExtractTarget,
        dir: PathBuf,
        overwrite: bool,
    ) -> Option<Command> {
        let image = self.tree.as_ref()?.image.clone();
        self.extract_req = self.req();
        Some(Command::Extract {
            req: self.extract_req,
            image,
            version: target.version,
            name: target.name.clone(),
            dir,
            overwrite,
        })
    }

    fn filter_error(&self, text: &str) -> Option<String> {
        regex::bytes::Regex::new(text).err().map(|e| {
            text::one_line(&e.to_string())
                .lines()
                .last()
                .unwrap_or("invalid")
                .to_string()
        })
    }

    /// Applies a path filter (empty clears it). Invalid expressions keep the previous filter.
    pub fn set_filter(&mut self, text: String) -> Result<(), String> {
        self.prepare();
        let pattern = if text.is_empty() {
            None
        } else {
            match regex::bytes::RegexBuilder::new(&text)
                .size_limit(1 << 20)
                .build()
            {
                Ok(r) => Some(r),
                Err(e) => return Err(text::one_line(&e.to_string())),
            }
        };
        self.filter_text = text;
        if let Some(tree) = self.tree.as_mut() {
            tree.filter.pattern = pattern;
            tree.refilter();
        }
        Ok(())
    }

    // ----- mouse --------------------------------------------------------------------------

    fn mouse(&mut self, m: MouseEvent) -> Vec<Command> {
        let pos = Position::new(m.column, m.row);
        let a = self.areas.clone();
        let hit = |r: Rect| r.contains(pos);
        if self.help || self.prompt.is_some() {
            self.dirty = false;
            return Vec::new();
        }
        let pane = if self.screen == Screen::Images {
            None
        } else if hit(expand(a.layers)) {
            Some(Pane::Layers)
        } else if hit(a.layer_details) {
            Some(Pane::LayerDetails)
        } else if hit(a.image_details) {
            Some(Pane::ImageDetails)
        } else if self.findings_open && hit(expand(a.findings)) {
            Some(Pane::Findings)
        } else if hit(expand(a.tree)) {
            Some(Pane::Tree)
        } else {
            None
        };
        match m.kind {
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
                let action = if m.kind == MouseEventKind::ScrollUp {
                    Action::Up
                } else {
                    Action::Down
                };
                if self.screen == Screen::Images {
                    return self.images_action(action);
                }
                let Some(p) = pane else {
                    self.dirty = false;
                    return Vec::new();
                };
                let saved = self.focus;
                self.focus = p;
                let mut cmds = Vec::new();
                for _ in 0..3 {
                    cmds.extend(self.act(action));
                }
                self.focus = saved;
                cmds
            }
            MouseEventKind::Down(MouseButton::Left) => {
                if self.screen == Screen::Images {
                    if hit(a.images) {
                        let i = self.images_scroll + (m.row - a.images.y) as usize;
                        if i < self.images.len() {
                            self.images_selected = i;
                        }
                    }
                    return Vec::new();
                }
                let Some(p) = pane else {
                    self.dirty = false;
                    return Vec::new();
                };
                self.focus = p;
                match p {
                    Pane::Layers if hit(a.layers) => {
                        let i = self.layers_scroll + (m.row - a.layers.y) as usize;
                        if let Some(l) = self.layer_rows.get(i).and_then(|r| r.layer) {
                            self.select_layer(l);
                        }
                    }
                    Pane::Findings if hit(a.findings) => {
                        let i =
                            self.findings_scroll + (m.row - a.findings.y) as usize / FINDING_ROWS;
                        if i < self.findings.len() && i != self.finding_selected {
                            self.finding_selected = i;
                            self.reveal = None;
                        }
                    }
                    Pane::Tree if hit(a.tree) && self.viewer.is_none() => {
                        self.prepare();
                        if let Some(t) = self.tree.as_mut() {
                            let i = t.scroll + (m.row - a.tree.y) as usize;
                            if i < t.rows.len() {
                                t.selected = i;
                            }
                        }
                    }
                    _ => {}
                }
                Vec::new()
            }
            _ => {
                self.dirty = false;
                Vec::new()
            }
        }
    }

    /// Key-bar entries for the current state.
    pub fn key_bar(&self) -> Vec<(String, &'static str)> {
        keymap::bar(self.scope())
    }

    /// The badges of a layer.
    pub fn layer_badges(&self, layer: usize) -> impl Iterator<Item = &Badge> {
        self.badges
            .iter()
            .filter(move |b| b.layer == Some(layer) && b.path.is_none())
            .chain(
                self.badges
                    .iter()
                    .filter(move |b| b.layer == Some(layer) && b.path.is_some())
                    .take(1),
            )
    }

    /// The badges of a path.
    pub fn path_badges(&self, path: PathId) -> impl Iterator<Item = &Badge> {
        self.badges.iter().filter(move |b| b.path == Some(path))
    }

    /// The request id of the open viewer (tests).
    pub fn viewer_req(&self) -> Option<u64> {
        self.viewer.as_ref().map(|v| v.req)
    }
}

fn expand(r: Rect) -> Rect {
    // Include the block border around an inner area for focus clicks.
    Rect::new(
        r.x.saturating_sub(1),
        r.y.saturating_sub(1),
        r.width.saturating_add(2),
        r.height.saturating_add(2),
    )
}

fn image_name(tree: &Option<TreeState>, id: PathId) -> Vec<u8> {
    tree.as_ref()
        .map(|t| t.image.fs.name(id).to_vec())
        .unwrap_or_default()
}

fn link_text(link: Option<&[u8]>) -> String {
    link.map(crate::model::sanitize_bytes).unwrap_or_default()
}

/// Text typed by the user or taken from the environment, made safe to display.
fn sanitize_input(s: &str) -> String {
    crate::model::sanitize(s)
}

fn scroll(offset: &mut usize, action: Action) {
    match action {
        Action::Up => *offset = offset.saturating_sub(1),
        Action::Down => *offset += 1,
        Action::PageUp => *offset = offset.saturating_sub(10),
        Action::PageDown => *offset += 10,
        Action::Top => *offset = 0,
        // Clamped to the last screenful when drawn.
        Action::Bottom => *offset = usize::MAX,
        _ => {}
    }
}

fn move_index(i: &mut usize, n: usize, action: Action, page: usize) {
    if n == 0 {
        return;
    }
    *i = match action {
        Action::Up => i.saturating_sub(1),
        Action::Down => (*i + 1).min(n - 1),
        Action::PageUp => i.saturating_sub(page),
        Action::PageDown => (*i + page).min(n - 1),
        Action::Top => 0,
        Action::Bottom => n - 1,
        _ => *i,
    };
}

fn edit(text: &mut String, k: KeyEvent) {
    match k.code {
        KeyCode::Backspace => {
            text.pop();
        }
        KeyCode::Char('u') if k.modifiers.contains(KeyModifiers::CONTROL) => text.clear(),
        KeyCode::Char(c)
            if !k.modifiers.contains(KeyModifiers::CONTROL)
                && !c.is_control()
                && text.len() < 4096 =>
        {
            text.push(c);
        }
        _ => {}
    }
}
