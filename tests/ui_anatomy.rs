//! The anatomy view drawn on ratatui's `TestBackend` (120x40) from real state built on the
//! built-in demo image: a snapshot of each view (documents, a document's JSON, raw layer
//! entries, reconstructed Dockerfile) and cell checks (colours, selection, redaction, the
//! explanation line off by default).

mod common;

use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};
use strata::source::LoadOptions;
use strata::ui::app::{App, Launch, Pane};
use strata::ui::state::anatomy::{doc_items, AnatomyView, DocItem, EntriesState};
use strata::ui::{highlight, worker};

use common::ui::{draw, find, keys, press};

fn demo_app() -> App {
    highlight::assets();
    let mut app = App::new(LoadOptions::default());
    let cmds = app.start(Launch::Demo);
    worker::settle(&mut app, cmds);
    draw(&mut app);
    app
}

fn row_text(buf: &Buffer, y: u16) -> String {
    (0..buf.area.width)
        .map(|x| buf[(x, y)].symbol().to_string())
        .collect()
}

/// The anatomy pane's text on rows `y..y + n`, joined by spaces (wrapped lines read as one).
fn pane_text(buf: &Buffer, y: u16, n: u16) -> String {
    (y..(y + n).min(buf.area.height))
        .map(|y| {
            let row = row_text(buf, y);
            let inside = row.split('┃').nth(1).unwrap_or("").trim().to_owned();
            inside
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn screen_text(buf: &Buffer) -> String {
    (0..buf.area.height)
        .map(|y| row_text(buf, y))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn documents_view_shows_the_chain_and_the_layers() {
    let mut app = demo_app();
    keys(&mut app, "T");
    assert_eq!(app.focus, Pane::Anatomy);
    let t = draw(&mut app);
    insta::assert_snapshot!("anatomy_documents", t.backend());
    let buf = t.backend().buffer();
    let image = app.image.clone().unwrap();
    // One row per document, descriptor, layer: the demo is a legacy archive (manifest.json,
    // config), so its layers are uncompressed: blob digest = diff_id.
    let (x, y) = find(buf, "manifest.json manifest.json").expect("manifest.json row");
    assert!(buf[(x, y)].modifier.contains(Modifier::BOLD));
    assert!(
        buf[(x, y)].modifier.contains(Modifier::REVERSED),
        "first row selected"
    );
    for (i, l) in image.layers.iter().enumerate() {
        let hex = &l.diff_id["sha256:".len().."sha256:".len() + 12];
        let row = format!("layer {i:<3} blob sha256:{hex}… ");
        let (_, y) = find(buf, &row).unwrap_or_else(|| panic!("{row}"));
        let text = pane_text(buf, y, 2);
        assert!(
            text.contains(&format!("(uncompressed) ⇒ tar  sha256:{hex}… ")),
            "blob = tar: {text}"
        );
    }
    assert!(find(buf, "rootfs.diff_ids[5] → sha256:").is_some());
    assert!(find(buf, "the blob is the layer as stored and downloaded").is_some());
    // The key bar lists the view's keys.
    let bar = row_text(buf, 38);
    for k in ["1 Documents", "2 Entries", "3 Dockerfile", "i Explain"] {
        assert!(bar.contains(k), "{bar}");
    }
}

#[test]
fn a_documents_json_is_one_enter_away_highlighted_and_redacted() {
    let mut app = demo_app();
    keys(&mut app, "T");
    let image = app.image.clone().unwrap();
    let config_row = doc_items(&image)
        .iter()
        .position(|i| matches!(i, DocItem::Document(d) if image.documents.chain[*d].kind == strata::model::documents::DocumentKind::Config))
        .unwrap();
    keys(&mut app, &"j".repeat(config_row));
    keys(&mut app, "\n");
    let t = draw(&mut app);
    insta::assert_snapshot!("anatomy_config_json", t.backend());
    let buf = t.backend().buffer();
    let text = screen_text(buf);
    assert!(text.contains("config blobs/sha256/"), "{text}");
    assert!(text.contains("\"API_TOKEN=demo…(redacted)\""), "{text}");
    assert!(!text.contains("7f3a9c2e5b8d1046"), "the ENV secret leaked");
    // Stored key order (the config starts with "architecture"), highlighted as JSON.
    let (x, y) = find(buf, "\"architecture\"").unwrap();
    assert_eq!(y, 4, "first line after the brace:\n{text}");
    assert_ne!(buf[(x + 1, y)].fg, Color::Reset, "JSON keys are coloured");
    // Esc closes the JSON, then the view.
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    assert!(app.anatomy.json.is_none() && app.anatomy.open);
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    assert!(!app.anatomy.open);
    assert_eq!(app.focus, Pane::Tree);
}

#[test]
fn raw_entries_view_lists_layer_4_as_stored_with_its_whiteouts_explained() {
    let mut app = demo_app();
    keys(&mut app, "T2");
    assert_eq!(app.anatomy.view, AnatomyView::Entries);
    keys(&mut app, "llll");
    assert_eq!(app.layers.selected, 4, "→ moves the layer selection");
    let t = draw(&mut app);
    insta::assert_snapshot!("anatomy_raw_entries_layer4", t.backend());
    let buf = t.backend().buffer();
    let EntriesState::Ready(listing) = &app.anatomy.entries else {
        panic!("layer 4 read: {:?}", app.anatomy.entries);
    };
    assert_eq!(listing.layer, 4);
    assert_eq!(
        listing.entries.len(),
        app.image.as_ref().unwrap().layers[4].entries
    );
    let (x, y) = find(buf, "root/.wh..ssh").expect("whiteout under its real name");
    assert_eq!(buf[(x, y)].fg, Color::Yellow, "special entries stand out");
    let below = pane_text(buf, y + 1, 3);
    assert!(
        below.contains(
            "↳ whiteout: this entry is how layer 4 deletes /root/.ssh: the directory's bytes stay in layer 3"
        ),
        "{below}"
    );
    let (x, y) = find(buf, "app/settings.yaml").unwrap();
    assert_eq!(buf[(x, y)].fg, Color::Reset, "an ordinary entry");
    assert!(!row_text(buf, y + 1).contains('↳'));
    // The opaque marker of layer 5, one layer up.
    keys(&mut app, "l");
    let t = draw(&mut app);
    let (_, y) = find(t.backend().buffer(), "var/www/html/.wh..wh..opq").unwrap();
    assert!(pane_text(t.backend().buffer(), y + 1, 3)
        .contains("opaque marker: this entry is how layer 5 hides what lower layers put in /var/www/html: those bytes stay in layer 1"));
}

#[test]
fn dockerfile_view_marks_empty_steps_and_masks_secrets() {
    let mut app = demo_app();
    keys(&mut app, "T3");
    let t = draw(&mut app);
    insta::assert_snapshot!("anatomy_dockerfile", t.backend());
    let buf = t.backend().buffer();
    let text = screen_text(buf);
    assert!(
        text.contains("ENV APP_HOME=/app API_TOKEN=demo…(redacted)"),
        "{text}"
    );
    assert!(!text.contains("7f3a9c2e5b8d1046"));
    let (x, y) = find(buf, "(empty)").unwrap();
    assert_eq!(buf[(x, y)].fg, Color::DarkGray);
    // Step 3 made layer 1, whose size is beside it.
    let image = app.image.clone().unwrap();
    let step = image.layers[1].history_index.unwrap();
    let size = strata::ui::text::bytes(image.layers[1].size_bytes);
    assert!(
        text.contains(&format!("{step:>3}   1 {size:>10}   RUN apt-get update")),
        "{text}"
    );
    assert!(find(buf, "note: the builder recorded a content hash").is_some());
}

#[test]
fn explanations_are_off_by_default_and_toggled_with_one_key() {
    let mut app = demo_app();
    keys(&mut app, "T");
    for view in AnatomyView::ALL {
        keys(&mut app, &(view.index() + 1).to_string());
        let first = view
            .explanation()
            .split_whitespace()
            .take(4)
            .collect::<Vec<_>>()
            .join(" ");
        let t = draw(&mut app);
        assert!(
            find(t.backend().buffer(), &first).is_none(),
            "{view:?}: off by default"
        );
        keys(&mut app, "i");
        let t = draw(&mut app);
        let (x, y) = find(t.backend().buffer(), &first).unwrap_or_else(|| panic!("{view:?}"));
        assert_eq!(t.backend().buffer()[(x, y)].fg, Color::Cyan);
        keys(&mut app, "i");
    }
}

#[test]
fn help_lists_the_anatomy_keys() {
    let lines = strata::ui::panes::help::lines(100);
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    assert!(text.contains("Anatomy view"), "{text}");
    assert!(text.contains("show/hide the anatomy view"), "{text}");
}

#[test]
fn opened_while_loading_it_lists_the_layer_and_sizes_once_the_files_are_read() {
    highlight::assets();
    let mut app = App::new(LoadOptions::default());
    let _ = app.update(strata::ui::app::Event::Resize(120, 40));
    let load = app.start(Launch::Demo);
    // T and 2 before the load finishes: nothing to read yet.
    for c in ['T', '2'] {
        let cmds = app.update(strata::ui::app::Event::Key(
            crossterm::event::KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE),
        ));
        assert!(cmds.is_empty(), "{cmds:?}");
    }
    worker::settle(&mut app, load);
    let image = app.image.clone().unwrap();
    let EntriesState::Ready(listing) = &app.anatomy.entries else {
        panic!("{:?}", app.anatomy.entries);
    };
    assert_eq!(
        (listing.layer, listing.entries.len()),
        (0, image.layers[0].entries)
    );
    let d = app.anatomy.dockerfile.clone().unwrap();
    for s in &d.steps {
        assert_eq!(s.size, s.layer.map(|l| image.layers[l].size_bytes));
    }
    assert!(d.steps.iter().any(|s| s.size.is_some_and(|b| b > 0)));
}
