use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;
use strata::analysis::findings::FindingsConfig;
use strata::analysis::inspector::Inspector;
use strata::source::layer::{ContentInspector, Inspection};
use strata::source::{load_path, Input, LoadOptions, Progress};

struct Probe {
    mode: u8,
    inner: Inspector,
    bytes: AtomicU64,
    files: AtomicU64,
    text: AtomicU64,
}
impl ContentInspector for Probe {
    fn wants(&self, path: &[u8], size: u64) -> bool {
        match self.mode {
            0 => size >= 16 && size <= 2 << 20,
            _ => self.inner.wants(path, size),
        }
    }
    fn inspect(&self, path: &[u8], c: &[u8]) -> Inspection {
        self.bytes.fetch_add(c.len() as u64, Relaxed);
        self.files.fetch_add(1, Relaxed);
        if !c[..c.len().min(8192)].contains(&0) {
            self.text.fetch_add(c.len() as u64, Relaxed);
        }
        match self.mode {
            0 | 1 => Inspection::default(),
            _ => self.inner.inspect(path, c),
        }
    }
}
fn main() {
    let p = std::env::args().nth(1).unwrap();
    let cfg = FindingsConfig::default();
    for mode in [9u8, 0, 1, 2, 9, 0, 1, 2] {
        let mut opts = LoadOptions::default();
        let probe = Arc::new(Probe {
            mode,
            inner: Inspector::new(&cfg),
            bytes: 0.into(),
            files: 0.into(),
            text: 0.into(),
        });
        if mode != 9 {
            opts.scan.inspector = Some(probe.clone());
        }
        let t = Instant::now();
        let _img = load_path(&Input::parse(&p), &opts, &Progress::default()).unwrap();
        eprintln!(
            "mode={mode} load={:?} files={} bytes={} text={}",
            t.elapsed(),
            probe.files.load(Relaxed),
            probe.bytes.load(Relaxed),
            probe.text.load(Relaxed)
        );
    }
}
