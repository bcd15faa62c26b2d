//! The provenance pane: who made the open image (its SLSA provenance, base image, build
//! arguments, attestations and signatures), one attestation selected at a time, and on Enter
//! that attestation's raw in-toto statement (redacted, pretty-printed) to scroll through.

use super::{move_index, scroll};
use crate::model::Image;
use crate::redact::Redactor;
use crate::ui::app::{App, Level, Pane};
use crate::ui::keymap::Action;

/// The raw statement being read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementView {
    /// Index of the attestation in `Provenance::attestations`.
    pub attestation: usize,
    /// The statement, redacted and pretty-printed, one entry per line.
    pub lines: Vec<String>,
    /// First line on screen.
    pub scroll: usize,
}

/// State of the provenance pane.
#[derive(Debug, Default)]
pub struct ProvenancePane {
    /// The pane is shown (in place of the tree).
    pub open: bool,
    /// Selected attestation.
    pub selected: usize,
    /// First line of the summary on screen.
    pub scroll: usize,
    /// The statement shown after Enter, until Esc.
    pub statement: Option<StatementView>,
    /// The summary scrolls to keep the selected attestation on screen (after the arrows;
    /// paging scrolls freely).
    pub follow: bool,
}

impl ProvenancePane {
    /// Forgets everything (another image).
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// Handles an action; `page` is the number of rows on screen. Returns a notice for the
    /// status line when there is something to say.
    pub fn update(
        &mut self,
        action: Action,
        image: Option<&Image>,
        redactor: &Redactor,
        page: usize,
    ) -> Option<String> {
        if let Some(view) = &mut self.statement {
            match action {
                Action::Open => self.statement = None,
                Action::PageUp => view.scroll = view.scroll.saturating_sub(page),
                Action::PageDown => view.scroll += page,
                Action::Bottom => view.scroll = view.lines.len().saturating_sub(page),
                other => scroll(&mut view.scroll, other),
            }
            if let Some(v) = &mut self.statement {
                v.scroll = v.scroll.min(v.lines.len().saturating_sub(1));
            }
            return None;
        }
        let attestations = image.map_or(&[][..], |i| &i.provenance.attestations[..]);
        match action {
            Action::Open => {
                let Some(a) = attestations.get(self.selected) else {
                    return Some("no attestation to show".into());
                };
                let Some(raw) = &a.statement else {
                    return Some(format!(
                        "this statement could not be read: {}",
                        crate::model::sanitize(a.problem.as_deref().unwrap_or("no bytes"))
                    ));
                };
                let text = crate::analysis::provenance::redacted_statement(raw, redactor);
                self.statement = Some(StatementView {
                    attestation: self.selected,
                    lines: text.lines().map(str::to_owned).collect(),
                    scroll: 0,
                });
            }
            // Paging and the ends move the summary (the signatures are below the
            // attestations); the arrows move the selection, and the summary follows it.
            Action::PageUp => {
                (self.scroll, self.follow) = (self.scroll.saturating_sub(page), false)
            }
            Action::PageDown => {
                (self.scroll, self.follow) = (self.scroll.saturating_add(page), false)
            }
            Action::Top | Action::Bottom => {
                scroll(&mut self.scroll, action);
                self.follow = false;
            }
            other => {
                move_index(&mut self.selected, attestations.len(), other, page);
                self.follow = true;
            }
        }
        None
    }

    /// Closes the statement view; false when none was open.
    pub fn close_statement(&mut self) -> bool {
        self.statement.take().is_some()
    }
}

/// The provenance pane's effect on the rest of the explorer.
impl App {
    /// Opens or closes the provenance pane (in place of the tree, findings or packages).
    pub(in crate::ui) fn toggle_provenance(&mut self) {
        if self.provenance.open && self.focus == Pane::Provenance {
            self.close_provenance();
            return;
        }
        self.findings.close();
        self.packages.open = false;
        self.compare.open = false;
        self.provenance.open = true;
        self.focus = Pane::Provenance;
        if !self.loaded() {
            self.notice = Some(("the image is still being read…".into(), Level::Info));
        }
    }

    pub(in crate::ui) fn close_provenance(&mut self) {
        self.provenance.open = false;
        self.provenance.statement = None;
        if self.focus == Pane::Provenance {
            self.focus = Pane::Tree;
        }
    }
}
