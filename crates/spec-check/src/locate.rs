//! Where the vendors' specification files live.

use std::path::PathBuf;

/// Environment variable naming the folder that holds `<vendor>/openapi.json`.
pub const SPECS_ENV: &str = "CHECKOUT_GATEWAY_VENDOR_SPECS";

/// The vendor specs folder: `$CHECKOUT_GATEWAY_VENDOR_SPECS`, else
/// `<workspace root>/../shared/vendors` (the layout every checkout and CI has).
pub fn specs_dir() -> PathBuf {
    match std::env::var_os(SPECS_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => workspace_root().join("..").join("shared").join("vendors"),
    }
}

/// This crate sits at `<workspace root>/crates/spec-check`.
fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
}
