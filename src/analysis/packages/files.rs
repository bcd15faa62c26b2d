//! A package's own files, where its format lists them: dpkg's `info/NAME.list`, rpm's file
//! list in each header, apk's `F:`/`R:` lines, a Python distribution's `RECORD` or
//! `installed-files.txt`. The explorer's packages pane reads the listing on demand (Enter)
//! and shows just those paths in the tree.

use super::{classify, DbKind, Package};
use crate::model::fs::FileSystem;

/// The file that lists or holds a package's files, as a path without the leading `/`:
/// dpkg's `var/lib/dpkg/info/NAME[:ARCH].list`, a Python distribution's `RECORD`, and for
/// everything else the file the package was read from (an npm `package.json`, a binary, a
/// jar, a gemspec, the rpm or apk database). `None` when that file is not in the image.
pub fn listing_path(fs: &FileSystem, p: &Package) -> Option<String> {
    let source = p.source.split('!').next().unwrap_or("");
    let source = source.trim_start_matches('/');
    let mut candidates: Vec<String> = Vec::new();
    match p.manager.as_str() {
        "dpkg" => {
            let arch = p
                .purl
                .split_once('?')
                .and_then(|(_, q)| q.split('&').find_map(|kv| kv.strip_prefix("arch=")));
            if let Some(arch) = arch {
                candidates.push(format!("var/lib/dpkg/info/{}:{arch}.list", p.name));
            }
            candidates.push(format!("var/lib/dpkg/info/{}.list", p.name));
        }
        "python" => {
            if let Some((dir, _)) = source.rsplit_once('/') {
                let lower = dir.to_ascii_lowercase();
                if lower.ends_with(".dist-info") {
                    candidates.push(format!("{dir}/RECORD"));
                } else if lower.ends_with(".egg-info") {
                    candidates.push(format!("{dir}/installed-files.txt"));
                }
            }
        }
        _ => {}
    }
    candidates.push(source.to_owned());
    candidates.into_iter().find(|c| {
        fs.lookup(c.as_bytes())
            .and_then(|id| fs.final_version(id))
            .is_some()
    })
}

/// True when the file at `listing` (from [`listing_path`]) lists `p`'s files, so that
/// [`listed_files`] can read them.
pub fn lists_files(p: &Package, listing: &str) -> bool {
    let lower = listing.to_ascii_lowercase();
    match p.manager.as_str() {
        "dpkg" => listing.ends_with(".list"),
        "python" => lower.ends_with("/record") || lower.ends_with("/installed-files.txt"),
        "rpm" => matches!(
            classify(listing.as_bytes()),
            Some(DbKind::RpmSqlite | DbKind::RpmBdb)
        ),
        "apk" => classify(listing.as_bytes()) == Some(DbKind::Apk),
        _ => false,
    }
}

/// The paths (no leading `/`, `..` resolved) of `p`'s files, read from `bytes`, the content of
/// the file at `listing`. Directories a format lists are included. An error names what is
/// wrong with the listing.
pub fn listed_files(p: &Package, listing: &str, bytes: &[u8]) -> Result<Vec<String>, String> {
    if !lists_files(p, listing) {
        return Err(format!("{} does not list the files of {}", listing, p.name));
    }
    let text = || String::from_utf8_lossy(bytes);
    let mut files = match p.manager.as_str() {
        "dpkg" => text().lines().filter_map(|l| normalise("", l)).collect(),
        "python" => {
            let dir = listing.rsplit_once('/').map_or("", |(d, _)| d);
            if listing.to_ascii_lowercase().ends_with("/record") {
                // RECORD paths are relative to the directory holding the .dist-info.
                let base = dir.rsplit_once('/').map_or("", |(b, _)| b);
                text()
                    .lines()
                    .filter_map(|l| normalise(base, &record_path(l)))
                    .collect()
            } else {
                // installed-files.txt paths are relative to the .egg-info directory.
                text().lines().filter_map(|l| normalise(dir, l)).collect()
            }
        }
        "rpm" => {
            let sqlite = classify(listing.as_bytes()) == Some(DbKind::RpmSqlite);
            super::rpm::file_list(bytes, sqlite, &p.name, &p.version)?
        }
        "apk" => apk_files(&text(), &p.name, &p.version),
        _ => Vec::new(),
    };
    files.sort();
    files.dedup();
    Ok(files)
}

/// The first CSV field of a `RECORD` line (quoted when the path holds a comma or quote).
fn record_path(line: &str) -> String {
    let Some(rest) = line.strip_prefix('"') else {
        return line.split(',').next().unwrap_or("").to_owned();
    };
    let mut out = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            if chars.peek() == Some(&'"') {
                chars.next();
                out.push('"');
            } else {
                break;
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `path` joined to `base` when relative, with `.` and `..` resolved and no leading `/`.
/// `None` for an empty path or one that climbs above the root.
fn normalise(base: &str, path: &str) -> Option<String> {
    let path = path.trim_end_matches('\r');
    if path.is_empty() {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    let joined = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("{base}/{path}")
    };
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// The `F:` directory and `R:` file lines of the package `name` (`version`) in apk's
/// `installed` database.
fn apk_files(text: &str, name: &str, version: &str) -> Vec<String> {
    for block in text.split("\n\n") {
        let mut is_it = (false, false);
        let mut dir = String::new();
        let mut files = Vec::new();
        for line in block.lines() {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            match k {
                "P" => is_it.0 = v == name,
                "V" => is_it.1 = v == version,
                "F" => {
                    dir = v.to_owned();
                    files.extend(normalise("", v));
                }
                "R" => files.extend(normalise(&dir, v)),
                _ => {}
            }
        }
        if is_it == (true, true) {
            return files;
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(manager: &str, name: &str, version: &str) -> Package {
        Package {
            manager: manager.into(),
            name: name.into(),
            version: version.into(),
            size_bytes: 0,
            layer: None,
            source: String::new(),
            license: None,
            purl: String::new(),
            base: false,
        }
    }

    #[test]
    fn dpkg_list_lines_are_absolute_paths() {
        let p = pkg("dpkg", "tool", "1");
        let files = listed_files(
            &p,
            "var/lib/dpkg/info/tool.list",
            b"/.\n/usr\n/usr/bin/tool\n/etc/tool.conf\n",
        )
        .expect("files");
        assert_eq!(files, ["etc/tool.conf", "usr", "usr/bin/tool"]);
    }

    #[test]
    fn python_record_is_relative_to_site_packages_and_may_climb() {
        let p = pkg("python", "demo", "0.3.1");
        let record = b"demo/__init__.py,sha256=x,6\n\"demo/a,b.py\",,\n../../../bin/demo,sha256=y,10\ndemo-0.3.1.dist-info/RECORD,,\n";
        let files = listed_files(
            &p,
            "usr/lib/python3/dist-packages/demo-0.3.1.dist-info/RECORD",
            record,
        )
        .expect("files");
        assert_eq!(
            files,
            [
                "usr/bin/demo",
                "usr/lib/python3/dist-packages/demo-0.3.1.dist-info/RECORD",
                "usr/lib/python3/dist-packages/demo/__init__.py",
                "usr/lib/python3/dist-packages/demo/a,b.py",
            ]
        );
        // A path climbing above the root is dropped, not clamped.
        assert_eq!(normalise("a", "../../x"), None);
    }

    #[test]
    fn egg_info_installed_files_are_relative_to_the_egg_info() {
        let p = pkg("python", "old", "1.0");
        let files = listed_files(
            &p,
            "usr/lib/python3/site-packages/old.egg-info/installed-files.txt",
            b"../old/__init__.py\nPKG-INFO\n",
        )
        .expect("files");
        assert_eq!(
            files,
            [
                "usr/lib/python3/site-packages/old.egg-info/PKG-INFO",
                "usr/lib/python3/site-packages/old/__init__.py",
            ]
        );
    }

    #[test]
    fn apk_files_of_the_named_version_only() {
        let db = "P:musl\nV:1.2.4-r2\nF:lib\nR:ld-musl-x86_64.so.1\nR:libc.musl-x86_64.so.1\n\nP:busybox\nV:1.36\nF:bin\nR:busybox\nF:etc\nR:securetty\n";
        let p = pkg("apk", "busybox", "1.36");
        let files = listed_files(&p, "lib/apk/db/installed", db.as_bytes()).expect("files");
        assert_eq!(files, ["bin", "bin/busybox", "etc", "etc/securetty"]);
        let other = pkg("apk", "busybox", "9.9");
        assert!(listed_files(&other, "lib/apk/db/installed", db.as_bytes())
            .expect("files")
            .is_empty());
    }

    #[test]
    fn formats_without_a_file_list_say_so() {
        let p = pkg("npm", "left-pad", "1.0.0");
        let err = listed_files(&p, "srv/app/node_modules/left-pad/package.json", b"{}")
            .expect_err("npm lists no files");
        assert!(err.contains("does not list the files of left-pad"), "{err}");
        assert!(!lists_files(&pkg("dpkg", "x", "1"), "var/lib/dpkg/status"));
    }
}
