//! Every Meteroid fixture through the pure conversions, snapshot-tested.
//! Success bodies are read "as of" the server time the fixture README gives
//! for them, so derived expiry is part of the snapshot.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use adapter_meteroid::{client, convert, wire};
use chrono::{DateTime, Utc};
use serde_json::json;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/meteroid")
}

/// `file → as-of cell` from the README table; every fixture must have a row.
/// The cell is an RFC 3339 time, or "= `created_at`" for create responses.
fn readme_rows() -> BTreeMap<String, String> {
    let readme = std::fs::read_to_string(fixture_dir().join("README.md"))
        .expect("fixtures/meteroid/README.md");
    readme
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let file = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            Some((file.to_owned(), cells.get(4)?.to_string()))
        })
        .collect()
}

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(fixture_dir())
        .expect("fixtures/meteroid")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.file_name().is_some_and(|n| n != "README.md"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn as_of(rows: &BTreeMap<String, String>, file: &str, created_at: DateTime<Utc>) -> DateTime<Utc> {
    let cell = rows.get(file).map(String::as_str).unwrap_or_default();
    if cell == "= `created_at`" {
        return created_at;
    }
    DateTime::parse_from_rfc3339(cell)
        .map(|t| t.to_utc())
        .unwrap_or_else(|_| panic!("fixtures/meteroid/README.md gives no as-of time for {file}"))
}

#[test]
fn every_fixture_has_a_provenance_row() {
    let rows = readme_rows();
    let files = fixtures();
    assert!(files.len() >= 10, "at least 10 Meteroid fixtures");
    for (file, _) in &files {
        assert!(
            rows.contains_key(file),
            "{file} has no row in fixtures/meteroid/README.md"
        );
    }
}

#[test]
fn snapshots_of_every_fixture() {
    let rows = readme_rows();
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("snapshots");
    let _guard = settings.bind_to_scope();
    for (file, body) in fixtures() {
        let stem = file
            .rsplit_once('.')
            .map_or(file.as_str(), |(s, _)| s)
            .to_owned();
        let value = if let Some(rest) = stem.strip_prefix("error_") {
            let status: u16 = rest
                .split('_')
                .next()
                .and_then(|s| s.parse().ok())
                .expect("error_<status>_…");
            let err = client::vendor_error(status, file.ends_with(".json"), &body);
            json!({"http_status": err.http_status, "body": err.body(None)})
        } else if stem.starts_with("list_") {
            let list: wire::SessionList = convert::parse(&body).expect("list body");
            let sessions: Vec<_> = list
                .sessions
                .iter()
                .map(|s| {
                    let session = convert::session("default", s).expect("list item");
                    session.as_of(as_of(&rows, &file, session.created_at))
                })
                .collect();
            json!(sessions)
        } else {
            let session =
                convert::session_body("default", &body).unwrap_or_else(|e| panic!("{file}: {e}"));
            json!(session.as_of(as_of(&rows, &file, session.created_at)))
        };
        insta::assert_json_snapshot!(stem, value);
    }
}

#[test]
fn garbage_bodies_are_bad_responses_not_panics() {
    for body in [
        &b""[..],
        b"{",
        b"null",
        b"[]",
        b"{\"session\":1}",
        b"{\"session\":{\"id\":\"che_1\"}}",
        b"\xff\xfe",
    ] {
        let err = convert::session_body("default", body).unwrap_err();
        assert_eq!(err.code, checkout_core::ErrorCode::ProviderBadResponse);
        assert_eq!(err.http_status, 502);
    }
    let bad_time = br#"{"session":{"id":"che_1","customer_id":"c","plan_version_id":"p","status":"CREATED","checkout_type":"SELF_SERVE","created_at":"yesterday"}}"#;
    let err = convert::session_body("default", bad_time).unwrap_err();
    assert!(err.message.contains("created_at"), "{}", err.message);
    assert!(
        !err.message.contains("yesterday"),
        "vendor data is not echoed"
    );
}

/// Fixtures are shaped like the vendor's real payloads: the vendor's own
/// OpenAPI document is the judge (one file is deliberately outside it).
#[test]
fn fixtures_validate_against_the_vendor_spec() {
    let spec = spec_check::Spec::load("meteroid/openapi.json");
    let mut checked = 0;
    for (file, body) in fixtures() {
        if !file.ends_with(".json") || file == "get_future_unknown_values.json" {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{file}: {e}"));
        let result = match file.split('_').next() {
            Some("get") => {
                spec.validate_response("/api/v1/checkout-sessions/{id}", "get", 200, &value)
            }
            Some("create") => {
                spec.validate_response("/api/v1/checkout-sessions", "post", 200, &value)
            }
            Some("cancel") => {
                spec.validate_response("/api/v1/checkout-sessions/{id}/cancel", "post", 200, &value)
            }
            Some("list") => spec.validate_response("/api/v1/checkout-sessions", "get", 200, &value),
            Some("error") => spec.validate_schema("RestErrorResponse", &value),
            _ => panic!("{file}: unknown fixture kind"),
        };
        result.unwrap_or_else(|e| panic!("{file} does not match the Meteroid spec: {e}"));
        checked += 1;
    }
    assert!(checked >= 25, "only {checked} fixtures checked");
}
