//! The keyword prefilter of the secret rules: which keywords a text contains, in as few SIMD
//! passes as the keywords allow.
//!
//! Each group of literals is searched with aho-corasick's "Teddy" searcher. Teddy checks a
//! fingerprint (the low and high nibbles of a literal's first bytes) in 8 buckets at once and
//! verifies the positions whose fingerprint a bucket accepts. A bucket accepts every
//! combination of its literals' nibbles, so literals that look alike (`ghp_`, `gho_`, `ghu_`)
//! cost one bucket little more than one literal, while unrelated literals in one bucket make it
//! accept much of ordinary text. The prefilter therefore places literals of four bytes or more
//! in buckets itself: greedily, each literal where it adds the least chance of a false
//! candidate on typical text (`assets/text-byte-frequencies.txt`). Twice the literals then fit
//! in one pass for the same false-candidate rate. Three-byte literals (shorter fingerprints)
//! share one group; one- or two-byte literals are searched alone with `memmem`.
//!
//! Teddy puts the first literal of each new low-nibble prefix into bucket `7 - id % 8` (id is
//! the literal's position in the group), and later literals of the same prefix into that same
//! bucket; the group's literal order realises the chosen buckets through that rule, with
//! repeats of a placed literal filling slots a bucket does not need. Were the rule to change,
//! matches would stay exact; only the speed would change.

use std::sync::LazyLock;

use aho_corasick::{packed, AhoCorasick};

use crate::{Error, Result};

/// Typical-text byte frequencies (parts per million).
const BYTE_FREQUENCIES: &str = include_str!("../../assets/text-byte-frequencies.txt");

/// Teddy's slim variant has 8 buckets.
const BUCKETS: usize = 8;
/// At most this many literals of four bytes or more share one pass.
const LONG_GROUP: usize = 40;
/// At most this many literals share one bucket.
const PER_BUCKET: usize = 6;
/// Fingerprint length of literals of four bytes or more.
const MASK: usize = 4;
/// At most this many three-byte literals per pass (3-byte fingerprints match text more often).
const SHORT_GROUP: usize = 13;

static FREQUENCY: LazyLock<[f64; 256]> = LazyLock::new(|| {
    let mut f = [1e-6; 256];
    for line in BYTE_FREQUENCIES.lines() {
        let mut it = line.split_whitespace();
        if let (Some(b), Some(ppm)) = (it.next(), it.next()) {
            if let (Ok(b), Ok(ppm)) = (b.parse::<u8>(), ppm.parse::<f64>()) {
                f[b as usize] = ppm / 1e6;
            }
        }
    }
    f
});

/// Keyword indexes found in a text.
#[derive(Debug, Clone, Default)]
pub struct Prefilter {
    groups: Vec<KeywordGroup>,
    /// Literals of one or two bytes, with their keyword index.
    tiny: Vec<(memchr::memmem::Finder<'static>, usize)>,
}

#[derive(Debug, Clone)]
struct KeywordGroup {
    packed: Option<packed::Searcher>,
    ac: Option<AhoCorasick>,
    /// Keyword index of each pattern of the group (a keyword may repeat).
    ids: Vec<usize>,
    /// Distinct keywords in the group.
    distinct: usize,
}

/// The chance that a text position matches a bucket's fingerprint: per byte of the
/// fingerprint, the share of text bytes whose low and high nibbles the bucket accepts.
fn false_candidate_rate(literals: &[&[u8]]) -> f64 {
    if literals.is_empty() {
        return 0.0;
    }
    let f = &*FREQUENCY;
    (0..MASK)
        .map(|k| {
            let (mut lo, mut hi) = (0u16, 0u16);
            for l in literals {
                lo |= 1 << (l[k] & 15);
                hi |= 1 << (l[k] >> 4);
            }
            (0..256usize)
                .filter(|&b| lo & (1 << (b & 15)) != 0 && hi & (1 << (b >> 4)) != 0)
                .map(|b| f[b])
                .sum::<f64>()
        })
        .product()
}

/// Literals sharing the low nibbles of their fingerprint: Teddy keeps them in one bucket.
fn units(literals: &[usize], kw: &[String]) -> Vec<Vec<usize>> {
    let mut units: Vec<(Vec<u8>, Vec<usize>)> = Vec::new();
    for &i in literals {
        let key: Vec<u8> = kw[i].as_bytes()[..MASK].iter().map(|b| b & 15).collect();
        match units.iter_mut().find(|(k, _)| *k == key) {
            Some((_, u)) => u.push(i),
            None => units.push((key, vec![i])),
        }
    }
    units.into_iter().map(|(_, u)| u).collect()
}

/// Buckets for `literals` (all of four bytes or more) over `groups` groups: greedy, largest
/// units first, each into the bucket its fingerprint raises the false-candidate rate least.
/// Returns groups of buckets of units of literals.
#[allow(clippy::type_complexity)]
fn place(literals: &[usize], kw: &[String], groups: usize) -> Vec<Vec<Vec<Vec<usize>>>> {
    let mut units = units(literals, kw);
    units.sort_by_key(|u| (std::cmp::Reverse(u.len()), u[0]));
    let mut buckets: Vec<Vec<Vec<usize>>> = vec![Vec::new(); groups * BUCKETS];
    let bytes = |b: &[Vec<usize>], extra: &[usize]| -> Vec<&[u8]> {
        b.iter()
            .flatten()
            .chain(extra)
            .map(|&i| kw[i].as_bytes())
            .collect()
    };
    for unit in units {
        let best = buckets
            .iter()
            .enumerate()
            .filter(|(_, b)| b.iter().map(Vec::len).sum::<usize>() + unit.len() <= PER_BUCKET)
            .map(|(i, b)| {
                let before = false_candidate_rate(&bytes(b, &[]));
                (i, false_candidate_rate(&bytes(b, &unit)) - before)
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i);
        match best {
            Some(i) => buckets[i].push(unit),
            // Every bucket full (a unit larger than a bucket): the emptiest takes it.
            None => {
                let i = (0..buckets.len())
                    .min_by_key(|&i| buckets[i].iter().map(Vec::len).sum::<usize>())
                    .unwrap_or(0);
                buckets[i].push(unit);
            }
        }
    }
    buckets
        .chunks(BUCKETS)
        .map(|c| c.iter().filter(|b| !b.is_empty()).cloned().collect())
        .collect()
}

impl Prefilter {
    /// Builds the passes for the keywords `kw` (each kept keyword once).
    pub fn build(kw: &[String], kept: &[usize]) -> Result<Self> {
        let of_len = |keep: &dyn Fn(usize) -> bool| -> Vec<usize> {
            kept.iter()
                .copied()
                .filter(|&i| keep(kw[i].len()))
                .collect()
        };
        let mut chunks: Vec<Vec<usize>> = Vec::new();
        let long = of_len(&|n| n >= MASK);
        let n_groups = long.len().div_ceil(LONG_GROUP);
        for group in place(&long, kw, n_groups.max(1)) {
            if !group.is_empty() {
                chunks.push(slots(&group));
            }
        }
        let short = of_len(&|n| n == 3);
        let n_short = short.len().div_ceil(SHORT_GROUP).max(1);
        let per = short.len().div_ceil(n_short).max(1);
        chunks.extend(short.chunks(per).map(<[usize]>::to_vec));
        let tiny = of_len(&|n| n < 3)
            .into_iter()
            .map(|i| {
                (
                    memchr::memmem::Finder::new(kw[i].as_bytes()).into_owned(),
                    i,
                )
            })
            .collect();
        let mut groups = Vec::new();
        for chunk in chunks {
            let pats: Vec<&str> = chunk.iter().map(|&i| kw[i].as_str()).collect();
            let searcher = packed::Config::new()
                .match_kind(packed::MatchKind::LeftmostFirst)
                .only_teddy_fat(Some(false))
                .builder()
                .extend(&pats)
                .build();
            let ac = match searcher {
                Some(_) => None,
                None => Some(
                    AhoCorasick::builder()
                        .match_kind(aho_corasick::MatchKind::LeftmostFirst)
                        .build(&pats)
                        .map_err(|e| Error::Other(format!("secret rule keywords: {e}")))?,
                ),
            };
            let mut distinct = chunk.clone();
            distinct.sort_unstable();
            distinct.dedup();
            groups.push(KeywordGroup {
                packed: searcher,
                ac,
                distinct: distinct.len(),
                ids: chunk,
            });
        }
        Ok(Self { groups, tiny })
    }

    /// Number of passes over a text (SIMD groups plus `memmem` searches).
    pub fn passes(&self) -> usize {
        self.groups.len() + self.tiny.len()
    }

    /// Calls `found` once for each keyword present in `content`.
    pub fn search(&self, content: &[u8], mut found: impl FnMut(usize)) {
        for (finder, k) in &self.tiny {
            if finder.find(content).is_some() {
                found(*k);
            }
        }
        for g in &self.groups {
            let mut seen = [false; 128];
            let mut reported: Vec<usize> = Vec::new();
            let mut left = g.distinct;
            let mut on = |p: usize| {
                let k = g.ids[p];
                if p < seen.len() && !seen[p] && !reported.contains(&k) {
                    seen[p] = true;
                    reported.push(k);
                    found(k);
                    left -= 1;
                }
                left == 0
            };
            if let Some(s) = &g.packed {
                for m in s.find_iter(content) {
                    if on(m.pattern().as_usize()) {
                        break;
                    }
                }
            } else if let Some(ac) = &g.ac {
                for m in ac.find_iter(content) {
                    if on(m.pattern().as_usize()) {
                        break;
                    }
                }
            }
        }
    }
}

/// The literal order of one group whose buckets are `buckets` (lists of units).
fn slots(buckets: &[Vec<Vec<usize>>]) -> Vec<usize> {
    let total: usize = buckets.iter().flatten().map(Vec::len).sum();
    let mut order: Vec<usize> = Vec::new();
    let mut next = vec![0usize; buckets.len()];
    let mut fillers: Vec<usize> = Vec::new();
    let mut placed = 0;
    while placed < total {
        // Teddy's bucket for a new prefix at this position is `7 - id % 8`; list bucket `j`
        // stands for Teddy bucket `7 - j`, so slot `id % 8 == j` opens list bucket `j`.
        let j = order.len() % BUCKETS;
        if let Some(unit) = buckets.get(j).and_then(|b| b.get(next[j])) {
            next[j] += 1;
            order.push(unit[0]);
            fillers.extend(&unit[1..]);
            placed += 1;
        } else if let Some(f) = fillers.pop() {
            order.push(f);
            placed += 1;
        } else {
            // Nothing placed fits this slot: repeat the first literal (its prefix is mapped).
            order.push(order[0]);
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kw(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn look_alike_literals_share_a_bucket() {
        let k = kw(&[
            "ghp_", "gho_", "ghu_", "AKIA", "ecret", "ECRET", "oken", "OKEN",
        ]);
        let all: Vec<usize> = (0..k.len()).collect();
        let groups = place(&all, &k, 1);
        let bucket_of = |i: usize| {
            groups[0]
                .iter()
                .position(|b| b.iter().flatten().any(|&x| x == i))
        };
        // Case pairs have the same low nibbles: one unit, one bucket.
        assert_eq!(bucket_of(4), bucket_of(5));
        assert_eq!(bucket_of(6), bucket_of(7));
        // Unrelated literals get buckets of their own while buckets are free.
        assert_ne!(bucket_of(3), bucket_of(4));
    }

    #[test]
    fn every_keyword_is_found_in_every_slot_layout() {
        let words = [
            "ghp_",
            "gho_",
            "ghu_",
            "ghs_",
            "ghr_",
            "AKIA",
            "ASIA",
            "ABIA",
            "ACCA",
            "ecret",
            "ECRET",
            "oken",
            "OKEN",
            "glpat-",
            "glrt-",
            "hvs.",
            "hvb.",
            "xox",
            "eyJ",
            "Q~",
            "PRIVATE KEY",
            "dckr_",
            "npm_",
            "_live_",
            "assw",
            "ASSW",
        ];
        let k = kw(&words);
        let kept: Vec<usize> = (0..k.len()).collect();
        let p = Prefilter::build(&k, &kept).expect("builds");
        for (i, w) in words.iter().enumerate() {
            let text = format!("some text before {w} and after");
            let mut got = Vec::new();
            p.search(text.as_bytes(), |x| got.push(x));
            assert!(got.contains(&i), "{w}: {got:?}");
            assert_eq!(got.iter().filter(|&&x| x == i).count(), 1, "{w} once");
        }
        let mut none = Vec::new();
        p.search(b"server listen include location proxy timeout", |x| {
            none.push(x)
        });
        assert!(none.is_empty(), "{none:?}");
    }

    #[test]
    fn fewer_passes_than_fixed_chunks() {
        let rules = crate::redact::rules::RuleSet::builtin().expect("rules");
        // 75 literals of four bytes or more in two passes, the 3-byte ones in one, `Q~` alone.
        assert!(
            rules.prefilter_passes() <= 4,
            "{}",
            rules.prefilter_passes()
        );
    }
}
