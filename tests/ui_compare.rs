//! The explorer's compare mode (issue 12) on a pair of images written by the fixture builder:
//! `strata A --compare B` and the `D` key with its prompt, the list of changed paths with its
//! A/D/M symbols, colours and modified-field markers, the path filter, change-type toggles and
//! sort, the package and finding changes, and a key sequence that opens the text diff of one
//! file read back from both images, with its secret masked. Snapshots (insta) plus cell colour
//! checks on a 120x40 TestBackend.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::style::Color;
use strata::config::FindingsConfig;
use strata::source::LoadOptions;
use strata::ui::app::{App, Launch, Pane};
use strata::ui::state::compare::{CompareState, DiffTag, FileDiff};
use strata::ui::{highlight, worker};

use common::fixture::{text_blob, write_image, EntrySpec, ImageSpec, LayerSpec, Layout};
use common::ui::{ctrl, draw, find, keys, press};

/// Deterministic token text (no secret-looking literal sits in this file).
fn token(n: usize, seed: u64) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            A[(x % A.len() as u64) as usize] as char
        })
        .collect()
}

fn conf(lines: &[&str]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

fn dpkg(version: &str) -> String {
    format!(
        "Package: curl\nStatus: install ok installed\nInstalled-Size: 10\nVersion: {version}\nDescription: curl\n"
    )
}

const BASE_CONF: [&str; 8] = [
    "# app configuration",
    "listen = 0.0.0.0",
    "port = 8080",
    "workers = 4",
    "log = info",
    "cache = on",
    "timeout = 30",
    "retries = 3",
];

/// B's configuration: one line changed, an access key added.
fn b_conf(aws: &str) -> String {
    let mut lines = BASE_CONF.to_vec();
    lines[4] = "log = debug";
    let key_line = format!("aws_access_key_id = {aws}");
    lines.push(&key_line);
    conf(&lines)
}

/// A and B share a base layer; B changes a config line and adds a key to it, adds a file,
/// deletes one, chmods one and upgrades a package.
fn pair(dir: &Path) -> (PathBuf, PathBuf, String) {
    let aws = format!("AKIA{}", token(16, 5));
    let base = LayerSpec::new(
        "ADD rootfs.tar /",
        vec![
            EntrySpec::dir("etc/", 0o755),
            EntrySpec::file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0o644),
            EntrySpec::dir("data/", 0o755),
            EntrySpec::file("data/old.txt", text_blob(3, 700), 0o644),
            EntrySpec::file("usr/bin/tool", text_blob(4, 4096), 0o755),
        ],
    );
    let a_top = LayerSpec::new(
        "RUN install 1.4",
        vec![
            EntrySpec::file("etc/app.conf", conf(&BASE_CONF), 0o644),
            EntrySpec::file("var/lib/dpkg/status", dpkg("7.88.1-10"), 0o644),
        ],
    );
    let b_top = LayerSpec::new(
        "RUN install 1.5",
        vec![
            EntrySpec::file("etc/app.conf", b_conf(&aws), 0o644),
            EntrySpec::file("var/lib/dpkg/status", dpkg("7.88.1-10+deb12u5"), 0o644),
            EntrySpec::file("data/new.txt", text_blob(5, 5000), 0o644),
            EntrySpec::whiteout("data/old.txt"),
            EntrySpec::file("usr/bin/tool", text_blob(4, 4096), 0o700),
        ],
    );
    let a = ImageSpec::new(vec![base.clone(), a_top]);
    let b = ImageSpec::new(vec![base, b_top]);
    let (pa, pb) = (dir.join("a.tar"), dir.join("b.tar"));
    write_image(&a, Layout::DockerLegacy, &pa).expect("write A");
    write_image(&b, Layout::DockerLegacy, &pb).expect("write B");
    (pa, pb, aws)
}

fn new_app() -> App {
    highlight::assets();
    let cfg = FindingsConfig {
        // 2026-01-01T00:00:00Z
        now: Some(1_767_225_600),
        ..FindingsConfig::default()
    };
    App::with_findings(LoadOptions::default(), Arc::new(cfg))
}

/// A directory under the working directory (the crate root), so the paths on screen are
/// relative and of one length: `./.tmpXXXXXX/a.tar`.
fn workdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(".tmp")
        .tempdir_in(".")
        .expect("tempdir")
}

fn rel(dir: &tempfile::TempDir, p: &Path) -> String {
    let name = dir.path().file_name().expect("name").to_string_lossy();
    format!(
        "./{name}/{}",
        p.file_name().expect("file").to_string_lossy()
    )
}

/// The screen with the random part of the directory name replaced (same length).
fn screen(app: &mut App, dir: &tempfile::TempDir) -> String {
    let name = dir
        .path()
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let fixed = format!(".tmp{}", "X".repeat(name.len() - 4));
    draw(app).backend().to_string().replace(&name, &fixed)
}

fn row_text(buf: &Buffer, y: u16) -> String {
    (0..buf.area.width)
        .map(|x| buf[(x, y)].symbol().to_string())
        .collect()
}

fn compared(dir: &tempfile::TempDir, a: &Path, b: &Path) -> App {
    let mut app = new_app();
    let cmds = app.start(Launch::Compare(rel(dir, a), rel(dir, b)));
    worker::settle(&mut app, cmds);
    assert_eq!(app.compare.state, CompareState::Ready, "{:?}", app.load);
    draw(&mut app);
    app
}

#[test]
fn compare_mode_shows_the_changes_with_symbols_colours_and_markers() {
    let dir = workdir();
    let (a, b, _) = pair(dir.path());
    let mut app = compared(&dir, &a, &b);
    assert_eq!(app.focus, Pane::Compare);
    let d = app.compare.diff.clone().expect("diff");
    // Exactly the fixture's changes: new.txt added, old.txt deleted, the config and the dpkg
    // database modified in content, the tool in mode only.
    let paths: Vec<(&str, char)> = app
        .compare
        .rows
        .iter()
        .filter_map(|r| app.compare.tree.nodes[r.id as usize].entry)
        .map(|i| {
            let e = &d.files.entries[i];
            (
                e.path.as_str(),
                strata::ui::panes::compare::symbol(e.change),
            )
        })
        .collect();
    assert_eq!(
        paths,
        vec![
            ("/data/new.txt", 'A'),
            ("/data/old.txt", 'D'),
            ("/etc/app.conf", 'M'),
            ("/usr/bin/tool", 'M'),
            ("/var/lib/dpkg/status", 'M'),
        ]
    );
    insta::assert_snapshot!("compare_mode", screen(&mut app, &dir));
    let t = draw(&mut app);
    let buf = t.backend().buffer();
    for (name, colour, marks) in [
        ("new.txt", Color::Green, "....."),
        ("old.txt", Color::Red, "....."),
        ("app.conf", Color::Yellow, "c...."),
        ("tool", Color::Yellow, "..m.."),
    ] {
        let (x, y) = find(buf, &format!("── {name}")).unwrap_or_else(|| panic!("{name} on screen"));
        assert_eq!(buf[(x + 3, y)].fg, colour, "{name}");
        let row = row_text(buf, y);
        assert!(row.contains(marks), "{name}: {row}");
    }
    // The symbol sits in the row's first column, in the change's colour.
    let (_, y) = find(buf, "── old.txt").expect("old.txt");
    let (sx, _) = find(buf, "D  .....").expect("D symbol");
    assert_eq!(buf[(sx, y)].symbol(), "D");
    assert_eq!(buf[(sx, y)].fg, Color::Red);
    // Package and finding changes below the list.
    let (x, y) = find(buf, "upgraded").expect("package change shown");
    assert_eq!(buf[(x, y)].fg, Color::Green);
    assert!(row_text(buf, y).contains("curl 7.88.1-10 → 7.88.1-10+deb12u5"));
    assert!(d
        .findings
        .new
        .iter()
        .any(|f| f.path.as_deref() == Some("/etc/app.conf")));
    assert!(find(buf, "Layers 1 shared, 1 only in A, 1 only in B").is_some());
}

#[test]
fn filter_toggles_and_sort_apply_to_the_compare_list() {
    let dir = workdir();
    let (a, b, _) = pair(dir.path());
    let mut app = compared(&dir, &a, &b);
    let shown = |app: &App| -> Vec<String> {
        let d = app.compare.diff.clone().expect("diff");
        app.compare
            .rows
            .iter()
            .filter_map(|r| app.compare.tree.nodes[r.id as usize].entry)
            .map(|i| d.files.entries[i].path.clone())
            .collect()
    };
    // Sort by bytes moved: /usr (the tool: 4096 in A and in B), then /data (new.txt, 5000 in
    // B; old.txt, 700 in A).
    keys(&mut app, "s");
    assert_eq!(
        shown(&app)[..3],
        ["/usr/bin/tool", "/data/new.txt", "/data/old.txt"]
    );
    keys(&mut app, "s");
    // Hide the modified paths, then the added ones.
    keys(&mut app, "M");
    assert_eq!(shown(&app), ["/data/new.txt", "/data/old.txt"]);
    keys(&mut app, "A");
    assert_eq!(shown(&app), ["/data/old.txt"]);
    keys(&mut app, "AM");
    // The tree's path filter filters the list too, and the list stays open.
    keys(&mut app, "/dpkg\n");
    assert_eq!(app.focus, Pane::Compare);
    assert_eq!(shown(&app), ["/var/lib/dpkg/status"]);
    assert!(screen(&mut app, &dir).contains("(1 shown, by path)"));
}

#[test]
fn enter_opens_the_text_diff_of_both_versions_with_the_secret_masked() {
    let dir = workdir();
    let (a, b, aws) = pair(dir.path());
    let mut app = compared(&dir, &a, &b);
    // Select /etc/app.conf (data/, new.txt, old.txt, etc/, app.conf) and open its diff.
    keys(&mut app, "jjjj\n");
    let f = app.compare.file.clone().expect("file diff open");
    assert_eq!(f.path, "/etc/app.conf");
    let FileDiff::Ready(d) = &f.diff else {
        panic!("{:?}", f.diff);
    };
    let lines = &d.unified;
    let tagged = |tag: DiffTag| -> Vec<&str> {
        lines
            .iter()
            .filter(|l| l.tag == tag)
            .map(|l| l.text.as_str())
            .collect()
    };
    assert_eq!(tagged(DiffTag::Removed), ["log = info"]);
    let added = tagged(DiffTag::Added);
    assert_eq!(added.len(), 2, "{added:?}");
    assert_eq!(added[0], "log = debug");
    assert!(added[1].starts_with("aws_"), "{added:?}");
    assert!(added[1].contains("…(redacted)"), "{added:?}");
    assert!(!added[1].contains(&aws[4..]), "{added:?}");
    let s = screen(&mut app, &dir);
    assert!(!s.contains(&aws), "raw key on screen");
    assert!(!s.contains(&aws[4..12]), "part of the raw key on screen");
    insta::assert_snapshot!("compare_file_diff", s);
    let t = draw(&mut app);
    let buf = t.backend().buffer();
    let (x, y) = find(buf, "-log = info").expect("removed line");
    assert_eq!(buf[(x, y)].fg, Color::Red);
    let (x, y) = find(buf, "+log = debug").expect("added line");
    assert_eq!(buf[(x, y)].fg, Color::Green);
    let (x, y) = find(buf, "@@ -2,7 +2,8 @@").expect("hunk header");
    assert_eq!(buf[(x, y)].fg, Color::Cyan);
    // Esc closes the diff, then compare mode (back to the tree).
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    assert!(app.compare.file.is_none() && app.compare.open);
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    assert!(!app.compare.open);
    assert_eq!(app.focus, Pane::Tree);
    // `D` shows the comparison again; an added file's diff is all additions.
    keys(&mut app, "D");
    assert!(app.compare.open);
    assert_eq!(app.compare.selected, 4, "the selection is kept");
    keys(&mut app, "gj\n");
    let f = app.compare.file.clone().expect("file diff open");
    assert_eq!(f.path, "/data/new.txt");
    assert!(
        matches!(&f.diff, FileDiff::Ready(d) if d.unified.iter().any(|l| l.tag == DiffTag::Added)
            && d.unified.iter().all(|l| l.tag != DiffTag::Removed && l.tag != DiffTag::Same)),
        "{:?}",
        f.diff
    );
}

#[test]
fn the_compare_key_asks_for_image_b() {
    let dir = workdir();
    let (a, b, _) = pair(dir.path());
    let mut app = new_app();
    let cmds = app.start(Launch::Image(rel(&dir, &a)));
    worker::settle(&mut app, cmds);
    draw(&mut app);
    assert!(app.loaded());
    keys(&mut app, "D");
    assert!(screen(&mut app, &dir).contains("Compare with image (reference, archive or oci:DIR):"));
    keys(&mut app, &rel(&dir, &b));
    keys(&mut app, "\n");
    assert_eq!(app.compare.state, CompareState::Ready);
    assert_eq!(app.compare.matching, 5);
    // A missing image B is a one-line error in the pane, not a crash.
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    assert!(!app.compare.open);
    let mut other = new_app();
    let cmds = other.start(Launch::Image(rel(&dir, &a)));
    worker::settle(&mut other, cmds);
    keys(&mut other, "D./missing.tar\n");
    match &other.compare.state {
        CompareState::Failed(e) => assert!(e.contains("missing.tar"), "{e}"),
        state => panic!("{state:?}"),
    }
}

/// The fixture's sizes, from the contents the fixture builder wrote (not from strata).
struct Sizes {
    new_txt: u64,
    old_txt: u64,
    conf_a: u64,
    conf_b: u64,
}

fn sizes(aws: &str) -> Sizes {
    Sizes {
        new_txt: text_blob(5, 5000).len() as u64,
        old_txt: text_blob(3, 700).len() as u64,
        conf_a: conf(&BASE_CONF).len() as u64,
        conf_b: b_conf(aws).len() as u64,
    }
}

/// The row of the tree whose name is `name` (`data/`, `app.conf`): its y.
fn tree_row(buf: &Buffer, name: &str) -> u16 {
    find(buf, &format!("── {name}"))
        .or_else(|| find(buf, &format!("── ⊕ {name}")))
        .unwrap_or_else(|| panic!("{name} in the tree"))
        .1
}

/// The column of `needle` within row `y` (first occurrence).
fn col_in_row(buf: &Buffer, y: u16, needle: &str) -> u16 {
    let row: Vec<String> = (0..buf.area.width)
        .map(|x| buf[(x, y)].symbol().to_string())
        .collect();
    let joined: String = row.concat();
    let i = joined
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} in {joined:?}"));
    joined[..i].chars().count() as u16
}

/// The left and right columns of a side-by-side row of the compare pane (which starts at
/// column 50), and the column of the bar between them.
fn halves(buf: &Buffer, y: u16) -> (String, String, u16) {
    let cell = |x: u16| buf[(x, y)].symbol().to_string();
    let bar = (51..buf.area.width - 1)
        .find(|&x| cell(x) == "│")
        .expect("the bar between the columns");
    let left = (51..bar).map(cell).collect();
    let right = (bar + 1..buf.area.width - 1).map(cell).collect();
    (left, right, bar)
}

#[test]
fn compare_tree_folds_directories_and_totals_the_bytes_beneath_them() {
    let dir = workdir();
    let (a, b, aws) = pair(dir.path());
    let sz = sizes(&aws);
    let mut app = compared(&dir, &a, &b);
    // The tree: directories that lead to changes (unchanged: no symbol), changed files below.
    let names: Vec<String> = app
        .compare
        .rows
        .iter()
        .map(|r| {
            format!(
                "{}{}",
                "  ".repeat(r.depth as usize),
                app.compare.tree.nodes[r.id as usize].name
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            "data",
            "  new.txt",
            "  old.txt",
            "etc",
            "  app.conf",
            "usr",
            "  bin",
            "    tool",
            "var",
            "  lib",
            "    dpkg",
            "      status"
        ]
    );
    // Fold data/ (the first row) with Space; etc/ stays unfolded.
    keys(&mut app, " ");
    assert_eq!(app.compare.rows.len(), 10);
    assert!(app
        .compare
        .shown_paths()
        .iter()
        .all(|p| !p.ends_with(".txt")));
    insta::assert_snapshot!("compare_tree_folded", screen(&mut app, &dir));
    let t = draw(&mut app);
    let buf = t.backend().buffer();
    // Each directory row shows the bytes added and removed beneath it, + in green, - in red.
    let bytes = strata::ui::text::bytes;
    for (name, added, removed) in [
        ("data/", sz.new_txt, sz.old_txt),
        ("etc/", sz.conf_b, sz.conf_a),
        ("usr/", 4096, 4096),
        ("bin/", 4096, 4096),
    ] {
        let y = tree_row(buf, name);
        let plus = format!("+{}", bytes(added));
        let minus = format!("-{}", bytes(removed));
        let px = col_in_row(buf, y, &plus);
        let mx = col_in_row(buf, y, &minus);
        assert!(px < mx, "{name}: {}", row_text(buf, y));
        assert_eq!(buf[(px, y)].fg, Color::Green, "{name} added");
        assert_eq!(buf[(mx, y)].fg, Color::Red, "{name} removed");
        // An unchanged directory has no change symbol and is drawn in the default colour.
        assert_eq!(buf[(51, y)].symbol(), " ", "{name}: {}", row_text(buf, y));
        let nx = col_in_row(buf, y, name);
        assert_eq!(buf[(nx, y)].fg, Color::Reset, "{name}");
    }
    // The folded directory is marked; the unfolded one shows its changed file beneath it.
    let y = tree_row(buf, "data/");
    assert!(row_text(buf, y).contains("└── ⊕ data/") || row_text(buf, y).contains("├── ⊕ data/"));
    let conf_y = tree_row(buf, "app.conf");
    assert_eq!(conf_y, tree_row(buf, "etc/") + 1);
    let mx = col_in_row(buf, conf_y, "M  c....");
    assert_eq!(buf[(mx, conf_y)].fg, Color::Yellow);
    let nx = col_in_row(buf, conf_y, "app.conf");
    assert_eq!(buf[(nx, conf_y)].fg, Color::Yellow);
    assert!(row_text(buf, conf_y).contains(&format!(
        "{} → {}",
        bytes(sz.conf_a),
        bytes(sz.conf_b)
    )));
    // Unfold with l: the data rows come back, added in green and deleted in red.
    keys(&mut app, "l");
    insta::assert_snapshot!("compare_tree_unfolded", screen(&mut app, &dir));
    let t = draw(&mut app);
    let buf = t.backend().buffer();
    let y = tree_row(buf, "new.txt");
    assert_eq!(buf[(col_in_row(buf, y, "new.txt"), y)].fg, Color::Green);
    assert!(row_text(buf, y).contains(&format!("- → {}", bytes(sz.new_txt))));
    let y = tree_row(buf, "old.txt");
    assert_eq!(buf[(col_in_row(buf, y, "old.txt"), y)].fg, Color::Red);
    // h on a file goes to its parent, h again folds it; x folds everything, x again unfolds.
    keys(&mut app, "jh");
    assert_eq!(
        app.compare.selected_node().map(|n| n.path.as_str()),
        Some("/data")
    );
    keys(&mut app, "h");
    assert_eq!(app.compare.rows.len(), 10);
    keys(&mut app, "x");
    assert_eq!(
        app.compare.rows.len(),
        12,
        "x unfolds all while one is folded"
    );
    keys(&mut app, "x");
    assert_eq!(app.compare.rows.len(), 4, "then folds every directory");
    // n finds the next changed path the last filter matched, unfolding its parents.
    keys(&mut app, "x/status\n");
    assert_eq!(app.compare.matching, 1);
    keys(&mut app, "/");
    ctrl(&mut app, 'u');
    keys(&mut app, "\n");
    assert_eq!(app.compare.matching, 5);
    keys(&mut app, "gx");
    assert_eq!(app.compare.rows.len(), 4);
    keys(&mut app, "n");
    assert_eq!(
        app.compare.selected_node().map(|n| n.path.as_str()),
        Some("/var/lib/dpkg/status")
    );
}

#[test]
fn side_by_side_file_diff_is_highlighted_aligned_and_masked() {
    let dir = workdir();
    let (a, b, aws) = pair(dir.path());
    let mut app = compared(&dir, &a, &b);
    // Fold data/, go down to etc/ and its app.conf, open the diff, then side by side.
    keys(&mut app, " jj\n");
    assert_eq!(
        app.compare.file.as_ref().map(|f| f.path.as_str()),
        Some("/etc/app.conf")
    );
    keys(&mut app, "v");
    assert!(app.compare.side_by_side);
    let s = screen(&mut app, &dir);
    assert!(
        !s.contains(&aws) && !s.contains(&aws[4..12]),
        "raw key: {s}"
    );
    insta::assert_snapshot!("compare_side_by_side", s);
    let t = draw(&mut app);
    let buf = t.backend().buffer();
    // Aligned: A's changed line on the left faces B's on the same row, either side of the bar.
    let (_, y) = find(buf, "- log = info").expect("A's changed line");
    let (left, right, bar) = halves(buf, y);
    assert!(left.contains("5 - log = info"), "{left:?}");
    assert!(right.contains("5 + log = debug"), "{right:?}");
    // Both gutters in their colours.
    let lx = col_in_row(buf, y, "- log = info");
    let rx = col_in_row(buf, y, "+ log = debug");
    assert!(lx < bar && bar < rx);
    assert_eq!(buf[(lx, y)].fg, Color::Red);
    assert_eq!(buf[(rx, y)].fg, Color::Green);
    // Unchanged lines face each other without a mark.
    let (_, sy) = find(buf, "4   workers = 4").expect("context line");
    let (left, right, _) = halves(buf, sy);
    assert!(left.contains("4   workers = 4") && right.contains("4   workers = 4"));
    // The added key line is on the right only, masked.
    let (_, ky) = find(buf, "+ aws_access_key_id").expect("added key line");
    let (left, right, _) = halves(buf, ky);
    assert!(left.trim().is_empty(), "{left:?}");
    assert!(right.contains("9 + aws_access_key_id = AKIA…"), "{right:?}");
    // Highlighted by the file's syntax: the colours of B's changed line are syntect's for
    // the configuration syntax, computed here from the text the fixture wrote.
    let assets = highlight::assets();
    let b_text = b_conf(&aws);
    let lines: Vec<String> = b_text.lines().map(str::to_string).collect();
    let syntax = highlight::detect(assets, b"app.conf", &lines[0]).expect("a syntax for .conf");
    let mut styled = Vec::new();
    highlight::highlight_lines(assets, syntax, &lines, &|| false, &mut |l| styled.push(l));
    // Every text cell of B's column has syntect's colour for it (tinted when added), and the
    // column holds more than one colour: tokens are highlighted (for `.conf`, nginx's
    // directives such as `listen`).
    let mut colours = Vec::new();
    for y in 0..buf.area.height {
        let Some(bar) = (51..buf.area.width - 1).find(|&x| buf[(x, y)].symbol() == "│") else {
            continue;
        };
        let (_, right, _) = halves(buf, y);
        let Some(n) = right
            .split(' ')
            .next()
            .and_then(|n| n.parse::<usize>().ok())
        else {
            continue;
        };
        if lines[n - 1].contains(&aws) {
            continue; // drawn masked (checked above), so not the fixture's raw text
        }
        let added = right.starts_with(&format!("{n} +"));
        let mut x = bar + 1 + n.to_string().len() as u16 + 3;
        for (style, piece) in &styled[n - 1] {
            for ch in piece.chars() {
                if x >= buf.area.width - 1 {
                    break;
                }
                let cell = &buf[(x, y)];
                assert_eq!(cell.symbol(), ch.to_string(), "{right:?}");
                assert_eq!(
                    cell.fg,
                    style.fg.unwrap_or(Color::Reset),
                    "{ch:?} of {piece:?} in {right:?}"
                );
                if added {
                    assert_eq!(cell.bg, Color::Indexed(22), "added line tinted: {right:?}");
                }
                if !ch.is_whitespace() {
                    colours.push(cell.fg);
                }
                x += 1;
            }
        }
    }
    colours.sort_by_key(|c| format!("{c:?}"));
    colours.dedup();
    assert!(
        colours.len() >= 2,
        "tokens in more than one colour: {colours:?}"
    );
    assert!(
        !colours.contains(&Color::Green),
        "token colours, not the gutter's"
    );
    // v again: back to the unified view.
    keys(&mut app, "v");
    let t = draw(&mut app);
    assert!(find(t.backend().buffer(), "-log = info").is_some());
    assert!(find(t.backend().buffer(), "+log = debug").is_some());
}

#[test]
fn a_secret_is_masked_before_it_is_compared_highlighted_or_drawn() {
    let dir = workdir();
    let (a, b, aws) = pair(dir.path());
    let mut app = compared(&dir, &a, &b);
    // Filter to the file (its directory, then it), open its diff.
    keys(&mut app, "/app.conf\nj\n");
    let f = app.compare.file.clone().expect("file diff open");
    let FileDiff::Ready(d) = &f.diff else {
        panic!("{:?}", f.diff);
    };
    let raw = &aws[4..];
    let texts = d.unified.iter().map(|l| l.text.clone()).chain(
        d.a_lines
            .iter()
            .chain(&d.b_lines)
            .map(|l| l.iter().map(|(_, t)| t.as_str()).collect()),
    );
    let mut masked = 0;
    for t in texts {
        assert!(!t.contains(raw), "raw key in {t:?}");
        masked += usize::from(t.contains("…(redacted)"));
    }
    assert!(
        masked >= 2,
        "the key line is masked in the diff and in B's lines"
    );
    for mode in ["", "v"] {
        keys(&mut app, mode);
        let s = screen(&mut app, &dir);
        assert!(s.contains("AKIA…(reda"), "the masked key is shown: {s}");
        assert!(!s.contains(&aws[4..12]), "raw key on screen: {s}");
    }
}

/// A text diff whose lines are wider than the pane scrolls sideways with ←/→ (h/l), in the
/// unified view and side by side, and says from which column it shows.
#[test]
fn long_lines_of_a_text_diff_scroll_sideways() {
    let dir = workdir();
    // One 300-character line, changed at its end only.
    let long = |end: &str| format!("key = {}{end}\n", token(290, 9));
    let layer = |text: String| {
        LayerSpec::new(
            "COPY long.conf /etc/",
            vec![
                EntrySpec::dir("etc/", 0o755),
                EntrySpec::file("etc/long.conf", text, 0o644),
            ],
        )
    };
    let (pa, pb) = (dir.path().join("a.tar"), dir.path().join("b.tar"));
    write_image(
        &ImageSpec::new(vec![layer(long("END-A"))]),
        Layout::DockerLegacy,
        &pa,
    )
    .expect("write A");
    write_image(
        &ImageSpec::new(vec![layer(long("END-B"))]),
        Layout::DockerLegacy,
        &pb,
    )
    .expect("write B");
    let mut app = compared(&dir, &pa, &pb);
    let at = app
        .compare
        .shown_paths()
        .iter()
        .position(|p| *p == "/etc/long.conf")
        .expect("the changed file is listed");
    app.compare.selected = at;
    keys(&mut app, "\n");
    assert!(matches!(
        app.compare.file.as_ref().map(|f| &f.diff),
        Some(FileDiff::Ready(_))
    ));
    let line_a = long("END-A").trim_end().to_string();
    let visible = |app: &mut App, text: &str| {
        let t = draw(app);
        find(t.backend().buffer(), text).is_some()
    };
    // The start shows, the changed end is beyond the pane's edge.
    assert!(visible(&mut app, &format!("-{}", &line_a[..40])));
    assert!(!visible(&mut app, "END-A"));
    // Two steps right: the text starts 16 columns in, and the header says so.
    keys(&mut app, "ll");
    assert_eq!(app.compare.file.as_ref().map(|f| f.column), Some(16));
    assert!(visible(&mut app, &format!("-{}", &line_a[16..56])));
    assert!(!visible(&mut app, &line_a[..20]));
    assert!(visible(&mut app, "from column 17"));
    // Far enough right, both ends show, the masked text unchanged; never past the longest line.
    for _ in 0..60 {
        keys(&mut app, "l");
    }
    assert_eq!(
        app.compare.file.as_ref().map(|f| f.column),
        Some(line_a.chars().count() - 1)
    );
    keys(&mut app, "hhhh");
    assert!(visible(&mut app, "END-A") && visible(&mut app, "END-B"));
    // Side by side, both halves shift by the same columns.
    keys(&mut app, "v");
    let column = app.compare.file.as_ref().map_or(0, |f| f.column);
    let t = draw(&mut app);
    let buf = t.backend().buffer();
    let (_, y) = find(buf, "1 - ").expect("A's line on the left");
    let (left, right, _) = halves(buf, y);
    let shown = &line_a[column..column + 20];
    assert!(left.contains(&format!("1 - {shown}")), "{left:?}");
    assert!(right.contains(&format!("1 + {shown}")), "{right:?}");
    // Back to the start.
    keys(&mut app, &"h".repeat(60));
    assert_eq!(app.compare.file.as_ref().map(|f| f.column), Some(0));
    assert!(!visible(&mut app, "from column"));
}
