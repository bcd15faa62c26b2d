use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

fn file(path: &str, data: &[u8]) -> Entry {
    Entry {
        path: path.as_bytes().into(),
        kind: EntryKind::File,
        link: None,
        size: data.len() as u64,
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtime: 0,
        hash: xxhash_rust::xxh3::xxh3_64(data),
        offset: 0,
        device: None,
        caps: None,
    }
}

fn dir(path: &str) -> Entry {
    Entry {
        kind: EntryKind::Dir,
        size: 0,
        hash: 0,
        mode: 0o755,
        ..file(path, b"")
    }
}

fn wh(path: &str) -> Marker {
    Marker::Whiteout(path.as_bytes().into())
}

fn opq(path: &str) -> Marker {
    Marker::Opaque(path.as_bytes().into())
}

fn layer(entries: Vec<Entry>, markers: Vec<Marker>) -> LayerEntries {
    LayerEntries { entries, markers }
}

fn final_files(fs: &FileSystem) -> Vec<String> {
    let mut v: Vec<String> = (0..fs.path_count() as u32)
        .filter_map(|id| fs.final_version(id).map(|v| (id, v)))
        .filter(|&(_, v)| fs.versions[v as usize].kind != EntryKind::Dir)
        .map(|(id, _)| String::from_utf8_lossy(fs.path(id)).into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn overwrite_chmod_delete_and_opaque() {
    // layer 0: a (10), d/x (20), d/y (30), o/z (40)
    // layer 1: a overwritten (5 bytes), d/x chmod only
    // layer 2: whiteout d (removes d/x v1 and d/y), opaque o with new o/n (7)
    let mut chmod = file("d/x", &[1; 20]);
    chmod.mode = 0o600;
    let fs = FileSystem::build(vec![
        layer(
            vec![
                file("a", &[0; 10]),
                dir("d"),
                file("d/x", &[1; 20]),
                file("d/y", &[2; 30]),
                dir("o"),
                file("o/z", &[3; 40]),
            ],
            vec![],
        ),
        layer(vec![file("a", &[9; 5]), chmod], vec![]),
        layer(
            vec![dir("o"), file("o/n", &[4; 7])],
            vec![wh("d"), opq("o")],
        ),
    ]);
    assert_eq!(final_files(&fs), vec!["a", "o/n"]);
    assert_eq!(fs.total_bytes(), 100 + 25 + 7);
    assert_eq!(fs.visible_bytes(), 5 + 7);
    assert_eq!(fs.stats[1].modified, 1);
    assert_eq!(fs.stats[1].metadata_changed, 1);
    assert_eq!(fs.stats[2].removed, 3, "d/x, d/y and o/z");
    assert_eq!(fs.stats[2].added, 1);
    let z = fs.lookup(b"o/z").unwrap();
    let zv = &fs.versions[fs.versions_of(z)[0] as usize];
    assert_eq!(
        (zv.removed_in, zv.removal),
        (Some(2), Some(RemovalCause::OpaqueDir))
    );
    let y = fs.lookup(b"d/y").unwrap();
    let yv = &fs.versions[fs.versions_of(y)[0] as usize];
    assert_eq!(yv.removal, Some(RemovalCause::ParentDeleted));
    let snap = fs.snapshot(1);
    assert!(snap.exists(y));
    assert!(!fs.snapshot(2).exists(y));
}

#[test]
fn opaque_marker_on_new_directory_removes_nothing() {
    let fs = FileSystem::build(vec![
        layer(vec![file("keep", b"k")], vec![]),
        layer(vec![dir("new"), file("new/f", b"1")], vec![opq("new")]),
    ]);
    assert_eq!(fs.stats[1].removed, 0);
    assert_eq!(final_files(&fs), vec!["keep", "new/f"]);
}

#[test]
fn file_replacing_directory_hides_subtree() {
    let fs = FileSystem::build(vec![
        layer(vec![dir("d"), file("d/a", b"aaaa")], vec![]),
        layer(vec![file("d", b"now a file")], vec![]),
    ]);
    assert_eq!(final_files(&fs), vec!["d"]);
    let a = fs.lookup(b"d/a").unwrap();
    assert_eq!(
        fs.versions[fs.versions_of(a)[0] as usize].removal,
        Some(RemovalCause::ParentReplaced)
    );
    assert_eq!(fs.visible_bytes(), 10);
}

#[test]
fn hard_link_keeps_deleted_target_visible() {
    let mut link = file("b", b"");
    link.kind = EntryKind::HardLink;
    link.link = Some(b"a".as_slice().into());
    let fs = FileSystem::build(vec![
        layer(vec![file("a", &[7; 100]), link], vec![]),
        layer(vec![], vec![wh("a")]),
    ]);
    assert_eq!(final_files(&fs), vec!["b"]);
    assert_eq!(fs.visible_bytes(), 100, "content still reachable through b");
    let b = fs.final_version(fs.lookup(b"b").unwrap()).unwrap();
    assert_eq!(
        fs.versions[b as usize].hash,
        xxhash_rust::xxh3::xxh3_64(&[7; 100])
    );
}

#[test]
fn whiteout_then_recreate_in_same_layer_is_modified_not_removed() {
    let fs = FileSystem::build(vec![
        layer(vec![file("x", b"old")], vec![]),
        layer(vec![file("x", b"new!")], vec![wh("x")]),
    ]);
    assert_eq!(fs.stats[1].removed, 0);
    assert_eq!(fs.stats[1].modified, 1);
    assert_eq!(fs.removals.len(), 0);
}

#[test]
fn dangling_whiteout_is_counted_not_applied() {
    let fs = FileSystem::build(vec![
        layer(vec![file("x", b"1")], vec![]),
        layer(vec![], vec![wh("nothing/here")]),
    ]);
    assert_eq!(fs.stats[1].dangling_whiteouts, 1);
    assert_eq!(final_files(&fs), vec!["x"]);
}

#[test]
fn duplicate_entries_last_wins() {
    let fs = FileSystem::build(vec![layer(vec![file("x", b"1"), file("x", b"22")], vec![])]);
    assert_eq!(fs.versions.len(), 1);
    assert_eq!(fs.versions[0].size, 2);
}

// ---- property test against a naive model ----

#[derive(Debug, Clone)]
enum Op {
    File(u8, u8),
    Dir(u8),
    Whiteout(u8),
    Opaque(u8),
}

const NAMES: [&str; 8] = ["a", "b", "a/x", "a/y", "b/x", "a/x/deep", "c", "b/x/z"];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..8u8, 0..4u8).prop_map(|(p, s)| Op::File(p, s)),
        (0..8u8).prop_map(Op::Dir),
        (0..8u8).prop_map(Op::Whiteout),
        (0..8u8).prop_map(Op::Opaque),
    ]
}

/// Naive overlay: a map of path -> (is_dir, size), re-scanned on every operation.
fn naive(layers: &[Vec<Op>]) -> (BTreeMap<String, (bool, u64)>, u64) {
    let mut m: BTreeMap<String, (bool, u64)> = BTreeMap::new();
    let mut total = 0;
    for ops in layers {
        let under = |m: &BTreeMap<String, (bool, u64)>, p: &str| -> Vec<String> {
            m.keys()
                .filter(|k| k.starts_with(&format!("{p}/")))
                .cloned()
                .collect()
        };
        for o in ops {
            match o {
                Op::Whiteout(p) => {
                    let p = NAMES[*p as usize];
                    for k in under(&m, p) {
                        m.remove(&k);
                    }
                    m.remove(p);
                }
                Op::Opaque(p) => {
                    let p = NAMES[*p as usize];
                    if m.get(p).is_some_and(|e| e.0) || !under(&m, p).is_empty() {
                        for k in under(&m, p) {
                            m.remove(&k);
                        }
                    }
                }
                _ => {}
            }
        }
        let mut seen = std::collections::HashMap::new();
        for (i, o) in ops.iter().enumerate() {
            if let Op::File(p, _) | Op::Dir(p) = o {
                seen.insert(*p, i);
            }
        }
        for (i, o) in ops.iter().enumerate() {
            let (p, is_dir, size) = match o {
                Op::File(p, s) => (*p, false, u64::from(*s) * 10 + 1),
                Op::Dir(p) => (*p, true, 0),
                _ => continue,
            };
            if seen[&p] != i {
                continue;
            }
            let path = NAMES[p as usize];
            // ancestors become directories
            let mut anc = String::new();
            for comp in path.split('/').collect::<Vec<_>>().split_last().unwrap().1 {
                if !anc.is_empty() {
                    anc.push('/');
                }
                anc.push_str(comp);
                if m.get(&anc).is_some_and(|e| !e.0) {
                    m.remove(&anc);
                }
            }
            if !is_dir {
                for k in under(&m, path) {
                    m.remove(&k);
                }
            }
            total += size;
            m.insert(path.to_string(), (is_dir, size));
        }
    }
    (m, total)
}

fn to_layers(layers: &[Vec<Op>]) -> Vec<LayerEntries> {
    layers
        .iter()
        .map(|ops| {
            let mut l = LayerEntries::default();
            for o in ops {
                match o {
                    Op::File(p, s) => l.entries.push(file(
                        NAMES[*p as usize],
                        &vec![*s; usize::from(*s) * 10 + 1],
                    )),
                    Op::Dir(p) => l.entries.push(dir(NAMES[*p as usize])),
                    Op::Whiteout(p) => l.markers.push(wh(NAMES[*p as usize])),
                    Op::Opaque(p) => l.markers.push(opq(NAMES[*p as usize])),
                }
            }
            l
        })
        .collect()
}

proptest! {
    #[test]
    fn overlay_matches_naive_model(layers in prop::collection::vec(prop::collection::vec(op(), 0..8), 1..6)) {
        let fs = FileSystem::build(to_layers(&layers));
        let (model, total) = naive(&layers);
        let expect: Vec<String> = model.iter().filter(|(_, e)| !e.0).map(|(k, _)| k.clone()).collect();
        prop_assert_eq!(final_files(&fs), expect);
        prop_assert_eq!(fs.total_bytes(), total);
        let visible: u64 = model.values().map(|e| e.1).sum();
        prop_assert_eq!(fs.visible_bytes(), visible);
        prop_assert!(fs.visible_bytes() <= fs.total_bytes());
        for v in &fs.versions {
            if let Some(r) = v.removed_in { prop_assert!(r >= v.layer); }
        }
        // The final snapshot agrees with final_version.
        let snap = fs.snapshot(layers.len() - 1);
        for id in 0..fs.path_count() as u32 {
            prop_assert_eq!(snap.version(id), fs.final_version(id));
        }
    }
}
