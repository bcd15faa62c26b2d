//! The anatomy view (in place of the tree while open), for teaching what an image is: the
//! chain of documents (index, manifest, config, layers) with each one's JSON an Enter away,
//! the selected layer's tar entries exactly as stored (read once by the worker, kept as a
//! compact list, the special entries explained), and the Dockerfile reconstructed from the
//! history. A "what am I looking at" line per view is toggled with one key.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::analysis::dockerfile::Reconstructed;
use crate::model::documents::Documents;
use crate::model::Image;
use crate::source::layer::RawEntry;
use crate::ui::app::{App, Level, Pane};
use crate::ui::highlight::{self, StyledLine};
use crate::ui::keymap::Action;
use crate::ui::msg::Command;
use crate::ui::text::wrap;

/// Layer listings kept after they were read (switching back to a layer reads nothing).
const KEPT_LISTINGS: usize = 4;

/// The anatomy view's three views.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AnatomyView {
    /// The chain of documents and the layers.
    #[default]
    Documents,
    /// The selected layer's raw tar entries.
    Entries,
    /// The Dockerfile reconstructed from the history.
    Dockerfile,
}

impl AnatomyView {
    /// Position in the per-view arrays and the key that shows it, minus one.
    pub fn index(self) -> usize {
        match self {
            Self::Documents => 0,
            Self::Entries => 1,
            Self::Dockerfile => 2,
        }
    }

    /// Tab label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Documents => "Documents",
            Self::Entries => "Raw entries",
            Self::Dockerfile => "Dockerfile",
        }
    }

    /// Every view, in key order.
    pub const ALL: [Self; 3] = [Self::Documents, Self::Entries, Self::Dockerfile];

    /// "What am I looking at", for someone who has never seen a layer.
    pub fn explanation(self) -> &'static str {
        match self {
            Self::Documents => {
                "An image is a few JSON documents plus layer archives. An index lists one \
                 manifest per platform; a manifest names the config and each layer by digest \
                 (the sha256 of its bytes, so nothing can change unnoticed); the config holds \
                 the settings, the build history and one diff_id per layer. Enter shows a \
                 document's JSON."
            }
            Self::Entries => {
                "A layer is a tar archive of what one build step changed, listed here exactly \
                 as stored. A layer cannot change the layers below it: to delete a file it \
                 adds a whiteout entry (.wh.NAME), to empty a directory an opaque marker \
                 (.wh..wh..opq), so the deleted bytes still ship in the lower layer."
            }
            Self::Dockerfile => {
                "Every build step leaves one history entry in the config; steps that change \
                 files also leave a layer (its size is beside it), the others are empty steps. \
                 This Dockerfile is rebuilt from those entries: it shows what ran, and a note \
                 says where the history cannot tell exactly what was written."
            }
        }
    }
}

/// One row of the documents view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocItem {
    /// Document N of the chain.
    Document(usize),
    /// Descriptor M of document N.
    Ref(usize, usize),
    /// The heading of the layer list.
    LayersHeading,
    /// Layer N: stored blob beside the uncompressed tar.
    Layer(usize),
    /// Note N of the documents (what the source does not have).
    Note(usize),
}

/// What the layer list says about compressed and uncompressed layers.
pub const BLOB_VS_TAR: &str = "the blob is the layer as stored and downloaded (compressed, \
     named by its digest in the manifest); the tar is the same layer unpacked (named by its \
     diff_id in the config)";

/// `sha256:0123456789ab…` (the first 12 hex digits), made safe.
pub fn short_digest(d: &str) -> String {
    let d = crate::model::sanitize(d);
    match d.split_once(':') {
        Some((alg, hex)) if hex.len() > 12 => format!("{alg}:{}…", &hex[..12]),
        _ => d,
    }
}

/// `text` wrapped to `width` columns, the first line after `first`, the others indented as
/// far.
fn indented(first: &str, text: &str, width: usize) -> Vec<String> {
    let pad = " ".repeat(first.chars().count());
    wrap(text, width.saturating_sub(pad.len()))
        .into_iter()
        .enumerate()
        .map(|(i, l)| format!("{}{l}", if i == 0 { first } else { &pad }))
        .collect()
}

/// The rows of the documents view for `image`.
pub fn doc_items(image: &Image) -> Vec<DocItem> {
    let docs: &Documents = &image.documents;
    let mut out = Vec::new();
    for (i, d) in docs.chain.iter().enumerate() {
        out.push(DocItem::Document(i));
        out.extend((0..d.refs.len()).map(|j| DocItem::Ref(i, j)));
    }
    out.push(DocItem::LayersHeading);
    out.extend((0..image.layers.len()).map(DocItem::Layer));
    out.extend((0..docs.notes.len()).map(DocItem::Note));
    out
}

/// A layer's entries as stored, read once, with the special ones explained.
#[derive(Debug)]
pub struct RawListing {
    /// The layer.
    pub layer: usize,
    /// Every tar entry in archive order.
    pub entries: Vec<RawEntry>,
    /// Explanations of the special entries, by entry index (sorted).
    pub explained: Vec<(u32, String)>,
}

impl RawListing {
    /// The explanation of entry `i`, if it is special.
    pub fn explanation(&self, i: usize) -> Option<&str> {
        self.explained
            .binary_search_by_key(&(i as u32), |(e, _)| *e)
            .ok()
            .map(|k| self.explained[k].1.as_str())
    }

    /// Bytes the listing keeps in memory (entries, names, links, PAX keys, explanations).
    pub fn memory_bytes(&self) -> usize {
        let heap: usize = self
            .entries
            .iter()
            .map(|e| {
                e.path.len()
                    + e.link.as_ref().map_or(0, |l| l.len())
                    + e.pax.as_ref().map_or(0, |p| p.len())
            })
            .sum();
        let explained: usize = self.explained.iter().map(|(_, s)| s.len() + 32).sum();
        self.entries.capacity() * std::mem::size_of::<RawEntry>() + heap + explained
    }
}

/// Where the raw listing of the selected layer is.
#[derive(Debug, Default)]
pub enum EntriesState {
    /// Nothing asked yet.
    #[default]
    Idle,
    /// The worker is reading the layer.
    Reading {
        /// Layer.
        layer: usize,
        /// Entries read so far.
        read: usize,
    },
    /// Read.
    Ready(Arc<RawListing>),
    /// Reading failed.
    Failed {
        /// Layer.
        layer: usize,
        /// Why.
        error: String,
    },
}

/// A document's JSON on screen.
#[derive(Debug)]
pub struct JsonView {
    /// Title (kind, name, size).
    pub title: String,
    /// Highlighted, redacted lines.
    pub lines: Vec<StyledLine>,
    /// First line on screen.
    pub scroll: usize,
}

/// The anatomy view's state.
#[derive(Debug, Default)]
pub struct Anatomy {
    /// Shown in place of the tree.
    pub open: bool,
    /// Which view.
    pub view: AnatomyView,
    /// The "what am I looking at" line is shown.
    pub explain: bool,
    /// Selected item per view.
    pub selected: [usize; 3],
    /// First item on screen per view.
    pub scroll: [usize; 3],
    /// A document's JSON, when open.
    pub json: Option<JsonView>,
    /// The raw listing of the selected layer.
    pub entries: EntriesState,
    /// Listings read before (most recent last).
    kept: Vec<Arc<RawListing>>,
    /// The Dockerfile reconstruction of the open image.
    pub dockerfile: Option<Arc<Reconstructed>>,
    /// Current raw-listing request (latest wins).
    pub ticket: Arc<AtomicU64>,
    /// Rows of the anatomy body on screen.
    pub height: usize,
    /// Columns of the anatomy body on screen.
    pub width: usize,
}

impl Anatomy {
    /// Forgets everything of the previous image.
    pub fn clear(&mut self) {
        let explain = self.explain;
        let ticket = self.ticket.clone();
        ticket.store(0, Ordering::SeqCst);
        *self = Self {
            explain,
            ticket,
            ..Self::default()
        };
    }

    /// The lines under item `i` of the current view (explanations, notes, the tar side of
    /// a layer), wrapped to the pane; `items` are the documents view's rows.
    pub fn sub_lines(&self, image: &Image, items: &[DocItem], i: usize) -> Vec<String> {
        let w = self.width;
        match self.view {
            AnatomyView::Documents => match items.get(i) {
                Some(DocItem::LayersHeading) => indented("  ", BLOB_VS_TAR, w),
                Some(DocItem::Layer(l)) => image.layers.get(*l).map_or_else(Vec::new, |layer| {
                    vec![format!(
                        "            ⇒ tar  {} {}",
                        short_digest(&layer.diff_id),
                        crate::ui::text::bytes(layer.tar_bytes)
                    )]
                }),
                _ => Vec::new(),
            },
            AnatomyView::Entries => match &self.entries {
                EntriesState::Ready(l) => l
                    .explanation(i)
                    .map_or_else(Vec::new, |x| indented("    ↳ ", x, w)),
                _ => Vec::new(),
            },
            AnatomyView::Dockerfile => self
                .dockerfile
                .as_ref()
                .and_then(|d| d.steps.get(i))
                .map_or_else(Vec::new, |s| {
                    s.notes
                        .iter()
                        .flat_map(|n| indented("      note: ", &crate::model::sanitize(n), w))
                        .collect()
                }),
        }
    }

    /// Items of the current view.
    pub fn item_count(&self, image: Option<&Image>) -> usize {
        match self.view {
            AnatomyView::Documents => image.map_or(0, |i| doc_items(i).len()),
            AnatomyView::Entries => match &self.entries {
                EntriesState::Ready(l) => l.entries.len(),
                _ => 0,
            },
            AnatomyView::Dockerfile => self.dockerfile.as_ref().map_or(0, |d| d.steps.len()),
        }
    }

    /// Keeps the selection visible in `height` rows `width` columns wide.
    pub fn settle(&mut self, height: usize, width: usize, image: Option<&Image>) {
        self.height = height;
        self.width = width;
        let v = self.view.index();
        let n = self.item_count(image);
        self.selected[v] = self.selected[v].min(n.saturating_sub(1));
        if let Some(j) = &mut self.json {
            let max = j.lines.len().saturating_sub(height);
            j.scroll = j.scroll.min(max);
            return;
        }
        let Some(image) = image else {
            return;
        };
        let items = if self.view == AnatomyView::Documents {
            doc_items(image)
        } else {
            Vec::new()
        };
        let sel = self.selected[v];
        let mut scroll = self.scroll[v];
        if sel < scroll {
            scroll = sel;
        } else if sel - scroll > height {
            scroll = sel.saturating_sub(height);
        }
        let lines = |i: usize| 1 + self.sub_lines(image, &items, i).len();
        while scroll < sel && (scroll..=sel).map(lines).sum::<usize>() > height {
            scroll += 1;
        }
        self.scroll[v] = scroll;
    }

    /// The listing for `layer` if it was read before.
    fn kept(&self, layer: usize) -> Option<Arc<RawListing>> {
        self.kept.iter().find(|l| l.layer == layer).cloned()
    }

    /// Stores a finished listing (if it is still the one asked for).
    pub fn listing(&mut self, req: u64, result: Result<Arc<RawListing>, String>) {
        if self.ticket.load(Ordering::SeqCst) != req {
            return;
        }
        let layer = match &self.entries {
            EntriesState::Reading { layer, .. } => *layer,
            _ => return,
        };
        self.entries = match result {
            Ok(l) => {
                self.kept.retain(|k| k.layer != l.layer);
                self.kept.push(l.clone());
                if self.kept.len() > KEPT_LISTINGS {
                    self.kept.remove(0);
                }
                EntriesState::Ready(l)
            }
            Err(error) => EntriesState::Failed { layer, error },
        };
    }

    /// Progress of the current read.
    pub fn progress(&mut self, req: u64, entries: usize) {
        if self.ticket.load(Ordering::SeqCst) == req {
            if let EntriesState::Reading { read, .. } = &mut self.entries {
                *read = entries;
            }
        }
    }
}

/// The anatomy view's effect on the rest of the explorer.
impl App {
    // ----- anatomy ------------------------------------------------------------------------

    /// Opens or closes the anatomy view (in place of the tree, findings or packages).
    pub(in crate::ui) fn toggle_anatomy(&mut self) -> Vec<Command> {
        if self.anatomy.open && self.focus == Pane::Anatomy {
            self.close_anatomy();
            return Vec::new();
        }
        self.findings.close();
        self.packages.open = false;
        self.compare.open = false;
        self.anatomy.open = true;
        self.focus = Pane::Anatomy;
        self.ensure_dockerfile();
        self.anatomy_entries().into_iter().collect()
    }

    pub(in crate::ui) fn close_anatomy(&mut self) {
        self.anatomy.open = false;
        self.anatomy.json = None;
        if self.focus == Pane::Anatomy {
            self.focus = Pane::Tree;
        }
    }

    /// Reconstructs the Dockerfile of the open image once (again after the full load, whose
    /// layer sizes the preview does not have).
    pub(in crate::ui) fn ensure_dockerfile(&mut self) {
        if self.anatomy.dockerfile.is_none() {
            if let Some(image) = &self.image {
                let r =
                    crate::analysis::dockerfile::reconstruct(image, &self.findings.cfg.redactor());
                self.anatomy.dockerfile = Some(Arc::new(r));
            }
        }
    }

    /// Asks the worker for the selected layer's raw entries when the entries view shows and
    /// they are not at hand.
    pub(in crate::ui) fn anatomy_entries(&mut self) -> Option<Command> {
        if !self.anatomy.open || self.anatomy.view != AnatomyView::Entries || !self.loaded() {
            return None;
        }
        let layer = self.layers.selected;
        match &self.anatomy.entries {
            EntriesState::Ready(l) if l.layer == layer => return None,
            EntriesState::Reading { layer: l, .. } if *l == layer => return None,
            _ => {}
        }
        let image = self.tree.state.as_ref()?.image.clone();
        self.anatomy.selected[1] = 0;
        self.anatomy.scroll[1] = 0;
        if let Some(l) = self.anatomy.kept(layer) {
            self.anatomy.ticket.store(0, Ordering::SeqCst);
            self.anatomy.entries = EntriesState::Ready(l);
            return None;
        }
        let req = self.req();
        self.anatomy.ticket.store(req, Ordering::SeqCst);
        self.anatomy.entries = EntriesState::Reading { layer, read: 0 };
        Some(Command::RawEntries {
            req,
            ticket: self.anatomy.ticket.clone(),
            image,
            layer,
        })
    }

    /// Handles an action while the anatomy view has the focus.
    pub(in crate::ui) fn anatomy_action(&mut self, action: Action) -> Vec<Command> {
        let page = self.anatomy.height.max(1);
        if let Some(j) = &mut self.anatomy.json {
            match action {
                Action::Open => self.anatomy.json = None,
                other => super::scroll(&mut j.scroll, other),
            }
            return Vec::new();
        }
        match action {
            Action::AnatomyView(n) => {
                self.anatomy.view = match n {
                    2 => AnatomyView::Entries,
                    3 => AnatomyView::Dockerfile,
                    _ => AnatomyView::Documents,
                };
                self.ensure_dockerfile();
                return self.anatomy_entries().into_iter().collect();
            }
            Action::Explain => self.anatomy.explain = !self.anatomy.explain,
            Action::Left | Action::Right if self.anatomy.view == AnatomyView::Entries => {
                let n = self.layer_count();
                let l = self.layers.selected;
                let to = if action == Action::Left {
                    l.saturating_sub(1)
                } else {
                    (l + 1).min(n.saturating_sub(1))
                };
                return self.select_layer(to);
            }
            Action::Open => return self.anatomy_open(),
            other => {
                let v = self.anatomy.view.index();
                let n = self.anatomy.item_count(self.image.as_deref());
                super::move_index(&mut self.anatomy.selected[v], n, other, page);
            }
        }
        Vec::new()
    }

    /// Enter in the anatomy view: a document's JSON, or a layer's raw entries.
    fn anatomy_open(&mut self) -> Vec<Command> {
        if self.anatomy.view != AnatomyView::Documents {
            return Vec::new();
        }
        let Some(image) = self.image.clone() else {
            return Vec::new();
        };
        let items = doc_items(&image);
        let doc = match items.get(self.anatomy.selected[0]) {
            Some(DocItem::Document(i) | DocItem::Ref(i, _)) => *i,
            Some(DocItem::Layer(l)) => {
                self.anatomy.view = AnatomyView::Entries;
                return self.select_layer(*l);
            }
            _ => return Vec::new(),
        };
        let Some(d) = image.documents.chain.get(doc) else {
            return Vec::new();
        };
        let redactor = self.findings.cfg.redactor();
        let (text, how) = match redactor.json_document(&d.raw) {
            Some(t) => (t, "pretty-printed, secrets masked"),
            None => (
                String::from_utf8_lossy(&d.raw).into_owned(),
                "not valid JSON: shown as stored",
            ),
        };
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        let styled = highlight::snippet("JSON", &lines);
        self.anatomy.json = Some(JsonView {
            title: format!(
                "{} {} · {} stored ({how})",
                d.kind.label(),
                crate::model::sanitize(&d.name),
                crate::ui::text::bytes(d.size())
            ),
            lines: styled,
            scroll: 0,
        });
        if lines.len() > 5000 {
            self.notice = Some((format!("{} lines", lines.len()), Level::Info));
        }
        Vec::new()
    }
}
