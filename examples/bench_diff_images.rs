//! Writes the `strata diff` benchmark pair: two ~650 MB images that share a ~190 MB base layer
//! and each add ~450 MB of their own (B rewrites half of A's paths with other content, adds
//! others, and overwrites some base files).
//!
//! `cargo run --release --example bench_diff_images -- OUT_DIR` writes
//! `OUT_DIR/diff-a-plain.tar`, `diff-b-plain.tar` (Docker <= 24 `docker save` layout,
//! uncompressed layers) and `diff-a-gzip.tar`, `diff-b-gzip.tar` (OCI blobs, gzip layers,
//! manifest.json) of the same two images.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

/// Deterministic xorshift generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

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

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn config(diff_ids: &[String], cmds: &[&str]) -> Vec<u8> {
    let history: Vec<serde_json::Value> = cmds
        .iter()
        .map(|c| serde_json::json!({"created": "2026-01-01T00:00:00Z", "created_by": c}))
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "created": "2026-01-01T00:00:00Z",
        "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/usr/bin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }))
    .expect("json")
}

fn append(b: &mut tar::Builder<BufWriter<File>>, name: &str, data: &[u8]) {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(0o644);
    h.set_mtime(1_700_000_000);
    h.set_size(data.len() as u64);
    b.append_data(&mut h, name, data).expect("append");
}

fn write_plain(path: &Path, tag: &str, layers: &[&[u8]], cmds: &[&str]) {
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|l| format!("sha256:{}", hex(l)))
        .collect();
    let cfg = config(&diff_ids, cmds);
    let cfg_hex = hex(&cfg);
    let mut b = tar::Builder::new(BufWriter::new(File::create(path).expect("create")));
    let mut names = Vec::new();
    for (l, id) in layers.iter().zip(&diff_ids) {
        let dir = id.trim_start_matches("sha256:");
        append(&mut b, &format!("{dir}/layer.tar"), l);
        names.push(format!("{dir}/layer.tar"));
    }
    append(&mut b, &format!("{cfg_hex}.json"), &cfg);
    let manifest = serde_json::json!([{"Config": format!("{cfg_hex}.json"), "RepoTags": [tag], "Layers": names}]);
    append(
        &mut b,
        "manifest.json",
        &serde_json::to_vec(&manifest).expect("json"),
    );
    b.into_inner().expect("finish").flush().expect("flush");
}

fn write_gzip(path: &Path, tag: &str, layers: &[&[u8]], cmds: &[&str]) {
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|l| format!("sha256:{}", hex(l)))
        .collect();
    let cfg = config(&diff_ids, cmds);
    let cfg_hex = hex(&cfg);
    let mut b = tar::Builder::new(BufWriter::new(File::create(path).expect("create")));
    let mut names = Vec::new();
    let mut descs = Vec::new();
    for l in layers {
        let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        enc.write_all(l).expect("gzip");
        let blob = enc.finish().expect("gzip");
        let h = hex(&blob);
        append(&mut b, &format!("blobs/sha256/{h}"), &blob);
        names.push(format!("blobs/sha256/{h}"));
        descs.push(serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": format!("sha256:{h}"), "size": blob.len()}));
    }
    append(&mut b, &format!("blobs/sha256/{cfg_hex}"), &cfg);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": format!("sha256:{cfg_hex}"), "size": cfg.len()},
        "layers": descs,
    }))
    .expect("json");
    let mhex = hex(&manifest);
    append(&mut b, &format!("blobs/sha256/{mhex}"), &manifest);
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": format!("sha256:{mhex}"), "size": manifest.len()}]});
    append(
        &mut b,
        "index.json",
        &serde_json::to_vec(&index).expect("json"),
    );
    append(&mut b, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
    let dm = serde_json::json!([{"Config": format!("blobs/sha256/{cfg_hex}"), "RepoTags": [tag], "Layers": names}]);
    append(
        &mut b,
        "manifest.json",
        &serde_json::to_vec(&dm).expect("json"),
    );
    b.into_inner().expect("finish").flush().expect("flush");
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
