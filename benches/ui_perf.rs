//! Timing of the explorer's per-keystroke work (a measurement, not a gate): building a layer
//! view, filtering, flattening and drawing a frame, on a large image and on a synthetic
//! 500k-path tree. Run
//!   cargo bench --bench ui_perf
//! with `STRATA_PERF_IMAGE=PATH` (default `target/bench/bench-plain.tar`, made by
//! `scripts/bench.sh`; without it only the synthetic tree is measured).

use std::sync::Arc;
use std::time::Instant;

use ratatui::backend::TestBackend;
use ratatui::Terminal;
use strata::source::LoadOptions;
use strata::ui::app::{App, Launch};
use strata::ui::filetree::{LayerView, Mode, TreeIndex, TreeState};
use strata::ui::{panes, worker};

fn main() {
    per_keystroke_costs_on_a_large_tree();
    per_keystroke_costs_on_a_500k_path_tree();
}

fn per_keystroke_costs_on_a_large_tree() {
    let path = std::env::var("STRATA_PERF_IMAGE").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/target/bench/bench-plain.tar").to_string()
    });
    if !std::path::Path::new(&path).exists() {
        eprintln!("{path} not found (run scripts/bench.sh once): large-image timing not measured");
        return;
    }
    let t = Instant::now();
    let mut app = App::new(LoadOptions::default());
    let cmds = app.start(Launch::Image(path.clone()));
    worker::settle(&mut app, cmds);
    let load = t.elapsed();
    let image = app.tree.state.as_ref().unwrap().image.clone();
    let fs = &image.fs;
    println!(
        "image: {} paths, {} versions, {} layers; load+analysis {:.2?}",
        fs.path_count(),
        fs.versions.len(),
        image.layers.len(),
        load
    );
    let t = Instant::now();
    let index = Arc::new(TreeIndex::build(fs));
    println!(
        "tree index (sorted children, once per image): {:.2?}",
        t.elapsed()
    );
    let last = image.layers.len() - 1;
    let so_files = regex::bytes::Regex::new("lib/.*\\.so").unwrap();
    for (layer, mode) in [
        (0, Mode::PerLayer),
        (last, Mode::PerLayer),
        (last, Mode::Aggregated),
    ] {
        let t = Instant::now();
        let view = Arc::new(LayerView::build(fs, layer, mode));
        let tv = t.elapsed();
        let t = Instant::now();
        let mut tree = TreeState::new(image.clone(), index.clone(), view);
        let tr = t.elapsed();
        let rows = tree.rows.len();
        let t = Instant::now();
        tree.filter.pattern = Some(so_files.clone());
        tree.refilter();
        let tf = t.elapsed();
        println!(
            "layer {layer} {mode:?}: view {tv:.2?}, filter+flatten {tr:.2?} ({rows} rows), regex filter {tf:.2?} ({} rows)",
            tree.rows.len()
        );
    }
    // A layer change as the user does it, and a frame.
    let mut term = Terminal::new(TestBackend::new(200, 60)).unwrap();
    for layer in [1, 2, last] {
        let t = Instant::now();
        let cmds = app.select_layer(layer);
        worker::settle(&mut app, cmds);
        term.draw(|f| panes::draw(f, &app)).unwrap();
        println!("select layer {layer} + draw: {:.2?}", t.elapsed());
    }
    app.focus = strata::ui::app::Pane::Tree;
    let t = Instant::now();
    for _ in 0..100 {
        let _ = app.act(strata::ui::keymap::Action::Down);
        term.draw(|f| panes::draw(f, &app)).unwrap();
    }
    println!("tree: 100 x (move + draw): {:.2?}", t.elapsed());
}

fn entry(
    path: &str,
    kind: strata::model::EntryKind,
    size: u64,
    hash: u64,
) -> strata::model::fs::Entry {
    strata::model::fs::Entry {
        path: path.as_bytes().into(),
        kind,
        link: None,
        size,
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtime: 0,
        hash,
        offset: 0,
        device: None,
        caps: None,
    }
}

/// The same measurements on a synthetic 500k-path filesystem built in memory (three layers:
/// 400k files, 100k more plus 50k rewrites, then a whiteout of a 20k-file directory).
fn per_keystroke_costs_on_a_500k_path_tree() {
    use strata::model::fs::{FileSystem, LayerEntries, Marker};
    use strata::model::EntryKind;
    let mut layers = Vec::new();
    let mut l0 = LayerEntries::default();
    for d in 0..400 {
        l0.entries
            .push(entry(&format!("usr/d{d:03}"), EntryKind::Dir, 0, 0));
        for f in 0..1000 {
            l0.entries.push(entry(
                &format!("usr/d{d:03}/f{f:04}.so"),
                EntryKind::File,
                1000 + f,
                f,
            ));
        }
    }
    layers.push(l0);
    let mut l1 = LayerEntries::default();
    for d in 0..100 {
        for f in 0..1000 {
            l1.entries.push(entry(
                &format!("opt/d{d:03}/f{f:04}"),
                EntryKind::File,
                500,
                f,
            ));
        }
    }
    for d in 0..50 {
        for f in 0..1000 {
            l1.entries.push(entry(
                &format!("usr/d{d:03}/f{f:04}.so"),
                EntryKind::File,
                7,
                1,
            ));
        }
    }
    layers.push(l1);
    let mut l2 = LayerEntries::default();
    for d in 0..20 {
        l2.markers
            .push(Marker::Whiteout(format!("usr/d{d:03}").into_bytes().into()));
    }
    layers.push(l2);
    let t = Instant::now();
    let fs = FileSystem::build(layers);
    println!(
        "synthetic fs: {} paths, built in {:.2?}",
        fs.path_count(),
        t.elapsed()
    );
    let mut image =
        strata::source::demo::load(&LoadOptions::default(), &Default::default()).unwrap();
    image.layers.truncate(3);
    image.fs = fs;
    let image = Arc::new(image);
    let t = Instant::now();
    let index = Arc::new(TreeIndex::build(&image.fs));
    println!("tree index: {:.2?}", t.elapsed());
    for (layer, mode) in [
        (0, Mode::PerLayer),
        (2, Mode::PerLayer),
        (2, Mode::Aggregated),
    ] {
        let t = Instant::now();
        let view = Arc::new(LayerView::build(&image.fs, layer, mode));
        let tv = t.elapsed();
        let t = Instant::now();
        let mut tree = TreeState::new(image.clone(), index.clone(), view);
        let tr = t.elapsed();
        let t = Instant::now();
        tree.selected = (250_000..tree.rows.len())
            .find(|&i| tree.rows[i].has_children)
            .unwrap();
        tree.toggle_selected();
        let tc = t.elapsed();
        println!(
            "layer {layer} {mode:?}: view {tv:.2?}, filter+flatten {tr:.2?} ({} rows), collapse one {tc:.2?}",
            tree.rows.len()
        );
    }
}
