//! Every Flowglad fixture through the pure conversions, snapshot-tested.
//! Success bodies are read "as of" the vendor time the fixture README gives
//! for them, so derived expiry is part of the snapshot.

use adapter_flowglad::{errors, read, Flowglad, FlowgladAccount};
use checkout_core::{Connector, ErrorCode, ListQuery, Provider, VendorAnswer};
use fixture_kit::{error_status, stem, Fixtures};
use serde_json::json;

/// Bodies the vendor's spec does not describe, on purpose.
const OUTSIDE_THE_SPEC: [&str; 2] = ["get_iso_timestamps.json", "get_future_unknown_values.json"];

/// A fixture's bytes, by file name.
fn fixture(fixtures: &Fixtures, name: &str) -> Vec<u8> {
    fixtures
        .files()
        .iter()
        .find(|(f, _)| f == name)
        .map(|(_, b)| b.clone())
        .unwrap_or_else(|| panic!("no fixture {name}"))
}

/// An account reading the fixtures (its key is never sent).
fn account() -> FlowgladAccount {
    FlowgladAccount::from_config("default", json!({"api_key": "sk_test_k"})).expect("config")
}

#[test]
fn every_fixture_has_a_provenance_row() {
    Fixtures::load("flowglad").assert_provenance(12);
}

#[test]
fn snapshots_of_every_fixture() {
    let fixtures = Fixtures::load("flowglad");
    let _guard = fixture_kit::snapshot_settings().bind_to_scope();
    for (file, body) in fixtures.files() {
        let value = if let Some(status) = error_status(file) {
            let err = errors::vendor_error(status, body, None);
            json!({"http_status": err.http_status, "body": err.body(None)})
        } else if file.starts_with("webhook_") {
            // A vendor webhook is no session: what the change feed reads from it.
            let hint = adapter_flowglad::webhook::webhook_hint(body)
                .unwrap_or_else(|| panic!("{file}: no hint"));
            json!({"key": hint.key, "customer_id": hint.customer_id})
        } else if file.starts_with("list_") {
            let page = read_list(body).unwrap_or_else(|e| panic!("{file}: {e}"));
            let sessions: Vec<_> = page
                .sessions
                .iter()
                .map(|f| f.session.as_of(fixtures.as_of(file, f.session.created_at)))
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

/// `checkout-gateway normalize --provider flowglad` is `Provider::normalize`:
/// it reads every get and create body, in every variant.
#[test]
fn normalize_handles_every_success_fixture() {
    let fixtures = Fixtures::load("flowglad");
    let mut read = 0;
    for (file, body) in fixtures.files() {
        if file.starts_with("get_") || file.starts_with("create_") {
            let session = Flowglad
                .normalize("default", body)
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(session, read::session_body("default", body).unwrap());
            assert!(session.id.starts_with("flowglad:default:chckt_session_"));
            read += 1;
        } else if file.starts_with("list_") {
            let e = Flowglad.normalize("default", body).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidRequest, "{file}");
        }
    }
    assert!(read >= 15, "only {read} bodies normalized");
}

/// Fixtures are shaped like the vendor's real payloads: the vendor's own
/// OpenAPI document is the judge, and it must refuse the bodies that are
/// outside it on purpose (and the server's real error shape).
#[test]
fn fixtures_validate_against_the_vendor_spec() {
    let spec = spec_check::Spec::load("flowglad/openapi.json");
    let mut checked = 0;
    for (file, body) in Fixtures::load("flowglad").files() {
        if !file.ends_with(".json") {
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
            Some("list") => spec.validate_response("/api/v1/checkout-sessions", "get", 200, &value),
            // The API's document does not describe the webhooks' payloads.
            Some("webhook") => continue,
            Some("error") => {
                let schema = match error_status(file) {
                    Some(400) => "error.BAD_REQUEST",
                    Some(401) => "error.UNAUTHORIZED",
                    Some(404) => "error.NOT_FOUND",
                    _ => "error.INTERNAL_SERVER_ERROR",
                };
                spec.validate_schema(schema, &value)
            }
            _ => panic!("{file}: unknown fixture kind"),
        };
        let documented = file.ends_with("_documented_form.json");
        if OUTSIDE_THE_SPEC.contains(&file.as_str()) || (file.starts_with("error_") && !documented)
        {
            assert!(result.is_err(), "{file} unexpectedly matches the spec");
        } else {
            result.unwrap_or_else(|e| panic!("{file} does not match the Flowglad spec: {e}"));
        }
        checked += 1;
    }
    assert!(checked >= 25, "only {checked} fixtures checked");
}

#[test]
fn the_rate_limit_401_is_the_invalid_key_401() {
    let fixtures = Fixtures::load("flowglad");
    let body = |name: &str| fixture(&fixtures, name);
    assert_eq!(
        body("error_401_rate_limited.txt"),
        body("error_401_invalid_key.txt")
    );
    let e = errors::vendor_error(401, &body("error_401_rate_limited.txt"), None);
    assert_eq!(e.code, ErrorCode::ProviderAuthFailed);
}

#[test]
fn create_fixtures_carry_the_merchants_customer_id() {
    let fixtures = Fixtures::load("flowglad");
    let (_, body) = fixtures
        .files()
        .iter()
        .find(|(f, _)| f == "create_product_identified.json")
        .expect("fixture");
    let request: checkout_core::CreateSession = serde_json::from_value(json!({
        "provider": "flowglad", "account": "default", "customer": "nw-1042",
        "plan": "price_RcgaDoyGiqRVDxRMFApqr", "quantity": 5,
        "success_url": "https://shop.example/checkout/success",
        "cancel_url": "https://shop.example/checkout/cancel"
    }))
    .expect("request");
    let session = read::created_session("default", &request, body).expect("session");
    let customer = session.customer.expect("customer");
    assert_eq!(customer.external_id.as_deref(), Some("nw-1042"));
    assert_eq!(customer.id.as_deref(), Some("cust_wHL0KvAXLhMcPPKlJoAMc"));
}

#[test]
fn garbage_bodies_are_bad_responses_not_panics() {
    for body in [
        &b""[..],
        b"{",
        b"null",
        b"[]",
        b"Not Found",
        b"{\"checkoutSession\":1}",
        b"{\"checkoutSession\":{\"id\":\"chckt_session_a1B2c3D4e5F6g7H8i9J0k\"}}",
        b"{\"data\":[]}",
        b"\xff\xfe",
    ] {
        let err = read::session_body("default", body).unwrap_err();
        assert_eq!(err.code, ErrorCode::ProviderBadResponse);
        assert_eq!(err.http_status, 502);
    }
    let bad_time = br#"{"checkoutSession":{"id":"chckt_session_a1B2c3D4e5F6g7H8i9J0k","status":"open","type":"product","createdAt":"yesterday"},"url":"u"}"#;
    let err = read::session_body("default", bad_time).unwrap_err();
    assert!(err.message.contains("createdAt"), "{}", err.message);
    assert!(
        !err.message.contains("yesterday"),
        "vendor data is not echoed"
    );
    let bad_id = br#"{"checkoutSession":{"id":"../admin","status":"open","type":"product","createdAt":1},"url":"u"}"#;
    let err = read::session_body("default", bad_id).unwrap_err();
    assert_eq!(err.code, ErrorCode::ProviderBadResponse);
    for status in [400u16, 401, 404, 500, 502] {
        for body in [&b""[..], b"\xff", b"{\"error\":{}}", b"[1,2]"] {
            let e = errors::vendor_error(status, body, None);
            assert!(e.http_status >= 400, "{status}");
        }
    }
}

fn read_list(body: &[u8]) -> Result<checkout_core::ListPage, checkout_core::Error> {
    let account = account();
    let answer = VendorAnswer {
        status: 200,
        body: body.to_vec().into(),
        ..VendorAnswer::default()
    };
    account.read_list(&ListQuery::default(), &answer)
}

/// Pages follow Flowglad's own cursor; each listed session keeps its record
/// verbatim as `raw`, and lacks only the hosted `url` a get would add.
#[test]
fn list_pages_and_their_items() {
    let fixtures = Fixtures::load("flowglad");
    let body = |name: &str| fixture(&fixtures, name);
    let first = body("list_first_page.json");
    let page = read_list(&first).expect("first page");
    let value: serde_json::Value = serde_json::from_slice(&first).expect("json");
    assert_eq!(
        page.next_cursor.as_deref(),
        value["nextCursor"].as_str(),
        "the vendor's cursor, as is"
    );
    assert!(page.next_cursor.is_some());
    let text = std::str::from_utf8(&first).expect("utf-8");
    for (fetched, item) in page
        .sessions
        .iter()
        .zip(value["data"].as_array().expect("data"))
    {
        assert!(text.contains(fetched.raw.get()));
        assert_eq!(fetched.session.provider_session_id, item["id"]);
        assert_eq!(fetched.session.url, None, "never invented");
    }
    assert_eq!(page.sessions.len(), 3);
    let last = read_list(&body("list_last_page.json")).expect("last page");
    assert_eq!((last.sessions.len(), last.next_cursor), (2, None));
    let empty = read_list(&body("list_empty.json")).expect("empty page");
    assert!(empty.sessions.is_empty() && empty.next_cursor.is_none());
}

/// The change feed's hint is the purchase id, found in what `Fetched::raw`
/// holds: the whole body of a get or create (`{"checkoutSession": …}`),
/// or one list item (the session itself). Sessions get one only once the
/// purchase exists.
#[test]
fn the_feed_hint_is_the_purchase_id_of_every_shape() {
    let fixtures = Fixtures::load("flowglad");
    let account = account();
    let body = |name: &str| fixture(&fixtures, name);
    let got = |name: &str| {
        let answer = VendorAnswer {
            status: 200,
            body: body(name).into(),
            ..VendorAnswer::default()
        };
        let fetched = account
            .read_get("chckt_session_x", &answer)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        account.feed_hint(&fetched.raw)
    };
    assert_eq!(
        got("get_succeeded.json").as_deref(),
        Some("prch_vq8JTUVtqKkqfRT4lIivt")
    );
    assert_eq!(
        got("get_purchase_legacy.json").as_deref(),
        Some("prch_5fsAxxhzhVQfwlWoGbp3M")
    );
    for open in [
        "get_open.json",
        "get_pending.json",
        "create_product_identified.json",
    ] {
        assert_eq!(got(open), None, "{open}");
    }
    let page = read_list(&body("list_first_page.json")).expect("page");
    let hints: Vec<Option<String>> = page
        .sessions
        .iter()
        .map(|f| account.feed_hint(&f.raw))
        .collect();
    assert_eq!(
        hints.iter().flatten().collect::<Vec<_>>(),
        ["prch_c6u8NoVqEncSHvQV7ck6g"]
    );
    assert!(hints.len() > 1, "the other items have no purchase yet");
}

/// Flowglad's `purchase.completed` (through Svix, the thin payload) names
/// the purchase a fixture session holds; other events say nothing.
#[test]
fn purchase_completed_names_the_purchase_a_session_holds() {
    let account = account();
    let completed = json!({
        "id": "prch_vq8JTUVtqKkqfRT4lIivt", "object": "purchase",
        "customer": {"id": "cust_wHL0KvAXLhMcPPKlJoAMc", "externalId": "nw-1042"},
        "pricingModelId": "pricing_model_1"
    });
    let hint = account
        .webhook_hint(completed.to_string().as_bytes())
        .expect("a hint");
    assert_eq!(hint.key, "prch_vq8JTUVtqKkqfRT4lIivt");
    assert_eq!(
        hint.customer_id.as_deref(),
        Some("cust_wHL0KvAXLhMcPPKlJoAMc")
    );
    let payment = json!({"id": "pym_1", "object": "payment", "customer": {"id": "cust_1"}});
    assert_eq!(account.webhook_hint(payment.to_string().as_bytes()), None);
}

/// The webhook Flowglad sends when the purchase completes names the
/// purchase its session holds: the hint finds that session.
#[test]
fn purchase_completed_names_the_purchase_its_session_holds() {
    let fixtures = Fixtures::load("flowglad");
    let body = |name: &str| fixture(&fixtures, name);
    let account = account();
    let answer = VendorAnswer {
        status: 200,
        body: body("get_succeeded.json").into(),
        ..VendorAnswer::default()
    };
    let session = account
        .read_get("chckt_session_x", &answer)
        .expect("a session");
    let hint = adapter_flowglad::webhook::webhook_hint(&body("webhook_purchase_completed.json"))
        .expect("a hint");
    assert_eq!(account.feed_hint(&session.raw), Some(hint.key));
    assert_eq!(
        session.session.customer.and_then(|c| c.id),
        hint.customer_id
    );
}
