//! Update-logic tests of the explorer: real key sequences fed to `App::update` on the built-in
//! demo image (and fixture archives), with worker commands executed inline.

mod common;

use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use strata::source::LoadOptions;
use strata::ui::app::{
    App, Command, Event, ImageRow, Launch, LoadState, Msg, Pane, Prompt, Screen, Target, ViewerKind,
};
use strata::ui::filetree::{Change, Mode};
use strata::ui::worker;

use common::fixture::{write_image, EntrySpec, ImageSpec, LayerSpec, Layout};
use common::ui::{ctrl, draw, keys, press};

fn demo_app() -> App {
    let mut app = App::new(LoadOptions::default());
    let cmds = app.start(Launch::Demo);
    worker::settle(&mut app, cmds);
    assert_eq!(app.load, LoadState::Done);
    draw(&mut app);
    app
}

fn selected_path(app: &App) -> String {
    let tree = app.tree.state.as_ref().unwrap();
    let id = tree.selected_id().unwrap();
    String::from_utf8_lossy(tree.image.fs.path(id)).into_owned()
}

fn viewer_text(app: &App) -> String {
    app.viewer.open.as_ref().unwrap().lines.join("\n")
}

#[test]
fn select_layer_tab_filter_and_open_the_secret_from_its_layer() {
    let mut app = demo_app();
    assert_eq!(app.focus, Pane::Layers);
    keys(&mut app, "jjj");
    assert_eq!(app.layers.selected, 3);
    keys(&mut app, "\t");
    assert_eq!(app.focus, Pane::Tree);
    // Filter to the key, go to the last row (the file), open it.
    keys(&mut app, "/id_rsa\nG\n");
    assert_eq!(selected_path(&app), "root/.ssh/id_rsa");
    let v = app.viewer.open.as_ref().expect("viewer open");
    assert_eq!(v.layer, 3);
    assert_eq!(v.title, "/root/.ssh/id_rsa");
    assert_eq!(v.kind, ViewerKind::Text);
    assert!(v.eof);
    let text = viewer_text(&app);
    assert!(
        text.starts_with("-----BEGIN RSA PRIVATE KEY-----"),
        "{text}"
    );
    assert!(text.ends_with("-----END RSA PRIVATE KEY-----"), "{text}");
    // q closes the viewer, Esc clears the filter, q quits.
    keys(&mut app, "q");
    assert!(app.viewer.open.is_none());
    assert!(!app.quit);
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    assert!(app.tree.filter_text.is_empty());
    assert!(app.tree.state.as_ref().unwrap().rows.len() > 10);
    keys(&mut app, "q");
    assert!(app.quit);
}

#[test]
fn removed_file_opens_with_the_content_of_the_layer_that_had_it() {
    let mut app = demo_app();
    keys(&mut app, "jjjj\t");
    assert_eq!(app.layers.selected, 4);
    keys(&mut app, "/aws/credentials$\nG");
    let (id, version, change) = app.selected_entry().unwrap();
    assert_eq!(change, Change::Removed);
    let tree = app.tree.state.as_ref().unwrap();
    assert_eq!(tree.image.fs.path(id), b"root/.aws/credentials");
    assert_eq!(tree.image.fs.versions[version.unwrap() as usize].layer, 3);
    keys(&mut app, "\n");
    assert_eq!(app.viewer.open.as_ref().unwrap().layer, 3);
    assert!(viewer_text(&app).contains("aws_access_key_id = AKIA"));
}

#[test]
fn compare_modes_and_change_filters() {
    let mut app = demo_app();
    keys(&mut app, "jjjjj");
    ctrl(&mut app, 'a');
    assert_eq!(app.layers.mode, Mode::Aggregated);
    keys(&mut app, "\t");
    // In the tree Ctrl+A toggles "added" (dive's keys), Ctrl+U hides unchanged.
    ctrl(&mut app, 'u');
    let tree = app.tree.state.as_ref().unwrap();
    assert!(!tree.filter.unchanged);
    let changes: Vec<Change> = tree
        .rows
        .iter()
        .map(|r| tree.view.change[r.id as usize])
        .collect();
    assert!(changes.contains(&Change::Added));
    assert!(changes.contains(&Change::Removed));
    ctrl(&mut app, 'a');
    let tree = app.tree.state.as_ref().unwrap();
    assert!(!tree.filter.added);
    for r in &tree.rows {
        let c = tree.view.change[r.id as usize];
        // Only containers of other changes may remain unchanged or added.
        if c == Change::Added || c == Change::Unchanged {
            assert!(r.has_children, "{:?}", tree.image.fs.path(r.id));
        }
    }
    // Ctrl+L from the tree returns to per-layer changes.
    ctrl(&mut app, 'l');
    assert_eq!(app.layers.mode, Mode::PerLayer);
    // Ctrl+M is Enter on terminals: M toggles "modified".
    keys(&mut app, "M");
    assert!(!app.tree.state.as_ref().unwrap().filter.modified);
}

#[test]
fn sort_by_size_collapse_and_expand() {
    let mut app = demo_app();
    keys(&mut app, "j\t");
    ctrl(&mut app, 'o');
    let tree = app.tree.state.as_ref().unwrap();
    let top: Vec<u64> = tree
        .rows
        .iter()
        .filter(|r| r.depth == 0)
        .map(|r| tree.view.size[r.id as usize])
        .collect();
    assert!(top.windows(2).all(|w| w[0] >= w[1]), "{top:?}");
    assert_eq!(selected_path(&app), "bin", "the selection follows its path");
    keys(&mut app, "g");
    assert_eq!(selected_path(&app), "var", "largest first");
    let before = app.tree.state.as_ref().unwrap().rows.len();
    keys(&mut app, " ");
    let after = app.tree.state.as_ref().unwrap().rows.len();
    assert!(after < before);
    keys(&mut app, " ");
    assert_eq!(app.tree.state.as_ref().unwrap().rows.len(), before);
    keys(&mut app, "x");
    assert!(app
        .tree
        .state
        .as_ref()
        .unwrap()
        .rows
        .iter()
        .all(|r| r.depth == 0));
    keys(&mut app, "lj");
    assert_eq!(app.tree.state.as_ref().unwrap().rows[1].depth, 1);
}

#[test]
fn binary_files_hard_links_and_symlinks() {
    let mut app = demo_app();
    keys(&mut app, "j\t/python3$\nG\n");
    assert_eq!(selected_path(&app), "usr/bin/python3");
    let v = app.viewer.open.as_ref().unwrap();
    assert_eq!(
        v.kind,
        ViewerKind::Binary,
        "hard link shows its target's bytes"
    );
    assert_eq!(&v.bytes[..4], b"\x7fELF");
    assert_eq!(v.size, 48 * 1024);
    // f: full width, and back.
    keys(&mut app, "f");
    assert!(app.viewer.full);
    let t = draw(&mut app);
    let top: String = (0..30)
        .map(|x| t.backend().buffer()[(x, 0)].symbol().to_string())
        .collect();
    assert!(top.contains("/usr/bin/python3"), "{top}");
    assert_eq!(app.areas.layers, ratatui::layout::Rect::default());
    keys(&mut app, "f");
    assert!(!app.viewer.full);
    keys(&mut app, "q");
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    keys(&mut app, "/bin/sh$\nG\n");
    match &app.viewer.open.as_ref().unwrap().kind {
        ViewerKind::Message(m) => assert!(m.contains("symbolic link → busybox"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn latest_wins_stale_reads_are_dropped() {
    let mut app = demo_app();
    keys(&mut app, "jj\t/app/\n");
    // Open main.py but do not run its read; open config.json instead.
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    keys(&mut app, "/main.py\nG");
    let first = app.update(Event::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    assert!(matches!(first.as_slice(), [Command::Read { .. }]));
    keys(&mut app, "q");
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    keys(&mut app, "/config.json\nG");
    let second = app.update(Event::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Msg>();
    for c in first {
        worker::execute(c, &tx);
    }
    assert!(rx.try_recv().is_err(), "the stale read did no work");
    worker::settle(&mut app, second);
    assert!(viewer_text(&app).contains("\"name\": \"demo-app\""));
}

#[test]
fn extract_asks_before_overwriting_and_never_follows_links() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = demo_app();
    app.prompt.extract_dir = String::new();
    keys(&mut app, "jj\t/config.json\nG");
    ctrl(&mut app, 'e');
    assert!(matches!(app.prompt.active, Some(Prompt::ExtractDir { .. })));
    // Name only (Tab), into the directory typed.
    press(&mut app, KeyCode::Tab, KeyModifiers::NONE);
    keys(&mut app, &format!("{}\n", dir.path().display()));
    let out = dir.path().join("config.json");
    let want = std::fs::read(&out).unwrap();
    assert!(String::from_utf8_lossy(&want).contains("\"pool_size\": 5"));
    assert!(
        app.notice
            .as_ref()
            .unwrap()
            .0
            .starts_with("extracted 1 file (163 B) to "),
        "{:?}",
        app.notice
    );
    // Again: asks, "n" keeps the file.
    std::fs::write(&out, b"mine").unwrap();
    ctrl(&mut app, 'e');
    press(&mut app, KeyCode::Tab, KeyModifiers::NONE);
    keys(&mut app, "\n");
    assert!(matches!(app.prompt.active, Some(Prompt::Overwrite { .. })));
    keys(&mut app, "n");
    assert_eq!(std::fs::read(&out).unwrap(), b"mine");
    // "y" overwrites.
    ctrl(&mut app, 'e');
    press(&mut app, KeyCode::Tab, KeyModifiers::NONE);
    keys(&mut app, "\ny");
    assert_eq!(std::fs::read(&out).unwrap(), want);
    // A symlink in the way is never written through: refused before anything is asked.
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim");
    std::fs::write(&victim, b"keep").unwrap();
    std::fs::remove_file(&out).unwrap();
    std::os::unix::fs::symlink(&victim, &out).unwrap();
    ctrl(&mut app, 'e');
    press(&mut app, KeyCode::Tab, KeyModifiers::NONE);
    keys(&mut app, "\n");
    assert!(app.prompt.active.is_none());
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
    assert!(app
        .notice
        .as_ref()
        .unwrap()
        .0
        .contains("not a regular file"));
}

#[test]
fn extract_writes_only_the_basename_inside_the_chosen_directory() {
    let dir = tempfile::tempdir().unwrap();
    let spec = ImageSpec::new(vec![LayerSpec::new(
        "COPY x",
        vec![
            EntrySpec::dir("a/", 0o755),
            EntrySpec::file("a/..evil", b"dots", 0o644),
            EntrySpec::file("../../escape.txt", b"normalised inside", 0o4755),
        ],
    )]);
    let archive = dir.path().join("img.tar");
    write_image(&spec, Layout::DockerLegacy, &archive).unwrap();
    let target = dir.path().join("out");
    std::fs::create_dir(&target).unwrap();
    let loaded = worker::load_image(
        &Target::Reference(archive.display().to_string()),
        &LoadOptions::default(),
        &Default::default(),
    )
    .unwrap();
    let fs = &loaded.image.fs;
    for (path, name) in [("a/..evil", "..evil"), ("escape.txt", "escape.txt")] {
        let id = fs.lookup(path.as_bytes()).unwrap();
        let request = strata::ui::extract::Request {
            root: id,
            version: fs.final_version(id),
            layer: 0,
            dir: target.clone(),
            keep_path: false,
            create_dir: false,
            overwrite: false,
        };
        let summary = strata::ui::extract::run(&loaded.image, &request, &mut |_, _| {}).unwrap();
        assert_eq!(summary.file, Some(target.join(name)));
    }
    let mode = std::fs::metadata(target.join("escape.txt")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(mode.permissions().mode() & 0o7777, 0o755, "setuid dropped");
    let mut entries: Vec<_> = std::fs::read_dir(&target)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    entries.sort();
    assert_eq!(entries, vec!["..evil", "escape.txt"]);
    assert!(!dir.path().join("escape.txt").exists());
}

#[test]
fn large_text_files_are_paged_lazily() {
    let dir = tempfile::tempdir().unwrap();
    let mut big = String::new();
    let mut n = 0;
    while big.len() < 700_000 {
        n += 1;
        big.push_str(&format!("line {n} of a big log file\n"));
    }
    let spec = ImageSpec::new(vec![LayerSpec::new(
        "RUN make-logs",
        vec![
            EntrySpec::dir("var/", 0o755),
            EntrySpec::file("var/big.log", big.as_bytes(), 0o644),
        ],
    )]);
    let archive = dir.path().join("big.tar");
    write_image(&spec, Layout::DockerLegacy, &archive).unwrap();
    let mut app = App::new(LoadOptions::default());
    let cmds = app.start(Launch::Image(archive.display().to_string()));
    worker::settle(&mut app, cmds);
    draw(&mut app);
    keys(&mut app, "\t/big\nG\n");
    let v = app.viewer.open.as_ref().unwrap();
    assert!(!v.eof, "only the first chunk is read");
    assert!(v.lines.len() < n);
    let first_chunk = v.lines.len();
    for _ in 0..2000 {
        if app.viewer.open.as_ref().unwrap().eof {
            break;
        }
        press(&mut app, KeyCode::PageDown, KeyModifiers::NONE);
    }
    let v = app.viewer.open.as_ref().unwrap();
    assert!(v.eof);
    assert!(v.lines.len() > first_chunk);
    assert_eq!(v.lines.len(), n);
    assert_eq!(v.lines[n - 1], format!("line {n} of a big log file"));
    assert_eq!(
        v.lines[first_chunk],
        format!("line {} of a big log file", first_chunk + 1)
    );
}

#[test]
fn no_daemon_opens_the_demo_with_a_notice() {
    let mut app = App::new(LoadOptions::default());
    let cmds = app.start(Launch::List);
    assert_eq!(app.screen, Screen::Images);
    assert!(cmds.iter().any(|c| matches!(c, Command::ListImages)));
    let cmds = app.update(Event::Msg(Msg::Images(Err("connection refused".into()))));
    assert!(matches!(
        cmds.as_slice(),
        [Command::Load {
            target: Target::Demo,
            ..
        }]
    ));
    assert!(app
        .notice
        .as_ref()
        .unwrap()
        .0
        .contains("no reachable Docker daemon"));
    worker::settle(&mut app, cmds);
    assert_eq!(app.screen, Screen::Explorer);
    assert!(app.loaded());
}

#[test]
fn image_list_enter_opens_and_q_returns() {
    let mut app = App::new(LoadOptions::default());
    let _ = app.start(Launch::List);
    let rows = vec![
        ImageRow {
            reference: "alpine:3".into(),
            id: "sha256:aaaa".into(),
            size: 7_000_000,
            created: 0,
            pick: None,
        },
        ImageRow {
            reference: "<none>:<none>".into(),
            id: "sha256:bbbb".into(),
            size: 1,
            created: 0,
            pick: None,
        },
    ];
    let _ = app.update(Event::Msg(Msg::Images(Ok(rows))));
    let cmds = app.update(Event::Key(KeyEvent::new(
        KeyCode::Char('j'),
        KeyModifiers::NONE,
    )));
    assert!(cmds.is_empty());
    let cmds = app.update(Event::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    match cmds.as_slice() {
        [Command::Load {
            target: Target::Reference(r),
            ..
        }] => assert_eq!(r, "sha256:bbbb", "untagged images open by id"),
        other => panic!("{other:?}"),
    }
    assert_eq!(app.screen, Screen::Explorer);
    let _ = app.update(Event::Key(KeyEvent::new(
        KeyCode::Char('q'),
        KeyModifiers::NONE,
    )));
    assert_eq!(app.screen, Screen::Images);
    assert!(!app.quit);
}

#[test]
fn mouse_click_focuses_and_selects_wheel_scrolls() {
    let mut app = demo_app();
    let layers = app.areas.layers;
    // Row 3 of the layers pane is layer 1 (rows 1 and 2 are the empty CMD/ENV steps).
    let click = |col, row| {
        Event::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: col,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    let _ = app.update(click(layers.x + 5, layers.y + 3));
    assert_eq!(app.layers.selected, 1);
    draw(&mut app);
    let tree = app.areas.tree;
    let _ = app.update(click(tree.x + 10, tree.y + 2));
    assert_eq!(app.focus, Pane::Tree);
    assert_eq!(app.tree.state.as_ref().unwrap().selected, 2);
    let _ = app.update(Event::Mouse(MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: tree.x + 10,
        row: tree.y + 2,
        modifiers: KeyModifiers::NONE,
    }));
    assert_eq!(app.tree.state.as_ref().unwrap().selected, 5);
    // Wheel over the layers pane moves the layer without moving focus.
    let _ = app.update(Event::Mouse(MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: layers.x + 5,
        row: layers.y + 1,
        modifiers: KeyModifiers::NONE,
    }));
    assert_eq!(app.layers.selected, 4);
    assert_eq!(app.focus, Pane::Tree);
}

#[test]
fn ctrl_c_quits_from_a_prompt_and_help() {
    let mut app = demo_app();
    keys(&mut app, "?");
    assert!(app.help);
    keys(&mut app, "?");
    assert!(!app.help);
    keys(&mut app, "/");
    assert!(matches!(app.prompt.active, Some(Prompt::Filter { .. })));
    ctrl(&mut app, 'c');
    assert!(app.quit);
}

/// `n`/`N` (issue 13, edge 9): after `/` and Esc the tree is whole again, and `n`/`N` walk the
/// paths the expression matched, in the tree's name order, wrapping around, each time
/// expanding the match's parents.
#[test]
fn n_and_shift_n_jump_between_matches_without_hiding_the_rest() {
    let mut app = demo_app();
    keys(&mut app, "G\t");
    // The expected matches, from the image itself: every path of the last layer's filesystem
    // whose path contains "passwd", in name order.
    let expected: Vec<String> = {
        let tree = app.tree.state.as_ref().unwrap();
        let fs = &tree.image.fs;
        let mut v: Vec<String> = (1..fs.path_count() as u32)
            .filter(|&id| tree.view.version_of(id).is_some())
            .map(|id| String::from_utf8_lossy(fs.path(id)).into_owned())
            .filter(|p| p.contains("passwd"))
            .collect();
        v.sort_by(|a, b| a.split('/').cmp(b.split('/')));
        v
    };
    assert!(expected.len() >= 2, "{expected:?}");
    keys(&mut app, "/passwd\n");
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    assert!(app.tree.filter_text.is_empty());
    let whole = app.tree.state.as_ref().unwrap().rows.len();
    keys(&mut app, "g");
    let mut seen = Vec::new();
    for _ in 0..expected.len() {
        keys(&mut app, "n");
        seen.push(selected_path(&app));
    }
    assert_eq!(seen, expected);
    assert!(
        app.tree.state.as_ref().unwrap().rows.len() >= whole,
        "nothing hidden"
    );
    // Wraps to the first, and N goes back to the last.
    keys(&mut app, "n");
    assert_eq!(selected_path(&app), expected[0]);
    keys(&mut app, "N");
    assert_eq!(selected_path(&app), expected[expected.len() - 1]);
}

#[test]
fn invalid_regex_keeps_the_previous_filter() {
    let mut app = demo_app();
    keys(&mut app, "/nginx");
    let rows = app.tree.state.as_ref().unwrap().rows.len();
    keys(&mut app, "[");
    match &app.prompt.active {
        Some(Prompt::Filter { error: Some(_), .. }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(app.tree.state.as_ref().unwrap().rows.len(), rows);
    assert_eq!(app.tree.filter_text, "nginx");
}

#[test]
fn a_failed_load_is_shown_not_fatal() {
    let mut app = App::new(LoadOptions::default());
    let missing = Path::new("/nonexistent/strata-ui-test.tar");
    let cmds = app.start(Launch::Image(missing.display().to_string()));
    worker::settle(&mut app, cmds);
    match &app.load {
        LoadState::Failed(e) => assert!(e.contains("strata-ui-test.tar"), "{e}"),
        other => panic!("{other:?}"),
    }
    keys(&mut app, "jk\t?");
    assert!(!app.quit);
}

#[test]
fn findings_enter_jumps_to_the_squashed_key_and_reveal_needs_the_deliberate_key() {
    use strata::analysis::finding::Category;
    use strata::ui::app::FindingsState;
    let mut app = demo_app();
    assert_eq!(app.findings.state, FindingsState::Ready);
    assert!(!app.findings.list.is_empty());
    // Worst first.
    assert!(app
        .findings
        .list
        .windows(2)
        .all(|w| w[0].severity >= w[1].severity));
    // Start somewhere else: layer 0, tree fully collapsed, a filter that hides the key.
    keys(&mut app, "\tx/nginx\n");
    assert_eq!(app.layers.selected, 0);
    assert_eq!(app.tree.filter_text, "nginx");
    keys(&mut app, "F");
    assert!(app.findings.open);
    assert_eq!(app.focus, Pane::Findings);
    let i = app
        .findings
        .list
        .iter()
        .position(|f| f.rule == "private-key")
        .expect("the squashed private key is found");
    for _ in 0..i {
        keys(&mut app, "j");
    }
    let f = app.findings.selected_finding().unwrap().clone();
    assert_eq!(f.category, Category::Secret);
    assert_eq!(f.path.as_deref(), Some("/root/.ssh/id_rsa"));
    assert_eq!(f.layer, Some(3));
    assert_eq!(f.removed_in, Some(4));

    // The raw value is read back only after `v` and a confirmation.
    let raw = {
        let image = app.tree.state.as_ref().unwrap().image.clone();
        let (v, off, len) = app.secret_location(&f).expect("content match recorded");
        String::from_utf8(strata::source::content::read_range(&image, v, off, len).unwrap())
            .unwrap()
    };
    assert!(raw.contains("PRIVATE KEY"), "{raw}");
    assert!(app.findings.reveal.is_none());
    keys(&mut app, "v");
    assert!(matches!(app.prompt.active, Some(Prompt::Reveal { .. })));
    assert!(app.findings.reveal.is_none());
    keys(&mut app, "n");
    assert!(app.prompt.active.is_none());
    assert!(
        app.findings.revealed(app.findings.selected).is_none(),
        "declined"
    );
    keys(&mut app, "vy");
    let shown = app
        .findings
        .revealed(app.findings.selected)
        .expect("revealed");
    assert_eq!(shown.expose(), raw);
    assert!(
        !format!("{:?}", app.findings.reveal).contains("PRIVATE KEY"),
        "Debug never prints the secret"
    );
    // Moving the selection hides it again, for good.
    keys(&mut app, "j");
    assert!(app.findings.reveal.is_none());
    keys(&mut app, "k");
    assert!(app.findings.reveal.is_none());
    assert_eq!(app.findings.selected_finding(), Some(&f));

    // Enter: layer 3 selected, the key selected in the tree (parents expanded, filter cleared).
    keys(&mut app, "\n");
    assert!(!app.findings.open);
    assert_eq!(app.focus, Pane::Tree);
    assert_eq!(app.layers.selected, 3);
    assert!(app.tree.filter_text.is_empty());
    assert_eq!(selected_path(&app), "root/.ssh/id_rsa");
    let (_, version, _) = app.selected_entry().unwrap();
    let tree = app.tree.state.as_ref().unwrap();
    assert_eq!(tree.image.fs.versions[version.unwrap() as usize].layer, 3);
    // …and Enter opens it from that layer.
    keys(&mut app, "\n");
    assert_eq!(app.viewer.open.as_ref().unwrap().layer, 3);
    assert!(viewer_text(&app).starts_with("-----BEGIN RSA PRIVATE KEY-----"));
}

#[test]
fn findings_without_a_file_select_their_layer_or_point_to_the_config() {
    let mut app = demo_app();
    keys(&mut app, "F");
    // A config finding (no layer): Enter points to the image details.
    let i = app
        .findings
        .list
        .iter()
        .position(|f| f.layer.is_none())
        .expect("a config finding");
    for _ in 0..i {
        keys(&mut app, "j");
    }
    keys(&mut app, "\n");
    assert_eq!(app.focus, Pane::ImageDetails);
    assert!(app
        .notice
        .as_ref()
        .unwrap()
        .0
        .contains("image configuration"));
    // `v` on a non-secret finding reveals nothing (F focuses the open pane).
    keys(&mut app, "F");
    assert_eq!(app.focus, Pane::Findings);
    let j = app
        .findings
        .list
        .iter()
        .position(|f| f.category != strata::analysis::finding::Category::Secret)
        .unwrap();
    keys(&mut app, "g");
    for _ in 0..j {
        keys(&mut app, "j");
    }
    keys(&mut app, "v");
    assert!(app.prompt.active.is_none());
    // Esc closes the pane, F reopens it; Tab goes to the layers and back.
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    assert!(!app.findings.open);
    // Tab: the list, its details, layer details, image details, the layers, the list again.
    keys(&mut app, "F\t");
    assert_eq!(app.focus, Pane::Findings);
    assert!(app.findings.details_focus);
    keys(&mut app, "\t");
    assert_eq!(app.focus, Pane::LayerDetails);
    assert!(!app.findings.details_focus);
    keys(&mut app, "\t\t");
    assert_eq!(app.focus, Pane::Layers);
    keys(&mut app, "\t");
    assert_eq!(app.focus, Pane::Findings);
    assert!(!app.findings.details_focus);
}

#[test]
fn layer_views_are_built_by_the_worker_latest_wins_and_cached() {
    let mut app = demo_app();
    let j = || Event::Key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE));
    let k = || Event::Key(KeyEvent::new(KeyCode::Char('k'), KeyModifiers::NONE));
    let view_layer = |app: &App| app.tree.state.as_ref().unwrap().view.layer;
    // Layer 1's view is not built yet: the worker builds it, the tree keeps layer 0 meanwhile.
    let first = app.update(j());
    assert!(matches!(
        first.as_slice(),
        [Command::BuildView { layer: 1, .. }]
    ));
    assert_eq!(app.layers.selected, 1);
    assert_eq!(view_layer(&app), 0);
    assert!(app.tree.building());
    // Layer 2 before it arrived: the build for layer 1 is stale and does no work.
    let second = app.update(j());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Msg>();
    for c in first {
        worker::execute(c, &tx);
    }
    assert!(rx.try_recv().is_err(), "the stale build did no work");
    worker::settle(&mut app, second);
    assert_eq!(view_layer(&app), 2);
    assert!(!app.tree.building());
    // Layer 1 was never built: built now; back to layer 2: cached, shown at once.
    let cmds = app.update(k());
    assert_eq!(cmds.len(), 1);
    worker::settle(&mut app, cmds);
    assert_eq!(view_layer(&app), 1);
    assert!(app.update(j()).is_empty(), "cached view, no work");
    assert_eq!(view_layer(&app), 2);
}

#[test]
fn open_prompt_opens_any_reference_from_an_image_and_from_the_list() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("minimal.tar");
    write_image(&ImageSpec::minimal(), Layout::OciArchiveGzip, &archive).unwrap();
    let typed = format!("oci-archive:{}", archive.display());

    // In an open image: `o`, type the reference, Enter.
    let mut app = demo_app();
    keys(&mut app, "o");
    assert!(matches!(&app.prompt.active, Some(Prompt::Open { text }) if text.is_empty()));
    // Esc cancels without loading anything.
    let cmds = app.update(Event::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    assert!(cmds.is_empty() && app.prompt.active.is_none());
    assert_eq!(
        app.image.as_ref().unwrap().reference,
        strata::source::demo::REFERENCE
    );
    // Enter on nothing says so and opens nothing.
    keys(&mut app, "o");
    let cmds = app.update(Event::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    assert!(cmds.is_empty());
    assert!(app.notice.as_ref().unwrap().0.contains("nothing to open"));

    keys(&mut app, "o");
    keys(&mut app, &typed);
    let screen = draw(&mut app).backend().to_string();
    assert!(screen.contains(" Open image: oci-archive:"), "{screen}");
    keys(&mut app, "\n");
    assert_eq!(app.load, LoadState::Done);
    let image = app.image.as_ref().unwrap();
    assert_eq!(image.layers.len(), 1);
    assert!(image.fs.lookup(b"srv/hello").is_some());
    assert!(app.prompt.active.is_none());

    // On the image list: the same key; `q` goes back to the list afterwards.
    let mut app = App::new(LoadOptions::default());
    let _ = app.start(Launch::List);
    let _ = app.update(Event::Msg(Msg::Images(Ok(vec![ImageRow {
        reference: "alpine:3".into(),
        id: "sha256:aaaa".into(),
        size: 7_000_000,
        created: 0,
        pick: None,
    }]))));
    assert_eq!(app.screen, Screen::Images);
    assert!(app
        .key_bar()
        .iter()
        .any(|(k, l)| k == "o" && *l == "Open reference"));
    keys(&mut app, "o");
    keys(&mut app, &typed);
    let cmds = app.update(Event::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    match cmds.as_slice() {
        [Command::Load {
            target: Target::Reference(r),
            ..
        }] => assert_eq!(r, &typed),
        other => panic!("{other:?}"),
    }
    worker::settle(&mut app, cmds);
    assert_eq!(app.screen, Screen::Explorer);
    assert!(app
        .image
        .as_ref()
        .unwrap()
        .fs
        .lookup(b"srv/hello")
        .is_some());
    keys(&mut app, "q");
    assert_eq!(app.screen, Screen::Images);
    assert!(!app.quit);
}

#[test]
fn an_archive_of_several_images_opens_as_a_list_and_enter_opens_the_one_chosen() {
    use common::fixture::{multi_image, numbered_specs};
    let dir = tempfile::tempdir().unwrap();
    for layout in [Layout::DockerLegacy, Layout::OciDir] {
        let path = dir.path().join(format!("three-{layout:?}"));
        let written = multi_image(&numbered_specs(3), layout, &path).unwrap();
        let reference = path.display().to_string();
        let mut app = App::new(LoadOptions::default());
        let cmds = app.start(Launch::Image(reference.clone()));
        worker::settle(&mut app, cmds);
        // Not an error and not the first image: the archive's images, in @N order.
        assert_eq!(app.screen, Screen::Images, "{layout:?}");
        assert_eq!(app.images.archive.as_deref(), Some(reference.as_str()));
        let names: Vec<&str> = app
            .images
            .rows
            .iter()
            .map(|r| r.reference.as_str())
            .collect();
        // docker save records repo tags; an OCI layout records ref.name annotations (the tag).
        let want = match layout {
            Layout::OciDir => ["1", "2", "3"],
            _ => ["example/app:1", "example/app:2", "example/app:3"],
        };
        assert_eq!(names, want, "{layout:?}");
        let ids: Vec<&str> = app.images.rows.iter().map(|r| r.id.as_str()).collect();
        let digests: Vec<&str> = written.iter().map(|w| w.config_digest.as_str()).collect();
        assert_eq!(ids, digests, "{layout:?}: image IDs listed");
        let screen = draw(&mut app).backend().to_string();
        assert!(screen.contains("Images in "), "{screen}");
        assert!(screen.contains(want[2]), "{screen}");
        // The second image, chosen with j then Enter, is the one opened.
        keys(&mut app, "j");
        let cmds = app.update(Event::Key(KeyEvent::new(
            KeyCode::Enter,
            KeyModifiers::NONE,
        )));
        assert!(matches!(
            cmds.as_slice(),
            [Command::Load {
                target: Target::Pick(_, 1),
                ..
            }]
        ));
        worker::settle(&mut app, cmds);
        assert_eq!(app.load, LoadState::Done, "{layout:?}");
        let image = app.image.as_ref().unwrap();
        assert_eq!(
            image.id, written[1].config_digest,
            "{layout:?}: image 2 opened"
        );
        assert!(image.fs.lookup(b"srv/only-2").is_some());
        assert!(image.fs.lookup(b"srv/only-1").is_none());
        // Back returns to the archive's list, not the daemon's.
        press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
        assert_eq!(app.screen, Screen::Images);
        assert_eq!(app.images.rows.len(), 3);
    }
}
