//! Test fixture builder: writes one [`ImageSpec`] in every archive layout of
//! `shared/docs/formats.md` §1, plus deliberately broken inputs for error paths.
//!
//! Output is deterministic (fixed mtimes, empty uname/gname, gzip header mtime 0, sorted JSON
//! keys), so writing the same spec twice gives identical bytes. Every blob is named and described
//! by the real sha256 of its bytes; diffIDs are the sha256 of the uncompressed layer tars.
//!
//! Layer tars mimic moby's go-archive (Go `archive/tar`, `FormatPAX`): USTAR headers
//! (`ustar\0` `00`), mode with file-type bits (`0o100644`, `0o40755`, `0o120777`, …), PAX `x`
//! records only where needed (long or non-ASCII names, uid/gid > `0o7777777`, xattrs), PAX header
//! named `<dir>/PaxHeaders.0/<base>`. [`LongNames::Gnu`] switches a layer to GNU headers with
//! `././@LongLink` `L`/`K` entries instead.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use tar::{EntryType, Header};

/// mtime of every layer entry except opaque markers (Docker writes those with mtime 0).
pub const LAYER_MTIME: u64 = 1_700_000_000;
/// mtime of outer-archive members written by Docker's save (ours; Docker uses the image date).
pub const DOCKER_MTIME: u64 = 1_700_000_000;
/// diffID of an empty layer tar (1024 zero bytes).
pub const EMPTY_LAYER_DIFF_ID: &str =
    "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";
/// Uncompressed size of the zero-filled file inside the full-size [`Broken::GzipBomb`].
pub const BOMB_SIZE: u64 = (2 << 30) + (1 << 20);
/// Number of files in the full-size [`Broken::MillionEntries`] layer.
pub const MILLION: usize = 1_000_000;

/// Media types used by the writers (formats.md §3).
pub mod media {
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
    pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
    pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
    pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    pub const IN_TOTO: &str = "application/vnd.in-toto+json";
}

// ---------------------------------------------------------------------------------------------
// Image description
// ---------------------------------------------------------------------------------------------

/// One image, independent of any archive layout.
#[derive(Clone, Debug)]
pub struct ImageSpec {
    pub layers: Vec<LayerSpec>,
    /// Full config history including `empty_layer` entries. If empty, one entry per layer is
    /// generated (`created_by` = the layer's, `created` = [`ImageSpec::created`]).
    pub history: Vec<HistorySpec>,
    /// The `config` object of the image config (`User`, `Env`, `Cmd`, …). `Null` is written as `{}`.
    pub config: Value,
    /// e.g. `["example/app:1.0"]`; may be empty (Docker then writes `"RepoTags": null`).
    pub repo_tags: Vec<String>,
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
    /// RFC 3339.
    pub created: String,
}

/// One `history` entry of the image config.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HistorySpec {
    pub created_by: String,
    pub empty_layer: bool,
    /// Defaults to [`ImageSpec::created`].
    pub created: Option<String>,
    pub comment: Option<String>,
}

/// One layer: its entries are written exactly in this order, nothing is added (no parent dirs).
#[derive(Clone, Debug, Default)]
pub struct LayerSpec {
    pub created_by: String,
    pub entries: Vec<EntrySpec>,
    /// How names that do not fit a USTAR header are written.
    pub long_names: LongNames,
}

/// Encoding of paths/link targets longer than 100 bytes (or non-ASCII ones).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LongNames {
    /// Go/Docker style: PAX `path`/`linkpath` records (also for non-ASCII names); the header
    /// field keeps the ASCII-filtered name cut to 100 bytes.
    #[default]
    Pax,
    /// GNU tar style: every header is GNU (`ustar  \0`), long names go into `././@LongLink`
    /// entries of type `L` (path) / `K` (link), raw bytes in headers, big ids in base-256.
    /// xattrs still use PAX records.
    Gnu,
    /// Like `Pax`, but an ASCII path of up to 256 bytes that can be split at a `/` uses the USTAR
    /// `prefix` field (as Go does) instead of a PAX record.
    UstarPrefix,
}

/// One layer tar entry. `path`/`target` are raw bytes written exactly as given (`./a`, `/abs`,
/// `a/../b`, non-UTF-8 all allowed). Directory paths are not altered either: pass a trailing `/`
/// as Docker writes it. `mode` holds permission bits (`& 0o7777` is kept; setuid/setgid/sticky
/// allowed); the writer adds the file-type bits.
#[derive(Clone, Debug)]
pub enum EntrySpec {
    /// Regular file, header mode `0o100000 | perm`.
    File {
        path: Vec<u8>,
        data: Vec<u8>,
        mode: u32,
        uid: u64,
        gid: u64,
    },
    /// Directory, header mode `0o40000 | perm`.
    Dir { path: Vec<u8>, mode: u32 },
    /// Symlink, mode `0o120777`.
    Symlink { path: Vec<u8>, target: Vec<u8> },
    /// Hard link (type `1`, size 0, mode `0o100644`); `target` is an archive path.
    HardLink { path: Vec<u8>, target: Vec<u8> },
    /// Deletion of `path`: writes `parent/.wh.<name>`, regular, size 0, mode `0o600`.
    Whiteout { path: Vec<u8> },
    /// Opaque marker: writes `dir/.wh..wh..opq`, regular, size 0, mode `0o755`, mtime 0.
    Opaque { dir: Vec<u8> },
    /// FIFO, mode `0o10644`.
    Fifo { path: Vec<u8> },
    /// Character device, mode `0o20666`.
    CharDev {
        path: Vec<u8>,
        major: u32,
        minor: u32,
    },
    /// Block device, mode `0o60660`.
    BlockDev {
        path: Vec<u8>,
        major: u32,
        minor: u32,
    },
    /// Regular file (mode `0o100755`) with PAX `SCHILY.xattr.security.capability` = `caps`.
    FileWithCaps {
        path: Vec<u8>,
        data: Vec<u8>,
        caps: Vec<u8>,
    },
    /// Escape hatch: `header` written as given (only `size` := `data.len()` and the checksum are
    /// set), preceded by a PAX header with `pax` records if non-empty. For odd cases: whiteouts
    /// with a linkname, pre-1970 mtimes (`pax: [("mtime", b"-315619200")]`), global headers, …
    Custom {
        header: Box<Header>,
        pax: Vec<(String, Vec<u8>)>,
        data: Vec<u8>,
    },
}

/// Archive layouts of formats.md §1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layout {
    /// Docker ≤ 24 `docker save`: `<v1id>/{VERSION,json,layer.tar}`, `<cfghex>.json`,
    /// `manifest.json`, `repositories`; Go walk order (lexical per directory). Duplicate diffIDs
    /// are written as full copies.
    DockerLegacy,
    /// As `DockerLegacy`, but a layer whose diffID already appeared is a tar symlink
    /// `A/layer.tar -> ../B/layer.tar` (B = first occurrence), and v1ids are chosen so that the
    /// symlink precedes its target in the stream. With no duplicate diffID the top layer is the
    /// symlink and its target is an extra, unreferenced `<v1id>/` directory (as a multi-image
    /// save sharing that layer would contain).
    DockerLegacySymlinked,
    /// Docker ≥ 25 classic store: OCI layout inside the tar + `manifest.json` with
    /// `blobs/sha256/<diffid>` paths; uncompressed blobs; an unreferenced v1 JSON blob per layer.
    Docker25,
    /// containerd image store export: gzip blobs, nested index (image index → platform manifest
    /// and attestation manifest), `manifest.json` with compressed digests. The platform manifest,
    /// config and layers use *Docker* v2 media types (as for images pulled from Docker Hub).
    ContainerdGzip,
    /// As `ContainerdGzip` with zstd blobs and OCI media types throughout.
    ContainerdZstd,
    /// skopeo `oci-archive`: `oci-layout`, `index.json`, `blobs/`, no `manifest.json`; gzip.
    OciArchiveGzip,
    /// skopeo `oci-archive` with zstd blobs.
    OciArchiveZstd,
    /// podman `--uncompressed` oci-archive: plain tar blobs (digest = diffID) labelled `+gzip`.
    OciArchiveUncompressedMislabelled,
    /// `OciArchiveGzip` written as a directory tree at `dest` (ref name = tag only).
    OciDir,
    /// skopeo/podman `docker-archive`: `<diffid>.tar`, `<cfghex>.json`, `<v1id>/layer.tar`
    /// symlinks to `../<diffid>.tar`, mode 0444, mtime 0, `manifest.json` + `repositories` last.
    SkopeoDockerArchive,
    /// crane `pull` tarball: config member `sha256:<hex>`, `<compressed hex>.tar.gz`,
    /// `manifest.json` last; no media types anywhere.
    CraneTarball,
    /// `DockerLegacy` archive, whole file gzip-compressed (`docker save | gzip`).
    GzipOuter,
}

/// Every layout, in declaration order.
pub fn all_layouts() -> Vec<Layout> {
    use Layout::*;
    vec![
        DockerLegacy,
        DockerLegacySymlinked,
        Docker25,
        ContainerdGzip,
        ContainerdZstd,
        OciArchiveGzip,
        OciArchiveZstd,
        OciArchiveUncompressedMislabelled,
        OciDir,
        SkopeoDockerArchive,
        CraneTarball,
        GzipOuter,
    ]
}

impl Layout {
    /// Whether `write_image` produces a directory rather than a single file.
    pub fn is_dir(self) -> bool {
        self == Layout::OciDir
    }
}

/// What [`write_image`] wrote.
#[derive(Clone, Debug)]
pub struct Written {
    /// The archive file (or directory for [`Layout::OciDir`]).
    pub path: PathBuf,
    /// `sha256:<hex>` of the config JSON (the Image ID).
    pub config_digest: String,
    /// The config JSON bytes.
    pub config: Vec<u8>,
    /// `sha256:<hex>` of each uncompressed layer tar, in layer order.
    pub diff_ids: Vec<String>,
    /// Uncompressed layer tar bytes, in layer order.
    pub layer_tars: Vec<Vec<u8>>,
    /// Digest of each layer blob as stored (compressed digest; = diffID when uncompressed).
    pub layer_digests: Vec<String>,
    /// Digest of the platform manifest for layouts that have one.
    pub manifest_digest: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Convenience constructors and samples
// ---------------------------------------------------------------------------------------------

impl Default for ImageSpec {
    fn default() -> Self {
        ImageSpec {
            layers: Vec::new(),
            history: Vec::new(),
            config: json!({}),
            repo_tags: vec!["example/app:1.0".to_string()],
            os: "linux".to_string(),
            architecture: "amd64".to_string(),
            variant: None,
            created: "2023-11-14T22:13:20Z".to_string(),
        }
    }
}

impl ImageSpec {
    /// Default metadata (`linux/amd64`, tag `example/app:1.0`) with these layers.
    pub fn new(layers: Vec<LayerSpec>) -> Self {
        ImageSpec {
            layers,
            ..Default::default()
        }
    }

    /// The history actually written: [`ImageSpec::history`] or one entry per layer.
    pub fn effective_history(&self) -> Vec<HistorySpec> {
        if !self.history.is_empty() {
            return self.history.clone();
        }
        self.layers
            .iter()
            .map(|l| HistorySpec::layer(&l.created_by))
            .collect()
    }

    /// Config JSON for these diffIDs: `architecture`, `config`, `created`, `history`, `os`,
    /// `rootfs`, `variant` (if set); compact, keys sorted.
    pub fn config_json(&self, diff_ids: &[String]) -> Vec<u8> {
        let history: Vec<Value> = self
            .effective_history()
            .iter()
            .map(|h| {
                let mut o = Map::new();
                o.insert(
                    "created".into(),
                    h.created.as_deref().unwrap_or(&self.created).into(),
                );
                o.insert("created_by".into(), h.created_by.as_str().into());
                if let Some(c) = &h.comment {
                    o.insert("comment".into(), c.as_str().into());
                }
                if h.empty_layer {
                    o.insert("empty_layer".into(), true.into());
                }
                Value::Object(o)
            })
            .collect();
        let mut cfg = Map::new();
        cfg.insert("architecture".into(), self.architecture.as_str().into());
        cfg.insert("config".into(), self.config_object());
        cfg.insert("created".into(), self.created.as_str().into());
        cfg.insert("history".into(), history.into());
        cfg.insert("os".into(), self.os.as_str().into());
        cfg.insert(
            "rootfs".into(),
            json!({"type": "layers", "diff_ids": diff_ids}),
        );
        if let Some(v) = &self.variant {
            cfg.insert("variant".into(), v.as_str().into());
        }
        to_json(&Value::Object(cfg))
    }

    fn config_object(&self) -> Value {
        if self.config.is_null() {
            json!({})
        } else {
            self.config.clone()
        }
    }

    fn platform(&self) -> Value {
        let mut p = json!({"architecture": self.architecture, "os": self.os});
        if let Some(v) = &self.variant {
            p["variant"] = v.as_str().into();
        }
        p
    }

    /// A small image exercising every feature of formats.md §5 and §8:
    ///
    /// | layer | created_by | content |
    /// |---|---|---|
    /// | 0 | `ADD rootfs.tar /` | dirs, files, setuid, sticky `tmp/`, symlink, hard link, char dev and FIFO without parent dir entries, uid 3000000 |
    /// | 1 | `COPY app /app` | PAX long path (> 100 bytes), non-UTF-8 name `app/caf\xE9.txt`, `root/.ssh/id_rsa` |
    /// | 2 | `RUN rm …` | whiteout of `root/.ssh/id_rsa`, opaque `app/`, new `app/main.py` |
    /// | 3 | `RUN setcap …` | [`LongNames::Gnu`]: `usr/bin/ping` with `cap_net_raw`, GNU long path and long link |
    /// | 4, 5 | `RUN mkdir -p /data` | identical bytes → identical diffIDs |
    /// | 6 | `RUN true` | empty tar (BuildKit style), diffID [`EMPTY_LAYER_DIFF_ID`] |
    ///
    /// History has 10 entries, 3 of them `empty_layer`.
    pub fn sample() -> Self {
        let long_dir = "usr/share/doc/a-package-with-a-rather-long-name-that-keeps-going/\
                        and-a-subdirectory-as-well/and-another-one";
        let base = LayerSpec::new(
            "ADD rootfs.tar /",
            vec![
                EntrySpec::dir("bin/", 0o755),
                EntrySpec::file("bin/sh", text_blob(1, 8192), 0o755),
                EntrySpec::hard_link("bin/sh-hardlink", "bin/sh"),
                EntrySpec::dir("etc/", 0o755),
                EntrySpec::file("etc/os-release", "ID=fixture\nVERSION_ID=1\n", 0o644),
                EntrySpec::file(
                    "etc/passwd",
                    "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n",
                    0o644,
                ),
                EntrySpec::dir("tmp/", 0o1777),
                EntrySpec::dir("usr/", 0o755),
                EntrySpec::dir("usr/bin/", 0o755),
                EntrySpec::file("usr/bin/passwd", text_blob(2, 1500), 0o4755),
                EntrySpec::symlink("usr/bin/sh", "/bin/sh"),
                EntrySpec::CharDev {
                    path: b"dev/null".to_vec(),
                    major: 1,
                    minor: 3,
                },
                EntrySpec::Fifo {
                    path: b"run/initctl".to_vec(),
                },
                EntrySpec::File {
                    path: b"home/u/big-uid.txt".to_vec(),
                    data: b"owned by a large uid\n".to_vec(),
                    mode: 0o640,
                    uid: 3_000_000,
                    gid: 3_000_000,
                },
            ],
        );
        let app = LayerSpec::new(
            "COPY app /app # buildkit",
            vec![
                EntrySpec::dir("app/", 0o755),
                EntrySpec::file("app/main.py", "print('hello')\n", 0o644),
                EntrySpec::file(b"app/caf\xe9.txt", "latin-1 name\n", 0o644),
                EntrySpec::file(format!("{long_dir}/README.md"), "long path\n", 0o644),
                EntrySpec::file("root/.ssh/id_rsa", "-----BEGIN KEY-----\n", 0o600),
            ],
        );
        let cleanup = LayerSpec::new(
            "RUN rm /root/.ssh/id_rsa && rm -rf /app && mkdir /app",
            vec![
                EntrySpec::whiteout("root/.ssh/id_rsa"),
                EntrySpec::dir("app/", 0o755),
                EntrySpec::opaque("app/"),
                EntrySpec::file("app/main.py", "print('v2')\n", 0o644),
            ],
        );
        let mut caps = LayerSpec::new(
            "RUN setcap cap_net_raw+ep /usr/bin/ping",
            vec![
                EntrySpec::FileWithCaps {
                    path: b"usr/bin/ping".to_vec(),
                    data: text_blob(3, 700),
                    caps: vfs_cap_v2(1 << 13),
                },
                EntrySpec::file(format!("{long_dir}/LICENSE"), "MIT\n", 0o644),
                EntrySpec::symlink("usr/bin/doc-link", format!("/{long_dir}/LICENSE")),
            ],
        );
        caps.long_names = LongNames::Gnu;
        let data = LayerSpec::new("RUN mkdir -p /data", vec![EntrySpec::dir("data/", 0o755)]);
        let empty = LayerSpec::new("RUN true", Vec::new());
        let layer_count = 7;
        let history = vec![
            HistorySpec {
                comment: Some("Imported from -".into()),
                ..HistorySpec::layer("ADD rootfs.tar /")
            },
            HistorySpec::empty("ENV API_TOKEN=abc123"),
            HistorySpec::layer(&app.created_by),
            HistorySpec::layer(&cleanup.created_by),
            HistorySpec::empty("CMD [\"python3\"]"),
            HistorySpec::layer(&caps.created_by),
            HistorySpec::layer(&data.created_by),
            HistorySpec::layer(&data.created_by),
            HistorySpec::layer(&empty.created_by),
            HistorySpec::empty("EXPOSE map[8080/tcp:{}]"),
        ];
        debug_assert_eq!(
            history.iter().filter(|h| !h.empty_layer).count(),
            layer_count
        );
        ImageSpec {
            layers: vec![base, app, cleanup, caps, data.clone(), data, empty],
            history,
            config: json!({
                "User": "app",
                "Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "API_TOKEN=abc123"],
                "Cmd": ["python3"],
                "Entrypoint": null,
                "ExposedPorts": {"8080/tcp": {}},
                "Labels": {"org.opencontainers.image.title": "sample"},
                "Healthcheck": {"Test": ["CMD", "true"], "Interval": 30_000_000_000u64},
                "WorkingDir": "/app",
                "Volumes": {"/data": {}},
            }),
            ..Default::default()
        }
    }

    /// One layer with a dir and a file; no duplicate diffIDs, generated history.
    pub fn minimal() -> Self {
        ImageSpec::new(vec![LayerSpec::new(
            "COPY hello /srv/hello",
            vec![
                EntrySpec::dir("srv/", 0o755),
                EntrySpec::file("srv/hello", "hello\n", 0o644),
            ],
        )])
    }
}

impl HistorySpec {
    /// An entry owning a layer.
    pub fn layer(created_by: &str) -> Self {
        HistorySpec {
            created_by: created_by.to_string(),
            ..Default::default()
        }
    }

    /// An `empty_layer: true` entry.
    pub fn empty(created_by: &str) -> Self {
        HistorySpec {
            created_by: created_by.to_string(),
            empty_layer: true,
            ..Default::default()
        }
    }
}

impl LayerSpec {
    /// A layer with [`LongNames::Pax`].
    pub fn new(created_by: &str, entries: Vec<EntrySpec>) -> Self {
        LayerSpec {
            created_by: created_by.to_string(),
            entries,
            long_names: LongNames::Pax,
        }
    }

    /// The uncompressed layer tar (ends with two zero blocks, no further padding).
    pub fn tar(&self) -> io::Result<Vec<u8>> {
        let mut b = tar::Builder::new(Vec::new());
        for e in &self.entries {
            e.append_to(&mut b, self.long_names)?;
        }
        b.into_inner()
    }
}

impl EntrySpec {
    /// Regular file owned by 0:0.
    pub fn file(path: impl AsRef<[u8]>, data: impl AsRef<[u8]>, mode: u32) -> Self {
        EntrySpec::File {
            path: path.as_ref().to_vec(),
            data: data.as_ref().to_vec(),
            mode,
            uid: 0,
            gid: 0,
        }
    }

    pub fn dir(path: impl AsRef<[u8]>, mode: u32) -> Self {
        EntrySpec::Dir {
            path: path.as_ref().to_vec(),
            mode,
        }
    }

    pub fn symlink(path: impl AsRef<[u8]>, target: impl AsRef<[u8]>) -> Self {
        EntrySpec::Symlink {
            path: path.as_ref().to_vec(),
            target: target.as_ref().to_vec(),
        }
    }

    pub fn hard_link(path: impl AsRef<[u8]>, target: impl AsRef<[u8]>) -> Self {
        EntrySpec::HardLink {
            path: path.as_ref().to_vec(),
            target: target.as_ref().to_vec(),
        }
    }

    /// Deletes `path` from lower layers.
    pub fn whiteout(path: impl AsRef<[u8]>) -> Self {
        EntrySpec::Whiteout {
            path: path.as_ref().to_vec(),
        }
    }

    /// Opaque marker for `dir`.
    pub fn opaque(dir: impl AsRef<[u8]>) -> Self {
        EntrySpec::Opaque {
            dir: dir.as_ref().to_vec(),
        }
    }

    /// The path this entry occupies in the layer tar (whiteout/opaque marker names resolved).
    pub fn tar_path(&self) -> Vec<u8> {
        match self {
            EntrySpec::File { path, .. }
            | EntrySpec::Dir { path, .. }
            | EntrySpec::Symlink { path, .. }
            | EntrySpec::HardLink { path, .. }
            | EntrySpec::Fifo { path }
            | EntrySpec::CharDev { path, .. }
            | EntrySpec::BlockDev { path, .. }
            | EntrySpec::FileWithCaps { path, .. } => path.clone(),
            EntrySpec::Whiteout { path } => whiteout_path(path),
            EntrySpec::Opaque { dir } => opaque_path(dir),
            EntrySpec::Custom { header, .. } => header.path_bytes().into_owned(),
        }
    }

    fn append_to<W: Write>(&self, b: &mut tar::Builder<W>, style: LongNames) -> io::Result<()> {
        const IFREG: u32 = 0o100000;
        let perm = |m: u32| m & 0o7777;
        let none: &[u8] = &[];
        match self {
            EntrySpec::File {
                path,
                data,
                mode,
                uid,
                gid,
            } => {
                let mut m = Meta::new(path, EntryType::Regular, IFREG | perm(*mode));
                (m.uid, m.gid, m.size) = (*uid, *gid, data.len() as u64);
                append_entry(b, style, m, &data[..])
            }
            EntrySpec::Dir { path, mode } => {
                let m = Meta::new(path, EntryType::Directory, 0o40000 | perm(*mode));
                append_entry(b, style, m, none)
            }
            EntrySpec::Symlink { path, target } => {
                let mut m = Meta::new(path, EntryType::Symlink, 0o120777);
                m.link = Some(target);
                append_entry(b, style, m, none)
            }
            EntrySpec::HardLink { path, target } => {
                let mut m = Meta::new(path, EntryType::Link, IFREG | 0o644);
                m.link = Some(target);
                append_entry(b, style, m, none)
            }
            EntrySpec::Whiteout { path } => {
                let p = whiteout_path(path);
                append_entry(b, style, Meta::new(&p, EntryType::Regular, 0o600), none)
            }
            EntrySpec::Opaque { dir } => {
                let p = opaque_path(dir);
                let mut m = Meta::new(&p, EntryType::Regular, 0o755);
                m.mtime = 0;
                append_entry(b, style, m, none)
            }
            EntrySpec::Fifo { path } => {
                append_entry(b, style, Meta::new(path, EntryType::Fifo, 0o10644), none)
            }
            EntrySpec::CharDev { path, major, minor } => {
                let mut m = Meta::new(path, EntryType::Char, 0o20666);
                m.dev = Some((*major, *minor));
                append_entry(b, style, m, none)
            }
            EntrySpec::BlockDev { path, major, minor } => {
                let mut m = Meta::new(path, EntryType::Block, 0o60660);
                m.dev = Some((*major, *minor));
                append_entry(b, style, m, none)
            }
            EntrySpec::FileWithCaps { path, data, caps } => {
                let mut m = Meta::new(path, EntryType::Regular, IFREG | 0o755);
                m.size = data.len() as u64;
                m.pax
                    .push(("SCHILY.xattr.security.capability".into(), caps.clone()));
                append_entry(b, style, m, &data[..])
            }
            EntrySpec::Custom { header, pax, data } => {
                if !pax.is_empty() {
                    write_pax(b, &header.path_bytes(), pax.clone())?;
                }
                let mut h = (**header).clone();
                h.set_size(data.len() as u64);
                h.set_cksum();
                b.append(&h, &data[..])
            }
        }
    }
}

/// `parent/.wh.<name>` for `path` (a trailing `/` is ignored).
pub fn whiteout_path(path: &[u8]) -> Vec<u8> {
    let p = trim_slash(path);
    match p.iter().rposition(|&c| c == b'/') {
        Some(i) => [&p[..=i], b".wh.", &p[i + 1..]].concat(),
        None => [b".wh.", p].concat(),
    }
}

/// `dir/.wh..wh..opq` (`.wh..wh..opq` for the root).
pub fn opaque_path(dir: &[u8]) -> Vec<u8> {
    let d = trim_slash(dir);
    if d.is_empty() {
        b".wh..wh..opq".to_vec()
    } else {
        [d, b"/.wh..wh..opq"].concat()
    }
}

/// A 20-byte VFS capability v2 xattr (`0x02000001`, effective) with these permitted bits.
pub fn vfs_cap_v2(permitted: u64) -> Vec<u8> {
    let mut v = 0x0200_0001u32.to_le_bytes().to_vec();
    v.extend((permitted as u32).to_le_bytes()); // permitted, low word
    v.extend(0u32.to_le_bytes()); // inheritable, low word
    v.extend(((permitted >> 32) as u32).to_le_bytes());
    v.extend(0u32.to_le_bytes());
    v
}

/// Deterministic, compressible but not trivial text of `len` bytes.
pub fn text_blob(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = XorShift::new(seed);
    let mut out = Vec::with_capacity(len + 64);
    let mut line = 0u32;
    while out.len() < len {
        let word = rng.next() % 10_000;
        out.extend(format!("line {line:05}: value={word:04} {:016x}\n", rng.next()).bytes());
        line += 1;
    }
    out.truncate(len);
    out
}

/// `sha256:<hex>` of `bytes`.
pub fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(bytes))
}

/// Lowercase hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// gzip as Go/containers do it: one member, header mtime 0, default level.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).expect("writing to a Vec cannot fail");
    e.finish().expect("writing to a Vec cannot fail")
}

/// zstd level 3, no checksum.
pub fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(data, 3).expect("in-memory zstd cannot fail")
}

fn zstd_checked(data: &[u8]) -> io::Result<Vec<u8>> {
    let mut e = zstd::stream::Encoder::new(Vec::new(), 3)?;
    e.include_checksum(true)?;
    e.write_all(data)?;
    e.finish()
}

/// ChainIDs (formats.md §8) for these diffIDs.
pub fn chain_ids(diff_ids: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(diff_ids.len());
    for d in diff_ids {
        let next = match out.last() {
            None => d.clone(),
            Some(prev) => digest_of(format!("{prev} {d}").as_bytes()),
        };
        out.push(next);
    }
    out
}

/// `"example/app:1.0"` → `"docker.io/example/app:1.0"`, `"alpine"` →
/// `"docker.io/library/alpine:latest"`; refs with a registry host are kept.
pub fn normalize_ref(r: &str) -> String {
    let (repo, tag) = split_tag(r);
    let first = repo.split('/').next().unwrap_or("");
    let has_host =
        repo.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let repo = if has_host {
        repo.to_string()
    } else if repo.contains('/') {
        format!("docker.io/{repo}")
    } else {
        format!("docker.io/library/{repo}")
    };
    format!("{repo}:{tag}")
}

/// Splits `repo:tag` (tag defaults to `latest`).
pub fn split_tag(r: &str) -> (&str, &str) {
    let slash = r.rfind('/').map_or(0, |i| i + 1);
    match r[slash..].rfind(':') {
        Some(i) => (&r[..slash + i], &r[slash + i + 1..]),
        None => (r, "latest"),
    }
}

// ---------------------------------------------------------------------------------------------
// Low-level tar writing
// ---------------------------------------------------------------------------------------------

/// Header fields of one entry before long-name/PAX handling.
struct Meta<'a> {
    path: &'a [u8],
    link: Option<&'a [u8]>,
    kind: EntryType,
    mode: u32,
    uid: u64,
    gid: u64,
    mtime: u64,
    size: u64,
    dev: Option<(u32, u32)>,
    pax: Vec<(String, Vec<u8>)>,
}

impl<'a> Meta<'a> {
    fn new(path: &'a [u8], kind: EntryType, mode: u32) -> Self {
        Meta {
            path,
            link: None,
            kind,
            mode,
            uid: 0,
            gid: 0,
            mtime: LAYER_MTIME,
            size: 0,
            dev: None,
            pax: Vec::new(),
        }
    }
}

/// Largest id that fits the 8-byte octal USTAR field.
const USTAR_MAX_ID: u64 = 0o7_777_777;

/// A header plus the extension records that must precede it.
struct Prepared<'a> {
    header: Header,
    pax: Vec<(String, Vec<u8>)>,
    /// GNU `L`/`K` entries, in writing order.
    longs: Vec<(EntryType, &'a [u8])>,
}

fn append_entry<W: Write, R: Read>(
    b: &mut tar::Builder<W>,
    style: LongNames,
    m: Meta<'_>,
    data: R,
) -> io::Result<()> {
    let path = m.path;
    let Prepared {
        mut header,
        pax,
        longs,
    } = prepare(style, m)?;
    for (kind, bytes) in longs {
        write_gnu_long(b, kind, bytes)?;
    }
    if !pax.is_empty() {
        write_pax(b, path, pax)?;
    }
    header.set_cksum();
    b.append(&header, data)
}

/// Builds the header for `m` the way Go's `archive/tar` (or GNU tar for [`LongNames::Gnu`])
/// would, deciding which values need PAX records or GNU long-name entries.
fn prepare(style: LongNames, m: Meta<'_>) -> io::Result<Prepared<'_>> {
    let gnu = style == LongNames::Gnu;
    let mut h = if gnu {
        Header::new_gnu()
    } else {
        Header::new_ustar()
    };
    let mut pax = m.pax;
    let mut longs: Vec<(EntryType, &[u8])> = Vec::new();

    if let Some(link) = m.link {
        let field = &mut h.as_old_mut().linkname;
        if link.len() <= field.len() && (gnu || link.is_ascii()) {
            field[..link.len()].copy_from_slice(link);
        } else if gnu {
            longs.push((EntryType::GNULongLink, link));
            field.copy_from_slice(&link[..100]);
        } else {
            pax.push(("linkpath".into(), link.to_vec()));
            put_ascii(field, link);
        }
    }
    let path = m.path;
    if path.len() <= 100 && (gnu || path.is_ascii()) {
        h.as_old_mut().name[..path.len()].copy_from_slice(path);
    } else if gnu {
        longs.push((EntryType::GNULongName, path));
        h.as_old_mut().name.copy_from_slice(&path[..100]);
    } else if let Some((prefix, name)) = (style == LongNames::UstarPrefix)
        .then(|| split_ustar(path))
        .flatten()
    {
        let u = h.as_ustar_mut().expect("ustar header");
        u.prefix[..prefix.len()].copy_from_slice(prefix);
        u.name[..name.len()].copy_from_slice(name);
    } else {
        pax.push(("path".into(), path.to_vec()));
        put_ascii(&mut h.as_old_mut().name, path);
    }

    h.set_entry_type(m.kind);
    h.set_mode(m.mode);
    h.set_mtime(m.mtime);
    h.set_size(m.size);
    for (key, id, set) in [
        ("uid", m.uid, Header::set_uid as fn(&mut Header, u64)),
        ("gid", m.gid, Header::set_gid),
    ] {
        if gnu || id <= USTAR_MAX_ID {
            set(&mut h, id);
        } else {
            pax.push((key.into(), id.to_string().into_bytes()));
            set(&mut h, 0);
        }
    }
    match m.dev {
        Some((major, minor)) => {
            h.set_device_major(major)?;
            h.set_device_minor(minor)?;
        }
        // Go fills the USTAR device fields with zeros for every entry.
        None if !gnu => {
            h.set_device_major(0)?;
            h.set_device_minor(0)?;
        }
        None => {}
    }
    Ok(Prepared {
        header: h,
        pax,
        longs,
    })
}

/// Copies the ASCII bytes of `src` into `field`, truncated (Go's `toASCII` + cut).
fn put_ascii(field: &mut [u8], src: &[u8]) {
    for (slot, c) in field.iter_mut().zip(src.iter().filter(|c| c.is_ascii())) {
        *slot = *c;
    }
}

/// Go's `splitUSTARPath`: prefix ≤ 155, name ≤ 100, split at a `/`.
fn split_ustar(p: &[u8]) -> Option<(&[u8], &[u8])> {
    if p.len() <= 100 || !p.is_ascii() {
        return None;
    }
    let mut len = p.len();
    if len > 156 {
        len = 156;
    } else if p[len - 1] == b'/' {
        len -= 1;
    }
    let i = p[..len].iter().rposition(|&c| c == b'/')?;
    let name_len = p.len() - i - 1;
    (i > 0 && name_len > 0 && name_len <= 100 && i <= 155).then(|| (&p[..i], &p[i + 1..]))
}

/// Writes a PAX `x` header (records sorted by key, as Go does) for the entry at `path`.
fn write_pax<W: Write>(
    b: &mut tar::Builder<W>,
    path: &[u8],
    mut records: Vec<(String, Vec<u8>)>,
) -> io::Result<()> {
    records.sort_by(|x, y| x.0.cmp(&y.0));
    let mut data = Vec::new();
    for (key, value) in &records {
        data.extend(pax_record(key, value));
    }
    // Go: path.Join(dir, "PaxHeaders.0", base), ASCII only, ≤ 100 bytes, no trailing '/'.
    let (dir, base) = match path.iter().rposition(|&c| c == b'/') {
        Some(i) => (&path[..=i], &path[i + 1..]),
        None => (&path[..0], path),
    };
    let name: Vec<u8> = [dir, b"PaxHeaders.0/", base]
        .concat()
        .into_iter()
        .filter(u8::is_ascii)
        .take(100)
        .collect();
    let name = trim_slash(&name);
    let mut h = Header::new_ustar();
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_entry_type(EntryType::XHeader);
    h.set_mode(0);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_size(data.len() as u64);
    h.set_cksum();
    b.append(&h, &data[..])
}

/// One `"<len> key=value\n"` record; `len` counts itself.
fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let body = key.len() + value.len() + 3;
    let mut len = body + 1;
    while body + len.to_string().len() != len {
        len = body + len.to_string().len();
    }
    [format!("{len} {key}=").as_bytes(), value, b"\n".as_slice()].concat()
}

/// GNU `././@LongLink` entry (as the `tar` crate and GNU tar write it).
fn write_gnu_long<W: Write>(
    b: &mut tar::Builder<W>,
    kind: EntryType,
    name: &[u8],
) -> io::Result<()> {
    let mut h = Header::new_gnu();
    let label = b"././@LongLink";
    h.as_old_mut().name[..label.len()].copy_from_slice(label);
    h.set_entry_type(kind);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_size(name.len() as u64 + 1);
    h.set_cksum();
    b.append(&h, [name, b"\0"].concat().as_slice())
}

fn trim_slash(p: &[u8]) -> &[u8] {
    let mut p = p;
    while let [rest @ .., b'/'] = p {
        p = rest;
    }
    p
}

// ---------------------------------------------------------------------------------------------
// Outer archive members
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Body {
    Bytes(Vec<u8>),
    /// `len` bytes of a file on disk (for layers too big to hold in memory).
    File(PathBuf, u64),
    Dir,
    Symlink(String),
    /// A layer that exists only as a precomputed blob (never read back).
    Absent,
}

#[derive(Clone, Debug)]
struct Member {
    name: String,
    body: Body,
    mode: u32,
    mtime: u64,
}

impl Member {
    fn file(name: impl Into<String>, bytes: Vec<u8>, mode: u32, mtime: u64) -> Self {
        Member {
            name: name.into(),
            body: Body::Bytes(bytes),
            mode,
            mtime,
        }
    }

    fn dir(name: impl Into<String>, mode: u32, mtime: u64) -> Self {
        Member {
            name: name.into(),
            body: Body::Dir,
            mode,
            mtime,
        }
    }
}

/// Orders members as Go's `filepath.Walk` visits them (lexical per directory).
fn walk_order(members: &mut [Member]) {
    members.sort_by(|a, b| {
        let key = |m: &Member| -> Vec<String> {
            m.name
                .trim_end_matches('/')
                .split('/')
                .map(str::to_string)
                .collect()
        };
        key(a).cmp(&key(b))
    });
}

fn write_tar<W: Write>(members: &[Member], w: W) -> io::Result<W> {
    let mut b = tar::Builder::new(w);
    let none: &[u8] = &[];
    for m in members {
        let mut meta = Meta::new(m.name.as_bytes(), EntryType::Regular, m.mode);
        meta.mtime = m.mtime;
        match &m.body {
            Body::Bytes(bytes) => {
                meta.size = bytes.len() as u64;
                append_entry(&mut b, LongNames::Pax, meta, &bytes[..])?;
            }
            Body::File(path, len) => {
                meta.size = *len;
                append_entry(&mut b, LongNames::Pax, meta, File::open(path)?.take(*len))?;
            }
            Body::Dir => {
                meta.kind = EntryType::Directory;
                append_entry(&mut b, LongNames::Pax, meta, none)?;
            }
            Body::Symlink(target) => {
                meta.kind = EntryType::Symlink;
                meta.link = Some(target.as_bytes());
                append_entry(&mut b, LongNames::Pax, meta, none)?;
            }
            Body::Absent => return Err(io::Error::other("absent body in archive member")),
        }
    }
    b.into_inner()
}

fn write_tar_file(members: &[Member], dest: &Path) -> io::Result<()> {
    write_tar(members, BufWriter::new(File::create(dest)?))?.flush()
}

fn write_dir(members: &[Member], dest: &Path) -> io::Result<()> {
    fs::create_dir_all(dest)?;
    for m in members {
        let p = dest.join(&m.name);
        match &m.body {
            Body::Dir => fs::create_dir_all(&p)?,
            Body::Bytes(bytes) => fs::write(&p, bytes)?,
            Body::File(src, _) => {
                fs::copy(src, &p)?;
            }
            Body::Symlink(target) => std::os::unix::fs::symlink(target, &p)?,
            Body::Absent => return Err(io::Error::other("absent body in archive member")),
        }
    }
    Ok(())
}

fn body_bytes(body: &Body) -> io::Result<Vec<u8>> {
    match body {
        Body::Bytes(b) => Ok(b.clone()),
        Body::File(p, _) => fs::read(p),
        _ => Err(io::Error::other("layer body is not materialised")),
    }
}

/// Content-addressed blobs, deduplicated, ordered by digest.
#[derive(Default)]
struct Blobs(BTreeMap<String, Body>);

impl Blobs {
    /// Stores `bytes`; returns `(digest, size)`.
    fn put(&mut self, bytes: Vec<u8>) -> (String, u64) {
        let hex = sha256_hex(&bytes);
        let size = bytes.len() as u64;
        self.0.entry(hex.clone()).or_insert(Body::Bytes(bytes));
        (format!("sha256:{hex}"), size)
    }

    /// Stores `bytes` and returns an OCI descriptor.
    fn desc(&mut self, media_type: &str, bytes: Vec<u8>) -> Value {
        let (digest, size) = self.put(bytes);
        json!({"mediaType": media_type, "digest": digest, "size": size})
    }

    fn members(self, file_mode: u32, mtime: u64) -> Vec<Member> {
        let mut out = vec![
            Member::dir("blobs/", 0o40755, mtime),
            Member::dir("blobs/sha256/", 0o40755, mtime),
        ];
        out.extend(self.0.into_iter().map(|(hex, body)| Member {
            name: format!("blobs/sha256/{hex}"),
            body,
            mode: file_mode,
            mtime,
        }));
        out
    }
}

fn to_json(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("serialising a Value cannot fail")
}

fn hex(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap_or(digest)
}

/// Docker writes `"RepoTags": null` when there are none.
fn repo_tags_json(tags: &[String]) -> Value {
    if tags.is_empty() {
        Value::Null
    } else {
        json!(tags)
    }
}

// ---------------------------------------------------------------------------------------------
// Layout writers
// ---------------------------------------------------------------------------------------------

/// An image ready to be laid out.
struct Image<'a> {
    spec: &'a ImageSpec,
    config: Vec<u8>,
    config_digest: String,
    diff_ids: Vec<String>,
    layers: Vec<Body>,
}

/// Members of one layout plus what the descriptors say.
struct Built {
    members: Vec<Member>,
    layer_digests: Vec<String>,
    manifest_digest: Option<String>,
}

impl<'a> Image<'a> {
    fn new(spec: &'a ImageSpec) -> io::Result<Self> {
        let tars = spec
            .layers
            .iter()
            .map(LayerSpec::tar)
            .collect::<io::Result<Vec<_>>>()?;
        let diff_ids = tars.iter().map(|t| digest_of(t)).collect();
        Ok(Image::from_parts(
            spec,
            diff_ids,
            tars.into_iter().map(Body::Bytes).collect(),
        ))
    }

    fn from_parts(spec: &'a ImageSpec, diff_ids: Vec<String>, layers: Vec<Body>) -> Self {
        let config = spec.config_json(&diff_ids);
        Image {
            spec,
            config_digest: digest_of(&config),
            config,
            diff_ids,
            layers,
        }
    }

    fn config_hex(&self) -> &str {
        hex(&self.config_digest)
    }

    fn written(&self, path: &Path, built: Built) -> io::Result<Written> {
        Ok(Written {
            path: path.to_path_buf(),
            config_digest: self.config_digest.clone(),
            config: self.config.clone(),
            diff_ids: self.diff_ids.clone(),
            layer_tars: self
                .layers
                .iter()
                .map(body_bytes)
                .collect::<io::Result<_>>()?,
            layer_digests: built.layer_digests,
            manifest_digest: built.manifest_digest,
        })
    }

    /// Legacy v1 layer JSON; the top layer embeds the image config, as in moby.
    fn v1_json(&self, i: usize, id: &str, parent: Option<&str>) -> Vec<u8> {
        let s = self.spec;
        let mut o = json!({
            "id": id,
            "created": s.created,
            "container_config": {"Cmd": [s.layers.get(i).map_or("", |l| l.created_by.as_str())]},
            "os": s.os,
        });
        if let Some(p) = parent {
            o["parent"] = p.into();
        }
        if i + 1 == self.diff_ids.len() {
            o["architecture"] = s.architecture.as_str().into();
            o["config"] = s.config_object();
        }
        to_json(&o)
    }

    /// v1 id of layer `i` (moby derives it from the chain, the parent and, for the top layer,
    /// the config); `salt` lets the symlinked layout steer the lexical order.
    fn v1_id(&self, chain: &str, parent: Option<&str>, top: bool, salt: u32) -> String {
        let cfg = if top { self.config_digest.as_str() } else { "" };
        sha256_hex(format!("v1 {chain} {} {cfg} {salt}", parent.unwrap_or("")).as_bytes())
    }

    /// `repositories` file mapping familiar repo → tag → `id`, or `None` without tags.
    fn repositories(&self, id: &str, qualify: bool) -> Option<Vec<u8>> {
        let mut repos: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for t in &self.spec.repo_tags {
            let full = if qualify { normalize_ref(t) } else { t.clone() };
            let (repo, tag) = split_tag(&full);
            repos
                .entry(repo.to_string())
                .or_default()
                .insert(tag.to_string(), id.to_string());
        }
        (!repos.is_empty()).then(|| to_json(&json!(repos)))
    }

    /// Descriptors for `index.json`: one per tag with containerd/OCI name annotations.
    fn index_entries(&self, desc: &Value) -> Vec<Value> {
        if self.spec.repo_tags.is_empty() {
            return vec![desc.clone()];
        }
        self.spec
            .repo_tags
            .iter()
            .map(|t| {
                let mut d = desc.clone();
                d["annotations"] = json!({
                    "io.containerd.image.name": normalize_ref(t),
                    "org.opencontainers.image.ref.name": split_tag(t).1,
                });
                d
            })
            .collect()
    }

    fn docker_legacy(&self, symlinked: bool) -> Built {
        let n = self.diff_ids.len();
        let chain = chain_ids(&self.diff_ids);
        let mut ids: Vec<String> = Vec::with_capacity(n);
        // links[i] = Some(v1id of the directory holding the real bytes).
        let mut links: Vec<Option<String>> = vec![None; n];
        for i in 0..n {
            let first = self.diff_ids[..i]
                .iter()
                .position(|d| *d == self.diff_ids[i]);
            let target = first.filter(|_| symlinked).map(|j| ids[j].clone());
            let parent = ids.last().map(String::as_str);
            let mut salt = 0;
            let id = loop {
                let id = self.v1_id(&chain[i], parent, i + 1 == n, salt);
                match &target {
                    Some(t) if id >= *t => salt += 1,
                    _ => break id,
                }
            };
            links[i] = target;
            ids.push(id);
        }
        let mut members = Vec::new();
        let mut layer_dir = |id: &str, parent: Option<&str>, i: usize, layer: Body| {
            members.push(Member::dir(format!("{id}/"), 0o40755, DOCKER_MTIME));
            members.push(Member::file(
                format!("{id}/VERSION"),
                b"1.0".to_vec(),
                0o100644,
                DOCKER_MTIME,
            ));
            members.push(Member::file(
                format!("{id}/json"),
                self.v1_json(i, id, parent),
                0o100644,
                DOCKER_MTIME,
            ));
            let mode = if matches!(layer, Body::Symlink(_)) {
                0o120777
            } else {
                0o100644
            };
            members.push(Member {
                name: format!("{id}/layer.tar"),
                body: layer,
                mode,
                mtime: DOCKER_MTIME,
            });
        };
        if symlinked && n > 0 && links.iter().all(Option::is_none) {
            // No duplicate: the top layer's bytes live in a sibling image's directory.
            let top = ids[n - 1].clone();
            let parent = (n > 1).then(|| ids[n - 2].clone());
            let extra = (0u32..)
                .map(|salt| sha256_hex(format!("sibling {top} {salt}").as_bytes()))
                .find(|id| *id > top)
                .expect("some salt sorts after the top id");
            layer_dir(&extra, parent.as_deref(), n - 1, self.layers[n - 1].clone());
            links[n - 1] = Some(extra);
        }
        for i in 0..n {
            let parent = i.checked_sub(1).map(|p| ids[p].as_str());
            let body = match &links[i] {
                Some(t) => Body::Symlink(format!("../{t}/layer.tar")),
                None => self.layers[i].clone(),
            };
            layer_dir(&ids[i], parent, i, body);
        }
        members.push(Member::file(
            format!("{}.json", self.config_hex()),
            self.config.clone(),
            0o100644,
            DOCKER_MTIME,
        ));
        let manifest = json!([{
            "Config": format!("{}.json", self.config_hex()),
            "RepoTags": repo_tags_json(&self.spec.repo_tags),
            "Layers": ids.iter().map(|id| format!("{id}/layer.tar")).collect::<Vec<_>>(),
        }]);
        members.push(Member::file(
            "manifest.json",
            to_json(&manifest),
            0o100644,
            DOCKER_MTIME,
        ));
        if let Some(top) = ids.last() {
            if let Some(repos) = self.repositories(top, false) {
                members.push(Member::file("repositories", repos, 0o100644, DOCKER_MTIME));
            }
        }
        walk_order(&mut members);
        Built {
            members,
            layer_digests: self.diff_ids.clone(),
            manifest_digest: None,
        }
    }

    fn docker25(&self) -> io::Result<Built> {
        let mut blobs = Blobs::default();
        let layers = self
            .layers
            .iter()
            .map(|l| Ok(blobs.desc(media::OCI_LAYER, body_bytes(l)?)))
            .collect::<io::Result<Vec<_>>>()?;
        let config = blobs.desc(media::OCI_CONFIG, self.config.clone());
        let manifest = to_json(&json!({
            "schemaVersion": 2,
            "mediaType": media::OCI_MANIFEST,
            "config": config,
            "layers": layers,
        }));
        let mdesc = blobs.desc(media::OCI_MANIFEST, manifest);
        // Legacy v1 JSON per layer, referenced by nothing.
        let chain = chain_ids(&self.diff_ids);
        let mut parent: Option<String> = None;
        for (i, c) in chain.iter().enumerate() {
            let id = self.v1_id(c, parent.as_deref(), i + 1 == chain.len(), 0);
            blobs.put(self.v1_json(i, &id, parent.as_deref()));
            parent = Some(id);
        }
        let index = json!({
            "schemaVersion": 2,
            "mediaType": media::OCI_INDEX,
            "manifests": self.index_entries(&mdesc),
        });
        let blob_path = |d: &str| format!("blobs/sha256/{}", hex(d));
        let manifest_json = json!([{
            "Config": blob_path(&self.config_digest),
            "RepoTags": repo_tags_json(&self.spec.repo_tags),
            "Layers": self.diff_ids.iter().map(|d| blob_path(d)).collect::<Vec<_>>(),
        }]);
        let mut members = blobs.members(0o100644, DOCKER_MTIME);
        let mut file = |name: &str, bytes: Vec<u8>| {
            members.push(Member::file(name, bytes, 0o100644, DOCKER_MTIME));
        };
        file("index.json", to_json(&index));
        file("manifest.json", to_json(&manifest_json));
        file("oci-layout", oci_layout_bytes());
        if let Some(repos) = self.repositories(self.config_hex(), false) {
            file("repositories", repos);
        }
        walk_order(&mut members);
        Ok(Built {
            members,
            layer_digests: self.diff_ids.clone(),
            manifest_digest: mdesc["digest"].as_str().map(str::to_string),
        })
    }

    /// Puts config, layers (through `encode`) and the manifest into `blobs`.
    /// Returns the manifest descriptor and the layer digests.
    fn put_manifest(
        &self,
        blobs: &mut Blobs,
        types: &MediaTypes,
        encode: &mut dyn FnMut(usize, &Body) -> io::Result<Vec<u8>>,
    ) -> io::Result<(Value, Vec<String>)> {
        let mut layers = Vec::new();
        let mut digests = Vec::new();
        for (i, l) in self.layers.iter().enumerate() {
            let d = blobs.desc(types.layer, encode(i, l)?);
            digests.push(d["digest"].as_str().unwrap_or_default().to_string());
            layers.push(d);
        }
        let config = blobs.desc(types.config, self.config.clone());
        let manifest = to_json(&json!({
            "schemaVersion": 2,
            "mediaType": types.manifest,
            "config": config,
            "layers": layers,
        }));
        let mut d = blobs.desc(types.manifest, manifest);
        d["platform"] = self.spec.platform();
        Ok((d, digests))
    }

    fn containerd(&self, comp: Comp) -> io::Result<Built> {
        let types = match comp {
            Comp::Zstd => MediaTypes::oci(media::OCI_LAYER_ZSTD),
            Comp::Gzip => MediaTypes::docker(),
            Comp::None => MediaTypes::oci(media::OCI_LAYER),
        };
        let mut blobs = Blobs::default();
        let (mdesc, layer_digests) = self.put_manifest(&mut blobs, &types, &mut |_, l| {
            Ok(comp.encode(&body_bytes(l)?))
        })?;
        let att = attestation(&mut blobs, self.spec, &mdesc);
        let image_index = to_json(&json!({
            "schemaVersion": 2,
            "mediaType": media::OCI_INDEX,
            "manifests": [mdesc, att],
        }));
        let idesc = blobs.desc(media::OCI_INDEX, image_index);
        let index = json!({
            "schemaVersion": 2,
            "mediaType": media::OCI_INDEX,
            "manifests": self.index_entries(&idesc),
        });
        let manifest_json = json!([{
            "Config": format!("blobs/sha256/{}", self.config_hex()),
            "RepoTags": repo_tags_json(&self.spec.repo_tags),
            "Layers": layer_digests.iter().map(|d| format!("blobs/sha256/{}", hex(d))).collect::<Vec<_>>(),
        }]);
        let mut members = blobs.members(0o444, 0);
        members.push(Member::file("index.json", to_json(&index), 0o444, 0));
        members.push(Member::file(
            "manifest.json",
            to_json(&manifest_json),
            0o444,
            0,
        ));
        members.push(Member::file("oci-layout", oci_layout_bytes(), 0o444, 0));
        // containerd sorts its tar records by name.
        members.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Built {
            members,
            layer_digests,
            manifest_digest: mdesc["digest"].as_str().map(str::to_string),
        })
    }

    /// skopeo-style OCI layout; `encode` turns layer `i` into its stored blob.
    fn oci(
        &self,
        layer_type: &'static str,
        ref_name: Option<String>,
        encode: &mut dyn FnMut(usize, &Body) -> io::Result<Vec<u8>>,
    ) -> io::Result<Built> {
        let mut blobs = Blobs::default();
        let (mut mdesc, layer_digests) =
            self.put_manifest(&mut blobs, &MediaTypes::oci(layer_type), encode)?;
        if let Some(obj) = mdesc.as_object_mut() {
            obj.remove("platform");
        }
        let manifest_digest = mdesc["digest"].as_str().map(str::to_string);
        if let Some(r) = ref_name {
            mdesc["annotations"] = json!({"org.opencontainers.image.ref.name": r});
        }
        let index = json!({
            "schemaVersion": 2,
            "mediaType": media::OCI_INDEX,
            "manifests": [mdesc],
        });
        let mut members = blobs.members(0o100644, DOCKER_MTIME);
        members.push(Member::file(
            "index.json",
            to_json(&index),
            0o100644,
            DOCKER_MTIME,
        ));
        members.push(Member::file(
            "oci-layout",
            oci_layout_bytes(),
            0o100644,
            DOCKER_MTIME,
        ));
        walk_order(&mut members);
        Ok(Built {
            members,
            layer_digests,
            manifest_digest,
        })
    }

    fn skopeo(&self) -> Built {
        let mut members = Vec::new();
        let mut seen = BTreeSet::new();
        for (d, l) in self.diff_ids.iter().zip(&self.layers) {
            if seen.insert(d) {
                members.push(Member {
                    name: format!("{}.tar", hex(d)),
                    body: l.clone(),
                    mode: 0o444,
                    mtime: 0,
                });
            }
        }
        let cfg_name = format!("{}.json", self.config_hex());
        members.push(Member::file(&cfg_name, self.config.clone(), 0o444, 0));
        let chain = chain_ids(&self.diff_ids);
        let mut parent: Option<String> = None;
        for (i, (c, d)) in chain.iter().zip(&self.diff_ids).enumerate() {
            let id = self.v1_id(c, parent.as_deref(), i + 1 == chain.len(), 0);
            members.push(Member {
                name: format!("{id}/layer.tar"),
                body: Body::Symlink(format!("../{}.tar", hex(d))),
                mode: 0o444,
                mtime: 0,
            });
            members.push(Member::file(
                format!("{id}/VERSION"),
                b"1.0".to_vec(),
                0o444,
                0,
            ));
            members.push(Member::file(
                format!("{id}/json"),
                self.v1_json(i, &id, parent.as_deref()),
                0o444,
                0,
            ));
            parent = Some(id);
        }
        let tags: Vec<String> = self
            .spec
            .repo_tags
            .iter()
            .map(|t| normalize_ref(t))
            .collect();
        let manifest = json!([{
            "Config": cfg_name,
            "RepoTags": tags,
            "Layers": self.diff_ids.iter().map(|d| format!("{}.tar", hex(d))).collect::<Vec<_>>(),
        }]);
        members.push(Member::file("manifest.json", to_json(&manifest), 0o444, 0));
        if let Some(repos) = parent
            .as_deref()
            .and_then(|top| self.repositories(top, true))
        {
            members.push(Member::file("repositories", repos, 0o444, 0));
        }
        Built {
            members,
            layer_digests: self.diff_ids.clone(),
            manifest_digest: None,
        }
    }

    fn crane(&self) -> io::Result<Built> {
        let cfg_name = self.config_digest.clone();
        let mut members = vec![Member::file(&cfg_name, self.config.clone(), 0o644, 0)];
        let mut names = Vec::new();
        let mut digests = Vec::new();
        let mut seen = BTreeSet::new();
        for l in &self.layers {
            let blob = gzip(&body_bytes(l)?);
            let h = sha256_hex(&blob);
            let name = format!("{h}.tar.gz");
            digests.push(format!("sha256:{h}"));
            names.push(name.clone());
            if seen.insert(h) {
                members.push(Member::file(name, blob, 0o644, 0));
            }
        }
        let manifest = json!([{
            "Config": cfg_name,
            "RepoTags": repo_tags_json(&self.spec.repo_tags),
            "Layers": names,
        }]);
        members.push(Member::file("manifest.json", to_json(&manifest), 0o644, 0));
        Ok(Built {
            members,
            layer_digests: digests,
            manifest_digest: None,
        })
    }

    fn build(&self, layout: Layout) -> io::Result<Built> {
        let full_ref = self.spec.repo_tags.first().cloned();
        let tag_only = full_ref.as_deref().map(|r| split_tag(r).1.to_string());
        match layout {
            Layout::DockerLegacy | Layout::GzipOuter => Ok(self.docker_legacy(false)),
            Layout::DockerLegacySymlinked => Ok(self.docker_legacy(true)),
            Layout::Docker25 => self.docker25(),
            Layout::ContainerdGzip => self.containerd(Comp::Gzip),
            Layout::ContainerdZstd => self.containerd(Comp::Zstd),
            Layout::OciArchiveGzip => {
                self.oci(media::OCI_LAYER_GZIP, full_ref, &mut encoder(Comp::Gzip))
            }
            Layout::OciArchiveZstd => {
                self.oci(media::OCI_LAYER_ZSTD, full_ref, &mut encoder(Comp::Zstd))
            }
            Layout::OciArchiveUncompressedMislabelled => {
                self.oci(media::OCI_LAYER_GZIP, full_ref, &mut encoder(Comp::None))
            }
            Layout::OciDir => self.oci(media::OCI_LAYER_GZIP, tag_only, &mut encoder(Comp::Gzip)),
            Layout::SkopeoDockerArchive => Ok(self.skopeo()),
            Layout::CraneTarball => self.crane(),
        }
    }
}

/// Layer encoder compressing every layer with `c`.
fn encoder(c: Comp) -> impl FnMut(usize, &Body) -> io::Result<Vec<u8>> {
    move |_, l| Ok(c.encode(&body_bytes(l)?))
}

/// Media types of one manifest flavour.
struct MediaTypes {
    manifest: &'static str,
    config: &'static str,
    layer: &'static str,
}

impl MediaTypes {
    fn oci(layer: &'static str) -> Self {
        MediaTypes {
            manifest: media::OCI_MANIFEST,
            config: media::OCI_CONFIG,
            layer,
        }
    }

    fn docker() -> Self {
        MediaTypes {
            manifest: media::DOCKER_MANIFEST,
            config: media::DOCKER_CONFIG,
            layer: media::DOCKER_LAYER_GZIP,
        }
    }
}

fn oci_layout_bytes() -> Vec<u8> {
    to_json(&json!({"imageLayoutVersion": "1.0.0"}))
}

/// BuildKit-style attestation manifest (in-toto SPDX statement) for the manifest `subject`;
/// returns its index descriptor (`unknown/unknown`, `vnd.docker.reference.*` annotations).
fn attestation(blobs: &mut Blobs, spec: &ImageSpec, subject: &Value) -> Value {
    let subject_digest = subject["digest"].as_str().unwrap_or_default();
    let statement = to_json(&json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://spdx.dev/Document",
        "subject": [{
            "name": format!("pkg:docker/{}?platform={}%2F{}",
                spec.repo_tags.first().map_or("image", String::as_str), spec.os, spec.architecture),
            "digest": {"sha256": hex(subject_digest)},
        }],
        "predicate": {"spdxVersion": "SPDX-2.3", "name": "sbom"},
    }));
    let mut layer = blobs.desc(media::IN_TOTO, statement);
    layer["annotations"] = json!({"in-toto.io/predicate-type": "https://spdx.dev/Document"});
    let config = to_json(&json!({
        "architecture": "unknown",
        "os": "unknown",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]},
    }));
    let config = blobs.desc(media::OCI_CONFIG, config);
    let manifest = to_json(&json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": config,
        "layers": [layer],
    }));
    let mut d = blobs.desc(media::OCI_MANIFEST, manifest);
    d["annotations"] = json!({
        "vnd.docker.reference.digest": subject_digest,
        "vnd.docker.reference.type": "attestation-manifest",
    });
    d["platform"] = json!({"architecture": "unknown", "os": "unknown"});
    d
}

/// Writes `spec` in `layout` at `dest` (a file, or a directory for [`Layout::OciDir`]).
pub fn write_image(spec: &ImageSpec, layout: Layout, dest: &Path) -> io::Result<Written> {
    let img = Image::new(spec)?;
    let built = img.build(layout)?;
    match layout {
        Layout::OciDir => write_dir(&built.members, dest)?,
        Layout::GzipOuter => {
            let gz = GzEncoder::new(BufWriter::new(File::create(dest)?), Compression::default());
            write_tar(&built.members, gz)?.finish()?.flush()?;
        }
        _ => write_tar_file(&built.members, dest)?,
    }
    img.written(dest, built)
}

// ---------------------------------------------------------------------------------------------
// Multi-platform
// ---------------------------------------------------------------------------------------------

/// Layer compression for [`multi_platform`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comp {
    None,
    Gzip,
    Zstd,
}

impl Comp {
    fn encode(self, data: &[u8]) -> Vec<u8> {
        match self {
            Comp::None => data.to_vec(),
            Comp::Gzip => gzip(data),
            Comp::Zstd => zstd(data),
        }
    }

    fn layer_type(self) -> &'static str {
        match self {
            Comp::None => media::OCI_LAYER,
            Comp::Gzip => media::OCI_LAYER_GZIP,
            Comp::Zstd => media::OCI_LAYER_ZSTD,
        }
    }
}

/// Blobs left out of a [`multi_platform`] archive, as containerd's `WithSkipMissing` does.
/// Blobs shared with a present platform are kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Missing {
    #[default]
    Nothing,
    /// Platform `i`'s manifest, config and layers are absent (never pulled).
    Platform(usize),
    /// Platform `i`'s manifest and config are present, its layers absent (manifest-only save).
    Layers(usize),
}

/// What [`multi_platform`] wrote.
#[derive(Clone, Debug)]
pub struct MultiWritten {
    pub path: PathBuf,
    /// Digest of the image index blob that `index.json` points to.
    pub index_digest: String,
    /// Digest of the attestation manifest (its subject is platform 0).
    pub attestation_digest: String,
    /// One per spec, in order (`path` = the archive); present even for a missing platform.
    pub images: Vec<Written>,
}

/// An oci-archive (`oci-layout`, `index.json`, `blobs/`; no `manifest.json`) whose `index.json`
/// points to an image index listing one manifest per spec (with `platform`) plus an attestation
/// manifest for platform 0. `index.json`'s descriptor carries `org.opencontainers.image.ref.name`
/// = the first repo tag of `specs[0]`.
pub fn multi_platform(
    specs: &[ImageSpec],
    dest: &Path,
    compression: Comp,
    missing: Missing,
) -> io::Result<MultiWritten> {
    let mut all = Blobs::default();
    let mut per_platform: Vec<Blobs> = Vec::new();
    let mut descs = Vec::new();
    let mut images = Vec::new();
    for spec in specs {
        let img = Image::new(spec)?;
        let mut blobs = Blobs::default();
        let (desc, layer_digests) = img.put_manifest(
            &mut blobs,
            &MediaTypes::oci(compression.layer_type()),
            &mut |_, l| Ok(compression.encode(&body_bytes(l)?)),
        )?;
        let built = Built {
            members: Vec::new(),
            layer_digests,
            manifest_digest: desc["digest"].as_str().map(str::to_string),
        };
        images.push(img.written(dest, built)?);
        descs.push(desc);
        per_platform.push(blobs);
    }
    let absent: BTreeSet<String> = match missing {
        Missing::Nothing => BTreeSet::new(),
        Missing::Platform(i) => per_platform
            .get(i)
            .map(|b| b.0.keys().cloned().collect())
            .unwrap_or_default(),
        Missing::Layers(i) => images
            .get(i)
            .map(|w| w.layer_digests.iter().map(|d| hex(d).to_string()).collect())
            .unwrap_or_default(),
    };
    let missing_index = match missing {
        Missing::Nothing => None,
        Missing::Platform(i) | Missing::Layers(i) => Some(i),
    };
    for (i, blobs) in per_platform.into_iter().enumerate() {
        for (h, body) in blobs.0 {
            if Some(i) != missing_index || !absent.contains(&h) {
                all.0.insert(h, body);
            }
        }
    }
    let mut manifests = descs.clone();
    if let (Some(spec), Some(subject)) = (specs.first(), descs.first()) {
        manifests.push(attestation(&mut all, spec, subject));
    }
    let attestation_digest = manifests
        .last()
        .and_then(|d| d["digest"].as_str())
        .unwrap_or_default()
        .to_string();
    let image_index = to_json(&json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_INDEX,
        "manifests": manifests,
    }));
    let mut idesc = all.desc(media::OCI_INDEX, image_index);
    let index_digest = idesc["digest"].as_str().unwrap_or_default().to_string();
    if let Some(r) = specs.first().and_then(|s| s.repo_tags.first()) {
        idesc["annotations"] = json!({"org.opencontainers.image.ref.name": r});
    }
    let index = json!({"schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": [idesc]});
    let mut members = all.members(0o100644, DOCKER_MTIME);
    members.push(Member::file(
        "index.json",
        to_json(&index),
        0o100644,
        DOCKER_MTIME,
    ));
    members.push(Member::file(
        "oci-layout",
        oci_layout_bytes(),
        0o100644,
        DOCKER_MTIME,
    ));
    walk_order(&mut members);
    write_tar_file(&members, dest)?;
    Ok(MultiWritten {
        path: dest.to_path_buf(),
        index_digest,
        attestation_digest,
        images,
    })
}

// ---------------------------------------------------------------------------------------------
// Broken inputs
// ---------------------------------------------------------------------------------------------

/// Deliberately bad inputs for error paths. All but the last three start from
/// [`ImageSpec::sample`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Broken {
    /// `DockerLegacy` archive cut in the middle of the data of the first `layer.tar` member
    /// (so `manifest.json` and the end-of-archive blocks are missing too).
    Truncated,
    /// `OciArchiveGzip` whose largest layer blob has 16 bytes inverted in the middle of the
    /// deflate stream. The blob is named and described by the digest of the corrupted bytes,
    /// so only decompression fails (bad code or CRC).
    CorruptGzip,
    /// `OciArchiveZstd`, same corruption; the zstd frame carries a content checksum so the
    /// damage is always detected. Named by the digest of the corrupted bytes.
    CorruptZstd,
    /// `OciArchiveGzip` whose manifest lists layer 1 while `blobs/sha256/<digest>` is absent.
    MissingBlob,
    /// `DockerLegacy` whose `manifest.json` lists `0000…0000/layer.tar` (no such member) as the
    /// last layer.
    ManifestPointsNowhere,
    /// `DockerLegacy` whose `manifest.json` is cut-off JSON.
    InvalidJson,
    /// `Docker25` whose first layer blob with file data has one data byte changed: still a valid
    /// tar, but its sha256 ≠ its name `blobs/sha256/<diffid>` and ≠ the config diffID.
    DigestMismatch,
    /// `OciArchiveGzip` with one gzip layer (~2 MiB) holding a single file of [`BOMB_SIZE`]
    /// zero bytes (> 2 GiB uncompressed). Digests are correct. See [`write_gzip_bomb`].
    GzipBomb,
    /// Valid `DockerLegacy` archive with one layer of [`MILLION`] empty files (plus one dir
    /// per 1000 files, ~0.5 GB uncompressed). See [`write_many_entries`].
    MillionEntries,
    /// 64 KiB of pseudo-random bytes matching no archive or compression magic.
    NotAnArchive,
    /// A zero-byte file.
    EmptyFile,
}

impl Broken {
    pub fn all() -> Vec<Broken> {
        use Broken::*;
        vec![
            Truncated,
            CorruptGzip,
            CorruptZstd,
            MissingBlob,
            ManifestPointsNowhere,
            InvalidJson,
            DigestMismatch,
            GzipBomb,
            MillionEntries,
            NotAnArchive,
            EmptyFile,
        ]
    }
}

/// Writes the broken input `kind` to the file `dest` and returns `dest`.
pub fn write_broken(kind: Broken, dest: &Path) -> io::Result<PathBuf> {
    match kind {
        Broken::GzipBomb => return write_gzip_bomb(BOMB_SIZE, dest),
        Broken::MillionEntries => return write_many_entries(MILLION, dest),
        _ => {}
    }
    let spec = ImageSpec::sample();
    let img = Image::new(&spec)?;
    let largest = img
        .layers
        .iter()
        .enumerate()
        .max_by_key(|(_, l)| match l {
            Body::Bytes(b) => b.len(),
            _ => 0,
        })
        .map_or(0, |(i, _)| i);
    let full_ref = spec.repo_tags.first().cloned();
    match kind {
        Broken::Truncated => {
            let built = img.docker_legacy(false);
            let bytes = write_tar(&built.members, Vec::new())?;
            let cut = first_member_data(&bytes, |name, e| {
                name.ends_with(b"/layer.tar") && e.header().entry_type().is_file()
            })?
            .map(|(off, size)| off + size / 2)
            .ok_or_else(|| io::Error::other("no layer.tar member"))?;
            fs::write(dest, &bytes[..cut as usize])?;
        }
        Broken::CorruptGzip | Broken::CorruptZstd => {
            let zstd = kind == Broken::CorruptZstd;
            let layer_type = if zstd {
                media::OCI_LAYER_ZSTD
            } else {
                media::OCI_LAYER_GZIP
            };
            let built = img.oci(layer_type, full_ref, &mut |i, l| {
                let raw = body_bytes(l)?;
                let mut blob = if zstd {
                    zstd_checked(&raw)?
                } else {
                    gzip(&raw)
                };
                if i == largest {
                    let mid = blob.len() / 2;
                    for b in &mut blob[mid - 8..mid + 8] {
                        *b = !*b;
                    }
                }
                Ok(blob)
            })?;
            write_tar_file(&built.members, dest)?;
        }
        Broken::MissingBlob => {
            let mut built = img.build(Layout::OciArchiveGzip)?;
            let victim = format!(
                "blobs/sha256/{}",
                hex(&built.layer_digests[1.min(built.layer_digests.len() - 1)])
            );
            built.members.retain(|m| m.name != victim);
            write_tar_file(&built.members, dest)?;
        }
        Broken::ManifestPointsNowhere | Broken::InvalidJson => {
            let mut built = img.docker_legacy(false);
            let m = member_mut(&mut built.members, "manifest.json")?;
            let Body::Bytes(bytes) = &mut m.body else {
                return Err(io::Error::other("manifest.json has no bytes"));
            };
            if kind == Broken::InvalidJson {
                bytes.truncate(bytes.len() / 2);
            } else {
                let mut v: Value = serde_json::from_slice(bytes)?;
                if let Some(Value::Array(layers)) = v.pointer_mut("/0/Layers") {
                    if let Some(last) = layers.last_mut() {
                        *last = format!("{}/layer.tar", "0".repeat(64)).into();
                    }
                }
                *bytes = to_json(&v);
            }
            write_tar_file(&built.members, dest)?;
        }
        Broken::DigestMismatch => {
            let mut built = img.docker25()?;
            let (i, pos) = img
                .layers
                .iter()
                .enumerate()
                .find_map(|(i, l)| {
                    let Body::Bytes(b) = l else { return None };
                    let hit = first_member_data(b, |_, e| {
                        e.header().entry_type().is_file() && e.size() > 0
                    });
                    hit.ok().flatten().map(|(off, _)| (i, off as usize))
                })
                .ok_or_else(|| io::Error::other("no layer with file data"))?;
            let name = format!("blobs/sha256/{}", hex(&img.diff_ids[i]));
            let m = member_mut(&mut built.members, &name)?;
            if let Body::Bytes(b) = &mut m.body {
                b[pos] ^= 0x20;
            }
            write_tar_file(&built.members, dest)?;
        }
        Broken::GzipBomb | Broken::MillionEntries => unreachable!("handled above"),
        Broken::NotAnArchive => {
            let mut rng = XorShift::new(0xbad);
            let mut bytes: Vec<u8> = (0..64 * 1024 / 8)
                .flat_map(|_| rng.next().to_le_bytes())
                .collect();
            bytes[0] = b'#'; // not gzip/zstd/bzip2/xz; the checksum makes tar readers reject it
            fs::write(dest, bytes)?;
        }
        Broken::EmptyFile => fs::write(dest, [])?,
    }
    Ok(dest.to_path_buf())
}

/// A [`Broken::GzipBomb`] whose zero-filled file is `size` bytes; built streaming (only the
/// compressed blob, ~1/1000 of `size`, is held in memory).
pub fn write_gzip_bomb(size: u64, dest: &Path) -> io::Result<PathBuf> {
    let spec = ImageSpec::new(vec![LayerSpec::new(
        "RUN dd if=/dev/zero of=/zeros",
        Vec::new(),
    )]);
    let gz = GzEncoder::new(Vec::new(), Compression::default());
    let mut b = tar::Builder::new(HashWriter::new(gz));
    let mut m = Meta::new(b"zeros", EntryType::Regular, 0o100644);
    m.size = size;
    append_entry(&mut b, LongNames::Pax, m, io::repeat(0).take(size))?;
    let (gz, diff_id, _) = b.into_inner()?.finish();
    let blob = gz.finish()?;
    let img = Image::from_parts(&spec, vec![diff_id], vec![Body::Absent]);
    let mut blob = Some(blob);
    let built = img.oci(
        media::OCI_LAYER_GZIP,
        spec.repo_tags.first().cloned(),
        &mut |_, _| {
            blob.take()
                .ok_or_else(|| io::Error::other("one layer only"))
        },
    )?;
    write_tar_file(&built.members, dest)?;
    Ok(dest.to_path_buf())
}

/// A [`Broken::MillionEntries`]-style `DockerLegacy` archive with `n` empty files
/// (`dNNNN/fNNNN`, 1000 per directory, each directory entry first). The layer is staged in a
/// temporary file next to `dest`, never in memory.
pub fn write_many_entries(n: usize, dest: &Path) -> io::Result<PathBuf> {
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::NamedTempFile::new_in(parent)?;
    let mut b = tar::Builder::new(HashWriter::new(BufWriter::new(tmp.reopen()?)));
    let none: &[u8] = &[];
    // Same headers as `append_entry` would build; only name and checksum change per entry.
    let template = |kind, mode| prepare(LongNames::Pax, Meta::new(b"", kind, mode));
    let (dir, file) = (
        template(EntryType::Directory, 0o40755)?.header,
        template(EntryType::Regular, 0o100644)?.header,
    );
    let mut put = |template: &Header, name: &[u8]| {
        let mut h = template.clone();
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.set_cksum();
        b.append(&h, none)
    };
    let mut name = *b"d0000/f0000";
    for i in 0..n {
        let (d, f) = (i / 1000, i % 1000);
        name[1..5].copy_from_slice(&digits4(d));
        name[7..].copy_from_slice(&digits4(f));
        if f == 0 {
            put(&dir, &name[..6])?;
        }
        put(&file, &name)?;
    }
    let (mut file, diff_id, len) = b.into_inner()?.finish();
    file.flush()?;
    drop(file);
    let spec = ImageSpec::new(vec![LayerSpec::new(
        &format!("RUN for i in $(seq {n}); do touch f$i; done"),
        Vec::new(),
    )]);
    let img = Image::from_parts(
        &spec,
        vec![diff_id],
        vec![Body::File(tmp.path().to_path_buf(), len)],
    );
    write_tar_file(&img.docker_legacy(false).members, dest)?;
    Ok(dest.to_path_buf())
}

/// `n % 10000` as four ASCII digits.
fn digits4(n: usize) -> [u8; 4] {
    let d = |k: usize| b'0' + (n / k % 10) as u8;
    [d(1000), d(100), d(10), d(1)]
}

/// Offset and size of the data of the first member of tar `bytes` matching `pred`.
fn first_member_data(
    bytes: &[u8],
    pred: impl Fn(&[u8], &tar::Entry<&[u8]>) -> bool,
) -> io::Result<Option<(u64, u64)>> {
    let mut ar = tar::Archive::new(bytes);
    for e in ar.entries()? {
        let e = e?;
        if pred(&e.path_bytes(), &e) {
            return Ok(Some((e.raw_file_position(), e.size())));
        }
    }
    Ok(None)
}

fn member_mut<'m>(members: &'m mut [Member], name: &str) -> io::Result<&'m mut Member> {
    members
        .iter_mut()
        .find(|m| m.name == name)
        .ok_or_else(|| io::Error::other(format!("no member {name}")))
}

/// Writer that hashes (sha256) and counts what passes through.
struct HashWriter<W> {
    inner: W,
    hasher: Sha256,
    len: u64,
}

impl<W> HashWriter<W> {
    fn new(inner: W) -> Self {
        HashWriter {
            inner,
            hasher: Sha256::new(),
            len: 0,
        }
    }

    /// `(inner, "sha256:<hex>", byte count)`.
    fn finish(self) -> (W, String, u64) {
        let digest = format!("sha256:{:x}", self.hasher.finalize());
        (self.inner, digest, self.len)
    }
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Tiny deterministic PRNG (xorshift64*).
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

// ---------------------------------------------------------------------------------------------
// Several images in one archive or layout
// ---------------------------------------------------------------------------------------------

/// Writes every spec into one archive (or directory) of `layout`, as a multi-image `docker
/// save`, `skopeo copy` into a shared `oci:` directory, or crane tarball would: the
/// `manifest.json` arrays and `index.json` manifest lists are concatenated in spec order,
/// `repositories` merged, shared blobs stored once. Returns one [`Written`] per spec.
pub fn multi_image(specs: &[ImageSpec], layout: Layout, dest: &Path) -> io::Result<Vec<Written>> {
    let mut members: Vec<Member> = Vec::new();
    let mut manifest_list: Option<Vec<Value>> = None;
    let mut index_list: Option<Vec<Value>> = None;
    let mut repositories: Option<Map<String, Value>> = None;
    let mut written = Vec::new();
    for spec in specs {
        let img = Image::new(spec)?;
        let built = img.build(layout)?;
        for m in &built.members {
            let json_of = |m: &Member| -> io::Result<Value> {
                Ok(serde_json::from_slice(&body_bytes(&m.body)?)?)
            };
            match m.name.as_str() {
                "manifest.json" => {
                    if let Value::Array(a) = json_of(m)? {
                        manifest_list.get_or_insert_with(Vec::new).extend(a);
                    }
                }
                "index.json" => {
                    if let Some(Value::Array(a)) = json_of(m)?.get("manifests").cloned() {
                        index_list.get_or_insert_with(Vec::new).extend(a);
                    }
                }
                "repositories" => {
                    if let Value::Object(o) = json_of(m)? {
                        let all = repositories.get_or_insert_with(Map::new);
                        for (k, v) in o {
                            match (all.get_mut(&k), v) {
                                (Some(Value::Object(have)), Value::Object(more)) => {
                                    have.extend(more)
                                }
                                (_, v) => {
                                    all.insert(k, v);
                                }
                            }
                        }
                    }
                }
                _ => {
                    if !members.iter().any(|x| x.name == m.name) {
                        members.push(m.clone());
                    }
                }
            }
        }
        written.push(img.written(dest, built)?);
    }
    let mtime = DOCKER_MTIME;
    if let Some(l) = manifest_list {
        members.push(Member::file(
            "manifest.json",
            to_json(&json!(l)),
            0o100644,
            mtime,
        ));
    }
    if let Some(l) = index_list {
        let index = json!({"schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": l});
        members.push(Member::file("index.json", to_json(&index), 0o100644, mtime));
    }
    if let Some(r) = repositories {
        members.push(Member::file(
            "repositories",
            to_json(&json!(r)),
            0o100644,
            mtime,
        ));
    }
    walk_order(&mut members);
    match layout {
        Layout::OciDir => write_dir(&members, dest)?,
        Layout::GzipOuter => {
            let gz = GzEncoder::new(BufWriter::new(File::create(dest)?), Compression::default());
            write_tar(&members, gz)?.finish()?.flush()?;
        }
        _ => write_tar_file(&members, dest)?,
    }
    Ok(written)
}

/// `n` small distinct images tagged `example/app:N` (N = 1..=n), each with a file
/// `srv/which` holding `image N\n`.
pub fn numbered_specs(n: usize) -> Vec<ImageSpec> {
    (1..=n)
        .map(|i| {
            let mut s = ImageSpec::new(vec![LayerSpec::new(
                &format!("COPY which /srv/which # {i}"),
                vec![
                    EntrySpec::dir("srv", 0o755),
                    EntrySpec::file("srv/which", format!("image {i}\n"), 0o644),
                    EntrySpec::file(format!("srv/only-{i}"), vec![b'x'; i * 100], 0o644),
                ],
            )]);
            s.repo_tags = vec![format!("example/app:{i}")];
            s
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Inputs that must fail with a precise message (issue 10)
// ---------------------------------------------------------------------------------------------

/// Media types used by the odd inputs.
pub mod odd_media {
    pub const HELM_CONFIG: &str = "application/vnd.cncf.helm.config.v1+json";
    pub const HELM_CHART: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
    pub const COSIGN_SIG: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
    pub const SPDX: &str = "application/spdx+json";
    pub const EMPTY: &str = "application/vnd.oci.empty.v1+json";
    pub const SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
    pub const SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
    pub const ENCRYPTED: &str = "application/vnd.oci.image.layer.v1.tar+gzip+encrypted";
    pub const FOREIGN: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
}

/// Deliberately odd inputs, each built from [`ImageSpec::sample`] unless said otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Odd {
    /// `DockerLegacy` whose `manifest.json` is `null`.
    ManifestNull,
    /// `DockerLegacy` whose `manifest.json` is `[]`.
    ManifestEmpty,
    /// OCI layout (directory when `dir`) holding a Helm chart, a cosign signature and an SPDX
    /// SBOM artifact, every blob present, and no image.
    ArtifactsOnly { dir: bool },
    /// oci-archive whose `index.json` lists a schema 1 manifest (`+prettyjws` when `signed`).
    Schema1 { signed: bool },
    /// A skopeo `dir:`-style directory whose `manifest.json` is a signed schema 1 manifest.
    Schema1Dir,
    /// oci-archive whose layers are `+encrypted` (blobs present).
    Encrypted,
    /// oci-archive whose layer 0 is a foreign layer whose blob is absent.
    ForeignOci,
    /// `DockerLegacy` whose layer 0 is declared in `LayerSources` as foreign and is absent.
    ForeignDocker,
    /// oci-archive whose layer 0 blob starts with the magic of this compression
    /// (`"xz"`, `"bzip2"`, `"lz4"`).
    CompressedLayer(&'static str),
    /// As `CompressedLayer("xz")`, the whole archive gzip-compressed (read as a stream).
    CompressedLayerStream,
    /// `OciDir` whose layer 0 blob is a symlink `loop-a -> loop-b -> loop-a`.
    CycleDir,
    /// `OciDir` whose `index.json` is a symlink to itself.
    CycleIndexDir,
    /// `DockerLegacy` whose first `layer.tar` links to `cycle/layer.tar`, which links back.
    CycleMembers,
    /// oci-archive whose `index.json` member is a symlink to itself.
    CycleIndexMember,
    /// `OciDir` whose layer 0 blob is a symlink to an identical file outside the directory.
    OutsideDir,
    /// `OciDir` whose `blobs` directory is a symlink to a copy outside the directory.
    OutsideBlobsDir,
    /// `DockerLegacy` whose first `layer.tar` is a symlink climbing out of the archive.
    OutsideMember,
    /// `DockerLegacy` whose first `layer.tar` is an absolute symlink (`/etc/passwd`).
    AbsoluteMember,
    /// `DockerLegacy` whose config member keeps its name but has a byte appended (so its
    /// file name is no longer its sha256).
    ConfigRenamedDocker,
    /// `OciDir` whose config blob keeps its name but has a byte appended.
    ConfigRenamedOci,
}

/// What [`write_odd`] wrote, for assertions.
#[derive(Clone, Debug)]
pub struct OddWritten {
    pub path: PathBuf,
    /// A member, blob or link named in the expected error (empty when none).
    pub culprit: String,
    /// For config renames: (digest in the name, digest of the bytes).
    pub digests: Option<(String, String)>,
}

fn with_gzip_outer(members: &[Member], dest: &Path) -> io::Result<()> {
    let gz = GzEncoder::new(BufWriter::new(File::create(dest)?), Compression::default());
    write_tar(members, gz)?.finish()?.flush()
}

fn oci_index_of(descs: Vec<Value>) -> Vec<u8> {
    to_json(&json!({"schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": descs}))
}

fn finish_oci(mut blobs: Blobs, index: Vec<u8>, dir: bool, dest: &Path) -> io::Result<()> {
    let _ = &mut blobs;
    let mut members = blobs.members(0o100644, DOCKER_MTIME);
    members.push(Member::file("index.json", index, 0o100644, DOCKER_MTIME));
    members.push(Member::file(
        "oci-layout",
        oci_layout_bytes(),
        0o100644,
        DOCKER_MTIME,
    ));
    walk_order(&mut members);
    if dir {
        write_dir(&members, dest)
    } else {
        write_tar_file(&members, dest)
    }
}

fn first_layer_member(members: &[Member]) -> io::Result<String> {
    let manifest = members
        .iter()
        .find(|m| m.name == "manifest.json")
        .ok_or_else(|| io::Error::other("no manifest.json"))?;
    let v: Value = serde_json::from_slice(&body_bytes(&manifest.body)?)?;
    v.pointer("/0/Layers/0")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| io::Error::other("no layer"))
}

/// Writes the odd input `kind` at `dest` (a file, or a directory for the `*Dir` kinds).
pub fn write_odd(kind: Odd, dest: &Path) -> io::Result<OddWritten> {
    let spec = ImageSpec::sample();
    let img = Image::new(&spec)?;
    let full_ref = spec.repo_tags.first().cloned();
    let mut out = OddWritten {
        path: dest.to_path_buf(),
        culprit: String::new(),
        digests: None,
    };
    match kind {
        Odd::ManifestNull | Odd::ManifestEmpty => {
            let mut built = img.docker_legacy(false);
            let m = member_mut(&mut built.members, "manifest.json")?;
            m.body = Body::Bytes(if kind == Odd::ManifestNull {
                b"null".to_vec()
            } else {
                b"[]".to_vec()
            });
            write_tar_file(&built.members, dest)?;
        }
        Odd::ArtifactsOnly { dir } => {
            let mut blobs = Blobs::default();
            let helm_cfg = blobs.desc(
                odd_media::HELM_CONFIG,
                to_json(&json!({"name": "demo", "version": "0.1.0", "apiVersion": "v2"})),
            );
            let chart = blobs.desc(odd_media::HELM_CHART, gzip(b"not really a chart"));
            let helm = blobs.desc(
                media::OCI_MANIFEST,
                to_json(
                    &json!({"schemaVersion": 2, "mediaType": media::OCI_MANIFEST,
                    "config": helm_cfg, "layers": [chart]}),
                ),
            );
            // cosign's classic signature: an image config with a simplesigning payload layer.
            let sig_cfg = blobs.desc(media::OCI_CONFIG, to_json(&json!({"architecture": "", "os": "", "rootfs": {"type": "layers", "diff_ids": []}})));
            let payload = blobs.desc(
                odd_media::COSIGN_SIG,
                to_json(&json!({"critical": {"type": "cosign container image signature"}})),
            );
            let mut sig = blobs.desc(
                media::OCI_MANIFEST,
                to_json(
                    &json!({"schemaVersion": 2, "mediaType": media::OCI_MANIFEST,
                    "config": sig_cfg, "layers": [payload]}),
                ),
            );
            sig["annotations"] = json!({"org.opencontainers.image.ref.name": "sha256-0123.sig"});
            let empty = blobs.desc(odd_media::EMPTY, b"{}".to_vec());
            let sbom_doc = blobs.desc(
                odd_media::SPDX,
                to_json(&json!({"spdxVersion": "SPDX-2.3", "name": "sbom"})),
            );
            let mut sbom = blobs.desc(
                media::OCI_MANIFEST,
                to_json(
                    &json!({"schemaVersion": 2, "mediaType": media::OCI_MANIFEST,
                    "artifactType": odd_media::SPDX, "config": empty, "layers": [sbom_doc]}),
                ),
            );
            sbom["artifactType"] = odd_media::SPDX.into();
            finish_oci(blobs, oci_index_of(vec![helm, sig, sbom]), dir, dest)?;
        }
        Odd::Schema1 { signed } => {
            let mut blobs = Blobs::default();
            let body = schema1_manifest(&img, signed);
            let media_type = if signed {
                odd_media::SCHEMA1_SIGNED
            } else {
                odd_media::SCHEMA1
            };
            let desc = blobs.desc(media_type, body);
            out.culprit = desc["digest"].as_str().unwrap_or_default().to_string();
            finish_oci(blobs, oci_index_of(vec![desc]), false, dest)?;
        }
        Odd::Schema1Dir => {
            fs::create_dir_all(dest)?;
            fs::write(dest.join("manifest.json"), schema1_manifest(&img, true))?;
            fs::write(dest.join("version"), b"Directory Transport Version: 1.1\n")?;
        }
        Odd::Encrypted => {
            let built = img.oci(odd_media::ENCRYPTED, full_ref, &mut encoder(Comp::Gzip))?;
            out.culprit = built.layer_digests[0].clone();
            write_tar_file(&built.members, dest)?;
        }
        Odd::ForeignOci => {
            let mut built = img.oci(odd_media::FOREIGN, full_ref, &mut encoder(Comp::Gzip))?;
            let victim = format!("blobs/sha256/{}", hex(&built.layer_digests[0]));
            built.members.retain(|m| m.name != victim);
            out.culprit = built.layer_digests[0].clone();
            write_tar_file(&built.members, dest)?;
        }
        Odd::ForeignDocker => {
            let mut built = img.docker_legacy(false);
            let layer = first_layer_member(&built.members)?;
            built.members.retain(|m| m.name != layer);
            let m = member_mut(&mut built.members, "manifest.json")?;
            let mut v: Value = serde_json::from_slice(&body_bytes(&m.body)?)?;
            let blob = gzip(&body_bytes(&img.layers[0])?);
            v[0]["LayerSources"] = json!({ img.diff_ids[0].clone(): {
                "mediaType": odd_media::FOREIGN,
                "size": blob.len(),
                "digest": digest_of(&blob),
                "urls": ["https://example.invalid/layer.tar.gz"],
            }});
            m.body = Body::Bytes(to_json(&v));
            out.culprit = layer;
            write_tar_file(&built.members, dest)?;
        }
        Odd::CompressedLayer(_) | Odd::CompressedLayerStream => {
            let name = match kind {
                Odd::CompressedLayer(n) => n,
                _ => "xz",
            };
            let magic: &[u8] = match name {
                "xz" => &[0xfd, b'7', b'z', b'X', b'Z', 0],
                "bzip2" => b"BZh91AY&SY",
                "lz4" => &[0x04, 0x22, 0x4d, 0x18],
                other => return Err(io::Error::other(format!("no magic for {other}"))),
            };
            let built = img.oci(media::OCI_LAYER_GZIP, full_ref, &mut |i, l| {
                let gz = gzip(&body_bytes(l)?);
                Ok(if i == 0 {
                    [magic, &gz[..]].concat()
                } else {
                    gz
                })
            })?;
            out.culprit = hex(&built.layer_digests[0]).to_string();
            if kind == Odd::CompressedLayerStream {
                with_gzip_outer(&built.members, dest)?;
            } else {
                write_tar_file(&built.members, dest)?;
            }
        }
        Odd::CycleDir | Odd::OutsideDir | Odd::OutsideBlobsDir | Odd::ConfigRenamedOci => {
            let tag_only = full_ref.as_deref().map(|r| split_tag(r).1.to_string());
            let mut built = img.oci(media::OCI_LAYER_GZIP, tag_only, &mut encoder(Comp::Gzip))?;
            let layer_hex = hex(&built.layer_digests[0]).to_string();
            if kind == Odd::ConfigRenamedOci {
                let name = format!("blobs/sha256/{}", img.config_hex());
                let m = member_mut(&mut built.members, &name)?;
                let mut bytes = body_bytes(&m.body)?;
                bytes.push(b'\n');
                out.digests = Some((img.config_digest.clone(), digest_of(&bytes)));
                m.body = Body::Bytes(bytes);
            }
            write_dir(&built.members, dest)?;
            let blob = dest.join("blobs/sha256").join(&layer_hex);
            match kind {
                Odd::CycleDir => {
                    fs::remove_file(&blob)?;
                    std::os::unix::fs::symlink("loop-a", &blob)?;
                    std::os::unix::fs::symlink("loop-b", dest.join("blobs/sha256/loop-a"))?;
                    std::os::unix::fs::symlink("loop-a", dest.join("blobs/sha256/loop-b"))?;
                    out.culprit = "loop-a".into();
                }
                Odd::OutsideDir => {
                    let name = dest.file_name().and_then(|n| n.to_str()).unwrap_or("x");
                    let outside = dest.with_file_name(format!("{name}.outside-blob"));
                    fs::rename(&blob, &outside)?;
                    std::os::unix::fs::symlink(
                        Path::new("../../..").join(outside.file_name().unwrap_or_default()),
                        &blob,
                    )?;
                    out.culprit = format!("blobs/sha256/{layer_hex}");
                }
                Odd::OutsideBlobsDir => {
                    let name = dest.file_name().and_then(|n| n.to_str()).unwrap_or("x");
                    let outside = dest.with_file_name(format!("{name}.outside-blobs"));
                    fs::rename(dest.join("blobs"), &outside)?;
                    std::os::unix::fs::symlink(&outside, dest.join("blobs"))?;
                    out.culprit = "blobs/sha256/".into();
                }
                _ => {}
            }
        }
        Odd::CycleIndexDir => {
            let built = img.oci(media::OCI_LAYER_GZIP, full_ref, &mut encoder(Comp::Gzip))?;
            write_dir(&built.members, dest)?;
            fs::remove_file(dest.join("index.json"))?;
            std::os::unix::fs::symlink("index.json", dest.join("index.json"))?;
            out.culprit = "index.json".into();
        }
        Odd::CycleIndexMember => {
            let mut built = img.oci(media::OCI_LAYER_GZIP, full_ref, &mut encoder(Comp::Gzip))?;
            let m = member_mut(&mut built.members, "index.json")?;
            m.body = Body::Symlink("./index.json".into());
            m.mode = 0o120777;
            out.culprit = "index.json".into();
            write_tar_file(&built.members, dest)?;
        }
        Odd::CycleMembers | Odd::OutsideMember | Odd::AbsoluteMember => {
            let mut built = img.docker_legacy(false);
            let layer = first_layer_member(&built.members)?;
            let target = match kind {
                Odd::CycleMembers => "../cycle/layer.tar".to_string(),
                Odd::OutsideMember => "../../outside/layer.tar".to_string(),
                _ => "/etc/passwd".to_string(),
            };
            let m = member_mut(&mut built.members, &layer)?;
            m.body = Body::Symlink(target);
            m.mode = 0o120777;
            if kind == Odd::CycleMembers {
                built.members.push(Member {
                    name: "cycle/layer.tar".into(),
                    body: Body::Symlink(format!("../{layer}")),
                    mode: 0o120777,
                    mtime: DOCKER_MTIME,
                });
            }
            out.culprit = layer;
            write_tar_file(&built.members, dest)?;
        }
        Odd::ConfigRenamedDocker => {
            let mut built = img.docker_legacy(false);
            let name = format!("{}.json", img.config_hex());
            let m = member_mut(&mut built.members, &name)?;
            let mut bytes = body_bytes(&m.body)?;
            bytes.push(b'\n');
            out.digests = Some((img.config_digest.clone(), digest_of(&bytes)));
            m.body = Body::Bytes(bytes);
            write_tar_file(&built.members, dest)?;
        }
    }
    Ok(out)
}

/// A Docker schema 1 manifest for `img` (with a JWS `signatures` block when `signed`).
fn schema1_manifest(img: &Image<'_>, signed: bool) -> Vec<u8> {
    let mut v = json!({
        "schemaVersion": 1,
        "name": "example/app",
        "tag": "1.0",
        "architecture": img.spec.architecture,
        "fsLayers": img.diff_ids.iter().rev().map(|d| json!({"blobSum": d})).collect::<Vec<_>>(),
        "history": img.diff_ids.iter().map(|_| json!({"v1Compatibility": "{}"})).collect::<Vec<_>>(),
    });
    if signed {
        v["signatures"] = json!([{
            "header": {"jwk": {"crv": "P-256", "kty": "EC", "x": "AAAA", "y": "BBBB"}, "alg": "ES256"},
            "signature": "c2lnbmF0dXJl",
            "protected": "e30",
        }]);
    }
    to_json(&v)
}

// ---------------------------------------------------------------------------------------------
// Attestations, as buildx / BuildKit store them
// ---------------------------------------------------------------------------------------------

/// One in-toto statement to attach to an image (a layer of its attestation manifest).
#[derive(Clone, Debug)]
pub struct StatementSpec {
    /// `predicateType` and the layer's `in-toto.io/predicate-type` annotation.
    pub predicate_type: String,
    /// The `predicate` object.
    pub predicate: Value,
    /// `subject[0].digest.sha256` as `sha256:<hex>`; `None` = the image's platform manifest.
    pub subject: Option<String>,
    /// Leave the statement blob out (a layout copied without it).
    pub drop_blob: bool,
}

impl StatementSpec {
    /// A statement about the image itself, blob present.
    pub fn new(predicate_type: &str, predicate: Value) -> Self {
        StatementSpec {
            predicate_type: predicate_type.to_string(),
            predicate,
            subject: None,
            drop_blob: false,
        }
    }
}

/// Where [`write_attested`] lays the image out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttestedLayout {
    /// `docker buildx build --output type=oci` / `skopeo copy oci-archive:`: a tar holding
    /// `oci-layout`, `index.json` (one entry: the image index) and `blobs/`.
    OciArchive,
    /// The same as a directory (`oci:DIR`).
    OciDir,
    /// `docker save` of the containerd image store (Docker 25+): the OCI layout plus a
    /// `manifest.json` naming config and layer blobs.
    DockerSave,
}

/// What [`write_attested`] wrote.
#[derive(Clone, Debug)]
pub struct AttestedWritten {
    /// The image (its `manifest_digest` is the platform manifest the attestation points at).
    pub image: Written,
    /// Digest of the image index `index.json` points to.
    pub index_digest: String,
    /// Digest of the attestation manifest.
    pub attestation_digest: String,
    /// Digest and size of each statement blob, in order.
    pub statements: Vec<(String, u64)>,
}

/// Writes `spec` laid out as BuildKit stores an image with attestations (BuildKit
/// docs/attestations/attestation-storage.md): `index.json` → an image index listing the
/// platform manifest and an attestation manifest (platform `unknown/unknown`, annotations
/// `vnd.docker.reference.type: attestation-manifest` and `vnd.docker.reference.digest:
/// <platform manifest digest>`) whose layers are the `statements` as in-toto v0.1 statements
/// (`application/vnd.in-toto+json`, annotated `in-toto.io/predicate-type`). Layers are gzip.
pub fn write_attested(
    spec: &ImageSpec,
    statements: &[StatementSpec],
    layout: AttestedLayout,
    dest: &Path,
) -> io::Result<AttestedWritten> {
    let img = Image::new(spec)?;
    let mut blobs = Blobs::default();
    let (mdesc, layer_digests) = img.put_manifest(
        &mut blobs,
        &MediaTypes::oci(media::OCI_LAYER_GZIP),
        &mut encoder(Comp::Gzip),
    )?;
    let manifest_digest = mdesc["digest"].as_str().unwrap_or_default().to_string();
    let name = spec.repo_tags.first().map_or("image", String::as_str);
    let mut layers = Vec::new();
    let mut written_statements = Vec::new();
    let mut dropped = Vec::new();
    for s in statements {
        let subject = s.subject.clone().unwrap_or_else(|| manifest_digest.clone());
        let statement = to_json(&json!({
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": s.predicate_type,
            "subject": [{
                "name": format!("pkg:docker/{name}?platform={}%2F{}", spec.os, spec.architecture),
                "digest": {"sha256": hex(&subject)},
            }],
            "predicate": s.predicate,
        }));
        let mut layer = blobs.desc(media::IN_TOTO, statement);
        layer["annotations"] = json!({"in-toto.io/predicate-type": s.predicate_type});
        let d = layer["digest"].as_str().unwrap_or_default().to_string();
        written_statements.push((d.clone(), layer["size"].as_u64().unwrap_or(0)));
        if s.drop_blob {
            dropped.push(hex(&d).to_string());
        }
        layers.push(layer);
    }
    let config = blobs.desc(
        media::OCI_CONFIG,
        to_json(&json!({
            "architecture": "unknown",
            "os": "unknown",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| l["digest"].clone()).collect::<Vec<_>>()},
        })),
    );
    let att_manifest = to_json(&json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": config,
        "layers": layers,
    }));
    let mut adesc = blobs.desc(media::OCI_MANIFEST, att_manifest);
    adesc["annotations"] = json!({
        "vnd.docker.reference.digest": manifest_digest,
        "vnd.docker.reference.type": "attestation-manifest",
    });
    adesc["platform"] = json!({"architecture": "unknown", "os": "unknown"});
    let attestation_digest = adesc["digest"].as_str().unwrap_or_default().to_string();
    let image_index = to_json(&json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_INDEX,
        "manifests": [mdesc, adesc],
    }));
    let mut idesc = blobs.desc(media::OCI_INDEX, image_index);
    let index_digest = idesc["digest"].as_str().unwrap_or_default().to_string();
    let ref_name = match layout {
        AttestedLayout::OciDir => spec.repo_tags.first().map(|r| split_tag(r).1.to_string()),
        _ => spec.repo_tags.first().cloned(),
    };
    if let Some(r) = ref_name {
        idesc["annotations"] = json!({"org.opencontainers.image.ref.name": r});
    }
    let index = json!({"schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": [idesc]});
    for h in &dropped {
        blobs.0.remove(h);
    }
    let mut members = blobs.members(0o100644, DOCKER_MTIME);
    let mut file = |name: &str, bytes: Vec<u8>| {
        members.push(Member::file(name, bytes, 0o100644, DOCKER_MTIME));
    };
    file("index.json", to_json(&index));
    file("oci-layout", oci_layout_bytes());
    if layout == AttestedLayout::DockerSave {
        let manifest_json = json!([{
            "Config": format!("blobs/sha256/{}", img.config_hex()),
            "RepoTags": repo_tags_json(&spec.repo_tags),
            "Layers": layer_digests.iter().map(|d| format!("blobs/sha256/{}", hex(d))).collect::<Vec<_>>(),
        }]);
        file("manifest.json", to_json(&manifest_json));
    }
    walk_order(&mut members);
    match layout {
        AttestedLayout::OciDir => write_dir(&members, dest)?,
        _ => write_tar_file(&members, dest)?,
    }
    let built = Built {
        members: Vec::new(),
        layer_digests,
        manifest_digest: Some(manifest_digest),
    };
    Ok(AttestedWritten {
        image: img.written(dest, built)?,
        index_digest,
        attestation_digest,
        statements: written_statements,
    })
}

/// A SLSA provenance v0.2 predicate as BuildKit writes it for a build from a local context
/// (`docker buildx build --provenance=mode=max`): builder, build type, materials (the
/// Dockerfile frontend, then the base image), invocation with an empty config source URI and
/// the build arguments, the vcs fields in BuildKit's metadata block, and the times.
pub fn slsa_v02_predicate(base: (&str, &str), args: &[(&str, &str)], vcs: (&str, &str)) -> Value {
    let mut a = Map::new();
    for (k, v) in args {
        a.insert(format!("build-arg:{k}"), json!(v));
    }
    a.insert("label:org.example".into(), json!("x"));
    json!({
        "builder": {"id": "https://github.com/example/app/actions/runs/42"},
        "buildType": "https://mobyproject.org/buildkit@v1",
        "materials": [
            {"uri": "pkg:docker/docker/dockerfile@1.7?platform=linux%2Famd64",
             "digest": {"sha256": "a".repeat(64)}},
            {"uri": base.0, "digest": {"sha256": hex(base.1)}},
        ],
        "invocation": {
            "configSource": {"entryPoint": "docker/Dockerfile.release"},
            "parameters": {"frontend": "dockerfile.v0", "args": a,
                           "locals": [{"name": "context"}, {"name": "dockerfile"}]},
            "environment": {"platform": "linux/amd64"},
        },
        "metadata": {
            "buildInvocationID": "q1w2e3",
            "buildStartedOn": "2024-05-01T10:00:00.5Z",
            "buildFinishedOn": "2024-05-01T10:02:03Z",
            "completeness": {"parameters": true, "environment": true, "materials": false},
            "reproducible": false,
            "https://mobyproject.org/buildkit@v1#metadata": {
                "vcs": {"source": vcs.0, "revision": vcs.1},
            },
        },
    })
}

/// A SLSA provenance v1 predicate as BuildKit writes it for a build from a Git context:
/// build definition (build type, external parameters with the config source and the request's
/// arguments, resolved dependencies) and run details (builder, times).
pub fn slsa_v1_predicate(
    base: (&str, &str),
    args: &[(&str, &str)],
    git: (&str, &str),
    dockerfile: &str,
) -> Value {
    let mut a = Map::new();
    for (k, v) in args {
        a.insert(format!("build-arg:{k}"), json!(v));
    }
    json!({
        "buildDefinition": {
            "buildType": "https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md",
            "externalParameters": {
                "configSource": {"uri": git.0, "digest": {"sha1": git.1}, "path": dockerfile},
                "request": {"frontend": "dockerfile.v0", "args": a},
            },
            "internalParameters": {"builderPlatform": "linux/amd64"},
            "resolvedDependencies": [
                {"uri": base.0, "digest": {"sha256": hex(base.1)}},
                {"uri": format!("{}#main", git.0), "digest": {"sha1": git.1}},
            ],
        },
        "runDetails": {
            "builder": {"id": "https://github.com/example/app/actions/runs/43"},
            "metadata": {
                "invocationID": "z9y8",
                "startedOn": "2024-06-02T08:00:00Z",
                "finishedOn": "2024-06-02T08:05:00Z",
            },
        },
    })
}

/// An SPDX 2.3 document predicate (as BuildKit's syft scanner writes it) listing `packages`
/// (name, version).
pub fn spdx_predicate(packages: &[(&str, &str)]) -> Value {
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "sbom",
        "documentNamespace": "https://example.com/sbom",
        "creationInfo": {"created": "2024-05-01T10:02:03Z", "creators": ["Tool: buildkit-v0.13"]},
        "packages": packages.iter().enumerate().map(|(i, (n, v))| json!({
            "name": n,
            "SPDXID": format!("SPDXRef-Package-{i}"),
            "versionInfo": v,
            "downloadLocation": "NOASSERTION",
        })).collect::<Vec<_>>(),
    })
}
