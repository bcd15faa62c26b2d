//! Attestation manifests as BuildKit stores them next to an image: an index entry annotated
//! `vnd.docker.reference.type: attestation-manifest` and `vnd.docker.reference.digest:
//! <image manifest digest>` (platform `unknown/unknown`), whose layers are in-toto statements
//! (`application/vnd.in-toto+json`, annotated `in-toto.io/predicate-type`).
//!
//! Reading them never fails a load: an absent or unreadable blob becomes a warning and an
//! [`Attestation`] with its `problem` set.

use std::sync::Arc;

use serde_json::Value;

use super::resolve::{blob_member, sha256_digest, BlobStore};
use crate::model::provenance::{Attestation, Provenance};

const REFERENCE_TYPE: &str = "/annotations/vnd.docker.reference.type";
const REFERENCE_DIGEST: &str = "/annotations/vnd.docker.reference.digest";
const PREDICATE_TYPE: &str = "/annotations/in-toto.io~1predicate-type";

/// True for an index entry that is an attestation manifest (BuildKit's annotation, or the
/// `unknown/unknown` platform it is given).
pub fn is_attestation(desc: &Value) -> bool {
    desc.pointer(REFERENCE_TYPE).and_then(Value::as_str) == Some("attestation-manifest")
        || desc.get("platform").is_some_and(|p| {
            p.get("os").and_then(Value::as_str) == Some("unknown")
                && p.get("architecture").and_then(Value::as_str) == Some("unknown")
        })
}

/// The image manifest digest an attestation entry points at.
pub fn subject_of(desc: &Value) -> Option<&str> {
    desc.pointer(REFERENCE_DIGEST).and_then(Value::as_str)
}

/// The digest of an index entry.
pub fn digest_of(desc: &Value) -> Option<&str> {
    desc.get("digest").and_then(Value::as_str)
}

/// The statements an attestation manifest lists (without their bytes yet).
pub fn statements_of(manifest_digest: &str, manifest: &Value) -> Vec<Attestation> {
    manifest
        .get("layers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|l| {
            let digest = l.get("digest").and_then(Value::as_str)?;
            Some(Attestation {
                manifest: manifest_digest.to_owned(),
                media_type: l
                    .get("mediaType")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                predicate_type: l
                    .pointer(PREDICATE_TYPE)
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                digest: digest.to_owned(),
                size: l.get("size").and_then(Value::as_u64).unwrap_or(0),
                ..Attestation::default()
            })
        })
        .collect()
}

/// Stores the statement bytes read for `att`, after checking them against its digest; the
/// warning to show when they do not match.
pub fn fill(att: &mut Attestation, bytes: &[u8]) -> Option<String> {
    let actual = sha256_digest(bytes);
    if actual != att.digest {
        let why = format!(
            "statement blob {} holds bytes of digest {actual}",
            att.digest
        );
        let warning = format!("attestation {}: {why}; it is not read", att.manifest);
        att.problem = Some(why);
        return Some(warning);
    }
    att.statement = Some(Arc::from(String::from_utf8_lossy(bytes).as_ref()));
    None
}

/// Marks `att` unreadable and returns the warning that says so.
pub fn missing(att: &mut Attestation, label: &str) -> String {
    let why = format!("statement blob {} is not in {label}", att.digest);
    let warning = format!(
        "attestation {} ({}): {why}; it is not read",
        att.manifest,
        att.predicate_type.as_deref().unwrap_or("unknown predicate")
    );
    att.problem = Some(why);
    warning
}

/// Reads the attestations among `entries` (index entries) that point at `subject`, from an
/// archive or layout. Returns them and the warnings for what could not be read.
pub fn read(store: &dyn BlobStore, entries: &[Value], subject: &str) -> (Provenance, Vec<String>) {
    let mut prov = Provenance {
        subject_digest: Some(subject.to_owned()),
        ..Provenance::default()
    };
    let mut warnings = Vec::new();
    for desc in entries.iter().filter(|d| subject_of(d) == Some(subject)) {
        let Some(digest) = digest_of(desc) else {
            continue;
        };
        let manifest = blob_member(digest)
            .and_then(|m| store.read_meta(&m).ok().flatten())
            .filter(|b| sha256_digest(b) == digest)
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
        let Some(manifest) = manifest else {
            warnings.push(format!(
                "attestation manifest {digest} is not readable in {}; its statements are not read",
                store.label()
            ));
            prov.attestations.push(Attestation {
                manifest: digest.to_owned(),
                problem: Some("attestation manifest absent or unreadable".into()),
                ..Attestation::default()
            });
            continue;
        };
        for mut att in statements_of(digest, &manifest) {
            match blob_member(&att.digest).and_then(|m| store.read_meta(&m).ok().flatten()) {
                Some(bytes) => warnings.extend(fill(&mut att, &bytes)),
                None => warnings.push(missing(&mut att, &store.label())),
            }
            prov.attestations.push(att);
        }
    }
    (prov, warnings)
}
