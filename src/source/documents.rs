//! Keeps the documents a source read (index, manifest, `manifest.json`, config) as
//! [`Documents`], for the anatomy view: the chain from the top document to the config is
//! followed by the config digest the source resolved, so what is shown is what was opened.

use std::sync::Arc;

use serde_json::Value;

use super::resolve::{blob_member, sha256_digest, BlobStore, Resolved};
use crate::model::documents::{Descriptor, Document, DocumentKind, Documents, Role};

const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// How documents are read by digest (a blob store, or what a registry returned).
type ReadBlob<'a> = dyn Fn(&str) -> Option<Vec<u8>> + 'a;

/// The documents of an archive or layout image: `index.json` and the blobs it leads to,
/// `manifest.json` when the archive has one, and the config.
pub fn from_store(store: &dyn BlobStore, resolved: &Resolved) -> Documents {
    let read = |digest: &str| {
        blob_member(digest)
            .and_then(|m| store.read_meta(&m).ok())
            .flatten()
    };
    let mut docs = Documents::default();
    if let Some(raw) = store.read_meta("index.json").ok().flatten() {
        follow(
            &mut docs,
            "index.json".into(),
            None,
            raw,
            None,
            &read,
            &resolved.config_digest,
            0,
        );
    }
    if let Some(raw) = store.read_meta("manifest.json").ok().flatten() {
        if let Some(doc) = archive_manifest(&raw, resolved) {
            docs.chain.push(doc);
        }
    }
    push_config(&mut docs, resolved);
    docs
}

/// The documents a registry returned: the top document (an index or a manifest, by
/// `top_digest`), then the platform manifest, then the config; `fetched` holds the documents
/// by digest.
pub fn from_fetched(
    fetched: &[(String, Vec<u8>)],
    top_digest: &str,
    resolved: &Resolved,
) -> Documents {
    let read = |digest: &str| {
        fetched
            .iter()
            .find(|(d, _)| d == digest)
            .map(|(_, b)| b.clone())
    };
    let mut docs = Documents::default();
    if let Some(raw) = read(top_digest) {
        follow(
            &mut docs,
            format!("manifests/{top_digest}"),
            Some(top_digest.to_owned()),
            raw,
            None,
            &read,
            &resolved.config_digest,
            0,
        );
    }
    push_config(&mut docs, resolved);
    docs
}

fn push_config(docs: &mut Documents, resolved: &Resolved) {
    let media = docs
        .chain
        .iter()
        .flat_map(|d| &d.refs)
        .find(|r| r.role == Role::Config)
        .and_then(|r| r.media_type.clone());
    let refs = serde_json::from_slice::<Value>(&resolved.config)
        .ok()
        .and_then(|v| {
            v.pointer("/rootfs/diff_ids")
                .and_then(Value::as_array)
                .cloned()
        })
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, d)| Descriptor {
            field: format!("rootfs.diff_ids[{i}]"),
            media_type: None,
            target: d.as_str().unwrap_or_default().to_owned(),
            size: None,
            platform: None,
            role: Role::Layer(i),
        })
        .collect();
    docs.chain.push(Document {
        kind: DocumentKind::Config,
        name: blob_member(&resolved.config_digest).unwrap_or_else(|| "config".into()),
        media_type: media,
        digest: Some(resolved.config_digest.clone()),
        raw: Arc::from(resolved.config.as_slice()),
        refs,
    });
}

fn is_index(v: &Value, media: Option<&str>) -> bool {
    media.is_some_and(|m| INDEX_TYPES.contains(&m)) || v.get("manifests").is_some()
}

fn platform_of(desc: &Value) -> Option<String> {
    let p = desc.get("platform")?;
    let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("");
    Some(match p.get("variant").and_then(Value::as_str) {
        Some(v) => format!("{}/{}/{v}", s("os"), s("architecture")),
        None => format!("{}/{}", s("os"), s("architecture")),
    })
}

fn is_attestation(desc: &Value) -> bool {
    desc.pointer("/annotations/vnd.docker.reference.type")
        .and_then(Value::as_str)
        == Some("attestation-manifest")
        || platform_of(desc).as_deref() == Some("unknown/unknown")
}

/// True when the document with this digest is (or leads to) the manifest of `config`.
fn leads_to(read: &ReadBlob<'_>, digest: &str, config: &str, depth: usize) -> bool {
    if depth > 4 {
        return false;
    }
    let Some(v) = read(digest).and_then(|b| serde_json::from_slice::<Value>(&b).ok()) else {
        return false;
    };
    if let Some(list) = v.get("manifests").and_then(Value::as_array) {
        return list.iter().any(|d| {
            d.get("digest")
                .and_then(Value::as_str)
                .is_some_and(|d| leads_to(read, d, config, depth + 1))
        });
    }
    v.pointer("/config/digest").and_then(Value::as_str) == Some(config)
}

fn descriptor(field: String, d: &Value, role: Role) -> Descriptor {
    Descriptor {
        field,
        media_type: d
            .get("mediaType")
            .and_then(Value::as_str)
            .map(str::to_owned),
        target: d
            .get("digest")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        size: d.get("size").and_then(Value::as_u64),
        platform: platform_of(d),
        role,
    }
}

/// Pushes one index or manifest and follows the descriptor leading to `config`.
#[allow(clippy::too_many_arguments)]
fn follow(
    docs: &mut Documents,
    name: String,
    digest: Option<String>,
    raw: Vec<u8>,
    pointed_media: Option<String>,
    read: &ReadBlob<'_>,
    config: &str,
    depth: usize,
) {
    if depth > 4 {
        return;
    }
    let Ok(v) = serde_json::from_slice::<Value>(&raw) else {
        docs.notes
            .push(format!("{name} is not valid JSON: shown raw, not followed"));
        docs.chain.push(Document {
            kind: DocumentKind::Manifest,
            name,
            media_type: pointed_media,
            digest,
            raw: Arc::from(raw),
            refs: Vec::new(),
        });
        return;
    };
    let media = v
        .get("mediaType")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or(pointed_media);
    let mut next = None;
    let refs = if is_index(&v, media.as_deref()) {
        let list = v
            .get("manifests")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        list.iter()
            .enumerate()
            .map(|(i, d)| {
                let target = d.get("digest").and_then(Value::as_str).unwrap_or_default();
                let dm = d.get("mediaType").and_then(Value::as_str).unwrap_or("");
                let role = if is_attestation(d) {
                    Role::Attestation(
                        d.pointer("/annotations/vnd.docker.reference.digest")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                    )
                } else if next.is_none() && leads_to(read, target, config, depth + 1) {
                    next = Some((target.to_owned(), d.get("mediaType").cloned()));
                    Role::Followed
                } else if dm.is_empty() || dm.contains("manifest") {
                    Role::OtherPlatform
                } else {
                    Role::Artifact
                };
                descriptor(format!("manifests[{i}]"), d, role)
            })
            .collect()
    } else {
        let mut refs = Vec::new();
        if let Some(c) = v.get("config") {
            refs.push(descriptor("config".into(), c, Role::Config));
        }
        for (i, l) in v
            .get("layers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            refs.push(descriptor(format!("layers[{i}]"), l, Role::Layer(i)));
        }
        refs
    };
    let kind = if is_index(&v, media.as_deref()) {
        DocumentKind::Index
    } else {
        DocumentKind::Manifest
    };
    docs.chain.push(Document {
        kind,
        name,
        media_type: media,
        digest,
        raw: Arc::from(raw),
        refs,
    });
    if let Some((d, m)) = next {
        if let Some(raw) = read(&d) {
            let actual = sha256_digest(&raw);
            let name = blob_member(&d).unwrap_or_else(|| d.clone());
            let m = m.and_then(|m| m.as_str().map(str::to_owned));
            follow(docs, name, Some(actual), raw, m, read, config, depth + 1);
        }
    }
}

/// Docker's `manifest.json`: the entry of the opened image (by config), its `Config` and
/// `Layers` file names.
fn archive_manifest(raw: &[u8], resolved: &Resolved) -> Option<Document> {
    let v: Value = serde_json::from_slice(raw).ok()?;
    let list = v.as_array()?;
    let config_hex = resolved.config_digest.strip_prefix("sha256:").unwrap_or("");
    let (i, entry) = list
        .iter()
        .enumerate()
        .find(|(_, e)| {
            e.get("Config")
                .and_then(Value::as_str)
                .is_some_and(|c| !config_hex.is_empty() && c.contains(config_hex))
        })
        .or_else(|| (list.len() == 1).then(|| (0, &list[0])))?;
    let mut refs = vec![Descriptor {
        field: format!("[{i}].Config"),
        media_type: None,
        target: entry
            .get("Config")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        size: None,
        platform: None,
        role: Role::Config,
    }];
    for (n, l) in entry
        .get("Layers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        refs.push(Descriptor {
            field: format!("[{i}].Layers[{n}]"),
            media_type: None,
            target: l.as_str().unwrap_or_default().to_owned(),
            size: None,
            platform: None,
            role: Role::Layer(n),
        });
    }
    Some(Document {
        kind: DocumentKind::ArchiveManifest,
        name: "manifest.json".into(),
        media_type: None,
        digest: None,
        raw: Arc::from(raw),
        refs,
    })
}
