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
use common::ui::{draw, find, keys, press};

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
    let mut b_conf = BASE_CONF.to_vec();
    b_conf[4] = "log = debug";
    let key_line = format!("aws_access_key_id = {aws}");
    b_conf.push(&key_line);
    let b_top = LayerSpec::new(
        "RUN install 1.5",
        vec![
            EntrySpec::file("etc/app.conf", conf(&b_conf), 0o644),
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
        .map(|&i| {
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
    for (path, colour, marks) in [
        ("/data/new.txt", Color::Green, "....."),
        ("/data/old.txt", Color::Red, "....."),
        ("/etc/app.conf", Color::Yellow, "c...."),
        ("/usr/bin/tool", Color::Yellow, "..m.."),
    ] {
        let (x, y) = find(buf, path).unwrap_or_else(|| panic!("{path} on screen"));
        assert_eq!(buf[(x, y)].fg, colour, "{path}");
        let row = row_text(buf, y);
        assert!(row.contains(marks), "{path}: {row}");
    }
    // The symbol sits in the row's first column, in the change's colour.
    let (_, y) = find(buf, "/data/old.txt").expect("old.txt");
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
            .map(|&i| d.files.entries[i].path.clone())
            .collect()
    };
    // Sort by bytes moved: the tool (4096 in A and in B), then new.txt (5000 in B), old.txt
    // (700 in A).
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
    // Select /etc/app.conf (third row) and open its diff.
    keys(&mut app, "jj\n");
    let f = app.compare.file.clone().expect("file diff open");
    assert_eq!(f.path, "/etc/app.conf");
    let FileDiff::Ready(lines) = &f.diff else {
        panic!("{:?}", f.diff);
    };
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
    assert_eq!(app.compare.selected, 2, "the selection is kept");
    keys(&mut app, "g\n");
    let f = app.compare.file.clone().expect("file diff open");
    assert_eq!(f.path, "/data/new.txt");
    assert!(
        matches!(&f.diff, FileDiff::Ready(l) if l.iter().any(|l| l.tag == DiffTag::Added)
            && l.iter().all(|l| l.tag != DiffTag::Removed && l.tag != DiffTag::Same)),
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
    assert_eq!(app.compare.rows.len(), 5);
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
