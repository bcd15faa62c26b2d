//! The images an archive or layout holds, as listed for a choice (`@N`, tag, digest).

/// How a user chooses one of several images (the tail of the several-images error).
pub const HOW_TO_CHOOSE: &str = "choose one with --image TAG|@N|sha256:DIGEST \
     (or docker-archive:PATH:TAG|@N, oci-archive:PATH:REF|@N, oci:DIR:REF|@N)";

/// One image of an archive or layout (see `source::list_images`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImageSummary {
    /// Position in `manifest.json` (or in `index.json` when there is none): the `N` of `@N`.
    pub index: usize,
    /// Tags and names the layout records for it.
    pub names: Vec<String>,
    /// Digest of its manifest or image index, when the layout has one.
    pub manifest_digest: Option<String>,
    /// Image ID: the digest of its config (of the host platform's for an index).
    pub id: Option<String>,
    /// Platforms it holds (`os/arch[/variant]`).
    pub platforms: Vec<String>,
    /// Bytes of its layer blobs as stored (of the host platform's for an index).
    pub size: Option<u64>,
    /// `created` of its config.
    pub created: Option<String>,
}

impl ImageSummary {
    /// How a message names it: its first name, else its short manifest digest or image ID.
    pub fn label(&self) -> String {
        if let Some(n) = self.names.first() {
            return n.clone();
        }
        let d = self
            .manifest_digest
            .as_deref()
            .or(self.id.as_deref())
            .unwrap_or("untagged");
        d.chars().take(7 + 12).collect()
    }

    /// The selector that picks exactly this image: a name, else `@N`.
    pub fn selector(&self) -> String {
        self.names
            .first()
            .cloned()
            .unwrap_or_else(|| format!("@{}", self.index))
    }
}

/// The image list of an error message: `@0 app:1, @1 app:2, … and N more`.
pub fn describe(images: &[ImageSummary]) -> String {
    let mut parts: Vec<String> = images
        .iter()
        .take(10)
        .map(|i| format!("@{} {}", i.index, super::sanitize(&i.label())))
        .collect();
    if images.len() > 10 {
        parts.push(format!("and {} more", images.len() - 10));
    }
    parts.join(", ")
}
