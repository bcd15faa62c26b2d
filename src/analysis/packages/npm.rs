//! npm: `package.json` of installed packages anywhere (global `usr/lib/node_modules`, app
//! directories), and lock files (`package-lock.json` v1-v3, `yarn.lock`, `pnpm-lock.yaml`)
//! read as declared dependencies.

use std::collections::HashMap;

use serde_json::Value;

use super::{DbKind, Hash, Record};

/// The npm kind of a file named `name`, if any.
pub fn classify(name: &[u8]) -> Option<DbKind> {
    match name {
        b"package.json" => Some(DbKind::NpmPackage),
        b"package-lock.json" | b"npm-shrinkwrap.json" => Some(DbKind::NpmLock),
        b"yarn.lock" => Some(DbKind::YarnLock),
        b"pnpm-lock.yaml" => Some(DbKind::PnpmLock),
        _ => None,
    }
}

fn license_of(v: &Value) -> Option<String> {
    match v.get("license") {
        Some(Value::String(s)) if !s.is_empty() => return Some(s.clone()),
        Some(Value::Object(o)) => {
            if let Some(Value::String(s)) = o.get("type") {
                return Some(s.clone());
            }
        }
        _ => {}
    }
    let list: Vec<String> = v
        .get("licenses")?
        .as_array()?
        .iter()
        .filter_map(|l| l.get("type").and_then(Value::as_str).map(str::to_owned))
        .collect();
    (!list.is_empty()).then(|| list.join(" OR "))
}

fn dependency_names(v: &Value, key: &str) -> Vec<String> {
    let mut names: Vec<String> = v
        .get(key)
        .and_then(Value::as_object)
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// Parses a `package.json`: a package when it has both a name and a version.
pub fn parse_package_json(bytes: &[u8]) -> Option<Record> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    let name = v.get("name")?.as_str().filter(|s| !s.is_empty())?;
    let version = v.get("version")?.as_str().filter(|s| !s.is_empty())?;
    let mut r = Record::new(name, version);
    r.license = license_of(&v);
    r.depends = dependency_names(&v, "dependencies");
    Some(r)
}

/// Finds the installed package `name` that a package in `dir` loads, the way Node resolves
/// it: `dir/node_modules/name`, then the `node_modules` of every ancestor.
pub fn resolve(dir: &[u8], name: &str, dirs: &HashMap<&[u8], usize>) -> Option<usize> {
    let mut cur = dir;
    loop {
        let mut cand = cur.to_vec();
        if !cand.is_empty() {
            cand.push(b'/');
        }
        cand.extend_from_slice(b"node_modules/");
        cand.extend_from_slice(name.as_bytes());
        if let Some(&i) = dirs.get(cand.as_slice()) {
            return Some(i);
        }
        if cur.is_empty() {
            return None;
        }
        cur = crate::model::path::split_parent(cur).0;
    }
}

/// Decodes standard base64 (padding optional); `None` on other characters.
fn base64(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// The digests in an SRI `integrity` string (`sha512-BASE64 sha1-BASE64`).
pub fn integrity_hashes(sri: &str) -> Vec<Hash> {
    sri.split_whitespace()
        .filter_map(|part| {
            let (alg, b64) = part.split_once('-')?;
            let alg = match alg {
                "sha1" => "SHA-1",
                "sha256" => "SHA-256",
                "sha384" => "SHA-384",
                "sha512" => "SHA-512",
                _ => return None,
            };
            let hex: String = base64(b64)?.iter().map(|b| format!("{b:02x}")).collect();
            Some(Hash {
                alg: alg.to_owned(),
                hex,
            })
        })
        .collect()
}

fn lock_record(name: &str, v: &Value, deps_key: &str) -> Option<Record> {
    let version = v.get("version")?.as_str().filter(|s| !s.is_empty())?;
    let mut r = Record::new(name, version);
    r.license = license_of(v);
    r.hashes = v
        .get("integrity")
        .and_then(Value::as_str)
        .map(integrity_hashes)
        .unwrap_or_default();
    r.depends = dependency_names(v, deps_key);
    Some(r)
}

/// Parses `package-lock.json` / `npm-shrinkwrap.json`: the `packages` map of lockfile v2/v3
/// (links and the root project skipped), else the nested `dependencies` of v1.
pub fn parse_package_lock(bytes: &[u8]) -> Vec<Record> {
    let Ok(v) = serde_json::from_slice::<Value>(bytes) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(packages) = v.get("packages").and_then(Value::as_object) {
        for (key, p) in packages {
            if key.is_empty() || p.get("link").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let Some(at) = key.rfind("node_modules/") else {
                continue;
            };
            let name = p
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(&key[at + "node_modules/".len()..]);
            out.extend(lock_record(name, p, "dependencies"));
        }
        return out;
    }
    fn walk(deps: &serde_json::Map<String, Value>, out: &mut Vec<Record>) {
        for (name, d) in deps {
            out.extend(lock_record(name, d, "requires"));
            if let Some(nested) = d.get("dependencies").and_then(Value::as_object) {
                walk(nested, out);
            }
        }
    }
    if let Some(deps) = v.get("dependencies").and_then(Value::as_object) {
        walk(deps, &mut out);
    }
    out
}

/// The package name of a lock-file spec (`@scope/name@^1.0`, `name@npm:1.2`).
fn spec_name(spec: &str) -> &str {
    let spec = spec.trim().trim_matches('"').trim_matches('\'');
    match spec[1.min(spec.len())..].find('@') {
        Some(at) => &spec[..at + 1],
        None => spec,
    }
}

/// Parses `yarn.lock`, classic (v1, `version "x"`) and berry (`version: x`); workspace
/// entries are skipped.
pub fn parse_yarn_lock(text: &str) -> Vec<Record> {
    let mut out = Vec::new();
    let mut current: Option<(String, bool)> = None;
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') {
            let key = line.trim_end_matches(':');
            if key.starts_with("__metadata") {
                current = None;
                continue;
            }
            let first = key.split(", ").next().unwrap_or(key);
            let workspace = key.contains("@workspace:") || key.contains("@link:");
            current = Some((spec_name(first).to_owned(), workspace));
            continue;
        }
        let t = line.trim();
        let version = t
            .strip_prefix("version ")
            .or_else(|| t.strip_prefix("version:"))
            .map(|v| v.trim().trim_matches('"'));
        if let (Some(v), Some((name, workspace))) = (version, &current) {
            if !workspace && !v.is_empty() {
                out.push(Record::new(name.clone(), v));
            }
            current = None;
        }
    }
    out
}

/// Parses the `packages:` section of `pnpm-lock.yaml` (v5 `/name/1.0.0`, v6 `/name@1.0.0`,
/// v9 `name@1.0.0` keys; peer suffixes dropped).
pub fn parse_pnpm_lock(text: &str) -> Vec<Record> {
    let mut out = Vec::new();
    let mut in_packages = false;
    for line in text.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            in_packages = line.trim_end() == "packages:";
            continue;
        }
        if !in_packages || !line.starts_with("  ") || line.starts_with("   ") {
            continue;
        }
        let key = line
            .trim()
            .trim_end_matches(':')
            .trim_matches('\'')
            .trim_matches('"');
        let key = key.strip_prefix('/').unwrap_or(key);
        let key = key.split('(').next().unwrap_or(key);
        let (name, version) = match key[1.min(key.len())..].find('@') {
            Some(at) => (&key[..at + 1], &key[at + 2..]),
            None => match key.rsplit_once('/') {
                // v5: `name/version_peer`.
                Some((n, v)) => (n, v.split('_').next().unwrap_or(v)),
                None => continue,
            },
        };
        if !name.is_empty() && !version.is_empty() {
            out.push(Record::new(name, version));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_json() {
        let r = parse_package_json(
            br#"{"name":"@s/a","version":"1.2.0","license":{"type":"ISC"},"dependencies":{"b":"^1","a2":"2"}}"#,
        )
        .expect("record");
        assert_eq!((r.name.as_str(), r.version.as_str()), ("@s/a", "1.2.0"));
        assert_eq!(r.license.as_deref(), Some("ISC"));
        assert_eq!(r.depends, ["a2", "b"]);
        assert_eq!(parse_package_json(br#"{"name":"x"}"#), None);
        assert_eq!(parse_package_json(b"not json"), None);
    }

    #[test]
    fn node_resolution() {
        let mut dirs: HashMap<&[u8], usize> = HashMap::new();
        dirs.insert(b"app/node_modules/a", 0);
        dirs.insert(b"app/node_modules/b", 1);
        dirs.insert(b"app/node_modules/a/node_modules/b", 2);
        assert_eq!(resolve(b"app/node_modules/a", "b", &dirs), Some(2));
        assert_eq!(resolve(b"app/node_modules/b", "a", &dirs), Some(0));
        assert_eq!(resolve(b"app", "b", &dirs), Some(1));
        assert_eq!(resolve(b"app", "zz", &dirs), None);
    }

    #[test]
    fn package_locks() {
        let v3 = br#"{"lockfileVersion":3,"packages":{"":{"name":"app"},"node_modules/a":{"version":"1.0.0","integrity":"sha512-AAECAwQ=","dependencies":{"b":"^2"}},"node_modules/a/node_modules/b":{"version":"2.0.0"},"node_modules/l":{"link":true}}}"#;
        let r = parse_package_lock(v3);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].name, "a");
        assert_eq!(r[0].depends, ["b"]);
        assert_eq!(r[0].hashes[0].alg, "SHA-512");
        assert_eq!(r[0].hashes[0].hex, "0001020304");
        assert_eq!((r[1].name.as_str(), r[1].version.as_str()), ("b", "2.0.0"));
        let v1 = br#"{"lockfileVersion":1,"dependencies":{"a":{"version":"1.0.0","requires":{"b":"1"},"dependencies":{"b":{"version":"1.1.0"}}}}}"#;
        let r = parse_package_lock(v1);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].depends, ["b"]);
        assert_eq!(r[1].version, "1.1.0");
    }

    #[test]
    fn yarn_and_pnpm() {
        let classic = "# yarn lockfile v1\n\n\"@babel/code@^7.0.0\", \"@babel/code@^7.1\":\n  version \"7.12.13\"\n  resolved \"x\"\n\nleft-pad@^1.3.0:\n  version \"1.3.0\"\n";
        let r = parse_yarn_lock(classic);
        assert_eq!(r.len(), 2);
        assert_eq!(
            (r[0].name.as_str(), r[0].version.as_str()),
            ("@babel/code", "7.12.13")
        );
        assert_eq!(r[1].name, "left-pad");
        let berry = "__metadata:\n  version: 6\n\n\"app@workspace:.\":\n  version: 0.0.0-use.local\n\n\"lodash@npm:^4.17.21\":\n  version: 4.17.21\n";
        let r = parse_yarn_lock(berry);
        assert_eq!(r.len(), 1);
        assert_eq!(
            (r[0].name.as_str(), r[0].version.as_str()),
            ("lodash", "4.17.21")
        );
        let pnpm = "lockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    dependencies:\n      a:\n        specifier: ^1\n\npackages:\n\n  '@s/x@1.0.0':\n    resolution: {integrity: sha512-x}\n\n  y@2.0.0(z@1.0.0):\n    resolution: {}\n\n  /old/1.2.3_peer:\n    dev: false\n\nsnapshots:\n\n  y@2.0.0:\n    dependencies: {}\n";
        let r = parse_pnpm_lock(pnpm);
        let got: Vec<(&str, &str)> = r
            .iter()
            .map(|r| (r.name.as_str(), r.version.as_str()))
            .collect();
        assert_eq!(got, [("@s/x", "1.0.0"), ("y", "2.0.0"), ("old", "1.2.3")]);
    }
}
