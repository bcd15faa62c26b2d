//! Property tests over archive and layer parsing: mutated and truncated archives never panic
//! or hang, and every failure is a one-line error; a truncated archive is never accepted.

mod common;

use std::io::Cursor;
use std::path::Path;
use std::sync::OnceLock;

use common::fixture::*;
use proptest::prelude::*;
use strata::model::Origin;
use strata::source::layer::{scan_layer, ScanOptions};
use strata::source::{load as load_input, load_stream, Input, LoadOptions, Progress};

fn archive(layout: Layout) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("a.tar");
    write_image(&ImageSpec::sample(), layout, &path).expect("write");
    std::fs::read(path).expect("read")
}

fn legacy() -> &'static [u8] {
    static A: OnceLock<Vec<u8>> = OnceLock::new();
    A.get_or_init(|| archive(Layout::DockerLegacy))
}

fn oci_gzip() -> &'static [u8] {
    static A: OnceLock<Vec<u8>> = OnceLock::new();
    A.get_or_init(|| archive(Layout::OciArchiveGzip))
}

fn layer_tar() -> &'static [u8] {
    static A: OnceLock<Vec<u8>> = OnceLock::new();
    A.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tmp");
        let w = write_image(
            &ImageSpec::sample(),
            Layout::DockerLegacy,
            &dir.path().join("a.tar"),
        )
        .expect("write");
        w.layer_tars[0].clone()
    })
}

fn check_error(e: &strata::Error) {
    let msg = e.to_string();
    assert!(!msg.is_empty());
    assert_eq!(msg.lines().count(), 1, "one line: {msg:?}");
}

/// Layer digests and file bytes: what a partial read would get wrong.
type Summary = (Vec<String>, u64, u64);

fn summarize(image: &strata::model::Image) -> Summary {
    (
        image.layers.iter().map(|l| l.diff_id.clone()).collect(),
        image.fs.total_bytes(),
        image.fs.visible_bytes(),
    )
}

fn full_summary(bytes: &[u8]) -> Summary {
    let (a, _) = load_both(bytes);
    a.expect("the intact archive loads")
}

fn load_both(bytes: &[u8]) -> (strata::Result<Summary>, strata::Result<Summary>) {
    let streamed = load_stream(
        Cursor::new(bytes.to_vec()),
        "mem",
        Origin::Memory(std::sync::Arc::new(bytes.to_vec())),
        &LoadOptions::default(),
        &Progress::default(),
    )
    .map(|i| summarize(&i));
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("m.tar");
    std::fs::write(&path, bytes).expect("write");
    let indexed = load_input(
        &Input::Archive(path.clone(), None),
        &LoadOptions::default(),
        &Progress::default(),
    )
    .map(|i| summarize(&i));
    assert!(Path::new(&path).exists());
    (streamed, indexed)
}

fn mutate(base: &[u8], flips: &[(usize, u8)]) -> Vec<u8> {
    let mut v = base.to_vec();
    for &(i, x) in flips {
        let i = i % v.len();
        v[i] ^= x | 1;
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn flipped_bytes_never_panic(flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8), gz in any::<bool>()) {
        let base = if gz { oci_gzip() } else { legacy() };
        let (a, b) = load_both(&mutate(base, &flips));
        for r in [a, b] {
            if let Err(e) = r { check_error(&e); }
        }
    }

    #[test]
    fn truncated_archives_never_give_a_partial_result(cut in 0.0f64..1.0, gz in any::<bool>()) {
        let base = if gz { oci_gzip() } else { legacy() };
        let len = ((base.len() as f64) * cut) as usize;
        let (a, b) = load_both(&base[..len]);
        for r in [a, b] {
            match r {
                Err(e) => check_error(&e),
                // Accepted only when everything the image needs was before the cut (e.g. only
                // the end-of-archive blocks are missing): then the result is the whole image.
                Ok(summary) => prop_assert_eq!(summary, full_summary(base)),
            }
        }
    }

    #[test]
    fn mutated_layer_tars_never_panic(flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..16), cut in 0.5f64..1.0) {
        let base = layer_tar();
        let mut bytes = mutate(base, &flips);
        bytes.truncate(((bytes.len() as f64) * cut) as usize);
        if let Err(e) = scan_layer(Cursor::new(bytes), "layer", &ScanOptions::default()) {
            check_error(&e);
        }
    }

    #[test]
    fn random_bytes_are_not_archives(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let (a, b) = load_both(&bytes);
        for r in [a, b] {
            let e = r.expect_err("random bytes are no image");
            check_error(&e);
        }
    }
}
