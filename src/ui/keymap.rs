//! The one key table: it drives key handling, the `?` help overlay and the key bar, so they
//! cannot drift apart. Keys follow dive where dive has them.
//!
//! dive's conflicts and how strata settles them:
//! - `Ctrl+A` means "aggregated view" in the layers pane and "show/hide added" in the tree, as
//!   in dive (the focused pane decides). `Ctrl+L` and `Ctrl+A` also work from the tree for the
//!   compare mode through `Ctrl+L` (per layer) and `c` (toggle), so nothing is lost.
//! - `Ctrl+M` is the same byte as Enter on most terminals (dive's Enter toggles "modified" by
//!   accident). strata keeps Enter for "open" and uses `Ctrl+N` and `M` for "modified"; every
//!   change-type toggle also has a plain capital letter (`A`, `R`, `M`, `U`).
//! - `Ctrl+Space` is often eaten by input-method switchers: `x` also collapses/expands all.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Something the user asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Leave the program.
    Quit,
    /// Close the innermost thing (overlay, viewer, filter), or go back to the image list.
    Back,
    /// Close the viewer or help, otherwise quit (or return to the image list).
    Close,
    /// Show or hide the help overlay.
    Help,
    /// Focus the next pane: layers, file tree (or what replaces it), layer details, image
    /// details.
    SwitchPane,
    /// Focus the previous pane (the other way round).
    PrevPane,
    /// Next pane of the left column (layers → layer details → image details).
    NextLeftPane,
    /// Previous pane of the left column.
    PrevLeftPane,
    /// Selection up.
    Up,
    /// Selection down.
    Down,
    /// One page up.
    PageUp,
    /// One page down.
    PageDown,
    /// First item.
    Top,
    /// Last item.
    Bottom,
    /// Tree: collapse or go to parent.
    Left,
    /// Tree: expand or step in.
    Right,
    /// Open the selected file, image or directory.
    Open,
    /// Collapse/expand the selected directory.
    ToggleCollapse,
    /// Collapse/expand every directory.
    ToggleCollapseAll,
    /// Show what the selected layer changed.
    PerLayer,
    /// Show everything changed since the first layer.
    Aggregated,
    /// Toggle per-layer / aggregated.
    ToggleCompare,
    /// Show/hide added paths.
    ToggleAdded,
    /// Show/hide removed paths.
    ToggleRemoved,
    /// Show/hide modified paths.
    ToggleModified,
    /// Show/hide unchanged paths.
    ToggleUnchanged,
    /// Sort by name or size.
    Sort,
    /// Show/hide the permission, owner and size columns.
    Attributes,
    /// Filter the tree by a regular expression on the path.
    Filter,
    /// Show or hide the size bars (tree rows' share of their directory, layers' of the image).
    SizeBars,
    /// Tree: select the next path the last filter expression matches, keeping the rest shown;
    /// viewer: the next search match.
    NextMatch,
    /// Tree: select the previous match; viewer: the previous search match.
    PrevMatch,
    /// Viewer: search the open file's text (as shown, secrets masked).
    Search,
    /// Save the selected file to a directory.
    Extract,
    /// Viewer: full width or beside the layers.
    Zoom,
    /// Show or hide the findings pane.
    Findings,
    /// Findings: show the selected secret's raw value (after a confirmation).
    Reveal,
    /// Show or hide the packages pane.
    Packages,
    /// Type a reference (registry, daemon, archive, `oci:`) and open it.
    OpenReference,
    /// Compare the open image with another one (or show the comparison again).
    Compare,
    /// Show or hide the provenance pane.
    Provenance,
    /// Show or hide the anatomy view (documents, raw layer entries, reconstructed Dockerfile).
    Anatomy,
    /// Anatomy: show view N (1 documents, 2 raw layer entries, 3 Dockerfile).
    AnatomyView(u8),
    /// Anatomy: show or hide the "what am I looking at" explanation.
    Explain,
    /// Compare mode: show a file's text diff side by side or unified.
    SideBySide,
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everywhere (unless a pane binds the same key).
    Global,
    /// The daemon image list.
    Images,
    /// The layers pane.
    Layers,
    /// The file tree.
    Tree,
    /// The file viewer.
    Viewer,
    /// Layer and image details panes.
    Details,
    /// The findings pane.
    Findings,
    /// Compare mode's pane.
    Compare,
    /// The packages pane.
    Packages,
    /// The provenance pane.
    Provenance,
    /// The anatomy view.
    Anatomy,
}

impl Scope {
    /// Heading in the help overlay.
    pub fn title(self) -> &'static str {
        match self {
            Self::Global => "Everywhere",
            Self::Images => "Image list",
            Self::Layers => "Layers pane",
            Self::Tree => "File tree",
            Self::Viewer => "File viewer",
            Self::Details => "Details panes",
            Self::Findings => "Findings pane",
            Self::Compare => "Compare mode",
            Self::Packages => "Packages pane",
            Self::Provenance => "Provenance pane",
            Self::Anatomy => "Anatomy view",
        }
    }
}

/// A key with modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// The key.
    pub code: KeyCode,
    /// Ctrl/Alt (Shift is part of the character for letters).
    pub mods: KeyModifiers,
}

const fn k(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: KeyModifiers::NONE,
    }
}

const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: KeyModifiers::CONTROL,
    }
}

const fn code(c: KeyCode) -> Key {
    Key {
        code: c,
        mods: KeyModifiers::NONE,
    }
}

impl Key {
    /// How the key is written in help and the key bar.
    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "Shift+Tab".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::F(n) => format!("F{n}"),
            other => format!("{other:?}"),
        };
        if self.mods.contains(KeyModifiers::CONTROL) {
            let base = if base.chars().count() == 1 {
                base.to_uppercase()
            } else {
                base
            };
            format!("Ctrl+{base}")
        } else {
            base
        }
    }

    fn matches(&self, ev: &KeyEvent) -> bool {
        let mods = ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT);
        if mods != self.mods {
            return false;
        }
        match (self.code, ev.code) {
            (KeyCode::Char(a), KeyCode::Char(b)) if self.mods.contains(KeyModifiers::CONTROL) => {
                a.eq_ignore_ascii_case(&b)
            }
            (a, b) => a == b,
        }
    }
}

/// One line of the key table.
#[derive(Debug, Clone)]
pub struct Binding {
    /// Keys that trigger it (the first is shown in the key bar).
    pub keys: &'static [Key],
    /// Where it applies.
    pub scope: Scope,
    /// What it does.
    pub action: Action,
    /// Help text.
    pub help: &'static str,
    /// Short label for the key bar, if shown there.
    pub bar: Option<&'static str>,
}

const fn b(
    keys: &'static [Key],
    scope: Scope,
    action: Action,
    help: &'static str,
    bar: Option<&'static str>,
) -> Binding {
    Binding {
        keys,
        scope,
        action,
        help,
        bar,
    }
}

use Action as A;
use Scope as S;

/// The key table, most specific scopes first within each action group.
pub static BINDINGS: &[Binding] = &[
    b(&[ctrl('c')], S::Global, A::Quit, "quit strata", None),
    b(
        &[k('q')],
        S::Global,
        A::Close,
        "close viewer/help, else quit (or back to the image list)",
        Some("Quit"),
    ),
    b(
        &[code(KeyCode::Esc)],
        S::Global,
        A::Back,
        "close viewer/help, clear the filter, back to image list",
        None,
    ),
    b(
        &[k('?'), code(KeyCode::F(1))],
        S::Global,
        A::Help,
        "show or hide this help",
        Some("Help"),
    ),
    b(
        &[code(KeyCode::Tab)],
        S::Global,
        A::SwitchPane,
        "next pane: layers, file tree, layer details, image details",
        Some("Switch pane"),
    ),
    b(
        &[code(KeyCode::BackTab)],
        S::Global,
        A::PrevPane,
        "previous pane",
        None,
    ),
    b(
        &[code(KeyCode::Up), k('k')],
        S::Global,
        A::Up,
        "move up",
        None,
    ),
    b(
        &[code(KeyCode::Down), k('j')],
        S::Global,
        A::Down,
        "move down",
        None,
    ),
    b(
        &[code(KeyCode::PageUp), k('u'), ctrl('b')],
        S::Global,
        A::PageUp,
        "page up",
        None,
    ),
    b(
        &[code(KeyCode::PageDown), k('d'), ctrl('f')],
        S::Viewer,
        A::PageDown,
        "page down",
        None,
    ),
    b(
        &[code(KeyCode::PageDown), k('d')],
        S::Global,
        A::PageDown,
        "page down",
        None,
    ),
    b(
        &[code(KeyCode::Home), k('g')],
        S::Global,
        A::Top,
        "first item",
        None,
    ),
    b(
        &[code(KeyCode::End), k('G')],
        S::Global,
        A::Bottom,
        "last item",
        None,
    ),
    b(
        &[k('o')],
        S::Global,
        A::OpenReference,
        "open another image: type a reference (registry:, name:tag, PATH.tar, oci:DIR)",
        None,
    ),
    // Image list.
    b(
        &[code(KeyCode::Enter)],
        S::Images,
        A::Open,
        "open the selected image",
        Some("Open"),
    ),
    b(
        &[k('o')],
        S::Images,
        A::OpenReference,
        "type any reference to open: registry, daemon, archive, oci: layout",
        Some("Open reference"),
    ),
    // Layers.
    b(
        &[code(KeyCode::Right), k('l')],
        S::Layers,
        A::NextLeftPane,
        "next pane: layer details, image details",
        None,
    ),
    b(
        &[code(KeyCode::Left), k('h')],
        S::Layers,
        A::PrevLeftPane,
        "previous pane",
        None,
    ),
    b(
        &[ctrl('l')],
        S::Layers,
        A::PerLayer,
        "show what this layer changed",
        Some("Layer changes"),
    ),
    b(
        &[ctrl('a')],
        S::Layers,
        A::Aggregated,
        "show all changes up to this layer",
        Some("Aggregated"),
    ),
    b(
        &[k('c')],
        S::Global,
        A::ToggleCompare,
        "toggle layer changes / aggregated changes",
        None,
    ),
    b(
        &[code(KeyCode::Enter)],
        S::Layers,
        A::SwitchPane,
        "go to the file tree",
        None,
    ),
    // Details panes.
    b(
        &[code(KeyCode::Right), k('l')],
        S::Details,
        A::NextLeftPane,
        "next pane",
        None,
    ),
    b(
        &[code(KeyCode::Left), k('h')],
        S::Details,
        A::PrevLeftPane,
        "previous pane",
        None,
    ),
    // Tree.
    b(
        &[code(KeyCode::Enter)],
        S::Tree,
        A::Open,
        "open the file as of this layer / fold a directory",
        Some("Open"),
    ),
    b(
        &[code(KeyCode::Char(' '))],
        S::Tree,
        A::ToggleCollapse,
        "collapse/expand the directory",
        Some("Fold"),
    ),
    b(
        &[ctrl(' '), k('x')],
        S::Tree,
        A::ToggleCollapseAll,
        "collapse/expand all directories",
        None,
    ),
    b(
        &[code(KeyCode::Left), k('h')],
        S::Tree,
        A::Left,
        "collapse, or go to the parent",
        None,
    ),
    b(
        &[code(KeyCode::Right), k('l')],
        S::Tree,
        A::Right,
        "expand, or step into the directory",
        None,
    ),
    b(
        &[ctrl('l')],
        S::Tree,
        A::PerLayer,
        "show what this layer changed",
        None,
    ),
    b(
        &[ctrl('a'), k('A')],
        S::Tree,
        A::ToggleAdded,
        "show/hide added files (+)",
        Some("Added"),
    ),
    b(
        &[ctrl('r'), k('R')],
        S::Tree,
        A::ToggleRemoved,
        "show/hide removed files (-)",
        Some("Removed"),
    ),
    b(
        &[ctrl('n'), k('M')],
        S::Tree,
        A::ToggleModified,
        "show/hide modified files (~ content, * metadata)",
        Some("Modified"),
    ),
    b(
        &[ctrl('u'), k('U')],
        S::Tree,
        A::ToggleUnchanged,
        "show/hide unchanged files",
        Some("Unchanged"),
    ),
    b(
        &[ctrl('o'), k('s')],
        S::Tree,
        A::Sort,
        "sort by name / size",
        Some("Sort"),
    ),
    b(
        &[ctrl('b'), k('a')],
        S::Tree,
        A::Attributes,
        "show/hide permission, owner, size columns",
        None,
    ),
    b(
        &[k('F')],
        S::Global,
        A::Findings,
        "show/hide the findings: secrets, wasted bytes, bloat, config problems",
        Some("Findings"),
    ),
    b(
        &[k('P')],
        S::Global,
        A::Packages,
        "show/hide the installed packages",
        None,
    ),
    b(
        &[k('V')],
        S::Global,
        A::Provenance,
        "show/hide who made the image: provenance, attestations, signatures",
        None,
    ),
    b(
        &[k('/'), ctrl('f')],
        S::Global,
        A::Filter,
        "filter paths by regular expression",
        Some("Filter"),
    ),
    b(
        &[k('b')],
        S::Global,
        A::SizeBars,
        "show/hide size bars: a row's share of its directory, a layer's of the image",
        None,
    ),
    b(
        &[k('n')],
        S::Tree,
        A::NextMatch,
        "next match of the last filter, nothing hidden",
        None,
    ),
    b(&[k('N')], S::Tree, A::PrevMatch, "previous match", None),
    b(
        &[ctrl('e'), k('e')],
        S::Tree,
        A::Extract,
        "save the file (as of this layer) into a directory",
        Some("Extract"),
    ),
    b(
        &[k('D')],
        S::Global,
        A::Compare,
        "compare with another image (asks which), or show the comparison again",
        None,
    ),
    // Compare mode.
    b(
        &[code(KeyCode::Enter)],
        S::Compare,
        A::Open,
        "text diff of the selected file (its version in the open image against image B) / fold a directory",
        Some("Diff file"),
    ),
    b(
        &[k('v')],
        S::Compare,
        A::SideBySide,
        "text diff side by side (open image left, image B right) / unified",
        Some("Side by side"),
    ),
    b(
        &[code(KeyCode::Char(' '))],
        S::Compare,
        A::ToggleCollapse,
        "fold/unfold the directory",
        None,
    ),
    b(
        &[ctrl(' '), k('x')],
        S::Compare,
        A::ToggleCollapseAll,
        "fold/unfold all directories",
        None,
    ),
    b(
        &[code(KeyCode::Left), k('h')],
        S::Compare,
        A::Left,
        "fold, or go to the parent; in a text diff, scroll left",
        None,
    ),
    b(
        &[code(KeyCode::Right), k('l')],
        S::Compare,
        A::Right,
        "unfold, or step into the directory; in a text diff, scroll right",
        None,
    ),
    b(
        &[k('n')],
        S::Compare,
        A::NextMatch,
        "next changed path the last filter matches",
        None,
    ),
    b(&[k('N')], S::Compare, A::PrevMatch, "previous match", None),
    b(
        &[ctrl('o'), k('s')],
        S::Compare,
        A::Sort,
        "sort by name / by bytes changed (directories: bytes added and removed beneath)",
        Some("Sort"),
    ),
    b(
        &[k('A')],
        S::Compare,
        A::ToggleAdded,
        "show/hide paths only in image B",
        None,
    ),
    b(
        &[k('R')],
        S::Compare,
        A::ToggleRemoved,
        "show/hide paths only in the open image",
        None,
    ),
    b(
        &[k('M')],
        S::Compare,
        A::ToggleModified,
        "show/hide paths that differ",
        None,
    ),
    // Findings.
    b(
        &[code(KeyCode::Enter)],
        S::Findings,
        A::Open,
        "go to the finding's file in its layer (Enter again opens it)",
        Some("Go to file"),
    ),
    b(
        &[k('v')],
        S::Findings,
        A::Reveal,
        "reveal this secret's raw value on screen (asks first; hidden when you move)",
        Some("Reveal secret"),
    ),
    // Packages.
    b(
        &[code(KeyCode::Enter)],
        S::Packages,
        A::Open,
        "go to the file listing the package's files (dpkg .list, Python RECORD) or holding it",
        Some("Go to files"),
    ),
    b(
        &[k('s'), ctrl('o')],
        S::Packages,
        A::Sort,
        "sort by manager / name / size / layer / license",
        Some("Sort"),
    ),
    b(
        &[k('/'), ctrl('f')],
        S::Packages,
        A::Filter,
        "show only packages whose manager, name, version or license contains the text",
        Some("Filter"),
    ),
    // Provenance.
    b(
        &[code(KeyCode::Enter)],
        S::Provenance,
        A::Open,
        "show the selected attestation's in-toto statement (redacted); Enter again goes back",
        Some("Statement"),
    ),
    b(
        &[k('T')],
        S::Global,
        A::Anatomy,
        "show/hide the anatomy view: documents, raw layer entries, reconstructed Dockerfile",
        Some("Anatomy"),
    ),
    // Anatomy.
    b(
        &[code(KeyCode::Enter)],
        S::Anatomy,
        A::Open,
        "documents: show the selected document's JSON (Esc closes it); on a layer: its raw entries",
        Some("Open"),
    ),
    b(
        &[k('1')],
        S::Anatomy,
        A::AnatomyView(1),
        "the chain of documents: index, manifest, config, layers",
        Some("Documents"),
    ),
    b(
        &[k('2')],
        S::Anatomy,
        A::AnatomyView(2),
        "the selected layer's tar entries exactly as stored",
        Some("Entries"),
    ),
    b(
        &[k('3')],
        S::Anatomy,
        A::AnatomyView(3),
        "the Dockerfile reconstructed from the history",
        Some("Dockerfile"),
    ),
    b(
        &[k('i')],
        S::Anatomy,
        A::Explain,
        "show/hide a short explanation of what this view shows",
        Some("Explain"),
    ),
    b(
        &[code(KeyCode::Left), k('h')],
        S::Anatomy,
        A::Left,
        "previous layer (raw entries)",
        None,
    ),
    b(
        &[code(KeyCode::Right), k('l')],
        S::Anatomy,
        A::Right,
        "next layer (raw entries)",
        None,
    ),
    // Viewer.
    b(
        &[k('f')],
        S::Viewer,
        A::Zoom,
        "full width / beside the layers",
        Some("Zoom"),
    ),
    b(
        &[code(KeyCode::Char(' '))],
        S::Viewer,
        A::PageDown,
        "page down",
        None,
    ),
    b(
        &[ctrl('e'), k('e')],
        S::Viewer,
        A::Extract,
        "extract this file to a directory",
        Some("Extract"),
    ),
    b(
        &[code(KeyCode::End), k('G')],
        S::Viewer,
        A::Bottom,
        "the real last line (reads the file on to it)",
        None,
    ),
    b(
        &[k('/')],
        S::Viewer,
        A::Search,
        "search the text as shown (secrets masked)",
        Some("Search"),
    ),
    b(
        &[k('n')],
        S::Viewer,
        A::NextMatch,
        "next search match (wraps around)",
        None,
    ),
    b(
        &[k('N')],
        S::Viewer,
        A::PrevMatch,
        "previous search match (wraps around)",
        None,
    ),
];

/// The user's table (`super::user_keys`), once installed.
static INSTALLED: std::sync::OnceLock<Vec<Binding>> = std::sync::OnceLock::new();

/// Makes `table` (the defaults with the user's keys) the one every lookup, the help overlay
/// and the key bar read. Only the first call counts.
pub fn install(table: Vec<Binding>) {
    let _ = INSTALLED.set(table);
}

/// The key table in force: the user's when installed, else [`BINDINGS`].
pub fn table() -> &'static [Binding] {
    INSTALLED.get().map_or(BINDINGS, Vec::as_slice)
}

/// The action bound to `ev` in `scope` (pane bindings first, then global ones).
pub fn lookup(scope: Scope, ev: &KeyEvent) -> Option<Action> {
    lookup_in(table(), scope, ev)
}

/// [`lookup`] in a given table.
pub fn lookup_in(table: &[Binding], scope: Scope, ev: &KeyEvent) -> Option<Action> {
    let find = |s: Scope| {
        table
            .iter()
            .find(|b| b.scope == s && b.keys.iter().any(|k| k.matches(ev)))
            .map(|b| b.action)
    };
    let pane = if scope == Scope::Global {
        None
    } else {
        find(scope)
    };
    // The viewer shares the findings pane's reveal key for the secrets it masks (its footer
    // names the key while something is masked).
    let shared = || {
        (scope == Scope::Viewer)
            .then(|| find(Scope::Findings))
            .flatten()
            .filter(|a| *a == Action::Reveal)
    };
    pane.or_else(|| find(Scope::Global)).or_else(shared)
}

/// The key bar for `scope`: `(key label, short text)` pairs, pane bindings first.
pub fn bar(scope: Scope) -> Vec<(String, &'static str)> {
    const TOGGLES: [Action; 4] = [
        Action::ToggleAdded,
        Action::ToggleRemoved,
        Action::ToggleModified,
        Action::ToggleUnchanged,
    ];
    // Help first, so it is never cut off on a narrow terminal.
    let help_key = table()
        .iter()
        .find(|b| b.action == Action::Help)
        .and_then(|b| b.keys.first())
        .map_or_else(|| "?".to_owned(), Key::label);
    let mut out = vec![(help_key, "Help")];
    for s in [scope, Scope::Global] {
        for b in table().iter().filter(|b| b.scope == s) {
            if TOGGLES.contains(&b.action) {
                if b.action == Action::ToggleAdded {
                    out.push(if s == Scope::Compare {
                        (toggle_keys(s, &TOGGLES[..3]), "Show A/D/M")
                    } else {
                        (toggle_keys(s, &TOGGLES), "Show +/-/~/=")
                    });
                }
                continue;
            }
            // A global key the pane binds to something else does not do this here.
            let shadowed = s != scope
                && b.keys.first().is_some_and(|k| {
                    table()
                        .iter()
                        .any(|p| p.scope == scope && p.action != b.action && p.keys.contains(k))
                });
            if shadowed {
                continue;
            }
            if let (Some(label), Some(key)) = (b.bar, b.keys.first()) {
                if !out.iter().any(|(_, l)| *l == label) {
                    out.push((key.label(), label));
                }
            }
        }
        if scope == Scope::Global {
            break;
        }
    }
    out
}

/// One key-bar label for the change-type toggles of `scope`: `Ctrl+A/R/N/U` (a shared
/// modifier written once), from the table in force.
fn toggle_keys(scope: Scope, toggles: &[Action]) -> String {
    let labels: Vec<String> = toggles
        .iter()
        .filter_map(|a| {
            table()
                .iter()
                .find(|b| b.scope == scope && b.action == *a)
                .and_then(|b| b.keys.first())
                .map(Key::label)
        })
        .collect();
    let bare: Option<Vec<&str>> = labels.iter().map(|l| l.strip_prefix("Ctrl+")).collect();
    match bare {
        Some(b) if !b.is_empty() => format!("Ctrl+{}", b.join("/")),
        _ => labels.join("/"),
    }
}

/// Help lines: `(scope, keys, text)` for every binding, grouped by scope.
pub fn help() -> Vec<(Scope, String, &'static str)> {
    let mut out = Vec::new();
    for s in [
        Scope::Global,
        Scope::Layers,
        Scope::Tree,
        Scope::Viewer,
        Scope::Findings,
        Scope::Compare,
        Scope::Packages,
        Scope::Provenance,
        Scope::Anatomy,
        Scope::Details,
        Scope::Images,
    ] {
        for b in table().iter().filter(|b| b.scope == s) {
            let keys = b.keys.iter().map(Key::label).collect::<Vec<_>>().join(" ");
            out.push((s, keys, b.help));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(c, m)
    }

    #[test]
    fn pane_bindings_win_over_global_ones() {
        let ctrl_a = key(KeyCode::Char('a'), KeyModifiers::CONTROL);
        assert_eq!(lookup(Scope::Layers, &ctrl_a), Some(Action::Aggregated));
        assert_eq!(lookup(Scope::Tree, &ctrl_a), Some(Action::ToggleAdded));
        let enter = key(KeyCode::Enter, KeyModifiers::NONE);
        assert_eq!(lookup(Scope::Tree, &enter), Some(Action::Open));
        let j = key(KeyCode::Char('j'), KeyModifiers::NONE);
        assert_eq!(lookup(Scope::Tree, &j), Some(Action::Down));
        let shift_a = key(KeyCode::Char('A'), KeyModifiers::SHIFT);
        assert_eq!(lookup(Scope::Tree, &shift_a), Some(Action::ToggleAdded));
        let ctrl_c = key(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(lookup(Scope::Viewer, &ctrl_c), Some(Action::Quit));
        assert_eq!(
            lookup(Scope::Layers, &key(KeyCode::Char('c'), KeyModifiers::NONE)),
            Some(Action::ToggleCompare)
        );
    }

    #[test]
    fn every_action_used_in_a_pane_is_in_help() {
        let h = help();
        assert!(h
            .iter()
            .any(|(s, k, _)| *s == Scope::Tree && k.contains("Ctrl+O")));
        assert!(bar(Scope::Tree)
            .iter()
            .any(|(k, l)| k == "/" && *l == "Filter"));
        assert!(bar(Scope::Layers).iter().any(|(_, l)| *l == "Quit"));
    }
}
