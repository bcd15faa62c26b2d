//! Extract (issue 13, edge 5) on fixture images into temporary directories: the directory
//! proposed after the image, created only after a yes, the file's path kept or its name only,
//! a directory row's whole subtree with exact bytes and modes, and the safety rules (no
//! traversal, no writing through symlinks, symlinks out of the directory refused, special
//! files skipped, nothing replaced without asking).

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyModifiers};
use strata::source::LoadOptions;
use strata::ui::app::{App, Launch, Level, Prompt};
use strata::ui::{highlight, worker};

use common::fixture::{write_image, EntrySpec, ImageSpec, LayerSpec, Layout};
use common::ui::{ctrl, draw, keys, press};

const NGINX_V0: &[u8] = b"worker_processes 1;\n";
const NGINX_V1: &[u8] = b"worker_processes auto;\nevents {}\n";
const DEFAULT: &[u8] = b"server { listen 80; }\n";
const RUN: &[u8] = b"#!/bin/sh\nexec nginx\n";
const SNEAKY: &[u8] = b"normalised into the tree\n";

/// Two layers: the first lays out `etc/nginx` (a setuid script, a hard link, a symlink inside,
/// a symlink pointing outside, a FIFO, a `../` name); the second replaces `nginx.conf`.
fn archive(dir: &Path) -> PathBuf {
    let spec = ImageSpec::new(vec![
        LayerSpec::new(
            "COPY etc /etc",
            vec![
                EntrySpec::dir("etc/", 0o755),
                EntrySpec::dir("etc/nginx/", 0o750),
                EntrySpec::file("etc/nginx/nginx.conf", NGINX_V0, 0o640),
                EntrySpec::dir("etc/nginx/conf.d/", 0o755),
                EntrySpec::file("etc/nginx/conf.d/default.conf", DEFAULT, 0o600),
                EntrySpec::file("etc/nginx/run.sh", RUN, 0o4755),
                EntrySpec::hard_link("etc/nginx/copy.conf", "etc/nginx/nginx.conf"),
                EntrySpec::symlink("etc/nginx/current", "conf.d/default.conf"),
                EntrySpec::symlink("etc/nginx/evil", "../../../../outside"),
                EntrySpec::Fifo {
                    path: b"etc/nginx/pipe".to_vec(),
                },
                EntrySpec::file("../../etc/nginx/sneaky.conf", SNEAKY, 0o644),
            ],
        ),
        LayerSpec::new(
            "RUN edit nginx.conf",
            vec![EntrySpec::file("etc/nginx/nginx.conf", NGINX_V1, 0o644)],
        ),
    ]);
    let path = dir.join("img.tar");
    write_image(&spec, Layout::DockerLegacy, &path).unwrap();
    path
}

/// The explorer on the archive, extracts proposed under `base`, layer `layer` selected, the
/// tree focused on `path`.
fn app_at(archive: &Path, base: &Path, layer: usize, path: &str) -> App {
    highlight::assets();
    let mut app = App::new(LoadOptions::default());
    app.prompt.extract_dir = base.display().to_string();
    let cmds = app.start(Launch::Image(archive.display().to_string()));
    worker::settle(&mut app, cmds);
    draw(&mut app);
    for _ in 0..layer {
        keys(&mut app, "j");
    }
    keys(&mut app, "\t");
    select(&mut app, path);
    app
}

fn select(app: &mut App, path: &str) {
    let tree = app.tree.state.as_mut().unwrap();
    let id = tree.image.fs.lookup(path.as_bytes()).unwrap();
    assert!(tree.select_path(id), "{path} shown in the tree");
}

fn prompt_text(app: &App) -> String {
    match &app.prompt.active {
        Some(Prompt::ExtractDir { text, .. }) => text.clone(),
        other => panic!("extract prompt expected, got {other:?}"),
    }
}

fn notice(app: &App) -> String {
    app.notice.as_ref().map(|n| n.0.clone()).unwrap_or_default()
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

/// Every path under `dir`, relative, sorted.
fn tree_of(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, d: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            out.push(p.strip_prefix(root).unwrap().display().to_string());
            if e.file_type().unwrap().is_dir() {
                walk(root, &p, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn the_prompt_proposes_a_directory_named_after_the_image_and_creates_it_after_asking() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("strata-extract");
    let mut app = app_at(&archive(tmp.path()), &base, 1, "etc/nginx/nginx.conf");
    ctrl(&mut app, 'e');
    // The fixture image is tagged `example/app:1.0`.
    let proposed = format!("{}/app_1.0/", base.display());
    assert_eq!(prompt_text(&app), proposed);
    let screen = draw(&mut app).backend().to_string();
    assert!(
        screen.contains("Extract /etc/nginx/nginx.conf (layer 1) as etc/nginx/nginx.conf into: "),
        "{screen}"
    );
    // The directory is missing: asked, "n" leaves everything as it was.
    keys(&mut app, "\n");
    assert!(
        matches!(&app.prompt.active, Some(Prompt::CreateDir { dir, .. }) if *dir == Path::new(&proposed)),
        "{:?}",
        app.prompt.active
    );
    assert!(draw(&mut app)
        .backend()
        .to_string()
        .contains("app_1.0/ does not exist. Create it? [y/N]"));
    keys(&mut app, "n");
    assert!(!base.exists());
    assert!(notice(&app).contains("not created"), "{}", notice(&app));
    // Again, "y": created, and the file written under its path (layer 1's version).
    ctrl(&mut app, 'e');
    assert_eq!(
        prompt_text(&app),
        proposed,
        "the directory typed is proposed again"
    );
    keys(&mut app, "\ny");
    let out = base.join("app_1.0");
    assert_eq!(
        std::fs::read(out.join("etc/nginx/nginx.conf")).unwrap(),
        NGINX_V1
    );
    assert_eq!(mode(&out.join("etc/nginx/nginx.conf")), 0o644);
    assert_eq!(
        mode(&out.join("etc/nginx")),
        0o750,
        "parent modes from the image"
    );
    assert_eq!(
        notice(&app),
        format!(
            "extracted 1 file ({} B) to {}",
            NGINX_V1.len(),
            out.join("etc/nginx/nginx.conf").display()
        )
    );
    assert_eq!(app.notice.as_ref().unwrap().1, Level::Info);
}

#[test]
fn tab_writes_the_name_only_and_a_second_extract_asks_before_overwriting() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let mut app = app_at(&archive(tmp.path()), tmp.path(), 0, "etc/nginx/run.sh");
    ctrl(&mut app, 'e');
    press(&mut app, KeyCode::Char('u'), KeyModifiers::CONTROL);
    keys(&mut app, &out.display().to_string());
    press(&mut app, KeyCode::Tab, KeyModifiers::NONE);
    let screen = draw(&mut app).backend().to_string();
    assert!(screen.contains("(layer 0) as run.sh into: "), "{screen}");
    assert!(screen.contains("█  Tab keep path · Enter save"), "{screen}");
    keys(&mut app, "\n");
    assert_eq!(tree_of(&out), ["run.sh"]);
    assert_eq!(std::fs::read(out.join("run.sh")).unwrap(), RUN);
    assert_eq!(mode(&out.join("run.sh")), 0o755, "setuid dropped, rwx kept");
    // Again: asked; "n" keeps the user's file.
    std::fs::write(out.join("run.sh"), b"mine").unwrap();
    ctrl(&mut app, 'e');
    press(&mut app, KeyCode::Tab, KeyModifiers::NONE);
    keys(&mut app, "\n");
    assert!(matches!(
        app.prompt.active,
        Some(Prompt::Overwrite { count: 1, .. })
    ));
    keys(&mut app, "n");
    assert_eq!(std::fs::read(out.join("run.sh")).unwrap(), b"mine");
}

#[test]
fn a_directory_row_extracts_its_subtree_as_of_the_selected_layer() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let mut app = app_at(&archive(tmp.path()), tmp.path(), 1, "etc/nginx");
    ctrl(&mut app, 'e');
    press(&mut app, KeyCode::Char('u'), KeyModifiers::CONTROL);
    keys(&mut app, &out.display().to_string());
    let screen = draw(&mut app).backend().to_string();
    assert!(
        screen.contains("Extract /etc/nginx/ (layer 1) as etc/nginx/ into: "),
        "{screen}"
    );
    keys(&mut app, "\ny");
    // Every entry but the FIFO and the symlink out of the directory.
    assert_eq!(
        tree_of(&out),
        [
            "etc",
            "etc/nginx",
            "etc/nginx/conf.d",
            "etc/nginx/conf.d/default.conf",
            "etc/nginx/copy.conf",
            "etc/nginx/current",
            "etc/nginx/nginx.conf",
            "etc/nginx/run.sh",
            "etc/nginx/sneaky.conf",
        ]
    );
    let n = out.join("etc/nginx");
    for (path, bytes, m) in [
        ("nginx.conf", NGINX_V1, 0o644),
        ("conf.d/default.conf", DEFAULT, 0o600),
        ("run.sh", RUN, 0o755),
        // The hard link keeps the bytes and mode of the file it links to (layer 0's).
        ("copy.conf", NGINX_V0, 0o640),
        ("sneaky.conf", SNEAKY, 0o644),
    ] {
        assert_eq!(std::fs::read(n.join(path)).unwrap(), bytes, "{path}");
        assert_eq!(mode(&n.join(path)), m, "{path}");
    }
    assert_eq!(mode(&n), 0o750);
    assert_eq!(mode(&n.join("conf.d")), 0o755);
    // The symlink is a symlink, not a copy of what it points to.
    let link = n.join("current");
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        PathBuf::from("conf.d/default.conf")
    );
    let total = NGINX_V1.len() + DEFAULT.len() + RUN.len() + NGINX_V0.len() + SNEAKY.len();
    let status = notice(&app);
    assert!(
        status.starts_with(&format!(
            "extracted 5 files ({total} B) to {}, 1 symlink; skipped 1 special file; refused 1: symlink etc/nginx/evil → ../../../../outside points outside the directory",
            out.display()
        )),
        "{status}"
    );
    // Nothing landed outside the directory (the `../` entry was normalised into the tree).
    let mut around = tree_of(tmp.path());
    around.retain(|p| !p.starts_with("out"));
    assert_eq!(around, ["img.tar"]);
    // Again: one question for all the files there.
    ctrl(&mut app, 'e');
    keys(&mut app, "\n");
    assert!(
        matches!(app.prompt.active, Some(Prompt::Overwrite { count: 5, .. })),
        "{:?}",
        app.prompt.active
    );
    let screen = draw(&mut app).backend().to_string();
    assert!(
        screen.contains("and 4 more files exist. Overwrite them? [y/N]"),
        "{screen}"
    );
    keys(&mut app, "y");
    assert!(
        notice(&app).starts_with("extracted 5 files"),
        "{}",
        notice(&app)
    );
}

#[test]
fn a_symlink_already_in_the_directory_is_never_written_through() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let victim = tmp.path().join("victim");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::create_dir_all(&victim).unwrap();
    std::os::unix::fs::symlink(&victim, out.join("etc")).unwrap();
    let mut app = app_at(&archive(tmp.path()), tmp.path(), 1, "etc/nginx");
    ctrl(&mut app, 'e');
    press(&mut app, KeyCode::Char('u'), KeyModifiers::CONTROL);
    keys(&mut app, &format!("{}\n", out.display()));
    assert!(
        std::fs::read_dir(&victim).unwrap().next().is_none(),
        "nothing written through the symlink"
    );
    let status = notice(&app);
    assert!(status.starts_with("extracted 0 files"), "{status}");
    assert!(
        status.contains(&format!(
            "{} is a symlink, not a regular file or directory: nothing is written through it",
            out.join("etc").display()
        )),
        "{status}"
    );
}

#[test]
fn unsafe_names_and_escaping_links_are_refused_before_anything_is_written() {
    use strata::ui::extract::{check, ItemKind};
    let rel = |s: &str| -> Vec<Vec<u8>> { s.split('/').map(|c| c.as_bytes().to_vec()).collect() };
    let (items, refused) = check(vec![
        (rel("etc"), ItemKind::Dir(0o755)),
        (rel("etc/../../x"), ItemKind::Dir(0o755)),
        (rel("etc/l"), ItemKind::Symlink(b"/etc/shadow".to_vec())),
        (rel("etc/ok"), ItemKind::Symlink(b"../etc".to_vec())),
    ]);
    assert_eq!(
        items.iter().map(|i| i.rel.clone()).collect::<Vec<_>>(),
        [rel("etc"), rel("etc/ok")]
    );
    assert_eq!(
        refused,
        [
            "unsafe name \"etc/../../x\"",
            "symlink etc/l → /etc/shadow points outside the directory"
        ]
    );
}
