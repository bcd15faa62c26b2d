//! The content inspector run by the engine during its single pass over the layers: secret
//! rules on every text file it wants, and package databases kept in memory for the inventory.

use std::sync::Arc;

use crate::config::FindingsConfig;
use crate::redact::rules::RuleSet;
use crate::source::layer::{ContentInspector, Inspection};

/// Files smaller than this cannot hold any secret a content rule recognises.
const MIN_SCAN_BYTES: u64 = 16;
/// Package databases larger than this are not kept.
const MAX_DB_BYTES: u64 = 16 << 20;

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

impl ContentInspector for Inspector {
    fn wants(&self, path: &[u8], size: u64) -> bool {
        if super::packages::is_package_db(path) {
            return size <= MAX_DB_BYTES;
        }
        if size < MIN_SCAN_BYTES || self.rules.path_allowed(path) {
            return false;
        }
        size <= self.rules.max_file_bytes || self.rules.is_secret_file(path)
    }

    fn inspect(&self, path: &[u8], content: &[u8]) -> Inspection {
        if super::packages::is_package_db(path) {
            return Inspection {
                matches: Vec::new(),
                keep: true,
            };
        }
        Inspection {
            matches: self.rules.scan(path, content),
            keep: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wants_text_files_and_package_databases() {
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
        let kept = i.inspect(b"var/lib/dpkg/status", b"Package: a\n");
        assert!(kept.keep && kept.matches.is_empty());
    }
}
