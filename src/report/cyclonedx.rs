//! CycloneDX 1.6 JSON: the image as `metadata.component`, one component per package (purl,
//! licenses, hashes; manager, source file, layer index and digest as `strata:` properties),
//! the operating system, and the dependency graph where the package format records one.
//! Serde structs of our own (the CycloneDX organisation's crate stops at 1.5); the schema
//! tests in tests/sbom.rs guard them.

use serde::Serialize;

use super::sbom::{license, License, Sbom};

/// Property names (the `aquasecurity:trivy:LayerDigest` style).
pub mod props {
    /// Package manager (`dpkg`, `rpm`, `npm`, …).
    pub const MANAGER: &str = "strata:package:manager";
    /// Absolute path of the file the package was read from.
    pub const SOURCE: &str = "strata:package:source";
    /// Installed size in bytes.
    pub const SIZE: &str = "strata:package:size_bytes";
    /// `true` for a dependency declared by a lock file and not installed.
    pub const DECLARED: &str = "strata:package:declared";
    /// Index (from the bottom) of the layer that added the package.
    pub const LAYER_INDEX: &str = "strata:layer:index";
    /// Digest (diff ID) of that layer.
    pub const LAYER_DIGEST: &str = "strata:layer:digest";
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bom {
    bom_format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata,
    components: Vec<Component>,
    dependencies: Vec<Dependency>,
}

#[derive(Serialize)]
struct Metadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<String>,
    tools: Tools,
    component: Component,
}

#[derive(Serialize)]
struct Tools {
    components: Vec<Component>,
}

#[derive(Serialize, Default)]
struct Component {
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    bom_ref: Option<String>,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hashes: Vec<HashEntry>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<LicenseChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct HashEntry {
    alg: String,
    content: String,
}

#[derive(Serialize)]
#[serde(untagged)]
enum LicenseChoice {
    License { license: LicenseBody },
    Expression { expression: String },
}

#[derive(Serialize)]
struct LicenseBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

#[derive(Serialize)]
struct Property {
    name: String,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    depends_on: Vec<String>,
}

fn prop(name: &str, value: impl Into<String>) -> Property {
    Property {
        name: name.to_owned(),
        value: value.into(),
    }
}

fn licenses(s: Option<&str>) -> Vec<LicenseChoice> {
    let Some(s) = s.filter(|s| !s.trim().is_empty()) else {
        return Vec::new();
    };
    vec![match license(s) {
        License::Id(id) => LicenseChoice::License {
            license: LicenseBody {
                id: Some(id),
                name: None,
            },
        },
        License::Expression(e) => LicenseChoice::Expression { expression: e },
        License::Name(n) => LicenseChoice::License {
            license: LicenseBody {
                id: None,
                name: Some(n),
            },
        },
    }]
}

const IMAGE_REF: &str = "strata:image";

/// Renders the CycloneDX 1.6 JSON document (pretty, trailing newline).
pub fn render(sbom: &Sbom) -> String {
    let image = &sbom.report.image;
    let mut image_props = vec![
        prop("strata:image:id", image.id.clone()),
        prop("strata:image:platform", sbom.platform()),
        prop(
            "strata:image:reference",
            crate::model::sanitize(&image.reference),
        ),
    ];
    for (i, l) in sbom.report.layers.iter().enumerate() {
        image_props.push(prop(&format!("strata:image:layer:{i}"), l.diff_id.clone()));
    }
    for (k, v) in &image.config.labels {
        image_props.push(prop(
            &format!("strata:image:label:{}", crate::model::sanitize(k)),
            crate::model::sanitize(v),
        ));
    }
    for e in &image.config.env {
        image_props.push(prop("strata:image:env", crate::model::sanitize(e)));
    }
    let digest_hex = sbom
        .image_digest()
        .strip_prefix("sha256:")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    let metadata_component = Component {
        bom_ref: Some(IMAGE_REF.to_owned()),
        kind: "container",
        name: sbom.image_name(),
        version: Some(sbom.image_digest().to_owned()),
        hashes: digest_hex
            .map(|h| {
                vec![HashEntry {
                    alg: "SHA-256".to_owned(),
                    content: h.to_owned(),
                }]
            })
            .unwrap_or_default(),
        purl: Some(sbom.image_purl()),
        properties: image_props,
        ..Component::default()
    };
    let items = sbom.items();
    let mut components = Vec::new();
    let mut dependencies = Vec::new();
    if let Some(os) = &sbom.inventory.os {
        components.push(Component {
            bom_ref: Some(format!("strata:os:{}", os.distro())),
            kind: "operating-system",
            name: os.id.clone(),
            version: os.version_id.clone(),
            description: os.pretty_name.clone(),
            ..Component::default()
        });
    }
    for item in &items {
        let p = item.package;
        let mut properties = vec![
            prop(props::MANAGER, p.manager.clone()),
            prop(props::SOURCE, p.source.clone()),
            prop(props::SIZE, p.size_bytes.to_string()),
        ];
        if item.declared {
            properties.push(prop(props::DECLARED, "true"));
        }
        if let Some(l) = p.layer {
            properties.push(prop(props::LAYER_INDEX, l.to_string()));
        }
        if let Some(d) = sbom.layer_digest(p.layer) {
            properties.push(prop(props::LAYER_DIGEST, d));
        }
        let (group, name) = match (p.manager.as_str(), p.purl.strip_prefix("pkg:maven/")) {
            ("java", Some(rest)) if rest.contains('/') => {
                (rest.split('/').next().map(percent_decode), p.name.clone())
            }
            _ => (None, p.name.clone()),
        };
        let application = p.manager == "go"
            && item
                .detail
                .is_some_and(|d| !d.depends.is_empty() && p.name != "stdlib");
        components.push(Component {
            bom_ref: Some(item.reference.clone()),
            kind: if application {
                "application"
            } else {
                "library"
            },
            group,
            name,
            version: Some(p.version.clone()).filter(|v| !v.is_empty()),
            hashes: item
                .detail
                .map(|d| {
                    d.hashes
                        .iter()
                        .map(|h| HashEntry {
                            alg: h.alg.clone(),
                            content: h.hex.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            licenses: licenses(p.license.as_deref()),
            purl: Some(p.purl.clone()),
            properties,
            ..Component::default()
        });
        if let Some(d) = item.detail.filter(|d| !d.depends.is_empty()) {
            let mut depends_on: Vec<String> = d
                .depends
                .iter()
                .map(|&j| items[j].reference.clone())
                .collect();
            depends_on.sort();
            depends_on.dedup();
            dependencies.push(Dependency {
                reference: item.reference.clone(),
                depends_on,
            });
        }
    }
    let bom = Bom {
        bom_format: "CycloneDX",
        spec_version: "1.6",
        serial_number: format!("urn:uuid:{}", sbom.uuid("cyclonedx")),
        version: 1,
        metadata: Metadata {
            timestamp: sbom.created(),
            tools: Tools {
                components: vec![Component {
                    kind: "application",
                    name: "strata".to_owned(),
                    version: Some(env!("CARGO_PKG_VERSION").to_owned()),
                    ..Component::default()
                }],
            },
            component: metadata_component,
        },
        components,
        dependencies,
    };
    serde_json::to_string_pretty(&bom).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}")) + "\n"
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
