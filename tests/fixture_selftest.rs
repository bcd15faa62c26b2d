//! Self-tests of the fixture builder (`tests/common/fixture.rs`), independent of strata's engine:
//! archives are read back with the `tar` crate (and GNU `tar tvf` when installed), JSON is
//! parsed, digests are recomputed and layers decompressed.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Read};
use std::path::Path;
use std::process::Command;

use common::fixture::*;
use flate2::read::MultiGzDecoder;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tar::EntryType;

// ---------------------------------------------------------------------------------------------
// Reading archives back
// ---------------------------------------------------------------------------------------------

/// One member of an outer archive (or a file of an OCI directory).
#[derive(Clone, Debug)]
struct Member {
    name: String,
    kind: EntryType,
    link: Option<String>,
    mode: u32,
    mtime: u64,
    data: Vec<u8>,
}

/// An outer archive, members in stream order.
struct Archive {
    members: Vec<Member>,
}

fn gunzip(bytes: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    MultiGzDecoder::new(bytes).read_to_end(&mut out)?;
    Ok(out)
}

fn is_gzip(b: &[u8]) -> bool {
    b.starts_with(&[0x1f, 0x8b, 0x08])
}

fn is_zstd(b: &[u8]) -> bool {
    b.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
}

fn is_tar(b: &[u8]) -> bool {
    b.len() >= 512 && (b.get(257..262) == Some(b"ustar") || b[..512].iter().all(|&c| c == 0))
}

/// Decompresses a layer blob by sniffing its magic (formats.md §4).
fn decode_layer(blob: &[u8]) -> io::Result<Vec<u8>> {
    if is_gzip(blob) {
        gunzip(blob)
    } else if is_zstd(blob) {
        zstd::stream::decode_all(blob)
    } else {
        assert!(is_tar(blob), "layer blob is neither gzip, zstd nor tar");
        Ok(blob.to_vec())
    }
}

fn sha(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

impl Archive {
    fn open(path: &Path) -> Archive {
        if path.is_dir() {
            let mut members = Vec::new();
            walk_dir(path, path, &mut members);
            return Archive { members };
        }
        let bytes = fs::read(path).expect("read archive");
        let bytes = if is_gzip(&bytes) {
            gunzip(&bytes).expect("outer gzip")
        } else {
            bytes
        };
        Archive::from_tar(&bytes)
    }

    fn from_tar(bytes: &[u8]) -> Archive {
        let mut members = Vec::new();
        let mut ar = tar::Archive::new(bytes);
        for e in ar.entries().expect("entries") {
            let mut e = e.expect("entry");
            let h = e.header().clone();
            let mut data = Vec::new();
            e.read_to_end(&mut data).expect("member data");
            members.push(Member {
                name: String::from_utf8(e.path_bytes().into_owned()).expect("utf-8 name"),
                kind: h.entry_type(),
                link: e
                    .link_name_bytes()
                    .map(|l| String::from_utf8_lossy(&l).into_owned()),
                mode: h.mode().expect("mode"),
                mtime: h.mtime().expect("mtime"),
                data,
            });
        }
        Archive { members }
    }

    fn names(&self) -> Vec<&str> {
        self.members.iter().map(|m| m.name.as_str()).collect()
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        self.members.iter().position(|m| m.name == name)
    }

    fn get(&self, name: &str) -> Option<&Member> {
        self.index_of(name).map(|i| &self.members[i])
    }

    /// The regular member `name` refers to, following symlinks relative to its directory.
    fn resolve(&self, name: &str) -> &Member {
        let mut name = name.to_string();
        for _ in 0..8 {
            let m = self
                .get(&name)
                .unwrap_or_else(|| panic!("missing member {name}"));
            match (&m.kind, &m.link) {
                (EntryType::Symlink, Some(target)) => name = join_rel(&name, target),
                _ => return m,
            }
        }
        panic!("symlink loop at {name}");
    }

    fn json(&self, name: &str) -> Value {
        let m = self.resolve(name);
        serde_json::from_slice(&m.data).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn blob(&self, digest: &str) -> Option<&[u8]> {
        let hex = digest.strip_prefix("sha256:").expect("sha256 digest");
        self.get(&format!("blobs/sha256/{hex}"))
            .map(|m| m.data.as_slice())
    }

    /// Loads a descriptor's blob and checks digest and size.
    fn fetch(&self, desc: &Value) -> &[u8] {
        let digest = desc["digest"].as_str().expect("descriptor digest");
        let blob = self
            .blob(digest)
            .unwrap_or_else(|| panic!("blob {digest} absent"));
        assert_eq!(sha(blob), digest, "blob content matches its digest");
        assert_eq!(desc["size"].as_u64(), Some(blob.len() as u64), "size");
        blob
    }
}

fn walk_dir(root: &Path, dir: &Path, out: &mut Vec<Member>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        let name = p
            .strip_prefix(root)
            .expect("under root")
            .to_string_lossy()
            .into_owned();
        if p.is_dir() {
            out.push(Member {
                name: format!("{name}/"),
                kind: EntryType::Directory,
                link: None,
                mode: 0o40755,
                mtime: 0,
                data: Vec::new(),
            });
            walk_dir(root, &p, out);
        } else {
            out.push(Member {
                name,
                kind: EntryType::Regular,
                link: None,
                mode: 0o100644,
                mtime: 0,
                data: fs::read(&p).expect("read file"),
            });
        }
    }
}

/// Resolves `target` relative to the directory of `member` (no `..` above the root).
fn join_rel(member: &str, target: &str) -> String {
    let mut parts: Vec<&str> = member.split('/').collect();
    parts.pop();
    for seg in target.split('/') {
        match seg {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// Go `filepath.Walk` order key: path components.
fn walk_key(name: &str) -> Vec<&str> {
    name.trim_end_matches('/').split('/').collect()
}

fn assert_walk_order(ar: &Archive) {
    let keys: Vec<_> = ar.members.iter().map(|m| walk_key(&m.name)).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "members in lexical walk order");
}

fn hex_of(digest: &str) -> &str {
    digest.strip_prefix("sha256:").expect("sha256 digest")
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

// ---------------------------------------------------------------------------------------------
// Layout-independent checks
// ---------------------------------------------------------------------------------------------

/// Checks `config` bytes against what `write_image` reported.
fn check_config(config: &[u8], w: &Written, spec: &ImageSpec) {
    assert_eq!(sha(config), w.config_digest);
    assert_eq!(config, w.config.as_slice());
    let cfg: Value = serde_json::from_slice(config).expect("config JSON");
    assert_eq!(cfg["rootfs"]["type"], "layers");
    assert_eq!(cfg["rootfs"]["diff_ids"], json!(w.diff_ids));
    assert_eq!(cfg["os"], spec.os.as_str());
    assert_eq!(cfg["architecture"], spec.architecture.as_str());
    let history = cfg["history"].as_array().expect("history");
    let owning = history
        .iter()
        .filter(|h| h.get("empty_layer") != Some(&Value::Bool(true)))
        .count();
    assert_eq!(owning, w.diff_ids.len(), "history ↔ layers");
    assert!(
        history
            .iter()
            .all(|h| h.get("empty_layer") != Some(&Value::Bool(false))),
        "empty_layer only written when true"
    );
}

fn check_layers(blobs: &[&[u8]], w: &Written) {
    assert_eq!(blobs.len(), w.layer_tars.len());
    for (i, blob) in blobs.iter().enumerate() {
        assert_eq!(sha(blob), w.layer_digests[i], "layer {i} blob digest");
        let tar = decode_layer(blob).expect("decode layer");
        assert_eq!(tar, w.layer_tars[i], "layer {i} content");
        assert_eq!(sha(&tar), w.diff_ids[i], "layer {i} diffID");
    }
}

/// Reads the image through `manifest.json` (following symlinks).
fn via_manifest_json(ar: &Archive, w: &Written, spec: &ImageSpec) -> Value {
    let m = ar.json("manifest.json");
    let entry = &m[0];
    let config = &ar.resolve(entry["Config"].as_str().expect("Config")).data;
    check_config(config, w, spec);
    let layers: Vec<&[u8]> = entry["Layers"]
        .as_array()
        .expect("Layers")
        .iter()
        .map(|l| ar.resolve(l.as_str().expect("layer path")).data.as_slice())
        .collect();
    check_layers(&layers, w);
    m
}

/// Reads the image through `index.json`, recursing into nested indexes and skipping
/// attestations; returns the platform manifest.
fn via_index_json(ar: &Archive, w: &Written, spec: &ImageSpec) -> Value {
    let index = ar.json("index.json");
    assert_eq!(index["schemaVersion"], 2);
    let mut manifests = Vec::new();
    collect_manifests(ar, &index, 0, &mut manifests);
    let runnable: Vec<_> = manifests
        .into_iter()
        .filter(|(d, _)| d["platform"]["os"] != "unknown")
        .collect();
    assert_eq!(runnable.len(), 1, "one runnable manifest");
    let (desc, manifest) = &runnable[0];
    assert_eq!(desc["digest"].as_str(), w.manifest_digest.as_deref());
    let config = ar.fetch(&manifest["config"]);
    check_config(config, w, spec);
    let layers: Vec<&[u8]> = manifest["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|d| ar.fetch(d))
        .collect();
    check_layers(&layers, w);
    manifest.clone()
}

fn collect_manifests(ar: &Archive, index: &Value, depth: usize, out: &mut Vec<(Value, Value)>) {
    assert!(depth < 4, "index nesting");
    for d in index["manifests"].as_array().expect("manifests") {
        let blob = ar.fetch(d);
        let v: Value = serde_json::from_slice(blob).expect("JSON blob");
        match d["mediaType"].as_str() {
            Some(media::OCI_INDEX) => collect_manifests(ar, &v, depth + 1, out),
            Some(media::OCI_MANIFEST | media::DOCKER_MANIFEST) => {
                assert_eq!(v["mediaType"], d["mediaType"], "manifest mediaType");
                out.push((d.clone(), v));
            }
            other => panic!("unexpected index entry type {other:?}"),
        }
    }
}

fn write(spec: &ImageSpec, layout: Layout, dir: &Path) -> Written {
    let path = dir.join(format!("{layout:?}.tar"));
    write_image(spec, layout, &path).unwrap_or_else(|e| panic!("{layout:?}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Per-layout structure
// ---------------------------------------------------------------------------------------------

fn check_docker_legacy(ar: &Archive, w: &Written, symlinked: bool) {
    assert_walk_order(ar);
    let names = ar.names();
    assert_eq!(names[names.len() - 2..], ["manifest.json", "repositories"]);
    let cfg_name = format!("{}.json", hex_of(&w.config_digest));
    assert!(ar.get(&cfg_name).is_some(), "config member {cfg_name}");
    let manifest = ar.json("manifest.json");
    assert_eq!(manifest[0]["Config"], cfg_name.as_str());
    assert_eq!(manifest[0]["RepoTags"], json!(["example/app:1.0"]));
    let layers: Vec<&str> = manifest[0]["Layers"]
        .as_array()
        .expect("Layers")
        .iter()
        .map(|l| l.as_str().expect("str"))
        .collect();
    let repos = ar.json("repositories");
    let top_dir = layers
        .last()
        .expect("layers")
        .trim_end_matches("/layer.tar");
    assert_eq!(repos, json!({"example/app": {"1.0": top_dir}}));
    for m in &ar.members {
        if let Some(dir) = m.name.strip_suffix('/') {
            assert!(is_hex64(dir), "v1 dir {}", m.name);
            assert_eq!(m.kind, EntryType::Directory);
            assert_eq!(
                ar.get(&format!("{dir}/VERSION")).expect("VERSION").data,
                b"1.0"
            );
            let v1 = ar.json(&format!("{dir}/json"));
            assert_eq!(v1["id"], dir);
            assert!(ar.get(&format!("{dir}/layer.tar")).is_some());
        }
    }
    let symlinks: Vec<(usize, &Member)> = ar
        .members
        .iter()
        .enumerate()
        .filter(|(_, m)| m.kind == EntryType::Symlink)
        .collect();
    let unique: BTreeSet<_> = w.diff_ids.iter().collect();
    let duplicates = w.diff_ids.len() - unique.len();
    if !symlinked {
        assert!(symlinks.is_empty(), "plain legacy save has no symlinks");
        assert_eq!(ar.members.len(), 4 * layers.len() + 3);
        return;
    }
    assert_eq!(symlinks.len(), duplicates.max(1), "symlinked layers");
    for (pos, s) in &symlinks {
        assert!(s.name.ends_with("/layer.tar"));
        assert_eq!(s.mode, 0o120777);
        let link = s.link.as_deref().expect("link target");
        assert!(
            link.starts_with("../") && link.ends_with("/layer.tar"),
            "{link}"
        );
        let target = join_rel(&s.name, link);
        let tpos = ar.index_of(&target).expect("symlink target exists");
        assert_eq!(ar.members[tpos].kind, EntryType::Regular);
        assert!(*pos < tpos, "symlink {} precedes its target", s.name);
    }
    if duplicates == 0 {
        // The top layer points into an extra directory no manifest entry names.
        assert_eq!(symlinks[0].1.name, *layers.last().expect("top"));
        assert_eq!(ar.members.len(), 4 * layers.len() + 4 + 3);
    } else {
        for (i, d) in w.diff_ids.iter().enumerate() {
            let first = w.diff_ids.iter().position(|x| x == d).expect("present");
            let m = ar.get(layers[i]).expect("layer member");
            if first < i {
                let want = format!("../{}", layers[first]);
                assert_eq!(m.link.as_deref(), Some(want.as_str()), "layer {i}");
            } else {
                assert_eq!(m.kind, EntryType::Regular, "layer {i}");
            }
        }
    }
}

fn check_docker25(ar: &Archive, w: &Written, spec: &ImageSpec) {
    assert_walk_order(ar);
    let tail: Vec<&str> = ar
        .names()
        .into_iter()
        .filter(|n| !n.starts_with("blobs/"))
        .collect();
    assert_eq!(
        tail,
        ["index.json", "manifest.json", "oci-layout", "repositories"]
    );
    assert_eq!(ar.names()[..2], ["blobs/", "blobs/sha256/"]);
    assert_eq!(
        ar.json("oci-layout"),
        json!({"imageLayoutVersion": "1.0.0"})
    );
    let index = ar.json("index.json");
    assert_eq!(
        index["manifests"][0]["annotations"],
        json!({
            "io.containerd.image.name": "docker.io/example/app:1.0",
            "org.opencontainers.image.ref.name": "1.0",
        })
    );
    let mj = ar.json("manifest.json");
    assert_eq!(
        mj[0]["Config"],
        format!("blobs/sha256/{}", hex_of(&w.config_digest))
    );
    let want: Vec<String> = w
        .diff_ids
        .iter()
        .map(|d| format!("blobs/sha256/{}", hex_of(d)))
        .collect();
    assert_eq!(mj[0]["Layers"], json!(want));
    assert_eq!(w.layer_digests, w.diff_ids, "blob digest = diffID");
    let manifest = via_index_json(ar, w, spec);
    for l in manifest["layers"].as_array().expect("layers") {
        assert_eq!(l["mediaType"], media::OCI_LAYER);
    }
    // Unreferenced v1 JSON blobs, one per layer.
    let mut referenced: BTreeSet<String> = w.diff_ids.iter().map(|d| hex_of(d).into()).collect();
    referenced.insert(hex_of(&w.config_digest).into());
    referenced.insert(hex_of(w.manifest_digest.as_deref().expect("manifest")).into());
    let extra: Vec<&Member> = ar
        .members
        .iter()
        .filter(|m| m.kind == EntryType::Regular)
        .filter(|m| {
            m.name
                .strip_prefix("blobs/sha256/")
                .is_some_and(|h| !referenced.contains(h))
        })
        .collect();
    assert_eq!(extra.len(), w.diff_ids.len(), "one v1 JSON blob per layer");
    for m in extra {
        let v: Value = serde_json::from_slice(&m.data).expect("v1 JSON");
        assert!(is_hex64(v["id"].as_str().expect("id")));
        assert_eq!(sha(&m.data), format!("sha256:{}", &m.name[13..]));
    }
}

fn check_containerd(ar: &Archive, w: &Written, spec: &ImageSpec, zstd: bool) {
    let names = ar.names();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "containerd sorts records by name");
    assert!(ar.get("repositories").is_none());
    for m in ar.members.iter().filter(|m| m.kind == EntryType::Regular) {
        assert_eq!((m.mode, m.mtime), (0o444, 0), "{}", m.name);
    }
    let index = ar.json("index.json");
    let top = &index["manifests"][0];
    assert_eq!(top["mediaType"], media::OCI_INDEX, "nested image index");
    assert_eq!(
        top["annotations"]["io.containerd.image.name"],
        "docker.io/example/app:1.0"
    );
    let nested: Value = serde_json::from_slice(ar.fetch(top)).expect("image index");
    let entries = nested["manifests"].as_array().expect("manifests");
    assert_eq!(entries.len(), 2);
    let (platform, att) = (&entries[0], &entries[1]);
    assert_eq!(
        platform["platform"],
        json!({"architecture": "amd64", "os": "linux"})
    );
    assert_eq!(
        att["platform"],
        json!({"architecture": "unknown", "os": "unknown"})
    );
    assert_eq!(
        att["annotations"]["vnd.docker.reference.type"],
        "attestation-manifest"
    );
    assert_eq!(
        att["annotations"]["vnd.docker.reference.digest"],
        platform["digest"]
    );
    let att_manifest: Value = serde_json::from_slice(ar.fetch(att)).expect("attestation");
    assert_eq!(att_manifest["layers"][0]["mediaType"], media::IN_TOTO);
    ar.fetch(&att_manifest["layers"][0]);
    ar.fetch(&att_manifest["config"]);

    let manifest = via_index_json(ar, w, spec);
    let (mt, lt) = if zstd {
        (media::OCI_MANIFEST, media::OCI_LAYER_ZSTD)
    } else {
        (media::DOCKER_MANIFEST, media::DOCKER_LAYER_GZIP)
    };
    assert_eq!(manifest["mediaType"], mt);
    for (i, l) in manifest["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .enumerate()
    {
        assert_eq!(l["mediaType"], lt);
        let blob = ar.fetch(l);
        assert!(
            if zstd { is_zstd(blob) } else { is_gzip(blob) },
            "layer {i} magic"
        );
        assert_ne!(
            w.layer_digests[i], w.diff_ids[i],
            "compressed digest ≠ diffID"
        );
    }
    let mj = ar.json("manifest.json");
    let want: Vec<String> = w
        .layer_digests
        .iter()
        .map(|d| format!("blobs/sha256/{}", hex_of(d)))
        .collect();
    assert_eq!(mj[0]["Layers"], json!(want));
}

fn check_oci(ar: &Archive, w: &Written, spec: &ImageSpec, layout: Layout) {
    assert_walk_order(ar);
    assert!(ar.get("manifest.json").is_none(), "no manifest.json");
    assert!(ar.get("repositories").is_none());
    let tail: Vec<&str> = ar
        .names()
        .into_iter()
        .filter(|n| !n.starts_with("blobs/"))
        .collect();
    assert_eq!(tail, ["index.json", "oci-layout"]);
    let index = ar.json("index.json");
    let want_ref = if layout == Layout::OciDir {
        "1.0"
    } else {
        "example/app:1.0"
    };
    assert_eq!(
        index["manifests"][0]["annotations"],
        json!({"org.opencontainers.image.ref.name": want_ref})
    );
    let manifest = via_index_json(ar, w, spec);
    for (i, l) in manifest["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .enumerate()
    {
        let blob = ar.fetch(l);
        match layout {
            Layout::OciArchiveZstd => {
                assert_eq!(l["mediaType"], media::OCI_LAYER_ZSTD);
                assert!(is_zstd(blob));
            }
            Layout::OciArchiveUncompressedMislabelled => {
                assert_eq!(l["mediaType"], media::OCI_LAYER_GZIP, "mislabelled");
                assert!(is_tar(blob) && !is_gzip(blob));
                assert_eq!(w.layer_digests[i], w.diff_ids[i]);
            }
            _ => {
                assert_eq!(l["mediaType"], media::OCI_LAYER_GZIP);
                assert!(is_gzip(blob));
            }
        }
    }
}

fn check_skopeo(ar: &Archive, w: &Written, spec: &ImageSpec) {
    via_manifest_json(ar, w, spec);
    let unique: Vec<&String> = w.diff_ids.iter().fold(Vec::new(), |mut v, d| {
        if !v.contains(&d) {
            v.push(d);
        }
        v
    });
    let names = ar.names();
    let want_head: Vec<String> = unique
        .iter()
        .map(|d| format!("{}.tar", hex_of(d)))
        .chain([format!("{}.json", hex_of(&w.config_digest))])
        .collect();
    assert_eq!(names[..want_head.len()], want_head);
    assert_eq!(names[names.len() - 2..], ["manifest.json", "repositories"]);
    let middle = &ar.members[want_head.len()..names.len() - 2];
    assert_eq!(middle.len(), 3 * w.diff_ids.len());
    for (i, triple) in middle.chunks(3).enumerate() {
        let dir = triple[0]
            .name
            .strip_suffix("/layer.tar")
            .expect("layer.tar first");
        assert!(is_hex64(dir));
        assert_eq!(triple[0].kind, EntryType::Symlink);
        let want = format!("../{}.tar", hex_of(&w.diff_ids[i]));
        assert_eq!(triple[0].link.as_deref(), Some(want.as_str()));
        assert_eq!(triple[1].name, format!("{dir}/VERSION"));
        assert_eq!(triple[2].name, format!("{dir}/json"));
    }
    for m in &ar.members {
        assert_ne!(m.kind, EntryType::Directory, "no directory entries");
        assert_eq!((m.mode, m.mtime), (0o444, 0), "{}", m.name);
    }
    let mj = ar.json("manifest.json");
    assert_eq!(mj[0]["RepoTags"], json!(["docker.io/example/app:1.0"]));
}

fn check_crane(ar: &Archive, w: &Written, spec: &ImageSpec) {
    via_manifest_json(ar, w, spec);
    let names = ar.names();
    assert_eq!(
        names[0], w.config_digest,
        "config member named sha256:<hex>"
    );
    assert_eq!(*names.last().expect("members"), "manifest.json");
    let mj = ar.json("manifest.json");
    let want: Vec<String> = w
        .layer_digests
        .iter()
        .map(|d| format!("{}.tar.gz", hex_of(d)))
        .collect();
    assert_eq!(mj[0]["Layers"], json!(want));
    for m in &ar.members[1..names.len() - 1] {
        assert!(
            m.name.ends_with(".tar.gz") && is_gzip(&m.data),
            "{}",
            m.name
        );
    }
    let all = fs::read(&w.path).expect("read");
    assert!(!all.windows(9).any(|x| x == b"mediaType"), "no media types");
}

fn check_layout(spec: &ImageSpec, layout: Layout, w: &Written) {
    let ar = Archive::open(&w.path);
    assert_eq!(w.layer_tars.len(), spec.layers.len());
    match layout {
        Layout::DockerLegacy | Layout::GzipOuter => {
            via_manifest_json(&ar, w, spec);
            check_docker_legacy(&ar, w, false);
        }
        Layout::DockerLegacySymlinked => {
            via_manifest_json(&ar, w, spec);
            check_docker_legacy(&ar, w, true);
        }
        Layout::Docker25 => {
            via_manifest_json(&ar, w, spec);
            check_docker25(&ar, w, spec);
        }
        Layout::ContainerdGzip | Layout::ContainerdZstd => {
            via_manifest_json(&ar, w, spec);
            check_containerd(&ar, w, spec, layout == Layout::ContainerdZstd);
        }
        Layout::OciArchiveGzip
        | Layout::OciArchiveZstd
        | Layout::OciArchiveUncompressedMislabelled
        | Layout::OciDir => check_oci(&ar, w, spec, layout),
        Layout::SkopeoDockerArchive => check_skopeo(&ar, w, spec),
        Layout::CraneTarball => check_crane(&ar, w, spec),
    }
}

// ---------------------------------------------------------------------------------------------
// Tests: layouts
// ---------------------------------------------------------------------------------------------

#[test]
fn every_layout_of_the_sample_reads_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = ImageSpec::sample();
    let mut diff_ids = None;
    for layout in all_layouts() {
        let w = write(&spec, layout, dir.path());
        check_layout(&spec, layout, &w);
        // Same image in every layout.
        let ids = (
            w.config_digest.clone(),
            w.diff_ids.clone(),
            w.layer_tars.clone(),
        );
        assert_eq!(
            diff_ids.get_or_insert_with(|| ids.clone()),
            &ids,
            "{layout:?}"
        );
    }
}

#[test]
fn every_layout_of_the_minimal_image_reads_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = ImageSpec::minimal();
    for layout in all_layouts() {
        let w = write(&spec, layout, dir.path());
        check_layout(&spec, layout, &w);
    }
}

#[test]
fn output_is_deterministic() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    let spec = ImageSpec::sample();
    for layout in all_layouts().into_iter().filter(|l| !l.is_dir()) {
        let wa = write(&spec, layout, a.path());
        let wb = write(&spec, layout, b.path());
        assert_eq!(
            fs::read(&wa.path).expect("a"),
            fs::read(&wb.path).expect("b"),
            "{layout:?}"
        );
    }
}

#[test]
fn gzip_outer_wraps_the_legacy_archive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = ImageSpec::sample();
    let plain = write(&spec, Layout::DockerLegacy, dir.path());
    let gz = write(&spec, Layout::GzipOuter, dir.path());
    let bytes = fs::read(&gz.path).expect("read");
    assert!(is_gzip(&bytes));
    assert_eq!(
        gunzip(&bytes).expect("gunzip"),
        fs::read(&plain.path).expect("plain")
    );
}

#[test]
fn oci_dir_matches_oci_archive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = ImageSpec::sample();
    let archive = Archive::open(&write(&spec, Layout::OciArchiveGzip, dir.path()).path);
    let tree = Archive::open(&write(&spec, Layout::OciDir, dir.path()).path);
    let blobs = |a: &Archive| -> BTreeMap<String, Vec<u8>> {
        a.members
            .iter()
            .filter(|m| m.name.starts_with("blobs/sha256/") && m.kind == EntryType::Regular)
            .map(|m| (m.name.clone(), m.data.clone()))
            .collect()
    };
    // Same blobs except the manifest descriptors differ only by ref name in index.json.
    assert_eq!(blobs(&archive), blobs(&tree));
}

#[test]
fn symlinked_duplicate_points_to_first_occurrence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = ImageSpec::sample();
    let w = write(&spec, Layout::DockerLegacySymlinked, dir.path());
    assert_eq!(w.diff_ids[4], w.diff_ids[5], "sample has duplicate layers");
    let ar = Archive::open(&w.path);
    let mj = ar.json("manifest.json");
    let l4 = mj[0]["Layers"][4].as_str().expect("layer 4");
    let l5 = mj[0]["Layers"][5].as_str().expect("layer 5");
    let m5 = ar.get(l5).expect("layer 5 member");
    assert_eq!(m5.kind, EntryType::Symlink);
    assert_eq!(m5.link.as_deref(), Some(format!("../{l4}").as_str()));
    assert!(ar.index_of(l5) < ar.index_of(l4), "symlink before target");
}

#[test]
fn tar_tvf_agrees() {
    common::real::tool("tar", "--version", "Debian's tar");
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = ImageSpec::sample();
    for layout in all_layouts().into_iter().filter(|l| !l.is_dir()) {
        let w = write(&spec, layout, dir.path());
        let out = Command::new("tar")
            .arg("tvf")
            .arg(&w.path)
            .output()
            .expect("tar");
        assert!(
            out.status.success(),
            "{layout:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let listing = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = listing.lines().collect();
        let ar = Archive::open(&w.path);
        assert_eq!(lines.len(), ar.members.len(), "{layout:?}");
        for (line, m) in lines.iter().zip(&ar.members) {
            let kind = line.chars().next().expect("type char");
            let want = match m.kind {
                EntryType::Directory => 'd',
                EntryType::Symlink => 'l',
                _ => '-',
            };
            assert_eq!(kind, want, "{layout:?}: {line}");
            assert!(line.contains(m.name.trim_end_matches('/')), "{line}");
            if let Some(link) = &m.link {
                assert!(line.ends_with(&format!(" -> {link}")), "{line}");
            }
        }
    }
    // The layer tars themselves: GNU tar sees the same entries and full long names.
    for (i, tar) in ImageSpec::sample().layers.iter().enumerate() {
        let path = dir.path().join(format!("layer{i}.tar"));
        fs::write(&path, tar.tar().expect("tar")).expect("write");
        let out = Command::new("tar")
            .arg("tvf")
            .arg(&path)
            .output()
            .expect("tar");
        assert!(
            out.status.success(),
            "layer {i}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let listing = String::from_utf8_lossy(&out.stdout);
        assert_eq!(listing.lines().count(), tar.entries.len(), "layer {i}");
        for e in &tar.entries {
            let p = String::from_utf8_lossy(&e.tar_path()).into_owned();
            if p.is_ascii() {
                assert!(listing.contains(p.trim_end_matches('/')), "layer {i}: {p}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tests: layer tar semantics (formats.md §5)
// ---------------------------------------------------------------------------------------------

/// One entry as the `tar` crate reports it (extensions applied).
#[derive(Debug)]
struct Entry {
    path: Vec<u8>,
    raw_name: Vec<u8>,
    kind: EntryType,
    mode: u32,
    uid: u64,
    gid: u64,
    mtime: u64,
    link: Option<Vec<u8>>,
    dev: Option<(u32, u32)>,
    magic: Vec<u8>,
    uname: Vec<u8>,
    pax: BTreeMap<String, Vec<u8>>,
    data: Vec<u8>,
}

fn entries(tar: &[u8]) -> Vec<Entry> {
    let mut ar = tar::Archive::new(tar);
    let mut out = Vec::new();
    for e in ar.entries().expect("entries") {
        let mut e = e.expect("entry");
        let h = e.header().clone();
        let mut pax = BTreeMap::new();
        if let Some(exts) = e.pax_extensions().expect("pax") {
            for x in exts {
                let x = x.expect("pax record");
                pax.insert(x.key().expect("key").to_string(), x.value_bytes().to_vec());
            }
        }
        let mut data = Vec::new();
        e.read_to_end(&mut data).expect("data");
        let dev = match h.entry_type() {
            EntryType::Char | EntryType::Block => Some((
                h.device_major().expect("major").expect("some"),
                h.device_minor().expect("minor").expect("some"),
            )),
            _ => None,
        };
        out.push(Entry {
            path: e.path_bytes().into_owned(),
            raw_name: h
                .as_old()
                .name
                .iter()
                .copied()
                .take_while(|&c| c != 0)
                .collect(),
            kind: h.entry_type(),
            mode: h.mode().expect("mode"),
            uid: e.header().uid().expect("uid"),
            gid: e.header().gid().expect("gid"),
            mtime: h.mtime().expect("mtime"),
            link: e.link_name_bytes().map(|l| l.into_owned()),
            dev,
            magic: h.as_bytes()[257..265].to_vec(),
            uname: h.username_bytes().unwrap_or_default().to_vec(),
            pax,
            data,
        });
    }
    out
}

/// Raw entry types including extension headers.
fn raw_types(tar: &[u8]) -> Vec<(EntryType, Vec<u8>)> {
    let mut ar = tar::Archive::new(tar);
    let mut out = Vec::new();
    for e in ar.entries().expect("entries").raw(true) {
        let e = e.expect("entry");
        out.push((
            e.header().entry_type(),
            e.header().path_bytes().into_owned(),
        ));
    }
    out
}

fn find<'a>(es: &'a [Entry], path: &[u8]) -> &'a Entry {
    es.iter()
        .find(|e| e.path == path)
        .unwrap_or_else(|| panic!("no entry {}", String::from_utf8_lossy(path)))
}

#[test]
fn layer_entries_match_the_spec() {
    let spec = ImageSpec::sample();
    for (i, layer) in spec.layers.iter().enumerate() {
        let tar = layer.tar().expect("tar");
        assert_eq!(tar.len() % 512, 0);
        assert!(tar.ends_with(&[0; 1024]), "two zero blocks");
        let es = entries(&tar);
        let paths: Vec<Vec<u8>> = es.iter().map(|e| e.path.clone()).collect();
        let want: Vec<Vec<u8>> = layer.entries.iter().map(EntrySpec::tar_path).collect();
        assert_eq!(
            paths, want,
            "layer {i}: exact entries, in order, no parents added"
        );
        for e in &es {
            assert!(e.uname.is_empty(), "empty uname");
            let opaque = e.path.ends_with(b".wh..wh..opq");
            assert_eq!(e.mtime, if opaque { 0 } else { LAYER_MTIME });
            let want_magic: &[u8] = if layer.long_names == LongNames::Gnu {
                b"ustar  \0"
            } else {
                b"ustar\x0000"
            };
            assert_eq!(e.magic, want_magic, "layer {i} header format");
        }
    }
}

#[test]
fn base_layer_modes_links_devices_ids() {
    let tar = ImageSpec::sample().layers[0].tar().expect("tar");
    let es = entries(&tar);
    assert_eq!(find(&es, b"bin/").mode, 0o40755);
    assert_eq!(find(&es, b"bin/").kind, EntryType::Directory);
    assert_eq!(find(&es, b"tmp/").mode, 0o41777, "sticky");
    assert_eq!(find(&es, b"bin/sh").mode, 0o100755);
    assert_eq!(find(&es, b"bin/sh").data.len(), 8192);
    assert_eq!(find(&es, b"usr/bin/passwd").mode, 0o104755, "setuid");
    let sym = find(&es, b"usr/bin/sh");
    assert_eq!((sym.kind, sym.mode), (EntryType::Symlink, 0o120777));
    assert_eq!(sym.link.as_deref(), Some(&b"/bin/sh"[..]));
    let hl = find(&es, b"bin/sh-hardlink");
    assert_eq!(hl.kind, EntryType::Link);
    assert_eq!(hl.link.as_deref(), Some(&b"bin/sh"[..]));
    assert!(hl.data.is_empty());
    let null = find(&es, b"dev/null");
    assert_eq!(
        (null.kind, null.mode, null.dev),
        (EntryType::Char, 0o20666, Some((1, 3)))
    );
    assert_eq!(find(&es, b"run/initctl").kind, EntryType::Fifo);
    let big = find(&es, b"home/u/big-uid.txt");
    assert_eq!(
        (big.uid, big.gid),
        (3_000_000, 3_000_000),
        "PAX uid/gid applied"
    );
    assert_eq!(big.pax.get("uid").map(Vec::as_slice), Some(&b"3000000"[..]));
    assert_eq!(big.mode, 0o100640);
    assert!(es.iter().all(|e| e.path != b"dev/" && e.path != b"run/"));
    // PAX header named like Go's.
    let raw = raw_types(&tar);
    assert!(raw
        .iter()
        .any(|(t, n)| *t == EntryType::XHeader && n == b"home/u/PaxHeaders.0/big-uid.txt"));
}

#[test]
fn long_and_non_utf8_names() {
    let spec = ImageSpec::sample();
    let pax_tar = spec.layers[1].tar().expect("tar");
    let es = entries(&pax_tar);
    let long = es.iter().find(|e| e.path.len() > 100).expect("long path");
    assert!(long.path.ends_with(b"/README.md"));
    assert_eq!(long.pax.get("path"), Some(&long.path));
    assert_eq!(
        long.raw_name,
        long.path[..100].to_vec(),
        "header keeps first 100 bytes"
    );
    let latin = find(&es, b"app/caf\xe9.txt");
    assert_eq!(
        latin.pax.get("path").map(Vec::as_slice),
        Some(&b"app/caf\xe9.txt"[..])
    );
    assert_eq!(
        latin.raw_name, b"app/caf.txt",
        "ASCII-only header name, like Go"
    );
    assert!(std::str::from_utf8(&latin.path).is_err());

    let gnu_tar = spec.layers[3].tar().expect("tar");
    let raw = raw_types(&gnu_tar);
    assert!(raw.iter().any(|(t, _)| *t == EntryType::GNULongName));
    assert!(raw.iter().any(|(t, _)| *t == EntryType::GNULongLink));
    let es = entries(&gnu_tar);
    let long = es
        .iter()
        .find(|e| e.path.ends_with(b"/LICENSE"))
        .expect("long");
    assert!(long.path.len() > 100 && !long.pax.contains_key("path"));
    let link = find(&es, b"usr/bin/doc-link");
    assert!(link.link.as_ref().expect("link").len() > 100);
    assert_eq!(
        link.link.as_deref(),
        Some(&[b"/", &long.path[..]].concat()[..])
    );
}

#[test]
fn ustar_prefix_and_odd_paths() {
    let long = format!("{}/{}", "p".repeat(120), "n".repeat(60));
    let mut layer = LayerSpec::new(
        "odd",
        vec![
            EntrySpec::file(&long, "x", 0o644),
            EntrySpec::file("./a", "a", 0o644),
            EntrySpec::file("/abs", "b", 0o644),
            EntrySpec::file("a/../b", "c", 0o644),
            EntrySpec::file("q".repeat(130), "no slash: cannot split", 0o644),
        ],
    );
    layer.long_names = LongNames::UstarPrefix;
    let tar = layer.tar().expect("tar");
    let es = entries(&tar);
    assert_eq!(es[0].path, long.as_bytes());
    assert!(es[0].pax.is_empty(), "USTAR prefix, no PAX");
    assert_eq!(es[0].raw_name, "n".repeat(60).as_bytes());
    for (e, want) in es[1..4].iter().zip(["./a", "/abs", "a/../b"]) {
        assert_eq!(e.path, want.as_bytes(), "written exactly as given");
        assert_eq!(e.raw_name, want.as_bytes());
    }
    assert_eq!(
        es[4].pax.get("path").map(Vec::len),
        Some(130),
        "PAX fallback"
    );
}

#[test]
fn whiteouts_opaque_caps_and_custom_entries() {
    let spec = ImageSpec::sample();
    let es = entries(&spec.layers[2].tar().expect("tar"));
    let wh = find(&es, b"root/.ssh/.wh.id_rsa");
    assert_eq!(
        (wh.kind, wh.mode, wh.data.len()),
        (EntryType::Regular, 0o600, 0)
    );
    let opq = find(&es, b"app/.wh..wh..opq");
    assert_eq!(
        (opq.kind, opq.mode, opq.mtime),
        (EntryType::Regular, 0o755, 0)
    );
    assert_eq!(whiteout_path(b"top"), b".wh.top");
    assert_eq!(opaque_path(b"/"), b".wh..wh..opq");

    let es = entries(&spec.layers[3].tar().expect("tar"));
    let ping = find(&es, b"usr/bin/ping");
    let caps = ping
        .pax
        .get("SCHILY.xattr.security.capability")
        .expect("caps");
    assert_eq!(caps, &vfs_cap_v2(1 << 13));
    assert_eq!(caps.len(), 20);
    assert_eq!(&caps[..4], &0x0200_0001u32.to_le_bytes());
    assert_eq!(ping.mode, 0o100755);

    // Custom: a whiteout carrying a linkname, and a pre-1970 mtime via PAX.
    let mut h = tar::Header::new_ustar();
    h.set_path("t/.wh.b").expect("path");
    h.set_link_name("t/hl/b").expect("link");
    h.set_mode(0o600);
    h.set_uid(0);
    h.set_gid(0);
    h.set_entry_type(EntryType::Regular);
    let mut old = tar::Header::new_ustar();
    old.set_path("old").expect("path");
    old.set_mode(0o100644);
    old.set_uid(0);
    old.set_gid(0);
    let layer = LayerSpec::new(
        "custom",
        vec![
            EntrySpec::Custom {
                header: Box::new(h),
                pax: Vec::new(),
                data: Vec::new(),
            },
            EntrySpec::Custom {
                header: Box::new(old),
                pax: vec![("mtime".into(), b"-315619200".to_vec())],
                data: b"1960".to_vec(),
            },
        ],
    );
    let es = entries(&layer.tar().expect("tar"));
    assert_eq!(es[0].link.as_deref(), Some(&b"t/hl/b"[..]));
    assert_eq!(
        es[1].pax.get("mtime").map(Vec::as_slice),
        Some(&b"-315619200"[..])
    );
    assert_eq!(es[1].data, b"1960");
}

#[test]
fn duplicate_and_empty_layers() {
    let spec = ImageSpec::sample();
    let dir = tempfile::tempdir().expect("tempdir");
    let w = write(&spec, Layout::DockerLegacy, dir.path());
    assert_eq!(w.layer_tars[4], w.layer_tars[5]);
    assert_eq!(w.layer_tars[6], vec![0u8; 1024]);
    assert_eq!(w.diff_ids[6], EMPTY_LAYER_DIFF_ID);
    let cfg: Value = serde_json::from_slice(&w.config).expect("config");
    let history = cfg["history"].as_array().expect("history");
    assert_eq!(history.len(), 10);
    assert_eq!(history[1]["empty_layer"], true);
    assert_eq!(history[0]["comment"], "Imported from -");
    assert_eq!(cfg["config"]["User"], "app");
}

#[test]
fn generated_history_and_variant() {
    let mut spec = ImageSpec::minimal();
    spec.variant = Some("v8".into());
    spec.architecture = "arm64".into();
    spec.repo_tags.clear();
    let dir = tempfile::tempdir().expect("tempdir");
    let w = write(&spec, Layout::DockerLegacy, dir.path());
    let cfg: Value = serde_json::from_slice(&w.config).expect("config");
    assert_eq!(cfg["variant"], "v8");
    assert_eq!(
        cfg["history"],
        json!([{"created": spec.created, "created_by": "COPY hello /srv/hello"}])
    );
    let ar = Archive::open(&w.path);
    assert!(ar.get("repositories").is_none(), "no tags, no repositories");
    assert_eq!(ar.json("manifest.json")[0]["RepoTags"], Value::Null);
}

// ---------------------------------------------------------------------------------------------
// Tests: multi-platform
// ---------------------------------------------------------------------------------------------

fn two_platforms() -> Vec<ImageSpec> {
    let amd = ImageSpec::sample();
    let mut arm = ImageSpec::minimal();
    arm.architecture = "arm64".into();
    arm.variant = Some("v8".into());
    // Share the base layer with amd64 so sharing survives a missing platform.
    arm.layers.insert(0, amd.layers[0].clone());
    vec![amd, arm]
}

fn multi_index(ar: &Archive, mw: &MultiWritten) -> Vec<Value> {
    assert!(ar.get("manifest.json").is_none());
    let index = ar.json("index.json");
    let top = &index["manifests"][0];
    assert_eq!(top["digest"], mw.index_digest.as_str());
    assert_eq!(
        top["annotations"]["org.opencontainers.image.ref.name"],
        "example/app:1.0"
    );
    let nested: Value = serde_json::from_slice(ar.fetch(top)).expect("image index");
    nested["manifests"].as_array().expect("manifests").clone()
}

#[test]
fn multi_platform_index_lists_platforms_and_attestation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let specs = two_platforms();
    for comp in [Comp::Gzip, Comp::Zstd, Comp::None] {
        let path = dir.path().join(format!("multi-{comp:?}.tar"));
        let mw = multi_platform(&specs, &path, comp, Missing::Nothing).expect("write");
        let ar = Archive::open(&path);
        assert_walk_order(&ar);
        let entries = multi_index(&ar, &mw);
        assert_eq!(entries.len(), 3);
        assert_eq!(
            entries[0]["platform"],
            json!({"architecture": "amd64", "os": "linux"})
        );
        assert_eq!(
            entries[1]["platform"],
            json!({"architecture": "arm64", "os": "linux", "variant": "v8"})
        );
        assert_eq!(entries[2]["digest"], mw.attestation_digest.as_str());
        assert_eq!(entries[2]["platform"]["os"], "unknown");
        assert_eq!(
            entries[2]["annotations"]["vnd.docker.reference.digest"],
            entries[0]["digest"]
        );
        for (i, w) in mw.images.iter().enumerate() {
            assert_eq!(entries[i]["digest"].as_str(), w.manifest_digest.as_deref());
            let m: Value = serde_json::from_slice(ar.fetch(&entries[i])).expect("manifest");
            check_config(ar.fetch(&m["config"]), w, &specs[i]);
            let blobs: Vec<&[u8]> = m["layers"]
                .as_array()
                .expect("layers")
                .iter()
                .map(|d| ar.fetch(d))
                .collect();
            check_layers(&blobs, w);
        }
        assert_eq!(
            mw.images[0].diff_ids[0], mw.images[1].diff_ids[0],
            "shared base"
        );
    }
}

#[test]
fn multi_platform_with_missing_blobs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let specs = two_platforms();
    for missing in [Missing::Platform(1), Missing::Layers(1)] {
        let path = dir.path().join(format!("multi-{missing:?}.tar"));
        let mw = multi_platform(&specs, &path, Comp::Gzip, missing).expect("write");
        let ar = Archive::open(&path);
        let entries = multi_index(&ar, &mw);
        // Platform 0 and the attestation are complete.
        ar.fetch(&entries[0]);
        ar.fetch(&entries[2]);
        let arm = &mw.images[1];
        let manifest_present = ar
            .blob(arm.manifest_digest.as_deref().expect("digest"))
            .is_some();
        let config_present = ar.blob(&arm.config_digest).is_some();
        let expect_meta = missing == Missing::Layers(1);
        assert_eq!(
            (manifest_present, config_present),
            (expect_meta, expect_meta)
        );
        assert!(
            ar.blob(&arm.layer_digests[0]).is_some(),
            "shared layer kept"
        );
        assert!(ar.blob(&arm.layer_digests[1]).is_none(), "own layer absent");
    }
}

// ---------------------------------------------------------------------------------------------
// Tests: broken inputs
// ---------------------------------------------------------------------------------------------

fn broken(kind: Broken, dir: &Path) -> Vec<u8> {
    let path = write_broken(kind, &dir.join(format!("{kind:?}"))).expect("write_broken");
    fs::read(path).expect("read")
}

/// Lists a tar leniently: names read before the first error, and whether one occurred.
fn lenient_list(bytes: &[u8]) -> (Vec<String>, bool) {
    let mut names = Vec::new();
    let mut ar = tar::Archive::new(bytes);
    let Ok(iter) = ar.entries() else {
        return (names, true);
    };
    for e in iter {
        match e {
            Ok(mut e) => {
                names.push(String::from_utf8_lossy(&e.path_bytes()).into_owned());
                if io::copy(&mut e, &mut io::sink()).is_err() {
                    return (names, true);
                }
            }
            Err(_) => return (names, true),
        }
    }
    (names, false)
}

#[test]
fn broken_truncated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = broken(Broken::Truncated, dir.path());
    let (names, failed) = lenient_list(&bytes);
    assert!(failed, "reading the cut layer fails");
    assert!(names.last().expect("some members").ends_with("/layer.tar"));
    assert!(!names.iter().any(|n| n == "manifest.json"));
}

#[test]
fn broken_corrupt_compression() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (kind, magic) in [
        (Broken::CorruptGzip, is_gzip as fn(&[u8]) -> bool),
        (Broken::CorruptZstd, is_zstd),
    ] {
        let ar = Archive::from_tar(&broken(kind, dir.path()));
        let index = ar.json("index.json");
        let manifest: Value =
            serde_json::from_slice(ar.fetch(&index["manifests"][0])).expect("manifest");
        let mut failures = 0;
        for d in manifest["layers"].as_array().expect("layers") {
            let blob = ar.fetch(d); // digests are consistent
            assert!(magic(blob), "{kind:?}: magic intact");
            failures += usize::from(decode_layer(blob).is_err());
        }
        assert_eq!(
            failures, 1,
            "{kind:?}: exactly one layer fails to decompress"
        );
    }
}

#[test]
fn broken_missing_blob() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ar = Archive::from_tar(&broken(Broken::MissingBlob, dir.path()));
    let index = ar.json("index.json");
    let manifest: Value =
        serde_json::from_slice(ar.fetch(&index["manifests"][0])).expect("manifest");
    let absent: Vec<_> = manifest["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .filter(|d| ar.blob(d["digest"].as_str().expect("digest")).is_none())
        .collect();
    assert_eq!(absent.len(), 1);
    assert_eq!(absent[0], &manifest["layers"][1]);
}

#[test]
fn broken_manifest_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ar = Archive::from_tar(&broken(Broken::ManifestPointsNowhere, dir.path()));
    let mj = ar.json("manifest.json");
    let layers = mj[0]["Layers"].as_array().expect("layers");
    let missing: Vec<_> = layers
        .iter()
        .filter(|l| ar.get(l.as_str().expect("str")).is_none())
        .collect();
    assert_eq!(missing, [&json!(format!("{}/layer.tar", "0".repeat(64)))]);

    let ar = Archive::from_tar(&broken(Broken::InvalidJson, dir.path()));
    let m = ar.get("manifest.json").expect("manifest.json");
    assert!(serde_json::from_slice::<Value>(&m.data).is_err());
    assert!(!m.data.is_empty());
}

#[test]
fn broken_digest_mismatch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ar = Archive::from_tar(&broken(Broken::DigestMismatch, dir.path()));
    let mj = ar.json("manifest.json");
    let cfg = ar.json(mj[0]["Config"].as_str().expect("Config"));
    let mut mismatched = 0;
    for (i, l) in mj[0]["Layers"]
        .as_array()
        .expect("layers")
        .iter()
        .enumerate()
    {
        let name = l.as_str().expect("str");
        let data = &ar.get(name).expect("layer blob").data;
        entries(data); // still a readable tar
        let claimed = format!("sha256:{}", name.trim_start_matches("blobs/sha256/"));
        assert_eq!(cfg["rootfs"]["diff_ids"][i], claimed.as_str());
        mismatched += usize::from(sha(data) != claimed);
    }
    assert_eq!(mismatched, 1);
}

#[test]
fn broken_not_an_archive_and_empty() {
    let dir = tempfile::tempdir().expect("tempdir");
    let junk = broken(Broken::NotAnArchive, dir.path());
    assert_eq!(junk.len(), 64 * 1024);
    assert!(!is_gzip(&junk) && !is_zstd(&junk) && !is_tar(&junk));
    assert!(!junk.starts_with(b"BZh") && !junk.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]));
    assert!(lenient_list(&junk).1, "tar reader rejects it");
    assert!(broken(Broken::EmptyFile, dir.path()).is_empty());
}

/// Reader that hashes what passes through.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Hashing<R> {
    fn new(inner: R) -> Self {
        Hashing {
            inner,
            hasher: Sha256::new(),
        }
    }

    /// Drains the rest of the stream and returns `sha256:<hex>` of everything read.
    fn finish(mut self) -> String {
        io::copy(&mut self, &mut io::sink()).expect("drain");
        format!("sha256:{:x}", self.hasher.finalize())
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Streams an OCI archive's single gzip layer, checking its diffID; returns
/// (entry path, entry size, bytes read).
fn stream_bomb(path: &Path) -> (String, u64, u64) {
    let ar = Archive::open(path);
    let index = ar.json("index.json");
    let manifest: Value =
        serde_json::from_slice(ar.fetch(&index["manifests"][0])).expect("manifest");
    let cfg: Value = serde_json::from_slice(ar.fetch(&manifest["config"])).expect("config");
    let blob = ar.fetch(&manifest["layers"][0]);
    assert!(is_gzip(blob));
    assert_eq!(cfg["rootfs"]["diff_ids"].as_array().map(Vec::len), Some(1));
    let mut reader = Hashing::new(MultiGzDecoder::new(blob));
    let (name, size, read) = {
        let mut tar = tar::Archive::new(&mut reader);
        let mut it = tar.entries().expect("entries");
        let mut e = it.next().expect("one entry").expect("entry");
        let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
        let size = e.size();
        let read = io::copy(&mut e, &mut io::sink()).expect("inflate");
        drop(e);
        assert!(it.next().is_none(), "single entry");
        (name, size, read)
    };
    let diff = reader.finish();
    assert_eq!(
        cfg["rootfs"]["diff_ids"][0],
        diff.as_str(),
        "diffID of the stream"
    );
    (name, size, read)
}

#[test]
fn gzip_bomb_small() {
    let dir = tempfile::tempdir().expect("tempdir");
    let size = 64 << 20;
    let path = write_gzip_bomb(size, &dir.path().join("bomb.tar")).expect("bomb");
    assert!(
        fs::metadata(&path).expect("meta").len() < size / 500,
        "small on disk"
    );
    let (name, entry_size, read) = stream_bomb(&path);
    assert_eq!((name.as_str(), entry_size, read), ("zeros", size, size));
}

#[test]
fn gzip_bomb_full() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_broken(Broken::GzipBomb, &dir.path().join("bomb.tar")).expect("bomb");
    assert!(fs::metadata(&path).expect("meta").len() < 8 << 20);
    let (_, size, read) = stream_bomb(&path);
    assert!(size > 2 << 30);
    assert_eq!((size, read), (BOMB_SIZE, BOMB_SIZE));
}

/// Calls `f` with the data of member `name` of the plain tar at `path`, streaming.
fn with_member<T>(path: &Path, name: &str, f: impl FnOnce(&mut dyn Read) -> T) -> T {
    let file = io::BufReader::new(fs::File::open(path).expect("open"));
    let mut ar = tar::Archive::new(file);
    for e in ar.entries().expect("entries") {
        let mut e = e.expect("entry");
        if *e.path_bytes() == *name.as_bytes() {
            return f(&mut e);
        }
    }
    panic!("no member {name}");
}

fn read_json(r: &mut dyn Read) -> Value {
    serde_json::from_reader(r).expect("JSON member")
}

/// Streams the single layer of a legacy archive: checks its diffID and counts entries.
fn check_many(path: &Path, n: usize) {
    let mj = with_member(path, "manifest.json", read_json);
    let cfg = with_member(path, mj[0]["Config"].as_str().expect("Config"), read_json);
    let layer = mj[0]["Layers"][0].as_str().expect("layer");
    let ((files, dirs), diff) = with_member(path, layer, |r| {
        let mut hashing = Hashing::new(r);
        let mut counts = (0, 0);
        let mut tar = tar::Archive::new(&mut hashing);
        for e in tar.entries().expect("entries") {
            match e.expect("entry").header().entry_type() {
                EntryType::Regular => counts.0 += 1,
                EntryType::Directory => counts.1 += 1,
                t => panic!("unexpected {t:?}"),
            }
        }
        (counts, hashing.finish())
    });
    assert_eq!(cfg["rootfs"]["diff_ids"][0], diff.as_str());
    assert_eq!((files, dirs), (n, n.div_ceil(1000)));
}

#[test]
fn many_entries_small() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_many_entries(10_000, &dir.path().join("many.tar")).expect("many");
    check_many(&path, 10_000);
    assert_eq!(
        fs::read_dir(dir.path()).expect("ls").count(),
        1,
        "temp layer removed"
    );
}

#[test]
fn many_entries_full() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_broken(Broken::MillionEntries, &dir.path().join("many.tar")).expect("many");
    check_many(&path, MILLION);
}

#[test]
fn every_fast_broken_kind_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    for kind in Broken::all() {
        if matches!(kind, Broken::GzipBomb | Broken::MillionEntries) {
            continue;
        }
        let path = dir.path().join(format!("{kind:?}.bin"));
        assert_eq!(write_broken(kind, &path).expect("write"), path);
        assert!(path.is_file());
    }
}

// ---------------------------------------------------------------------------------------------
// Property: any file-only layer round-trips through the tar crate in every long-name style.
// ---------------------------------------------------------------------------------------------

mod props {
    use super::*;
    use proptest::prelude::*;

    fn path_strategy() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop::collection::vec(
                prop::sample::select(b"abcXYZ019._-\xe9\xff".to_vec()),
                1..40,
            ),
            1..8,
        )
        .prop_map(|parts| parts.join(&b'/'))
        .prop_filter("no . or .. components", |p| {
            p.split(|&c| c == b'/').all(|s| s != b"." && s != b"..")
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn files_round_trip(
            files in prop::collection::vec(
                (path_strategy(), prop::collection::vec(any::<u8>(), 0..600), 0u32..0o7777, 0u64..5_000_000),
                0..6,
            ),
            style in prop::sample::select(vec![LongNames::Pax, LongNames::Gnu, LongNames::UstarPrefix]),
        ) {
            let mut layer = LayerSpec::new("prop", files.iter().map(|(p, d, m, u)| EntrySpec::File {
                path: p.clone(), data: d.clone(), mode: *m, uid: *u, gid: *u,
            }).collect());
            layer.long_names = style;
            let tar = layer.tar().expect("tar");
            let es = entries(&tar);
            prop_assert_eq!(es.len(), files.len());
            for (e, (p, d, m, u)) in es.iter().zip(&files) {
                prop_assert_eq!(&e.path, p);
                prop_assert_eq!(&e.data, d);
                prop_assert_eq!(e.mode, 0o100000 | m);
                prop_assert_eq!((e.uid, e.gid), (*u, *u));
            }
        }
    }
}
