//! Render tests: the explorer drawn on ratatui's `TestBackend` (120x40) from real state built
//! on the built-in demo image, snapshotted with insta; colour checks on key cells; and proof
//! that escape sequences from an image render inert.

mod common;

use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;
use ratatui::Terminal;
use serde_json::json;
use strata::source::{LoadOptions, ProgressEvent};
use strata::ui::app::{App, Command, Event, ImageRow, Launch, Msg, Prompt, Screen};
use strata::ui::{highlight, panes, worker};

use common::fixture::{write_image, EntrySpec, HistorySpec, ImageSpec, LayerSpec, Layout};
use common::ui::{ctrl, draw, find, keys, press};

/// Width of the test terminal drawn by `common::ui::draw`.
const W: u16 = 120;

fn app_for(launch: Launch) -> App {
    highlight::assets();
    let mut app = App::new(LoadOptions::default());
    app.prompt.extract_dir = "/tmp/out".into();
    let cmds = app.start(launch);
    worker::settle(&mut app, cmds);
    draw(&mut app);
    app
}

fn demo_app() -> App {
    app_for(Launch::Demo)
}

fn screen(app: &mut App) -> String {
    draw(app).backend().to_string()
}

#[test]
fn explorer_initial() {
    let mut app = demo_app();
    insta::assert_snapshot!("explorer_initial", screen(&mut app));
}

#[test]
fn explorer_layer_4_tree_focused_with_colours() {
    let mut app = demo_app();
    keys(&mut app, "jjjj\t");
    ctrl(&mut app, 'u');
    let t = draw(&mut app);
    insta::assert_snapshot!("explorer_layer4_changes_only", t.backend());
    let buf = t.backend().buffer();
    // Removed rows: red and marked "-"; metadata-only: cyan and "*"; never colour alone.
    let (x, y) = find(buf, "id_rsa").expect("removed key shown");
    assert_eq!(buf[(x, y)].fg, Color::Red);
    let row: String = (0..W).map(|c| buf[(c, y)].symbol().to_string()).collect();
    assert!(row.contains("- -rw-------"), "{row}");
    let (x, y) = find(buf, "settings.yaml").unwrap();
    assert_eq!(buf[(x, y)].fg, Color::Cyan);
    let row: String = (0..W).map(|c| buf[(c, y)].symbol().to_string()).collect();
    assert!(row.contains("* -rw-r-----"), "{row}");
}

#[test]
fn explorer_aggregated_layer_5() {
    let mut app = demo_app();
    keys(&mut app, "G");
    ctrl(&mut app, 'a');
    keys(&mut app, "\t");
    ctrl(&mut app, 'u');
    let t = draw(&mut app);
    insta::assert_snapshot!("explorer_aggregated_layer5", t.backend());
    let buf = t.backend().buffer();
    let (x, y) = find(buf, "main.py").unwrap();
    assert_eq!(buf[(x, y)].fg, Color::Green);
}

#[test]
fn tree_sorted_by_size_without_attributes() {
    let mut app = demo_app();
    keys(&mut app, "j\t");
    ctrl(&mut app, 'o');
    ctrl(&mut app, 'b');
    insta::assert_snapshot!("tree_by_size_no_attributes", screen(&mut app));
}

#[test]
fn viewer_highlighted_python() {
    let mut app = demo_app();
    keys(&mut app, "jj\t/main.py\nG\n");
    let t = draw(&mut app);
    insta::assert_snapshot!("viewer_python", t.backend());
    // Highlighted: the `def` keyword is not in the default colour.
    let buf = t.backend().buffer();
    let (x, y) = find(buf, "def load_config").unwrap();
    assert!(
        matches!(buf[(x, y)].fg, Color::Rgb(..)),
        "{:?}",
        buf[(x, y)].fg
    );
}

#[test]
fn viewer_config_files_of_every_kind_are_highlighted() {
    let mut app = demo_app();
    keys(&mut app, "jj\t");
    for (file, syntax) in [
        ("Dockerfile", "Dockerfile"),
        ("pyproject.toml", "TOML"),
        ("settings.yaml", "YAML"),
        ("config.json", "JSON"),
        ("nginx.conf", "nginx"),
    ] {
        keys(&mut app, &format!("/{file}$\nG\n"));
        let v = app.viewer.open.as_ref().unwrap();
        assert_eq!(v.syntax.as_deref(), Some(syntax), "{file}");
        assert!(v.styled.iter().all(Option::is_some), "{file} highlighted");
        keys(&mut app, "q");
        press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    }
}

#[test]
fn viewer_hex_dump() {
    let mut app = demo_app();
    keys(&mut app, "\t/busybox\nG\n");
    insta::assert_snapshot!("viewer_hex", screen(&mut app));
}

#[test]
fn help_overlay() {
    let mut app = demo_app();
    keys(&mut app, "?");
    let s = screen(&mut app);
    insta::assert_snapshot!("help_overlay", s);
    for (key, text) in [
        ("Ctrl+L", "show what this layer changed"),
        ("Ctrl+O", "sort by name / size"),
        ("Ctrl+E", "extract"),
        ("Space", "collapse/expand the directory"),
        ("P", "show/hide the installed packages"),
    ] {
        assert!(s.contains(key) && s.contains(text), "{key} {text}");
    }
}

#[test]
fn filter_prompt() {
    let mut app = demo_app();
    keys(&mut app, "j/nginx");
    insta::assert_snapshot!("filter_prompt", screen(&mut app));
}

#[test]
fn open_prompt() {
    let mut app = demo_app();
    keys(&mut app, "oregistry:127.0.0.1:5000/team/app:1");
    let s = screen(&mut app);
    insta::assert_snapshot!("open_prompt", s);
    assert!(s.contains(" Open image: registry:127.0.0.1:5000/team/app:1█"));
}

#[test]
fn extract_prompt() {
    let mut app = demo_app();
    keys(&mut app, "jj\t/config.json\nG");
    ctrl(&mut app, 'e');
    insta::assert_snapshot!("extract_prompt", screen(&mut app));
}

#[test]
fn image_details_focused_and_scrolled() {
    let mut app = demo_app();
    keys(&mut app, "llG");
    let s = screen(&mut app);
    insta::assert_snapshot!("image_details_scrolled", s);
    assert!(s.contains("API_TOKEN=demo…(redacted)"), "env secret masked");
    assert!(!s.contains("0123456789abcdef"), "secret value never shown");
}

#[test]
fn loading_shows_layers_before_files() {
    highlight::assets();
    let mut app = App::new(LoadOptions::default());
    let cmds = app.start(Launch::Demo);
    let req = cmds
        .iter()
        .find_map(|c| match c {
            Command::Load { req, .. } => Some(*req),
            _ => None,
        })
        .unwrap();
    // The engine reports metadata before reading layers: build that preview from the demo.
    let full = strata::source::demo::load(&LoadOptions::default(), &Default::default()).unwrap();
    let mut preview = full.clone();
    preview.fs = Default::default();
    for l in &mut preview.layers {
        l.size_bytes = 0;
    }
    for e in [
        ProgressEvent::Metadata(Box::new(preview)),
        ProgressEvent::LayerDone { done: 2, total: 6 },
        ProgressEvent::Bytes(123_456),
    ] {
        let _ = app.update(Event::Msg(Msg::Progress { req, event: e }));
    }
    app.load_started = None;
    insta::assert_snapshot!("loading", screen(&mut app));
    // Still responsive: layers can be browsed while loading.
    keys(&mut app, "jj");
    assert_eq!(app.layers.selected, 2);
}

#[test]
fn image_list() {
    let mut app = App::new(LoadOptions::default());
    let _ = app.start(Launch::List);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let _ = app.update(Event::Msg(Msg::Images(Ok(vec![
        ImageRow {
            reference: "nginx:1.27".into(),
            id: "sha256:3f8a4339aadda5897b744682f5f774dc69991a81af8d715d37a616bb4c99edf5".into(),
            size: 192_000_000,
            created: now - 3 * 86_400 - 100,
            pick: None,
        },
        ImageRow {
            reference: "<none>:<none>".into(),
            id: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".into(),
            size: 5_000,
            created: now - 7200 - 100,
            pick: None,
        },
    ]))));
    assert_eq!(app.screen, Screen::Images);
    insta::assert_snapshot!("image_list", screen(&mut app));
}

#[test]
fn load_error() {
    let mut app = app_for(Launch::Image("/nonexistent/strata-render.tar".into()));
    insta::assert_snapshot!("load_error", screen(&mut app));
}

#[test]
fn small_terminal_does_not_panic() {
    let mut app = demo_app();
    keys(&mut app, "\t\n?");
    for (w, h) in [(20, 5), (40, 10), (79, 24), (1, 1), (200, 60)] {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| panes::draw(f, &app)).unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// Escape sequences from the image never reach the terminal.
// ---------------------------------------------------------------------------------------------

const OSC: &str = "\x1b]0;pwned\x07";
const CLEAR: &str = "\x1b[2J";

fn hostile_archive(dir: &std::path::Path) -> std::path::PathBuf {
    let mut name = b"evil".to_vec();
    name.extend_from_slice(OSC.as_bytes());
    name.extend_from_slice(CLEAR.as_bytes());
    name.extend_from_slice(b"\x9b31m"); // raw C1 CSI byte (not UTF-8)
    name.extend_from_slice("\u{9b}32m".as_bytes()); // C1 CSI as UTF-8
    name.extend_from_slice(b".txt");
    let content = format!("hello {OSC} {CLEAR} \u{9b}31m world\n\ttabbed\r\n");
    let cmd = format!("/bin/sh -c echo {OSC} {CLEAR} \u{9b}31m > /evil");
    let mut spec = ImageSpec::new(vec![LayerSpec::new(
        &cmd,
        vec![
            EntrySpec::dir("app/", 0o755),
            EntrySpec::file(
                [b"app/".to_vec(), name.clone()].concat(),
                content.as_bytes(),
                0o644,
            ),
            EntrySpec::symlink(
                [b"app/link".to_vec()].concat(),
                [b"/target".to_vec(), CLEAR.as_bytes().to_vec()].concat(),
            ),
        ],
    )]);
    spec.history = vec![
        HistorySpec::layer(&cmd),
        HistorySpec::empty(&format!("/bin/sh -c #(nop)  ENV X={OSC}")),
    ];
    spec.repo_tags = vec!["evil/image:1".into()];
    spec.config = json!({
        "Env": [format!("X={OSC}"), format!("TOKEN_SECRET={CLEAR}abcdefghijklmnop")],
        "Labels": { format!("l{CLEAR}"): format!("v{OSC}") },
        "Cmd": [format!("run{OSC}")],
        "User": format!("u{CLEAR}"),
    });
    let path = dir.join("hostile.tar");
    write_image(&spec, Layout::DockerLegacy, &path).unwrap();
    path
}

fn assert_inert(buf: &Buffer) {
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            for c in buf[(x, y)].symbol().chars() {
                let u = c as u32;
                assert!(
                    !(u < 0x20 || u == 0x7f || (0x80..0xa0).contains(&u)),
                    "control character U+{u:04X} at ({x},{y})"
                );
            }
        }
    }
}

fn text_of(buf: &Buffer) -> String {
    let mut s = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            s.push_str(buf[(x, y)].symbol());
        }
        s.push('\n');
    }
    s
}

#[test]
fn escape_sequences_in_names_commands_and_content_render_inert() {
    let dir = tempfile::tempdir().unwrap();
    let archive = hostile_archive(dir.path());
    let mut app = app_for(Launch::Image(archive.display().to_string()));
    assert!(app.loaded(), "{:?}", app.load);
    keys(&mut app, "\t");
    let t = draw(&mut app);
    let buf = t.backend().buffer();
    assert_inert(buf);
    let s = text_of(buf);
    // File name, symlink target and history command are shown with visible escapes.
    assert!(s.contains("evil\\x1b]0"), "{s}");
    assert!(s.contains("link → /target\\x1"), "{s}");
    assert!(s.contains("RUN echo \\x1b]0;pwned\\x07"), "{s}");
    assert!(s.contains("ENV X=\\x1b]0;pwned\\x07"), "{s}");
    // Open the file: its content too.
    keys(&mut app, "j\n");
    let v = app.viewer.open.as_ref().unwrap();
    assert_eq!(
        v.title,
        "/app/evil\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u{9b}32m.txt"
    );
    let t = draw(&mut app);
    let buf = t.backend().buffer();
    assert_inert(buf);
    let s = text_of(buf);
    assert!(
        s.contains("hello \\x1b]0;pwned\\x07 \\x1b[2J \\u{9b}31m world"),
        "{s}"
    );
    assert!(s.contains("    tabbed"), "tabs expanded, CR dropped: {s}");
    // Image details: env, labels, cmd, user.
    keys(&mut app, "q");
    press(&mut app, KeyCode::BackTab, KeyModifiers::NONE);
    assert_eq!(app.focus, strata::ui::app::Pane::ImageDetails);
    for _ in 0..6 {
        let t = draw(&mut app);
        assert_inert(t.backend().buffer());
        keys(&mut app, "j");
    }
    let t = draw(&mut app);
    let s = text_of(t.backend().buffer());
    assert!(s.contains("TOKEN_SECRET=\\x1b[2J…(redacted)"), "{s}");
    // The help overlay and the extract prompt with a hostile name.
    keys(&mut app, "\t/evil\nG");
    ctrl(&mut app, 'e');
    let t = draw(&mut app);
    assert_inert(t.backend().buffer());
    assert!(text_of(t.backend().buffer()).contains("Extract /app/evil\\x1b]0;pwned"));
}

/// The demo with findings computed for a fixed "now" (the image-age finding is stable).
fn findings_app() -> App {
    use std::sync::Arc;
    use strata::analysis::findings::FindingsConfig;
    highlight::assets();
    let cfg = FindingsConfig {
        // 2026-01-01T00:00:00Z
        now: Some(1_767_225_600),
        ..FindingsConfig::default()
    };
    let mut app = App::with_findings(LoadOptions::default(), Arc::new(cfg));
    let cmds = app.start(Launch::Demo);
    worker::settle(&mut app, cmds);
    assert_eq!(app.findings.state, strata::ui::app::FindingsState::Ready);
    draw(&mut app);
    app
}

/// Every raw secret value of the demo: the content matches read back from their layers
/// (line by line, as a screen would show them) and the secret-looking ENV values.
fn demo_raw_secrets(app: &App) -> Vec<String> {
    let image = app.tree.state.as_ref().unwrap().image.clone();
    assert!(!image.content_matches.is_empty(), "the inspector ran");
    let mut out = Vec::new();
    for (v, m) in &image.content_matches {
        let raw =
            strata::source::content::read_range(&image, *v, m.offset, u64::from(m.len)).unwrap();
        for l in String::from_utf8_lossy(&raw).lines() {
            if l.len() >= 8 && !l.starts_with("-----") {
                out.push(l.to_string());
            }
        }
    }
    for e in &image.config.env {
        if let Some((k, v)) = e.split_once('=') {
            if strata::redact::looks_secret_name(k) {
                out.push(v.to_string());
            }
        }
    }
    assert!(out.len() >= 3, "{}", out.len());
    out
}

fn leaks(screen: &str, secrets: &[String]) -> Vec<String> {
    // Compare without line breaks: a long value may wrap across rows.
    let flat: String = screen.lines().map(str::trim_end).collect();
    secrets
        .iter()
        .filter(|s| screen.contains(s.as_str()) || flat.contains(s.as_str()))
        .cloned()
        .collect()
}

#[test]
fn findings_pane_worst_first_with_details() {
    let mut app = findings_app();
    keys(&mut app, "F");
    let t = draw(&mut app);
    insta::assert_snapshot!("findings_pane", t.backend());
    let buf = t.backend().buffer();
    let s = t.backend().to_string();
    // Labelled AND coloured severity, category, layer, bytes, path and the layer's command.
    let (x, y) = find(buf, "CRITICAL").expect("severity label");
    assert_eq!(buf[(x, y)].bg, Color::Red);
    for needle in [
        "secret",
        "L3",
        "842 B",
        "/root/.ssh/id_rsa",
        "COPY multi:",
        "Why:",
        "Fix:",
        "Evidence:",
        "(redacted)",
        "Press v to reveal",
    ] {
        assert!(s.contains(needle), "{needle}\n{s}");
    }
}

#[test]
fn findings_badges_on_layers_and_tree_rows() {
    let mut app = findings_app();
    keys(&mut app, "jjj\t");
    let t = draw(&mut app);
    insta::assert_snapshot!("findings_badges", t.backend());
    let buf = t.backend().buffer();
    // Layer 3 holds the critical key: a count and a label, not colour alone.
    let (x, y) = find(buf, "CRIT ").expect("layer badge");
    let row: String = (0..W).map(|c| buf[(c, y)].symbol().to_string()).collect();
    assert!(row.contains("   3 ") && row.contains("2 CRIT"), "{row}");
    assert_eq!(buf[(x, y)].bg, Color::Red);
    // The key's tree row carries a `!` marker.
    let (_, y) = find(buf, "id_rsa").unwrap();
    let row: String = (0..W).map(|c| buf[(c, y)].symbol().to_string()).collect();
    assert!(row.contains("!CRIT"), "{row}");
}

#[test]
fn layer_commands_start_at_one_column_with_or_without_a_badge() {
    let mut app = findings_app();
    let t = draw(&mut app);
    let buf = t.backend().buffer();
    let mut starts = Vec::new();
    let mut with_badge = 0;
    for r in app.layers.rows.iter().filter(|r| r.layer.is_some()) {
        // The command's first 12 characters locate the row and where its command starts.
        let head: String = r.text.chars().take(12).collect();
        let (x, y) = find(buf, &head).unwrap_or_else(|| panic!("row of {head}"));
        let row: String = (0..W).map(|c| buf[(c, y)].symbol().to_string()).collect();
        with_badge += usize::from(row.contains("CRIT") || row.contains("HIGH"));
        starts.push(x);
    }
    assert!(with_badge > 0 && with_badge < starts.len(), "{starts:?}");
    assert!(starts.windows(2).all(|w| w[0] == w[1]), "{starts:?}");
}

#[test]
fn no_raw_secret_reaches_the_screen_without_the_reveal_key() {
    let mut app = findings_app();
    let secrets = demo_raw_secrets(&app);
    let mut screens = vec![screen(&mut app)];
    // Every layer, its details and tree; the image details; help.
    for _ in 0..6 {
        keys(&mut app, "j");
        screens.push(screen(&mut app));
    }
    keys(&mut app, "llG");
    screens.push(screen(&mut app));
    keys(&mut app, "?");
    screens.push(screen(&mut app));
    keys(&mut app, "?");
    // Every finding selected in the findings pane, and the reveal prompt declined.
    keys(&mut app, "F");
    for _ in 0..app.findings.list.len() {
        screens.push(screen(&mut app));
        keys(&mut app, "vn");
        screens.push(screen(&mut app));
        keys(&mut app, "j");
    }
    for (i, s) in screens.iter().enumerate() {
        assert!(leaks(s, &secrets).is_empty(), "screen {i} leaks:\n{s}");
    }
    // The check can fail: after the deliberate key the selected secret is on screen.
    keys(&mut app, "g");
    let i = app
        .findings
        .list
        .iter()
        .position(|f| f.rule == "private-key")
        .unwrap();
    for _ in 0..i {
        keys(&mut app, "j");
    }
    keys(&mut app, "vy");
    let shown = screen(&mut app);
    assert!(!leaks(&shown, &secrets).is_empty(), "{shown}");
    // …and it is gone once the selection moves.
    keys(&mut app, "j");
    assert!(leaks(&screen(&mut app), &secrets).is_empty());
}

// ---------------------------------------------------------------------------------------------
// The file viewer masks what a secret rule matched until `v`, `y`.
// ---------------------------------------------------------------------------------------------

/// True when the first 24 characters of any secret are on screen (the viewer cuts long
/// lines at the pane's edge).
fn shows_part(screen: &str, secrets: &[String]) -> bool {
    secrets
        .iter()
        .any(|s| screen.contains(&s[..s.len().min(24)]))
}

#[test]
fn viewer_masks_the_private_key_opened_from_its_finding_until_v_y() {
    let mut app = findings_app();
    let secrets = demo_raw_secrets(&app);
    // Enter, Enter from the finding: the key's file opens in the viewer.
    keys(&mut app, "F");
    let i = app
        .findings
        .list
        .iter()
        .position(|f| f.rule == "private-key")
        .unwrap();
    for _ in 0..i {
        keys(&mut app, "j");
    }
    keys(&mut app, "\n\n");
    let v = app.viewer.open.as_ref().expect("viewer open");
    assert_eq!(v.title, "/root/.ssh/id_rsa");
    assert!(v.lines.len() > 5, "the key is read: {}", v.lines.len());
    let masked = screen(&mut app);
    assert!(!shows_part(&masked, &secrets), "{masked}");
    assert!(!masked.contains("BEGIN RSA PRIVATE KEY"), "{masked}");
    assert!(masked.contains("••••••••"), "{masked}");
    assert!(masked.contains("secrets masked: v reveals"), "{masked}");
    // Declined: still masked. Scrolling does not reveal either.
    keys(&mut app, "vn");
    keys(&mut app, "jG");
    assert!(!shows_part(&screen(&mut app), &secrets));
    // The deliberate reveal shows the key, as the findings pane would.
    keys(&mut app, "gv");
    assert!(matches!(app.prompt.active, Some(Prompt::RevealFile)));
    keys(&mut app, "y");
    let shown = screen(&mut app);
    assert!(shows_part(&shown, &secrets), "{shown}");
    assert!(shown.contains("-----BEGIN RSA PRIVATE KEY-----"), "{shown}");
    assert!(shown.contains("secrets shown"), "{shown}");
    // Closing the file hides it again.
    keys(&mut app, "q\n");
    assert!(!shows_part(&screen(&mut app), &secrets));
}

/// The example user rule of docs/rules.md.
const ACME_RULE: &str = r#"
[[secrets.rules]]
id = "acme-token"
title = "ACME token"
severity = "high"
keywords = ["acme_"]
regex = '\bacme_[a-z0-9]{32}\b'
"#;
/// The secret part of the ACME token (the token is built at run time, so the repository holds
/// no literal a rule would match).
const ACME_TAIL: &str = "q7w3e9r1t5y8u2i4o6p0a3s5d7f9g1h2";

/// An image with the ACME token in a history step, an ENV step, the config env and a label,
/// a text file and a binary file; opened with the ACME rule configured.
fn acme_app(dir: &std::path::Path) -> App {
    use std::sync::Arc;
    use strata::analysis::findings::FindingsConfig;
    let token = format!("acme_{ACME_TAIL}");
    let run = format!("/bin/sh -c curl -H 'Authorization: {token}' https://acme.example/cfg");
    let env = format!("/bin/sh -c #(nop)  ENV UPSTREAM={token}");
    let mut blob = b"\x7fELF\x02\x01\x01\x00".to_vec();
    blob.extend([0u8; 37]);
    blob.extend(token.as_bytes());
    blob.extend([0u8; 21]);
    let mut spec = ImageSpec::new(vec![LayerSpec::new(
        &run,
        vec![
            EntrySpec::dir("app/", 0o755),
            EntrySpec::file(
                "app/acme.conf",
                format!("endpoint = https://acme.example\nkey = {token}\n"),
                0o644,
            ),
            EntrySpec::file("app/blob.bin", &blob, 0o755),
        ],
    )]);
    spec.history = vec![HistorySpec::layer(&run), HistorySpec::empty(&env)];
    spec.config = json!({
        "Env": [format!("UPSTREAM={token}"), "PATH=/usr/bin"],
        "Labels": { "vendor.note": token },
        "Cmd": ["/app/run"],
    });
    let path = dir.join("acme.tar");
    write_image(&spec, Layout::DockerLegacy, &path).unwrap();
    highlight::assets();
    let cfg = FindingsConfig::from_toml(ACME_RULE, ".strata.toml").unwrap();
    let mut app = App::with_findings(LoadOptions::default(), Arc::new(cfg));
    let cmds = app.start(Launch::Image(path.display().to_string()));
    worker::settle(&mut app, cmds);
    assert!(app.loaded(), "{:?}", app.load);
    draw(&mut app);
    app
}

/// True when any part of the ACME token's secret tail is on screen, as text (4 characters
/// in a row) or as a hex dump (3 bytes in a row).
fn shows_acme(screen: &str) -> bool {
    let tail = ACME_TAIL.as_bytes();
    let flat: String = screen.lines().collect();
    tail.windows(4)
        .any(|w| flat.contains(std::str::from_utf8(w).unwrap()))
        || tail.windows(3).any(|w| {
            let hex = format!("{:02x} {:02x} {:02x}", w[0], w[1], w[2]);
            flat.contains(&hex)
        })
}

#[test]
fn hex_view_masks_a_user_rule_token_until_v_y() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = acme_app(dir.path());
    keys(&mut app, "\t/blob\nG\n");
    let v = app.viewer.open.as_ref().expect("viewer open");
    assert_eq!(v.kind, strata::ui::app::ViewerKind::Binary);
    let masked = screen(&mut app);
    assert!(!shows_acme(&masked), "{masked}");
    assert!(
        masked.contains("•• •• ••"),
        "masked bytes shown as such: {masked}"
    );
    assert!(masked.contains("secrets masked: v reveals"), "{masked}");
    keys(&mut app, "vy");
    let shown = screen(&mut app);
    assert!(shows_acme(&shown), "{shown}");
}

#[test]
fn a_user_rule_token_in_history_env_labels_and_files_never_shows_raw_in_any_pane() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = acme_app(dir.path());
    assert!(
        app.findings.list.iter().any(|f| f.rule == "acme-token"),
        "the user rule runs: {:?}",
        app.findings.list
    );
    let mut screens = vec![screen(&mut app)];
    // Layers with their history rows and details, the image details (env, labels).
    keys(&mut app, "j");
    screens.push(screen(&mut app));
    keys(&mut app, "l");
    screens.push(screen(&mut app));
    keys(&mut app, "lG");
    screens.push(screen(&mut app));
    for _ in 0..8 {
        keys(&mut app, "k");
        screens.push(screen(&mut app));
    }
    // The tree, the text file and the binary file in the viewer.
    keys(&mut app, "\t");
    screens.push(screen(&mut app));
    for file in ["acme.conf", "blob.bin"] {
        keys(&mut app, &format!("/{file}\nG\n"));
        screens.push(screen(&mut app));
        keys(&mut app, "f");
        screens.push(screen(&mut app));
        keys(&mut app, "fq");
        press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    }
    // Every finding, its reveal declined, and Enter, Enter to its file.
    keys(&mut app, "F");
    for i in 0..app.findings.list.len() {
        keys(&mut app, "g");
        for _ in 0..i {
            keys(&mut app, "j");
        }
        screens.push(screen(&mut app));
        keys(&mut app, "vn");
        screens.push(screen(&mut app));
        keys(&mut app, "\n\n");
        screens.push(screen(&mut app));
        press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
        press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
        keys(&mut app, "F");
    }
    for (i, s) in screens.iter().enumerate() {
        assert!(!shows_acme(s), "screen {i} shows the token:\n{s}");
    }
    // The check can fail: the deliberate reveal in the viewer shows it.
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    keys(&mut app, "/acme.conf\nG\nvy");
    assert!(shows_acme(&screen(&mut app)));
}

// ---------------------------------------------------------------------------------------------
// The packages pane.
// ---------------------------------------------------------------------------------------------

/// An image with dpkg (base layer and the layer on top, each with its `.list`), a Python
/// distribution with its `RECORD` and two npm packages.
fn packages_archive(dir: &std::path::Path) -> std::path::PathBuf {
    let libc = "Package: libc6\nStatus: install ok installed\nInstalled-Size: 12000\nArchitecture: amd64\nVersion: 2.36-9+deb12u4\nDescription: GNU C Library\n";
    let curl = format!("{libc}\nPackage: curl\nStatus: install ok installed\nInstalled-Size: 500\nArchitecture: amd64\nVersion: 7.88.1-10+deb12u5\nDepends: libc6 (>= 2.34)\nDescription: curl\n");
    let spec = ImageSpec::new(vec![
        LayerSpec::new(
            "ADD rootfs.tar.gz /",
            vec![
                EntrySpec::dir("etc/", 0o755),
                EntrySpec::file(
                    "etc/os-release",
                    "ID=debian\nVERSION_ID=\"12\"\nNAME=\"Debian GNU/Linux\"\n",
                    0o644,
                ),
                EntrySpec::dir("var/lib/dpkg/info/", 0o755),
                EntrySpec::file("var/lib/dpkg/status", libc, 0o644),
                EntrySpec::file(
                    "var/lib/dpkg/info/libc6:amd64.list",
                    "/.\n/lib\n/lib/x86_64-linux-gnu/libc.so.6\n",
                    0o644,
                ),
                EntrySpec::file("lib/x86_64-linux-gnu/libc.so.6", "\x7fELF libc", 0o755),
                EntrySpec::file("lib/x86_64-linux-gnu/libm.so.6", "\x7fELF libm", 0o755),
            ],
        ),
        LayerSpec::new(
            "RUN apt-get install curl && pip install six && npm install",
            vec![
                EntrySpec::file("var/lib/dpkg/status", curl, 0o644),
                EntrySpec::file("var/lib/dpkg/info/curl.list", "/usr/bin/curl\n", 0o644),
                EntrySpec::file("usr/bin/curl", "\x7fELF curl", 0o755),
                EntrySpec::file("usr/bin/wget", "\x7fELF wget", 0o755),
                EntrySpec::file(
                    "usr/lib/python3/dist-packages/six.py",
                    "import sys\n",
                    0o644,
                ),
                EntrySpec::file(
                    "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
                    "Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\nLicense: MIT\n\n",
                    0o644,
                ),
                EntrySpec::file(
                    "usr/lib/python3/dist-packages/six-1.16.0.dist-info/RECORD",
                    "six.py,sha256=x,34549\nsix-1.16.0.dist-info/RECORD,,\n",
                    0o644,
                ),
                EntrySpec::file(
                    "app/package.json",
                    r#"{"name":"app","version":"0.1.0","dependencies":{"left-pad":"^1.3.0"}}"#,
                    0o644,
                ),
                EntrySpec::file(
                    "app/node_modules/left-pad/package.json",
                    r#"{"name":"left-pad","version":"1.3.0","license":"WTFPL"}"#,
                    0o644,
                ),
            ],
        ),
    ]);
    let path = dir.join("packages.tar");
    write_image(&spec, Layout::Docker25, &path).unwrap();
    path
}

/// The packages pane's frame as text (rows of the right half, from its top border to its
/// bottom border), free of the archive's temporary path shown elsewhere.
fn packages_region(app: &mut App) -> String {
    let t = draw(app);
    let buf = t.backend().buffer();
    let rows = app.areas.packages;
    assert!(rows.height > 0, "packages pane not on screen");
    let mut out = String::new();
    for y in rows.y - 2..rows.y + rows.height + 1 {
        for x in rows.x - 1..rows.x + rows.width + 1 {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

fn shown_names(app: &App) -> Vec<String> {
    app.packages
        .shown
        .iter()
        .map(|&i| app.packages.list[i].name.clone())
        .collect()
}

/// The files (not directories) the tree shows, in row order.
fn tree_files(app: &App) -> Vec<String> {
    let tree = app.tree.state.as_ref().expect("tree");
    let fs = &tree.image.fs;
    tree.rows
        .iter()
        .filter(|r| {
            // Directories implied by their children have no version of their own.
            tree.view
                .version_of(r.id)
                .is_some_and(|v| fs.versions[v as usize].kind != strata::model::fs::EntryKind::Dir)
        })
        .map(|r| String::from_utf8_lossy(fs.path(r.id)).into_owned())
        .collect()
}

/// The tree's selected path and the selected layer.
fn tree_selection(app: &App) -> (String, usize) {
    let (id, _, _) = app.selected_entry().expect("a tree selection");
    let fs = &app.tree.state.as_ref().expect("tree").image.fs;
    (
        String::from_utf8_lossy(fs.path(id)).into_owned(),
        app.layers.selected,
    )
}

#[test]
fn packages_pane_sorts_filters_and_jumps_to_files() {
    use strata::ui::app::{FindingsState, PackageSort, Pane};
    let dir = tempfile::tempdir().unwrap();
    let archive = packages_archive(dir.path());
    let mut app = app_for(Launch::Image(archive.display().to_string()));
    assert!(app.loaded(), "{:?}", app.load);
    assert_eq!(app.findings.state, FindingsState::Ready);
    keys(&mut app, "P");
    assert_eq!(app.focus, Pane::Packages);
    let region = packages_region(&mut app);
    insta::assert_snapshot!("packages_pane", region);
    // Manager then name; every column of the selected row on screen, base layer marked `B`.
    assert_eq!(
        shown_names(&app),
        ["curl", "libc6", "app", "left-pad", "six"]
    );
    let line = |name: &str| -> String {
        region
            .lines()
            .find(|l| l.contains(&format!(" {name} ")))
            .unwrap_or_else(|| panic!("no row for {name}:\n{region}"))
            .to_owned()
    };
    let curl = line("curl");
    for cell in ["dpkg", "7.88.1-10+deb12u5", "500.0 KiB", "   1 "] {
        assert!(curl.contains(cell), "{cell:?} in {curl:?}");
    }
    assert!(line("libc6").contains("B  0"), "{}", line("libc6"));
    assert!(line("six").contains(" MIT"), "{}", line("six"));
    assert!(line("left-pad").contains("WTFPL"), "{}", line("left-pad"));
    let t = draw(&mut app);
    let buf = t.backend().buffer();
    let (x, y) = find(buf, " curl ").expect("curl row");
    assert!(
        buf[(x + 1, y)]
            .modifier
            .contains(ratatui::style::Modifier::REVERSED),
        "the selected row is highlighted"
    );

    // `s` cycles the sort column.
    keys(&mut app, "s");
    assert_eq!(app.packages.sort, PackageSort::Name);
    assert_eq!(
        shown_names(&app),
        ["app", "curl", "left-pad", "libc6", "six"]
    );
    keys(&mut app, "s");
    assert_eq!(app.packages.sort, PackageSort::Size);
    assert_eq!(shown_names(&app)[..3], ["libc6", "curl", "six"]);
    keys(&mut app, "sss");
    assert_eq!(app.packages.sort, PackageSort::Manager);

    // `/` filters as it is typed; Enter keeps it.
    keys(&mut app, "/six\n");
    assert_eq!(shown_names(&app), ["six"]);
    assert!(packages_region(&mut app).contains("(1 of 5)"));
    // Enter shows the files the distribution's RECORD lists, in the layer that added it,
    // and only those: the tree's title says so.
    keys(&mut app, "\n");
    assert_eq!(app.focus, Pane::Tree);
    assert_eq!(app.layers.selected, 1);
    assert_eq!(
        tree_files(&app),
        [
            "usr/lib/python3/dist-packages/six-1.16.0.dist-info/RECORD",
            "usr/lib/python3/dist-packages/six.py",
        ]
    );
    let shown = screen(&mut app);
    assert!(
        shown.contains(" 2 files of six at layer 1 (Esc shows all) "),
        "{shown}"
    );
    // Esc in the tree shows every path again.
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    assert_eq!(app.tree.only_label, None);
    assert!(tree_files(&app).contains(&"usr/bin/wget".to_owned()));

    // Back in the pane, Esc clears the filter; dpkg packages show their `.list`'s files.
    keys(&mut app, "P");
    assert_eq!(shown_names(&app), ["six"], "the filter is kept");
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    assert_eq!(shown_names(&app).len(), 5);
    keys(&mut app, "j\n");
    assert_eq!(app.layers.selected, 0);
    assert_eq!(tree_files(&app), ["lib/x86_64-linux-gnu/libc.so.6"]);
    keys(&mut app, "Pg\n");
    assert_eq!(app.layers.selected, 1);
    assert_eq!(tree_files(&app), ["usr/bin/curl"]);
    // npm lists no files: Enter selects the package.json the package was read from, with
    // every path shown.
    keys(&mut app, "Pgjjj\n");
    assert_eq!(app.tree.only_label, None);
    assert_eq!(
        tree_selection(&app),
        ("app/node_modules/left-pad/package.json".to_owned(), 1)
    );
}

/// Size bars (issue 13, edge 11): `b` adds a share column to the layers pane (each layer's
/// share of the image) and to the tree (each row's share of its directory), as a bar and a
/// percentage, so it reads without colour.
#[test]
fn size_bars_show_each_layers_and_each_rows_share() {
    let mut app = demo_app();
    keys(&mut app, "jb");
    let image = app.image.clone().expect("image");
    let total: u64 = image.layers.iter().map(|l| l.size_bytes).sum();
    let screen = screen(&mut app);
    assert!(screen.contains("Share"), "{screen}");
    for layer in &image.layers {
        let pct = (layer.size_bytes as f64 * 100.0 / total as f64).round() as u64;
        let row = screen
            .lines()
            .find(|l| {
                // `"┃` (the focused frame) then the row.
                l.chars().skip(2).collect::<String>().starts_with(&format!(
                    "{}{:>3} ",
                    if layer.index == 0 { "B" } else { " " },
                    layer.index
                ))
            })
            .unwrap_or_else(|| panic!("layer {} row: {screen}", layer.index));
        // The layers pane only (the left 50 columns, after the opening quote).
        let row: String = row.chars().take(51).collect();
        assert!(
            row.contains(&format!("{pct:>3}%")),
            "layer {}: {pct}% in {row}",
            layer.index
        );
        let full = (layer.size_bytes as f64 * 48.0 / total as f64).round() as usize / 8;
        assert_eq!(row.matches('█').count(), full, "{row}");
    }
    // The tree of layer 1: /usr's share of the root directory of this view.
    let tree = app.tree.state.as_ref().expect("tree");
    let fs = &tree.image.fs;
    let usr = fs.lookup(b"usr").expect("usr");
    let pct = (tree.view.size[usr as usize] as f64 * 100.0 / tree.view.size[0] as f64).round();
    let line = screen
        .lines()
        .find(|l| l.contains("── usr/"))
        .unwrap_or_else(|| panic!("usr row: {screen}"));
    assert!(
        line.contains(&format!("{:>3}%", pct as u64)),
        "{pct}% in {line}"
    );
    keys(&mut app, "b");
    assert!(!screen_of(&mut app).contains("Share"));
}

fn screen_of(app: &mut App) -> String {
    screen(app)
}
