//! The file viewer on a file too big for one read: `G` reads on to the real end in one worker
//! job (progress in the footer, true line numbers at the end, one job however often `G` is
//! pressed, `q` still closes), and the viewer's own search (`/`, `n`/`N` wrapping, matches
//! highlighted over the syntax colours, masked secrets matched only as shown). Driven on an
//! image built by the fixture builder (gzip layers, so every read decompresses).

mod common;

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};
use strata::analysis::findings::FindingsConfig;
use strata::source::LoadOptions;
use strata::ui::app::{App, Command, Event, Launch, Msg};
use strata::ui::keymap::{self, Action, Scope};
use strata::ui::text::bytes;
use strata::ui::{highlight, worker};

use common::fixture::{write_image, EntrySpec, ImageSpec, LayerSpec, Layout};
use common::ui::{draw, find, keys, press};

/// Lines of the big file.
const LINES: usize = 52_000;
/// Lines holding the word "needle" (1-based), the last line among them.
const NEEDLES: [usize; 3] = [3, 30_000, LINES];
/// The line (1-based) holding the ACME token.
const TOKEN_LINE: usize = 5;

/// A user rule (docs/rules.md's example) whose token the viewer masks.
const ACME_RULE: &str = r#"
[[secrets.rules]]
id = "acme-token"
title = "ACME token"
severity = "high"
keywords = ["acme_"]
regex = '\bacme_[a-z0-9]{32}\b'
"#;
/// The secret part of the token (built at run time: the repository holds no literal a rule
/// would match).
const ACME_TAIL: &str = "q7w3e9r1t5y8u2i4o6p0a3s5d7f9g1h2";

/// Line `n` (1-based) of the big file, without its newline.
fn line(n: usize) -> String {
    if n == TOKEN_LINE {
        format!("{n:06} key = acme_{ACME_TAIL}")
    } else if NEEDLES.contains(&n) {
        format!("{n:06} a needle in the haystack, row {n}")
    } else {
        format!("{n:06} lorem ipsum dolor sit amet, consectetur adipiscing, row {n}")
    }
}

/// The big file: [`LINES`] numbered lines, about 3.5 MiB.
fn big_file() -> String {
    let mut s = String::new();
    for n in 1..=LINES {
        s.push_str(&line(n));
        s.push('\n');
    }
    s
}

/// The explorer on an image (gzip layers) holding `var/log/big.txt`, with the ACME rule
/// configured, the file open in the viewer (first chunk read).
fn open_big(dir: &std::path::Path) -> App {
    let spec = ImageSpec::new(vec![LayerSpec::new(
        "RUN make-logs",
        vec![
            EntrySpec::dir("var/", 0o755),
            EntrySpec::dir("var/log/", 0o755),
            EntrySpec::file("var/log/big.txt", big_file(), 0o644),
        ],
    )]);
    let archive = dir.join("big.tar");
    write_image(&spec, Layout::ContainerdGzip, &archive).unwrap();
    highlight::assets();
    let cfg = FindingsConfig::from_toml(ACME_RULE, ".strata.toml").unwrap();
    let mut app = App::with_findings(LoadOptions::default(), Arc::new(cfg));
    let cmds = app.start(Launch::Image(archive.display().to_string()));
    worker::settle(&mut app, cmds);
    assert!(app.loaded(), "{:?}", app.load);
    draw(&mut app);
    keys(&mut app, "\t/big\nG\n");
    let v = app.viewer.open.as_ref().expect("viewer open");
    assert!(!v.eof, "the first read is one chunk of the file");
    assert!(v.lines.len() < LINES / 10, "{}", v.lines.len());
    app
}

/// Sends one key without running the commands it produces.
fn key(app: &mut App, c: char) -> Vec<Command> {
    let cmds = app.update(Event::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::NONE,
    )));
    draw(app);
    cmds
}

/// Runs `cmds` on the worker, returning the messages they sent (not yet given to the app).
fn run(cmds: Vec<Command>) -> Vec<Msg> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for c in cmds {
        worker::execute(c, &tx);
    }
    let mut out = Vec::new();
    while let Ok(m) = rx.try_recv() {
        out.push(m);
    }
    out
}

fn screen(app: &mut App) -> String {
    draw(app).backend().to_string()
}

/// The viewer's footer (the line naming the lines shown) and its bottom border (where the
/// search status is).
fn footer(app: &mut App) -> String {
    let screen = screen(app);
    let rows: Vec<&str> = screen.lines().collect();
    let i = rows
        .iter()
        .position(|l| l.contains("lines "))
        .expect("viewer footer");
    format!("{}\n{}", rows[i], rows.get(i + 1).unwrap_or(&""))
}

/// The viewer pane alone (the other panes name the temporary archive).
fn viewer_box(app: &mut App) -> String {
    let t = draw(app);
    let buf = t.backend().buffer();
    let (x0, _) = find(buf, "┏").expect("focused viewer frame");
    (0..buf.area.height)
        .map(|y| {
            (x0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .into_iter()
        .take_while(|r| !r.starts_with(' '))
        .collect::<Vec<_>>()
        .join("\n")
}

fn file_size() -> u64 {
    big_file().len() as u64
}

#[test]
fn g_reads_on_to_the_real_end_in_one_job_with_progress_and_true_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = open_big(dir.path());
    let size = file_size();
    let first = app.viewer.open.as_ref().unwrap().lines.len();

    // G: one read that goes on to the end, off the render thread.
    let cmds = key(&mut app, 'G');
    assert!(
        matches!(cmds.as_slice(), [Command::Read { to_end: true, .. }]),
        "{cmds:?}"
    );
    // A second G while reading starts no second job.
    assert!(key(&mut app, 'G').is_empty());
    assert!(app
        .update(Event::Key(KeyEvent::new(KeyCode::End, KeyModifiers::NONE)))
        .is_empty());

    let msgs = run(cmds);
    let chunks = msgs
        .iter()
        .filter(|m| matches!(m, Msg::Content { .. }))
        .count();
    assert!(chunks >= 3, "the rest is read in several chunks: {chunks}");
    let mut msgs = msgs.into_iter();

    // The first chunk is in: the footer says how far the read got, the view has not jumped.
    assert!(app.update(Event::Msg(msgs.next().unwrap())).is_empty());
    let v = app.viewer.open.as_ref().unwrap();
    assert!(!v.eof && v.lines.len() > first);
    let (done, lines_read) = (v.next, v.lines.len());
    assert!(done > 0 && done < size);
    // The chunk ends after a whole line: the lines read are exactly the first `lines_read`.
    let expected_done: usize = (1..=lines_read).map(|n| line(n).len() + 1).sum();
    assert_eq!(done, expected_done as u64);
    assert_eq!(v.lines[lines_read - 1], line(lines_read));
    let progress = footer(&mut app);
    assert!(
        progress.contains(&format!(
            "reading to end… {} of {}",
            bytes(done),
            bytes(size)
        )),
        "{progress}"
    );
    assert!(progress.contains(&format!("of {lines_read}")), "{progress}");
    insta::assert_snapshot!("viewer_reading_to_end", viewer_box(&mut app));

    // The rest arrives: the view is at the true last line with its true number.
    for m in msgs {
        assert!(app.update(Event::Msg(m)).is_empty());
    }
    let v = app.viewer.open.as_ref().unwrap();
    assert!(v.eof);
    assert_eq!(v.lines.len(), LINES);
    assert_eq!(v.lines[LINES - 1], line(LINES));
    assert_eq!(
        v.lines[first],
        line(first + 1),
        "no line lost at a chunk edge"
    );
    let t = draw(&mut app);
    let buf = t.backend().buffer();
    let last = format!("{LINES} │ {}", line(LINES));
    let (_, y_last) = find(buf, &last).expect("last line shown with its number");
    let below = row(buf, y_last + 1);
    assert!(
        below.contains(&format!("of {LINES}")),
        "footer under the last line: {below}"
    );
    let f = footer(&mut app);
    assert!(!f.contains("reading"), "{f}");
    insta::assert_snapshot!("viewer_true_end", viewer_box(&mut app));
}

fn row(buf: &Buffer, y: u16) -> String {
    (0..buf.area.width)
        .map(|x| buf[(x, y)].symbol().to_string())
        .collect()
}

#[test]
fn q_while_reading_to_the_end_closes_the_viewer_and_stops_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = open_big(dir.path());
    let cmds = key(&mut app, 'G');
    assert_eq!(cmds.len(), 1);
    assert!(footer(&mut app).contains("reading to end…"));
    assert!(key(&mut app, 'q').is_empty());
    assert!(
        app.viewer.open.is_none(),
        "q closes the viewer while reading"
    );
    let msgs = run(cmds);
    assert!(
        !msgs.iter().any(|m| matches!(m, Msg::Content { .. })),
        "the job stops once the viewer moved on"
    );
}

/// The style of the first cell of `needle` on screen.
fn cell_at(app: &mut App, needle: &str) -> ratatui::buffer::Cell {
    let t = draw(app);
    let buf = t.backend().buffer();
    let (x, y) = find(buf, needle).unwrap_or_else(|| panic!("{needle} on screen"));
    buf[(x, y)].clone()
}

/// Types `/query` + Enter into the viewer and runs what it asks for.
fn search(app: &mut App, query: &str) {
    keys(app, &format!("/{query}\n"));
}

#[test]
fn search_wraps_with_n_and_n_highlights_and_never_matches_a_masked_secret() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = open_big(dir.path());

    // `/` in the viewer asks for a search (the tree's filter prompt stays the tree's).
    let none = key(&mut app, '/');
    assert!(none.is_empty());
    assert!(
        screen(&mut app).contains("Search this file"),
        "search prompt"
    );
    for c in "needle".chars() {
        key(&mut app, c);
    }
    // Enter: the lines read so far are searched at once, the rest is read by the same job as G.
    let cmds = app.update(Event::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    assert!(
        matches!(cmds.as_slice(), [Command::Read { to_end: true, .. }]),
        "{cmds:?}"
    );
    let f = footer(&mut app);
    assert!(f.contains("/needle: match 1 of 1 so far"), "{f}");
    assert!(f.contains("reading to end…"), "{f}");
    worker::settle(&mut app, cmds);
    let f = footer(&mut app);
    assert!(f.contains("/needle: match 1 of 3"), "{f}");
    assert!(!f.contains("so far"), "{f}");

    // Highlighted: reversed (readable without colour), the current one bold and underlined.
    let current = cell_at(&mut app, "needle in the haystack, row 3");
    assert!(current.modifier.contains(Modifier::REVERSED));
    assert!(current
        .modifier
        .contains(Modifier::BOLD | Modifier::UNDERLINED));
    let t = draw(&mut app);
    let buf = t.backend().buffer();
    let (x, y) = find(buf, "needle in the haystack, row 3").unwrap();
    assert!(
        !buf[(x + 6, y)].modifier.contains(Modifier::REVERSED),
        "only the match is marked, not the rest of the line"
    );
    insta::assert_snapshot!("viewer_search_first_match", viewer_box(&mut app));

    // n: the next match, then the last line, then around to the first; N goes back.
    let steps = [
        ('n', 2, NEEDLES[1]),
        ('n', 3, NEEDLES[2]),
        ('n', 1, NEEDLES[0]),
        ('N', 3, NEEDLES[2]),
        ('N', 2, NEEDLES[1]),
    ];
    for (k, nth, at) in steps {
        keys(&mut app, &k.to_string());
        let f = footer(&mut app);
        assert!(
            f.contains(&format!("/needle: match {nth} of 3")),
            "{k}: {f}"
        );
        let shown = format!("{at} │ {}", line(at));
        let cell = cell_at(&mut app, &format!("needle in the haystack, row {at}"));
        assert!(
            screen(&mut app).contains(&shown),
            "{k}: line {at} on screen"
        );
        assert!(
            cell.modifier
                .contains(Modifier::REVERSED | Modifier::BOLD | Modifier::UNDERLINED),
            "{k}: the current match is marked"
        );
    }

    // The masked secret: its raw value is never matched, the text as shown is.
    keys(&mut app, "g");
    assert!(
        screen(&mut app).contains("000005 key = ••••"),
        "masked on screen"
    );
    search(&mut app, &ACME_TAIL[..12]);
    let f = footer(&mut app);
    assert!(f.contains(": no match"), "{f}");
    let shown = screen(&mut app);
    assert!(shown.contains("000005 key = ••••"), "still masked: {shown}");
    assert!(
        !shown.contains(&format!("acme_{}", &ACME_TAIL[..4])),
        "nothing revealed"
    );
    search(&mut app, "key = ••••");
    let f = footer(&mut app);
    assert!(f.contains(": match 1 of 1"), "{f}");
    // After the deliberate reveal the raw value is what is shown, and what a search finds.
    keys(&mut app, "vy");
    let f = footer(&mut app);
    assert!(f.contains(": no match"), "the masked text is gone: {f}");
    search(&mut app, &ACME_TAIL[..12]);
    let f = footer(&mut app);
    assert!(f.contains(": match 1 of 1"), "{f}");
}

#[test]
fn search_marks_matches_on_top_of_the_syntax_colours() {
    highlight::assets();
    let mut app = App::new(LoadOptions::default());
    let cmds = app.start(Launch::Demo);
    worker::settle(&mut app, cmds);
    draw(&mut app);
    keys(&mut app, "jj\t/main.py\nG\n");
    let v = app.viewer.open.as_ref().expect("main.py open");
    assert!(v.eof && v.syntax.is_some());
    search(&mut app, "load_config");
    let t = draw(&mut app);
    let buf = t.backend().buffer();
    let (x, y) = find(buf, "load_config").unwrap();
    let cell = &buf[(x, y)];
    assert!(cell.modifier.contains(Modifier::REVERSED), "{cell:?}");
    assert!(
        matches!(cell.fg, Color::Rgb(..)),
        "the syntax colour stays under the mark: {cell:?}"
    );
    let (kx, ky) = find(buf, "def").unwrap();
    assert!(!buf[(kx, ky)].modifier.contains(Modifier::REVERSED));
    insta::assert_snapshot!("viewer_search_python", t.backend());
    // Esc in the prompt keeps the search; an empty one ends it.
    keys(&mut app, "/x");
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    assert!(footer(&mut app).contains("/load_config: match 1 of"));
    keys(&mut app, "/\n");
    assert!(!screen(&mut app).contains("/load_config:"));
}

#[test]
fn viewer_search_keys_come_from_the_key_table() {
    let k = |c: char| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
    assert_eq!(keymap::lookup(Scope::Viewer, &k('/')), Some(Action::Search));
    assert_eq!(keymap::lookup(Scope::Tree, &k('/')), Some(Action::Filter));
    assert_eq!(
        keymap::lookup(Scope::Viewer, &k('n')),
        Some(Action::NextMatch)
    );
    assert_eq!(
        keymap::lookup(Scope::Viewer, &k('N')),
        Some(Action::PrevMatch)
    );
    assert!(keymap::help()
        .iter()
        .any(|(s, keys, text)| *s == Scope::Viewer && keys == "/" && text.contains("search")));
    // keys.toml remaps the viewer's search like any action.
    let table = strata::ui::user_keys::parse(
        "\"viewer.search\" = [\"s\"]\n",
        std::path::Path::new("keys.toml"),
    )
    .unwrap();
    assert_eq!(
        keymap::lookup_in(&table, Scope::Viewer, &k('s')),
        Some(Action::Search)
    );
    assert_ne!(
        keymap::lookup_in(&table, Scope::Viewer, &k('/')),
        Some(Action::Search)
    );
}
