//! The list's settings, built once per configuration: the cursor key and
//! the kept full answers. Apart from the flow so that the state can hold
//! them without depending on the flow.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use checkout_core::{Error, ErrorCode};

use super::snapshots::Snapshots;
use crate::config::{ConfigError, ListConfig};

/// The list's key and bounds, built once from `[list]`.
pub struct ListSettings {
    pub(super) config: ListConfig,
    data_dir: PathBuf,
    /// The cursor key: read at build when configured, else read from or
    /// generated into `data_dir` on first use (`serve` does it at start,
    /// so a data directory it cannot write fails there).
    key: OnceLock<Vec<u8>>,
    pub snapshots: Snapshots,
}

impl ListSettings {
    pub fn new(config: &ListConfig, data_dir: &Path) -> Result<ListSettings, ConfigError> {
        let key = OnceLock::new();
        if config.cursor_secret.is_some() || config.cursor_secret_file.is_some() {
            let _ = key.set(config.cursor_key(data_dir)?);
        }
        Ok(ListSettings {
            config: config.clone(),
            data_dir: data_dir.to_owned(),
            key,
            snapshots: Snapshots::new(
                config.snapshot_max_sessions,
                Duration::from_secs(config.snapshot_ttl_secs),
            ),
        })
    }

    /// Keep the previous state's kept answers across a reload.
    pub fn reusing(mut self, previous: &ListSettings) -> ListSettings {
        self.snapshots = previous.snapshots.clone();
        if self.config.cursor_secret.is_none()
            && self.config.cursor_secret_file.is_none()
            && self.data_dir == previous.data_dir
        {
            if let Some(key) = previous.key.get() {
                let _ = self.key.set(key.clone());
            }
        }
        self
    }

    /// The cursor key.
    pub fn key(&self) -> Result<&[u8], ConfigError> {
        if let Some(key) = self.key.get() {
            return Ok(key);
        }
        let key = self.config.cursor_key(&self.data_dir)?;
        Ok(self.key.get_or_init(|| key))
    }

    pub(super) fn key_for_request(&self) -> Result<&[u8], Error> {
        self.key().map_err(|e| {
            tracing::error!(error = %e, "list cursor key unavailable");
            Error::new(
                ErrorCode::Internal,
                "the list cursor key is unavailable; see the gateway's log",
            )
        })
    }
}
