//! The engine against every archive layout written by the fixture builder: identical numbers
//! across layouts, numbers equal to an independent naive overlay of the image description,
//! platform selection, and one-line errors for bad input.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::fixture::*;
use strata::analysis::efficiency::Efficiency;
use strata::report::Report;
use strata::source::resolve::Platform;
use strata::source::{load as load_input, Input, LoadOptions, Progress};

fn load(path: &Path, opts: &LoadOptions) -> strata::Result<strata::model::Image> {
    load_input(
        &Input::parse(&path.display().to_string()),
        opts,
        &Progress::default(),
    )
}

/// The layout-independent part of a report: everything but where the bytes were stored (and
/// the attestations some layouts store next to the image).
fn comparable(path: &Path) -> serde_json::Value {
    let image =
        load(path, &LoadOptions::default()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let eff = Efficiency::of(&image);
    let mut v = serde_json::to_value(Report::build(&strata::Analysed {
        image: std::sync::Arc::new(image),
        efficiency: eff,
        findings: Vec::new(),
        packages: Vec::new(),
        redactor: strata::redact::Redactor::default(),
    }))
    .expect("json");
    v["image"]["reference"] = serde_json::Value::Null;
    v["image"]["repo_tags"] = serde_json::Value::Null;
    v["image"]["manifest_digest"] = serde_json::Value::Null;
    v["provenance"] = serde_json::Value::Null;
    for l in v["layers"].as_array_mut().expect("layers") {
        let o = l.as_object_mut().expect("layer");
        o.remove("blob_digest");
        o.remove("blob_bytes");
        o.remove("compression");
    }
    v
}

fn norm(p: &[u8]) -> String {
    let s = String::from_utf8_lossy(p).into_owned();
    s.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// A deliberately naive overlay: path -> (is_dir, size, hard-link target), rescanning the whole
/// map for every whiteout. Returns (total file bytes, visible file bytes, visible paths).
fn naive(spec: &ImageSpec) -> (u64, u64, Vec<String>) {
    let mut fs: BTreeMap<String, (bool, u64)> = BTreeMap::new();
    let mut total = 0;
    let under = |fs: &BTreeMap<String, (bool, u64)>, p: &str| -> Vec<String> {
        fs.keys()
            .filter(|k| k.starts_with(&format!("{p}/")))
            .cloned()
            .collect()
    };
    for layer in &spec.layers {
        for e in &layer.entries {
            match e {
                EntrySpec::Whiteout { path } => {
                    let p = norm(path);
                    for k in under(&fs, &p) {
                        fs.remove(&k);
                    }
                    fs.remove(&p);
                }
                EntrySpec::Opaque { dir } => {
                    for k in under(&fs, &norm(dir)) {
                        fs.remove(&k);
                    }
                }
                _ => {}
            }
        }
        for e in &layer.entries {
            let (path, is_dir, size) = match e {
                EntrySpec::File { path, data, .. } | EntrySpec::FileWithCaps { path, data, .. } => {
                    (path, false, data.len() as u64)
                }
                EntrySpec::Dir { path, .. } => (path, true, 0),
                EntrySpec::Symlink { path, .. }
                | EntrySpec::HardLink { path, .. }
                | EntrySpec::Fifo { path }
                | EntrySpec::CharDev { path, .. }
                | EntrySpec::BlockDev { path, .. } => (path, false, 0),
                _ => continue,
            };
            total += size;
            fs.insert(norm(path), (is_dir, size));
        }
    }
    let visible = fs.values().map(|v| v.1).sum();
    let files = fs
        .iter()
        .filter(|(_, v)| !v.0)
        .map(|(k, _)| k.clone())
        .collect();
    (total, visible, files)
}

#[test]
fn every_layout_gives_identical_numbers() {
    let dir = tempfile::tempdir().expect("tmp");
    let spec = ImageSpec::sample();
    let mut baseline: Option<(Layout, serde_json::Value)> = None;
    for layout in all_layouts() {
        let path = dir.path().join(format!("{layout:?}"));
        write_image(&spec, layout, &path).expect("write fixture");
        let report = comparable(&path);
        match &baseline {
            None => baseline = Some((layout, report)),
            Some((base_layout, base)) => {
                assert_eq!(&report, base, "{layout:?} differs from {base_layout:?}")
            }
        }
    }
}

#[test]
fn numbers_match_a_naive_overlay_of_the_description() {
    let dir = tempfile::tempdir().expect("tmp");
    let spec = ImageSpec::sample();
    let path = dir.path().join("img.tar");
    let written = write_image(&spec, Layout::ContainerdGzip, &path).expect("write");
    let image = load(&path, &LoadOptions::default()).expect("load");
    let eff = Efficiency::of(&image);
    let (total, visible, files) = naive(&spec);
    assert_eq!(eff.total_bytes, total);
    assert_eq!(eff.visible_bytes, visible);
    assert_eq!(eff.reclaimable_bytes, total - visible);
    // Three versions are invisible: the deleted key (20 bytes), and app/main.py v1 (15) and
    // app/caf\xe9.txt (13) hidden by the opaque app/ of layer 2.
    assert_eq!(eff.reclaimable_bytes, 20 + 15 + 13);
    let mut ours: Vec<String> = (0..image.fs.path_count() as u32)
        .filter_map(|id| image.fs.final_version(id).map(|v| (id, v)))
        .filter(|&(_, v)| image.fs.versions[v as usize].kind != strata::model::EntryKind::Dir)
        .map(|(id, _)| String::from_utf8_lossy(image.fs.path(id)).into_owned())
        .collect();
    ours.sort();
    assert_eq!(ours, files);
    // History: 10 entries, 3 empty, layers mapped in order.
    assert_eq!(image.history.len(), 10);
    let mapped: Vec<Option<usize>> = image.history.iter().map(|h| h.layer).collect();
    assert_eq!(
        mapped,
        vec![
            Some(0),
            None,
            Some(1),
            Some(2),
            None,
            Some(3),
            Some(4),
            Some(5),
            Some(6),
            None
        ]
    );
    assert_eq!(image.id, written.config_digest);
    let diff_ids: Vec<String> = image.layers.iter().map(|l| l.diff_id.clone()).collect();
    assert_eq!(diff_ids, written.diff_ids);
    let blobs: Vec<String> = image.layers.iter().map(|l| l.blob_digest.clone()).collect();
    assert_eq!(blobs, written.layer_digests);
    // Layer 2 removes id_rsa (whiteout) and app/caf\xe9.txt (opaque) and rewrites app/main.py.
    let l2 = &image.layers[2];
    assert_eq!(
        (l2.files_added, l2.files_modified, l2.files_removed),
        (0, 1, 2)
    );
    assert_eq!(image.layers[6].entries, 0, "the empty BuildKit layer");
    assert_eq!(image.layers[6].diff_id, EMPTY_LAYER_DIFF_ID);
}

#[test]
fn tar_semantics_survive_the_round_trip() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("img.tar");
    write_image(&ImageSpec::sample(), Layout::DockerLegacy, &path).expect("write");
    let image = load(&path, &LoadOptions::default()).expect("load");
    let fs = &image.fs;
    let final_of = |p: &[u8]| {
        let id = fs
            .lookup(p)
            .unwrap_or_else(|| panic!("{} missing", String::from_utf8_lossy(p)));
        &fs.versions[fs.final_version(id).expect("visible") as usize]
    };
    assert_eq!(final_of(b"usr/bin/passwd").mode, 0o4755);
    assert_eq!(final_of(b"tmp").mode, 0o1777);
    assert_eq!(final_of(b"home/u/big-uid.txt").uid, 3_000_000);
    assert_eq!(final_of(b"dev/null").device, Some((1, 3)));
    assert_eq!(
        final_of(b"usr/bin/sh").link.as_deref(),
        Some(&b"/bin/sh"[..])
    );
    let hl = final_of(b"bin/sh-hardlink");
    assert_eq!(hl.kind, strata::model::EntryKind::HardLink);
    assert_eq!(
        hl.hash,
        final_of(b"bin/sh").hash,
        "hard link resolves to its target's content"
    );
    assert_eq!(
        final_of(b"usr/bin/ping").caps.as_deref(),
        Some(&vfs_cap_v2(1 << 13)[..])
    );
    assert!(
        fs.lookup(b"app/caf\xe9.txt").is_some(),
        "non-UTF-8 name kept as bytes"
    );
    assert!(!fs.exists_in_final(fs.lookup(b"app/caf\xe9.txt").expect("path")));
    let long = b"usr/share/doc/a-package-with-a-rather-long-name-that-keeps-going/and-a-subdirectory-as-well/and-another-one/LICENSE";
    assert!(fs.exists_in_final(fs.lookup(long).expect("GNU long name")));
    // The deleted key is still in layer 1 and says who removed it.
    let key = fs.lookup(b"root/.ssh/id_rsa").expect("key path");
    let v = &fs.versions[fs.versions_of(key)[0] as usize];
    assert_eq!((v.layer, v.removed_in), (1, Some(2)));
    // Content read-back from the layer.
    let vid = fs.versions_of(key)[0];
    let bytes = strata::source::content::read_content(&image, vid, 1 << 20).expect("read back");
    assert_eq!(bytes, b"-----BEGIN KEY-----\n");
}

#[test]
fn content_reads_back_from_every_layout() {
    let dir = tempfile::tempdir().expect("tmp");
    let spec = ImageSpec::sample();
    for layout in all_layouts() {
        let path = dir.path().join(format!("{layout:?}"));
        write_image(&spec, layout, &path).expect("write");
        let image = load(&path, &LoadOptions::default()).expect("load");
        let id = image.fs.lookup(b"app/main.py").expect("path");
        let v = image.fs.final_version(id).expect("visible");
        let bytes = strata::source::content::read_content(&image, v, 1 << 20).expect("read");
        assert_eq!(bytes, b"print('v2')\n", "{layout:?}");
        let old = image.fs.versions_of(id)[0];
        let bytes = strata::source::content::read_content(&image, old, 1 << 20).expect("read");
        assert_eq!(bytes, b"print('hello')\n", "{layout:?}");
    }
}

fn arm_spec() -> ImageSpec {
    let mut s = ImageSpec::minimal();
    s.architecture = "arm64".into();
    s.variant = Some("v8".into());
    s.layers[0]
        .entries
        .push(EntrySpec::file("srv/arm-only", "arm\n", 0o644));
    s
}

#[test]
fn multi_platform_index_picks_host_or_requested_platform() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("multi.tar");
    multi_platform(
        &[ImageSpec::minimal(), arm_spec()],
        &path,
        Comp::Gzip,
        Missing::Nothing,
    )
    .expect("write");
    let host = load(&path, &LoadOptions::default()).expect("host platform");
    assert_eq!(host.architecture, "amd64");
    let opts = LoadOptions {
        platform: Some(Platform::parse("linux/arm64/v8").expect("platform")),
        ..LoadOptions::default()
    };
    let arm = load(&path, &opts).expect("arm64");
    assert_eq!(arm.architecture, "arm64");
    assert!(arm.fs.lookup(b"srv/arm-only").is_some());
    let opts = LoadOptions {
        platform: Some(Platform::parse("linux/s390x").expect("platform")),
        ..LoadOptions::default()
    };
    let err = load(&path, &opts)
        .expect_err("no such platform")
        .to_string();
    assert!(
        err.contains("linux/arm64/v8") && err.contains("--platform"),
        "{err}"
    );
}

#[test]
fn absent_platform_blobs_are_reported_not_fatal() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("multi.tar");
    multi_platform(
        &[ImageSpec::minimal(), arm_spec()],
        &path,
        Comp::Zstd,
        Missing::Layers(1),
    )
    .expect("write");
    let host = load(&path, &LoadOptions::default()).expect("present platform loads");
    assert!(
        host.warnings.iter().any(|w| w.contains("linux/arm64")),
        "{:?}",
        host.warnings
    );
    let opts = LoadOptions {
        platform: Some(Platform::parse("linux/arm64").expect("platform")),
        ..LoadOptions::default()
    };
    let err = load(&path, &opts).expect_err("absent platform").to_string();
    assert!(
        err.contains("not in the archive") || err.contains("no image for platform"),
        "{err}"
    );
}

fn run_binary(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .output()
        .expect("run strata");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_input_gives_one_line_errors_and_exit_2() {
    let dir = tempfile::tempdir().expect("tmp");
    let cases = [
        (Broken::Truncated, "truncated"),
        (Broken::CorruptGzip, "gzip"),
        (Broken::CorruptZstd, "zstd"),
        (Broken::MissingBlob, "not in the archive"),
        (Broken::ManifestPointsNowhere, "not in the archive"),
        (Broken::InvalidJson, "invalid JSON"),
        (Broken::DigestMismatch, "digest mismatch"),
        (Broken::GzipBomb, "decompression bomb"),
        (Broken::NotAnArchive, "not an image archive"),
        (Broken::EmptyFile, "empty"),
    ];
    for (kind, needle) in cases {
        let path = write_broken(kind, &dir.path().join(format!("{kind:?}.tar"))).expect("write");
        let p = path.display().to_string();
        let (code, stdout, stderr) = run_binary(&["report", &p, "--format", "json"]);
        assert_eq!(code, 2, "{kind:?}: exit code, stderr: {stderr}");
        assert!(stdout.is_empty(), "{kind:?}: no partial report on stdout");
        assert_eq!(stderr.lines().count(), 1, "{kind:?}: one line: {stderr}");
        assert!(stderr.contains(&p), "{kind:?}: names the file: {stderr}");
        assert!(
            stderr.to_lowercase().contains(&needle.to_lowercase()),
            "{kind:?}: says {needle:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{kind:?}: {stderr}");
    }
}

#[test]
fn a_million_entries_load_with_exact_counts() {
    let dir = tempfile::tempdir().expect("tmp");
    let path =
        write_broken(Broken::MillionEntries, &dir.path().join("million.tar")).expect("write");
    let (code, stdout, stderr) =
        run_binary(&["report", &path.display().to_string(), "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let added: u64 = v["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| l["files_added"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(added, MILLION as u64);
}

#[test]
fn missing_file_and_directory_errors() {
    let (code, _, stderr) = run_binary(&["report", "./does/not/exist.tar"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("does/not/exist.tar"), "{stderr}");
    let dir = tempfile::tempdir().expect("tmp");
    let (code, _, stderr) = run_binary(&["report", &format!("oci:{}", dir.path().display())]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not an OCI image layout"), "{stderr}");
}
