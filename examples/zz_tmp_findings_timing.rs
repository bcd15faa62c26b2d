use std::sync::Arc;
use std::time::Instant;
use strata::analysis::efficiency::Efficiency;
use strata::analysis::findings::{analyze, FindingsConfig};
use strata::analysis::inspector::Inspector;
use strata::source::{load_path, Input, LoadOptions, Progress};
fn main() {
    let p = std::env::args().nth(1).unwrap();
    let cfg = FindingsConfig::default();
    for with in [false, true, false, true] {
        let mut opts = LoadOptions::default();
        if with { opts.scan.inspector = Some(Arc::new(Inspector::new(&cfg))); }
        let t = Instant::now();
        let img = load_path(&Input::parse(&p), &opts, &Progress::default()).unwrap();
        let t_load = t.elapsed();
        let eff = Efficiency::of(&img);
        let t2 = Instant::now();
        let (f, pk) = analyze(&img, &eff, &cfg);
        eprintln!("inspector={with} load={t_load:?} analyze={:?} findings={} packages={} matches={} versions={}", t2.elapsed(), f.len(), pk.len(), img.content_matches.len(), img.fs.versions.len());
    }
}
