//! Times a daemon load (used by scripts/bench-daemon.sh, not a test): prints seconds to the
//! layer list (Metadata event), to the first export byte, and to the finished image, plus the
//! bytes received.
//!
//! `cargo run --release --example daemon_timing -- IMAGE`

use std::sync::{Arc, Mutex};
use std::time::Instant;

use strata::source::daemon;
use strata::source::{LoadOptions, Progress, ProgressEvent};

/// Seconds to the Metadata event, to the first export byte, and the layer count.
type Marks = (Option<f64>, Option<f64>, usize);

fn main() -> std::process::ExitCode {
    let Some(reference) = std::env::args().nth(1) else {
        eprintln!("usage: daemon_timing IMAGE");
        return std::process::ExitCode::from(2);
    };
    let start = Instant::now();
    let marks: Arc<Mutex<Marks>> = Arc::default();
    let sink = marks.clone();
    let progress = Progress::new(move |e| {
        let t = start.elapsed().as_secs_f64();
        let Ok(mut m) = sink.lock() else { return };
        match e {
            ProgressEvent::Metadata(img) => {
                m.0.get_or_insert(t);
                m.2 = img.layers.len();
            }
            ProgressEvent::Phase(p) if p.starts_with("reading") => {
                m.1.get_or_insert(t);
            }
            _ => {}
        }
    });
    match daemon::load(&reference, &LoadOptions::default(), &progress) {
        Ok(image) => {
            let total = start.elapsed().as_secs_f64();
            let (meta, first, layers) = marks.lock().map(|m| *m).unwrap_or_default();
            let tar: u64 = image.layers.iter().map(|l| l.tar_bytes).sum();
            println!(
                "metadata_s={:.3} layers={layers} first_byte_s={:.3} total_s={total:.3} layer_bytes={tar} mb_per_s={:.0}",
                meta.unwrap_or(f64::NAN),
                first.unwrap_or(f64::NAN),
                tar as f64 / 1e6 / total
            );
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("daemon_timing: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
