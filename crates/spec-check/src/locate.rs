//! Where the vendors' specification files live: inside the repository, at
//! `fixtures/<vendor>/spec/<file>`, so a clone runs its tests with nothing
//! beside it. There is deliberately no override: a spec read from elsewhere
//! would make a test's result depend on the machine.

use std::path::{Component, Path, PathBuf};

/// One spec file the tests validate against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownSpec {
    pub vendor: String,
    pub file: String,
    /// A byte-for-byte copy of the vendor's published document, whose README
    /// records its sha256; `false` for a transcription the project wrote.
    pub verbatim: bool,
}

impl KnownSpec {
    /// `<vendor>/<file>`: the name [`crate::Spec::load`] takes.
    pub fn name(&self) -> String {
        format!("{}/{}", self.vendor, self.file)
    }

    /// `<workspace root>/fixtures/<vendor>/spec/<file>`.
    pub fn path(&self) -> PathBuf {
        fixtures_dir()
            .join(&self.vendor)
            .join("spec")
            .join(&self.file)
    }
}

/// The manifest each vendor's spec folder carries: `fixtures/<vendor>/spec/spec.toml`.
pub const SPEC_MANIFEST: &str = "spec.toml";

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    file: String,
    verbatim: bool,
}

/// Every spec the workspace's tests load, one per `fixtures/<vendor>/spec/spec.toml`
/// (`file = "<name>"`, `verbatim = true|false`), by vendor name. Read from
/// the fixtures rather than listed here, so a new vendor's spec needs no
/// edit in this crate.
///
/// # Panics
/// When a manifest is unreadable, malformed, or names anything but a plain
/// file name in its own folder: a test must never run without its spec.
pub fn known_specs() -> Vec<KnownSpec> {
    let dir = fixtures_dir();
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("spec-check: cannot list {}: {e}", dir.display()));
    let mut specs: Vec<KnownSpec> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().join("spec").join(SPEC_MANIFEST).is_file())
        .map(|e| {
            let vendor = e.file_name().to_string_lossy().into_owned();
            let path = e.path().join("spec").join(SPEC_MANIFEST);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|err| panic!("spec-check: {}: {err}", path.display()));
            let manifest: Manifest = toml::from_str(&text)
                .unwrap_or_else(|err| panic!("spec-check: {}: {err}", path.display()));
            let known = KnownSpec {
                vendor,
                file: manifest.file,
                verbatim: manifest.verbatim,
            };
            // The same check every load makes: one plain name, no `..`, no
            // deeper path, so a manifest cannot point outside its folder.
            if let Err(err) = spec_path(&known.name()) {
                panic!("spec-check: {}: `file`: {err}", path.display());
            }
            known
        })
        .collect();
    specs.sort_by(|a, b| a.vendor.cmp(&b.vendor));
    specs
}

/// The workspace root: this crate sits at `<root>/crates/spec-check`.
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .nth(2)
        .unwrap_or(manifest)
        .to_path_buf()
}

fn fixtures_dir() -> PathBuf {
    workspace_root().join("fixtures")
}

/// `<vendor>/<file>` → `<workspace root>/fixtures/<vendor>/spec/<file>`.
///
/// Only two plain names are accepted (no `..`, no root, no deeper path), so
/// no name can reach outside the repository's fixtures.
pub fn spec_path(name: &str) -> Result<PathBuf, String> {
    let parts: Vec<&str> = Path::new(name)
        .components()
        .map(|c| match c {
            Component::Normal(part) => part.to_str(),
            _ => None,
        })
        .collect::<Option<_>>()
        .unwrap_or_default();
    match parts.as_slice() {
        [vendor, file] => Ok(fixtures_dir().join(vendor).join("spec").join(file)),
        _ => Err(format!(
            "spec-check: {name:?} is not a `<vendor>/<file>` name; specs are read only \
             from fixtures/<vendor>/spec/ inside the repository"
        )),
    }
}
