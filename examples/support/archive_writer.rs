//! Shared by the benchmark image generators (`#[path]`-included, not an example of its own):
//! a deterministic random generator and writers of a one-image archive in the Docker <= 24
//! `docker save` layout (uncompressed layers) and the Docker 25+ layout (OCI blobs, gzip
//! layers, manifest.json).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

/// Deterministic xorshift generator.
pub struct Rng(pub u64);

impl Rng {
    /// The next value.
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// The sha256 of `bytes`, in hex.
pub fn hex(bytes: &[u8]) -> String {
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

/// Writes `layers` (uncompressed tars) as a `docker save` archive of Docker <= 24 tagged `tag`.
pub fn write_plain(path: &Path, tag: &str, layers: &[&[u8]], cmds: &[&str]) {
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

/// Writes `layers` gzip-compressed in the Docker 25+ layout (OCI blobs plus manifest.json).
pub fn write_gzip(path: &Path, tag: &str, layers: &[&[u8]], cmds: &[&str]) {
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
