//! The explorer's state and its update function: key presses, mouse events and worker messages
//! in, state changes and [`Command`]s for the worker out. Nothing here blocks, draws or does
//! I/O. `App` composes one sub-state per concern (see [`super::state`]) and routes each input
//! to the part it concerns; after every input it lays the screen out once
//! ([`super::layout::settle`]) so that drawing only reads.

use std::sync::Arc;
use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::filetree::Mode;
use super::keymap::{self, Action, Scope};
use super::state::anatomy::Anatomy;
use super::state::compare::{Compare, CompareOutcome, CompareState};
use super::state::findings::{Findings, FindingsOutcome};
use super::state::images::ImageList;
use super::state::layers::Layers;
use super::state::mouse::Areas;
use super::state::packages::{Packages, PackagesOutcome};
use super::state::prompt::PromptState;
use super::state::provenance::ProvenancePane;
use super::state::tree::{Tree, TreeOutcome};
use super::state::viewer::{ViewerOutcome, ViewerPane};
use crate::analysis::efficiency::Efficiency;
use crate::analysis::finding::Finding;
use crate::analysis::inspector::Inspector;
use crate::config::FindingsConfig;
use crate::model::fs::{PathId, VersionId};
use crate::model::Image;
use crate::source::LoadOptions;

pub use super::msg::{
    Chunk, Command, Event, ExtractError, FindingsResult, Launch, Loaded, Msg, Secret, Target,
};
pub use super::state::findings::{
    badge_level, severity_short, Badge, BadgeLevel, FindingsState, Reveal, FINDING_ROWS,
};
pub use super::state::images::ImageRow;
pub use super::state::layers::LayerRow;
pub use super::state::packages::PackageSort;
pub use super::state::prompt::Prompt;
pub use super::state::viewer::{Viewer, ViewerKind};

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
    /// Compare mode: the changes from the open image to image B (replaces the tree).
    Compare,
    /// Package inventory (replaces the tree while open).
    Packages,
    /// Who made the image (replaces the tree while open).
    Provenance,
    /// The anatomy view (replaces the tree while open).
    Anatomy,
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

/// Severity of a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Information.
    Info,
    /// Something went wrong.
    Error,
}

/// The whole UI state.
#[derive(Debug)]
pub struct App {
    /// Current screen.
    pub screen: Screen,
    /// Load options for every image opened.
    pub opts: LoadOptions,
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
    /// Scroll of the image details pane.
    pub image_details_scroll: usize,
    /// The daemon's image list.
    pub images: ImageList,
    /// The layers pane and layer details.
    pub layers: Layers,
    /// The file tree.
    pub tree: Tree,
    /// The file viewer.
    pub viewer: ViewerPane,
    /// The findings pane.
    pub findings: Findings,
    /// Compare mode (image B against the open image).
    pub compare: Compare,
    /// The packages pane.
    pub packages: Packages,
    /// The provenance pane.
    pub provenance: ProvenancePane,
    /// Size bars shown: each tree row's share of its directory, each layer's of the image.
    pub size_bars: bool,
    /// The anatomy view.
    pub anatomy: Anatomy,
    /// The status-line prompts.
    pub prompt: PromptState,
    /// Focused pane.
    pub focus: Pane,
    /// The help overlay is shown.
    pub help: bool,
    /// Help scroll offset.
    pub help_scroll: usize,
    /// One-line notice in the status bar.
    pub notice: Option<(String, Level)>,
    /// Time to first frame etc. can be measured from here.
    pub started: Instant,
    /// Set when the program should exit.
    pub quit: bool,
    /// Something changed since the last draw.
    pub dirty: bool,
    /// Loads waiting for the next frame to be drawn (see [`Msg::AfterDraw`]).
    pub after_draw: Vec<std::sync::mpsc::Sender<()>>,
    /// Terminal size.
    pub size: (u16, u16),
    /// Regions of the current layout (mouse hit-testing, page sizes).
    pub areas: Areas,
    /// A finding's file to select once the tree shows its layer.
    pub(super) pending_jump: Option<(String, usize)>,
    pub(super) load_req: u64,
    pub(super) extract_req: u64,
    pub(super) next_req: u64,
    /// What registry signatures are checked against (`strata IMAGE --key …`).
    pub signatures: Arc<crate::analysis::signatures::SignatureOptions>,
}

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
        Self {
            screen: Screen::Explorer,
            opts,
            from_list: false,
            image: None,
            eff: None,
            largest: Vec::new(),
            load: LoadState::Idle,
            progress: LoadProgress::default(),
            load_started: None,
            image_details_scroll: 0,
            images: ImageList::default(),
            layers: Layers::default(),
            tree: Tree::default(),
            viewer: ViewerPane::default(),
            findings: Findings::new(cfg),
            compare: Compare::default(),
            packages: Packages::default(),
            provenance: ProvenancePane::default(),
            size_bars: false,
            anatomy: Anatomy::default(),
            prompt: PromptState {
                extract_dir: super::extract::DEFAULT_BASE.into(),
                ..PromptState::default()
            },
            focus: Pane::Layers,
            help: false,
            help_scroll: 0,
            notice: None,
            started: Instant::now(),
            quit: false,
            dirty: true,
            after_draw: Vec::new(),
            size: (0, 0),
            areas: Areas::default(),
            pending_jump: None,
            load_req: 0,
            extract_req: 0,
            next_req: 1,
            signatures: Arc::default(),
        }
    }

    /// The first commands for `launch`.
    pub fn start(&mut self, launch: Launch) -> Vec<Command> {
        let mut cmds = vec![Command::Warmup];
        match launch {
            Launch::List => {
                self.screen = Screen::Images;
                self.images.loading = true;
                cmds.push(Command::ListImages);
            }
            Launch::Image(r) => cmds.push(self.open(Target::Reference(r))),
            Launch::Demo => cmds.push(self.open(Target::Demo)),
            Launch::Compare(a, b) => {
                cmds.push(self.open(Target::Reference(a)));
                cmds.extend(self.compare_with(Target::Reference(b)));
            }
        }
        super::layout::settle(self);
        cmds
    }

    pub(super) fn req(&mut self) -> u64 {
        self.next_req += 1;
        self.next_req
    }

    /// Starts loading `target`, resetting the explorer.
    pub fn open(&mut self, target: Target) -> Command {
        let req = self.req();
        let label = match &target {
            Target::Reference(r) => crate::model::sanitize(r),
            Target::Demo => crate::source::demo::REFERENCE.to_string(),
            Target::Pick(r, n) => format!("{} @{n}", crate::model::sanitize(r)),
        };
        self.screen = Screen::Explorer;
        self.image = None;
        self.eff = None;
        self.tree.clear();
        self.layers.clear();
        self.viewer.close();
        self.focus = Pane::Layers;
        self.findings.clear();
        self.compare.clear();
        self.packages.clear();
        self.provenance.clear();
        self.anatomy.clear();
        self.pending_jump = None;
        self.load_req = req;
        self.progress = LoadProgress::default();
        self.load = LoadState::Loading { req, label };
        self.load_started = Some(Instant::now());
        self.dirty = true;
        Command::Load {
            req,
            target,
            opts: self.opts.clone(),
            findings: Some(self.findings.cfg.clone()),
            signatures: self.signatures.clone(),
        }
    }

    /// The key scope for the current focus.
    pub fn scope(&self) -> Scope {
        if self.screen == Screen::Images {
            return Scope::Images;
        }
        match self.focus {
            Pane::Layers => Scope::Layers,
            Pane::LayerDetails | Pane::ImageDetails => Scope::Details,
            Pane::Tree if self.viewer.open.is_some() => Scope::Viewer,
            Pane::Tree => Scope::Tree,
            Pane::Findings => Scope::Findings,
            Pane::Compare => Scope::Compare,
            Pane::Packages => Scope::Packages,
            Pane::Provenance => Scope::Provenance,
            Pane::Anatomy => Scope::Anatomy,
        }
    }

    /// True when the image's files are known.
    pub fn loaded(&self) -> bool {
        self.load == LoadState::Done
    }

    /// Handles one input; returns work for the worker.
    pub fn update(&mut self, ev: Event) -> Vec<Command> {
        self.dirty = true;
        let cmds = match ev {
            Event::Key(k) if k.kind == KeyEventKind::Release => {
                self.dirty = false;
                Vec::new()
            }
            Event::Key(k) => self.key(k),
            Event::Mouse(m) => self.mouse(&m),
            Event::Resize(w, h) => {
                self.size = (w, h);
                Vec::new()
            }
            Event::Msg(m) => self.message(m),
        };
        super::layout::settle(self);
        cmds
    }

    /// Stores the findings of the loaded image (worst first) and derives the badges.
    pub fn set_findings(
        &mut self,
        findings: Vec<Finding>,
        packages: Vec<crate::analysis::finding::Package>,
    ) {
        let fs = self.tree.state.as_ref().map(|t| &t.image.fs);
        self.findings.set(findings, fs);
        self.packages.set(packages);
        self.dirty = true;
    }

    /// Where the raw value of a secret finding is: (version, offset, length).
    pub fn secret_location(&self, f: &Finding) -> Option<(VersionId, u64, u64)> {
        Findings::secret_location(&self.tree.state.as_ref()?.image, f)
    }

    /// The selected tree entry: path, version shown and change.
    pub fn selected_entry(&self) -> Option<(PathId, Option<VersionId>, super::filetree::Change)> {
        self.tree.selected_entry()
    }

    // ----- keys ---------------------------------------------------------------------------

    pub(super) fn key(&mut self, k: KeyEvent) -> Vec<Command> {
        if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
            self.quit = true;
            return Vec::new();
        }
        if self.prompt.active.is_some() {
            let outcome = self.prompt.key(k);
            return self.prompt_outcome(outcome);
        }
        self.notice = None;
        let Some(action) = keymap::lookup(self.scope(), &k) else {
            self.dirty = false;
            return Vec::new();
        };
        if self.help {
            match action {
                Action::Help | Action::Back | Action::Close => self.help = false,
                Action::Quit => self.quit = true,
                other => super::state::scroll(&mut self.help_scroll, other),
            }
            return Vec::new();
        }
        self.act(action)
    }

    /// Performs an action (as if its key was pressed).
    pub fn act(&mut self, action: Action) -> Vec<Command> {
        self.dirty = true;
        match action {
            Action::Quit => self.quit = true,
            Action::Help => {
                self.help = true;
                self.help_scroll = 0;
            }
            Action::Back => self.back(),
            Action::OpenReference => {
                self.prompt.active = Some(Prompt::Open {
                    text: String::new(),
                });
            }
            Action::Close => {
                if self.focus == Pane::Anatomy && self.anatomy.json.is_some() {
                    self.anatomy.json = None;
                } else if self.focus == Pane::Anatomy {
                    self.close_anatomy();
                } else if self.focus == Pane::Compare {
                    self.close_compare();
                } else if self.focus == Pane::Findings {
                    self.close_findings();
                } else if self.focus == Pane::Packages {
                    self.close_packages();
                } else if self.focus == Pane::Provenance {
                    self.close_provenance();
                } else if self.viewer.open.is_some() {
                    self.viewer.close();
                } else if self.screen == Screen::Explorer && self.from_list {
                    self.back_to_list();
                } else {
                    self.quit = true;
                }
            }
            Action::Filter if self.screen == Screen::Explorer && self.focus == Pane::Packages => {
                self.prompt.active = Some(Prompt::PackageFilter {
                    text: self.packages.filter.clone(),
                });
            }
            Action::Filter if self.screen == Screen::Explorer => {
                self.close_findings();
                self.close_packages();
                self.close_provenance();
                self.viewer.close();
                // The filter applies to the compare list too, which stays open.
                self.focus = if self.compare.open {
                    Pane::Compare
                } else {
                    Pane::Tree
                };
                self.prompt.active = Some(Prompt::Filter {
                    text: self.tree.filter_text.clone(),
                    error: None,
                });
            }
            _ if self.screen == Screen::Images => {
                if let Some(target) = self.images.update(action) {
                    self.from_list = true;
                    return vec![self.open(target)];
                }
            }
            Action::Compare => {
                if self.compare.open && self.focus == Pane::Compare {
                    self.close_compare();
                } else if self.compare.state != CompareState::Idle {
                    self.findings.close();
                    self.compare.open = true;
                    self.focus = Pane::Compare;
                } else {
                    self.prompt.active = Some(Prompt::Compare {
                        text: String::new(),
                    });
                }
            }
            Action::Packages => {
                self.close_provenance();
                self.close_anatomy();
                self.toggle_packages();
            }
            Action::Provenance => self.toggle_provenance(),
            Action::SizeBars => self.size_bars = !self.size_bars,
            Action::Anatomy if self.screen == Screen::Explorer => return self.toggle_anatomy(),
            Action::Findings => {
                if self.findings.open && self.focus == Pane::Findings {
                    self.close_findings();
                } else {
                    self.compare.open = false;
                    self.close_packages();
                    self.close_provenance();
                    self.close_anatomy();
                    self.findings.open = true;
                    self.focus = Pane::Findings;
                    if self.findings.state == FindingsState::Running {
                        self.notice =
                            Some(("findings are still being computed…".into(), Level::Info));
                    }
                }
            }
            Action::SwitchPane => self.cycle_focus(true),
            Action::PrevPane => self.cycle_focus(false),
            Action::NextLeftPane => {
                self.focus = match self.focus {
                    Pane::Layers => Pane::LayerDetails,
                    Pane::LayerDetails => Pane::ImageDetails,
                    Pane::ImageDetails
                    | Pane::Tree
                    | Pane::Findings
                    | Pane::Compare
                    | Pane::Packages
                    | Pane::Provenance
                    | Pane::Anatomy => Pane::Layers,
                };
            }
            Action::PrevLeftPane => {
                self.focus = match self.focus {
                    Pane::Layers => self.right_pane(),
                    Pane::LayerDetails => Pane::Layers,
                    Pane::ImageDetails => Pane::LayerDetails,
                    Pane::Tree
                    | Pane::Findings
                    | Pane::Compare
                    | Pane::Packages
                    | Pane::Provenance
                    | Pane::Anatomy => Pane::ImageDetails,
                };
            }
            Action::PerLayer => return self.set_mode(Mode::PerLayer),
            Action::Aggregated => return self.set_mode(Mode::Aggregated),
            Action::ToggleCompare => {
                return self.set_mode(match self.layers.mode {
                    Mode::PerLayer => Mode::Aggregated,
                    Mode::Aggregated => Mode::PerLayer,
                })
            }
            _ => return self.pane_action(action),
        }
        Vec::new()
    }

    /// Routes an action to the focused pane's part of the state.
    pub(super) fn pane_action(&mut self, action: Action) -> Vec<Command> {
        match self.focus {
            Pane::Layers => {
                if self.layers.update(action, self.layer_count()) {
                    return self.layer_changed();
                }
            }
            Pane::Anatomy => return self.anatomy_action(action),
            Pane::LayerDetails => self.layers.scroll_details(action),
            Pane::ImageDetails => super::state::scroll(&mut self.image_details_scroll, action),
            Pane::Tree if self.viewer.open.is_some() => match self.viewer.update(action) {
                ViewerOutcome::Done => return self.read_ahead().into_iter().collect(),
                ViewerOutcome::Extract => self.start_extract(),
                ViewerOutcome::ConfirmReveal => self.prompt.active = Some(Prompt::RevealFile),
                ViewerOutcome::Notice(n) => self.notice = Some((n.into(), Level::Info)),
                ViewerOutcome::AskSearch => {
                    self.prompt.active = Some(Prompt::Search {
                        text: String::new(),
                    });
                }
            },
            Pane::Tree => match self.tree.update(action, self.areas.tree.height as usize) {
                TreeOutcome::Done => {}
                TreeOutcome::Open => return self.open_selected(),
                TreeOutcome::Extract => self.start_extract(),
            },
            Pane::Compare => {
                let page = (self.areas.compare.height as usize).max(1);
                if self.compare.update(action, page) == CompareOutcome::OpenFile {
                    return self.open_file_diff().into_iter().collect();
                }
            }
            Pane::Findings => {
                let page = (self.areas.findings.height as usize / FINDING_ROWS).max(1);
                match self.findings.update(action, page) {
                    FindingsOutcome::Done => {}
                    FindingsOutcome::Jump => return self.jump_to_finding(),
                    FindingsOutcome::Reveal => self.start_reveal(),
                }
            }
            Pane::Packages => {
                let page = (self.areas.packages.height as usize).max(1);
                match self.packages.update(action, page) {
                    PackagesOutcome::Done => {}
                    PackagesOutcome::Jump => return self.jump_to_package(),
                }
            }
            Pane::Provenance => {
                let page = (self.size.1 as usize).saturating_sub(6).max(1);
                let redactor = self.findings.cfg.redactor();
                if let Some(n) =
                    self.provenance
                        .update(action, self.image.as_deref(), &redactor, page)
                {
                    self.notice = Some((n, Level::Info));
                }
            }
        }
        Vec::new()
    }

    /// Moves the focus to the next pane (`forward`, Tab) or the previous one (Shift+Tab):
    /// layers, the right pane (the findings pane's details after its list), layer details,
    /// image details.
    pub(super) fn cycle_focus(&mut self, forward: bool) {
        let right = self.right_pane();
        let on_details = self.focus == Pane::Findings && self.findings.details_focus;
        self.findings.details_focus = false;
        self.focus = match (self.focus, forward) {
            (Pane::Layers, true) => right,
            (Pane::Layers, false) => Pane::ImageDetails,
            (Pane::LayerDetails, true) => Pane::ImageDetails,
            (Pane::LayerDetails, false) => {
                self.findings.details_focus = right == Pane::Findings;
                right
            }
            (Pane::ImageDetails, true) => Pane::Layers,
            (Pane::ImageDetails, false) => Pane::LayerDetails,
            (Pane::Findings, true) if !on_details => {
                self.findings.details_focus = true;
                Pane::Findings
            }
            (Pane::Findings, false) if on_details => Pane::Findings,
            (_, true) => Pane::LayerDetails,
            (_, false) => Pane::Layers,
        };
    }

    /// The pane on the right: the findings or packages while open, else the tree (or viewer).
    pub fn right_pane(&self) -> Pane {
        if self.anatomy.open {
            Pane::Anatomy
        } else if self.compare.open {
            Pane::Compare
        } else if self.findings.open {
            Pane::Findings
        } else if self.packages.open {
            Pane::Packages
        } else if self.provenance.open {
            Pane::Provenance
        } else {
            Pane::Tree
        }
    }

    pub(super) fn back(&mut self) {
        if self.focus == Pane::Anatomy && self.anatomy.json.is_some() {
            self.anatomy.json = None;
        } else if self.focus == Pane::Anatomy {
            self.close_anatomy();
        } else if self.focus == Pane::Compare {
            self.close_compare();
        } else if self.focus == Pane::Findings {
            self.close_findings();
        } else if self.focus == Pane::Packages && !self.packages.filter.is_empty() {
            self.packages.set_filter(String::new());
        } else if self.focus == Pane::Packages {
            self.close_packages();
        } else if self.focus == Pane::Provenance {
            if !self.provenance.close_statement() {
                self.close_provenance();
            }
        } else if self.viewer.open.is_some() {
            self.viewer.close();
        } else if !self.tree.filter_text.is_empty() && self.screen == Screen::Explorer {
            let _ = self.tree.set_filter(String::new());
        } else if self.screen == Screen::Explorer && self.tree.clear_only() {
            self.notice = None;
        } else if self.screen == Screen::Explorer && self.from_list {
            self.back_to_list();
        } else {
            self.dirty = false;
        }
    }

    pub(super) fn back_to_list(&mut self) {
        self.findings.clear();
        self.packages.clear();
        self.provenance.clear();
        self.screen = Screen::Images;
        self.load = LoadState::Idle;
        self.image = None;
        self.eff = None;
        self.tree.clear();
        self.tree.filter_text.clear();
    }

    pub(super) fn close_compare(&mut self) {
        self.compare.close();
        if !self.compare.open && self.focus == Pane::Compare {
            self.focus = Pane::Tree;
        }
    }

    pub(super) fn close_findings(&mut self) {
        self.findings.close();
        if self.focus == Pane::Findings {
            self.focus = Pane::Tree;
        }
    }

    pub(super) fn layer_count(&self) -> usize {
        self.image.as_ref().map_or(0, |i| i.layers.len())
    }

    /// Selects layer `layer`; returns the work to show its tree.
    pub fn select_layer(&mut self, layer: usize) -> Vec<Command> {
        if self.layers.select(layer, self.layer_count()) {
            return self.layer_changed();
        }
        self.anatomy_entries().into_iter().collect()
    }

    /// The selected layer changed: the tree's view of it, and its raw entries when the
    /// anatomy view lists them.
    pub(super) fn layer_changed(&mut self) -> Vec<Command> {
        let mut cmds: Vec<Command> = self.want_view().into_iter().collect();
        cmds.extend(self.anatomy_entries());
        cmds
    }

    pub(super) fn set_mode(&mut self, mode: Mode) -> Vec<Command> {
        if self.layers.mode == mode {
            return Vec::new();
        }
        self.layers.mode = mode;
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
        self.want_view().into_iter().collect()
    }

    /// Asks for the tree's view of the selected layer and mode (built by the worker unless
    /// it is shown or cached).
    pub(super) fn want_view(&mut self) -> Option<Command> {
        let req = self.req();
        let cmd = self.tree.want(self.layers.selected, self.layers.mode, req);
        if cmd.is_none() {
            self.finish_jump();
        }
        cmd
    }

    pub(super) fn open_selected(&mut self) -> Vec<Command> {
        let Some((id, version, _)) = self.tree.selected_entry() else {
            return Vec::new();
        };
        let Some(tree) = self.tree.state.as_mut() else {
            return Vec::new();
        };
        if tree.is_dir(id) {
            tree.toggle_selected();
            return Vec::new();
        }
        let image = tree.image.clone();
        let req = self.req();
        let height = self.areas.tree.height as usize;
        let at = (id, version, self.layers.selected);
        self.viewer
            .open_file(req, &image, at, height, &self.findings.cfg.rules)
    }

    pub(super) fn read_ahead(&mut self) -> Option<Command> {
        let image = self.tree.state.as_ref()?.image.clone();
        self.viewer.read_ahead(&image, &self.findings.cfg.rules)
    }

    /// Applies a path filter (empty clears it). Invalid expressions keep the previous filter.
    pub fn set_filter(&mut self, text: String) -> Result<(), String> {
        self.tree.set_filter(text)
    }

    /// Key-bar entries for the current state.
    pub fn key_bar(&self) -> Vec<(String, &'static str)> {
        keymap::bar(self.scope())
    }
}
