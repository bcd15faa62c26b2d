//! Every renderer of the engine's results: the report document as JSON (the
//! `strata.report/v1.1` contract documented in `docs/report-schema.md`) and readable text, SARIF,
//! markdown, the CI summary (text and `strata.ci/v1` JSON) and the `strata images` table.
//! Everything goes through the analysed image's [`crate::redact::Redactor`].

pub mod ci;
pub mod cyclonedx;
pub mod diff_json;
pub mod diff_markdown;
pub mod diff_text;
#[cfg(feature = "daemon")]
pub mod images;
pub mod markdown;
pub mod sarif;
pub mod sbom;
pub mod spdx;
pub mod text;

use serde::Serialize;

use crate::analysis::finding::{Finding, Package};
use crate::analysis::pipeline::Analysed;
use crate::model::{path, sanitize};

/// Schema identifier of the JSON report (v1.1 adds `base` and the `base` flags; every v1
/// field keeps its name and meaning).
pub const SCHEMA: &str = "strata.report/v1.1";
/// How many reclaimable paths the report lists.
pub const TOP_RECLAIMABLE: usize = 20;

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// The image and its configuration.
    pub image: ImageSection,
    /// Where the base image ends and which rule found it.
    pub base: crate::analysis::base::BaseBoundary,
    /// Every history step, oldest first.
    pub history: Vec<HistorySection>,
    /// Every layer, bottom first.
    pub layers: Vec<LayerSection>,
    /// Size accounting.
    pub efficiency: EfficiencySection,
    /// Findings (secrets, waste, bloat, config), worst first; evidence is redacted.
    pub findings: Vec<Finding>,
    /// Installed packages read from the package databases of the final image.
    pub packages: Vec<Package>,
    /// Signatures found next to the image in its registry and what checking them showed
    /// (empty for inputs with no registry to ask).
    pub signatures: Vec<crate::model::signature::Signature>,
    /// Non-fatal problems met while reading.
    pub warnings: Vec<String>,
}

/// `image` in the report.
#[derive(Debug, Clone, Serialize)]
pub struct ImageSection {
    /// What was analysed.
    pub reference: String,
    /// `sha256:` digest of the config.
    pub id: String,
    /// Tags.
    pub repo_tags: Vec<String>,
    /// Registry digests.
    pub repo_digests: Vec<String>,
    /// Digest of the manifest, when known.
    pub manifest_digest: Option<String>,
    /// OS.
    pub os: String,
    /// Architecture.
    pub architecture: String,
    /// Variant.
    pub variant: Option<String>,
    /// Creation time.
    pub created: Option<String>,
    /// Sum of layer sizes.
    pub size_bytes: u64,
    /// Runtime configuration.
    pub config: ConfigSection,
}

/// `image.config` in the report.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigSection {
    /// `User` (null when unset, meaning root).
    pub user: Option<String>,
    /// `Env`, values of secret-looking names masked.
    pub env: Vec<String>,
    /// `Cmd`.
    pub cmd: Option<Vec<String>>,
    /// `Entrypoint`.
    pub entrypoint: Option<Vec<String>>,
    /// `ExposedPorts`.
    pub exposed_ports: Vec<String>,
    /// `Labels`.
    pub labels: std::collections::BTreeMap<String, String>,
    /// `Healthcheck.Test`.
    pub healthcheck: Option<Vec<String>>,
    /// `WorkingDir`.
    pub workdir: Option<String>,
    /// `Volumes`.
    pub volumes: Vec<String>,
}

/// One entry of `history`.
#[derive(Debug, Clone, Serialize)]
pub struct HistorySection {
    /// The build step.
    pub created_by: String,
    /// When.
    pub created: Option<String>,
    /// Comment.
    pub comment: Option<String>,
    /// No layer produced.
    pub empty_layer: bool,
    /// Index of the produced layer.
    pub layer: Option<usize>,
    /// The step belongs to the base image.
    pub base: bool,
}

/// One entry of `layers`.
#[derive(Debug, Clone, Serialize)]
pub struct LayerSection {
    /// Position from the bottom.
    pub index: usize,
    /// Digest of the uncompressed tar.
    pub diff_id: String,
    /// Digest of the stored blob.
    pub blob_digest: String,
    /// `none`, `gzip` or `zstd`.
    pub compression: crate::model::Compression,
    /// Bytes of regular files.
    pub size_bytes: u64,
    /// Bytes of the uncompressed tar.
    pub tar_bytes: u64,
    /// Bytes of the stored blob.
    pub blob_bytes: u64,
    /// Tar entries.
    pub entries: usize,
    /// New non-directory paths.
    pub files_added: usize,
    /// Changed non-directory paths (content or metadata).
    pub files_modified: usize,
    /// Identically rewritten non-directory paths.
    pub files_unchanged: usize,
    /// Removed non-directory paths.
    pub files_removed: usize,
    /// Bytes of lower files removed or superseded by this layer.
    pub bytes_superseded: u64,
    /// History step that made the layer.
    pub created_by: String,
    /// The layer belongs to the base image.
    pub base: bool,
}

/// `efficiency` in the report.
#[derive(Debug, Clone, Serialize)]
pub struct EfficiencySection {
    /// Bytes of regular files over all layers.
    pub total_bytes: u64,
    /// Bytes visible in the final filesystem.
    pub visible_bytes: u64,
    /// `total_bytes - visible_bytes`.
    pub reclaimable_bytes: u64,
    /// `visible_bytes / total_bytes`.
    pub score: f64,
    /// The largest reclaimable paths.
    pub top_reclaimable: Vec<ReclaimableSection>,
}

/// One entry of `efficiency.top_reclaimable`.
#[derive(Debug, Clone, Serialize)]
pub struct ReclaimableSection {
    /// Absolute path in the image.
    pub path: String,
    /// Reclaimable bytes at that path.
    pub bytes: u64,
    /// Layers holding the invisible versions.
    pub layers: Vec<usize>,
    /// Layers that removed or superseded each of them.
    pub removed_in: Vec<usize>,
    /// Inherited: the base image itself removed or superseded every one of them.
    pub base: bool,
}

impl Report {
    /// Builds the report of an analysed image. ENV, labels, history steps and layer commands
    /// go through the image's configured redactor.
    pub fn build(analysed: &Analysed) -> Self {
        let image = &*analysed.image;
        let eff = &analysed.efficiency;
        let redact = &analysed.redactor;
        let c = &image.config;
        let base = crate::analysis::base::BaseBoundary::detect(image);
        Self {
            schema: SCHEMA,
            image: ImageSection {
                reference: image.reference.clone(),
                id: image.id.clone(),
                repo_tags: image.repo_tags.clone(),
                repo_digests: image.repo_digests.clone(),
                manifest_digest: image.manifest_digest.clone(),
                os: image.os.clone(),
                architecture: image.architecture.clone(),
                variant: image.variant.clone(),
                created: image.created.clone(),
                size_bytes: image.total_bytes(),
                config: ConfigSection {
                    user: c.user.clone(),
                    env: c.env.iter().map(|e| redact.env(e)).collect(),
                    cmd: c.cmd.clone(),
                    entrypoint: c.entrypoint.clone(),
                    exposed_ports: c.exposed_ports.clone(),
                    labels: c
                        .labels
                        .iter()
                        .map(|(k, v)| (k.clone(), redact.label(k, v)))
                        .collect(),
                    healthcheck: c.healthcheck.clone(),
                    workdir: c.workdir.clone(),
                    volumes: c.volumes.clone(),
                },
            },
            history: image
                .history
                .iter()
                .enumerate()
                .map(|(i, h)| HistorySection {
                    created_by: redact.command(&h.created_by),
                    created: h.created.clone(),
                    comment: h.comment.clone(),
                    empty_layer: h.empty_layer,
                    layer: h.layer,
                    base: base.is_base_history(i),
                })
                .collect(),
            layers: image
                .layers
                .iter()
                .map(|l| LayerSection {
                    index: l.index,
                    diff_id: l.diff_id.clone(),
                    blob_digest: l.blob_digest.clone(),
                    compression: l.compression,
                    size_bytes: l.size_bytes,
                    tar_bytes: l.tar_bytes,
                    blob_bytes: l.blob_bytes,
                    entries: l.entries,
                    files_added: l.files_added,
                    files_modified: l.files_modified,
                    files_unchanged: l.files_unchanged,
                    files_removed: l.files_removed,
                    bytes_superseded: l.bytes_superseded,
                    created_by: redact.command(&l.created_by),
                    base: base.is_base_layer(l.index),
                })
                .collect(),
            efficiency: EfficiencySection {
                total_bytes: eff.total_bytes,
                visible_bytes: eff.visible_bytes,
                reclaimable_bytes: eff.reclaimable_bytes,
                score: eff.score,
                top_reclaimable: eff
                    .reclaimable
                    .iter()
                    .take(TOP_RECLAIMABLE)
                    .map(|r| ReclaimableSection {
                        path: path::display(image.fs.path(r.path)),
                        bytes: r.bytes,
                        layers: r.layers.clone(),
                        removed_in: r.removed_in.clone(),
                        base: r.removed_in.iter().all(|&l| base.is_base_layer(l)),
                    })
                    .collect(),
            },
            base,
            findings: analysed.findings.clone(),
            packages: analysed.packages.clone(),
            signatures: image.signatures.clone(),
            warnings: image.warnings.iter().map(|w| sanitize(w)).collect(),
        }
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}
