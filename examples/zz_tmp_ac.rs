use std::time::Instant;
fn main() {
    let words = ["server","listen","include","location","proxy","timeout","worker","error_log","return","import","def","class","value","config","enable","true","false","path","user","group","0755","/usr/lib","module","export"];
    let mut x: u64 = 88172645463325252;
    let mut v = Vec::new();
    while v.len() < 100_000_000 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; v.extend_from_slice(words[(x % 24) as usize].as_bytes()); v.push(if x % 8 == 0 { b'\n' } else { b' ' }); }
    let chunks: Vec<&[u8]> = v.chunks(3000).collect();
    let t = Instant::now(); let n = chunks.iter().filter(|c| c[..c.len().min(8192)].contains(&0)).count(); println!("contains: {n} {:.2} GB/s", 0.1 / t.elapsed().as_secs_f64());
    let ac = aho_corasick::AhoCorasick::new(["\0"]).unwrap();
    let t = Instant::now(); let n = chunks.iter().filter(|c| ac.is_match(&c[..c.len().min(8192)])).count(); println!("ac: {n} {:.2} GB/s", 0.1 / t.elapsed().as_secs_f64());
    let re = regex::bytes::Regex::new(r"\x00").unwrap();
    let t = Instant::now(); let n = chunks.iter().filter(|c| re.is_match(&c[..c.len().min(8192)])).count(); println!("regex: {n} {:.2} GB/s", 0.1 / t.elapsed().as_secs_f64());
    let t = Instant::now(); let n = chunks.iter().filter(|c| c[..c.len().min(8192)].iter().fold(false, |a, &b| a | (b == 0))).count(); println!("fold: {n} {:.2} GB/s", 0.1 / t.elapsed().as_secs_f64());
    let t = Instant::now(); let n = chunks.iter().filter(|c| c[..c.len().min(8192)].chunks(64).any(|w| w.iter().fold(false, |a, &b| a | (b == 0)))).count(); println!("fold64: {n} {:.2} GB/s", 0.1 / t.elapsed().as_secs_f64());
}
