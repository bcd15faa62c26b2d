//! Package URLs (<https://github.com/package-url/purl-spec>) and the OS identity from
//! `etc/os-release` that gives distribution packages their namespace and `distro` qualifier.

/// Percent-encodes one purl component: everything but `A-Z a-z 0-9 . - _ ~` is encoded.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Builds `pkg:TYPE/NAMESPACE/NAME@VERSION?QUALIFIERS`. The namespace is split on `/` and each
/// segment encoded; qualifiers with empty values are dropped, the others sorted by key.
pub fn build(
    ty: &str,
    namespace: Option<&str>,
    name: &str,
    version: &str,
    qualifiers: &[(&str, String)],
) -> String {
    let mut out = format!("pkg:{ty}/");
    if let Some(ns) = namespace.filter(|n| !n.is_empty()) {
        for seg in ns.split('/').filter(|s| !s.is_empty()) {
            out.push_str(&encode(seg));
            out.push('/');
        }
    }
    out.push_str(&encode(name));
    if !version.is_empty() {
        out.push('@');
        out.push_str(&encode(version));
    }
    let mut q: Vec<&(&str, String)> = qualifiers.iter().filter(|(_, v)| !v.is_empty()).collect();
    q.sort_by_key(|(k, _)| *k);
    for (i, (k, v)) in q.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        out.push('=');
        out.push_str(&encode(v));
    }
    out
}

/// PEP 503 normalised Python project name: runs of `-`, `_`, `.` become one `-`, lower case.
pub fn pep503(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
            continue;
        }
        if sep && !out.is_empty() {
            out.push('-');
        }
        sep = false;
        out.extend(c.to_lowercase());
    }
    out
}

/// The identity of the image's operating system, from `etc/os-release`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsRelease {
    /// `ID` (`debian`, `alpine`, `rhel`, `fedora`, …).
    pub id: String,
    /// `VERSION_ID` (`12`, `3.19.1`), when set.
    pub version_id: Option<String>,
    /// `PRETTY_NAME`, when set.
    pub pretty_name: Option<String>,
}

impl OsRelease {
    /// Parses an os-release file (`KEY=value` lines, values optionally quoted).
    pub fn parse(text: &str) -> Option<Self> {
        let mut os = Self::default();
        for line in text.lines() {
            let Some((k, v)) = line.trim().split_once('=') else {
                continue;
            };
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|x| x.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')))
                .unwrap_or(v)
                .to_owned();
            match k.trim() {
                "ID" => os.id = v.to_ascii_lowercase(),
                "VERSION_ID" if !v.is_empty() => os.version_id = Some(v),
                "PRETTY_NAME" if !v.is_empty() => os.pretty_name = Some(v),
                _ => {}
            }
        }
        (!os.id.is_empty()).then_some(os)
    }

    /// The purl `distro` qualifier: `debian-12`, or the ID alone without a version.
    pub fn distro(&self) -> String {
        match &self.version_id {
            Some(v) => format!("{}-{v}", self.id),
            None => self.id.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls() {
        assert_eq!(
            build(
                "deb",
                Some("debian"),
                "libc6",
                "2.36-9+deb12u4",
                &[("distro", "debian-12".into()), ("arch", "amd64".into())]
            ),
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12"
        );
        assert_eq!(
            build("npm", Some("@types"), "node", "1.0.0", &[]),
            "pkg:npm/%40types/node@1.0.0"
        );
        assert_eq!(
            build("golang", Some("github.com/a/b"), "c", "v1.2.3", &[]),
            "pkg:golang/github.com/a/b/c@v1.2.3"
        );
        assert_eq!(
            build(
                "rpm",
                Some("fedora"),
                "bash",
                "1:5.2-1",
                &[("epoch", String::new())]
            ),
            "pkg:rpm/fedora/bash@1%3A5.2-1"
        );
        assert_eq!(build("pypi", None, "x y", "", &[]), "pkg:pypi/x%20y");
    }

    #[test]
    fn pep503_names() {
        assert_eq!(pep503("Foo.Bar__baz"), "foo-bar-baz");
        assert_eq!(pep503("zope.interface"), "zope-interface");
        assert_eq!(pep503("six"), "six");
    }

    #[test]
    fn os_release() {
        let os = OsRelease::parse(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n",
        )
        .expect("parsed");
        assert_eq!(os.id, "debian");
        assert_eq!(os.distro(), "debian-12");
        assert_eq!(
            os.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(OsRelease::parse("NAME=x\n"), None);
        let sid = OsRelease::parse("ID=debian\n").expect("parsed");
        assert_eq!(sid.distro(), "debian");
    }
}
