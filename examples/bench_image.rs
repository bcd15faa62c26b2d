//! Writes the benchmark image: >= 200k files, ~1 GB of file bytes, several layers with
//! overwrites, chmods, deletions (files and whole directories) and an opaque directory.
//!
//! `cargo run --release --example bench_image -- OUT_DIR [SCALE]` writes
//! `OUT_DIR/bench-plain.tar` (Docker <= 24 `docker save` layout, uncompressed layers) and
//! `OUT_DIR/bench-gzip.tar` (Docker 25+/containerd layout: OCI blobs, gzip layers,
//! manifest.json), both of the same image, whose layer 3 deletes 150 directories and 2,000
//! files through 2,150 whiteouts; and `bench-light-{plain,gzip}.tar`, the same image with 35
//! whiteouts (dive's whiteout handling is quadratic, so the heavy image takes it minutes).
//! SCALE (default 1.0) multiplies file counts.

use std::path::PathBuf;

#[path = "support/archive_writer.rs"]
mod archive_writer;

use archive_writer::{write_gzip, write_plain, Rng};

const WORDS: [&str; 24] = [
    "server",
    "listen",
    "include",
    "location",
    "proxy",
    "timeout",
    "worker",
    "error_log",
    "return",
    "import",
    "def",
    "class",
    "value",
    "config",
    "enable",
    "true",
    "false",
    "path",
    "user",
    "group",
    "0755",
    "/usr/lib",
    "module",
    "export",
];

/// Text-like content (config and source files) or binary content.
fn content(rng: &mut Rng, size: usize, text: bool) -> Vec<u8> {
    let mut v = Vec::with_capacity(size);
    if text {
        while v.len() < size {
            let w = WORDS[(rng.next() % WORDS.len() as u64) as usize];
            v.extend_from_slice(w.as_bytes());
            v.push(if rng.next() % 8 == 0 { b'\n' } else { b' ' });
        }
        v.truncate(size);
    } else {
        while v.len() < size {
            let x = rng.next();
            // Half-compressible binary: random words interleaved with runs.
            if x % 4 == 0 {
                v.extend_from_slice(&[0u8; 8]);
            } else {
                v.extend_from_slice(&x.to_le_bytes());
            }
        }
        v.truncate(size);
    }
    v
}

enum Item {
    Dir(String),
    File(String, Vec<u8>, u32),
    Whiteout(String),
    Opaque(String),
}

fn layer_tar(items: &[Item]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    b.mode(tar::HeaderMode::Deterministic);
    for it in items {
        let mut h = tar::Header::new_ustar();
        h.set_mtime(1_700_000_000);
        match it {
            Item::Dir(p) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                h.set_size(0);
                b.append_data(&mut h, format!("{p}/"), &[][..])
                    .expect("dir");
            }
            Item::File(p, data, mode) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(*mode);
                h.set_size(data.len() as u64);
                b.append_data(&mut h, p, &data[..]).expect("file");
            }
            Item::Whiteout(p) => {
                let (parent, name) = p.rsplit_once('/').unwrap_or(("", p));
                let wh = if parent.is_empty() {
                    format!(".wh.{name}")
                } else {
                    format!("{parent}/.wh.{name}")
                };
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(0o600);
                h.set_size(0);
                b.append_data(&mut h, wh, &[][..]).expect("whiteout");
            }
            Item::Opaque(d) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(0o755);
                h.set_size(0);
                b.append_data(&mut h, format!("{d}/.wh..wh..opq"), &[][..])
                    .expect("opaque");
            }
        }
    }
    b.into_inner().expect("tar")
}

fn build_layers(scale: f64, heavy_whiteouts: bool) -> (Vec<Vec<u8>>, Vec<&'static str>) {
    let n = |x: usize| ((x as f64) * scale).max(1.0) as usize;
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut layers = Vec::new();
    let mut cmds = Vec::new();

    // Layer 0: the "base": 120k small files in 600 directories.
    let mut items = Vec::new();
    for d in 0..600 {
        items.push(Item::Dir(format!("usr/share/pkg{d:03}")));
        for f in 0..n(200) {
            let size = 200 + (rng.next() % 3800) as usize;
            let text = rng.next() % 10 < 7;
            items.push(Item::File(
                format!("usr/share/pkg{d:03}/file{f:04}.conf"),
                content(&mut rng, size, text),
                0o644,
            ));
        }
    }
    layers.push(layer_tar(&items));
    cmds.push("ADD rootfs.tar /");

    // Layer 1: 40k medium files.
    let mut items = vec![Item::Dir("opt".into())];
    for d in 0..100 {
        items.push(Item::Dir(format!("opt/app{d:02}")));
        for f in 0..n(400) {
            let size = 2000 + (rng.next() % 14000) as usize;
            items.push(Item::File(
                format!("opt/app{d:02}/mod{f:04}.py"),
                content(&mut rng, size, true),
                0o644,
            ));
        }
    }
    layers.push(layer_tar(&items));
    cmds.push("/bin/sh -c pip install app");

    // Layer 2: overwrite 20k base files, chmod 10k others (same content, new mode).
    let mut items = Vec::new();
    let mut chmod_rng = Rng(0x5eed_1234_abcd_0001);
    for d in 0..600 {
        items.push(Item::Dir(format!("usr/share/pkg{d:03}")));
        for f in 0..n(200) {
            let size = 200 + (chmod_rng.next() % 3800) as usize;
            let text = chmod_rng.next() % 10 < 7;
            let original = content(&mut chmod_rng, size, text);
            if f % 6 == 0 {
                items.push(Item::File(
                    format!("usr/share/pkg{d:03}/file{f:04}.conf"),
                    content(&mut rng, size + 10, true),
                    0o644,
                ));
            } else if f % 12 == 1 {
                items.push(Item::File(
                    format!("usr/share/pkg{d:03}/file{f:04}.conf"),
                    original,
                    0o600,
                ));
            }
        }
    }
    layers.push(layer_tar(&items));
    cmds.push("/bin/sh -c update-configs && chmod 600 some");

    // Layer 3: delete 150 base directories (30k files) and 2000 single files.
    let mut items = Vec::new();
    let (dirs, file_dirs) = if heavy_whiteouts { (150, 100) } else { (15, 1) };
    for d in 0..dirs {
        items.push(Item::Whiteout(format!("usr/share/pkg{d:03}")));
    }
    for d in 300..300 + file_dirs {
        for f in 0..n(20) {
            items.push(Item::Whiteout(format!(
                "usr/share/pkg{d:03}/file{:04}.conf",
                f * 9 + 3
            )));
        }
    }
    layers.push(layer_tar(&items));
    cmds.push("/bin/sh -c rm -rf /usr/share/pkg0* && rm some files");

    // Layer 4: an opaque directory replacing opt/app00..09 contents.
    let mut items = Vec::new();
    for d in 0..10 {
        items.push(Item::Dir(format!("opt/app{d:02}")));
        items.push(Item::Opaque(format!("opt/app{d:02}")));
        items.push(Item::File(
            format!("opt/app{d:02}/replaced.py"),
            content(&mut rng, 5000, true),
            0o644,
        ));
    }
    layers.push(layer_tar(&items));
    cmds.push("/bin/sh -c rm -rf /opt/app0* && mkdir ...");

    // Layer 5: big binaries (~330 MB) and 30k tiny files.
    let mut items = vec![Item::Dir("data".into())];
    for i in 0..(n(40).max(1)) {
        items.push(Item::File(
            format!("data/blob{i:02}.bin"),
            content(&mut rng, 10 << 20, false),
            0o644,
        ));
    }
    items.push(Item::Dir("data/small".into()));
    for i in 0..n(30000) {
        items.push(Item::File(
            format!("data/small/s{i:05}.txt"),
            content(&mut rng, 64, true),
            0o644,
        ));
    }
    layers.push(layer_tar(&items));
    cmds.push("/bin/sh -c fetch-data");

    // Layer 6: delete half of the big binaries.
    let mut items = Vec::new();
    for i in (0..n(40).max(1)).step_by(2) {
        items.push(Item::Whiteout(format!("data/blob{i:02}.bin")));
    }
    layers.push(layer_tar(&items));
    cmds.push("/bin/sh -c rm /data/blob*");
    (layers, cmds)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().unwrap_or_else(|| "target/bench".into()));
    let scale: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1.0);
    std::fs::create_dir_all(&out).expect("mkdir");
    for (prefix, heavy) in [("bench", true), ("bench-light", false)] {
        let (layers, cmds) = build_layers(scale, heavy);
        let total: usize = layers.iter().map(Vec::len).sum();
        let plain = out.join(format!("{prefix}-plain.tar"));
        let gzip = out.join(format!("{prefix}-gzip.tar"));
        let refs: Vec<&[u8]> = layers.iter().map(Vec::as_slice).collect();
        write_plain(&plain, &format!("{prefix}:plain"), &refs, &cmds);
        write_gzip(&gzip, &format!("{prefix}:gzip"), &refs, &cmds);
        eprintln!(
            "wrote {} and {} ({} layers, {} tar bytes)",
            plain.display(),
            gzip.display(),
            layers.len(),
            total
        );
    }
}
