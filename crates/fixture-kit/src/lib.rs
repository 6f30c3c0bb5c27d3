//! Test support for the adapters' fixture tests: the bodies under
//! `fixtures/<vendor>/` and the provenance table of the folder's README.
//!
//! The README table has one row per file: `` | `file` | HTTP | shows | as of | provenance | ``
//! (`checkout-gateway record` appends rows in this form); every provenance
//! names its source ([`provenance`]).
//! "As of" is the vendor's clock when the body was produced (RFC 3339), or
//! ``= `created_at` `` for bodies read at the moment they were created.

pub mod hostile;
pub mod provenance;

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};

/// One vendor's fixture folder.
pub struct Fixtures {
    vendor: String,
    /// File → its "as of" cell.
    rows: BTreeMap<String, String>,
    /// File → its provenance cell.
    provenance: BTreeMap<String, String>,
    /// The README's source tags.
    tags: BTreeMap<String, String>,
    files: Vec<(String, Vec<u8>)>,
}

fn dir(vendor: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(vendor)
}

impl Fixtures {
    /// Load every file of `fixtures/<vendor>/` and its README rows.
    /// Panics (this is test support) with the path when something is missing.
    pub fn load(vendor: &str) -> Fixtures {
        let dir = dir(vendor);
        let readme = std::fs::read_to_string(dir.join("README.md"))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.join("README.md").display()));
        let table: Vec<(String, String, String)> = readme
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                let file = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
                Some((
                    file.to_owned(),
                    cells.get(4)?.to_string(),
                    cells.get(5)?.to_string(),
                ))
            })
            .collect();
        let rows = table
            .iter()
            .map(|(file, as_of, _)| (file.clone(), as_of.clone()))
            .collect();
        let provenance = table
            .into_iter()
            .map(|(file, _, provenance)| (file, provenance))
            .collect();
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
            .map(|p| {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let body = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                (name, body)
            })
            .collect();
        files.sort();
        Fixtures {
            vendor: vendor.to_owned(),
            rows,
            provenance,
            tags: provenance::source_tags(&readme),
            files,
        }
    }

    /// `(file name, body)`, sorted by name.
    pub fn files(&self) -> &[(String, Vec<u8>)] {
        &self.files
    }

    /// At least `min` fixtures, and a provenance row in the README for
    /// each that names its source.
    pub fn assert_provenance(&self, min: usize) {
        assert!(
            self.files.len() >= min,
            "at least {min} {} fixtures",
            self.vendor
        );
        assert_eq!(
            self.missing_rows(),
            Vec::<&str>::new(),
            "rows missing in fixtures/{}/README.md",
            self.vendor
        );
        assert_eq!(
            provenance::unsourced_tags(&self.tags),
            Vec::<&str>::new(),
            "source tags in fixtures/{}/README.md whose source is not a URL, a spec path \
             with its version, an SDK with its version and registry, or `recorded`",
            self.vendor
        );
        assert_eq!(
            self.unsourced_rows(),
            Vec::<&str>::new(),
            "provenance in fixtures/{}/README.md that names no source (a URL, a spec path \
             with its version, an SDK with its version and registry, `recorded`, or a tag \
             of the folder's `| Tag | Source |` table)",
            self.vendor
        );
    }

    /// Files whose provenance names no source.
    pub fn unsourced_rows(&self) -> Vec<&str> {
        self.provenance
            .iter()
            .filter(|(_, cell)| !provenance::is_sourced(cell, &self.tags))
            .map(|(file, _)| file.as_str())
            .collect()
    }

    /// Files without a provenance row in the README.
    pub fn missing_rows(&self) -> Vec<&str> {
        self.files
            .iter()
            .map(|(f, _)| f.as_str())
            .filter(|f| !self.rows.contains_key(*f))
            .collect()
    }

    /// The vendor clock for `file`; `created_at` where the README says so.
    pub fn as_of(&self, file: &str, created_at: DateTime<Utc>) -> DateTime<Utc> {
        let cell = self.rows.get(file).map(String::as_str).unwrap_or_default();
        if cell == "= `created_at`" {
            return created_at;
        }
        DateTime::parse_from_rfc3339(cell)
            .map(|t| t.to_utc())
            .unwrap_or_else(|_| {
                panic!(
                    "fixtures/{}/README.md gives no as-of time for {file}",
                    self.vendor
                )
            })
    }
}

/// What a fixture is, from the first word of its name: `get`, `create`,
/// `list`, `cancel`, `confirm` or `error`. A `recorded_…` file
/// (`checkout-gateway record`: a live session read with get) is a `get`.
pub fn kind(file: &str) -> &str {
    match file.split('_').next().unwrap_or_default() {
        "recorded" => "get",
        kind => kind,
    }
}

/// Whether `checkout-gateway record` wrote this fixture: its name says no
/// more than that it is a get answer (not the API family or protocol).
pub fn is_recorded(file: &str) -> bool {
    file.starts_with("recorded_")
}

/// `error_<status>_<slug>.<ext>` → the HTTP status the body came with.
pub fn error_status(file: &str) -> Option<u16> {
    file.strip_prefix("error_")?.split('_').next()?.parse().ok()
}

/// The file name without its extension: the snapshot name.
pub fn stem(file: &str) -> &str {
    file.rsplit_once('.').map_or(file, |(s, _)| s)
}

/// insta settings for fixture snapshots: one `snapshots/<stem>.snap` per
/// fixture beside the test, named by the fixture alone.
pub fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("snapshots");
    settings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_name() {
        assert_eq!(kind("get_open.json"), "get");
        assert_eq!(kind("list_empty.json"), "list");
        assert_eq!(kind("recorded_created_2026-05-01.json"), "get");
        assert!(is_recorded("recorded_open_2026-05-01.json") && !is_recorded("get_open.json"));
        assert_eq!(error_status("error_404_not_found.json"), Some(404));
    }
}
