use aho_corasick::packed;
use std::time::Instant;
fn main() {
    let words = ["server","listen","include","location","proxy","timeout","worker","error_log","return","import","def","class","value","config","enable","true","false","path","user","group","0755","/usr/lib","module","export"];
    let mut x: u64 = 88172645463325252;
    let mut v = Vec::new();
    while v.len() < 100_000_000 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; v.extend_from_slice(words[(x % 24) as usize].as_bytes()); v.push(if x % 8 == 0 { b'\n' } else { b' ' }); }
    // a real-ish text corpus: the rust sources in ~/.cargo registry
    let mut real = Vec::new();
    for e in std::fs::read_dir(std::env::var("HOME").unwrap() + "/.cargo/registry/src").unwrap() { let d = e.unwrap().path(); for c in std::fs::read_dir(&d).unwrap().take(400) { let c = c.unwrap().path(); for f in ["src/lib.rs", "README.md", "Cargo.toml", "src/main.rs"] { if let Ok(b) = std::fs::read(c.join(f)) { real.extend(b); } } } }
    let text = std::fs::read_to_string("assets/secret-rules.toml").unwrap();
    let rules: toml::Value = toml::from_str(&text).unwrap();
    let mut kws: Vec<String> = vec![];
    for r in rules["content"].as_array().unwrap() { if let Some(a) = r.get("keywords") { for k in a.as_array().unwrap() { let k = k.as_str().unwrap().to_owned(); if !kws.contains(&k) { kws.push(k); } } } }
    let kept: Vec<String> = kws.iter().filter(|k| !kws.iter().any(|o| o != *k && k.contains(o.as_str()))).cloned().collect();
    let mut kept = kept; kept.sort_by_key(|k| std::cmp::Reverse(k.len()));
    println!("{} keywords, real corpus {} MB", kept.len(), real.len() / 1000000);
    for (name, hay) in [("bench", &v), ("real", &real)] {
        let mut total = 0.0;
        for g in kept.chunks(8) {
            let p = packed::Config::new().match_kind(packed::MatchKind::LeftmostFirst).builder().extend(g.iter()).build().unwrap();
            let t = Instant::now(); let c = p.find_iter(hay).count();
            let s = t.elapsed().as_secs_f64(); total += s;
            println!("  {:?}: {c} {:.2} GB/s", g, hay.len() as f64 / 1e9 / s);
        }
        println!("{name}: aggregate {:.2} GB/s", hay.len() as f64 / 1e9 / total);
    }
}
