//! What refers to an image in its registry: signatures, attestations and SBOMs.
//!
//! Two ways of asking, both used for every subject digest:
//! - the OCI 1.1 referrers API (`GET /v2/<name>/referrers/<digest>`), falling back to the
//!   `sha256-<hex>` referrers index tag when the registry answers 404 (distribution 2.8 has no
//!   referrers API);
//! - cosign's tag schema, which cosign writes whether or not the registry has the API:
//!   `sha256-<hex>.sig` (signatures), `.att` (attestations), `.sbom` (SBOMs).
//!
//! Manifests of artifacts and their small layers (signature payloads, DSSE envelopes) are read
//! and kept as they are ([`crate::model::referrer`]); checking them is
//! `analysis::signatures`' job. Nothing here is fatal: a problem is listed and the image is
//! still shown.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use super::{not_found, Remote, DOCKER_MANIFEST, OCI_MANIFEST};
use crate::model::provenance::Attestation;
use crate::model::referrer::{Referrer, ReferrerKind, ReferrerLayer, Referrers};

/// Media type of a cosign simple-signing payload layer.
pub const COSIGN_SIMPLESIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Media type of a DSSE envelope layer (cosign attestations).
pub const DSSE_ENVELOPE: &str = "application/vnd.dsse.envelope.v1+json";
/// Artifact type of a Notation signature.
pub const NOTATION_SIGNATURE: &str = "application/vnd.cncf.notary.signature";
/// Artifact type cosign gives signatures pushed through the referrers API.
pub const COSIGN_SIG_ARTIFACT: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";
/// Artifact type cosign gives attestations pushed through the referrers API.
pub const COSIGN_ATT_ARTIFACT: &str = "application/vnd.dev.cosign.artifact.att.v1+json";
/// Start of the media type of Sigstore bundles (`…bundle.v0.3+json`).
pub const SIGSTORE_BUNDLE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";

/// Layers larger than this are listed without their bytes (payloads and envelopes are a few
/// KiB; an attached SBOM can be large and is not needed to list it).
const MAX_LAYER_BYTES: u64 = 4 << 20;
/// At most this many referrers per subject are read (a registry can hold thousands).
const MAX_REFERRERS: usize = 64;

/// The cosign tag suffixes and what they hold.
const COSIGN_TAGS: [(&str, ReferrerKind); 3] = [
    ("sig", ReferrerKind::CosignSignature),
    ("att", ReferrerKind::CosignAttestation),
    ("sbom", ReferrerKind::CosignSbom),
];

/// Asks the registry what refers to each of `subjects` (manifest digests): every lookup at
/// once, results in a fixed order (per subject: referrers API, then `.sig`, `.att`, `.sbom`),
/// each artifact once.
pub(super) async fn discover(remote: &Remote, subjects: &[String]) -> Referrers {
    let lookups = subjects.iter().map(|s| lookup(remote, s));
    let mut out = Referrers {
        subjects: subjects.to_vec(),
        ..Referrers::default()
    };
    let mut seen = HashSet::new();
    for (found, problems) in futures_util::future::join_all(lookups).await {
        out.found
            .extend(found.into_iter().filter(|r| seen.insert(r.digest.clone())));
        out.problems.extend(problems);
    }
    out
}

/// First line of an error, safe to print.
fn first_line(e: &impl std::fmt::Display) -> String {
    crate::model::sanitize(&e.to_string())
        .lines()
        .next()
        .unwrap_or("")
        .to_owned()
}

/// What refers to one subject, and the problems met.
async fn lookup(remote: &Remote, subject: &str) -> (Vec<Referrer>, Vec<String>) {
    let Some(hex) = subject.strip_prefix("sha256:") else {
        return (
            Vec::new(),
            vec![format!(
                "{subject}: not a sha256 digest; referrers not asked"
            )],
        );
    };
    let tags = COSIGN_TAGS
        .iter()
        .map(|&(suffix, kind)| cosign_tag(remote, subject, format!("sha256-{hex}.{suffix}"), kind));
    let (mut api, tags) = futures_util::future::join(
        api_referrers(remote, subject),
        futures_util::future::join_all(tags),
    )
    .await;
    for (found, problem) in tags {
        api.0.extend(found);
        api.1.extend(problem);
    }
    api
}

/// The OCI 1.1 referrers API (with oci-client's fallback to the `sha256-<hex>` index tag).
async fn api_referrers(remote: &Remote, subject: &str) -> (Vec<Referrer>, Vec<String>) {
    let (mut found, mut problems) = (Vec::new(), Vec::new());
    let subject_ref = remote.reference.clone_with_digest(subject.to_owned());
    let index = match remote.client.pull_referrers(&subject_ref, None).await {
        Ok(index) => index,
        Err(e) if not_found(&e) => return (found, problems),
        Err(e) => {
            problems.push(format!(
                "{subject}: the referrers API failed: {}",
                first_line(&e)
            ));
            return (found, problems);
        }
    };
    let reads = index
        .manifests
        .iter()
        .take(MAX_REFERRERS)
        .map(|d| async move {
            let location = format!("referrer {}", d.digest);
            let bytes = remote
                .manifest_of_artifact(&d.digest)
                .await
                .map_err(|p| format!("{location}: {p}"))?;
            read_artifact(remote, &bytes, &d.digest, subject, &location, None).await
        });
    for r in futures_util::future::join_all(reads).await {
        match r {
            Ok(r) => found.push(r),
            Err(p) => problems.push(p),
        }
    }
    (found, problems)
}

/// One of cosign's tags (`sha256-<hex>.sig`, `.att`, `.sbom`); absent is no problem.
async fn cosign_tag(
    remote: &Remote,
    subject: &str,
    tag: String,
    kind: ReferrerKind,
) -> (Option<Referrer>, Option<String>) {
    let r = oci_client::Reference::with_tag(
        remote.reference.registry().to_owned(),
        remote.reference.repository().to_owned(),
        tag.clone(),
    );
    match remote
        .client
        .pull_manifest_raw(&r, &remote.auth, &[OCI_MANIFEST, DOCKER_MANIFEST])
        .await
    {
        Ok((bytes, digest)) => {
            match read_artifact(remote, &bytes, &digest, subject, &tag, Some(kind)).await {
                Ok(r) => (Some(r), None),
                Err(p) => (None, Some(p)),
            }
        }
        Err(e) if not_found(&e) => (None, None),
        Err(e) => (None, Some(format!("{tag}: {}", first_line(&e)))),
    }
}

impl Remote {
    /// The manifest of an artifact by digest, as raw bytes (one attempt: a referrer that cannot
    /// be read is listed as a problem, not retried at length).
    async fn manifest_of_artifact(&self, digest: &str) -> Result<Vec<u8>, String> {
        let r = self.reference.clone_with_digest(digest.to_owned());
        self.client
            .pull_manifest_raw(&r, &self.auth, &[OCI_MANIFEST, DOCKER_MANIFEST])
            .await
            .map(|(b, _)| b.to_vec())
            .map_err(|e| first_line(&e))
    }
}

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// What an artifact manifest is, from its artifact type and its layers' media types.
pub fn classify(artifact_type: &str, layer_types: &[&str]) -> ReferrerKind {
    if artifact_type == NOTATION_SIGNATURE {
        ReferrerKind::NotationSignature
    } else if artifact_type == COSIGN_SIG_ARTIFACT || layer_types.contains(&COSIGN_SIMPLESIGNING) {
        ReferrerKind::CosignSignature
    } else if artifact_type.starts_with(SIGSTORE_BUNDLE_PREFIX)
        || layer_types
            .iter()
            .any(|t| t.starts_with(SIGSTORE_BUNDLE_PREFIX))
    {
        ReferrerKind::SigstoreBundle
    } else if artifact_type == COSIGN_ATT_ARTIFACT || layer_types.contains(&DSSE_ENVELOPE) {
        ReferrerKind::CosignAttestation
    } else {
        ReferrerKind::Other
    }
}

/// Reads an artifact manifest and its small layers.
async fn read_artifact(
    remote: &Remote,
    bytes: &[u8],
    digest: &str,
    subject: &str,
    location: &str,
    kind: Option<ReferrerKind>,
) -> Result<Referrer, String> {
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("{location}: the manifest is not valid JSON: {e}"))?;
    let artifact_type = v
        .get("artifactType")
        .and_then(Value::as_str)
        .or_else(|| v.pointer("/config/mediaType").and_then(Value::as_str))
        .unwrap_or("")
        .to_owned();
    let mut layers = Vec::new();
    for l in v
        .get("layers")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .take(MAX_REFERRERS)
    {
        let media_type = l
            .get("mediaType")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let layer_digest = l
            .get("digest")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let size = l.get("size").and_then(Value::as_u64).unwrap_or(0);
        let bytes = if layer_digest.starts_with("sha256:") && size <= MAX_LAYER_BYTES {
            remote.blobs.fetch_small(&layer_digest, size).await.ok()
        } else {
            None
        };
        layers.push(ReferrerLayer {
            media_type,
            digest: layer_digest,
            size,
            annotations: string_map(l.get("annotations")),
            bytes,
        });
    }
    let types: Vec<&str> = layers.iter().map(|l| l.media_type.as_str()).collect();
    let kind = kind.unwrap_or_else(|| classify(&artifact_type, &types));
    Ok(Referrer {
        kind,
        location: location.to_owned(),
        subject: subject.to_owned(),
        digest: digest.to_owned(),
        artifact_type,
        annotations: string_map(v.get("annotations")),
        layers,
    })
}

/// The in-toto statements of the cosign attestations among `found` (`.att` tags or
/// referrers): each DSSE envelope layer's payload, decoded, as an [`Attestation`] of the
/// artifact manifest. The envelope's own signatures are not checked here. An envelope that
/// cannot be read becomes an attestation with its `problem` set.
pub fn cosign_statements(found: &Referrers) -> Vec<Attestation> {
    use base64::Engine as _;
    let mut out = Vec::new();
    for r in found
        .found
        .iter()
        .filter(|r| r.kind == ReferrerKind::CosignAttestation)
    {
        for layer in r.layers.iter().filter(|l| l.media_type == DSSE_ENVELOPE) {
            let mut att = Attestation {
                manifest: r.digest.clone(),
                media_type: layer.media_type.clone(),
                predicate_type: layer.annotations.get("predicateType").cloned(),
                digest: layer.digest.clone(),
                size: layer.size,
                ..Attestation::default()
            };
            let statement = (|| -> Result<String, String> {
                let bytes = layer
                    .bytes
                    .as_ref()
                    .ok_or("the envelope blob was not read (too large or unreadable)")?;
                let envelope: Value = serde_json::from_slice(bytes)
                    .map_err(|e| format!("the DSSE envelope is not valid JSON: {e}"))?;
                let payload_type = envelope
                    .get("payloadType")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if payload_type != IN_TOTO_PAYLOAD {
                    return Err(format!(
                        "the DSSE payload type is {payload_type:?}, not {IN_TOTO_PAYLOAD}"
                    ));
                }
                let payload = envelope
                    .get("payload")
                    .and_then(Value::as_str)
                    .ok_or("the DSSE envelope has no payload")?;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(payload)
                    .map_err(|e| format!("the DSSE payload is not base64: {e}"))?;
                Ok(String::from_utf8_lossy(&bytes).into_owned())
            })();
            match statement {
                Ok(s) => att.statement = Some(Arc::from(s.as_str())),
                Err(why) => att.problem = Some(why),
            }
            out.push(att);
        }
    }
    out
}

/// The DSSE payload type of an in-toto statement.
pub const IN_TOTO_PAYLOAD: &str = "application/vnd.in-toto+json";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosign_envelopes_give_their_statements() {
        use base64::Engine as _;
        let statement = r#"{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://slsa.dev/provenance/v1"}"#;
        let envelope = |payload_type: &str, payload: &str| {
            serde_json::json!({"payloadType": payload_type, "payload": payload, "signatures": []})
                .to_string()
                .into_bytes()
        };
        let layer = |bytes: Option<Vec<u8>>| ReferrerLayer {
            media_type: DSSE_ENVELOPE.into(),
            digest: "sha256:00".into(),
            size: 10,
            annotations: BTreeMap::from([(
                "predicateType".into(),
                "https://slsa.dev/provenance/v1".into(),
            )]),
            bytes,
        };
        let b64 = base64::engine::general_purpose::STANDARD.encode(statement);
        let found = Referrers {
            subjects: vec!["sha256:aa".into()],
            found: vec![Referrer {
                kind: ReferrerKind::CosignAttestation,
                location: "sha256-aa.att".into(),
                subject: "sha256:aa".into(),
                digest: "sha256:bb".into(),
                artifact_type: String::new(),
                annotations: BTreeMap::new(),
                layers: vec![
                    layer(Some(envelope(IN_TOTO_PAYLOAD, &b64))),
                    layer(Some(envelope("text/plain", &b64))),
                    layer(Some(envelope(IN_TOTO_PAYLOAD, "not base64!"))),
                    layer(None),
                ],
            }],
            problems: Vec::new(),
        };
        let atts = cosign_statements(&found);
        assert_eq!(atts.len(), 4);
        assert_eq!(atts[0].statement.as_deref(), Some(statement));
        assert_eq!(atts[0].manifest, "sha256:bb");
        assert_eq!(
            atts[0].predicate_type.as_deref(),
            Some("https://slsa.dev/provenance/v1")
        );
        assert!(atts[1]
            .problem
            .as_deref()
            .unwrap_or("")
            .contains("text/plain"));
        assert!(atts[2].problem.as_deref().unwrap_or("").contains("base64"));
        assert!(atts[3]
            .problem
            .as_deref()
            .unwrap_or("")
            .contains("not read"));
        assert!(atts[1..].iter().all(|a| a.statement.is_none()));
    }

    #[test]
    fn artifacts_are_told_apart_by_type() {
        assert_eq!(
            classify(NOTATION_SIGNATURE, &["application/jose+json"]),
            ReferrerKind::NotationSignature
        );
        assert_eq!(
            classify(
                "application/vnd.oci.image.config.v1+json",
                &[COSIGN_SIMPLESIGNING]
            ),
            ReferrerKind::CosignSignature
        );
        assert_eq!(
            classify("", &[DSSE_ENVELOPE]),
            ReferrerKind::CosignAttestation
        );
        assert_eq!(
            classify(
                "application/vnd.dev.sigstore.bundle.v0.3+json",
                &["application/vnd.dev.sigstore.bundle.v0.3+json"]
            ),
            ReferrerKind::SigstoreBundle
        );
        assert_eq!(
            classify(COSIGN_ATT_ARTIFACT, &[]),
            ReferrerKind::CosignAttestation
        );
        assert_eq!(
            classify("application/spdx+json", &["application/spdx+json"]),
            ReferrerKind::Other
        );
    }
}
