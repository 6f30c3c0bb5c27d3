//! The repository is self-contained: every spec the tests use is committed
//! inside it, the vendors' copies are exactly the files their READMEs
//! describe, and no name or source line reaches a folder beside it.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use spec_check::{known_specs, spec_path, workspace_root, Spec, SPEC_MANIFEST};

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_root_is_the_workspace() {
    let manifest = std::fs::read_to_string(workspace_root().join("Cargo.toml")).expect("manifest");
    assert!(manifest.contains("[workspace]"), "{manifest}");
}

#[test]
fn every_known_spec_is_a_file_inside_the_repository() {
    let root = canonical(&workspace_root());
    let known_specs = known_specs();
    for known in &known_specs {
        let path = spec_path(&known.name()).expect("a known name is accepted");
        assert_eq!(path, known.path(), "{}", known.name());
        assert!(path.is_file(), "{} is missing", path.display());
        // canonicalize follows symlinks: a link to a file beside the
        // repository would fail here.
        let real = canonical(&path);
        assert!(
            real.starts_with(root.join("fixtures").join(&known.vendor).join("spec")),
            "{} resolves to {}, outside {}",
            known.name(),
            real.display(),
            root.display()
        );
        Spec::try_load(&known.name()).unwrap_or_else(|e| panic!("{e}"));
    }
    let vendors: Vec<&str> = known_specs.iter().map(|k| k.vendor.as_str()).collect();
    assert_eq!(
        vendors,
        ["flowglad", "frontier", "meteroid", "zenskar"],
        "one spec per vendor"
    );
}

#[test]
fn every_registered_provider_has_a_spec() {
    let known = known_specs();
    for provider in providers::all() {
        let name = provider.name();
        assert!(
            known.iter().any(|k| k.vendor == name),
            "provider {name} has no spec: add fixtures/{name}/spec/<its spec file> and \
             fixtures/{name}/spec/{SPEC_MANIFEST} with `file = \"<its spec file>\"` and \
             `verbatim = true` (a vendor's document, sha256 in fixtures/{name}/README.md) \
             or `false` (the project's transcription)"
        );
    }
}

#[test]
fn manifests_cannot_name_a_file_outside_their_folder() {
    for file in ["../../Cargo.toml", "/etc/passwd", "sub/openapi.json", ".."] {
        assert!(
            spec_path(&format!("meteroid/{file}")).is_err(),
            "{file} would be accepted"
        );
    }
}

#[test]
fn vendor_copies_match_the_sha256_their_readme_records() {
    for known in known_specs().iter().filter(|k| k.verbatim) {
        let bytes = std::fs::read(known.path()).expect("spec");
        let digest: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let readme_path = workspace_root()
            .join("fixtures")
            .join(&known.vendor)
            .join("README.md");
        let readme = std::fs::read_to_string(&readme_path).expect("README");
        assert!(
            readme.contains(&format!("`spec/{}`", known.file)),
            "{} does not describe spec/{}",
            readme_path.display(),
            known.file
        );
        assert!(
            readme.contains(&format!("**sha256:** `{digest}`")),
            "spec/{} of {} has sha256 {digest}, not the one its README records \
             (a vendor copy is replaced together with its provenance)",
            known.file,
            known.vendor
        );
    }
}

#[test]
fn names_cannot_leave_the_repository() {
    for name in [
        "../vendors/meteroid/openapi.json",
        "meteroid/../../../Cargo.toml",
        "meteroid/../openapi.json",
        "/etc/passwd",
        "./meteroid/openapi.json",
        "meteroid/spec/openapi.json",
        "meteroid",
        "",
    ] {
        let err = spec_path(name).expect_err(name);
        assert!(err.contains("fixtures/<vendor>/spec/"), "{err}");
        assert!(Spec::try_load(name).is_err(), "{name}");
    }
}

/// Words that named the old location beside the repository (built here in
/// pieces so this file does not match itself).
const OUTSIDE: [&str; 3] = [
    concat!("..", "/shared"),
    concat!("shared", "/vendors"),
    concat!("CHECKOUT_GATEWAY_", "VENDOR_SPECS"),
];

#[test]
fn no_source_file_names_a_folder_beside_the_repository() {
    let root = workspace_root();
    let mut sources = Vec::new();
    collect_sources(&root, &mut sources);
    assert!(
        sources.len() > 50,
        "only {} source files found under {}",
        sources.len(),
        root.display()
    );
    let mut found = Vec::new();
    for path in &sources {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        for word in OUTSIDE {
            if text.contains(word) {
                found.push(format!("{}: {word}", path.display()));
            }
        }
    }
    assert_eq!(found, Vec::<String>::new());
}

/// Code, manifests and scripts; fixture data, build output and the SDK
/// suites' installed packages are not ours, and the READMEs may name where a
/// copied spec came from.
fn collect_sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            let skip = ["target", "fixtures", "snapshots", "node_modules"].contains(&name.as_str());
            if !skip && (!name.starts_with('.') || name == ".ci") {
                collect_sources(&path, out);
            }
        } else if dir.file_name().is_some_and(|d| d == ".ci")
            || [".rs", ".toml", ".sh", ".py", ".yml", ".yaml"]
                .iter()
                .any(|ext| name.ends_with(ext))
        {
            out.push(path);
        }
    }
}
