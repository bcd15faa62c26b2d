//! SPDX 2.3 JSON: the image as the described package, one package per installed package
//! with its purl as an external reference, `CONTAINS` relationships from the image and
//! `DEPENDS_ON` where the package format records dependencies. Masked image labels and
//! environment go in annotations of the image package.

use serde::Serialize;

use super::sbom::{license, License, Sbom};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo,
    document_describes: Vec<String>,
    packages: Vec<Package>,
    relationships: Vec<Relationship>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreationInfo {
    created: String,
    creators: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Package {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    download_location: &'static str,
    files_analyzed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<Checksum>,
    license_concluded: &'static str,
    license_declared: String,
    copyright_text: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_info: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    primary_package_purpose: Option<&'static str>,
    external_refs: Vec<ExternalRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    annotations: Vec<Annotation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Checksum {
    algorithm: String,
    checksum_value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Annotation {
    annotation_date: String,
    annotation_type: &'static str,
    annotator: String,
    comment: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
}

/// `SPDXRef-` ids allow letters, digits, `.` and `-`.
fn spdx_id(parts: &[&str]) -> String {
    let mut out = String::from("SPDXRef");
    for p in parts {
        out.push('-');
        out.extend(p.chars().map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '-'
            }
        }));
    }
    out
}

/// The declared license as an SPDX expression, or `NOASSERTION` when it is not one.
fn declared(s: Option<&str>) -> String {
    match s.map(license) {
        Some(License::Id(id)) => id,
        Some(License::Expression(e)) => e,
        _ => "NOASSERTION".to_owned(),
    }
}

fn checksum_alg(cyclonedx: &str) -> String {
    cyclonedx.replace('-', "")
}

/// Renders the SPDX 2.3 JSON document (pretty, trailing newline).
pub fn render(sbom: &Sbom) -> String {
    let image = &sbom.report.image;
    let created = sbom
        .created()
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned());
    let tool = format!("Tool: strata-{}", env!("CARGO_PKG_VERSION"));
    let name = sbom.image_name();
    let image_id = "SPDXRef-Image".to_owned();
    let annotate = |comment: String| Annotation {
        annotation_date: created.clone(),
        annotation_type: "OTHER",
        annotator: tool.clone(),
        comment,
    };
    let mut annotations = vec![annotate(format!("platform: {}", sbom.platform()))];
    for (i, l) in sbom.report.layers.iter().enumerate() {
        annotations.push(annotate(format!("layer {i}: {}", l.diff_id)));
    }
    for (k, v) in &image.config.labels {
        annotations.push(annotate(format!(
            "label: {}={}",
            crate::model::sanitize(k),
            crate::model::sanitize(v)
        )));
    }
    for e in &image.config.env {
        annotations.push(annotate(format!("env: {}", crate::model::sanitize(e))));
    }
    let digest_hex = sbom
        .image_digest()
        .strip_prefix("sha256:")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    let mut packages = vec![Package {
        spdx_id: image_id.clone(),
        name: name.clone(),
        version_info: Some(sbom.image_digest().to_owned()),
        download_location: "NOASSERTION",
        files_analyzed: false,
        checksums: digest_hex
            .map(|h| {
                vec![Checksum {
                    algorithm: "SHA256".to_owned(),
                    checksum_value: h.to_owned(),
                }]
            })
            .unwrap_or_default(),
        license_concluded: "NOASSERTION",
        license_declared: "NOASSERTION".to_owned(),
        copyright_text: "NOASSERTION",
        source_info: None,
        primary_package_purpose: Some("CONTAINER"),
        external_refs: vec![ExternalRef {
            reference_category: "PACKAGE-MANAGER",
            reference_type: "purl",
            reference_locator: sbom.image_purl(),
        }],
        annotations,
    }];
    let mut relationships = vec![Relationship {
        spdx_element_id: "SPDXRef-DOCUMENT".to_owned(),
        relationship_type: "DESCRIBES",
        related_spdx_element: image_id.clone(),
    }];
    let items = sbom.items();
    if let Some(os) = &sbom.inventory.os {
        let id = spdx_id(&["OperatingSystem", &os.id]);
        packages.push(Package {
            spdx_id: id.clone(),
            name: os.id.clone(),
            version_info: os.version_id.clone(),
            download_location: "NOASSERTION",
            files_analyzed: false,
            checksums: Vec::new(),
            license_concluded: "NOASSERTION",
            license_declared: "NOASSERTION".to_owned(),
            copyright_text: "NOASSERTION",
            source_info: Some("acquired from /etc/os-release".to_owned()),
            primary_package_purpose: Some("OPERATING_SYSTEM"),
            external_refs: Vec::new(),
            annotations: Vec::new(),
        });
        relationships.push(Relationship {
            spdx_element_id: image_id.clone(),
            relationship_type: "CONTAINS",
            related_spdx_element: id,
        });
    }
    let ids: Vec<String> = items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            spdx_id(&[
                "Package",
                &it.package.manager,
                &it.package.name,
                &i.to_string(),
            ])
        })
        .collect();
    for (i, item) in items.iter().enumerate() {
        let p = item.package;
        let layer = match (p.layer, sbom.layer_digest(p.layer)) {
            (Some(l), Some(d)) => format!(", layer {l} ({d})"),
            (Some(l), None) => format!(", layer {l}"),
            _ => String::new(),
        };
        let what = if item.declared {
            "declared (not installed) in"
        } else {
            "read from"
        };
        packages.push(Package {
            spdx_id: ids[i].clone(),
            name: p.name.clone(),
            version_info: Some(p.version.clone()).filter(|v| !v.is_empty()),
            download_location: "NOASSERTION",
            files_analyzed: false,
            checksums: item
                .detail
                .map(|d| {
                    d.hashes
                        .iter()
                        .map(|h| Checksum {
                            algorithm: checksum_alg(&h.alg),
                            checksum_value: h.hex.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            license_concluded: "NOASSERTION",
            license_declared: declared(p.license.as_deref()),
            copyright_text: "NOASSERTION",
            source_info: Some(format!("{} package {what} {}{layer}", p.manager, p.source)),
            primary_package_purpose: Some(
                if p.manager == "go" && item.detail.is_some_and(|d| !d.depends.is_empty()) {
                    "APPLICATION"
                } else {
                    "LIBRARY"
                },
            ),
            external_refs: vec![ExternalRef {
                reference_category: "PACKAGE-MANAGER",
                reference_type: "purl",
                reference_locator: p.purl.clone(),
            }],
            annotations: Vec::new(),
        });
        relationships.push(Relationship {
            spdx_element_id: image_id.clone(),
            relationship_type: "CONTAINS",
            related_spdx_element: ids[i].clone(),
        });
    }
    for (i, item) in items.iter().enumerate() {
        if let Some(d) = item.detail {
            for &j in &d.depends {
                relationships.push(Relationship {
                    spdx_element_id: ids[i].clone(),
                    relationship_type: "DEPENDS_ON",
                    related_spdx_element: ids[j].clone(),
                });
            }
        }
    }
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let doc = Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        name,
        document_namespace: format!("https://strata.invalid/spdx/{slug}-{}", sbom.uuid("spdx")),
        creation_info: CreationInfo {
            created,
            creators: vec![tool],
        },
        document_describes: vec![image_id],
        packages,
        relationships,
    };
    serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}")) + "\n"
}
