//! Every Zenskar fixture (both API families) through the pure conversions,
//! snapshot-tested. Success bodies are read "as of" the vendor clock the
//! fixture README gives for them, so derived expiry is part of the snapshot.

use std::path::PathBuf;

use adapter_zenskar::{errors, read, Family, Zenskar, ZenskarAccount};
use checkout_core::{
    Connector, ErrorCode, ListPage, ListQuery, PaymentStatus, Provider, Status, VendorAnswer,
};
use fixture_kit::{error_status, stem, Fixtures};
use serde_json::json;

/// `get_`, `create_` and `confirm_` bodies (and recorded gets): what `normalize` takes.
fn is_session(file: &str) -> bool {
    ["get", "create", "confirm"].contains(&fixture_kit::kind(file))
}

/// The family a fixture belongs to, from its name (`…_checkout_…` or
/// `…_checkouts_…`), or for a recorded one from its body.
fn family_of(file: &str, body: &[u8]) -> Family {
    if fixture_kit::is_recorded(file) {
        read::detect_family(body).unwrap_or_else(|e| panic!("{file}: {e}"))
    } else if file.contains("_checkouts_") {
        Family::Checkouts
    } else {
        Family::Checkout
    }
}

#[test]
fn every_fixture_has_a_provenance_row() {
    let fixtures = Fixtures::load("zenskar");
    fixtures.assert_provenance(14);
    for family in ["_checkout_", "_checkouts_"] {
        let n = fixtures
            .files()
            .iter()
            .filter(|(f, _)| is_session(f) && f.contains(family))
            .count();
        assert!(n >= 5, "only {n} session fixtures of family {family}");
    }
}

#[test]
fn normalize_handles_every_session_fixture_of_both_families() {
    let mut seen = [0, 0];
    for (file, body) in Fixtures::load("zenskar").files() {
        if !is_session(file) {
            continue;
        }
        let session = Zenskar
            .normalize("default", body)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(
            read::detect_family(body).ok(),
            Some(family_of(file, body)),
            "{file}"
        );
        assert!(session.id.starts_with("zenskar:default:"), "{file}");
        assert_eq!(session.url, None, "{file}: Zenskar has no hosted page");
        seen[usize::from(family_of(file, body) == Family::Checkouts)] += 1;
    }
    assert!(seen[0] >= 5 && seen[1] >= 5, "{seen:?}");
}

#[test]
fn normalize_refuses_list_and_error_bodies_clearly() {
    for (file, body) in Fixtures::load("zenskar").files() {
        // Cancel answers are read by `read_cancel`, which knows the reference.
        if is_session(file) || file.starts_with("cancel_") {
            continue;
        }
        let err = Zenskar.normalize("default", body).unwrap_err();
        let expected = if file.starts_with("list_") {
            ErrorCode::InvalidRequest
        } else {
            ErrorCode::ProviderBadResponse
        };
        assert_eq!(err.code, expected, "{file}: {}", err.message);
    }
}

#[test]
fn snapshots_of_every_fixture() {
    let fixtures = Fixtures::load("zenskar");
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
            let page = read_list(body).unwrap_or_else(|e| panic!("{file}: {e}"));
            let total =
                serde_json::from_slice::<serde_json::Value>(body).expect("json")["total"].as_u64();
            let sessions: Vec<_> = page
                .sessions
                .iter()
                .map(|f| f.session.as_of(fixtures.as_of(file, f.session.created_at)))
                .collect();
            json!({"next": page.next_cursor, "total": total, "sessions": sessions})
        } else if file.starts_with("cancel_") {
            match read_cancel(body) {
                Ok(f) => json!(f.session.as_of(fixtures.as_of(file, f.session.created_at))),
                Err(e) => json!({"http_status": e.http_status, "body": e.body(None)}),
            }
        } else {
            let session = read::session_body("default", family_of(file, body), body)
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            json!(session.as_of(fixtures.as_of(file, session.created_at)))
        };
        insta::assert_json_snapshot!(stem(file), value);
    }
}

fn session(file: &str) -> checkout_core::CheckoutSession {
    let fixtures = Fixtures::load("zenskar");
    let (_, body) = fixtures
        .files()
        .iter()
        .find(|(f, _)| f == file)
        .unwrap_or_else(|| panic!("no fixture {file}"));
    let s = Zenskar.normalize("default", body).expect(file);
    s.as_of(fixtures.as_of(file, s.created_at))
}

#[test]
fn decimal_money_by_currency_exponent() {
    for (file, minor, currency) in [
        ("create_checkout_plan_usd.json", 2999, "USD"),
        ("create_checkout_guest_eur.json", 2750, "EUR"),
        ("get_checkout_open_jpy.json", 15000, "JPY"),
        ("get_checkout_completed_paid_kwd.json", 21295, "KWD"),
        ("confirm_checkout_charge_immediately.json", 9900, "USD"),
        ("get_checkout_completed_no_payment.json", 0, "JPY"),
        ("get_checkouts_date_only_kwd.json", 1234, "KWD"),
        ("get_checkouts_payment_succeeded_jpy.json", 15000, "JPY"),
        ("create_checkouts_amendment.json", 12900, "USD"),
    ] {
        let amount = session(file)
            .amount_total
            .unwrap_or_else(|| panic!("{file}"));
        assert_eq!(
            (amount.amount_minor, amount.currency.as_str()),
            (minor, currency),
            "{file}"
        );
    }
    assert_eq!(session("get_checkouts_pending.json").amount_total, None);
}

#[test]
fn status_rules_over_the_fixtures() {
    use PaymentStatus as P;
    use Status as S;
    for (file, status, payment) in [
        ("create_checkout_plan_usd.json", S::Open, Some(P::Unpaid)),
        (
            "get_checkout_open_past_expiry.json",
            S::Expired,
            Some(P::Unpaid),
        ),
        (
            "get_checkout_processing_pending.json",
            S::Processing,
            Some(P::Processing),
        ),
        (
            "confirm_checkout_charge_immediately.json",
            S::Complete,
            Some(P::Unpaid),
        ),
        (
            "get_checkout_completed_charge_when_due.json",
            S::Complete,
            Some(P::Processing),
        ),
        (
            "get_checkout_completed_paid_kwd.json",
            S::Complete,
            Some(P::Paid),
        ),
        (
            "get_checkout_completed_no_payment.json",
            S::Complete,
            Some(P::NoPaymentRequired),
        ),
        (
            "get_checkout_completed_payment_failed.json",
            S::Complete,
            Some(P::Failed),
        ),
        ("get_checkout_closed.json", S::Expired, Some(P::Unpaid)),
        (
            "get_checkout_cancelled_customer_requested.json",
            S::Canceled,
            Some(P::Unpaid),
        ),
        (
            "get_checkout_cancelled_payment_failed.json",
            S::Canceled,
            Some(P::Failed),
        ),
        (
            "get_checkout_cancelled_expired.json",
            S::Expired,
            Some(P::Unpaid),
        ),
        (
            "get_checkout_cancelled_duplicate.json",
            S::Canceled,
            Some(P::Unpaid),
        ),
        (
            "get_checkout_cancelled_fraudulent.json",
            S::Canceled,
            Some(P::Unpaid),
        ),
        (
            "get_checkout_cancelled_other.json",
            S::Canceled,
            Some(P::Unpaid),
        ),
        ("get_checkout_future_values.json", S::Processing, None),
        ("create_checkouts_plan_usd.json", S::Open, None),
        ("get_checkouts_pending.json", S::Processing, None),
        (
            "get_checkouts_payment_succeeded_jpy.json",
            S::Processing,
            Some(P::Paid),
        ),
        ("get_checkouts_contract_created.json", S::Complete, None),
        ("confirm_checkouts_contract_created.json", S::Complete, None),
        ("get_checkouts_expired.json", S::Expired, None),
        ("get_checkouts_unknown_status.json", S::Processing, None),
    ] {
        let s = session(file);
        assert_eq!((s.status, s.payment_status), (status, payment), "{file}");
    }
}

#[test]
fn timestamps_and_dates() {
    // Naive datetimes are UTC.
    let s = session("create_checkout_plan_usd.json");
    assert_eq!(
        checkout_core::timestamp::format(&s.created_at),
        "2026-03-02T09:14:27.318204Z"
    );
    // `Z`, an offset and a naive value in one body.
    let s = session("get_checkout_zoned_timestamps.json");
    let fmt =
        |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| checkout_core::timestamp::format(&t));
    assert_eq!(
        fmt(Some(s.created_at)).as_deref(),
        Some("2026-03-17T08:45:30Z")
    );
    assert_eq!(fmt(s.expires_at).as_deref(), Some("2026-03-18T08:45:30Z"));
    assert_eq!(fmt(s.updated_at).as_deref(), Some("2026-03-17T08:45:30Z"));
    // `date` fields as plain dates and as datetimes both read.
    for file in [
        "get_checkouts_date_only_kwd.json",
        "get_checkouts_pending.json",
    ] {
        assert_eq!(session(file).provider, "zenskar", "{file}");
    }
}

/// Fixtures are checked against `fixtures/zenskar/spec/openapi.json`, our
/// transcription of the vendor docs (one file is deliberately outside it).
#[test]
fn fixtures_validate_against_the_documented_schema() {
    let spec = docs_schema();
    let mut checked = 0;
    for (file, body) in Fixtures::load("zenskar").files() {
        if !file.ends_with(".json") || file == "get_checkout_future_values.json" {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_slice(body).unwrap_or_else(|e| panic!("{file}: {e}"));
        let schema = match (
            error_status(file),
            Some(fixture_kit::kind(file)),
            family_of(file, body),
        ) {
            (Some(403), _, _) => "AuthorizerDenied",
            (Some(422), _, _) => "HTTPValidationError",
            (Some(_), _, _) => "HTTPError",
            (None, Some("list"), _) => "CheckoutSessionListResponse",
            (None, Some("cancel"), _) => "CheckoutSessionCancelResponse",
            (None, Some("confirm"), Family::Checkouts) => "CheckoutConfirmResponse",
            (None, _, Family::Checkouts) => "CheckoutResponse",
            (None, _, Family::Checkout) => "CheckoutSessionResponse",
        };
        spec.validate_schema(schema, &value)
            .unwrap_or_else(|e| panic!("{file} does not match {schema}: {e}"));
        checked += 1;
    }
    assert!(checked >= 35, "only {checked} fixtures checked");
    let outside: serde_json::Value = serde_json::from_slice(
        &std::fs::read(fixtures_dir().join("get_checkout_future_values.json")).expect("fixture"),
    )
    .expect("json");
    assert!(
        spec.validate_schema("CheckoutSessionResponse", &outside)
            .is_err(),
        "the future-values fixture is outside the documented schema by design"
    );
}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/zenskar")
}

fn docs_schema() -> spec_check::Spec {
    spec_check::Spec::load("zenskar/openapi.json")
}

#[test]
fn garbage_bodies_are_bad_responses_not_panics() {
    for family in [Family::Checkout, Family::Checkouts] {
        for body in [
            &b""[..],
            b"{",
            b"null",
            b"[]",
            b"{\"id\":1}",
            b"{\"id\":\"3f1c9a52-7b4e-4d2a-9c61-0e8f5b7a2d14\"}",
            b"\xff\xfe",
        ] {
            let err = read::session_body("default", family, body).unwrap_err();
            assert_eq!(err.code, ErrorCode::ProviderBadResponse);
            assert_eq!(err.http_status, 502);
        }
    }
    for (body, field) in [
        (
            &br#"{"id":"3f1c9a52-7b4e-4d2a-9c61-0e8f5b7a2d14","checkout_session_status":"open","created_at":"yesterday"}"#[..],
            "created_at",
        ),
        (
            br#"{"id":"../admin","checkout_session_status":"open","created_at":"2026-03-02T10:00:00"}"#,
            "id",
        ),
        (
            br#"{"id":"3f1c9a52-7b4e-4d2a-9c61-0e8f5b7a2d14","checkout_status":"open","created_at":"2026-03-02T10:00:00Z","estimates":{"current_invoice":{"total":"lots","currency":"USD"}}}"#,
            "estimates.current_invoice.total",
        ),
    ] {
        let err = Zenskar.normalize("default", body).unwrap_err();
        assert_eq!(err.code, ErrorCode::ProviderBadResponse);
        assert!(err.message.contains(field), "{}", err.message);
        assert!(
            !err.message.contains("yesterday") && !err.message.contains("lots"),
            "vendor data is not echoed: {}",
            err.message
        );
    }
}

fn account(family: &str) -> ZenskarAccount {
    ZenskarAccount::from_config(
        "default",
        json!({"api_key": "k", "organisation": "aa92a968-3677-4eef-a4b3-c34c686c61c4", "family": family}),
    )
    .expect("config")
}

fn ok(body: &[u8]) -> VendorAnswer {
    VendorAnswer {
        status: 200,
        body: body.to_vec().into(),
        ..VendorAnswer::default()
    }
}

fn read_list(body: &[u8]) -> Result<ListPage, checkout_core::Error> {
    account("checkout").read_list(&ListQuery::default(), &ok(body))
}

/// The session the cancel fixtures cancelled.
const CANCELLED: &str = "41dc23c2-867d-420c-9b0d-7dbbc85d6900";

fn read_cancel(body: &[u8]) -> Result<checkout_core::Fetched, checkout_core::Error> {
    account("checkout").read_cancel(CANCELLED, &ok(body))
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Summaries read into sessions: what a summary lacks stays empty, the
/// vendor's cursor is passed on as is, each item is kept verbatim.
#[test]
fn list_pages_of_summaries() {
    let first = fixture("list_checkout_first_page.json");
    let page = read_list(&first).expect("first page");
    let value: serde_json::Value = serde_json::from_slice(&first).expect("json");
    assert_eq!(page.next_cursor.as_deref(), value["next"].as_str());
    assert!(page.next_cursor.is_some());
    let text = std::str::from_utf8(&first).expect("utf-8");
    for (f, item) in page
        .sessions
        .iter()
        .zip(value["data"].as_array().expect("data"))
    {
        assert!(text.contains(f.raw.get()));
        assert_eq!(f.session.provider_session_id, item["id"]);
        let s = &f.session;
        assert_eq!((s.plan.as_ref(), s.amount_total.as_ref()), (None, None));
        assert_eq!((s.expires_at, s.url.as_ref()), (None, None));
        assert!(s.metadata.is_empty() && s.success_url.is_none());
    }
    let last = read_list(&fixture("list_checkout_last_page.json")).expect("last");
    assert_eq!(last.next_cursor, None);
    let empty = read_list(&fixture("list_checkout_empty.json")).expect("empty");
    assert!(empty.sessions.is_empty() && empty.next_cursor.is_none());
}

#[test]
fn cancel_answers() {
    let e = read_cancel(&fixture("cancel_checkout_documented.json")).unwrap_err();
    assert_eq!(
        (e.code, e.provider_http_status),
        (ErrorCode::InvalidState, Some(200)),
        "no creation time: the gateway reads the session"
    );
    let f = read_cancel(&fixture("cancel_checkout_full_session.json")).expect("full");
    assert_eq!(f.session.status, Status::Canceled);
    assert_eq!(f.session.provider_session_id, CANCELLED);
    let refused = VendorAnswer {
        status: 400,
        body: fixture("error_400_cancel_not_open.json").into(),
        ..VendorAnswer::default()
    };
    let e = account("checkout")
        .read_cancel(CANCELLED, &refused)
        .unwrap_err();
    assert_eq!(
        (e.code, e.http_status, e.provider_http_status),
        (ErrorCode::InvalidState, 409, Some(400))
    );
    // Family `checkouts` has neither list nor cancel.
    let b = account("checkouts");
    assert_eq!(
        b.read_cancel(CANCELLED, &ok(b"{}")).unwrap_err().code,
        ErrorCode::UnsupportedOperation
    );
    assert_eq!(
        b.read_list(&ListQuery::default(), &ok(b"{}"))
            .unwrap_err()
            .code,
        ErrorCode::UnsupportedOperation
    );
}
