//! The engine on real `docker save` archives built by the suite's dockerd
//! (`scripts/build-test-images.sh`; facts in tests/daemon_images/README.md).

use strata::analysis::efficiency::Efficiency;
use strata::model::{EntryKind, Image};
use strata::source::{load as load_input, Input, LoadOptions, Progress};

mod common;

fn load(name: &str) -> Image {
    load_input(
        &Input::Archive(common::real::test_image(name), None),
        &LoadOptions::default(),
        &Progress::default(),
    )
    .expect("load")
}

fn file_at<'a>(image: &'a Image, path: &str) -> Option<&'a strata::model::Version> {
    let id = image.fs.lookup(path.as_bytes())?;
    image
        .fs
        .final_version(id)
        .map(|v| &image.fs.versions[v as usize])
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs the daemon-built test images: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn layers_image_has_the_documented_changes() {
    let image = load("layers");
    let eff = Efficiency::of(&image);
    assert_eq!(image.layers.len(), 7);
    assert_eq!(image.history.len(), 10);
    let mapped: Vec<Option<usize>> = image.history.iter().map(|h| h.layer).collect();
    assert_eq!(
        mapped[..7],
        [
            Some(0),
            Some(1),
            Some(2),
            Some(3),
            Some(4),
            Some(5),
            Some(6)
        ]
    );
    assert!(mapped[7..].iter().all(Option::is_none));
    assert!(
        image.history[7].empty_layer,
        "create-and-delete RUN made no layer"
    );
    let sizes: Vec<u64> = image.layers[1..].iter().map(|l| l.size_bytes).collect();
    assert_eq!(sizes, [18005, 20000, 2000, 0, 2, 4096]);
    assert_eq!(eff.reclaimable_bytes, 18000);
    assert_eq!(eff.total_bytes - eff.reclaimable_bytes, eff.visible_bytes);
    let l = |i: usize| {
        let l = &image.layers[i];
        (l.files_added, l.files_modified, l.files_removed)
    };
    assert_eq!(l(2), (0, 1, 0), "overwrite");
    assert_eq!(l(3), (0, 1, 0), "chmod");
    assert_eq!(
        l(4),
        (0, 0, 3),
        "whiteouts: delete-me.bin, a.bin, sub/b.bin"
    );
    assert_eq!(
        l(5),
        (1, 0, 2),
        "opaque dir: old1, old2 hidden, new.txt added"
    );
    assert_eq!(l(6), (2, 0, 0), "hard link pair");
    let chmod = file_at(&image, "data/chmod.bin").expect("chmod.bin");
    assert_eq!(
        (chmod.mode, chmod.status),
        (0o755, strata::model::Status::MetadataChanged)
    );
    let a = file_at(&image, "data/hl-a.bin").expect("hl-a");
    let b = file_at(&image, "data/hl-b.bin").expect("hl-b");
    assert_eq!((a.kind, b.kind), (EntryKind::File, EntryKind::HardLink));
    assert_eq!(a.hash, b.hash);
    assert!(image.fs.lookup(b"ephemeral.bin").is_none(), "never existed");
    assert!(file_at(&image, "data/dir-to-delete/sub/b.bin").is_none());
    assert_eq!(
        file_at(&image, "data/overwrite.bin").map(|v| v.size),
        Some(20000)
    );
    // The whiteout with dockerd's bogus link name is a whiteout, not a hard link.
    assert!(image.fs.lookup(b"data/.wh.dir-to-delete").is_none());
}

#[test]
#[cfg_attr(
    not(strata_real),
    ignore = "needs the daemon-built test images: STRATA_TEST_REAL=1 (scripts/test.sh)"
)]
fn every_test_image_loads_with_consistent_accounting() {
    for name in [
        "base", "layers", "secrets", "clean", "packages", "multi", "untagged",
    ] {
        let image = load(name);
        let eff = Efficiency::of(&image);
        let per_layer: u64 = image.layers.iter().map(|l| l.size_bytes).sum();
        assert_eq!(eff.total_bytes, per_layer, "{name}");
        let dead: u64 = eff.reclaimable.iter().map(|r| r.bytes).sum();
        assert_eq!(
            dead, eff.reclaimable_bytes,
            "{name}: per-path reclaimable adds up"
        );
        let id = std::fs::read_to_string(common::real::test_image(name).with_extension("id"))
            .expect("id file");
        assert_eq!(image.id, id.trim(), "{name}: image id = config digest");
    }
}
