//! The daemon's image list (`docker images`).

use super::*;

/// One row of the local image list (like a row of `docker images`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocalImage {
    /// Repository, or `<none>`.
    pub repository: String,
    /// Tag, or `<none>`.
    pub tag: String,
    /// Full image id (`sha256:…`).
    pub id: String,
    /// The first 12 hex digits of the id, as `docker images` shows it.
    pub short_id: String,
    /// Creation time, seconds since the Unix epoch.
    pub created: i64,
    /// Size the daemon reports (all layers, shared ones included), in bytes.
    pub size_bytes: u64,
    /// No tag and no digest: `<none>:<none>`.
    pub dangling: bool,
    /// Every tag of the image (a multi-tag image has one row per tag).
    pub repo_tags: Vec<String>,
    /// Registry digests of the image.
    pub repo_digests: Vec<String>,
    /// What to pass to `strata` to open this row: `repository:tag`, or the id.
    pub reference: String,
}

/// Strips `docker.io/library/` and `docker.io/` like the docker CLI's familiar names.
pub(super) fn familiar(name: &str) -> &str {
    name.strip_prefix("docker.io/library/")
        .or_else(|| name.strip_prefix("docker.io/"))
        .unwrap_or(name)
}

/// Splits `repo:tag` at the last `:` after the last `/`.
pub(super) fn split_tag(r: &str) -> Option<(&str, &str)> {
    let slash = r.rfind('/').map_or(0, |i| i + 1);
    let colon = r[slash..].rfind(':')? + slash;
    Some((&r[..colon], &r[colon + 1..]))
}

pub(super) fn rows_of(s: &bollard::models::ImageSummary) -> Vec<LocalImage> {
    let tags: Vec<String> = s
        .repo_tags
        .iter()
        .filter(|t| t.as_str() != "<none>:<none>")
        .cloned()
        .collect();
    let digests: Vec<String> = s
        .repo_digests
        .iter()
        .filter(|d| d.as_str() != "<none>@<none>")
        .cloned()
        .collect();
    let hex = s.id.strip_prefix("sha256:").unwrap_or(&s.id);
    let short_id: String = hex.chars().take(12).collect();
    let row = |repository: &str, tag: &str| {
        let dangling = tags.is_empty() && digests.is_empty();
        LocalImage {
            repository: repository.to_owned(),
            tag: tag.to_owned(),
            id: s.id.clone(),
            short_id: short_id.clone(),
            created: s.created,
            size_bytes: u64::try_from(s.size).unwrap_or(0),
            dangling,
            repo_tags: tags.clone(),
            repo_digests: digests.clone(),
            reference: if tag == "<none>" {
                s.id.clone()
            } else {
                format!("{repository}:{tag}")
            },
        }
    };
    let mut rows = Vec::new();
    let mut tagged_repos = Vec::new();
    for t in &tags {
        if let Some((repo, tag)) = split_tag(t) {
            let repo = familiar(repo);
            rows.push(row(repo, tag));
            tagged_repos.push(repo.to_owned());
        }
    }
    // Repositories known only by digest get one `<none>` row each, as in the docker CLI.
    let mut digest_repos: Vec<&str> = Vec::new();
    for d in &digests {
        if let Some((repo, _)) = d.split_once('@') {
            let repo = familiar(repo);
            if !tagged_repos.iter().any(|r| r == repo) && !digest_repos.contains(&repo) {
                digest_repos.push(repo);
            }
        }
    }
    for repo in digest_repos {
        rows.push(row(repo, "<none>"));
    }
    if rows.is_empty() {
        rows.push(row("<none>", "<none>"));
    }
    rows
}

/// Lists the daemon's images (not the intermediate ones): one row per `repository:tag`, one
/// `<none>:<none>` row per dangling image, newest first.
pub fn list_images() -> Result<Vec<LocalImage>> {
    list_images_from(&endpoint()?)
}

/// [`list_images`] on an explicit endpoint.
pub fn list_images_from(ep: &Endpoint) -> Result<Vec<LocalImage>> {
    let ep = ep.clone();
    block_on(async move {
        let conn = connect(ep).await?;
        let opts = ListImagesOptions {
            all: false,
            ..Default::default()
        };
        let list = conn
            .docker
            .list_images(Some(opts))
            .await
            .map_err(|e| map_error(&conn.ep, None, &e))?;
        let mut rows: Vec<LocalImage> = list.iter().flat_map(rows_of).collect();
        sort_newest_first(&mut rows);
        Ok(rows)
    })?
}

/// For a reference without tag or digest (`local/debian`), the daemon's tags of that repository
/// (`local/debian:bookworm`), newest first: what to suggest when `:latest` is not there. Empty
/// when the reference names a tag or digest, or the daemon cannot be asked.
pub fn tags_for_untagged(reference: &str) -> Vec<String> {
    if reference.contains('@') || split_tag(reference).is_some() {
        return Vec::new();
    }
    let wanted = familiar(reference.strip_prefix("library/").unwrap_or(reference));
    let Ok(images) = list_images() else {
        return Vec::new();
    };
    images
        .into_iter()
        .filter(|i| i.tag != "<none>" && familiar(&i.repository) == wanted)
        .map(|i| format!("{}:{}", i.repository, i.tag))
        .collect()
}

/// The one order of every image list (`strata images` and the explorer): newest first, then
/// by repository and tag, so equal creation times do not shuffle between runs.
pub fn sort_newest_first(rows: &mut [LocalImage]) {
    rows.sort_by(|a, b| {
        b.created
            .cmp(&a.created)
            .then_with(|| a.repository.cmp(&b.repository))
            .then_with(|| a.tag.cmp(&b.tag))
            .then_with(|| a.id.cmp(&b.id))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_follow_the_docker_cli() {
        let mut s = bollard::models::ImageSummary {
            id: "sha256:0123456789abcdef".into(),
            created: 5,
            size: 42,
            ..Default::default()
        };
        let r = rows_of(&s);
        assert_eq!(r.len(), 1);
        assert!(r[0].dangling);
        assert_eq!(
            (r[0].repository.as_str(), r[0].tag.as_str()),
            ("<none>", "<none>")
        );
        assert_eq!(r[0].short_id, "0123456789ab");
        assert_eq!(r[0].reference, "sha256:0123456789abcdef");
        s.repo_tags = vec![
            "localhost:5000/a/b:1".into(),
            "docker.io/library/c:latest".into(),
        ];
        s.repo_digests = vec![
            "x/y@sha256:aa".into(),
            "localhost:5000/a/b@sha256:bb".into(),
        ];
        let r = rows_of(&s);
        let names: Vec<String> = r
            .iter()
            .map(|x| format!("{}:{}", x.repository, x.tag))
            .collect();
        assert_eq!(names, ["localhost:5000/a/b:1", "c:latest", "x/y:<none>"]);
        assert!(r.iter().all(|x| !x.dangling));
        assert_eq!(r[0].reference, "localhost:5000/a/b:1");
    }

    #[test]
    fn lists_sort_newest_first_then_by_name() {
        let row = |repo: &str, created: i64| LocalImage {
            repository: repo.into(),
            tag: "1".into(),
            id: format!("sha256:{repo}"),
            short_id: repo.into(),
            created,
            size_bytes: 1,
            dangling: false,
            repo_tags: vec![],
            repo_digests: vec![],
            reference: format!("{repo}:1"),
        };
        let mut rows = vec![row("b", 5), row("a", 5), row("old", 1), row("new", 9)];
        sort_newest_first(&mut rows);
        let names: Vec<&str> = rows.iter().map(|r| r.repository.as_str()).collect();
        assert_eq!(names, ["new", "a", "b", "old"]);
    }
}
