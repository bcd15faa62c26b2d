//! Size waste: bytes shipped in a layer but not visible in the final image (overwritten
//! versions, whole-file copies made by a chmod/chown, deleted files and directories), and
//! identical content shipped under several paths. Top offenders first; small ones summed.

use std::collections::HashMap;

use super::context::{finding, human, removal_words, size_severity, Ctx};
use super::efficiency::Efficiency;
use super::finding::{Category, Finding, Severity};
use crate::model::fs::{EntryKind, PathId, RemovalCause, Status, VersionId};

/// One waste item before ranking; the finding text is only built for the items reported.
struct Item<'a> {
    rule: &'static str,
    bytes: u64,
    /// Inherited: the base image itself made this waste.
    base: bool,
    path: PathId,
    build: Box<dyn Fn() -> Finding + 'a>,
}

const WHY_HIDDEN: &str = "Every layer is shipped and stored whole. A file changed or deleted by a later layer stays in the earlier layer's tarball: it costs download, disk and scan time and is invisible in the running container.";

/// Waste findings, largest first; the tail below the configured size is summed.
pub fn findings(ctx: &Ctx, eff: &Efficiency) -> Vec<Finding> {
    let mut items = superseded(ctx, eff);
    items.extend(deleted(ctx));
    items.extend(duplicates(ctx));
    rank(ctx, items)
}

/// Adds a layer to a small sorted set.
fn add(set: &mut Vec<usize>, layer: usize) {
    if let Err(at) = set.binary_search(&layer) {
        set.insert(at, layer);
    }
}

fn superseded<'a>(ctx: &'a Ctx, eff: &Efficiency) -> Vec<Item<'a>> {
    let fs = &ctx.image.fs;
    // (path, rule) -> (bytes, holding layers, superseding layers, identical rewrite)
    type Acc = (u64, Vec<usize>, Vec<usize>, bool);
    let mut acc: Vec<((PathId, &'static str), Acc)> = Vec::new();
    for r in &eff.reclaimable {
        let vs = fs.versions_of(r.path);
        let mut local: [Option<Acc>; 2] = [None, None];
        for (i, &vid) in vs.iter().enumerate() {
            let v = &fs.versions[vid as usize];
            if v.kind != EntryKind::File
                || v.size == 0
                || v.is_visible()
                || v.removal != Some(RemovalCause::Overwritten)
            {
                continue;
            }
            let Some(k) = v.removed_in else { continue };
            let next = vs[i + 1..]
                .iter()
                .map(|&n| &fs.versions[n as usize])
                .find(|n| n.layer == k);
            let (slot, unchanged) = match next.map(|n| n.status) {
                Some(Status::MetadataChanged) => (1, false),
                Some(Status::Unchanged) => (1, true),
                _ => (0, false),
            };
            let e = local[slot].get_or_insert_with(Default::default);
            e.0 += v.size;
            add(&mut e.1, v.layer as usize);
            add(&mut e.2, k as usize);
            e.3 |= unchanged;
        }
        for (slot, a) in local.into_iter().enumerate() {
            if let Some(a) = a {
                let rule = if slot == 1 {
                    "waste-metadata-copy"
                } else {
                    "waste-overwritten"
                };
                acc.push(((r.path, rule), a));
            }
        }
    }
    let mut out = Vec::new();
    for ((pid, rule), (bytes, held, by, unchanged)) in acc {
        let base = by.iter().all(|&l| ctx.base.is_base_layer(l));
        let build = move || {
            let path = ctx.path(pid);
            let held_l: Vec<String> = held.iter().map(ToString::to_string).collect();
            let first_by = by.first().copied().unwrap_or(0);
            let last_by = by.last().copied();
            let (title, message, fix) = if rule == "waste-metadata-copy" {
                let what = if unchanged {
                    "rewrote it with identical content and metadata"
                } else {
                    "changed only its mode or owner"
                };
                (
                format!("Whole file copied for a metadata-only change: {path}"),
                format!(
                    "Layer {first_by} ({}) {what}, so the whole file was copied into that layer; the previous copy ({}) still ships in layer {}.",
                    ctx.cmd(first_by),
                    human(bytes),
                    held_l.join(", ")
                ),
                "Set mode and owner when the file is created: `COPY --chmod=755 --chown=app:app`, or chmod/chown in the same RUN that writes the file.",
            )
            } else {
                (
                format!("Overwritten file still shipped: {path}"),
                format!(
                    "{path} was overwritten in layer {first_by} ({}); {} of older content still ship in layer(s) {} ({}).",
                    ctx.cmd(first_by),
                    human(bytes),
                    held_l.join(", "),
                    ctx.cmd(held.first().copied().unwrap_or(0))
                ),
                "Write the file once, in its final form: generate it in the step that needs it, or build it in an earlier stage and COPY only the result.",
            )
            };
            Finding {
                path: Some(path),
                layer: held.first().copied(),
                removed_in: last_by,
                bytes: Some(bytes),
                evidence: Some(format!(
                    "{bytes} bytes in layer(s) {} superseded by layer(s) {}",
                    held_l.join(", "),
                    by.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                fix: Some(fix.to_owned()),
                why: Some(WHY_HIDDEN.to_owned()),
                ..finding(rule, Category::Waste, size_severity(bytes), title, message)
            }
        };
        out.push(Item {
            rule,
            bytes,
            base,
            path: pid,
            build: Box::new(build),
        });
    }
    out
}

fn deleted<'a>(ctx: &'a Ctx) -> Vec<Item<'a>> {
    let fs = &ctx.image.fs;
    let mut removed_at: HashMap<(PathId, u32), RemovalCause> = HashMap::new();
    for v in &fs.versions {
        if let (Some(k), Some(c)) = (v.removed_in, v.removal) {
            if c != RemovalCause::Overwritten {
                removed_at.insert((v.path, k), c);
            }
        }
    }
    let implicit = |p: PathId| fs.versions_of(p).is_empty();
    let root_of = |path: PathId, k: u32, cause: RemovalCause| -> PathId {
        match cause {
            RemovalCause::Deleted | RemovalCause::Overwritten => path,
            RemovalCause::ParentDeleted => {
                let mut p = fs.parent(path);
                loop {
                    match removed_at.get(&(p, k)) {
                        Some(RemovalCause::Deleted) => return p,
                        Some(RemovalCause::ParentDeleted) => p = fs.parent(p),
                        _ if p != 0 && implicit(p) => p = fs.parent(p),
                        _ => return fs.parent(path),
                    }
                }
            }
            RemovalCause::OpaqueDir | RemovalCause::ParentReplaced => {
                let mut r = path;
                while r != 0 && removed_at.get(&(fs.parent(r), k)) == Some(&cause) {
                    r = fs.parent(r);
                }
                fs.parent(r)
            }
        }
    };
    // (root, layer, opaque?) -> (bytes, files, holding layers)
    type Acc = (u64, u64, Vec<usize>);
    let mut acc: HashMap<(PathId, u32, u8), Acc> = HashMap::new();
    for v in &fs.versions {
        if v.kind != EntryKind::File || v.size == 0 || v.is_visible() {
            continue;
        }
        let (Some(k), Some(cause)) = (v.removed_in, v.removal) else {
            continue;
        };
        if cause == RemovalCause::Overwritten {
            continue;
        }
        let root = root_of(v.path, k, cause);
        let family = match cause {
            RemovalCause::OpaqueDir => 1,
            RemovalCause::ParentReplaced => 2,
            _ => 0,
        };
        let e = acc.entry((root, k, family)).or_default();
        e.0 += v.size;
        e.1 += 1;
        add(&mut e.2, v.layer as usize);
    }
    let mut out = Vec::new();
    for ((root, k, family), (bytes, files, held)) in acc {
        let base = ctx.base.is_base_layer(k as usize);
        let build = move || {
            let k = k as usize;
            let cause = match family {
                1 => RemovalCause::OpaqueDir,
                2 => RemovalCause::ParentReplaced,
                _ => RemovalCause::Deleted,
            };
            let path = ctx.path(root);
            let held_l: Vec<String> = held.iter().map(ToString::to_string).collect();
            let first = held.first().copied().unwrap_or(0);
            let what = match cause {
                RemovalCause::OpaqueDir => {
                    format!("{path} was emptied (opaque directory) in layer {k}")
                }
                RemovalCause::ParentReplaced => {
                    format!("{path} was replaced by a non-directory in layer {k}")
                }
                c => removal_words(c, k).replacen("deleted", &format!("{path} was deleted"), 1),
            };
            let files_txt = if files == 1 {
                "1 file".to_owned()
            } else {
                format!("{files} files")
            };
            Finding {
                path: Some(path.clone()),
                layer: Some(first),
                removed_in: Some(k),
                bytes: Some(bytes),
                evidence: Some(format!(
                    "{files_txt}, {bytes} bytes in layer(s) {}, removed by layer {k}",
                    held_l.join(", ")
                )),
                fix: Some("Delete files in the same RUN that creates them (`RUN download && use && rm`), or build in a separate stage and COPY only what the final image needs.".to_owned()),
                why: Some(WHY_HIDDEN.to_owned()),
                ..finding(
                    "waste-deleted",
                    Category::Waste,
                    size_severity(bytes),
                    format!("Deleted but still shipped: {path}"),
                    format!(
                        "{what} ({}), but its {files_txt} ({}) still ship in layer(s) {} ({}).",
                        ctx.cmd(k),
                        human(bytes),
                        held_l.join(", "),
                        ctx.cmd(first)
                    ),
                )
            }
        };
        out.push(Item {
            rule: "waste-deleted",
            bytes,
            base,
            path: root,
            build: Box::new(build),
        });
    }
    out
}

fn duplicates<'a>(ctx: &'a Ctx) -> Vec<Item<'a>> {
    let fs = &ctx.image.fs;
    let min = ctx.cfg.options.duplicate_min_bytes.max(1);
    let mut groups: HashMap<(u64, u64), Vec<VersionId>> = HashMap::new();
    for (vid, v) in fs.versions.iter().enumerate() {
        if v.kind == EntryKind::File
            && v.removed_in.is_none()
            && v.size >= min
            && !super::bloat::is_documentation(ctx, v.path)
        {
            groups
                .entry((v.hash, v.size))
                .or_default()
                .push(vid as VersionId);
        }
    }
    let mut out = Vec::new();
    for ((_, size), mut vids) in groups {
        if vids.len() < 2 {
            continue;
        }
        vids.sort_by(|a, b| {
            let (va, vb) = (&fs.versions[*a as usize], &fs.versions[*b as usize]);
            (va.layer, fs.path(va.path)).cmp(&(vb.layer, fs.path(vb.path)))
        });
        let copies = vids.len() as u64;
        let bytes = (copies - 1) * size;
        let first_path = fs.versions[vids[0] as usize].path;
        let base = ctx
            .base
            .is_base_layer(fs.versions[vids[vids.len() - 1] as usize].layer as usize);
        let build = move || {
            let listed: Vec<String> = vids
                .iter()
                .take(6)
                .map(|&v| {
                    let ver = &fs.versions[v as usize];
                    format!("{} (layer {})", ctx.path(ver.path), ver.layer)
                })
                .collect();
            let more = if vids.len() > 6 {
                format!(" and {} more", vids.len() - 6)
            } else {
                String::new()
            };
            let first = &fs.versions[vids[0] as usize];
            let last = &fs.versions[vids[vids.len() - 1] as usize];
            Finding {
                path: Some(ctx.path(first.path)),
                layer: Some(last.layer as usize),
                bytes: Some(bytes),
                evidence: Some(format!("{}{more}", listed.join(", "))),
                fix: Some("Keep one copy and point the others at it (a symlink or a hard link made in the same layer), or stop copying the same file twice.".to_owned()),
                why: Some("Identical content under several paths is stored once per path in the layers; every extra copy is pure size.".to_owned()),
                ..finding(
                    "waste-duplicate",
                    Category::Waste,
                    size_severity(bytes),
                    format!("{copies} identical copies of {} ({} each)", ctx.path(first.path), human(size)),
                    format!(
                        "The same {}-byte content is shipped {copies} times: {}{more}; {} could be saved (last copy added in layer {} by {}).",
                        size,
                        listed.join(", "),
                        human(bytes),
                        last.layer,
                        ctx.cmd(last.layer as usize)
                    ),
                )
            }
        };
        out.push(Item {
            rule: "waste-duplicate",
            bytes,
            base,
            path: first_path,
            build: Box::new(build),
        });
    }
    out
}

fn rank(ctx: &Ctx, mut items: Vec<Item>) -> Vec<Finding> {
    let o = &ctx.cfg.options;
    let fs = &ctx.image.fs;
    items.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then_with(|| fs.path(a.path).cmp(fs.path(b.path)))
            .then_with(|| a.rule.cmp(b.rule))
    });
    let mut per_rule: HashMap<&str, usize> = HashMap::new();
    let mut out = Vec::new();
    // (count, bytes) of the small items this image made and of those it inherited.
    let mut small = [(0u64, 0u64); 2];
    for it in items {
        let n = per_rule.entry(it.rule).or_default();
        if it.bytes >= o.waste_min_bytes && *n < o.waste_max_items {
            *n += 1;
            out.push((it.build)());
        } else {
            let s = &mut small[usize::from(it.base)];
            s.0 += 1;
            s.1 += it.bytes;
        }
    }
    for (base, (small_n, small_bytes)) in [false, true].into_iter().zip(small) {
        if small_n == 0 {
            continue;
        }
        out.push(Finding {
            bytes: Some(small_bytes),
            base,
            why: Some(WHY_HIDDEN.to_owned()),
            fix: Some("See the larger waste findings: the same habits cause these.".to_owned()),
            ..finding(
                "waste-small",
                Category::Waste,
                size_severity(small_bytes).min(Severity::Low),
                format!("{small_n} smaller waste items"),
                format!(
                    "{small_n} more overwritten, deleted or duplicated items below the reporting threshold hold {} in all.",
                    human(small_bytes)
                ),
            )
        });
    }
    out
}
