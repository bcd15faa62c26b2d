//! Choosing the image that was asked for (issue 10): skopeo's `PATH:REF` / `PATH:@N`, the
//! `--image` flag on every layout, several images without a choice, the image list of an
//! archive, and one-line errors naming the real problem for inputs strata cannot read.

mod common;

use std::path::Path;
use std::process::Command;

use common::fixture::*;
use strata::source::resolve::{ImageSelector, Platform};
use strata::source::{list_images, load, Input, LoadOptions, Progress};

fn load_str(input: &str, opts: &LoadOptions) -> strata::Result<strata::model::Image> {
    load(&Input::parse(input), opts, &Progress::default())
}

fn with_image(sel: &str) -> LoadOptions {
    LoadOptions {
        image: Some(ImageSelector::parse(sel)),
        ..LoadOptions::default()
    }
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

/// The transport prefix skopeo uses for a layout.
fn transport(layout: Layout) -> &'static str {
    match layout {
        Layout::OciDir => "oci",
        Layout::OciArchiveGzip
        | Layout::OciArchiveZstd
        | Layout::OciArchiveUncompressedMislabelled => "oci-archive",
        _ => "docker-archive",
    }
}

/// The REF skopeo would accept for image `i` (1-based) of `numbered_specs`: the tag for
/// `manifest.json` layouts, the `ref.name` annotation for OCI layouts (tag only in `oci:` dirs).
fn reference(layout: Layout, i: usize) -> String {
    match layout {
        Layout::OciDir => i.to_string(),
        _ => format!("example/app:{i}"),
    }
}

/// Asserts `image` is image `i` of `numbered_specs` and nothing else.
fn assert_is(image: &strata::model::Image, written: &[Written], i: usize, what: &str) {
    assert_eq!(image.id, written[i - 1].config_digest, "{what}: image ID");
    assert!(
        image
            .fs
            .lookup(format!("srv/only-{i}").as_bytes())
            .is_some(),
        "{what}: has image {i}'s file"
    );
    for j in (1..=written.len()).filter(|&j| j != i) {
        assert!(
            image
                .fs
                .lookup(format!("srv/only-{j}").as_bytes())
                .is_none(),
            "{what}: has no file of image {j}"
        );
    }
    let total: u64 = image.layers.iter().map(|l| l.size_bytes).sum();
    let expected = format!("image {i}\n").len() as u64 + i as u64 * 100;
    assert_eq!(total, expected, "{what}: exact bytes");
}

#[test]
fn skopeo_references_and_image_flag_pick_the_asked_image_in_every_layout() {
    let dir = tempfile::tempdir().expect("tmp");
    let specs = numbered_specs(3);
    for layout in all_layouts() {
        let path = dir.path().join(format!("{layout:?}"));
        let written = multi_image(&specs, layout, &path).expect("write");
        let p = path.display();
        for i in 1..=3 {
            let what = format!("{layout:?} image {i}");
            let by_ref = format!("{}:{p}:{}", transport(layout), reference(layout, i));
            let img = load_str(&by_ref, &LoadOptions::default())
                .unwrap_or_else(|e| panic!("{what} by {by_ref}: {e}"));
            assert_is(&img, &written, i, &format!("{what} by ref"));
            let by_index = format!("{}:{p}:@{}", transport(layout), i - 1);
            let img = load_str(&by_index, &LoadOptions::default())
                .unwrap_or_else(|e| panic!("{what} by {by_index}: {e}"));
            assert_is(&img, &written, i, &format!("{what} by @N"));
            // --image with a tag, an index, the image ID, and a manifest digest.
            let plain = p.to_string();
            let mut flags = vec![
                reference(layout, i),
                format!("@{}", i - 1),
                written[i - 1].config_digest.clone(),
                written[i - 1].config_digest[..7 + 16].to_string(),
            ];
            if let Some(m) = &written[i - 1].manifest_digest {
                flags.push(m.clone());
            }
            for flag in flags {
                let img = load_str(&plain, &with_image(&flag))
                    .unwrap_or_else(|e| panic!("{what} by --image {flag}: {e}"));
                assert_is(&img, &written, i, &format!("{what} by --image {flag}"));
            }
        }
    }
}

#[test]
fn docker_references_are_normalised_as_skopeo_does() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut specs = numbered_specs(2);
    specs[0].repo_tags = vec!["busybox:latest".into()];
    specs[1].repo_tags = vec!["localhost/team/tool:2".into()];
    let path = dir.path().join("two.tar");
    let written = multi_image(&specs, Layout::DockerLegacy, &path).expect("write");
    let p = path.display();
    for (r, i) in [
        ("busybox", 1),
        ("busybox:latest", 1),
        ("docker.io/library/busybox:latest", 1),
        ("localhost/team/tool:2", 2),
        ("team/tool:2", 2),
    ] {
        let img = load_str(&format!("docker-archive:{p}:{r}"), &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{r}: {e}"));
        assert_is(&img, &written, i, r);
    }
    // A tag that normalises elsewhere is not there.
    let err = load_str(
        &format!("docker-archive:{p}:library/busybox:1"),
        &LoadOptions::default(),
    )
    .expect_err("other tag")
    .to_string();
    assert!(err.contains("no image library/busybox:1"), "{err}");
}

#[test]
fn a_reference_that_is_not_there_lists_what_is() {
    let dir = tempfile::tempdir().expect("tmp");
    let specs = numbered_specs(3);
    for layout in [Layout::DockerLegacy, Layout::OciArchiveGzip, Layout::OciDir] {
        let path = dir.path().join(format!("{layout:?}"));
        multi_image(&specs, layout, &path).expect("write");
        let p = path.display().to_string();
        for bad in ["example/app:9", "@3", "sha256:0000000000000000"] {
            let input = format!("{}:{p}:{bad}", transport(layout));
            let (code, stdout, stderr) = run_binary(&["report", &input]);
            assert_eq!(code, 2, "{layout:?} {bad}: {stderr}");
            assert!(stdout.is_empty());
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
            assert!(stderr.contains(&p), "names the file: {stderr}");
            assert!(stderr.contains(&format!("no image {bad}")), "{stderr}");
            for i in 1..=3 {
                let shown = if layout == Layout::OciDir {
                    format!("@{} {i}", i - 1)
                } else {
                    format!("example/app:{i}")
                };
                assert!(
                    stderr.contains(&shown),
                    "{layout:?} lists {shown}: {stderr}"
                );
            }
        }
    }
}

#[test]
fn several_images_and_no_choice_is_an_error_for_report_and_ci() {
    let dir = tempfile::tempdir().expect("tmp");
    let specs = numbered_specs(3);
    for layout in all_layouts() {
        let path = dir.path().join(format!("{layout:?}"));
        multi_image(&specs, layout, &path).expect("write");
        let p = path.display().to_string();
        for cmd in ["report", "ci"] {
            let (code, stdout, stderr) = run_binary(&[cmd, &p]);
            assert_eq!(code, 2, "{layout:?} {cmd}: {stderr}");
            assert!(stdout.is_empty(), "{layout:?} {cmd}: no report");
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
            assert!(stderr.contains(&p), "{stderr}");
            assert!(stderr.contains("holds 3 images"), "{layout:?}: {stderr}");
            assert!(stderr.contains("--image"), "says how to choose: {stderr}");
            assert!(stderr.contains("@0") && stderr.contains("@2"), "{stderr}");
        }
        // The library says the same, and never falls back to the first image.
        let err = load_str(&p, &LoadOptions::default())
            .expect_err("several images")
            .to_string();
        assert!(err.contains("holds 3 images"), "{err}");
    }
}

#[test]
fn more_than_ten_images_are_listed_as_ten_and_n_more() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("twelve.tar");
    multi_image(&numbered_specs(12), Layout::DockerLegacy, &path).expect("write");
    let (code, _, stderr) = run_binary(&["report", &path.display().to_string()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("holds 12 images"), "{stderr}");
    assert!(stderr.contains("example/app:10, and 2 more"), "{stderr}");
    assert!(!stderr.contains("example/app:11"), "{stderr}");
    assert!(stderr.contains("and 2 more"), "{stderr}");
}

#[test]
fn image_flag_through_the_binary_for_report_and_ci() {
    let dir = tempfile::tempdir().expect("tmp");
    let specs = numbered_specs(3);
    for layout in [Layout::Docker25, Layout::OciDir, Layout::GzipOuter] {
        let path = dir.path().join(format!("{layout:?}"));
        let written = multi_image(&specs, layout, &path).expect("write");
        let p = path.display().to_string();
        let (code, stdout, stderr) =
            run_binary(&["report", &p, "--image", "@1", "--format", "json"]);
        assert_eq!(code, 0, "{layout:?}: {stderr}");
        let v: serde_json::Value = serde_json::from_str(&stdout).expect("json");
        assert_eq!(v["image"]["id"], written[1].config_digest.as_str());
        let id = written[2].config_digest.clone();
        let (code, stdout, stderr) = run_binary(&["ci", &p, "--image", &id, "--format", "json"]);
        assert!(code == 0 || code == 1, "{layout:?}: ci ran: {stderr}");
        assert!(stdout.contains(&id), "{layout:?}: ci on image 3: {stdout}");
    }
    // The reference's own choice and --image must agree.
    let path = dir.path().join("DockerLegacy.tar");
    multi_image(&specs, Layout::DockerLegacy, &path).expect("write");
    let input = format!("docker-archive:{}:@0", path.display());
    let (code, _, stderr) = run_binary(&["report", &input, "--image", "@1"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--image"), "{stderr}");
    let (code, _, stderr) = run_binary(&["report", &input, "--image", "@0"]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn an_index_without_the_host_platform_lists_its_platforms() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("foreign-platforms.tar");
    let mut arm = ImageSpec::minimal();
    arm.architecture = "arm64".into();
    arm.variant = Some("v8".into());
    let mut s390 = ImageSpec::minimal();
    s390.architecture = "s390x".into();
    multi_platform(&[arm, s390], &path, Comp::Gzip, Missing::Nothing).expect("write");
    let p = path.display().to_string();
    let (code, _, stderr) = run_binary(&["report", &p]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("linux/arm64/v8") && stderr.contains("linux/s390x"),
        "{stderr}"
    );
    assert!(stderr.contains("--platform"), "{stderr}");
    let opts = LoadOptions {
        platform: Some(Platform::parse("linux/s390x").expect("platform")),
        ..LoadOptions::default()
    };
    let img = load_str(&p, &opts).expect("asked platform");
    assert_eq!(img.architecture, "s390x");
}

#[test]
fn a_docker_archive_of_another_platform_is_not_read_for_the_asked_one() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("amd64.tar");
    write_image(&ImageSpec::minimal(), Layout::DockerLegacy, &path).expect("write");
    let opts = LoadOptions {
        platform: Some(Platform::parse("linux/arm64").expect("platform")),
        ..LoadOptions::default()
    };
    let err = load_str(&path.display().to_string(), &opts)
        .expect_err("amd64 only")
        .to_string();
    assert!(
        err.contains("linux/amd64") && err.contains("linux/arm64"),
        "{err}"
    );
}

#[test]
fn list_images_reports_names_ids_platforms_sizes_and_dates() {
    let dir = tempfile::tempdir().expect("tmp");
    let specs = numbered_specs(3);
    for layout in all_layouts() {
        let path = dir.path().join(format!("{layout:?}"));
        let written = multi_image(&specs, layout, &path).expect("write");
        let list = list_images(&Input::parse(&path.display().to_string()))
            .unwrap_or_else(|e| panic!("{layout:?}: {e}"));
        assert_eq!(list.len(), 3, "{layout:?}: {list:?}");
        for (i, s) in list.iter().enumerate() {
            let w = &written[i];
            assert_eq!(s.index, i, "{layout:?}");
            assert_eq!(
                s.id.as_deref(),
                Some(w.config_digest.as_str()),
                "{layout:?}"
            );
            assert_eq!(s.platforms, vec!["linux/amd64".to_string()], "{layout:?}");
            let stored: u64 = match layout {
                Layout::DockerLegacy
                | Layout::DockerLegacySymlinked
                | Layout::Docker25
                | Layout::SkopeoDockerArchive
                | Layout::GzipOuter
                | Layout::OciArchiveUncompressedMislabelled => {
                    w.layer_tars.iter().map(|t| t.len() as u64).sum()
                }
                _ => {
                    // Compressed blobs: their stored size, from the layout.
                    assert!(s.size.is_some_and(|n| n > 0), "{layout:?}");
                    s.size.unwrap_or(0)
                }
            };
            assert_eq!(s.size, Some(stored), "{layout:?} size");
            let name_ok = s.names.iter().any(|n| {
                n.ends_with(&format!("example/app:{}", i + 1)) || *n == format!("{}", i + 1)
            });
            assert!(name_ok, "{layout:?}: {:?}", s.names);
            if let Some(m) = &w.manifest_digest {
                if !matches!(layout, Layout::ContainerdGzip | Layout::ContainerdZstd) {
                    assert_eq!(s.manifest_digest.as_deref(), Some(m.as_str()), "{layout:?}");
                }
            }
            assert_eq!(
                s.created.as_deref(),
                Some("2023-11-14T22:13:20Z"),
                "{layout:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Errors that name the real problem
// ---------------------------------------------------------------------------------------------

/// Runs `strata report` on `path` and checks the one-line, exit-2 contract; returns stderr.
fn fails(path: &Path, extra: &[&str]) -> String {
    let p = path.display().to_string();
    let mut args = vec!["report", p.as_str()];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = run_binary(&args);
    assert_eq!(code, 2, "{p}: exit code, stderr: {stderr}");
    assert!(stdout.is_empty(), "{p}: no partial report");
    assert_eq!(stderr.lines().count(), 1, "{p}: one line: {stderr}");
    assert!(stderr.contains(&p), "{p}: names the file: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

fn odd(dir: &Path, kind: Odd) -> OddWritten {
    let name = format!("{kind:?}").replace(['{', '}', ' ', ':', '"', '(', ')'], "");
    write_odd(kind, &dir.join(name)).expect("write odd input")
}

#[test]
fn manifest_json_null_or_empty_lists_no_image() {
    let dir = tempfile::tempdir().expect("tmp");
    for kind in [Odd::ManifestNull, Odd::ManifestEmpty] {
        let w = odd(dir.path(), kind);
        let err = fails(&w.path, &[]);
        assert!(
            err.contains("manifest.json lists no image"),
            "{kind:?}: {err}"
        );
    }
}

#[test]
fn an_artifacts_only_layout_names_the_artifacts() {
    let dir = tempfile::tempdir().expect("tmp");
    for d in [false, true] {
        let w = odd(dir.path(), Odd::ArtifactsOnly { dir: d });
        let err = fails(&w.path, &[]);
        assert!(err.contains("holds no container image"), "{err}");
        for t in [
            odd_media::HELM_CONFIG,
            odd_media::COSIGN_SIG,
            odd_media::SPDX,
        ] {
            assert!(err.contains(t), "names {t}: {err}");
        }
        assert!(!err.contains("blobs are present"), "{err}");
    }
}

#[test]
fn schema_1_manifests_say_how_to_convert() {
    let dir = tempfile::tempdir().expect("tmp");
    for kind in [
        Odd::Schema1 { signed: true },
        Odd::Schema1 { signed: false },
        Odd::Schema1Dir,
    ] {
        let w = odd(dir.path(), kind);
        let err = fails(&w.path, &[]);
        assert!(err.contains("schema 1"), "{kind:?}: {err}");
        assert!(err.contains("skopeo copy"), "{kind:?}: {err}");
        assert!(!err.contains("config digest"), "{kind:?}: {err}");
        let signed = matches!(kind, Odd::Schema1 { signed: true } | Odd::Schema1Dir);
        assert_eq!(
            err.contains("is a signed Docker schema 1"),
            signed,
            "{kind:?}: {err}"
        );
    }
}

#[test]
fn encrypted_foreign_and_unread_compressions_are_named() {
    let dir = tempfile::tempdir().expect("tmp");
    let cases = [
        (Odd::Encrypted, "encrypted"),
        (Odd::ForeignOci, "foreign (non-distributable) layer"),
        (Odd::ForeignDocker, "foreign (non-distributable) layer"),
        (Odd::CompressedLayer("xz"), "xz-compressed"),
        (Odd::CompressedLayer("bzip2"), "bzip2-compressed"),
        (Odd::CompressedLayer("lz4"), "lz4-compressed"),
        (Odd::CompressedLayerStream, "xz-compressed"),
    ];
    for (kind, needle) in cases {
        let w = odd(dir.path(), kind);
        let err = fails(&w.path, &[]);
        assert!(err.contains(needle), "{kind:?}: {err}");
        assert!(
            err.contains(&w.culprit),
            "{kind:?} names {}: {err}",
            w.culprit
        );
    }
}

#[test]
fn symlink_cycles_are_named() {
    let dir = tempfile::tempdir().expect("tmp");
    for (kind, needle) in [
        (
            Odd::CycleDir,
            "loop-a -> blobs/sha256/loop-b -> blobs/sha256/loop-a",
        ),
        (
            Odd::CycleIndexDir,
            "symlink cycle: index.json -> index.json",
        ),
        (
            Odd::CycleIndexMember,
            "symlink cycle: index.json -> index.json",
        ),
        (Odd::CycleMembers, "cycle/layer.tar"),
    ] {
        let w = odd(dir.path(), kind);
        let err = fails(&w.path, &[]);
        assert!(err.contains("symlink cycle"), "{kind:?}: {err}");
        assert!(err.contains(needle), "{kind:?}: {err}");
        assert!(err.contains(&w.culprit), "{kind:?}: {err}");
    }
}

#[test]
fn links_pointing_outside_are_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    for (kind, needle) in [
        (Odd::OutsideDir, "outside the layout directory"),
        (Odd::OutsideBlobsDir, "outside the layout directory"),
        (Odd::OutsideMember, "outside the archive"),
        (Odd::AbsoluteMember, "outside the archive (-> /etc/passwd)"),
    ] {
        let w = odd(dir.path(), kind);
        let err = fails(&w.path, &[]);
        assert!(err.contains(needle), "{kind:?}: {err}");
        assert!(err.contains("refused"), "{kind:?}: {err}");
        assert!(err.contains(&w.culprit), "{kind:?}: {err}");
        // The bytes outside are a valid layer: following the link would have loaded it.
        let err = fails(&w.path, &["--no-verify"]);
        assert!(err.contains("refused"), "{kind:?} --no-verify: {err}");
    }
}

#[test]
fn config_digest_mismatch_names_both_digests_and_no_verify_skips_it() {
    let dir = tempfile::tempdir().expect("tmp");
    for kind in [Odd::ConfigRenamedDocker, Odd::ConfigRenamedOci] {
        let w = odd(dir.path(), kind);
        let (named, actual) = w.digests.clone().expect("digests");
        let err = fails(&w.path, &[]);
        assert!(err.contains("config digest mismatch"), "{kind:?}: {err}");
        assert!(
            err.contains(&named) && err.contains(&actual),
            "{kind:?}: {err}"
        );
        let p = w.path.display().to_string();
        let (code, stdout, stderr) = run_binary(&["report", &p, "--no-verify", "--format", "json"]);
        assert_eq!(code, 0, "{kind:?} --no-verify: {stderr}");
        let v: serde_json::Value = serde_json::from_str(&stdout).expect("json");
        assert_eq!(
            v["image"]["id"],
            actual.as_str(),
            "{kind:?}: the bytes read"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// A real multi-image `docker save` (shared base layer stored once, as a symlink)
// ---------------------------------------------------------------------------------------------

/// `docker save -o DEST REFS…` on the suite's dockerd (the test fails if it cannot).
fn docker_save(refs: &[&str], dest: &Path) {
    let out = Command::new("docker")
        .arg("save")
        .arg("-o")
        .arg(dest)
        .args(refs)
        .output()
        .expect("run docker");
    assert!(
        out.status.success(),
        "docker save {refs:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn daemon_id(reference: &str) -> String {
    let out = Command::new("docker")
        .args(["image", "inspect", "--format", "{{.Id}}", reference])
        .output()
        .expect("docker image inspect");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs dockerd and the test images: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn a_real_multi_image_docker_save_gives_each_image_asked_for() {
    common::real::daemon_with_images();
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("two.tar");
    let refs = ["strata-test/layers:1", "strata-test/clean:1"];
    docker_save(&refs, &path);
    let p = path.display().to_string();
    let err = fails(&path, &[]);
    assert!(err.contains("holds 2 images"), "{err}");
    for r in refs {
        assert!(err.contains(r), "lists {r}: {err}");
    }
    let listed = list_images(&Input::parse(&p)).expect("list");
    assert_eq!(listed.len(), 2);
    for r in refs {
        let id = daemon_id(r);
        let img = load_str(&format!("docker-archive:{p}:{r}"), &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{r}: {e}"));
        assert_eq!(img.id, id, "{r}");
        assert_eq!(img.repo_tags, vec![r.to_string()]);
        let n = listed
            .iter()
            .find(|s| s.names.iter().any(|x| x == r))
            .expect("listed")
            .index;
        assert_eq!(listed[n].id.as_deref(), Some(id.as_str()));
        let by_index = load_str(&format!("docker-archive:{p}:@{n}"), &LoadOptions::default())
            .expect("by index");
        assert_eq!(by_index.id, id, "@{n}");
        // The daemon's own report of the image equals the archive's chosen image.
        let daemon = strata::source::daemon::load(r, &LoadOptions::default(), &Progress::default())
            .expect("daemon load");
        let sizes = |i: &strata::model::Image| -> Vec<u64> {
            i.layers.iter().map(|l| l.size_bytes).collect()
        };
        assert_eq!(
            sizes(&img),
            sizes(&daemon),
            "{r}: same layers as the daemon's"
        );
    }
}

#[test]
fn two_manifests_of_the_same_platform_are_two_images() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("same-platform.tar");
    let mut specs = numbered_specs(2);
    for s in &mut specs {
        s.repo_tags.clear();
    }
    let w = multi_platform(&specs, &path, Comp::Gzip, Missing::Nothing).expect("write");
    let err = fails(&path, &[]);
    assert!(
        err.contains("holds 2 images for platform linux/amd64"),
        "{err}"
    );
    for i in &w.images {
        let m = i.manifest_digest.clone().expect("manifest digest");
        assert!(err.contains(&m), "{err}");
        let img = load_str(&path.display().to_string(), &with_image(&m)).expect("by digest");
        assert_eq!(img.id, i.config_digest);
    }
}
