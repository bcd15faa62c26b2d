use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use std::time::Instant;
fn main() {
    let words = ["server","listen","include","location","proxy","timeout","worker","error_log","return","import","def","class","value","config","enable","true","false","path","user","group","0755","/usr/lib","module","export"];
    let mut x: u64 = 88172645463325252;
    let mut v = Vec::new();
    while v.len() < 200_000_000 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; v.extend_from_slice(words[(x % 24) as usize].as_bytes()); v.push(if x % 8 == 0 { b'\n' } else { b' ' }); }
    let text = std::fs::read_to_string("assets/secret-rules.toml").unwrap();
    let rules: toml::Value = toml::from_str(&text).unwrap();
    let mut kws: Vec<String> = Vec::new();
    for r in rules["content"].as_array().unwrap() { for k in r["keywords"].as_array().unwrap() { let k = k.as_str().unwrap().to_ascii_lowercase(); if !kws.contains(&k) { kws.push(k); } } }
    println!("{} keywords", kws.len());
    for (name, kind, mk, ci) in [("default-ovl", None, MatchKind::Standard, true), ("dfa-ovl", Some(AhoCorasickKind::DFA), MatchKind::Standard, true), ("dfa-lf", Some(AhoCorasickKind::DFA), MatchKind::LeftmostFirst, true), ("dfa-std-cs", Some(AhoCorasickKind::DFA), MatchKind::Standard, false)] {
        let ac = AhoCorasick::builder().ascii_case_insensitive(ci).kind(kind).match_kind(mk).build(&kws).unwrap();
        let t = Instant::now();
        let n = if mk == MatchKind::Standard && name.ends_with("ovl") { ac.find_overlapping_iter(&v).count() } else { ac.find_iter(&v).count() };
        let el = t.elapsed();
        println!("{name}: {n} matches, {:.2} GB/s", v.len() as f64 / el.as_secs_f64() / 1e9);
    }
    // regex set of lowercase keywords via regex crate
    let re = regex::bytes::Regex::new(&format!("(?i){}", kws.iter().map(|k| regex::escape(k)).collect::<Vec<_>>().join("|"))).unwrap();
    let t = Instant::now(); let n = re.find_iter(&v).count(); println!("regex-ci: {n} {:.2} GB/s", v.len() as f64 / t.elapsed().as_secs_f64() / 1e9);
    let t = Instant::now(); let n = v.iter().filter(|&&b| b == b'_').count(); println!("count _: {n} {:.2} GB/s", v.len() as f64 / t.elapsed().as_secs_f64() / 1e9);
}
