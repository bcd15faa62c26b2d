//! Path handling for layer entries: names are bytes, normalised lexically under `/`.

/// Normalises a tar member name to a relative path under the image root.
///
/// Leading `/` and `./` are dropped, `.` components and empty components are removed and `..`
/// pops a component but never climbs above the root. Trailing slashes vanish. The root itself
/// normalises to an empty path. Nothing is ever resolved against the host.
pub fn normalize(raw: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for part in raw.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join(&b'/')
}

/// Splits a normalised path into its parent and its last component.
pub fn split_parent(path: &[u8]) -> (&[u8], &[u8]) {
    match path.iter().rposition(|&b| b == b'/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (&[], path),
    }
}

/// Joins a normalised parent path and a name.
pub fn join(parent: &[u8], name: &[u8]) -> Vec<u8> {
    if parent.is_empty() {
        name.to_vec()
    } else {
        let mut v = Vec::with_capacity(parent.len() + 1 + name.len());
        v.extend_from_slice(parent);
        v.push(b'/');
        v.extend_from_slice(name);
        v
    }
}

/// Renders a path for display with a leading `/`, keeping non-UTF-8 bytes as `\xNN` escapes
/// and control characters visible (never raw), so hostile names stay inert on a terminal.
pub fn display(path: &[u8]) -> String {
    let mut s = String::with_capacity(path.len() + 1);
    s.push('/');
    s.push_str(&crate::model::sanitize_bytes(path));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_relative_absolute_and_dot_dot() {
        assert_eq!(normalize(b"./etc/passwd"), b"etc/passwd");
        assert_eq!(normalize(b"/etc//passwd/"), b"etc/passwd");
        assert_eq!(normalize(b"../../etc/./x"), b"etc/x");
        assert_eq!(normalize(b"a/b/../c"), b"a/c");
        assert_eq!(normalize(b"./"), b"");
        assert_eq!(normalize(b"caf\xe9"), b"caf\xe9");
    }

    #[test]
    fn splits_and_joins() {
        assert_eq!(split_parent(b"a/b/c"), (&b"a/b"[..], &b"c"[..]));
        assert_eq!(split_parent(b"c"), (&b""[..], &b"c"[..]));
        assert_eq!(join(b"", b"x"), b"x");
        assert_eq!(join(b"a", b"x"), b"a/x");
    }

    proptest::proptest! {
        #[test]
        fn normalize_is_idempotent(raw in proptest::collection::vec(proptest::sample::select(vec![b'a', b'/', b'.', 0xe9u8]), 0..40)) {
            let once = normalize(&raw);
            proptest::prop_assert_eq!(normalize(&once), once.clone());
            proptest::prop_assert!(!once.starts_with(b"/"));
            proptest::prop_assert!(!once.split(|&b| b == b'/').any(|c| c == b".." || c == b"." ));
        }
    }
}
