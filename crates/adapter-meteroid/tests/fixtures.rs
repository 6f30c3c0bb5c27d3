//! Every Meteroid fixture through the pure conversions, snapshot-tested.
//! Success bodies are read "as of" the server time the fixture README gives
//! for them, so derived expiry is part of the snapshot.

use adapter_meteroid::{errors, read, MeteroidAccount};
use checkout_core::{Connector, ErrorCode, ListQuery, VendorAnswer};
use fixture_kit::{error_status, stem, Fixtures};
use serde_json::json;

fn account() -> MeteroidAccount {
    MeteroidAccount::from_config("default", json!({"api_key": "pv_sand_k/t"})).expect("config")
}

fn answer(status: u16, body: &[u8]) -> VendorAnswer {
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "content-type",
        http::HeaderValue::from_static("application/json"),
    );
    VendorAnswer {
        status,
        headers,
        body: body.to_vec().into(),
    }
}

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
            // A cancel's refusal is read by the cancel's own reader.
            let err = if file.contains("_cancel_") {
                errors::cancel_error(status, file.ends_with(".json"), body)
            } else {
                errors::vendor_error(status, file.ends_with(".json"), body)
            };
            json!({"http_status": err.http_status, "body": err.body(None)})
        } else if file.starts_with("list_") {
            let page = account()
                .read_list(&ListQuery::default(), &answer(200, body))
                .expect("list body");
            assert_eq!(page.next_cursor, None, "{file}: Meteroid does not page");
            let sessions: Vec<_> = page
                .sessions
                .iter()
                .map(|f| f.session.as_of(fixtures.as_of(file, f.session.created_at)))
                .collect();
            json!(sessions)
        } else if file.starts_with("cancel_") {
            let id = serde_json::from_slice::<serde_json::Value>(body).expect("json")["session"]
                ["id"]
                .as_str()
                .expect("id")
                .to_owned();
            let fetched = account()
                .read_cancel(&id, &answer(200, body))
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            json!(fetched
                .session
                .as_of(fixtures.as_of(file, fetched.session.created_at)))
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
        let result = match Some(fixture_kit::kind(file)) {
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

/// Each listed session keeps its own list item, byte for byte, as `raw`.
#[test]
fn listed_sessions_keep_their_item_verbatim() {
    let fixtures = Fixtures::load("meteroid");
    let (_, body) = fixtures
        .files()
        .iter()
        .find(|(f, _)| f == "list_all_sessions.json")
        .expect("fixture");
    let page = account()
        .read_list(&ListQuery::default(), &answer(200, body))
        .expect("list");
    let items: serde_json::Value = serde_json::from_slice(body).expect("json");
    let items = items["sessions"].as_array().expect("sessions");
    assert_eq!(page.sessions.len(), items.len());
    let text = std::str::from_utf8(body).expect("utf-8");
    for (fetched, item) in page.sessions.iter().zip(items) {
        assert!(
            text.contains(fetched.raw.get()),
            "raw is a slice of the body"
        );
        let raw: serde_json::Value = serde_json::from_str(fetched.raw.get()).expect("raw");
        assert_eq!(&raw, item);
        assert_eq!(fetched.session.provider_session_id, item["id"]);
    }
    // The empty tenant (or customer) is an empty page, not an error.
    let empty = account()
        .read_list(&ListQuery::default(), &answer(200, br#"{"sessions":[]}"#))
        .expect("empty");
    assert!(empty.sessions.is_empty() && empty.next_cursor.is_none());
}

/// The cancel 400 is told apart: `invalid_state` with Meteroid's message
/// and status, for the gateway to settle by reading the session.
#[test]
fn a_refused_cancel_reads_as_invalid_state() {
    let fixtures = Fixtures::load("meteroid");
    let (_, body) = fixtures
        .files()
        .iter()
        .find(|(f, _)| f == "error_400_cancel_not_cancellable.json")
        .expect("fixture");
    let e = account()
        .read_cancel("che_1", &answer(400, body))
        .unwrap_err();
    assert_eq!(
        (e.code, e.http_status, e.provider_http_status),
        (ErrorCode::InvalidState, 409, Some(400))
    );
    assert!(e.message.contains("cannot be cancelled"), "{}", e.message);
    // A list answer's errors carry the vendor status, whichever step failed.
    for (status, body) in [(200, &b"{\"sessions\":[{\"id\":1}]}"[..]), (500, b"{}")] {
        let e = account()
            .read_list(&ListQuery::default(), &answer(status, body))
            .unwrap_err();
        assert_eq!(e.provider_http_status, Some(status));
    }
}
