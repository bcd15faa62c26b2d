//! The file viewer: the open file's lines or bytes as the worker reads them (latest wins
//! through a ticket), highlighting swapped in as it arrives, and the spans a secret rule
//! matched, masked until the deliberate reveal.
//!
//! `G` reads on to the real end of the file in one worker job (one pass over the layer, a
//! progress note in the footer, the view jumps when the last line is in). `/` searches the
//! text as shown (secrets masked) with `n`/`N`; a search also reads the whole file through
//! the same job, its matches growing as the lines arrive.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::model::fs::{EntryKind, PathId, VersionId};
use crate::model::Image;
use crate::redact::rules::RuleSet;
use crate::ui::highlight::StyledLine;
use crate::ui::keymap::Action;
use crate::ui::msg::{Chunk, Command};
use crate::ui::text;

/// Rows kept for the text viewer before reading the next chunk.
const READ_AHEAD_SCREENS: usize = 2;

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
    /// Rows on screen in the current layout.
    pub height: usize,
    /// Bytes per hex dump row (16, or 8 on narrow panes).
    pub hex_per_row: usize,
    /// Parts of text lines a secret rule matched: (line index, byte range), by line.
    pub masked_lines: Vec<(usize, Range<usize>)>,
    /// File offsets a secret rule matched (hex view), sorted.
    pub masked_bytes: Vec<Range<u64>>,
    /// The masked parts are shown (after `v` and a confirmation).
    pub revealed: bool,
    /// The whole file is wanted (`G` or a search): the next read goes on to the end.
    pub read_all: bool,
    /// A read to the end of the file is in flight.
    pub reading_to_end: bool,
    /// Scroll to the last line once it is read (`G` pressed before the end was known).
    pub jump_end: bool,
    /// The search in this file, if any.
    pub search: Option<Search>,
}

/// A search in the open file: matches in the text as shown (masked secrets stay masked, so
/// their raw value is never matched), found in the lines read so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// What was typed (case-insensitive unless it has a capital letter).
    pub query: String,
    /// Matches: (line index, character range in the line as drawn), in file order.
    pub matches: Vec<(usize, Range<usize>)>,
    /// Lines searched so far.
    pub searched: usize,
    /// Index in `matches` of the current match.
    pub current: Option<usize>,
}

impl Search {
    fn new(query: String) -> Self {
        Self {
            query,
            matches: Vec::new(),
            searched: 0,
            current: None,
        }
    }

    fn case_sensitive(&self) -> bool {
        self.query.chars().any(char::is_uppercase)
    }

    /// Character ranges of the matches in `shown` (a line as drawn).
    pub fn find(&self, shown: &str) -> Vec<Range<usize>> {
        if self.query.is_empty() {
            return Vec::new();
        }
        let (hay, needle) = if self.case_sensitive() {
            (Cow::Borrowed(shown), Cow::Borrowed(self.query.as_str()))
        } else {
            // ASCII folding keeps byte offsets, so they still fit `shown`.
            (
                Cow::Owned(shown.to_ascii_lowercase()),
                Cow::Owned(self.query.to_ascii_lowercase()),
            )
        };
        let mut out = Vec::new();
        let mut from = 0;
        while let Some(i) = hay[from..].find(needle.as_ref()) {
            let a = from + i;
            let b = a + needle.len();
            let ca = shown[..a].chars().count();
            out.push(ca..ca + shown[a..b].chars().count());
            from = b;
        }
        out
    }
}

impl Viewer {
    /// True when a secret rule matched something read so far.
    pub fn has_masks(&self) -> bool {
        !self.masked_lines.is_empty() || !self.masked_bytes.is_empty()
    }

    /// The masked byte ranges of text line `i` (none once revealed).
    pub fn line_masks(&self, i: usize) -> impl Iterator<Item = &Range<usize>> {
        let (from, to) = if self.revealed {
            (0, 0)
        } else {
            (
                self.masked_lines.partition_point(|(l, _)| *l < i),
                self.masked_lines.partition_point(|(l, _)| *l <= i),
            )
        };
        self.masked_lines[from..to].iter().map(|(_, r)| r)
    }

    /// True when the byte at file offset `at` is masked (never once revealed).
    pub fn byte_masked(&self, at: u64) -> bool {
        if self.revealed {
            return false;
        }
        let i = self.masked_bytes.partition_point(|r| r.end <= at);
        self.masked_bytes.get(i).is_some_and(|r| r.start <= at)
    }

    /// Text line `i` as drawn: made safe (tabs expanded, control characters escaped) and its
    /// masked parts shown as [`crate::ui::mask::MASK`] until the reveal.
    pub fn shown_line(&self, i: usize) -> Cow<'_, str> {
        let line = &self.lines[i];
        let masks: Vec<&Range<usize>> = self.line_masks(i).collect();
        if masks.is_empty() && line.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Cow::Borrowed(line);
        }
        let mut col = 0;
        if masks.is_empty() {
            return Cow::Owned(text::safe_content(line, &mut col));
        }
        Cow::Owned(
            crate::ui::mask::shown_pieces(line, &masks)
                .into_iter()
                .map(|(piece, _)| piece)
                .collect(),
        )
    }

    /// Searches the lines read since the last call; the first match found becomes the current
    /// one (and is scrolled to) when there was none.
    fn search_more(&mut self) {
        let Some(mut search) = self.search.take() else {
            return;
        };
        if self.kind == ViewerKind::Text {
            let had = search.matches.len();
            for i in search.searched..self.lines.len() {
                for r in search.find(&self.shown_line(i)) {
                    search.matches.push((i, r));
                }
            }
            search.searched = self.lines.len();
            if search.current.is_none() && search.matches.len() > had {
                let at = search.matches[had..]
                    .iter()
                    .position(|(l, _)| *l >= self.scroll)
                    .map_or(had, |p| had + p);
                search.current = Some(at);
                self.show_line(search.matches[at].0);
            }
        }
        self.search = Some(search);
    }

    /// Scrolls so that line `i` is on screen (a third down the pane when it was not).
    fn show_line(&mut self, i: usize) {
        let height = self.height.max(1);
        if i < self.scroll || i >= self.scroll + height {
            let max = self.rows().saturating_sub(height);
            self.scroll = i.saturating_sub(height / 3).min(max);
        }
        self.jump_end = false;
    }

    /// The search's status for the footer: `/text: match 2 of 5`, `no match`, and `so far`
    /// while the file is still being read.
    pub fn search_status(&self) -> Option<String> {
        let s = self.search.as_ref()?;
        let so_far = if self.eof { "" } else { " so far" };
        let found = match (s.current, s.matches.len()) {
            (_, 0) => format!("no match{so_far}"),
            (Some(k), m) => format!("match {} of {m}{so_far}", k + 1),
            (None, m) => format!("{m} matches{so_far}"),
        };
        Some(format!("/{}: {found}", crate::model::sanitize(&s.query)))
    }

    /// Moves to the next (`forward`) or previous match, wrapping around.
    fn step_match(&mut self, forward: bool) {
        let Some(s) = self.search.as_mut() else {
            return;
        };
        let m = s.matches.len();
        if m == 0 {
            return;
        }
        let k = match s.current {
            Some(k) if forward => (k + 1) % m,
            Some(k) => (k + m - 1) % m,
            None => 0,
        };
        s.current = Some(k);
        let line = s.matches[k].0;
        self.show_line(line);
    }

    /// The search matches in line `i`: (character range, is the current match).
    pub fn line_matches(&self, i: usize) -> Vec<(Range<usize>, bool)> {
        let Some(s) = self.search.as_ref() else {
            return Vec::new();
        };
        let from = s.matches.partition_point(|(l, _)| *l < i);
        s.matches[from..]
            .iter()
            .take_while(|(l, _)| *l == i)
            .enumerate()
            .map(|(j, (_, r))| (r.clone(), s.current == Some(from + j)))
            .collect()
    }

    /// Bytes read to the end so far, while a read to the end is under way.
    pub fn reading_to_end(&self) -> Option<(u64, u64)> {
        (self.read_all && !self.eof).then_some((self.next, self.size))
    }

    /// Number of scrollable rows loaded.
    pub fn rows(&self) -> usize {
        match self.kind {
            ViewerKind::Text => self.lines.len(),
            ViewerKind::Binary => self.bytes.len().div_ceil(self.hex_per_row.max(1)),
            _ => 0,
        }
    }
}

/// What a viewer action asks of the rest of the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewerOutcome {
    /// Handled here.
    Done,
    /// Extract the open file.
    Extract,
    /// Ask before showing the masked secrets.
    ConfirmReveal,
    /// Tell the user something.
    Notice(&'static str),
    /// Ask what to search for in the file.
    AskSearch,
}

/// The viewer pane: the open file, if any.
#[derive(Debug)]
pub struct ViewerPane {
    /// The open file.
    pub open: Option<Viewer>,
    /// The viewer takes the whole width.
    pub full: bool,
    ticket: Arc<AtomicU64>,
}

impl Default for ViewerPane {
    fn default() -> Self {
        Self {
            open: None,
            full: false,
            ticket: Arc::new(AtomicU64::new(0)),
        }
    }
}

fn link_text(link: Option<&[u8]>) -> String {
    link.map(crate::model::sanitize_bytes).unwrap_or_default()
}

impl ViewerPane {
    /// Closes the file; reads in flight for it are dropped.
    pub fn close(&mut self) {
        self.open = None;
        self.ticket.store(0, Ordering::SeqCst);
    }

    /// Opens path `id` as `version` shows it (`layer` when it has no version of its own) with
    /// request id `req`: a message for links, devices and empty files, else the first read.
    pub fn open_file(
        &mut self,
        req: u64,
        image: &Arc<Image>,
        (id, version, layer): (PathId, Option<VersionId>, usize),
        height: usize,
        rules: &Arc<RuleSet>,
    ) -> Vec<Command> {
        let mut viewer = Viewer {
            req,
            version: version.unwrap_or(u32::MAX),
            path: id,
            layer,
            title: crate::model::path::display(image.fs.path(id)),
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
            height,
            hex_per_row: 16,
            masked_lines: Vec::new(),
            masked_bytes: Vec::new(),
            revealed: false,
            read_all: false,
            reading_to_end: false,
            jump_end: false,
            search: None,
        };
        let Some(vid) = version else {
            viewer.kind =
                ViewerKind::Message("no content: this path has no entry of its own".into());
            self.open = Some(viewer);
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
            self.open = Some(viewer);
            return Vec::new();
        }
        if viewer.size == 0 {
            viewer.kind = ViewerKind::Message("empty file".into());
            self.open = Some(viewer);
            return Vec::new();
        }
        viewer.pending = true;
        self.ticket.store(req, Ordering::SeqCst);
        self.open = Some(viewer);
        vec![Command::Read {
            req,
            ticket: self.ticket.clone(),
            image: image.clone(),
            version: vid,
            name: image.fs.name(id).to_vec(),
            offset: 0,
            first_line: 0,
            binary: None,
            syntax: None,
            rules: rules.clone(),
            to_end: false,
        }]
    }

    /// The next read: on to the end when the whole file is wanted, else one chunk when the
    /// user is near the end of what was read. Never a second read while one is in flight.
    pub fn read_ahead(&mut self, image: &Arc<Image>, rules: &Arc<RuleSet>) -> Option<Command> {
        let v = self.open.as_mut()?;
        if v.eof || v.pending || !matches!(v.kind, ViewerKind::Text | ViewerKind::Binary) {
            return None;
        }
        let height = v.height.max(10);
        if !v.read_all && v.scroll + height * READ_AHEAD_SCREENS < v.rows() {
            return None;
        }
        v.pending = true;
        v.reading_to_end = v.read_all;
        Some(Command::Read {
            req: v.req,
            ticket: self.ticket.clone(),
            image: image.clone(),
            version: v.version,
            name: image.fs.name(v.path).to_vec(),
            offset: v.next,
            first_line: v.lines.len(),
            binary: Some(v.kind == ViewerKind::Binary),
            syntax: v.syntax.clone(),
            rules: rules.clone(),
            to_end: v.read_all,
        })
    }

    /// Content from the worker; true when it belongs to the open file (read ahead then).
    pub fn content(&mut self, req: u64, chunk: Chunk) -> bool {
        let Some(v) = self.open.as_mut().filter(|v| v.req == req) else {
            return false;
        };
        // A read to the end sends many chunks: it is in flight until the last one.
        if !v.reading_to_end {
            v.pending = false;
        }
        match chunk {
            Chunk::Text {
                first_line,
                lines,
                next,
                eof,
                syntax,
                masks,
            } => {
                if first_line != v.lines.len() {
                    return false;
                }
                v.masked_lines.extend(masks);
                v.kind = ViewerKind::Text;
                v.styled.resize(first_line + lines.len(), None);
                v.lines.extend(lines);
                v.next = next;
                v.eof = eof;
                if v.syntax.is_none() {
                    v.syntax = syntax;
                }
            }
            Chunk::Binary {
                offset,
                bytes,
                eof,
                masks,
            } => {
                if offset != v.bytes.len() as u64 {
                    return false;
                }
                let mut all = std::mem::take(&mut v.masked_bytes);
                all.extend(masks);
                v.masked_bytes = crate::ui::mask::merge(all);
                v.kind = ViewerKind::Binary;
                v.next = offset + bytes.len() as u64;
                v.bytes.extend(bytes);
                v.eof = eof;
            }
        }
        if v.eof {
            v.pending = false;
            v.reading_to_end = false;
            if v.jump_end {
                v.jump_end = false;
                v.scroll = v.rows().saturating_sub(v.height.max(1));
            }
        }
        v.search_more();
        true
    }

    /// Highlighted lines from the worker.
    pub fn highlighted(&mut self, req: u64, first_line: usize, lines: Vec<StyledLine>) {
        if let Some(v) = self.open.as_mut().filter(|v| v.req == req) {
            for (i, l) in lines.into_iter().enumerate() {
                if let Some(slot) = v.styled.get_mut(first_line + i) {
                    *slot = Some(l);
                }
            }
        }
    }

    /// A read failed: shown in place of the content, or returned as a notice when some
    /// content is already shown.
    pub fn content_error(&mut self, req: u64, error: &str) -> Option<String> {
        let v = self.open.as_mut().filter(|v| v.req == req)?;
        v.pending = false;
        v.reading_to_end = false;
        v.read_all = false;
        v.jump_end = false;
        let msg = format!("cannot read this file: {}", text::one_line(error));
        if v.rows() == 0 {
            v.kind = ViewerKind::Message(msg);
            None
        } else {
            v.eof = true;
            Some(msg)
        }
    }

    /// Handles a viewer action.
    pub fn update(&mut self, action: Action) -> ViewerOutcome {
        let Some(v) = self.open.as_mut() else {
            return ViewerOutcome::Done;
        };
        let page = v.height.max(1);
        let max = v.rows().saturating_sub(page);
        let reading = matches!(
            v.kind,
            ViewerKind::Loading | ViewerKind::Text | ViewerKind::Binary
        ) && !v.eof;
        if matches!(
            action,
            Action::Up
                | Action::Down
                | Action::PageUp
                | Action::PageDown
                | Action::ToggleCollapse
                | Action::Top
        ) {
            // Moving on cancels a pending jump to the end (the read goes on).
            v.jump_end = false;
        }
        match action {
            Action::Up => v.scroll = v.scroll.saturating_sub(1),
            Action::Down => v.scroll = (v.scroll + 1).min(max),
            Action::PageUp => v.scroll = v.scroll.saturating_sub(page),
            Action::PageDown | Action::ToggleCollapse => v.scroll = (v.scroll + page).min(max),
            Action::Top => v.scroll = 0,
            // The real end: read on to it first (one job; a second `G` starts no other).
            Action::Bottom if reading => {
                v.read_all = true;
                v.jump_end = true;
            }
            Action::Bottom => v.scroll = max,
            Action::Search if v.kind == ViewerKind::Text => return ViewerOutcome::AskSearch,
            Action::Search => return ViewerOutcome::Notice("search works in text files only"),
            Action::NextMatch | Action::PrevMatch if v.search.is_none() => {
                return ViewerOutcome::Notice("no search yet: / searches this file")
            }
            Action::NextMatch => v.step_match(true),
            Action::PrevMatch => v.step_match(false),
            Action::Extract => return ViewerOutcome::Extract,
            Action::Zoom => self.full = !self.full,
            Action::Reveal if !v.has_masks() => {
                return ViewerOutcome::Notice("nothing in this file matched a secret rule")
            }
            Action::Reveal if v.revealed => {
                return ViewerOutcome::Notice("the secrets of this file are shown until it closes")
            }
            Action::Reveal => return ViewerOutcome::ConfirmReveal,
            _ => {}
        }
        ViewerOutcome::Done
    }

    /// The user confirmed the reveal: the masked spans of the open file are shown until it
    /// closes.
    pub fn reveal(&mut self) {
        if let Some(v) = self.open.as_mut() {
            v.revealed = true;
            // The text as shown changed: search it again.
            if let Some(s) = v.search.take() {
                v.search = Some(Search::new(s.query));
                v.search_more();
            }
        }
    }

    /// Searches the open file for `query` (an empty one ends the search), from the top of the
    /// screen on; the rest of the file is read (the read to the end of `G`) and searched as it
    /// arrives.
    pub fn search(&mut self, query: String) {
        let Some(v) = self.open.as_mut() else {
            return;
        };
        if query.is_empty() {
            v.search = None;
            return;
        }
        v.search = Some(Search::new(query));
        v.search_more();
        if !v.eof {
            v.read_all = true;
        }
    }

    /// Adapts to the pane: `height` rows of content, `width` columns.
    pub fn settle(&mut self, height: usize, width: u16) {
        if let Some(v) = self.open.as_mut() {
            v.height = height;
            v.hex_per_row = hex_per_row(width);
            let max = v.rows().saturating_sub(height);
            if v.scroll > max && v.eof {
                v.scroll = max;
            }
        }
    }
}

/// Bytes per hex dump row in a pane `width` columns wide: 16 need 78 columns, else 8.
pub fn hex_per_row(width: u16) -> usize {
    if width >= 78 {
        16
    } else {
        8
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::panes::viewer::{current_match_style, mark_matches, match_style};
    use ratatui::style::{Color, Style};
    use ratatui::text::Span;

    #[test]
    fn search_finds_character_ranges_smart_case() {
        let s = Search::new("key".into());
        // Case-insensitive without a capital; ranges count characters, not bytes.
        assert_eq!(s.find("é KEY key"), vec![2..5, 6..9]);
        let s = Search::new("Key".into());
        assert_eq!(s.find("key Key"), vec![4..7]);
        assert!(Search::new(String::new()).find("anything").is_empty());
    }

    #[test]
    fn matches_are_marked_across_spans_keeping_their_colours() {
        let red = Style::new().fg(Color::Red);
        let spans = vec![Span::styled("ab", red), Span::raw("cd")];
        let out = mark_matches(spans, &[(1..3, true)]);
        let pieces: Vec<(&str, Style)> =
            out.iter().map(|s| (s.content.as_ref(), s.style)).collect();
        assert_eq!(
            pieces,
            vec![
                ("a", red),
                ("b", red.patch(current_match_style())),
                ("c", Style::new().patch(current_match_style())),
                ("d", Style::new()),
            ]
        );
        let out = mark_matches(vec![Span::raw("xyx")], &[(0..1, false), (2..3, false)]);
        assert_eq!(out[0].style, match_style());
        assert_eq!(out[1].style, Style::new());
    }
}
