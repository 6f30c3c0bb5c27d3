//! `[list]`: the cross-vendor list's cursor key and memory bounds
//! (PRODUCT §8), and `data_dir`, where a generated key is kept.

use std::io::Write;
use std::path::{Path, PathBuf};

use checkout_core::Secret;
use serde::{Deserialize, Serialize};

use crate::config::ConfigError;

/// The fewest bytes a cursor key may have (HMAC-SHA256's block is 64;
/// 32 random bytes are the usual strength).
pub const MIN_CURSOR_KEY_BYTES: usize = 32;
/// The generated key's file, under `data_dir`.
pub const CURSOR_KEY_FILE: &str = "list-cursor.key";

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ListConfig {
    /// Key that signs list cursors (at least 32 characters). Replicas
    /// behind one load balancer need the same one. When neither this nor
    /// `cursor_secret_file` is set, a random key is generated into
    /// `data_dir/list-cursor.key` and reused from there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor_secret: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor_secret_file: Option<PathBuf>,
    /// How long a cursor may be used after it was issued.
    pub cursor_ttl_secs: u64,
    /// Most sessions kept, over all cursors, of the unpaginated vendors'
    /// full answers (Meteroid, Frontier), so that the next page need not
    /// fetch them again. An evicted answer is fetched again.
    pub snapshot_max_sessions: u64,
    /// How long one such answer is kept for the next page.
    pub snapshot_ttl_secs: u64,
    /// Most vendor pages fetched from one account for one list page; a
    /// page that needs more (a filter the vendor cannot apply, matching
    /// little) ends early with `has_more`.
    pub max_vendor_pages: u32,
}

impl Default for ListConfig {
    fn default() -> Self {
        ListConfig {
            cursor_secret: None,
            cursor_secret_file: None,
            cursor_ttl_secs: 3600,
            snapshot_max_sessions: 100_000,
            snapshot_ttl_secs: 300,
            max_vendor_pages: 10,
        }
    }
}

impl ListConfig {
    /// The cursor key: configured, or read from (or generated into) `data_dir`.
    pub fn cursor_key(&self, data_dir: &Path) -> Result<Vec<u8>, ConfigError> {
        let configured = vendor_http::optional_secret(
            "cursor_secret",
            &self.cursor_secret,
            &self.cursor_secret_file,
        )
        .map_err(|e| ConfigError::invalid(format!("list.{}", e.path), e.message))?;
        let key = match configured {
            Some(secret) => secret.expose().as_bytes().to_vec(),
            None => stored_or_generated(data_dir)?,
        };
        if key.len() < MIN_CURSOR_KEY_BYTES {
            return Err(ConfigError::invalid(
                "list.cursor_secret",
                format!("must be at least {MIN_CURSOR_KEY_BYTES} characters"),
            ));
        }
        Ok(key)
    }
}

/// `data_dir/list-cursor.key`: read it, or write 32 random bytes (hex)
/// there, readable by this user only.
fn stored_or_generated(data_dir: &Path) -> Result<Vec<u8>, ConfigError> {
    let path = data_dir.join(CURSOR_KEY_FILE);
    let unreadable = |e: std::io::Error| {
        ConfigError::invalid(
            "data_dir",
            format!("cannot keep the list cursor key at {}: {e}", path.display()),
        )
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => return Ok(text.trim_end().as_bytes().to_vec()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(unreadable(e)),
    }
    std::fs::create_dir_all(data_dir).map_err(unreadable)?;
    let key: [u8; 32] = rand::random();
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
        Ok(mut file) => {
            file.write_all(hex.as_bytes()).map_err(unreadable)?;
            Ok(hex.into_bytes())
        }
        // Another process generated it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => std::fs::read_to_string(&path)
            .map(|t| t.trim_end().as_bytes().to_vec())
            .map_err(unreadable),
        Err(e) => Err(unreadable(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_kept_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let config = ListConfig::default();
        let first = config.cursor_key(dir.path()).unwrap();
        assert_eq!(first.len(), 64);
        assert_eq!(config.cursor_key(dir.path()).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(CURSOR_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_configured_key_must_be_long_enough() {
        let dir = tempfile::tempdir().unwrap();
        let short = ListConfig {
            cursor_secret: Some(Secret::new("short")),
            ..ListConfig::default()
        };
        let err = short.cursor_key(dir.path()).unwrap_err().to_string();
        assert!(err.contains("list.cursor_secret"), "{err}");
        assert!(!err.contains("short"), "the key is never shown: {err}");
        let good = ListConfig {
            cursor_secret: Some(Secret::new("k".repeat(32))),
            ..ListConfig::default()
        };
        assert_eq!(good.cursor_key(dir.path()).unwrap(), b"k".repeat(32));
        assert!(!dir.path().join(CURSOR_KEY_FILE).exists());
    }
}
