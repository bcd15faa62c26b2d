//! Panes that can be longer than the screen (issue 13, edges 2 and 7): the "more" markers in
//! their frames, scrolling with the list keys once focused, Tab reaching every pane, and
//! wrapping that never breaks inside a digest or a word; long viewer titles keep the layer
//! and size and shorten the path from the left.

mod common;

use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;
use ratatui::Terminal;
use strata::source::LoadOptions;
use strata::ui::app::{App, Event, Launch, Pane};
use strata::ui::text::{wrap, wrap_ranges};
use strata::ui::{highlight, panes, worker};

use common::fixture::{write_image, EntrySpec, ImageSpec, LayerSpec, Layout};
use common::ui::{keys, press};

fn app_for(launch: Launch) -> App {
    highlight::assets();
    let mut app = App::new(LoadOptions::default());
    let cmds = app.start(launch);
    worker::settle(&mut app, cmds);
    app
}

/// Draws `app` on a `w`x`h` terminal (telling the app its size first).
fn draw_at(app: &mut App, w: u16, h: u16) -> Terminal<TestBackend> {
    let _ = app.update(Event::Resize(w, h));
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| panes::draw(f, app)).unwrap();
    t
}

/// Sends keys without redrawing at the default size.
fn type_keys(app: &mut App, script: &str) {
    for c in script.chars() {
        let code = match c {
            '\t' => KeyCode::Tab,
            c => KeyCode::Char(c),
        };
        let cmds = app.update(Event::Key(crossterm::event::KeyEvent::new(
            code,
            KeyModifiers::NONE,
        )));
        worker::settle(app, cmds);
    }
}

fn row(buf: &Buffer, y: u16, from: u16, to: u16) -> String {
    (from..to).map(|x| buf[(x, y)].symbol()).collect()
}

/// The image details pane's frame: (left, top, right, bottom) cell coordinates, found by its
/// title.
fn image_details_frame(buf: &Buffer) -> (u16, u16, u16, u16) {
    let (x, top) = common::ui::find(buf, "Image details").expect("image details title");
    let mut left = x;
    while !matches!(buf[(left, top)].symbol(), "┌" | "┏") {
        left -= 1;
    }
    let mut right = x;
    while !matches!(buf[(right, top)].symbol(), "┐" | "┓") {
        right += 1;
    }
    let mut bottom = top + 1;
    while !matches!(buf[(left, bottom)].symbol(), "└" | "┗") {
        bottom += 1;
    }
    (left, top, right, bottom)
}

/// The number in a "↓ N more" / "↑ N more" marker on row `y` between `from` and `to`.
fn marker(buf: &Buffer, y: u16, from: u16, to: u16, arrow: char) -> Option<usize> {
    let text = row(buf, y, from, to);
    let at = text.find(&format!("{arrow} "))?;
    let rest = &text[at + arrow.len_utf8() + 1..];
    let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
    assert!(rest[n.len()..].starts_with(" more"), "{text}");
    n.parse().ok()
}

#[test]
fn image_details_show_how_much_is_below_and_scroll_to_it_at_80x24() {
    let mut app = app_for(Launch::Demo);
    let t = draw_at(&mut app, 80, 24);
    insta::assert_snapshot!("image_details_more_80x24", t.backend());
    let buf = t.backend().buffer();
    let (left, top, right, bottom) = image_details_frame(buf);
    let below = marker(buf, bottom, left, right + 1, '↓').expect("a ↓ marker");
    assert!(below > 0);
    assert_eq!(
        marker(buf, top, left, right + 1, '↑'),
        None,
        "nothing above yet"
    );
    // The marker is dim, in the bottom border, right-aligned.
    let x = (left..=right)
        .find(|&x| buf[(x, bottom)].symbol() == "↓")
        .unwrap();
    assert_eq!(buf[(x, bottom)].fg, Color::DarkGray);
    assert!(x > (left + right) / 2, "right-aligned");
    // Tab reaches the pane (layers, tree, layer details, image details).
    type_keys(&mut app, "\t");
    assert_eq!(app.focus, Pane::Tree);
    type_keys(&mut app, "\t");
    assert_eq!(app.focus, Pane::LayerDetails);
    type_keys(&mut app, "\t");
    assert_eq!(app.focus, Pane::ImageDetails);
    // Each `j` shows one more row: after N of them nothing is below and N rows are above.
    for step in 1..=below {
        type_keys(&mut app, "j");
        let t = draw_at(&mut app, 80, 24);
        let buf = t.backend().buffer();
        assert_eq!(
            marker(buf, bottom, left, right + 1, '↓'),
            (step < below).then_some(below - step),
            "after {step} j"
        );
        assert_eq!(marker(buf, top, left, right + 1, '↑'), Some(step));
    }
    // Further `j` change nothing; `g` goes back to the top, `G` to the end.
    type_keys(&mut app, "jj");
    let t = draw_at(&mut app, 80, 24);
    let end = t.backend().to_string();
    assert_eq!(
        marker(t.backend().buffer(), top, left, right + 1, '↑'),
        Some(below)
    );
    insta::assert_snapshot!("image_details_end_80x24", t.backend());
    type_keys(&mut app, "g");
    let t = draw_at(&mut app, 80, 24);
    assert_eq!(
        marker(t.backend().buffer(), top, left, right + 1, '↑'),
        None
    );
    type_keys(&mut app, "G");
    assert_eq!(draw_at(&mut app, 80, 24).backend().to_string(), end);
    // At the end the pane's last row is filled: no blank rows after the text.
    let t = draw_at(&mut app, 80, 24);
    let last = row(t.backend().buffer(), bottom - 1, left + 1, right);
    assert!(!last.trim().is_empty(), "{end}");
}

#[test]
fn tab_and_shift_tab_reach_every_pane_in_turn() {
    let mut app = app_for(Launch::Demo);
    draw_at(&mut app, 120, 40);
    let mut seen = vec![app.focus];
    for _ in 0..4 {
        type_keys(&mut app, "\t");
        seen.push(app.focus);
    }
    assert_eq!(
        seen,
        [
            Pane::Layers,
            Pane::Tree,
            Pane::LayerDetails,
            Pane::ImageDetails,
            Pane::Layers
        ]
    );
    let mut back = Vec::new();
    for _ in 0..4 {
        press(&mut app, KeyCode::BackTab, KeyModifiers::SHIFT);
        back.push(app.focus);
    }
    assert_eq!(
        back,
        [
            Pane::ImageDetails,
            Pane::LayerDetails,
            Pane::Tree,
            Pane::Layers
        ]
    );
    // h/l still walk the left column.
    keys(&mut app, "l");
    assert_eq!(app.focus, Pane::LayerDetails);
    keys(&mut app, "l");
    assert_eq!(app.focus, Pane::ImageDetails);
}

#[test]
fn help_overlay_marks_the_bindings_below_and_scrolls_to_the_end() {
    let mut app = app_for(Launch::Demo);
    type_keys(&mut app, "?");
    let t = draw_at(&mut app, 80, 24);
    let buf = t.backend().buffer();
    let bottom = 22; // the overlay ends one row above the key bar and status line
    let below = marker(buf, bottom, 0, 80, '↓').expect("↓ marker on the overlay");
    type_keys(&mut app, "G");
    let t = draw_at(&mut app, 80, 24);
    let buf = t.backend().buffer();
    assert_eq!(marker(buf, bottom, 0, 80, '↓'), None);
    assert_eq!(marker(buf, 1, 0, 80, '↑'), Some(below));
}

#[test]
fn findings_details_scroll_after_tab_with_their_markers() {
    let mut app = app_for(Launch::Demo);
    type_keys(&mut app, "F");
    let t = draw_at(&mut app, 80, 24);
    let text = t.backend().to_string();
    assert!(text.contains("Details (Tab scrolls)"), "{text}");
    let buf = t.backend().buffer();
    let bottom = 21; // the right pane's bottom border (main area of 22 rows)
    let below = marker(buf, bottom, 40, 80, '↓').expect("details longer than their area");
    type_keys(&mut app, "\t");
    assert!(app.findings.details_focus);
    let selected = app.findings.selected;
    type_keys(&mut app, "j");
    assert_eq!(app.findings.selected, selected, "j scrolls the details");
    let t = draw_at(&mut app, 80, 24);
    let buf = t.backend().buffer();
    assert_eq!(
        marker(buf, bottom, 40, 80, '↓'),
        (below > 1).then_some(below - 1)
    );
    let sep = (0..24)
        .find(|&y| row(buf, y, 33, 80).contains("Details (Tab leaves)"))
        .expect("separator");
    assert_eq!(marker(buf, sep, 33, 80, '↑'), Some(1));
}

#[test]
fn layer_details_wrap_at_spaces_and_never_inside_a_digest() {
    let mut app = app_for(Launch::Demo);
    let t = draw_at(&mut app, 120, 40);
    let buf = t.backend().buffer();
    let (_, start) = common::ui::find(buf, "Layer details").unwrap();
    // The pane's inside: columns 1..49 of the rows below its title.
    let pane: Vec<String> = (start + 1..start + 8).map(|y| row(buf, y, 1, 49)).collect();
    let digest = &app.image.as_ref().unwrap().layers[0].diff_id;
    let hex = digest.strip_prefix("sha256:").unwrap();
    // The digest is on one row: whole, or its start with `…`; no row starts inside it.
    let at = pane
        .iter()
        .find(|r| r.contains("sha256:"))
        .expect("digest row");
    let shown = at.trim().trim_start_matches("Digest:").trim();
    let shown = shown.trim_end_matches('…');
    assert!(digest.starts_with(shown) && shown.len() > 20, "{pane:#?}");
    for r in &pane {
        let t = r.trim();
        assert!(
            t.len() < 8 || !hex.contains(&t[..8]) || t.starts_with("sha256:"),
            "a row continues a digest: {pane:#?}"
        );
    }
}

#[test]
fn wrapping_breaks_at_spaces_and_slashes_only() {
    let digest = format!("sha256:{}", "0123456789abcdef".repeat(4));
    // A digest wider than the row: alone on its row, shortened by the caller, never split.
    let text = format!("Digest: {digest} (gzip, 1.2 MiB)");
    let rows: Vec<&str> = wrap_ranges(&text, 40, 40)
        .into_iter()
        .map(|r| &text[r])
        .collect();
    assert_eq!(rows, ["Digest:", digest.as_str(), "(gzip, 1.2 MiB)"]);
    let shown = wrap(&text, 40);
    assert_eq!(shown[1].chars().count(), 40);
    assert!(shown[1].ends_with('…') && digest.starts_with(shown[1].trim_end_matches('…')));
    // A long path: whole words move down; a word wider than a row breaks after a `/`.
    let path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    let rows = wrap(&format!("Env: {path} next"), 30);
    assert_eq!(
        rows,
        [
            "Env: PATH=/usr/local/sbin:/",
            "usr/local/bin:/usr/sbin:/usr/",
            "bin:/sbin:/bin next"
        ]
    );
    assert!(rows.iter().all(|r| r.chars().count() <= 30));
    // Words are never split to fill a row.
    assert_eq!(
        wrap("alpha beta gamma-delta-epsilon", 20),
        ["alpha beta", "gamma-delta-epsilon"]
    );
    // Runs of spaces inside a row count as they are.
    assert_eq!(
        wrap_ranges("Layer 0 of 6  40.4 KiB  +1 files", 31, 31)
            .into_iter()
            .map(|r| &"Layer 0 of 6  40.4 KiB  +1 files"[r])
            .collect::<Vec<_>>(),
        ["Layer 0 of 6  40.4 KiB  +1", "files"]
    );
}

#[test]
fn long_viewer_titles_keep_layer_and_size_and_shorten_the_path_from_the_left() {
    let dir = tempfile::tempdir().unwrap();
    let deep = "etc/nginx/very/long/directory/names/that/go/on/and/on/conf.d/x.conf";
    let spec = ImageSpec::new(vec![LayerSpec::new(
        "COPY conf",
        vec![EntrySpec::file(deep, b"server { listen 80; }\n", 0o644)],
    )]);
    let archive = dir.path().join("img.tar");
    write_image(&spec, Layout::DockerLegacy, &archive).unwrap();
    let mut app = app_for(Launch::Image(archive.display().to_string()));
    type_keys(&mut app, "\t");
    keys(&mut app, "/x.conf\n");
    keys(&mut app, "G\n");
    assert!(app.viewer.open.is_some(), "viewer open");
    let t = draw_at(&mut app, 100, 30);
    let text = t.backend().to_string();
    let title = text.lines().next().unwrap();
    assert!(title.contains("…/"), "{title}");
    assert!(title.contains("/conf.d/x.conf · layer 0 · 22 B"), "{title}");
    assert!(!title.contains("etc/nginx/very"), "{title}");
    // The shortening starts at a component: right after `…` comes a `/`.
    assert!(title.contains("…/"), "{title}");
}
