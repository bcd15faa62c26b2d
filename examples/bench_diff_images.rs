//! Writes the `strata diff` benchmark pair: two ~650 MB images that share a ~190 MB base layer
//! and each add ~450 MB of their own (B rewrites half of A's paths with other content, adds
//! others, and overwrites some base files).
//!
//! `cargo run --release --example bench_diff_images -- OUT_DIR` writes
//! `OUT_DIR/diff-a-plain.tar`, `diff-b-plain.tar` (Docker <= 24 `docker save` layout,
//! uncompressed layers) and `diff-a-gzip.tar`, `diff-b-gzip.tar` (OCI blobs, gzip layers,
//! manifest.json) of the same two images.

use std::path::PathBuf;

#[path = "support/archive_writer.rs"]
mod archive_writer;

use archive_writer::{write_gzip, write_plain, Rng};

/// Half-compressible content: random words interleaved with zero runs.
fn content(rng: &mut Rng, size: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(size + 8);
    while v.len() < size {
        let x = rng.next();
        if x % 4 == 0 {
            v.extend_from_slice(&[0u8; 8]);
        } else {
            v.extend_from_slice(&x.to_le_bytes());
        }
    }
    v.truncate(size);
    v
}

/// A layer tar of directories and files (mtime fixed, mode 0644/0755).
struct LayerTar(tar::Builder<Vec<u8>>);

impl LayerTar {
    fn new() -> Self {
        let mut b = tar::Builder::new(Vec::new());
        b.mode(tar::HeaderMode::Deterministic);
        Self(b)
    }

    fn dir(&mut self, p: &str) {
        let mut h = tar::Header::new_ustar();
        h.set_mtime(1_700_000_000);
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o755);
        h.set_size(0);
        self.0
            .append_data(&mut h, format!("{p}/"), &[][..])
            .expect("dir");
    }

    fn file(&mut self, p: &str, data: &[u8]) {
        let mut h = tar::Header::new_ustar();
        h.set_mtime(1_700_000_000);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        self.0.append_data(&mut h, p, data).expect("file");
    }

    fn finish(self) -> Vec<u8> {
        self.0.into_inner().expect("tar")
    }
}

/// The shared base: 30k small files in 300 directories (~60 MB) and 13 blobs of 10 MiB.
fn base() -> Vec<u8> {
    let mut rng = Rng(0xba5e_0000_0000_0001);
    let mut t = LayerTar::new();
    for d in 0..300 {
        t.dir(&format!("usr/lib/pkg{d:03}"));
        for f in 0..100 {
            let size = 500 + (rng.next() % 3000) as usize;
            t.file(
                &format!("usr/lib/pkg{d:03}/f{f:03}.so"),
                &content(&mut rng, size),
            );
        }
    }
    t.dir("usr/share/blobs");
    for i in 0..13 {
        t.file(
            &format!("usr/share/blobs/b{i:02}.bin"),
            &content(&mut rng, 10 << 20),
        );
    }
    t.finish()
}

/// One image's own layer (~450 MB): 30k files in `opt/app` (~150 MB), 30 blobs of 10 MiB, and
/// 3k overwritten base files. `seed` 1 is A; 2 is B, where half of the app files and every
/// other blob have other content, 10% of the app paths are new and 10% of A's are gone.
fn top(seed: u64) -> Vec<u8> {
    let mut same = Rng(0x0a00_0000_0000_0001);
    let mut own = Rng(0x0b00_0000_0000_0000 + seed);
    let mut t = LayerTar::new();
    t.dir("opt/app");
    for d in 0..100 {
        t.dir(&format!("opt/app/m{d:02}"));
        for f in 0..300 {
            let size = 1000 + (same.next() % 8000) as usize;
            let shared_content = content(&mut same, size);
            let (name, data) = if seed == 1 {
                (format!("opt/app/m{d:02}/f{f:03}.py"), shared_content)
            } else if f % 10 == 0 {
                (
                    format!("opt/app/m{d:02}/new{f:03}.py"),
                    content(&mut own, size),
                )
            } else if f % 2 == 0 {
                (
                    format!("opt/app/m{d:02}/f{f:03}.py"),
                    content(&mut own, size + 7),
                )
            } else {
                (format!("opt/app/m{d:02}/f{f:03}.py"), shared_content)
            };
            t.file(&name, &data);
        }
    }
    t.dir("opt/data");
    for i in 0..30 {
        let blob = content(&mut same, 10 << 20);
        if seed == 2 && i % 2 == 0 {
            t.file(
                &format!("opt/data/d{i:02}.bin"),
                &content(&mut own, 10 << 20),
            );
        } else {
            t.file(&format!("opt/data/d{i:02}.bin"), &blob);
        }
    }
    for d in 0..30 {
        for f in 0..100 {
            if (f + d) % (seed as usize + 1) == 0 {
                t.file(
                    &format!("usr/lib/pkg{d:03}/f{f:03}.so"),
                    &content(&mut own, 1500),
                );
            }
        }
    }
    t.finish()
}

fn main() {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/bench".into()),
    );
    std::fs::create_dir_all(&out).expect("mkdir");
    let base = base();
    for (name, seed) in [("a", 1), ("b", 2)] {
        let own = top(seed);
        let layers: [&[u8]; 2] = [&base, &own];
        let cmds = ["ADD rootfs.tar /", "/bin/sh -c install app"];
        let tag = format!("bench-diff:{name}");
        write_plain(
            &out.join(format!("diff-{name}-plain.tar")),
            &tag,
            &layers,
            &cmds,
        );
        write_gzip(
            &out.join(format!("diff-{name}-gzip.tar")),
            &tag,
            &layers,
            &cmds,
        );
        eprintln!(
            "wrote diff-{name}: base {} MB + own {} MB of tar",
            base.len() >> 20,
            own.len() >> 20
        );
    }
}
