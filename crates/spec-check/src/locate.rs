//! Where the vendors' specification files live: inside the repository, at
//! `fixtures/<vendor>/spec/<file>`, so a clone runs its tests with nothing
//! beside it. There is deliberately no override: a spec read from elsewhere
//! would make a test's result depend on the machine.

use std::path::{Component, Path, PathBuf};

/// One spec file the tests validate against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownSpec {
    pub vendor: &'static str,
    pub file: &'static str,
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
            .join(self.vendor)
            .join("spec")
            .join(self.file)
    }
}

/// Every spec the workspace's tests load.
pub const KNOWN_SPECS: &[KnownSpec] = &[
    KnownSpec {
        vendor: "meteroid",
        file: "openapi.json",
        verbatim: true,
    },
    KnownSpec {
        vendor: "flowglad",
        file: "openapi.json",
        verbatim: true,
    },
    KnownSpec {
        vendor: "frontier",
        file: "legacy-rest.swagger.yaml",
        verbatim: true,
    },
    // Zenskar publishes no machine-readable spec: this is the project's
    // transcription of its documented schemas, kept under the same layout.
    KnownSpec {
        vendor: "zenskar",
        file: "openapi.json",
        verbatim: false,
    },
];

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
