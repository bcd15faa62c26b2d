//! Adoption checks: the checklist a team runs before adopting an image, each explained for a
//! learner (user, healthcheck, tag pinning, build hygiene in the history, file modes, ports,
//! sudo, provenance labels, volumes, age).

use std::sync::LazyLock;

use regex::Regex;

use super::context::{finding, Ctx};
use super::finding::{Category, Finding, Severity};
use super::packages::Inventory;
use crate::model::fs::EntryKind;
use crate::model::Origin;
use crate::redact::redact_with;

/// Adoption-check findings.
pub fn findings(ctx: &Ctx, inv: &Inventory) -> Vec<Finding> {
    let mut out = Vec::new();
    out.extend(root_user(ctx));
    out.extend(healthcheck(ctx));
    out.extend(mutable_tag(ctx));
    out.extend(history_checks(ctx));
    out.extend(file_modes(ctx));
    out.extend(ports(ctx));
    out.extend(sudo(ctx, inv));
    out.extend(labels(ctx));
    out.extend(volumes(ctx));
    out.extend(age(ctx));
    out
}

/// True when a `User` value means root.
pub fn is_root_user(user: Option<&str>) -> bool {
    let u = user.unwrap_or("").trim();
    let name = u.split(':').next().unwrap_or("");
    u.is_empty() || name == "root" || name == "0"
}

fn root_user(ctx: &Ctx) -> Option<Finding> {
    let user = ctx.image.config.user.as_deref();
    if !is_root_user(user) {
        return None;
    }
    let shown = match user.map(str::trim) {
        None | Some("") => {
            "No USER is set in the image config, so processes run as root".to_owned()
        }
        Some(u) => format!(
            "The image config sets USER `{}`, which is root",
            crate::model::sanitize(u)
        ),
    };
    Some(Finding {
        evidence: Some(format!("User={:?}", user.unwrap_or(""))),
        fix: Some("Create an unprivileged user and switch to it: `RUN useradd -r -u 10001 app` then `USER 10001` (a numeric id also satisfies `runAsNonRoot` in Kubernetes).".to_owned()),
        why: Some("A process running as root inside the container is root on the host's kernel: a container escape or a writable host mount then gives full control of the host.".to_owned()),
        ..finding(
            "config-root-user",
            Category::Config,
            Severity::Medium,
            "Runs as root",
            format!("{shown}."),
        )
    })
}

fn healthcheck(ctx: &Ctx) -> Option<Finding> {
    let hc = ctx.image.config.healthcheck.as_ref();
    let disabled = hc.is_some_and(|t| t.first().map(String::as_str) == Some("NONE"));
    if hc.is_some_and(|t| !t.is_empty()) && !disabled {
        return None;
    }
    Some(Finding {
        fix: Some("Add `HEALTHCHECK CMD <a cheap probe of your service>` (or define liveness/readiness probes in Kubernetes, which ignores HEALTHCHECK).".to_owned()),
        why: Some("Without a health check Docker only knows whether the process is alive, not whether it works; a hung service keeps receiving traffic.".to_owned()),
        ..finding(
            "config-no-healthcheck",
            Category::Config,
            Severity::Low,
            "No HEALTHCHECK",
            if disabled {
                "The image disables the health check (`HEALTHCHECK NONE`)."
            } else {
                "The image config defines no HEALTHCHECK."
            },
        )
    })
}

/// The tag of a reference (`None` when it has none or is pinned by digest or id).
fn reference_tag(r: &str) -> Option<Option<String>> {
    if r.contains("@sha256:") || r.starts_with("sha256:") {
        return None;
    }
    if r.len() >= 12 && r.len() <= 64 && r.chars().all(|c| c.is_ascii_hexdigit()) {
        return None; // an image id
    }
    let last = r.rsplit('/').next().unwrap_or(r);
    Some(last.split_once(':').map(|(_, t)| t.to_owned()))
}

fn mutable_tag(ctx: &Ctx) -> Option<Finding> {
    let img = ctx.image;
    let (subject, mutable): (String, bool) = match &img.origin {
        Origin::Daemon(_) | Origin::Registry(_) => match reference_tag(&img.reference) {
            None => return None,
            Some(None) => (
                format!("`{}` has no tag, which means `:latest`", img.reference),
                true,
            ),
            Some(Some(t)) => (format!("`{}`", img.reference), t == "latest"),
        },
        _ => {
            if img.repo_tags.is_empty() {
                ("the image carries no tag".to_owned(), true)
            } else if img.repo_tags.iter().all(|t| t.ends_with(":latest")) {
                (
                    format!("the image is tagged only {}", img.repo_tags.join(", ")),
                    true,
                )
            } else {
                return None;
            }
        }
    };
    if !mutable {
        return None;
    }
    let pin = img
        .repo_digests
        .first()
        .map(|d| format!("pin it by digest: `{d}`"))
        .or_else(|| {
            img.manifest_digest
                .as_ref()
                .map(|d| format!("pin it by its manifest digest `{d}` once pushed"))
        })
        .unwrap_or_else(|| {
            "push it with a version tag and pin consumers to the registry digest (`name@sha256:…`)"
                .to_owned()
        });
    Some(Finding {
        evidence: Some(crate::model::sanitize(&pin)),
        fix: Some(format!("Use an immutable reference: {}.", crate::model::sanitize(&pin))),
        why: Some("`latest` (or no tag) moves whenever someone pushes: two deployments of the \"same\" image can run different code, and a rollback cannot name what ran before.".to_owned()),
        ..finding(
            "config-mutable-tag",
            Category::Config,
            Severity::Low,
            "Mutable image reference",
            format!("{} (a mutable reference).", crate::model::sanitize(&subject)),
        )
    })
}

macro_rules! re {
    ($name:ident, $pat:expr) => {
        static $name: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new($pat).ok());
    };
}

re!(
    PIPE_SHELL,
    r"(?i)\b(?:curl|wget)\b[^|;&\n]*\|\s*(?:sudo\s+)?(?:-E\s+)?(?:/usr)?(?:/bin/)?(?:ba|z|da|k|fi)?sh\b|\b(?:curl|wget)\b[^|;&\n]*\|\s*(?:sudo\s+)?python[0-9.]*\b|\b(?:ba|z|da)?sh\b[^|;&\n]*(?:<\(|\$\()\s*(?:curl|wget)\b"
);
re!(
    UPGRADE,
    r"(?i)\b(?:apt-get|apt|aptitude)\s+(?:-\S+\s+)*(?:upgrade|dist-upgrade|full-upgrade)\b|\bapk\s+(?:-\S+\s+)*upgrade\b|\b(?:yum|dnf|microdnf)\s+(?:-\S+\s+)*(?:update|upgrade)\b"
);
re!(
    ADD_URL,
    r"(?i)(?:^|\s)ADD\s+((?:--[a-z-]+(?:=\S+)?\s+)*)(?:https?|ftp)://\S+"
);

fn history_checks(ctx: &Ctx) -> Vec<Finding> {
    let rules = &ctx.cfg.rules;
    let mut out = Vec::new();
    let mut unpinned: Vec<(usize, String)> = Vec::new();
    for (hi, h) in ctx.image.history.iter().enumerate() {
        let first_of_step = out.len();
        let cmd = h.created_by.as_str();
        let shown = || super::context::one_line(&redact_with(rules, cmd), 140);
        let step = match h.layer {
            Some(l) => format!("History step {hi} (layer {l})"),
            None => format!("History step {hi}"),
        };
        if PIPE_SHELL.as_ref().is_some_and(|re| re.is_match(cmd)) {
            out.push(Finding {
                layer: h.layer,
                evidence: Some(shown()),
                fix: Some("Download the script or binary, verify it against a published checksum or signature (`sha256sum -c`), then run it; or install it from a package manager with pinned versions.".to_owned()),
                why: Some("Piping a download straight into a shell runs whatever the server (or anyone in between) sends at that moment, unverified and as root: the build is neither safe nor reproducible.".to_owned()),
                ..finding(
                    "config-curl-pipe-shell",
                    Category::Config,
                    Severity::High,
                    "Remote script piped into a shell",
                    format!("{step} pipes a download into an interpreter: `{}`.", shown()),
                )
            });
        }
        if UPGRADE.as_ref().is_some_and(|re| re.is_match(cmd)) {
            out.push(Finding {
                layer: h.layer,
                evidence: Some(shown()),
                fix: Some("Rebuild FROM an up-to-date base image instead of upgrading inside the build, and pin the base by digest.".to_owned()),
                why: Some("Upgrading every package during the build makes the result depend on the day it was built, duplicates the base image's files in a new layer, and can pull in changes the base maintainers did not ship.".to_owned()),
                ..finding(
                    "config-os-upgrade",
                    Category::Config,
                    Severity::Low,
                    "Full OS upgrade in the build",
                    format!("{step} upgrades all packages: `{}`.", shown()),
                )
            });
        }
        if let Some(c) = ADD_URL.as_ref().and_then(|re| re.captures(cmd)) {
            let flags = c.get(1).map_or("", |m| m.as_str());
            if !flags.contains("--checksum") {
                out.push(Finding {
                    layer: h.layer,
                    evidence: Some(shown()),
                    fix: Some("Add `--checksum=sha256:<digest>` to the ADD (Dockerfile 1.6+), or download with curl in a RUN and verify with `sha256sum -c`.".to_owned()),
                    why: Some("ADD from a URL fetches whatever the server returns at build time; without a checksum a compromised or changed file goes into the image silently.".to_owned()),
                    ..finding(
                        "config-add-url",
                        Category::Config,
                        Severity::Medium,
                        "ADD from a URL without a checksum",
                        format!("{step} adds a remote file without verifying it: `{}`.", shown()),
                    )
                });
            }
        }
        for f in &mut out[first_of_step..] {
            f.base = ctx.base.is_base_history(hi);
        }
        for p in unpinned_installs(cmd) {
            unpinned.push((hi, p));
        }
    }
    // Inherited and own unpinned installs are reported apart.
    let (inherited, own): (Vec<_>, Vec<_>) = unpinned
        .into_iter()
        .partition(|(hi, _)| ctx.base.is_base_history(*hi));
    for group in [own, inherited] {
        out.extend(unpinned_finding(ctx, &group));
    }
    out
}

fn unpinned_finding(ctx: &Ctx, unpinned: &[(usize, String)]) -> Option<Finding> {
    if unpinned.is_empty() {
        return None;
    }
    {
        let first = unpinned[0].0;
        let layer = ctx.image.history.get(first).and_then(|h| h.layer);
        let mut names: Vec<String> = unpinned.iter().map(|(_, p)| p.clone()).collect();
        names.dedup();
        let shown: Vec<String> = names
            .iter()
            .take(12)
            .map(|n| crate::model::sanitize(n))
            .collect();
        let more = if names.len() > 12 {
            format!(" and {} more", names.len() - 12)
        } else {
            String::new()
        };
        Some(Finding {
            layer,
            base: ctx.base.is_base_history(first),
            evidence: Some(format!("{}{more}", shown.join(", "))),
            fix: Some("Pin versions (`apt-get install pkg=1.2-3`, `apk add pkg=1.2-r0`, `pip install pkg==1.2`, `npm install pkg@1.2`) or install from a lock file (`pip install -r requirements.txt` with hashes, `npm ci`).".to_owned()),
            why: Some("Without pinned versions, rebuilding the same Dockerfile later installs different software: builds are not reproducible and a bad upstream release slips in unnoticed.".to_owned()),
            ..finding(
                "config-unpinned-packages",
                Category::Config,
                Severity::Low,
                "Packages installed without pinned versions",
                format!(
                    "{} package(s) are installed without a version in the history: {}{more}.",
                    names.len(),
                    shown.join(", ")
                ),
            )
        })
    }
}

/// Packages a command installs without a version: `apt-get install`, `apk add`,
/// `pip install`, `npm install -g`/`npm install PKG`.
pub fn unpinned_installs(cmd: &str) -> Vec<String> {
    let mut out = Vec::new();
    let segments = cmd.split(['\n', ';', '|', '&']);
    for seg in segments {
        let words: Vec<&str> = seg.split_whitespace().collect();
        let mut i = 0;
        while i < words.len() {
            let w = words[i].rsplit('/').next().unwrap_or(words[i]);
            let (manager, sub): (&str, &[&str]) = match w {
                "apt-get" | "apt" => ("apt", &["install"]),
                "apk" => ("apk", &["add"]),
                "pip" | "pip3" => ("pip", &["install"]),
                "npm" => ("npm", &["install", "i", "add"]),
                "yarn" => ("npm", &["add"]),
                _ => {
                    i += 1;
                    continue;
                }
            };
            let Some(at) = words[i + 1..]
                .iter()
                .position(|x| sub.contains(x))
                .map(|p| i + 1 + p)
            else {
                break;
            };
            // Options that take a value.
            let takes_value: &[&str] = match manager {
                "apk" => &["-t", "--virtual", "-X", "--repository", "--root", "-p"],
                "pip" => &[
                    "-r",
                    "--requirement",
                    "-c",
                    "--constraint",
                    "-e",
                    "--editable",
                    "-i",
                    "--index-url",
                    "--extra-index-url",
                    "-f",
                    "--find-links",
                    "-t",
                    "--target",
                    "--prefix",
                    "--root",
                    "--src",
                ],
                "apt" => &["-o", "-t", "--target-release"],
                _ => &["--prefix", "--registry"],
            };
            let mut j = at + 1;
            while j < words.len() {
                let a = words[j];
                j += 1;
                if takes_value.contains(&a) {
                    j += 1;
                    continue;
                }
                if a.starts_with('-')
                    || a.starts_with('$')
                    || a.starts_with('.')
                    || a.starts_with('/')
                    || a.contains("://")
                    || a.starts_with("git+")
                    || a.ends_with(".deb")
                    || a.ends_with(".whl")
                    || a.ends_with(".tar.gz")
                    || a.ends_with(".tgz")
                    || a.ends_with(".apk")
                    || a == "\\"
                {
                    continue;
                }
                let a = a.trim_matches(|c| c == '"' || c == '\'');
                let pinned = match manager {
                    "apt" => a.contains('='),
                    "apk" => {
                        a.contains('=') || a.contains('~') || a.contains('>') || a.contains('<')
                    }
                    "pip" => ["==", "~=", "@", "<", ">", "==="]
                        .iter()
                        .any(|s| a.contains(s)),
                    _ => a[1..].contains('@'),
                };
                if !pinned && !a.is_empty() {
                    out.push(format!("{manager}:{a}"));
                }
            }
            break;
        }
    }
    out
}

fn file_modes(ctx: &Ctx) -> Vec<Finding> {
    let fs = &ctx.image.fs;
    let mut suid = Vec::new();
    let mut ww = Vec::new();
    for (vid, v) in fs.versions.iter().enumerate() {
        if v.removed_in.is_some() || !matches!(v.kind, EntryKind::File | EntryKind::Dir) {
            continue;
        }
        if v.kind == EntryKind::File && v.mode & 0o6000 != 0 {
            suid.push(vid);
        }
        if v.mode & 0o002 != 0 {
            let sticky_parent = || {
                let p = fs.parent(v.path);
                fs.final_version(p)
                    .is_some_and(|pv| fs.versions[pv as usize].mode & 0o1000 != 0)
            };
            let flagged = match v.kind {
                EntryKind::Dir => v.mode & 0o1000 == 0,
                _ => !sticky_parent(),
            };
            if flagged {
                ww.push(vid);
            }
        }
    }
    let mut out = Vec::new();
    // The distribution's own setuid programs (passwd, su, mount…) are one info finding.
    let (stock, suid): (Vec<usize>, Vec<usize>) = suid
        .into_iter()
        .partition(|&vid| is_stock_setuid(fs.path(fs.versions[vid].path)));
    out.extend(stock_setuid(ctx, &stock));
    // One finding per cause: the files one layer's step made setuid/setgid (or world-
    // writable) are one finding listing them, every path in `items`.
    for (layer, vids) in by_layer(fs, &suid) {
        out.push(setuid_finding(ctx, layer, &vids));
    }
    for (layer, vids) in by_layer(fs, &ww) {
        out.push(world_writable_finding(ctx, layer, &vids));
    }
    out
}

/// File versions grouped by the layer that added them, in layer order (paths in path order).
fn by_layer(fs: &crate::model::fs::FileSystem, vids: &[usize]) -> Vec<(usize, Vec<usize>)> {
    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for &vid in vids {
        groups
            .entry(fs.versions[vid].layer as usize)
            .or_default()
            .push(vid);
    }
    groups
        .into_values()
        .map(|mut v| {
            v.sort_by(|&a, &b| {
                fs.path(fs.versions[a].path)
                    .cmp(fs.path(fs.versions[b].path))
            });
            (fs.versions[v[0]].layer as usize, v)
        })
        .collect()
}

/// A finding about the files of one cause: `text` is (title, message, path, evidence),
/// `advice` (fix, why); `paths` become `items`.
fn grouped(
    rule: &str,
    severity: Severity,
    layer: usize,
    paths: Vec<String>,
    text: (String, String, Option<String>, String),
    advice: (&str, &str),
) -> Finding {
    let (title, message, path, evidence) = text;
    Finding {
        path,
        layer: Some(layer),
        evidence: Some(evidence),
        fix: Some(advice.0.to_owned()),
        why: Some(advice.1.to_owned()),
        items: paths,
        ..finding(rule, Category::Config, severity, title, message)
    }
}

/// One `config-setuid` finding for the setuid/setgid files one layer added.
fn setuid_finding(ctx: &Ctx, layer: usize, vids: &[usize]) -> Finding {
    let fs = &ctx.image.fs;
    let bits_of = |mode: u32| match (mode & 0o4000 != 0, mode & 0o2000 != 0) {
        (true, true) => "setuid and setgid",
        (true, false) => "setuid",
        _ => "setgid",
    };
    let paths: Vec<String> = vids
        .iter()
        .map(|&v| ctx.path(fs.versions[v].path))
        .collect();
    let fix = "Remove the bit if the program does not need it (`chmod u-s,g-s FILE` in the Dockerfile) and run the container with `--security-opt no-new-privileges`.";
    let why = "A setuid/setgid program runs with its owner's rights whoever starts it; a bug in it is a ready-made privilege escalation from the app user to root.";
    let evidence = vids
        .iter()
        .map(|&vid| {
            let v = &fs.versions[vid];
            format!("mode {:04o} uid {} gid {}", v.mode, v.uid, v.gid)
        })
        .collect::<Vec<_>>();
    let (title, message, path, evidence) = if let [vid] = vids {
        let v = &fs.versions[*vid];
        let path = paths[0].clone();
        let bits = bits_of(v.mode);
        let owner = if v.mode & 0o4000 != 0 { v.uid } else { v.gid };
        (
            format!("{} file: {path}", capital(bits)),
            format!(
                "{path} is {bits} (runs as {} {owner}); added in layer {layer} by {}.",
                if v.mode & 0o4000 != 0 { "uid" } else { "gid" },
                ctx.cmd(layer)
            ),
            Some(path),
            evidence[0].clone(),
        )
    } else {
        (
            format!("{} setuid/setgid files added in layer {layer}", vids.len()),
            format!(
                "{} files run with their owner's rights whoever starts them (listed in the evidence); added in layer {layer} by {}.",
                vids.len(),
                ctx.cmd(layer)
            ),
            None,
            paths.iter().zip(&evidence).map(|(p, e)| format!("{p}: {e}")).collect::<Vec<_>>().join("; "),
        )
    };
    grouped(
        "config-setuid",
        Severity::Low,
        layer,
        paths,
        (title, message, path, evidence),
        (fix, why),
    )
}

/// One `config-world-writable` finding for the world-writable paths one layer added.
fn world_writable_finding(ctx: &Ctx, layer: usize, vids: &[usize]) -> Finding {
    let fs = &ctx.image.fs;
    let paths: Vec<String> = vids
        .iter()
        .map(|&v| ctx.path(fs.versions[v].path))
        .collect();
    let fix = "Give the file to the user that needs to write it (`COPY --chown=app`, `chown`) and drop the world-write bit (`chmod o-w`).";
    let why = "Any user or process in the container can change a world-writable file: a compromised low-privilege process can tamper with what other processes read or execute.";
    let (title, message, path, evidence) = if let [vid] = vids {
        let v = &fs.versions[*vid];
        let path = paths[0].clone();
        let (noun, kind) = if v.kind == EntryKind::Dir {
            ("directory", "directory (without the sticky bit)")
        } else {
            ("file", "file")
        };
        (
            format!("World-writable {noun}: {path}"),
            format!(
                "{path} is a world-writable {kind}; added in layer {layer} by {}.",
                ctx.cmd(layer)
            ),
            Some(path),
            format!("mode {:04o}", v.mode),
        )
    } else {
        (
            format!("{} world-writable paths added in layer {layer}", vids.len()),
            format!(
                "Any process can change these {} paths (listed in the evidence); added in layer {layer} by {}.",
                vids.len(),
                ctx.cmd(layer)
            ),
            None,
            paths
                .iter()
                .zip(vids)
                .map(|(p, &v)| format!("{p}: mode {:04o}", fs.versions[v].mode))
                .collect::<Vec<_>>()
                .join("; "),
        )
    };
    grouped(
        "config-world-writable",
        Severity::Medium,
        layer,
        paths,
        (title, message, path, evidence),
        (fix, why),
    )
}

/// The stock distribution data (`assets/stock.toml`).
pub const STOCK_DATA: &str = include_str!("../../assets/stock.toml");

#[derive(Debug, Default, serde::Deserialize)]
struct StockData {
    setuid: StockSetuid,
}

#[derive(Debug, Default, serde::Deserialize)]
struct StockSetuid {
    paths: Vec<String>,
}

static STOCK: LazyLock<StockData> =
    LazyLock::new(|| toml::from_str(STOCK_DATA).unwrap_or_default());

/// True for a setuid/setgid program every stock Debian/Ubuntu image ships (`assets/stock.toml`).
pub fn is_stock_setuid(path: &[u8]) -> bool {
    STOCK.setuid.paths.iter().any(|p| p.as_bytes() == path)
}

fn stock_setuid(ctx: &Ctx, stock: &[usize]) -> Vec<Finding> {
    let fs = &ctx.image.fs;
    // Inherited and own copies apart, so the base attribution of each stays right.
    let mut out = Vec::new();
    for base in [false, true] {
        let vids: Vec<usize> = stock
            .iter()
            .copied()
            .filter(|&v| ctx.base.is_base_layer(fs.versions[v].layer as usize) == base)
            .collect();
        let Some(&last) = vids.iter().max_by_key(|&&v| fs.versions[v].layer) else {
            continue;
        };
        let names: Vec<String> = vids
            .iter()
            .map(|&v| ctx.path(fs.versions[v].path))
            .collect();
        let layer = fs.versions[last].layer as usize;
        out.push(Finding {
            layer: Some(layer),
            evidence: Some(names.join(", ")),
            items: names.clone(),
            fix: Some("Nothing to do for a service that never switches users; to harden, remove the bits in the final stage (`RUN chmod u-s,g-s …`) and run with `--security-opt no-new-privileges`.".to_owned()),
            why: Some("These are the distribution's standard setuid/setgid programs (changing passwords, switching users, mounting); every Debian or Ubuntu image ships them. They matter only to a process that can run them as another user.".to_owned()),
            ..finding(
                "config-setuid",
                Category::Config,
                Severity::Info,
                format!("{} standard setuid/setgid programs of the distribution", names.len()),
                format!(
                    "The distribution's {} standard setuid/setgid programs are present (layer {layer}: {}).",
                    names.len(),
                    ctx.cmd(layer)
                ),
            )
        });
    }
    out
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// Ports that expose a remote shell, desktop or an unauthenticated control API.
const SENSITIVE_PORTS: &[(u16, &str, Severity)] = &[
    (21, "FTP (clear-text logins)", Severity::Medium),
    (22, "SSH", Severity::Medium),
    (23, "Telnet (clear-text remote shell)", Severity::High),
    (111, "RPC portmapper", Severity::Medium),
    (445, "SMB", Severity::Medium),
    (
        2375,
        "the Docker API without TLS (root on the host)",
        Severity::High,
    ),
    (2376, "the Docker API", Severity::High),
    (3389, "RDP remote desktop", Severity::Medium),
    (5900, "VNC remote desktop", Severity::Medium),
    (5901, "VNC remote desktop", Severity::Medium),
    (5985, "WinRM", Severity::Medium),
    (5986, "WinRM", Severity::Medium),
    (10250, "the kubelet API", Severity::High),
];

fn ports(ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for p in &ctx.image.config.exposed_ports {
        let num = p.split('/').next().and_then(|n| n.parse::<u16>().ok());
        let Some(&(port, what, sev)) = SENSITIVE_PORTS.iter().find(|(n, _, _)| Some(*n) == num)
        else {
            continue;
        };
        out.push(Finding {
            evidence: Some(format!("EXPOSE {}", crate::model::sanitize(p))),
            fix: Some(if port == 22 {
                "Do not run an SSH server in a container: use `docker exec`/`kubectl exec` for access and remove the EXPOSE.".to_owned()
            } else {
                "Remove the EXPOSE and the service behind it, or bind it to localhost and put an authenticated proxy in front.".to_owned()
            }),
            why: Some("Exposed ports document what the container listens on and are published by `-P`; a remote-access or control port is an entry point attackers scan for.".to_owned()),
            ..finding(
                "config-sensitive-port",
                Category::Config,
                sev,
                format!("Sensitive port {port} exposed"),
                format!("The image exposes port {} ({what}).", crate::model::sanitize(p)),
            )
        });
    }
    out
}

fn sudo(ctx: &Ctx, inv: &Inventory) -> Option<Finding> {
    let pkg = inv
        .packages
        .iter()
        .find(|p| p.name == "sudo" || p.name == "doas");
    let file = ["usr/bin/sudo", "bin/sudo", "usr/local/bin/sudo"]
        .iter()
        .filter_map(|p| ctx.lookup(p))
        .find(|&id| {
            ctx.image
                .fs
                .final_version(id)
                .is_some_and(|v| ctx.image.fs.versions[v as usize].kind == EntryKind::File)
        });
    if pkg.is_none() && file.is_none() {
        return None;
    }
    let (layer, evidence) = match (pkg, file) {
        (Some(p), _) => (p.layer, format!("package {} {}", p.name, p.version)),
        (None, Some(id)) => (
            ctx.image
                .fs
                .final_version(id)
                .map(|v| ctx.image.fs.versions[v as usize].layer as usize),
            format!("file {}", ctx.path(id)),
        ),
        (None, None) => (None, String::new()),
    };
    Some(Finding {
        layer,
        path: file.map(|id| ctx.path(id)),
        evidence: Some(evidence),
        fix: Some("Remove sudo; do privileged setup in the Dockerfile as root, then switch to an unprivileged USER. Use `gosu`/`su-exec` only to drop privileges in an entrypoint.".to_owned()),
        why: Some("sudo in a container exists to regain root: it defeats running as a non-root user and its setuid binary is attack surface.".to_owned()),
        ..finding(
            "config-sudo",
            Category::Config,
            Severity::Medium,
            "sudo installed",
            "sudo is installed in the final image.",
        )
    })
}

fn labels(ctx: &Ctx) -> Option<Finding> {
    let l = &ctx.image.config.labels;
    let has = |k: &str| l.get(k).is_some_and(|v| !v.trim().is_empty());
    let mut missing = Vec::new();
    for k in [
        "org.opencontainers.image.source",
        "org.opencontainers.image.revision",
        "org.opencontainers.image.created",
    ] {
        if !has(k) {
            missing.push(k.to_owned());
        }
    }
    if !has("org.opencontainers.image.authors") && !has("org.opencontainers.image.vendor") {
        missing.push("org.opencontainers.image.authors (or .vendor)".to_owned());
    }
    if missing.is_empty() {
        return None;
    }
    Some(Finding {
        evidence: Some(format!("missing: {}", missing.join(", "))),
        fix: Some("Add OCI labels at build time, e.g. `docker buildx build --label org.opencontainers.image.source=$REPO_URL --label org.opencontainers.image.revision=$GIT_SHA …` (docker/metadata-action does this in GitHub Actions).".to_owned()),
        why: Some("Provenance labels tell whoever finds the image where its source is, which commit built it and who maintains it: the first questions in an incident or an audit.".to_owned()),
        ..finding(
            "config-missing-labels",
            Category::Config,
            Severity::Low,
            "Provenance labels missing",
            format!("The image lacks {} OCI provenance label(s): {}.", missing.len(), missing.join(", ")),
        )
    })
}

/// Directories that hold a database's state.
const DATA_DIRS: &[&str] = &[
    "var/lib/mysql",
    "var/lib/postgresql/data",
    "var/lib/postgresql",
    "var/lib/mongodb",
    "data/db",
    "var/lib/redis",
    "var/lib/elasticsearch",
    "var/lib/rabbitmq",
    "var/lib/cassandra",
    "var/lib/influxdb",
    "var/lib/clickhouse",
];

fn volumes(ctx: &Ctx) -> Vec<Finding> {
    let vols: Vec<String> = ctx
        .image
        .config
        .volumes
        .iter()
        .map(|v| v.trim_matches('/').to_owned())
        .collect();
    let mut out = Vec::new();
    for d in DATA_DIRS {
        let Some(id) = ctx.lookup(d) else { continue };
        if !ctx.image.fs.exists_in_final(id) {
            continue;
        }
        let covered = vols
            .iter()
            .any(|v| v == d || d.starts_with(&format!("{v}/")) || v.starts_with(&format!("{d}/")));
        if covered
            || out.iter().any(|f: &Finding| {
                f.path
                    .as_deref()
                    .is_some_and(|p| p.starts_with(&format!("/{d}")))
            })
        {
            continue;
        }
        out.push(Finding {
            path: Some(format!("/{d}")),
            fix: Some(format!("Declare `VOLUME /{d}` or document that the directory must be mounted.")),
            why: Some("Data written to the container's own filesystem is lost when the container is replaced; a VOLUME makes the data directory explicit.".to_owned()),
            ..finding(
                "config-no-volume",
                Category::Config,
                Severity::Info,
                format!("Data directory /{d} is not a VOLUME"),
                format!("/{d} looks like a database data directory but the image declares no VOLUME for it."),
            )
        });
    }
    out
}

fn age(ctx: &Ctx) -> Option<Finding> {
    let created = ctx.image.created.as_deref()?;
    let ts: jiff::Timestamp = created.parse().ok()?;
    let now = ctx
        .cfg
        .now
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .unwrap_or_else(jiff::Timestamp::now);
    let secs = now.as_second() - ts.as_second();
    if ts.as_second() < 631_152_000 {
        // Before 1990: a reproducible build reset the time (SOURCE_DATE_EPOCH=0).
        return Some(finding(
            "config-image-age",
            Category::Config,
            Severity::Info,
            "Creation time is not meaningful",
            format!("The image claims to be created at {created} (a reset timestamp, as reproducible builds do), so its age is unknown."),
        ));
    }
    let days = secs / 86_400;
    let max = ctx.cfg.options.max_age_days as i64;
    if days <= max {
        return None;
    }
    Some(Finding {
        evidence: Some(format!("created {created}, {days} days ago")),
        fix: Some("Rebuild regularly (e.g. weekly in CI) on a current base image so security updates reach the image.".to_owned()),
        why: Some("An old image carries every vulnerability fixed since it was built; its base packages receive no updates unless it is rebuilt.".to_owned()),
        ..finding(
            "config-image-age",
            Category::Config,
            if days > 365 { Severity::Medium } else { Severity::Low },
            format!("Image is {days} days old"),
            format!("The image was created {days} days ago ({created})."),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_users() {
        for u in [
            None,
            Some(""),
            Some("root"),
            Some("0"),
            Some("0:0"),
            Some("root:root"),
        ] {
            assert!(is_root_user(u), "{u:?}");
        }
        for u in [
            Some("1000"),
            Some("app"),
            Some("nobody:nogroup"),
            Some("10001:0"),
        ] {
            assert!(!is_root_user(u), "{u:?}");
        }
    }

    #[test]
    fn unpinned() {
        let c = "/bin/sh -c apt-get update && apt-get install -y --no-install-recommends curl ca-certificates=2023 && rm -rf /var/lib/apt/lists/*";
        assert_eq!(unpinned_installs(c), ["apt:curl"]);
        assert_eq!(
            unpinned_installs("apk add --no-cache -t .deps musl-dev git=2.40-r0"),
            ["apk:musl-dev"]
        );
        assert_eq!(
            unpinned_installs(
                "pip install --no-cache-dir -r requirements.txt flask requests==2.31"
            ),
            ["pip:flask"]
        );
        assert_eq!(
            unpinned_installs("npm install -g yarn@1.22 typescript"),
            ["npm:typescript"]
        );
        assert!(unpinned_installs("npm ci && npm install").is_empty());
    }

    #[test]
    fn history_patterns() {
        let m = |re: &LazyLock<Option<Regex>>, s: &str| re.as_ref().is_some_and(|r| r.is_match(s));
        assert!(m(&PIPE_SHELL, "curl -fsSL https://x.sh | sh"));
        assert!(m(&PIPE_SHELL, "wget -qO- https://x | sudo -E bash -"));
        assert!(m(&PIPE_SHELL, "sh -c \"$(curl -fsSL https://x)\""));
        assert!(!m(&PIPE_SHELL, "curl -o x.tgz https://x && tar xzf x.tgz"));
        assert!(m(&UPGRADE, "apt-get update && apt-get -y dist-upgrade"));
        assert!(m(&UPGRADE, "apt-get upgrade -y"));
        assert!(!m(&UPGRADE, "apt-get update && apt-get install -y x"));
        assert!(m(
            &ADD_URL,
            "ADD https://example.com/a.tgz /opt/ # buildkit"
        ));
        let c = ADD_URL
            .as_ref()
            .and_then(|r| r.captures("ADD --checksum=sha256:ab https://e/a /a"));
        assert!(c.is_some_and(|c| c[1].contains("--checksum")));
    }

    #[test]
    fn reference_tags() {
        assert_eq!(reference_tag("nginx"), Some(None));
        assert_eq!(reference_tag("nginx:latest"), Some(Some("latest".into())));
        assert_eq!(reference_tag("localhost:5000/app"), Some(None));
        assert_eq!(
            reference_tag("localhost:5000/app:1.2"),
            Some(Some("1.2".into()))
        );
        assert_eq!(reference_tag("app@sha256:abc"), None);
        assert_eq!(reference_tag("0123456789ab"), None);
    }
}
