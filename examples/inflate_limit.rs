//! The gzip decompression limit of an image archive: inflates every gzip layer blob to a
//! sink, layers in parallel on all cores, nothing else (no tar walk, no hashing). Prints the
//! wall time in seconds. Used by `scripts/bench.sh` as the floor strata is compared with.

use std::io::{self, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

fn main() -> io::Result<()> {
    let path = std::env::args()
        .nth(1)
        .expect("usage: inflate_limit ARCHIVE");
    let start = Instant::now();
    let mut archive = tar::Archive::new(std::fs::File::open(&path)?);
    let mut blobs = Vec::new();
    for entry in archive.entries()? {
        let mut e = entry?;
        let mut data = Vec::with_capacity(e.size() as usize);
        e.read_to_end(&mut data)?;
        if data.starts_with(&[0x1f, 0x8b]) {
            blobs.push(data);
        }
    }
    blobs.sort_by_key(|b| std::cmp::Reverse(b.len()));
    let read = start.elapsed().as_secs_f64();
    let inflate_start = Instant::now();
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(b) = blobs.get(i) else { break };
                let mut d = flate2::read::MultiGzDecoder::new(&b[..]);
                io::copy(&mut d, &mut io::sink()).expect("inflate");
            });
        }
    });
    let inflate = inflate_start.elapsed().as_secs_f64();
    println!("{:.3} {:.3}", read + inflate, inflate);
    Ok(())
}
