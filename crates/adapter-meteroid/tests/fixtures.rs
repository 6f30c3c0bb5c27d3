//! Every Meteroid fixture through the pure conversions, snapshot-tested.
//! Success bodies are read "as of" the server time the fixture README gives
//! for them, so derived expiry is part of the snapshot.

use adapter_meteroid::{errors, read, wire};
use fixture_kit::{error_status, stem, Fixtures};
use serde_json::json;

#[test]
fn every_fixture_has_a_provenance_row() {
    Fixtures::load("meteroid").assert_provenance(10);
}

#[test]
fn snapshots_of_every_fixture() {
    let fixtures = Fixtures::load("meteroid");
    let _guard = fixture_kit::snapshot_settings().bind_to_scope();
    for (file, body) in fixtures.files() {
        let value = if let Some(status) = error_status(file) {
            let err = errors::vendor_error(status, file.ends_with(".json"), body);
            json!({"http_status": err.http_status, "body": err.body(None)})
        } else if file.starts_with("list_") {
            let list: wire::SessionList = read::parse(body).expect("list body");
            let sessions: Vec<_> = list
                .sessions
                .iter()
                .map(|s| {
                    let session = read::session("default", s).expect("list item");
                    session.as_of(fixtures.as_of(file, session.created_at))
                })
                .collect();
            json!(sessions)
        } else {
            let session =
                read::session_body("default", body).unwrap_or_else(|e| panic!("{file}: {e}"));
            json!(session.as_of(fixtures.as_of(file, session.created_at)))
        };
        insta::assert_json_snapshot!(stem(file), value);
    }
}

/// Fixtures are shaped like the vendor's real payloads: the vendor's own
/// OpenAPI document is the judge (one file is deliberately outside it).
#[test]
fn fixtures_validate_against_the_vendor_spec() {
    let spec = spec_check::Spec::load("meteroid/openapi.json");
    let mut checked = 0;
    for (file, body) in Fixtures::load("meteroid").files() {
        if !file.ends_with(".json") || file == "get_future_unknown_values.json" {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_slice(body).unwrap_or_else(|e| panic!("{file}: {e}"));
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
        let err = read::session_body("default", body).unwrap_err();
        assert_eq!(err.code, checkout_core::ErrorCode::ProviderBadResponse);
        assert_eq!(err.http_status, 502);
    }
    let bad_time = br#"{"session":{"id":"che_1","customer_id":"c","plan_version_id":"p","status":"CREATED","checkout_type":"SELF_SERVE","created_at":"yesterday"}}"#;
    let err = read::session_body("default", bad_time).unwrap_err();
    assert!(err.message.contains("created_at"), "{}", err.message);
    assert!(
        !err.message.contains("yesterday"),
        "vendor data is not echoed"
    );
}
