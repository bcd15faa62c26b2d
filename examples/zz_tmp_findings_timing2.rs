use std::sync::Arc;
use std::time::Instant;
use strata::analysis::findings::{Ctx, FindingsConfig};
use strata::analysis::*;
use strata::source::{load_path, Input, LoadOptions, Progress};
fn main() {
    let p = std::env::args().nth(1).unwrap();
    let cfg = FindingsConfig::default();
    let mut opts = LoadOptions::default();
    opts.scan.inspector = Some(Arc::new(inspector::Inspector::new(&cfg)));
    let img = load_path(&Input::parse(&p), &opts, &Progress::default()).unwrap();
    let eff = efficiency::Efficiency::of(&img);
    for _ in 0..3 {
        let t = Instant::now();
        let ctx = Ctx::new(&img, &cfg);
        eprint!("ctx {:?} ", t.elapsed());
        let t = Instant::now();
        let inv = packages::inventory(&ctx);
        eprint!("pk {:?} ", t.elapsed());
        let t = Instant::now();
        let a = secrets::findings(&ctx);
        eprint!("secrets {:?} ({}) ", t.elapsed(), a.len());
        let t = Instant::now();
        let a = waste::findings(&ctx, &eff);
        eprint!("waste {:?} ({}) ", t.elapsed(), a.len());
        let t = Instant::now();
        let a = bloat::findings(&ctx, &inv);
        eprint!("bloat {:?} ({}) ", t.elapsed(), a.len());
        let t = Instant::now();
        let a = checks::findings(&ctx, &inv);
        eprintln!("checks {:?} ({})", t.elapsed(), a.len());
    }
    let t = Instant::now();
    let e = efficiency::Efficiency::of(&img);
    eprintln!("efficiency {:?} {}", t.elapsed(), e.reclaimable.len());
}
