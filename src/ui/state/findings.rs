//! The findings pane: findings of the loaded image (worst first), the badges derived from
//! them, and the reveal key for one secret's raw value.

use std::sync::Arc;

use super::{follow, move_index};
use crate::analysis::finding::{Category, Finding, Severity};
use crate::config::FindingsConfig;
use crate::model::fs::{FileSystem, PathId, VersionId};
use crate::model::Image;
use crate::ui::app::{App, Level, Pane};
use crate::ui::keymap::Action;
use crate::ui::msg::{Command, Secret};
use crate::ui::state::prompt::Prompt;

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

/// What a findings action asks of the rest of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingsOutcome {
    /// Handled here.
    Done,
    /// Go to the selected finding's layer and file.
    Jump,
    /// Ask before revealing the selected secret.
    Reveal,
}

/// The findings of the loaded image and the pane showing them.
#[derive(Debug)]
pub struct Findings {
    /// Configuration of the findings pass (its rules also mask the viewer).
    pub cfg: Arc<FindingsConfig>,
    /// Findings, worst first.
    pub list: Vec<Finding>,
    /// Progress of the findings pass.
    pub state: FindingsState,
    /// The pane is shown (in place of the tree).
    pub open: bool,
    /// Selected finding.
    pub selected: usize,
    /// First finding on screen.
    pub scroll: usize,
    /// The revealed secret of the selected finding, if the user asked for it.
    pub reveal: Option<Reveal>,
    /// Badges on layer and tree rows.
    pub badges: Vec<Badge>,
    /// The keys scroll the selected finding's details instead of moving the selection (Tab
    /// from the list; Tab again leaves the pane).
    pub details_focus: bool,
    /// First row of the details on screen.
    pub details_scroll: usize,
}

impl Findings {
    /// No findings yet, computed with `cfg`.
    pub fn new(cfg: Arc<FindingsConfig>) -> Self {
        Self {
            cfg,
            list: Vec::new(),
            state: FindingsState::Idle,
            open: false,
            selected: 0,
            scroll: 0,
            reveal: None,
            badges: Vec::new(),
            details_focus: false,
            details_scroll: 0,
        }
    }

    /// Forgets the findings (another image).
    pub fn clear(&mut self) {
        self.list.clear();
        self.badges.clear();
        self.state = FindingsState::Idle;
        self.open = false;
        self.selected = 0;
        self.scroll = 0;
        self.reveal = None;
        self.details_focus = false;
        self.details_scroll = 0;
    }

    /// Stores the findings (sorted worst first) and derives the badges; `fs` places them on
    /// tree rows.
    pub fn set(&mut self, mut list: Vec<Finding>, fs: Option<&FileSystem>) {
        crate::analysis::findings::sort(&mut list);
        self.list = list;
        self.state = FindingsState::Ready;
        self.selected = 0;
        self.scroll = 0;
        self.reveal = None;
        self.badges = badges(&self.list, fs);
    }

    /// The selected finding.
    pub fn selected_finding(&self) -> Option<&Finding> {
        self.list.get(self.selected)
    }

    /// Handles an action in the pane; `page` is the number of findings on screen.
    pub fn update(&mut self, action: Action, page: usize) -> FindingsOutcome {
        match action {
            Action::Open => {
                self.reveal = None;
                FindingsOutcome::Jump
            }
            Action::Reveal => FindingsOutcome::Reveal,
            other if self.details_focus => {
                super::scroll(&mut self.details_scroll, other);
                FindingsOutcome::Done
            }
            other => {
                self.select_with(|i, n| move_index(i, n, other, page));
                FindingsOutcome::Done
            }
        }
    }

    /// Selects the finding shown at `row` of the screen, if there is one.
    pub fn click(&mut self, row: usize) {
        let i = self.scroll + row / FINDING_ROWS;
        if i < self.list.len() {
            self.select_with(|sel, _| *sel = i);
        }
    }

    fn select_with(&mut self, f: impl FnOnce(&mut usize, usize)) {
        let before = self.selected;
        f(&mut self.selected, self.list.len());
        if self.selected != before {
            // A revealed secret belongs to one finding only.
            self.reveal = None;
            self.details_scroll = 0;
        }
    }

    /// Closes the pane (the revealed secret goes with it).
    pub fn close(&mut self) {
        self.open = false;
        self.reveal = None;
        self.details_focus = false;
    }

    /// Where the raw value of a secret finding is: (version, offset, length), from the
    /// content matches recorded during the layer pass (same path and layer, same rule first).
    pub fn secret_location(image: &Image, f: &Finding) -> Option<(VersionId, u64, u64)> {
        if f.category != Category::Secret {
            return None;
        }
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

    /// Why the selected finding has nothing to reveal, or `None` when it has.
    pub fn reveal_refusal(&self, image: Option<&Image>) -> Option<&'static str> {
        let f = self.selected_finding()?;
        if f.category != Category::Secret {
            return Some("only secret findings have a value to reveal");
        }
        match image.and_then(|i| Self::secret_location(i, f)) {
            Some(_) => None,
            None => Some("no matched value to reveal for this finding (Enter shows its file)"),
        }
    }

    /// The read-back of finding `finding` after the confirmation, with request id `req`.
    pub fn reveal_command(
        &mut self,
        image: &Arc<Image>,
        finding: usize,
        req: u64,
    ) -> Option<Command> {
        if finding != self.selected {
            return None;
        }
        let f = self.list.get(finding)?;
        let (version, offset, len) = Self::secret_location(image, f)?;
        self.reveal = Some(Reveal::Pending { req, finding });
        Some(Command::Reveal {
            req,
            image: image.clone(),
            version,
            offset,
            len: len.min(MAX_REVEAL),
        })
    }

    /// The raw value came back; returns a notice when it could not be read.
    pub fn revealed_value(&mut self, req: u64, result: Result<Secret, String>) -> Option<String> {
        let finding = match &self.reveal {
            Some(Reveal::Pending { req: r, finding }) if *r == req => *finding,
            _ => return None,
        };
        match result {
            Ok(secret) if finding == self.selected && self.open => {
                self.reveal = Some(Reveal::Shown { finding, secret });
                None
            }
            Ok(_) => {
                self.reveal = None;
                None
            }
            Err(e) => {
                self.reveal = None;
                Some(format!(
                    "cannot read the secret back: {}",
                    crate::ui::text::one_line(&e)
                ))
            }
        }
    }

    /// The revealed raw secret of finding `i`, if the user asked for it.
    pub fn revealed(&self, i: usize) -> Option<&Secret> {
        match &self.reveal {
            Some(Reveal::Shown { finding, secret }) if *finding == i => Some(secret),
            _ => None,
        }
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

    /// Keeps the selection visible with `per_screen` findings on screen.
    pub fn settle(&mut self, per_screen: usize) {
        self.scroll = follow(self.scroll, self.selected, per_screen);
    }
}

/// Badges from the findings: one per layer (count and worst severity) and one per path (a
/// `!` marker with the worst severity).
fn badges(findings: &[Finding], fs: Option<&FileSystem>) -> Vec<Badge> {
    use std::collections::BTreeMap;
    let mut layers: BTreeMap<usize, (usize, Severity)> = BTreeMap::new();
    let mut paths: BTreeMap<PathId, Severity> = BTreeMap::new();
    for f in findings {
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

/// The findings pane's effect on the rest of the explorer.
impl App {
    // ----- findings -----------------------------------------------------------------------

    pub(in crate::ui) fn start_reveal(&mut self) {
        let image = self.tree.state.as_ref().map(|t| t.image.clone());
        match self.findings.reveal_refusal(image.as_deref()) {
            Some(why) => self.notice = Some((why.into(), Level::Info)),
            None if self.findings.selected_finding().is_some() => {
                self.prompt.active = Some(Prompt::Reveal {
                    finding: self.findings.selected,
                });
            }
            None => {}
        }
    }

    /// Enter on a finding: select its layer and, for a file, show that file in the tree
    /// (parents expanded, filters cleared when they hide it) once the tree shows that layer.
    pub(in crate::ui) fn jump_to_finding(&mut self) -> Vec<Command> {
        let Some(f) = self.findings.selected_finding().cloned() else {
            return Vec::new();
        };
        let Some(layer) = f.layer.filter(|&l| l < self.layer_count()) else {
            self.focus = Pane::ImageDetails;
            self.notice = Some((
                "this finding is about the image configuration: see Image details".into(),
                Level::Info,
            ));
            return Vec::new();
        };
        let Some(path) = f.path else {
            let cmds = self.select_layer(layer);
            self.focus = Pane::Layers;
            self.notice = Some((format!("layer {layer} selected"), Level::Info));
            return cmds;
        };
        self.findings.open = false;
        self.viewer.close();
        self.focus = Pane::Tree;
        self.pending_jump = Some((path, layer));
        let mut cmds = self.select_layer(layer);
        if cmds.is_empty() && self.pending_jump.is_some() {
            // Same layer as before: the tree already shows it.
            cmds = self.want_view().into_iter().collect();
        }
        cmds
    }

    /// Selects the pending finding's file once the tree shows the wanted view.
    pub(in crate::ui) fn finish_jump(&mut self) {
        if self.tree.building() {
            return;
        }
        let Some((path, layer)) = self.pending_jump.take() else {
            return;
        };
        let shown = crate::model::sanitize(&path);
        self.notice = Some(if self.tree.show_path(&path) {
            (
                format!("{shown} in layer {layer}: Enter opens it"),
                Level::Info,
            )
        } else {
            (
                format!("{shown} is not in the tree of layer {layer}"),
                Level::Error,
            )
        });
    }
}
