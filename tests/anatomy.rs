//! The anatomy view's engine parts on independently built fixtures: the documents chain each
//! source keeps (index → nested index → manifest → config, attestations as what they are),
//! raw layer entries equal to the tar entries the fixture builder wrote (names, order, types,
//! link targets, PAX records), the explanations of whiteouts and opaque markers naming the
//! layer that keeps the bytes, the reconstructed Dockerfile of every daemon test image against
//! its own Dockerfile, and `strata history --dockerfile`.

mod common;

use std::path::Path;
use std::process::Command;

use common::fixture::{write_image, EntrySpec, ImageSpec, LayerSpec, Layout};
use strata::analysis::anatomy::{explain, LayerRemovals};
use strata::analysis::dockerfile::{reconstruct, NOTE_PLACEHOLDER};
use strata::model::documents::{DocumentKind, Role};
use strata::model::Image;
use strata::redact::Redactor;
use strata::source::{content, load, Input, LoadOptions, Progress};

const BIN: &str = env!("CARGO_BIN_EXE_strata");

fn spec() -> ImageSpec {
    let layer = |created_by: &str, entries: Vec<EntrySpec>| LayerSpec {
        created_by: created_by.into(),
        entries,
        ..LayerSpec::default()
    };
    ImageSpec {
        layers: vec![
            layer(
                "/bin/sh -c #(nop) ADD file:0123abcd in / ",
                vec![
                    EntrySpec::dir("etc", 0o755),
                    EntrySpec::file("etc/a.conf", vec![b'a'; 100], 0o644),
                    EntrySpec::dir("root", 0o700),
                    EntrySpec::dir("root/.ssh", 0o700),
                    EntrySpec::file("root/.ssh/id_rsa", vec![b'k'; 50], 0o600),
                    EntrySpec::dir("var", 0o755),
                    EntrySpec::dir("var/www", 0o755),
                    EntrySpec::file("var/www/old.html", vec![b'o'; 30], 0o644),
                    EntrySpec::file("var/www/old2.html", vec![b'p'; 7], 0o644),
                    EntrySpec::dir("usr", 0o755),
                    EntrySpec::dir("usr/bin", 0o755),
                    EntrySpec::file("usr/bin/tool", vec![b't'; 200], 0o755),
                ],
            ),
            layer(
                "/bin/sh -c rm -rf /root/.ssh /var/www/* && ln /usr/bin/tool /usr/bin/tool2",
                vec![
                    EntrySpec::dir("root", 0o700),
                    EntrySpec::whiteout("root/.ssh"),
                    EntrySpec::dir("var/www", 0o755),
                    EntrySpec::opaque("var/www"),
                    EntrySpec::file("var/www/new.html", vec![b'n'; 10], 0o644),
                    EntrySpec::hard_link("usr/bin/tool2", "usr/bin/tool"),
                    EntrySpec::FileWithCaps {
                        path: b"usr/bin/ping".to_vec(),
                        data: vec![b'p'; 64],
                        caps: vec![2, 0, 0, 2, 0, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                    },
                ],
            ),
            layer(
                "/bin/sh -c rm /etc/a.conf",
                vec![
                    EntrySpec::dir("etc", 0o755),
                    EntrySpec::whiteout("etc/a.conf"),
                ],
            ),
        ],
        ..ImageSpec::default()
    }
}

fn open(path: &Path) -> Image {
    load(
        &Input::parse(&path.display().to_string()),
        &LoadOptions::default(),
        &Progress::default(),
    )
    .expect("load fixture")
}

/// The tar type flag the fixture builder writes for an entry (its documented header types).
fn written_kind(e: &EntrySpec) -> u8 {
    match e {
        EntrySpec::Dir { .. } => b'5',
        EntrySpec::Symlink { .. } => b'2',
        EntrySpec::HardLink { .. } => b'1',
        EntrySpec::Fifo { .. } => b'6',
        EntrySpec::CharDev { .. } => b'3',
        EntrySpec::BlockDev { .. } => b'4',
        _ => b'0',
    }
}

fn written_link(e: &EntrySpec) -> Option<Vec<u8>> {
    match e {
        EntrySpec::HardLink { target, .. } | EntrySpec::Symlink { target, .. } => {
            Some(target.clone())
        }
        _ => None,
    }
}

#[test]
fn raw_entries_are_the_tar_entries_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec();
    for layout in [
        Layout::DockerLegacy,
        Layout::ContainerdGzip,
        Layout::OciArchiveZstd,
    ] {
        let path = dir.path().join(format!("{layout:?}.tar"));
        write_image(&spec, layout, &path).unwrap();
        let image = open(&path);
        for (l, ls) in spec.layers.iter().enumerate() {
            let raw = content::raw_entries(&image, l, None).expect("raw entries");
            let got: Vec<(Vec<u8>, u8, Option<Vec<u8>>)> = raw
                .iter()
                .map(|e| (e.path.to_vec(), e.kind, e.link.as_ref().map(|l| l.to_vec())))
                .collect();
            let want: Vec<(Vec<u8>, u8, Option<Vec<u8>>)> = ls
                .entries
                .iter()
                .map(|e| (e.tar_path(), written_kind(e), written_link(e)))
                .collect();
            assert_eq!(got, want, "{layout:?} layer {l}");
            // The xattr travels in a PAX header before the entry; nothing else has one.
            for (e, s) in raw.iter().zip(&ls.entries) {
                let caps = matches!(s, EntrySpec::FileWithCaps { .. });
                assert_eq!(
                    e.pax.as_deref().is_some_and(|p| p
                        .split(' ')
                        .any(|k| k == "SCHILY.xattr.security.capability")),
                    caps,
                    "{layout:?} {:?}",
                    String::from_utf8_lossy(&e.path)
                );
                if let EntrySpec::File { data, mode, .. } = s {
                    assert_eq!(e.size, data.len() as u64);
                    assert_eq!(e.mode & 0o7777, *mode);
                }
            }
        }
    }
}

#[test]
fn special_entries_name_the_layer_that_keeps_the_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("img.tar");
    write_image(&spec(), Layout::DockerLegacy, &path).unwrap();
    let image = open(&path);
    let explained = |layer: usize| -> Vec<(String, Option<String>)> {
        let removals = LayerRemovals::of(&image, layer);
        content::raw_entries(&image, layer, None)
            .unwrap()
            .iter()
            .map(|e| {
                (
                    String::from_utf8_lossy(&e.path).into_owned(),
                    explain(&removals, e),
                )
            })
            .collect()
    };
    let l1 = explained(1);
    let get = |rows: &[(String, Option<String>)], name: &str| {
        rows.iter()
            .find(|(p, _)| p == name)
            .and_then(|(_, x)| x.clone())
            .unwrap_or_else(|| panic!("no explanation for {name}: {rows:?}"))
    };
    assert_eq!(
        get(&l1, "root/.wh..ssh"),
        "whiteout: this entry is how layer 1 deletes /root/.ssh: the directory's bytes stay in layer 0 (1 file, 50 B)"
    );
    assert_eq!(
        get(&l1, "var/www/.wh..wh..opq"),
        "opaque marker: this entry is how layer 1 hides what lower layers put in /var/www: those bytes stay in layer 0 (2 files, 37 B)"
    );
    assert!(get(&l1, "usr/bin/tool2").starts_with("hard link: the same file as /usr/bin/tool;"));
    assert!(get(&l1, "usr/bin/ping").contains("security.capability"));
    for plain in ["root", "var/www", "var/www/new.html"] {
        assert!(
            l1.iter().any(|(p, x)| p == plain && x.is_none()),
            "{plain} is ordinary: {l1:?}"
        );
    }
    assert_eq!(
        get(&explained(2), "etc/.wh.a.conf"),
        "whiteout: this entry is how layer 2 deletes /etc/a.conf: its bytes stay in layer 0 (100 B)"
    );
}

#[test]
fn documents_chain_follows_the_index_to_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("containerd.tar");
    let written = write_image(&spec(), Layout::ContainerdGzip, &path).unwrap();
    let image = open(&path);
    let docs = &image.documents;
    let kinds: Vec<DocumentKind> = docs.chain.iter().map(|d| d.kind).collect();
    assert_eq!(
        kinds,
        vec![
            DocumentKind::Index,
            DocumentKind::Index,
            DocumentKind::Manifest,
            DocumentKind::ArchiveManifest,
            DocumentKind::Config
        ]
    );
    assert_eq!(docs.chain[0].name, "index.json");
    assert_eq!(docs.chain[0].digest, None, "index.json is named by file");
    // Every document stored by digest is exactly its bytes, and each one points at the next.
    for (i, d) in docs.chain.iter().enumerate() {
        if let Some(digest) = &d.digest {
            assert_eq!(&strata::source::resolve::sha256_digest(&d.raw), digest);
        }
        if i + 1 < 3 {
            let next = docs.chain[i + 1].digest.clone().unwrap();
            let followed: Vec<&str> = d
                .refs
                .iter()
                .filter(|r| r.role == Role::Followed)
                .map(|r| r.target.as_str())
                .collect();
            assert_eq!(followed, vec![next.as_str()], "document {i}");
        }
    }
    let manifest = &docs.chain[2];
    let atts: Vec<&Role> = docs.chain[1]
        .refs
        .iter()
        .map(|r| &r.role)
        .filter(|r| matches!(r, Role::Attestation(_)))
        .collect();
    assert_eq!(
        atts,
        vec![&Role::Attestation(manifest.digest.clone())],
        "the attestation names the manifest it attests"
    );
    let layer_refs: Vec<(&str, Option<u64>)> = manifest
        .refs
        .iter()
        .filter(|r| matches!(r.role, Role::Layer(_)))
        .map(|r| (r.target.as_str(), r.size))
        .collect();
    let want: Vec<(&str, Option<u64>)> = written
        .layer_digests
        .iter()
        .zip(&image.layers)
        .map(|(d, l)| (d.as_str(), Some(l.blob_bytes)))
        .collect();
    assert_eq!(layer_refs, want);
    let config = docs.config().unwrap();
    assert_eq!(
        config.digest.as_deref(),
        Some(written.config_digest.as_str())
    );
    assert_eq!(&config.raw[..], &written.config[..]);
    let diff_ids: Vec<&str> = config.refs.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(
        diff_ids,
        written
            .diff_ids
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    // Compressed layers: the blob (manifest) and the tar (config) differ in digest and size.
    for (l, w) in image.layers.iter().zip(&written.layer_tars) {
        assert_ne!(l.blob_digest, l.diff_id);
        assert_eq!(l.tar_bytes, w.len() as u64);
    }
}

#[test]
fn legacy_archives_keep_manifest_json_and_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("legacy.tar");
    let written = write_image(&spec(), Layout::DockerLegacy, &path).unwrap();
    let image = open(&path);
    let kinds: Vec<DocumentKind> = image.documents.chain.iter().map(|d| d.kind).collect();
    assert_eq!(
        kinds,
        vec![DocumentKind::ArchiveManifest, DocumentKind::Config]
    );
    let m = &image.documents.chain[0];
    let layers: Vec<&str> = m
        .refs
        .iter()
        .filter(|r| matches!(r.role, Role::Layer(_)))
        .map(|r| r.target.as_str())
        .collect();
    let members: Vec<String> = image
        .layers
        .iter()
        .map(|l| l.location.member.clone())
        .collect();
    assert_eq!(
        layers,
        members.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(&image.documents.chain[1].raw[..], &written.config[..]);
}

/// The RUN and COPY steps of a Dockerfile's final stage, in order, with the steps of the
/// test image it starts from first (RUN text with whitespace collapsed; COPY by destination).
fn expected_steps(name: &str) -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/daemon_images");
    let text = std::fs::read_to_string(dir.join(name).join("Dockerfile")).unwrap();
    let joined = text.replace("\\\n", " ");
    let lines: Vec<&str> = joined.lines().map(str::trim).collect();
    let start = lines.iter().rposition(|l| l.starts_with("FROM ")).unwrap();
    let from = lines[start].split_whitespace().nth(1).unwrap();
    let mut out = match from
        .strip_prefix("strata-test/")
        .and_then(|r| r.strip_suffix(":1"))
    {
        Some(parent) if parent != "base" => expected_steps(parent),
        _ => Vec::new(),
    };
    for l in &lines[start + 1..] {
        let collapse = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        if let Some(cmd) = l.strip_prefix("RUN ") {
            out.push(("RUN".into(), collapse(cmd)));
        } else if let Some(args) = l.strip_prefix("COPY ") {
            out.push((
                "COPY".into(),
                args.split_whitespace().last().unwrap().into(),
            ));
        }
    }
    out
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs the daemon test images: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn reconstructed_dockerfiles_list_each_test_image_s_run_and_copy_steps_in_order() {
    let names = [
        "layers", "secrets", "clean", "multi", "packages", "twostage", "untagged",
    ];
    for name in names {
        let image = open(&common::real::test_image(name));
        let r = reconstruct(&image, &Redactor::default());
        let got: Vec<(String, String)> = r
            .steps
            .iter()
            .filter(|s| matches!(s.keyword(), "RUN" | "COPY"))
            .map(|s| {
                let (kw, rest) = s.instruction.split_once(' ').unwrap();
                let rest = if kw == "COPY" {
                    assert!(s.notes.iter().any(|n| n == NOTE_PLACEHOLDER), "{s:?}");
                    rest.rsplit(" in ").next().unwrap().trim().to_owned()
                } else {
                    rest.split_whitespace().collect::<Vec<_>>().join(" ")
                };
                (kw.to_owned(), rest)
            })
            .collect();
        let want = expected_steps(name);
        assert!(
            !want.is_empty(),
            "{name}: its Dockerfile has RUN or COPY steps"
        );
        assert_eq!(got, want, "{name}");
        // Layers sit beside the steps that made them, and empty steps have none.
        for s in &r.steps {
            assert_eq!(s.layer.is_some(), !image.history[s.history].empty_layer);
            assert_eq!(s.size, s.layer.map(|l| image.layers[l].size_bytes));
        }
    }
}

#[test]
fn history_dockerfile_prints_the_demo_steps_with_secrets_masked() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("demo.tar");
    let st = Command::new(BIN)
        .args(["demo", "--write"])
        .arg(&archive)
        .status()
        .unwrap();
    assert!(st.success());
    let out = Command::new(BIN)
        .args(["history", "-q", "--dockerfile"])
        .arg(&archive)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let image = open(&archive);
    // Every RUN step of the history appears once, in history order, as an instruction line.
    let runs: Vec<String> = image
        .history
        .iter()
        .filter_map(|h| h.created_by.strip_prefix("/bin/sh -c "))
        .filter(|c| !c.starts_with("#(nop)"))
        .map(|c| format!("RUN {c}"))
        .collect();
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("RUN ")).collect();
    assert_eq!(lines, runs.iter().map(String::as_str).collect::<Vec<_>>());
    let steps = text.lines().filter(|l| l.starts_with("# step ")).count();
    assert_eq!(steps, image.history.len());
    let empty = text
        .lines()
        .filter(|l| l.ends_with("empty step: no layer"))
        .count();
    assert_eq!(
        empty,
        image.history.iter().filter(|h| h.empty_layer).count()
    );
    assert!(
        text.contains("ENV APP_HOME=/app API_TOKEN=demo…(redacted)"),
        "{text}"
    );
    assert!(
        !text.contains("7f3a9c2e5b8d1046"),
        "the demo's ENV secret leaked"
    );
    assert!(text.contains(NOTE_PLACEHOLDER));
    let plain = Command::new(BIN)
        .args(["history", "-q"])
        .arg(&archive)
        .output()
        .unwrap();
    let plain = String::from_utf8(plain.stdout).unwrap();
    assert_eq!(plain.lines().count(), 1 + image.history.len());
    assert!(!plain.contains("7f3a9c2e5b8d1046"));
    let bad = Command::new(BIN)
        .args(["history", "-q", "/nonexistent/x.tar"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&bad.stderr).lines().count(), 1);
}
