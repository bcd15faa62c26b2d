//! What inspect and history say about an image: the config and a history mapped onto the
//! layers, known before the export starts.

use super::*;

/// What inspect and history say about an image, fetched before the export.
#[derive(Debug, Clone)]
pub struct DaemonMetadata {
    /// The resolved image id.
    pub id: String,
    /// Tags.
    pub repo_tags: Vec<String>,
    /// Registry digests.
    pub repo_digests: Vec<String>,
    inspect: ImageInspect,
    history: Vec<ImageHistoryResponseItem>,
}

impl DaemonMetadata {
    /// The image's layer diff_ids, bottom first, as inspect lists them.
    pub fn diff_ids(&self) -> Vec<String> {
        self.inspect
            .root_fs
            .as_ref()
            .and_then(|r| r.layers.clone())
            .unwrap_or_default()
    }
}

pub(super) async fn fetch_metadata(conn: &Conn, reference: &str) -> Result<DaemonMetadata> {
    let inspect = conn
        .docker
        .inspect_image(reference)
        .await
        .map_err(|e| map_error(&conn.ep, Some(reference), &e))?;
    let id = inspect
        .id
        .clone()
        .filter(|i| !i.is_empty())
        .ok_or_else(|| {
            Error::Daemon(format!(
                "{reference}: the Docker daemon at {} returned no image id",
                conn.ep.describe()
            ))
        })?;
    let history = conn
        .docker
        .image_history(&id)
        .await
        .map_err(|e| map_error(&conn.ep, Some(reference), &e))?;
    Ok(DaemonMetadata {
        repo_tags: inspect.repo_tags.clone().unwrap_or_default(),
        repo_digests: inspect.repo_digests.clone().unwrap_or_default(),
        id,
        inspect,
        history,
    })
}

/// BuildKit history steps that never make a layer.
const BUILDKIT_EMPTY: [&str; 13] = [
    "ENV ",
    "LABEL ",
    "CMD ",
    "ENTRYPOINT ",
    "EXPOSE ",
    "USER ",
    "ARG ",
    "VOLUME ",
    "STOPSIGNAL ",
    "HEALTHCHECK ",
    "SHELL ",
    "ONBUILD ",
    "MAINTAINER ",
];

/// Guesses whether an API history step made no layer (the API has no `EmptyLayer`).
pub(super) fn looks_empty(created_by: &str) -> bool {
    if let Some(i) = created_by.find("#(nop)") {
        let rest = created_by[i + 6..].trim_start();
        return !(rest.starts_with("COPY")
            || rest.starts_with("ADD")
            || rest.starts_with("WORKDIR"));
    }
    BUILDKIT_EMPTY.iter().any(|p| created_by.starts_with(p))
}

/// Maps API history (newest first) onto `layers` layers, oldest first, by the heuristic of
/// formats.md §8. Returns the entries and each one's API size.
pub(super) fn infer_history(
    items: &[ImageHistoryResponseItem],
    layers: usize,
) -> Vec<(HistoryEntry, i64)> {
    let mut out: Vec<(HistoryEntry, i64)> = items
        .iter()
        .rev()
        .map(|h| {
            let created = jiff::Timestamp::from_second(h.created)
                .ok()
                .filter(|_| h.created > 0)
                .map(|t| t.to_string());
            (
                HistoryEntry {
                    created_by: h.created_by.clone(),
                    created,
                    comment: Some(h.comment.clone()).filter(|c| !c.is_empty()),
                    author: None,
                    empty_layer: looks_empty(&h.created_by),
                    layer: None,
                },
                h.size,
            )
        })
        .collect();
    let mut surplus = out.iter().filter(|(h, _)| !h.empty_layer).count();
    // Too many candidates: zero-size WORKDIR steps first, then other zero-size steps
    // (newest first) are the likeliest to have made no layer.
    for pass in 0..2 {
        for (h, size) in out.iter_mut().rev() {
            if surplus <= layers {
                break;
            }
            let workdir = h.created_by.contains("WORKDIR");
            if !h.empty_layer && *size == 0 && (pass == 1 || workdir) {
                h.empty_layer = true;
                surplus -= 1;
            }
        }
    }
    let mut li = 0;
    for (h, _) in &mut out {
        if h.empty_layer {
            continue;
        }
        if li < layers {
            h.layer = Some(li);
            li += 1;
        } else {
            h.empty_layer = true;
        }
    }
    out
}

pub(super) fn config_of(c: Option<&bollard::models::ImageConfig>) -> ImageConfig {
    let Some(c) = c else {
        return ImageConfig::default();
    };
    let mut exposed_ports = c.exposed_ports.clone().unwrap_or_default();
    exposed_ports.sort();
    let mut volumes = c.volumes.clone().unwrap_or_default();
    volumes.sort();
    ImageConfig {
        user: c.user.clone(),
        env: c.env.clone().unwrap_or_default(),
        cmd: c.cmd.clone(),
        entrypoint: c.entrypoint.clone(),
        exposed_ports,
        labels: c.labels.clone().unwrap_or_default().into_iter().collect(),
        healthcheck: c.healthcheck.as_ref().and_then(|h| h.test.clone()),
        workdir: c.working_dir.clone().filter(|w| !w.is_empty()),
        volumes,
        stop_signal: c.stop_signal.clone(),
    }
}

/// The image as inspect and history describe it: config, tags, layers (diff_ids and the
/// daemon's per-layer sizes) and history mapped onto layers by a heuristic. No filesystem.
pub fn preview(reference: &str, meta: &DaemonMetadata) -> Image {
    let i = &meta.inspect;
    let diff_ids = i
        .root_fs
        .as_ref()
        .and_then(|r| r.layers.clone())
        .unwrap_or_default();
    let mapped = infer_history(&meta.history, diff_ids.len());
    let mut layers: Vec<Layer> = diff_ids
        .iter()
        .enumerate()
        .map(|(index, d)| Layer {
            index,
            diff_id: d.clone(),
            ..Layer::default()
        })
        .collect();
    for (hi, (h, size)) in mapped.iter().enumerate() {
        if let Some(l) = h.layer.and_then(|li| layers.get_mut(li)) {
            l.created_by.clone_from(&h.created_by);
            l.history_index = Some(hi);
            l.size_bytes = u64::try_from(*size).unwrap_or(0);
        }
    }
    Image {
        reference: reference.to_owned(),
        id: meta.id.clone(),
        repo_tags: meta.repo_tags.clone(),
        repo_digests: meta.repo_digests.clone(),
        manifest_digest: None,
        os: i.os.clone().unwrap_or_default(),
        architecture: i.architecture.clone().unwrap_or_default(),
        variant: i.variant.clone().filter(|v| !v.is_empty()),
        created: i.created.as_ref().map(ToString::to_string),
        config: config_of(i.config.as_ref()),
        history: mapped.into_iter().map(|(h, _)| h).collect(),
        layers,
        fs: crate::model::FileSystem::default(),
        warnings: vec![
            "layer list from the daemon's inspect and history: the history-to-layer mapping and \
             layer sizes are inferred until the export is read"
                .into(),
        ],
        origin: Origin::Daemon(meta.id.clone()),
        content_matches: Vec::new(),
        captured: std::collections::HashMap::new(),
        known_base: None,
        provenance: Default::default(),
        referrers: None,
        documents: Default::default(),
    }
}

/// The base image named by the `org.opencontainers.image.base.name` (or `.digest`) label, when
/// the daemon has it: its layers and history length, for `analysis::base`.
pub(super) fn known_base(
    ep: super::Endpoint,
    labels: &std::collections::BTreeMap<String, String>,
) -> Option<crate::model::KnownBase> {
    use crate::model::{BASE_DIGEST_LABEL, BASE_NAME_LABEL};
    let name = labels.get(BASE_NAME_LABEL).map(|s| s.trim().to_owned());
    let digest = labels.get(BASE_DIGEST_LABEL).map(|s| s.trim().to_owned());
    let mut refs: Vec<String> = Vec::new();
    if let Some(n) = name.as_ref().filter(|n| !n.is_empty()) {
        refs.push(n.clone());
        if let Some(d) = digest.as_ref().filter(|d| d.starts_with("sha256:")) {
            let repo = n.split('@').next().unwrap_or(n);
            let repo = match repo.rsplit_once(':') {
                Some((r, tag)) if !tag.contains('/') => r,
                _ => repo,
            };
            refs.push(format!("{repo}@{d}"));
        }
    }
    if refs.iter().any(|r| super::check_reference(r).is_err()) {
        return None;
    }
    super::block_on(async move {
        let conn = super::connect(ep).await.ok()?;
        for r in refs {
            if let Ok(meta) = fetch_metadata(&conn, &r).await {
                let diff_ids = meta
                    .inspect
                    .root_fs
                    .as_ref()
                    .and_then(|f| f.layers.clone())
                    .unwrap_or_default();
                return Some(crate::model::KnownBase {
                    found: format!("{r} (from the daemon)"),
                    diff_ids,
                    history: meta.history.len(),
                });
            }
        }
        None
    })
    .ok()
    .flatten()
}

/// Inspects `reference` on the daemon (never pulls) and returns what inspect and history say.
pub fn metadata(reference: &str) -> Result<DaemonMetadata> {
    check_reference(reference)?;
    let ep = endpoint()?;
    let r = reference.to_owned();
    block_on(async move {
        let conn = connect(ep).await?;
        fetch_metadata(&conn, &r).await
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(created_by: &str, size: i64) -> ImageHistoryResponseItem {
        ImageHistoryResponseItem {
            id: "<missing>".into(),
            created: 1_700_000_000,
            created_by: created_by.into(),
            tags: Vec::new(),
            size,
            comment: String::new(),
        }
    }

    #[test]
    fn history_heuristic_maps_classic_and_buildkit_steps() {
        // Newest first, as the API returns it.
        let items = vec![
            item("/bin/sh -c #(nop)  LABEL a=b", 0),
            item("RUN /bin/sh -c echo hi > /x # buildkit", 3),
            item("ENV A=1", 0),
            item("/bin/sh -c rm /data/a", 0),
            item("/bin/sh -c #(nop) COPY file:abc in /data/a", 10),
            item("/bin/sh -c #(nop)  ENV PATH=/bin", 0),
            item("", 100),
        ];
        let h = infer_history(&items, 4);
        let layers: Vec<Option<usize>> = h.iter().map(|(e, _)| e.layer).collect();
        assert_eq!(
            layers,
            vec![Some(0), None, Some(1), Some(2), None, Some(3), None]
        );
        assert_eq!(h[0].0.created.as_deref(), Some("2023-11-14T22:13:20Z"));
    }

    #[test]
    fn history_heuristic_drops_zero_size_steps_when_too_many() {
        let items = vec![
            item("/bin/sh -c true", 0),
            item("/bin/sh -c #(nop) WORKDIR /app", 0),
            item("", 100),
        ];
        let h = infer_history(&items, 1);
        assert!(h[1].0.empty_layer && h[2].0.empty_layer);
        assert_eq!(h[0].0.layer, Some(0));
        let h = infer_history(&items, 2);
        assert_eq!(h[1].0.layer, None, "zero-size WORKDIR goes first");
        assert_eq!(h[2].0.layer, Some(1));
    }
}
