//! Reading the in-toto statements the source found next to an image: SLSA provenance (v0.2
//! and v1, as BuildKit writes them), SPDX 2.3 and CycloneDX SBOMs, and the check that each
//! statement's subject is this image. Also the findings about them (`provenance-missing`,
//! `provenance-subject-mismatch`, `sbom-attestation-disagrees`), the comparison of an attested
//! SBOM with strata's own package inventory, and the statement as the user may see it
//! (redacted).

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use super::context::finding;
use super::finding::{Category, Finding, Package, Severity};
use crate::model::provenance::{
    is_slsa, AttestedPackage, BuildArg, Material, Provenance, SbomAttestation, Slsa, CYCLONEDX,
    SLSA_V02, SLSA_V1, SPDX,
};
use crate::model::Image;
use crate::redact::Redactor;

/// How many differing packages a finding names before "and N more".
const NAMED_PACKAGES: usize = 10;

/// Reads every statement of `prov`: subjects checked against [`Provenance::subject_digest`]
/// and `other_names` (other digests that name this image, such as the index digest a cosign
/// attestation was made for), the first SLSA provenance into [`Provenance::slsa`], the first
/// SBOM into [`Provenance::sbom`]. A statement that is not JSON gets its `problem` set.
pub fn read(prov: &mut Provenance, other_names: &[String]) {
    let expected = prov.subject_digest.clone();
    let mut slsa = None;
    let mut sbom = None;
    for att in &mut prov.attestations {
        let Some(raw) = att.statement.clone() else {
            continue;
        };
        let v: Value = match serde_json::from_str(&raw) {
            Ok(v) => v,
            Err(e) => {
                att.problem = Some(format!("statement is not valid JSON: {e}"));
                continue;
            }
        };
        if att.predicate_type.is_none() {
            att.predicate_type = str_at(&v, "/predicateType");
        }
        att.subjects = subjects(&v);
        att.subject_matches = expected.as_ref().map(|d| {
            att.subjects
                .iter()
                .any(|s| s == d || other_names.contains(s))
        });
        let predicate = v.get("predicate").unwrap_or(&Value::Null);
        match att.predicate_type.as_deref() {
            p if is_slsa(p) && slsa.is_none() => {
                slsa = Some(read_slsa(p.unwrap_or_default(), predicate));
            }
            Some(SPDX) if sbom.is_none() => sbom = Some(read_spdx(predicate)),
            Some(p) if p.starts_with(CYCLONEDX) && sbom.is_none() => {
                sbom = Some(read_cyclonedx(predicate));
            }
            _ => {}
        }
    }
    prov.slsa = slsa;
    prov.sbom = sbom;
}

fn str_at(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn subjects(v: &Value) -> Vec<String> {
    v.get("subject")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.pointer("/digest/sha256").and_then(Value::as_str))
        .map(|h| format!("sha256:{}", h.to_ascii_lowercase()))
        .collect()
}

/// `sha256:<hex>` of a `{"sha256": "<hex>"}` digest set.
fn sha256_of(digest: Option<&Value>) -> Option<String> {
    digest
        .and_then(|d| d.get("sha256"))
        .and_then(Value::as_str)
        .map(|h| format!("sha256:{h}"))
}

fn materials(list: Option<&Value>) -> Vec<Material> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| {
            Some(Material {
                uri: m.get("uri").and_then(Value::as_str)?.to_owned(),
                digest: sha256_of(m.get("digest")),
            })
        })
        .collect()
}

/// True for the image a `# syntax=` line pulls (the Dockerfile frontend), not a base image.
fn is_frontend(uri: &str) -> bool {
    let name = uri
        .strip_prefix("pkg:docker/")
        .unwrap_or(uri)
        .split(['@', '?'])
        .next()
        .unwrap_or("");
    matches!(
        name.trim_start_matches("docker.io/"),
        "docker/dockerfile" | "docker/dockerfile-upstream"
    )
}

fn base_of(materials: &[Material]) -> Option<Material> {
    materials
        .iter()
        .find(|m| m.uri.starts_with("pkg:docker/") && !is_frontend(&m.uri))
        .cloned()
}

/// BuildKit's arguments: `build-arg:NAME` entries become build args; `vcs:source`,
/// `vcs:revision` and `filename` fill the source fields they name.
fn read_args(args: Option<&Value>, slsa: &mut Slsa) {
    let Some(args) = args.and_then(Value::as_object) else {
        return;
    };
    for (k, v) in args {
        let Some(v) = v.as_str() else {
            continue;
        };
        if let Some(name) = k.strip_prefix("build-arg:") {
            slsa.build_args.push(BuildArg {
                name: name.to_owned(),
                value: v.to_owned(),
            });
        } else if k == "vcs:source" && slsa.source_repo.is_none() {
            slsa.source_repo = Some(v.to_owned());
        } else if k == "vcs:revision" && slsa.source_commit.is_none() {
            slsa.source_commit = Some(v.to_owned());
        } else if k == "filename" && slsa.dockerfile.is_none() {
            slsa.dockerfile = Some(v.to_owned());
        }
    }
}

/// BuildKit's metadata block (`https://mobyproject.org/buildkit@v1#metadata` in v0.2,
/// `buildkit_metadata` in v1): its `vcs.source` / `vcs.revision`.
fn read_vcs(meta: Option<&Value>, slsa: &mut Slsa) {
    let Some(vcs) = meta.and_then(|m| m.get("vcs")) else {
        return;
    };
    if slsa.source_repo.is_none() {
        slsa.source_repo = str_at(vcs, "/source");
    }
    if slsa.source_commit.is_none() {
        slsa.source_commit = str_at(vcs, "/revision");
    }
}

fn read_slsa(predicate_type: &str, p: &Value) -> Slsa {
    let mut s = Slsa::default();
    if predicate_type == SLSA_V02 {
        s.version = "v0.2".into();
        s.builder_id = str_at(p, "/builder/id");
        s.build_type = str_at(p, "/buildType");
        let src = p.pointer("/invocation/configSource");
        s.source_repo = src.and_then(|c| str_at(c, "/uri"));
        s.source_commit = src.and_then(|c| str_at(c, "/digest/sha1"));
        s.dockerfile = src.and_then(|c| str_at(c, "/entryPoint"));
        read_args(p.pointer("/invocation/parameters/args"), &mut s);
        read_vcs(
            p.pointer("/metadata/https:~1~1mobyproject.org~1buildkit@v1#metadata"),
            &mut s,
        );
        s.materials = materials(p.get("materials"));
        s.started_on = str_at(p, "/metadata/buildStartedOn");
        s.finished_on = str_at(p, "/metadata/buildFinishedOn");
    } else {
        debug_assert_eq!(predicate_type, SLSA_V1);
        s.version = "v1".into();
        s.builder_id = str_at(p, "/runDetails/builder/id");
        s.build_type = str_at(p, "/buildDefinition/buildType");
        let ext = p.pointer("/buildDefinition/externalParameters");
        let src = ext.and_then(|e| e.get("configSource"));
        s.source_repo = src.and_then(|c| str_at(c, "/uri"));
        s.source_commit = src.and_then(|c| str_at(c, "/digest/sha1"));
        s.dockerfile = src.and_then(|c| str_at(c, "/path"));
        read_args(ext.and_then(|e| e.pointer("/request/args")), &mut s);
        read_args(ext.and_then(|e| e.get("args")), &mut s);
        read_vcs(p.pointer("/runDetails/metadata/buildkit_metadata"), &mut s);
        read_vcs(
            p.pointer("/buildDefinition/internalParameters/buildkit_metadata"),
            &mut s,
        );
        s.materials = materials(p.pointer("/buildDefinition/resolvedDependencies"));
        s.started_on = str_at(p, "/runDetails/metadata/startedOn");
        s.finished_on = str_at(p, "/runDetails/metadata/finishedOn");
    }
    s.build_args.sort_by(|a, b| a.name.cmp(&b.name));
    s.base_image = base_of(&s.materials);
    s
}

fn package(name: Option<&str>, version: Option<&str>) -> Option<AttestedPackage> {
    let name = name.filter(|n| !n.is_empty())?;
    Some(AttestedPackage {
        name: name.to_owned(),
        version: version
            .filter(|v| !v.is_empty() && *v != "NOASSERTION")
            .map(str::to_owned),
    })
}

fn read_spdx(p: &Value) -> SbomAttestation {
    SbomAttestation {
        format: "spdx".into(),
        packages: p
            .get("packages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|x| {
                package(
                    x.get("name").and_then(Value::as_str),
                    x.get("versionInfo").and_then(Value::as_str),
                )
            })
            .collect(),
    }
}

fn read_cyclonedx(p: &Value) -> SbomAttestation {
    fn walk(list: Option<&Value>, out: &mut Vec<AttestedPackage>) {
        for c in list.and_then(Value::as_array).into_iter().flatten() {
            let is_file = c.get("type").and_then(Value::as_str) == Some("file");
            if !is_file {
                out.extend(package(
                    c.get("name").and_then(Value::as_str),
                    c.get("version").and_then(Value::as_str),
                ));
            }
            walk(c.get("components"), out);
        }
    }
    let mut packages = Vec::new();
    walk(p.get("components"), &mut packages);
    SbomAttestation {
        format: "cyclonedx".into(),
        packages,
    }
}

/// Where an attested SBOM and strata's own inventory disagree.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SbomComparison {
    /// Packages the attestation lists that strata did not find in the image (name and
    /// version; a version the attestation leaves out matches any).
    pub only_in_attestation: Vec<AttestedPackage>,
    /// Packages strata found in the image that the attestation does not list.
    pub only_in_image: Vec<AttestedPackage>,
}

impl SbomComparison {
    /// True when both lists are empty.
    pub fn agrees(&self) -> bool {
        self.only_in_attestation.is_empty() && self.only_in_image.is_empty()
    }
}

/// Compares an attested SBOM with strata's inventory, by name and version. `None` when the
/// SBOM lists no package (nothing to compare).
pub fn compare(sbom: &SbomAttestation, packages: &[Package]) -> Option<SbomComparison> {
    if sbom.packages.is_empty() {
        return None;
    }
    let ours: BTreeSet<AttestedPackage> = packages
        .iter()
        .map(|p| AttestedPackage {
            name: p.name.clone(),
            version: Some(p.version.clone()),
        })
        .collect();
    let names: BTreeSet<&str> = ours.iter().map(|p| p.name.as_str()).collect();
    let theirs: BTreeSet<AttestedPackage> = sbom.packages.iter().cloned().collect();
    let attested = |p: &AttestedPackage| {
        theirs.contains(p)
            || theirs
                .iter()
                .any(|t| t.name == p.name && t.version.is_none())
    };
    Some(SbomComparison {
        only_in_attestation: theirs
            .iter()
            .filter(|t| match &t.version {
                Some(_) => !ours.contains(*t),
                None => !names.contains(t.name.as_str()),
            })
            .cloned()
            .collect(),
        only_in_image: ours.iter().filter(|p| !attested(p)).cloned().collect(),
    })
}

fn list(ps: &[AttestedPackage]) -> String {
    let mut out: Vec<String> = ps
        .iter()
        .take(NAMED_PACKAGES)
        .map(|p| match &p.version {
            Some(v) => format!("{} {v}", p.name),
            None => p.name.clone(),
        })
        .collect();
    if ps.len() > NAMED_PACKAGES {
        out.push(format!("and {} more", ps.len() - NAMED_PACKAGES));
    }
    crate::model::sanitize(&out.join(", "))
}

/// The provenance findings of `image`, given strata's package inventory.
pub fn findings(image: &Image, packages: &[Package]) -> Vec<Finding> {
    let prov = &image.provenance;
    let mut out = Vec::new();
    if prov.slsa.is_none() {
        let mut f = finding(
            "provenance-missing",
            Category::Config,
            Severity::Info,
            "No provenance attestation",
            if prov.attestations.is_empty() {
                "no attestation manifest points at this image: who built it, from which source, \
                 cannot be checked"
                    .to_owned()
            } else {
                format!(
                    "{} attestation statement(s) point at this image, none a readable SLSA \
                     provenance",
                    prov.attestations.len()
                )
            },
        );
        f.fix = Some(
            "build with `docker buildx build --provenance=mode=max --sbom=true` and push or \
             export the image with its attestations (an OCI layout or registry keeps them)"
                .into(),
        );
        f.why = Some(
            "SLSA provenance records the builder, the source repository and commit and the base \
             image: the first thing to check before adopting an image"
                .into(),
        );
        out.push(f);
    }
    for a in prov.mismatched() {
        let mut f = finding(
            "provenance-subject-mismatch",
            Category::Config,
            Severity::High,
            "Attestation names another image",
            format!(
                "the {} statement {} points at this image ({}) but its subject names {}",
                a.predicate_type.as_deref().unwrap_or("in-toto"),
                a.digest,
                prov.subject_digest.as_deref().unwrap_or("unknown"),
                if a.subjects.is_empty() {
                    "no sha256 digest".to_owned()
                } else {
                    a.subjects.join(", ")
                }
            ),
        );
        f.evidence = Some(format!("attestation manifest {}", a.manifest));
        f.fix = Some(
            "rebuild and attest the image again; do not trust provenance copied from another \
             image"
                .into(),
        );
        f.why = Some(
            "a statement about another image says nothing about this one, and a swapped \
             attestation is how forged provenance looks"
                .into(),
        );
        out.push(f);
    }
    if let Some(cmp) = prov
        .sbom
        .as_ref()
        .and_then(|s| compare(s, packages))
        .filter(|c| !c.agrees())
    {
        let mut parts = Vec::new();
        if !cmp.only_in_attestation.is_empty() {
            parts.push(format!(
                "attested but not found in the image: {}",
                list(&cmp.only_in_attestation)
            ));
        }
        if !cmp.only_in_image.is_empty() {
            parts.push(format!(
                "in the image but not attested: {}",
                list(&cmp.only_in_image)
            ));
        }
        let mut f = finding(
            "sbom-attestation-disagrees",
            Category::Config,
            Severity::Low,
            "Attested SBOM disagrees with the image's packages",
            format!(
                "the {} SBOM attestation and strata's package inventory differ in {} package(s): {}",
                prov.sbom.as_ref().map_or("", |s| s.format.as_str()),
                cmp.only_in_attestation.len() + cmp.only_in_image.len(),
                parts.join("; ")
            ),
        );
        f.evidence = Some(parts.join("; "));
        f.fix = Some(
            "regenerate the SBOM attestation from the final image (`--sbom=true` at build time)"
                .into(),
        );
        f.why = Some(
            "an SBOM that does not match the image hides packages from vulnerability scans".into(),
        );
        out.push(f);
    }
    out
}

/// The in-toto statement as the user may see it: pretty JSON with every string value passed
/// through the redactor (masked whole when its key looks secret, `build-arg:` stripped for
/// that test) and control characters escaped.
pub fn redacted_statement(raw: &str, redactor: &Redactor) -> String {
    fn walk(v: &mut Value, key: &str, r: &Redactor) {
        match v {
            Value::String(s) => {
                let name = key
                    .strip_prefix("build-arg:")
                    .or_else(|| key.strip_prefix("secret:"))
                    .unwrap_or(key);
                *s = r.label(name, s);
            }
            Value::Array(a) => a.iter_mut().for_each(|x| walk(x, key, r)),
            Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    walk(x, k, r);
                }
            }
            _ => {}
        }
    }
    match serde_json::from_str::<Value>(raw) {
        Ok(mut v) => {
            walk(&mut v, "", redactor);
            serde_json::to_string_pretty(&v).unwrap_or_default()
        }
        Err(_) => redactor.command(raw),
    }
}

/// A build argument as every output shows it: `NAME=value`, the value masked when the name
/// looks secret or the value matches a secret rule.
pub fn redacted_arg(arg: &BuildArg, redactor: &Redactor) -> String {
    redactor.env(&format!("{}={}", arg.name, arg.value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frontends_are_not_base_images() {
        let m = |u: &str| Material {
            uri: u.into(),
            digest: None,
        };
        let ms = vec![
            m("pkg:docker/docker/dockerfile@1?platform=linux%2Famd64"),
            m("https://github.com/org/repo.git"),
            m("pkg:docker/alpine@3.20?platform=linux%2Famd64"),
        ];
        assert_eq!(
            base_of(&ms).map(|b| b.uri),
            Some("pkg:docker/alpine@3.20?platform=linux%2Famd64".into())
        );
    }

    #[test]
    fn comparison_by_name_and_version() {
        let sbom = SbomAttestation {
            format: "spdx".into(),
            packages: vec![
                package(Some("musl"), Some("1.2.5-r0")).unwrap(),
                package(Some("zlib"), None).unwrap(),
                package(Some("ghost"), Some("1")).unwrap(),
            ],
        };
        let pkg = |n: &str, v: &str| Package {
            manager: "apk".into(),
            name: n.into(),
            version: v.into(),
            size_bytes: 0,
            layer: None,
            source: String::new(),
            license: None,
            purl: String::new(),
            base: false,
        };
        let c = compare(
            &sbom,
            &[
                pkg("musl", "1.2.5-r0"),
                pkg("zlib", "1.3"),
                pkg("curl", "8"),
            ],
        )
        .unwrap();
        assert_eq!(
            c.only_in_attestation,
            vec![package(Some("ghost"), Some("1")).unwrap()]
        );
        assert_eq!(
            c.only_in_image,
            vec![package(Some("curl"), Some("8")).unwrap()]
        );
        assert!(compare(&SbomAttestation::default(), &[]).is_none());
    }

    #[test]
    fn cyclonedx_components_nested_files_left_out() {
        let bom: Value = serde_json::json!({
            "bomFormat": "CycloneDX",
            "components": [
                {"type": "library", "name": "openssl", "version": "3.3.1-r0",
                 "components": [{"type": "library", "name": "libcrypto3", "version": "3.3.1-r0"}]},
                {"type": "file", "name": "/etc/passwd"},
                {"type": "library", "name": "", "version": "1"}
            ]
        });
        let s = read_cyclonedx(&bom);
        assert_eq!(s.format, "cyclonedx");
        assert_eq!(
            s.packages,
            vec![
                package(Some("openssl"), Some("3.3.1-r0")).unwrap(),
                package(Some("libcrypto3"), Some("3.3.1-r0")).unwrap(),
            ]
        );
    }

    #[test]
    fn statements_are_redacted_by_key() {
        let raw = r#"{"predicate":{"invocation":{"parameters":{"args":{"build-arg:API_TOKEN":"s3cr3tvalue99","build-arg:VERSION":"1.2"}}}}}"#;
        let out = redacted_statement(raw, &Redactor::default());
        assert!(!out.contains("s3cr3tvalue99"), "{out}");
        assert!(out.contains("\"1.2\""), "{out}");
    }
}
