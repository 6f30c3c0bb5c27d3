//! Every Frontier fixture, of both protocols, through the pure conversions,
//! snapshot-tested. Success bodies are read "as of" the vendor time the
//! fixture README gives, so derived expiry is part of the snapshot.

use adapter_frontier::read::{self, Origin};
use adapter_frontier::{errors, wire, Frontier, FrontierAccount};
use checkout_core::{Connector, ErrorCode, ListPage, ListQuery, Provider, VendorAnswer};
use fixture_kit::{error_status, stem, Fixtures};
use serde_json::{json, Value};

/// The organizations of the fixtures (see the README's "Origin").
const CONNECT_ORG: &str = "ca4f1694-b649-4a83-81b2-b168b5510595";
const LEGACY_ORG: &str = "5f40a5bd-b26e-46ed-971e-c88d68cc2bed";

fn is_legacy(file: &str) -> bool {
    file.contains("_legacy_")
}

/// What the adapter knows when it reads this body.
fn origin(file: &str) -> Origin<'static> {
    match (is_legacy(file), file.starts_with("create_")) {
        (true, _) => Origin {
            org_id: Some(LEGACY_ORG),
            org_in_reference: true,
        },
        (false, true) => Origin {
            org_id: Some(CONNECT_ORG),
            org_in_reference: false,
        },
        (false, false) => Origin::UNKNOWN,
    }
}

/// A list fixture through `Connector::read_list`, as asked for its org
/// (the README's "Origin") over its protocol.
fn read_list(file: &str, body: &[u8]) -> Result<ListPage, checkout_core::Error> {
    let (protocol, org) = if is_legacy(file) {
        ("rest", LEGACY_ORG)
    } else {
        ("connect", CONNECT_ORG)
    };
    let account = FrontierAccount::from_config(
        "default",
        json!({"base_url": "http://127.0.0.1:8002", "bearer_token": "t", "protocol": protocol}),
    )
    .expect("config");
    let query = ListQuery {
        customer: Some(org.to_owned()),
        ..ListQuery::default()
    };
    let answer = VendorAnswer {
        status: 200,
        body: body.to_vec().into(),
        ..VendorAnswer::default()
    };
    account.read_list(&query, &answer)
}

/// Each listed session keeps its item verbatim; Connect's `{}` is empty.
#[test]
fn list_items_are_kept_verbatim_and_empty_messages_are_empty_lists() {
    let fixtures = Fixtures::load("frontier");
    for (file, body) in fixtures.files() {
        if !file.starts_with("list_") {
            continue;
        }
        let page = read_list(file, body).unwrap_or_else(|e| panic!("{file}: {e}"));
        let value: Value = serde_json::from_slice(body).expect("json");
        let items = value
            .get("checkout_sessions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        assert_eq!(page.sessions.len(), items.len(), "{file}");
        if file.contains("empty") {
            assert!(page.sessions.is_empty(), "{file}");
        }
        for (fetched, item) in page.sessions.iter().zip(&items) {
            let raw: Value = serde_json::from_str(fetched.raw.get()).expect("raw");
            assert_eq!(&raw, item, "{file}");
        }
    }
}

#[test]
fn every_fixture_has_a_provenance_row() {
    let fixtures = Fixtures::load("frontier");
    fixtures.assert_provenance(12);
    for protocol in ["_connect_", "_legacy_"] {
        for kind in ["create_", "get_", "list_", "error_"] {
            assert!(
                fixtures
                    .files()
                    .iter()
                    .any(|(f, _)| f.starts_with(kind) && f.contains(protocol)),
                "no {kind}{protocol} fixture"
            );
        }
    }
}

#[test]
fn snapshots_of_every_fixture() {
    let fixtures = Fixtures::load("frontier");
    let _guard = fixture_kit::snapshot_settings().bind_to_scope();
    for (file, body) in fixtures.files() {
        let value = if let Some(status) = error_status(file) {
            // The legacy read of one checkout has its own reading of a 500.
            let refused = if file.contains("_legacy_get_") {
                errors::legacy_get_error
            } else {
                errors::vendor_error
            };
            let err = refused(status, file.ends_with(".json"), body);
            json!({"http_status": err.http_status, "body": err.body(None)})
        } else if file.starts_with("list_") {
            let page = read_list(file, body).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(page.next_cursor, None, "{file}: Frontier does not page");
            let sessions: Vec<_> = page
                .sessions
                .iter()
                .map(|f| f.session.as_of(fixtures.as_of(file, f.session.created_at)))
                .collect();
            json!(sessions)
        } else {
            let session = read::session_body("default", origin(file), body)
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            json!(session.as_of(fixtures.as_of(file, session.created_at)))
        };
        insta::assert_json_snapshot!(stem(file), value);
    }
}

/// `checkout-gateway normalize --provider frontier` reads every get and
/// create body of both protocols (it cannot know the org: Connect-form ids).
#[test]
fn normalize_reads_every_success_fixture() {
    let mut read = 0;
    for (file, body) in Fixtures::load("frontier").files() {
        if !(file.starts_with("get_") || file.starts_with("create_")) {
            continue;
        }
        let session = Frontier
            .normalize("default", body)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let envelope: Value = serde_json::from_slice(body).expect("JSON");
        let id = envelope["checkout_session"]["id"].as_str().expect("id");
        assert_eq!(session.id, format!("frontier:default:{id}"), "{file}");
        assert_eq!(session.payment_status, None, "{file}");
        read += 1;
    }
    assert!(read >= 12, "only {read} success fixtures");
    for (file, body) in Fixtures::load("frontier").files() {
        if file.starts_with("list_") {
            let err = Frontier.normalize("default", body).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidRequest, "{file}");
        }
    }
}

/// The legacy swagger judges every body of the protocol it describes; the
/// Connect success bodies are the same protobuf messages.
#[test]
fn fixtures_validate_against_the_vendor_spec() {
    let spec = spec_check::Spec::load("frontier/legacy-rest.swagger.yaml");
    const GET: &str = "/v1beta1/organizations/{org_id}/billing/checkouts/{id}";
    const CHECKOUTS: &str = "/v1beta1/organizations/{org_id}/billing/checkouts";
    let mut checked = 0;
    for (file, body) in Fixtures::load("frontier").files() {
        if !file.ends_with(".json") || file == "get_connect_future_values.json" {
            continue;
        }
        let mut value: Value =
            serde_json::from_slice(body).unwrap_or_else(|e| panic!("{file}: {e}"));
        // A recording's name does not say its protocol: the legacy form
        // writes the unset `metadata` as `null`.
        let legacy_form = is_legacy(file)
            || (fixture_kit::is_recorded(file)
                && value.pointer("/checkout_session/metadata") == Some(&Value::Null));
        if legacy_form && !file.starts_with("error_") {
            set_aside_null_metadata(&mut value);
        }
        let result = match (Some(fixture_kit::kind(file)), is_legacy(file)) {
            (Some("get"), _) => spec.validate_response(GET, "get", 200, &value),
            (Some("create"), _) => spec.validate_response(CHECKOUTS, "post", 200, &value),
            (Some("list"), _) => spec.validate_response(CHECKOUTS, "get", 200, &value),
            (Some("error"), true) => spec.validate_schema("googlerpcStatus", &value),
            (Some("error"), false) => connect_error_shape(&value),
            _ => panic!("{file}: unknown fixture kind"),
        };
        result.unwrap_or_else(|e| panic!("{file} does not match the Frontier spec: {e}"));
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} fixtures checked");
}

/// protojson writes the unset `metadata` Struct as `null`, which the
/// generated swagger does not allow; everything else must match it.
fn set_aside_null_metadata(value: &mut Value) {
    let sessions: Vec<&mut Value> = match value {
        Value::Object(top) if top.contains_key("checkout_sessions") => top
            .get_mut("checkout_sessions")
            .and_then(Value::as_array_mut)
            .map(|a| a.iter_mut().collect())
            .unwrap_or_default(),
        Value::Object(top) => top.get_mut("checkout_session").into_iter().collect(),
        _ => Vec::new(),
    };
    for session in sessions {
        if let Some(obj) = session.as_object_mut() {
            assert_eq!(obj.get("metadata"), Some(&Value::Null), "legacy metadata");
            obj.remove("metadata");
        }
    }
}

/// connect-go's wire error: `code` one of its names, `message` a string,
/// `details` (if any) `{type, value}` objects.
fn connect_error_shape(value: &Value) -> Result<(), String> {
    let code = value["code"].as_str().ok_or("code is not a string")?;
    wire::Code::from_name(code).ok_or(format!("unknown Connect code {code:?}"))?;
    value["message"].as_str().ok_or("message is not a string")?;
    if let Some(details) = value.get("details") {
        let ok = details.as_array().is_some_and(|d| {
            d.iter()
                .all(|x| x["type"].is_string() && x["value"].is_string())
        });
        if !ok {
            return Err("details are not {type, value} objects".to_owned());
        }
    }
    Ok(())
}

#[test]
fn garbage_bodies_are_bad_responses_not_panics() {
    for body in [
        &b""[..],
        b"{",
        b"null",
        b"[]",
        b"{\"checkout_session\":1}",
        b"{\"checkout_session\":{}}",
        b"{\"checkout_session\":{\"id\":\"x\"}}",
        b"{\"checkout_session\":{\"id\":\"5b0f8b4e-3c1d-4f7a-9e2b-6d8c1a4f0e37\",\"state\":7}}",
        b"\xff\xfe",
    ] {
        let err = read::session_body("default", Origin::UNKNOWN, body).unwrap_err();
        assert_eq!(err.code, ErrorCode::ProviderBadResponse);
        assert_eq!(err.http_status, 502);
    }
    let bad_time = br#"{"checkout_session":{"id":"5b0f8b4e-3c1d-4f7a-9e2b-6d8c1a4f0e37","created_at":"yesterday"}}"#;
    let err = read::session_body("default", Origin::UNKNOWN, bad_time).unwrap_err();
    assert!(err.message.contains("created_at"), "{}", err.message);
    assert!(
        !err.message.contains("yesterday"),
        "vendor data is not echoed"
    );
}
