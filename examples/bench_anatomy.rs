//! Times the explorer's layer switch and the anatomy view on a large image (a benchmark, not a
//! test): the explorer state is driven as the terminal drives it (key → update → worker →
//! draw on a 200x60 `TestBackend`).
//!
//! `cargo run --release --example bench_anatomy -- IMAGE.tar` (e.g. `target/bench/bench-plain.tar`
//! from `bench_image`) prints, for every layer switch (down then up through all layers):
//! the render-thread update, the worker's tree view, the redraw, with the anatomy view closed,
//! on its documents view and on its Dockerfile view; then the raw-entry listing of the layer
//! with the most entries: one read (time, entries, memory kept), every page of it drawn, and
//! the number of layer reads the paging and a return to that layer caused (0 expected).

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use strata::source::LoadOptions;
use strata::ui::app::{App, Command, Event, Launch};
use strata::ui::state::anatomy::EntriesState;
use strata::ui::{highlight, panes, worker};

const W: u16 = 200;
const H: u16 = 60;

struct Timing {
    update: Duration,
    worker: Duration,
    draw: Duration,
    reads: usize,
}

fn draw(app: &App) -> Duration {
    let mut t = Terminal::new(TestBackend::new(W, H)).expect("terminal");
    let start = Instant::now();
    t.draw(|f| panes::draw(f, app)).expect("draw");
    start.elapsed()
}

fn press(app: &mut App, code: KeyCode) -> Timing {
    let start = Instant::now();
    let cmds = app.update(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    let update = start.elapsed();
    let reads = cmds
        .iter()
        .filter(|c| matches!(c, Command::RawEntries { .. }))
        .count();
    let start = Instant::now();
    worker::settle(app, cmds);
    let worker = start.elapsed();
    let draw = draw(app);
    Timing {
        update,
        worker,
        draw,
        reads,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn summary(label: &str, t: &[Timing]) {
    let mut render: Vec<f64> = t.iter().map(|t| ms(t.update + t.draw)).collect();
    let mut full: Vec<f64> = t.iter().map(|t| ms(t.update + t.worker + t.draw)).collect();
    render.sort_by(f64::total_cmp);
    full.sort_by(f64::total_cmp);
    let med = |v: &[f64]| v.get(v.len() / 2).copied().unwrap_or(0.0);
    let max = |v: &[f64]| v.last().copied().unwrap_or(0.0);
    println!(
        "{label:<40} n={:<4} update+redraw median {:>7.2} ms max {:>7.2} ms | with worker median {:>7.2} ms max {:>7.2} ms",
        t.len(),
        med(&render),
        max(&render),
        med(&full),
        max(&full)
    );
}

fn switch_all(app: &mut App) -> Vec<Timing> {
    let n = app.image.as_ref().map_or(0, |i| i.layers.len());
    let mut out = Vec::new();
    for _ in 1..n {
        out.push(press(app, KeyCode::Char('j')));
    }
    for _ in 1..n {
        out.push(press(app, KeyCode::Char('k')));
    }
    out
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: bench_anatomy IMAGE.tar");
    highlight::assets();
    let mut app = App::new(LoadOptions::default());
    let _ = app.update(Event::Resize(W, H));
    let start = Instant::now();
    let cmds = app.start(Launch::Image(path.clone()));
    worker::settle(&mut app, cmds);
    let image = app.image.clone().expect("image loaded");
    let entries: usize = image.layers.iter().map(|l| l.entries).sum();
    println!(
        "{path}: {} layers, {entries} entries, loaded and analysed in {:.1} s",
        image.layers.len(),
        start.elapsed().as_secs_f64()
    );
    draw(&app);
    summary("layer switch, tree", &switch_all(&mut app));
    press(&mut app, KeyCode::Char('T'));
    press(&mut app, KeyCode::Tab);
    summary("layer switch, anatomy documents", &switch_all(&mut app));
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Char('3'));
    press(&mut app, KeyCode::Tab);
    summary("layer switch, anatomy Dockerfile", &switch_all(&mut app));

    // The raw listing of the largest layer: one read, then every page.
    let (big, big_entries) = image
        .layers
        .iter()
        .map(|l| (l.index, l.entries))
        .max_by_key(|x| x.1)
        .expect("a layer");
    app.select_layer(big);
    press(&mut app, KeyCode::Tab);
    let t = press(&mut app, KeyCode::Char('2'));
    let EntriesState::Ready(listing) = &app.anatomy.entries else {
        panic!("layer {big} not listed: {:?}", app.anatomy.entries);
    };
    let listed = listing.entries.len();
    let memory = listing.memory_bytes();
    println!(
        "raw listing of layer {big} ({big_entries} entries in the model): {listed} tar entries read once in {:.1} ms ({} read), {:.1} MiB kept ({:.0} bytes/entry)",
        ms(t.worker),
        t.reads,
        memory as f64 / f64::from(1 << 20),
        memory as f64 / listed.max(1) as f64
    );
    let mut pages = Vec::new();
    let mut reads = 0;
    while app.anatomy.selected[1] + 1 < listed {
        let t = press(&mut app, KeyCode::PageDown);
        reads += t.reads;
        pages.push(t);
    }
    summary("raw entries, page down to the end", &pages);
    let back = press(&mut app, KeyCode::Char('g'));
    reads += back.reads;
    press(&mut app, KeyCode::Tab);
    let away = press(&mut app, KeyCode::Char(if big > 0 { 'k' } else { 'j' }));
    let returned = press(&mut app, KeyCode::Char(if big > 0 { 'j' } else { 'k' }));
    println!(
        "layer reads while paging: {reads}; leaving the layer: {} read ({:.1} ms); coming back: {} reads ({:.2} ms update+redraw)",
        away.reads,
        ms(away.worker),
        returned.reads,
        ms(returned.update + returned.draw)
    );
}
