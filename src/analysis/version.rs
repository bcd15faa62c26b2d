//! Version order by each package manager's own rules: dpkg (Debian policy 5.6.12: epochs,
//! `~` before everything, revisions), apk (Alpine: `.`-separated numbers, a letter, `_alpha` …
//! `_rc` before the release and `_cvs` … `_p` after it, `~hash`, `-rN`), PEP 440 for Python
//! (pre-, post-, dev-releases and local versions, through `pep440_rs`) and SemVer for npm
//! (pre-releases, build metadata ignored, through `semver`).
//!
//! A version a manager's grammar rejects is still ordered, by the dpkg algorithm over the whole
//! string (digits numerically, letters before punctuation), so a comparison never fails.

use std::cmp::Ordering;
use std::str::FromStr;

/// Compares two versions of a package of `manager` (`dpkg`, `apk`, `python`, `npm`; anything
/// else falls back to the dpkg algorithm over the whole string).
pub fn compare(manager: &str, a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    match manager {
        "dpkg" => dpkg(a, b),
        "apk" => apk(a, b).unwrap_or_else(|| verrevcmp(a.as_bytes(), b.as_bytes())),
        "python" => pep440(a, b).unwrap_or_else(|| verrevcmp(a.as_bytes(), b.as_bytes())),
        "npm" => semver(a, b).unwrap_or_else(|| verrevcmp(a.as_bytes(), b.as_bytes())),
        _ => verrevcmp(a.as_bytes(), b.as_bytes()),
    }
}

// ---------------------------------------------------------------------------------------------
// dpkg
// ---------------------------------------------------------------------------------------------

/// Compares two Debian versions `[epoch:]upstream[-revision]` as `dpkg --compare-versions`.
pub fn dpkg(a: &str, b: &str) -> Ordering {
    let (ea, ua, ra) = split_deb(a);
    let (eb, ub, rb) = split_deb(b);
    cmp_digits(ea, eb)
        .then_with(|| verrevcmp(ua.as_bytes(), ub.as_bytes()))
        .then_with(|| verrevcmp(ra.as_bytes(), rb.as_bytes()))
}

/// Splits `epoch:upstream-revision`; a missing epoch is `0`, a missing revision is empty
/// (which dpkg orders like `0`).
fn split_deb(v: &str) -> (&str, &str, &str) {
    let v = v.trim();
    let (epoch, rest) = match v.split_once(':') {
        Some((e, r)) if !e.is_empty() && e.bytes().all(|c| c.is_ascii_digit()) => (e, r),
        _ => ("0", v),
    };
    match rest.rsplit_once('-') {
        Some((u, r)) => (epoch, u, r),
        None => (epoch, rest, ""),
    }
}

/// Weight of a non-digit character in dpkg's order: `~` sorts before the end of the string,
/// letters before every other character.
fn dpkg_weight(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's comparison of one version part: alternating non-digit runs (by [`dpkg_weight`]) and
/// digit runs (numerically, any length).
fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    let digit = |s: &[u8], k: usize| s.get(k).is_some_and(u8::is_ascii_digit);
    while i < a.len() || j < b.len() {
        while (i < a.len() && !digit(a, i)) || (j < b.len() && !digit(b, j)) {
            let (wa, wb) = (
                dpkg_weight(a.get(i).copied()),
                dpkg_weight(b.get(j).copied()),
            );
            if wa != wb {
                return wa.cmp(&wb);
            }
            i += 1;
            j += 1;
        }
        let si = i;
        while digit(a, i) {
            i += 1;
        }
        let sj = j;
        while digit(b, j) {
            j += 1;
        }
        let na = std::str::from_utf8(&a[si.min(a.len())..i.min(a.len())]).unwrap_or("");
        let nb = std::str::from_utf8(&b[sj.min(b.len())..j.min(b.len())]).unwrap_or("");
        let o = cmp_digits(na, nb);
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// Compares two runs of ASCII digits as numbers of any length (empty = 0).
fn cmp_digits(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

// ---------------------------------------------------------------------------------------------
// apk
// ---------------------------------------------------------------------------------------------

/// Token kinds of an Alpine version, in the order that decides which of two versions that
/// agree up to the point where one has more tokens is older.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum ApkToken {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNumber,
    CommitHash,
    Revision,
    End,
    Invalid,
}

/// Suffixes in release order; `None` stands for the release itself.
const APK_SUFFIXES: [&str; 10] = [
    "alpha", "beta", "pre", "rc", "", "cvs", "svn", "git", "hg", "p",
];
const APK_RELEASE: usize = 4;

struct ApkTokens<'a> {
    rest: &'a str,
    last: ApkToken,
}

impl<'a> ApkTokens<'a> {
    fn new(v: &'a str) -> Self {
        Self {
            rest: v.trim(),
            last: ApkToken::InitialDigit,
        }
    }

    fn take_while(&mut self, f: impl Fn(char) -> bool) -> &'a str {
        let n = self.rest.find(|c: char| !f(c)).unwrap_or(self.rest.len());
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        head
    }

    /// The next token and its text (the first call reads the initial number).
    fn next(&mut self, first: bool) -> (ApkToken, &'a str) {
        let kind = if first {
            ApkToken::InitialDigit
        } else {
            let Some(c) = self.rest.chars().next() else {
                return (ApkToken::End, "");
            };
            match c {
                'a'..='z' if self.last <= ApkToken::Digit => {
                    let (l, tail) = self.rest.split_at(1);
                    self.rest = tail;
                    self.last = ApkToken::Letter;
                    return (ApkToken::Letter, l);
                }
                '.' | '0'..='9' if c != '.' || self.last <= ApkToken::Digit => {
                    if c == '.' {
                        self.rest = &self.rest[1..];
                    }
                    match self.last {
                        ApkToken::InitialDigit | ApkToken::Digit => ApkToken::Digit,
                        ApkToken::Suffix => ApkToken::SuffixNumber,
                        _ => return (ApkToken::Invalid, ""),
                    }
                }
                '_' if self.last <= ApkToken::SuffixNumber => {
                    self.rest = &self.rest[1..];
                    let s = self.take_while(|c| c.is_ascii_lowercase());
                    self.last = ApkToken::Suffix;
                    return if APK_SUFFIXES.contains(&s) && !s.is_empty() {
                        (ApkToken::Suffix, s)
                    } else {
                        (ApkToken::Invalid, "")
                    };
                }
                '~' if self.last < ApkToken::CommitHash => {
                    self.rest = &self.rest[1..];
                    let h = self.take_while(|c| c.is_ascii_hexdigit());
                    self.last = ApkToken::CommitHash;
                    return if h.is_empty() {
                        (ApkToken::Invalid, "")
                    } else {
                        (ApkToken::CommitHash, h)
                    };
                }
                '-' if self.last < ApkToken::Revision && self.rest.starts_with("-r") => {
                    self.rest = &self.rest[2..];
                    ApkToken::Revision
                }
                _ => return (ApkToken::Invalid, ""),
            }
        };
        let digits = self.take_while(|c| c.is_ascii_digit());
        self.last = kind;
        if digits.is_empty() {
            (ApkToken::Invalid, "")
        } else {
            (kind, digits)
        }
    }
}

fn suffix_rank(s: &str) -> usize {
    APK_SUFFIXES
        .iter()
        .position(|x| *x == s)
        .unwrap_or(APK_RELEASE)
}

/// Compares two Alpine versions as `apk version -t`; `None` when either is not a valid apk
/// version.
pub fn apk(a: &str, b: &str) -> Option<Ordering> {
    let (mut ta, mut tb) = (ApkTokens::new(a), ApkTokens::new(b));
    let (mut ka, mut va) = ta.next(true);
    let (mut kb, mut vb) = tb.next(true);
    while ka == kb && ka < ApkToken::End {
        let o = match ka {
            ApkToken::Digit if va.starts_with('0') || vb.starts_with('0') => va.cmp(vb),
            ApkToken::InitialDigit
            | ApkToken::Digit
            | ApkToken::SuffixNumber
            | ApkToken::Revision => cmp_digits(va, vb),
            ApkToken::Suffix => suffix_rank(va).cmp(&suffix_rank(vb)),
            _ => va.cmp(vb),
        };
        if o != Ordering::Equal {
            return Some(o);
        }
        (ka, va) = ta.next(false);
        (kb, vb) = tb.next(false);
    }
    if ka == ApkToken::Invalid || kb == ApkToken::Invalid {
        return None;
    }
    if ka == kb {
        return Some(Ordering::Equal);
    }
    // Equal so far: the longer one is newer, unless what it adds is a pre-release suffix.
    if ka == ApkToken::Suffix && suffix_rank(va) < APK_RELEASE {
        return Some(Ordering::Less);
    }
    if kb == ApkToken::Suffix && suffix_rank(vb) < APK_RELEASE {
        return Some(Ordering::Greater);
    }
    Some(kb.cmp(&ka))
}

// ---------------------------------------------------------------------------------------------
// PEP 440 and SemVer
// ---------------------------------------------------------------------------------------------

/// Compares two PEP 440 versions; `None` when either does not parse.
pub fn pep440(a: &str, b: &str) -> Option<Ordering> {
    let a = pep440_rs::Version::from_str(a.trim()).ok()?;
    let b = pep440_rs::Version::from_str(b.trim()).ok()?;
    Some(a.cmp(&b))
}

/// Compares two SemVer versions by precedence (build metadata ignored; a leading `v` or `=`
/// allowed, as npm cleans them); `None` when either does not parse.
pub fn semver(a: &str, b: &str) -> Option<Ordering> {
    let parse = |s: &str| {
        let s = s.trim().trim_start_matches(['v', '=']);
        semver::Version::parse(s).ok()
    };
    Some(parse(a)?.cmp_precedence(&parse(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::{Equal, Greater, Less};

    /// Every list is strictly increasing: each pair is checked both ways.
    fn increasing(manager: &str, list: &[&str]) {
        for (i, a) in list.iter().enumerate() {
            for (j, b) in list.iter().enumerate() {
                assert_eq!(
                    compare(manager, a, b),
                    i.cmp(&j),
                    "{manager}: {a} vs {b} should be {:?}",
                    i.cmp(&j)
                );
            }
        }
    }

    #[test]
    fn dpkg_order() {
        increasing(
            "dpkg",
            &[
                "1.0~~",
                "1.0~~a",
                "1.0~",
                "1.0~rc1",
                "1.0",
                "1.0-0.1",
                "1.0-1",
                "1.0-1+deb12u1",
                "1.0-1.1",
                "1.0a",
                "1.0+dfsg",
                "1.0.1",
                "1.2",
                "1.10",
                "1:0.1",
                "1:0.9-1",
                "2:0.0",
            ],
        );
        assert_eq!(dpkg("1.0", "1.0-0"), Equal);
        assert_eq!(dpkg("0:1.0", "1.0"), Equal);
        assert_eq!(dpkg("1.01", "1.1"), Equal);
        assert_eq!(dpkg("2.36-9+deb12u7", "2.36-9+deb12u10"), Less);
        assert_eq!(dpkg("12.2.0-14", "12.2.0-14+deb12u1"), Less);
        assert_eq!(
            dpkg("1.2-3-4", "1.2-3-3"),
            Greater,
            "revision after the last hyphen"
        );
        assert_eq!(
            dpkg("9999999999999999999999", "10000000000000000000000"),
            Less
        );
    }

    #[test]
    fn apk_order() {
        increasing(
            "apk",
            &[
                "1.0_alpha",
                "1.0_alpha2",
                "1.0_beta",
                "1.0_pre1",
                "1.0_rc1",
                "1.0_rc1-r1",
                "1.0_rc2",
                "1.0",
                "1.0-r1",
                "1.0-r2",
                "1.0-r10",
                "1.0_cvs",
                "1.0_git20230101",
                "1.0_p1",
                "1.0a",
                "1.0b",
                "1.0.1",
                "1.1",
                "1.10",
                "2",
            ],
        );
        assert_eq!(apk("1.2.4-r2", "1.2.4-r2"), Some(Equal));
        assert_eq!(
            apk("1.01", "1.1"),
            Some(Less),
            "a leading zero compares as text"
        );
        assert_eq!(apk("1.010", "1.02"), Some(Less));
        assert_eq!(apk("1.0~abc", "1.0~abd"), Some(Less));
        assert_eq!(
            apk("1.0~abc-r1", "1.0-r1"),
            Some(Greater),
            "more tokens: newer"
        );
        assert_eq!(apk("3.1.4_p20230101-r0", "3.1.4-r5"), Some(Greater));
        assert_eq!(apk("1.0_bogus", "1.0"), None);
        assert_eq!(apk("1.0-x1", "1.0"), None);
        // Invalid apk versions still get an order.
        assert_eq!(compare("apk", "1.0_bogus", "1.0_bogus2"), Less);
    }

    #[test]
    fn pep440_order() {
        increasing(
            "python",
            &[
                "1.0.dev0",
                "1.0a1.dev1",
                "1.0a1",
                "1.0a2",
                "1.0b1",
                "1.0rc1",
                "1.0",
                "1.0+local.1",
                "1.0+local.2",
                "1.0.post1.dev0",
                "1.0.post1",
                "1.1",
                "1.10",
                "1!0.5",
            ],
        );
        assert_eq!(pep440("1.0", "1.0.0"), Some(Equal));
        assert_eq!(pep440("1.0RC1", "1.0rc1"), Some(Equal));
        assert_eq!(pep440("1.0-1", "1.0.post1"), Some(Equal));
        assert_eq!(pep440("not a version", "1.0"), None);
    }

    #[test]
    fn semver_order() {
        increasing(
            "npm",
            &[
                "1.0.0-0",
                "1.0.0-alpha",
                "1.0.0-alpha.1",
                "1.0.0-alpha.beta",
                "1.0.0-beta",
                "1.0.0-beta.2",
                "1.0.0-beta.11",
                "1.0.0-rc.1",
                "1.0.0",
                "1.0.1",
                "1.2.0",
                "1.10.0",
                "2.0.0",
            ],
        );
        assert_eq!(semver("1.0.0+build.1", "1.0.0+build.2"), Some(Equal));
        assert_eq!(semver("v1.2.3", "1.2.3"), Some(Equal));
        assert_eq!(semver("1.2", "1.2.0"), None);
        assert_eq!(compare("npm", "1.2", "1.10"), Less);
    }
}
