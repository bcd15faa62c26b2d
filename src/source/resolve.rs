//! Finding the image inside an archive or layout: `manifest.json` (Docker and skopeo saves,
//! crane tarballs) or `index.json` (OCI layouts, with nested indexes, platforms and
//! attestations).

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// Read access to the members of an archive or layout directory.
pub trait BlobStore {
    /// Label used in error messages (the archive or directory path).
    fn label(&self) -> String;
    /// Reads a small metadata member (JSON), following member symlinks. `None` if absent.
    fn read_meta(&self, member: &str) -> Result<Option<Vec<u8>>>;
    /// True when a layer member exists (after following symlinks).
    fn has_layer(&self, member: &str) -> bool;
    /// Follows member symlinks to the member holding the bytes.
    fn canonical(&self, member: &str) -> String;
}

/// A requested platform, `os/arch[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// Operating system (`linux`).
    pub os: String,
    /// Architecture (`amd64`, `arm64`).
    pub architecture: String,
    /// Optional variant (`v8`).
    pub variant: Option<String>,
}

impl Platform {
    /// Parses `os/arch[/variant]`.
    pub fn parse(s: &str) -> Result<Self> {
        let parts: Vec<&str> = s.split('/').collect();
        match parts.as_slice() {
            [os, arch] if !os.is_empty() && !arch.is_empty() => Ok(Self {
                os: (*os).into(),
                architecture: (*arch).into(),
                variant: None,
            }),
            [os, arch, v] if !os.is_empty() && !arch.is_empty() && !v.is_empty() => Ok(Self {
                os: (*os).into(),
                architecture: (*arch).into(),
                variant: Some((*v).into()),
            }),
            _ => Err(Error::Other(format!(
                "--platform {s}: expected os/arch[/variant], e.g. linux/arm64/v8"
            ))),
        }
    }

    /// The platform of the running machine, in OCI spelling.
    pub fn host() -> Self {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            "arm" => "arm",
            other => other,
        };
        Self {
            os: "linux".into(),
            architecture: architecture.into(),
            variant: None,
        }
    }

    fn matches(&self, os: &str, arch: &str, variant: Option<&str>) -> bool {
        self.os == os
            && self.architecture == arch
            && self.variant.as_deref().is_none_or(|v| Some(v) == variant)
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// One layer to read, as the manifest describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerRef {
    /// Member (or blob path) holding the bytes, symlinks followed.
    pub member: String,
    /// Expected `sha256:` of the blob, when the layout names blobs by digest.
    pub blob_digest: Option<String>,
    /// Media type, if the layout records one.
    pub media_type: Option<String>,
}

/// The image found in an archive or layout.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The config JSON bytes.
    pub config: Vec<u8>,
    /// `sha256:` of the config bytes.
    pub config_digest: String,
    /// Layers, bottom first.
    pub layers: Vec<LayerRef>,
    /// Tags recorded by the layout.
    pub repo_tags: Vec<String>,
    /// Manifest digest when the layout has one.
    pub manifest_digest: Option<String>,
    /// Non-fatal notes (skipped platforms, absent blobs).
    pub warnings: Vec<String>,
}

const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];
const SCHEMA1_TYPES: [&str; 2] = [
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
];

/// `sha256:` digest of bytes.
pub fn sha256_digest(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    let mut s = String::from("sha256:");
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn parse_json(store: &dyn BlobStore, member: &str, bytes: &[u8]) -> Result<Value> {
    serde_json::from_slice(bytes).map_err(|e| {
        Error::invalid(
            format!("{}: {member}", store.label()),
            format!("invalid JSON: {e}"),
        )
    })
}

/// Blob member for a digest `alg:hex` in an OCI layout.
pub fn blob_member(digest: &str) -> Option<String> {
    let (alg, hex) = digest.split_once(':')?;
    let valid = !alg.is_empty()
        && alg.bytes().all(|b| b.is_ascii_alphanumeric())
        && !hex.is_empty()
        && hex.bytes().all(|b| b.is_ascii_hexdigit());
    valid.then(|| format!("blobs/{alg}/{hex}"))
}

/// The digest a member name implies, for layouts that name blobs by digest.
pub fn digest_from_member(member: &str) -> Option<String> {
    let base = member.rsplit('/').next().unwrap_or(member);
    let hex = if let Some(rest) = member.strip_prefix("blobs/sha256/") {
        rest
    } else if let Some(rest) = base.strip_prefix("sha256:") {
        rest
    } else {
        base.strip_suffix(".tar.gz")
            .or_else(|| base.strip_suffix(".tar.zst"))
            .or_else(|| base.strip_suffix(".tar"))
            .or_else(|| base.strip_suffix(".json"))?
    };
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("sha256:{}", hex.to_ascii_lowercase()))
}

/// Finds the image in `store`. `platform` forces OCI index resolution for that platform;
/// `tag` picks an image by tag in multi-image saves.
pub fn resolve(
    store: &dyn BlobStore,
    platform: Option<&Platform>,
    tag: Option<&str>,
) -> Result<Resolved> {
    let manifest = store.read_meta("manifest.json")?;
    let index = store.read_meta("index.json")?;
    match (manifest, index) {
        (Some(m), None) => resolve_docker(store, &m, tag),
        (Some(m), Some(idx)) if platform.is_none() => {
            let mut r = resolve_docker(store, &m, tag)?;
            r.manifest_digest = index_manifest_digest(store, &idx);
            Ok(r)
        }
        (_, Some(idx)) => resolve_oci(store, &idx, platform, tag),
        (None, None) => Err(Error::invalid(
            store.label(),
            "no manifest.json or index.json: not a container image archive or layout",
        )),
    }
}

fn index_manifest_digest(store: &dyn BlobStore, idx: &[u8]) -> Option<String> {
    let v = parse_json(store, "index.json", idx).ok()?;
    let list = v.get("manifests")?.as_array()?;
    if list.len() == 1 {
        list[0].get("digest")?.as_str().map(str::to_owned)
    } else {
        None
    }
}

fn resolve_docker(store: &dyn BlobStore, bytes: &[u8], tag: Option<&str>) -> Result<Resolved> {
    let label = format!("{}: manifest.json", store.label());
    let v = parse_json(store, "manifest.json", bytes)?;
    let list = v
        .as_array()
        .ok_or_else(|| Error::invalid(&label, "expected a JSON array of images"))?;
    if list.is_empty() {
        return Err(Error::invalid(&label, "lists no image"));
    }
    let entry = match tag {
        Some(t) => list
            .iter()
            .find(|e| {
                e.get("RepoTags")
                    .and_then(Value::as_array)
                    .is_some_and(|tags| {
                        tags.iter()
                            .any(|x| x.as_str().is_some_and(|x| tag_matches(x, t)))
                    })
            })
            .ok_or_else(|| Error::invalid(&label, format!("no image tagged {t}")))?,
        None => &list[0],
    };
    let config_member = entry
        .get("Config")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::invalid(&label, "image entry has no Config"))?;
    let config = store.read_meta(config_member)?.ok_or_else(|| {
        Error::invalid(
            &label,
            format!("points at config {config_member}, which is not in the archive"),
        )
    })?;
    let config_digest = sha256_digest(&config);
    if let Some(expected) = digest_from_member(&store.canonical(config_member)) {
        if expected != config_digest {
            return Err(Error::DigestMismatch {
                path: format!("{}: {config_member}", store.label()),
                what: "config".into(),
                expected,
                actual: config_digest,
            });
        }
    }
    let layer_names = entry
        .get("Layers")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::invalid(&label, "image entry has no Layers"))?;
    let mut layers = Vec::with_capacity(layer_names.len());
    for l in layer_names {
        let name = l
            .as_str()
            .ok_or_else(|| Error::invalid(&label, "a Layers entry is not a string"))?;
        let member = store.canonical(name);
        if !store.has_layer(&member) {
            return Err(Error::invalid(
                &label,
                format!("lists layer {name}, which is not in the archive"),
            ));
        }
        layers.push(LayerRef {
            blob_digest: digest_from_member(&member),
            member,
            media_type: None,
        });
    }
    let repo_tags = entry
        .get("RepoTags")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    Ok(Resolved {
        config,
        config_digest,
        layers,
        repo_tags,
        manifest_digest: None,
        warnings: Vec::new(),
    })
}

fn tag_matches(full: &str, wanted: &str) -> bool {
    full == wanted
        || full.strip_prefix("docker.io/library/") == Some(wanted)
        || full.strip_prefix("docker.io/") == Some(wanted)
        || full.strip_prefix("localhost/") == Some(wanted)
}

struct Candidate {
    digest: String,
    manifest: Value,
    platform: Option<(String, String, Option<String>)>,
    names: Vec<String>,
}

fn resolve_oci(
    store: &dyn BlobStore,
    idx: &[u8],
    platform: Option<&Platform>,
    tag: Option<&str>,
) -> Result<Resolved> {
    let root = parse_json(store, "index.json", idx)?;
    let mut candidates = Vec::new();
    let mut warnings = Vec::new();
    collect(store, &root, 0, &mut candidates, &mut warnings, &[])?;
    if let Some(t) = tag {
        let tagged: Vec<Candidate> = std::mem::take(&mut candidates)
            .into_iter()
            .filter(|c| {
                c.names
                    .iter()
                    .any(|n| tag_matches(n, t) || n.ends_with(&format!(":{t}")) || n == t)
            })
            .collect();
        if tagged.is_empty() {
            return Err(Error::invalid(
                store.label(),
                format!("no image named {t} in index.json"),
            ));
        }
        candidates = tagged;
    }
    if candidates.is_empty() {
        let extra = if warnings.is_empty() {
            String::new()
        } else {
            format!(" ({})", warnings.join("; "))
        };
        return Err(Error::invalid(
            store.label(),
            format!("index.json lists no runnable image whose blobs are present{extra}"),
        ));
    }
    let want = platform.cloned().unwrap_or_else(Platform::host);
    let pick = candidates.iter().position(|c| {
        c.platform
            .as_ref()
            .is_some_and(|(os, arch, v)| want.matches(os, arch, v.as_deref()))
    });
    let chosen = match pick {
        Some(i) => candidates.swap_remove(i),
        None if platform.is_none() && candidates.len() == 1 => candidates.remove(0),
        None => {
            let list: Vec<String> = candidates
                .iter()
                .map(|c| match &c.platform {
                    Some((os, a, Some(v))) => format!("{os}/{a}/{v}"),
                    Some((os, a, None)) => format!("{os}/{a}"),
                    None => "unknown".into(),
                })
                .collect();
            return Err(Error::invalid(
                store.label(),
                format!(
                    "no image for platform {want}; available: {} (choose with --platform)",
                    list.join(", ")
                ),
            ));
        }
    };
    let label = format!("{}: manifest {}", store.label(), chosen.digest);
    let config_digest = chosen
        .manifest
        .pointer("/config/digest")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::invalid(&label, "manifest has no config digest"))?
        .to_owned();
    let config_member = blob_member(&config_digest)
        .ok_or_else(|| Error::invalid(&label, format!("bad config digest {config_digest}")))?;
    let config = store.read_meta(&config_member)?.ok_or_else(|| {
        Error::invalid(
            &label,
            format!("config blob {config_digest} is not in the archive"),
        )
    })?;
    let actual = sha256_digest(&config);
    if actual != config_digest {
        return Err(Error::DigestMismatch {
            path: format!("{}: {config_member}", store.label()),
            what: "config".into(),
            expected: config_digest,
            actual,
        });
    }
    let mut layers = Vec::new();
    for l in chosen
        .manifest
        .get("layers")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::invalid(&label, "manifest has no layers"))?
    {
        let digest = l
            .get("digest")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::invalid(&label, "a layer descriptor has no digest"))?;
        let media_type = l
            .get("mediaType")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if media_type
            .as_deref()
            .is_some_and(|m| m.ends_with("+encrypted"))
        {
            return Err(Error::invalid(
                &label,
                format!("layer {digest} is encrypted (ocicrypt), which strata cannot read"),
            ));
        }
        let member = blob_member(digest)
            .ok_or_else(|| Error::invalid(&label, format!("bad layer digest {digest}")))?;
        let member = store.canonical(&member);
        if !store.has_layer(&member) {
            return Err(Error::invalid(
                &label,
                format!("layer blob {digest} is not in the archive"),
            ));
        }
        layers.push(LayerRef {
            member,
            blob_digest: Some(digest.to_owned()),
            media_type,
        });
    }
    Ok(Resolved {
        config,
        config_digest,
        layers,
        repo_tags: chosen.names,
        manifest_digest: Some(chosen.digest),
        warnings,
    })
}

fn names_of(desc: &Value) -> Vec<String> {
    let ann = desc.get("annotations");
    let get = |k: &str| ann.and_then(|a| a.get(k)).and_then(Value::as_str);
    if let Some(full) = get("io.containerd.image.name") {
        vec![full.to_owned()]
    } else if let Some(r) = get("org.opencontainers.image.ref.name") {
        vec![r.to_owned()]
    } else {
        Vec::new()
    }
}

fn collect(
    store: &dyn BlobStore,
    index: &Value,
    depth: usize,
    out: &mut Vec<Candidate>,
    warnings: &mut Vec<String>,
    inherited_names: &[String],
) -> Result<()> {
    if depth > 4 {
        return Err(Error::invalid(
            store.label(),
            "image indexes nested more than 4 deep",
        ));
    }
    let Some(list) = index.get("manifests").and_then(Value::as_array) else {
        return Ok(()); // `"manifests": null` counts as empty
    };
    for desc in list {
        let Some(digest) = desc.get("digest").and_then(Value::as_str) else {
            continue;
        };
        let media = desc.get("mediaType").and_then(Value::as_str).unwrap_or("");
        if SCHEMA1_TYPES.contains(&media) {
            return Err(Error::invalid(
                store.label(),
                "schema 1 manifests are obsolete and not supported",
            ));
        }
        let mut names = names_of(desc);
        if names.is_empty() {
            names = inherited_names.to_vec();
        }
        let platform = desc.get("platform").map(|p| {
            let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            (
                s("os"),
                s("architecture"),
                p.get("variant").and_then(Value::as_str).map(str::to_owned),
            )
        });
        let is_attestation = desc
            .pointer("/annotations/vnd.docker.reference.type")
            .and_then(Value::as_str)
            == Some("attestation-manifest")
            || platform
                .as_ref()
                .is_some_and(|(os, a, _)| os == "unknown" && a == "unknown");
        if is_attestation {
            continue;
        }
        let Some(member) = blob_member(digest) else {
            continue;
        };
        let Some(bytes) = store.read_meta(&member)? else {
            let p = platform
                .as_ref()
                .map_or_else(|| digest.to_owned(), |(o, a, _)| format!("{o}/{a}"));
            warnings.push(format!("{p} is not in the archive"));
            continue;
        };
        let value = parse_json(store, &member, &bytes)?;
        let actual = sha256_digest(&bytes);
        if actual != digest {
            return Err(Error::DigestMismatch {
                path: format!("{}: {member}", store.label()),
                what: "manifest".into(),
                expected: digest.to_owned(),
                actual,
            });
        }
        let inner_media = value
            .get("mediaType")
            .and_then(Value::as_str)
            .unwrap_or(media);
        if INDEX_TYPES.contains(&inner_media) || value.get("manifests").is_some() {
            collect(store, &value, depth + 1, out, warnings, &names)?;
            continue;
        }
        if value.get("artifactType").is_some() || value.get("subject").is_some() {
            continue;
        }
        let config_type = value
            .pointer("/config/mediaType")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !config_type.is_empty()
            && config_type != "application/vnd.oci.image.config.v1+json"
            && config_type != "application/vnd.docker.container.image.v1+json"
        {
            continue;
        }
        // A platform whose layers are absent (never pulled) is not runnable.
        let missing = value
            .get("layers")
            .and_then(Value::as_array)
            .is_some_and(|ls| {
                ls.iter().any(|l| {
                    l.get("digest")
                        .and_then(Value::as_str)
                        .and_then(blob_member)
                        .is_none_or(|m| !store.has_layer(&store.canonical(&m)))
                })
            });
        if missing {
            let p = platform
                .as_ref()
                .map_or_else(|| digest.to_owned(), |(o, a, _)| format!("{o}/{a}"));
            warnings.push(format!("{p}: layer blobs not in the archive"));
            continue;
        }
        let platform = match platform {
            Some(p) if !p.0.is_empty() => Some(p),
            _ => config_platform(store, &value),
        };
        out.push(Candidate {
            digest: digest.to_owned(),
            manifest: value,
            platform,
            names,
        });
    }
    Ok(())
}

fn config_platform(
    store: &dyn BlobStore,
    manifest: &Value,
) -> Option<(String, String, Option<String>)> {
    let digest = manifest.pointer("/config/digest")?.as_str()?;
    let bytes = store.read_meta(&blob_member(digest)?).ok()??;
    let cfg: Value = serde_json::from_slice(&bytes).ok()?;
    Some((
        cfg.get("os")?.as_str()?.to_owned(),
        cfg.get("architecture")?.as_str()?.to_owned(),
        cfg.get("variant")
            .and_then(Value::as_str)
            .map(str::to_owned),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_from_member_names() {
        let hex = "a".repeat(64);
        assert_eq!(
            digest_from_member(&format!("blobs/sha256/{hex}")),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(
            digest_from_member(&format!("{hex}.json")),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(
            digest_from_member(&format!("sha256:{hex}")),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(
            digest_from_member(&format!("{hex}.tar.gz")),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(digest_from_member("abc/layer.tar"), None);
    }

    #[test]
    fn platform_parsing() {
        let p = Platform::parse("linux/arm64/v8").unwrap();
        assert_eq!(p.variant.as_deref(), Some("v8"));
        assert!(p.matches("linux", "arm64", Some("v8")));
        assert!(!p.matches("linux", "arm64", None));
        assert!(Platform::parse("linux").is_err());
        assert_eq!(blob_member("sha256:../x"), None);
    }
}
