//! The `strata images` list: a table like `docker images`, or JSON.

use crate::source::daemon::LocalImage;

/// "7 minutes", "About an hour", ... like the docker CLI's human durations.
pub fn human_age(secs: i64) -> String {
    let s = secs.max(0);
    let m = s / 60;
    let h = (s + 1800) / 3600;
    match () {
        () if s < 1 => "Less than a second".into(),
        () if s == 1 => "1 second".into(),
        () if s < 60 => format!("{s} seconds"),
        () if m == 1 => "About a minute".into(),
        () if m < 60 => format!("{m} minutes"),
        () if h == 1 => "About an hour".into(),
        () if h < 48 => format!("{h} hours"),
        () if h < 24 * 14 => format!("{} days", h / 24),
        () if h < 24 * 60 => format!("{} weeks", h / 24 / 7),
        () if h < 24 * 365 * 2 => format!("{} months", h / 24 / 30),
        () => format!("{} years", s / 3600 / 24 / 365),
    }
}

/// Renders the list like `docker images`; `now` is seconds since the epoch.
pub fn images_table(images: &[LocalImage], now: i64) -> String {
    let header = ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"];
    let rows: Vec<[String; 5]> = images
        .iter()
        .map(|i| {
            [
                crate::model::sanitize(&i.repository),
                crate::model::sanitize(&i.tag),
                crate::model::sanitize(&i.short_id),
                format!("{} ago", human_age(now - i.created)),
                crate::text::bytes(i.size_bytes),
            ]
        })
        .collect();
    let mut width = header.map(str::len);
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: [&str; 5]| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                l.push_str(c);
                let pad = width[i] - c.chars().count() + 3;
                l.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(header);
    for r in &rows {
        line([&r[0], &r[1], &r[2], &r[3], &r[4]]);
    }
    out
}

/// The list as the JSON array documented in docs/report-schema.md ("strata images --format json").
pub fn images_json(images: &[LocalImage]) -> String {
    let safe: Vec<LocalImage> = images
        .iter()
        .map(|i| LocalImage {
            repository: crate::model::sanitize(&i.repository),
            tag: crate::model::sanitize(&i.tag),
            repo_tags: i
                .repo_tags
                .iter()
                .map(|t| crate::model::sanitize(t))
                .collect(),
            repo_digests: i
                .repo_digests
                .iter()
                .map(|t| crate::model::sanitize(t))
                .collect(),
            reference: crate::model::sanitize(&i.reference),
            ..i.clone()
        })
        .collect();
    serde_json::to_string_pretty(&safe).unwrap_or_else(|_| "[]".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_docker() {
        assert_eq!(human_age(0), "Less than a second");
        assert_eq!(human_age(59), "59 seconds");
        assert_eq!(human_age(60), "About a minute");
        assert_eq!(human_age(7 * 60 + 3), "7 minutes");
        assert_eq!(human_age(3600), "About an hour");
        assert_eq!(human_age(5 * 3600), "5 hours");
        assert_eq!(human_age(3 * 86400), "3 days");
        assert_eq!(human_age(20 * 86400), "2 weeks");
        assert_eq!(human_age(100 * 86400), "3 months");
        assert_eq!(human_age(800 * 86400), "2 years");
    }

    #[test]
    fn table_aligns_columns() {
        let img = LocalImage {
            repository: "strata-test/multi".into(),
            tag: "1".into(),
            id: "sha256:cc".into(),
            short_id: "cc9450dcc75d".into(),
            created: 100,
            size_bytes: 1_984_307,
            dangling: false,
            repo_tags: vec![],
            repo_digests: vec![],
            reference: "strata-test/multi:1".into(),
        };
        let t = images_table(&[img], 100 + 420);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "REPOSITORY          TAG   IMAGE ID       CREATED         SIZE"
        );
        assert_eq!(
            lines[1],
            "strata-test/multi   1     cc9450dcc75d   7 minutes ago   1.9 MiB"
        );
    }
}
