//! The content inspector run by the engine during its single pass over the layers: secret
//! rules on every text file it wants, package databases kept in memory for the inventory, and
//! binaries and Java archives reduced to the packages they embed.

use std::sync::Arc;

use super::packages;
use crate::config::FindingsConfig;
use crate::model::path::split_parent;
use crate::redact::rules::RuleSet;
use crate::source::layer::{ContentInspector, Inspection};

/// Files smaller than this cannot hold any secret a content rule recognises.
const MIN_SCAN_BYTES: u64 = 16;
/// Secret-file candidates (`.env`, keystores) larger than this are not read.
const MAX_SECRET_FILE_BYTES: u64 = 16 << 20;
/// Binaries and Java archives larger than this are not read for the packages they embed.
const MAX_ARCHIVE_BYTES: u64 = crate::source::layer::MAX_INSPECT_BYTES;
/// Smallest ELF executable worth reading for build information.
const MIN_BINARY_BYTES: u64 = 1024;

/// Secret scanner and package-database collector for [`crate::source::layer::ScanOptions`].
#[derive(Debug, Clone)]
pub struct Inspector {
    rules: Arc<RuleSet>,
}

impl Inspector {
    /// An inspector using the rules of `cfg`.
    pub fn new(cfg: &FindingsConfig) -> Self {
        Self {
            rules: cfg.rules.clone(),
        }
    }
}

/// A file name without an extension (`app`, `kubectl`) may be an executable: outside the
/// paths the secret rules skip (docs, man pages), it is read whatever its size, to find Go or
/// Rust build information.
fn may_be_executable(path: &[u8]) -> bool {
    !split_parent(path).1.contains(&b'.')
}

impl Inspector {
    /// True when the secret rules read a file of this path and size.
    fn scans(&self, path: &[u8], size: u64) -> bool {
        if size < MIN_SCAN_BYTES || self.rules.path_allowed(path) {
            return false;
        }
        size <= self.rules.max_file_bytes
            || self.rules.is_secret_file(path) && size <= MAX_SECRET_FILE_BYTES
    }
}

impl ContentInspector for Inspector {
    fn wants(&self, path: &[u8], size: u64) -> bool {
        if packages::is_package_db(path) {
            return size <= packages::MAX_DB_BYTES;
        }
        if packages::java::is_archive(path)
            || size >= MIN_BINARY_BYTES && may_be_executable(path) && !self.rules.path_allowed(path)
        {
            return size <= MAX_ARCHIVE_BYTES;
        }
        self.scans(path, size)
    }

    fn inspect(&self, path: &[u8], content: &[u8]) -> Inspection {
        if packages::is_package_db(path) {
            return Inspection {
                keep: true,
                ..Inspection::default()
            };
        }
        // Java archives of any size (a manifest-only jar is a few hundred bytes); executables
        // from MIN_BINARY_BYTES.
        let derived =
            if packages::java::is_archive(path) || content.len() as u64 >= MIN_BINARY_BYTES {
                packages::derive(path, content)
            } else {
                None
            };
        Inspection {
            matches: if self.scans(path, content.len() as u64) {
                self.rules.scan(path, content)
            } else {
                Vec::new()
            },
            keep: false,
            derived,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wants_text_files_package_databases_and_binaries() {
        let i = Inspector::new(&FindingsConfig::default());
        assert!(i.wants(b"app/config.yml", 200));
        assert!(!i.wants(b"app/config.yml", 3 << 20));
        assert!(
            i.wants(b"app/.env", 3 << 20),
            "secret file names are read whatever their size"
        );
        assert!(!i.wants(b"usr/share/doc/x/copyright", 2000));
        assert!(!i.wants(b"usr/lib/libx.so.1.2", 2000));
        assert!(!i.wants(b"app/tiny", 4));
        assert!(i.wants(b"var/lib/dpkg/status", 4 << 20));
        assert!(i.wants(b"var/lib/rpm/rpmdb.sqlite", 40 << 20));
        assert!(i.wants(b"usr/local/bin/kubectl", 50 << 20));
        assert!(i.wants(b"srv/app.war", 50 << 20));
        assert!(!i.wants(b"srv/data.bin", 50 << 20));
        let kept = i.inspect(b"var/lib/dpkg/status", b"Package: a\n");
        assert!(kept.keep && kept.matches.is_empty() && kept.derived.is_none());
        let plain = i.inspect(b"usr/bin/tool", &[0x7f; 4096]);
        assert!(!plain.keep && plain.derived.is_none());
        assert!(i.wants(b"srv/tiny.jar", 300), "small jars are read");
    }
}
