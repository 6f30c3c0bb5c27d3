//! The real Meteroid document: discriminated unions and response lookups.

use serde_json::{json, Value};
use spec_check::Spec;

fn spec() -> Spec {
    Spec::load("meteroid/openapi.json")
}

fn session(payment_methods_config: Value) -> Value {
    json!({
        "id": "che_2OQSIEJ5wPMfKEdbtmDCgW",
        "customer_id": "cus_7n42DGM5Tflk9n8mt7Fhc7",
        "plan_version_id": "plv_7n42DGM5Tflk9n8mt7Fhc7",
        "coupon_code": null,
        "billing_start_date": "2026-02-01",
        "billing_day_anchor": 1,
        "net_terms": 30,
        "trial_duration_days": null,
        "status": "CREATED",
        "checkout_type": "SELF_SERVE",
        "created_at": "2026-01-19T10:00:00.123456Z",
        "expires_at": null,
        "completed_at": null,
        "subscription_id": null,
        "checkout_url": "https://portal.example/checkout?token=x",
        "payment_methods_config": payment_methods_config
    })
}

#[test]
fn every_payment_methods_config_type_validates() {
    let spec = spec();
    for config in [
        json!(null),
        json!({"type": "online"}),
        json!({"type": "online", "config": {"card": {"enabled": true}}}),
        json!({"type": "online", "config": {"card": {"enabled": true}, "direct_debit": {"enabled": false}}}),
        json!({"type": "bank_transfer"}),
        json!({"type": "bank_transfer", "account_id": "0198d5a2-0000-7000-8000-000000000001"}),
        json!({"type": "external"}),
    ] {
        if !config.is_null() {
            spec.validate_schema("PaymentMethodsConfig", &config)
                .unwrap_or_else(|e| panic!("{config}: {e}"));
        }
        spec.validate_schema("CheckoutSession", &session(config.clone()))
            .unwrap_or_else(|e| panic!("{config}: {e}"));
    }
}

#[test]
fn wrong_payment_methods_configs_fail() {
    let spec = spec();
    for config in [
        json!({"type": "paypal"}),
        json!({"config": {"card": {"enabled": true}}}),
        json!({"type": "online", "config": {"card": {"enabled": "yes"}}}),
        json!({"type": "online", "config": {"card": {}}}),
        json!({"type": "bank_transfer", "account_id": 12}),
        json!("online"),
    ] {
        assert!(
            spec.validate_schema("CheckoutSession", &session(config.clone()))
                .is_err(),
            "{config} should not validate"
        );
    }
}

#[test]
fn responses_are_found_by_path_method_and_status() {
    let spec = spec();
    let body = json!({"session": session(json!(null))});
    spec.validate_response("/api/v1/checkout-sessions/{id}", "get", 200, &body)
        .expect("get 200");
    spec.validate_response("/api/v1/checkout-sessions", "POST", 200, &body)
        .expect("create 200");
    spec.validate_response("/api/v1/checkout-sessions/{id}/cancel", "post", 200, &body)
        .expect("cancel 200");
    let list = json!({"sessions": [session(json!({"type": "external"}))]});
    spec.validate_response("/api/v1/checkout-sessions", "get", 200, &list)
        .expect("list 200");
    let err = json!({"code": "NOT_FOUND", "message": "Resource not found"});
    spec.validate_response("/api/v1/checkout-sessions/{id}", "get", 404, &err)
        .expect("get 404");
}

#[test]
fn invalid_bodies_are_reported() {
    let spec = spec();
    let mut body = session(json!(null));
    body["status"] = json!("OPEN");
    body["created_at"] = json!("yesterday");
    let err = spec
        .validate_response(
            "/api/v1/checkout-sessions/{id}",
            "get",
            200,
            &json!({"session": body}),
        )
        .expect_err("must fail");
    assert!(err.contains("/session/status"), "{err}");
    assert!(err.contains("/session/created_at"), "{err}");
    let err = spec
        .validate_schema("RestErrorResponse", &json!({"code": "NOPE", "message": 1}))
        .expect_err("must fail");
    assert!(err.contains("/code") && err.contains("/message"), "{err}");
}

#[test]
fn undocumented_lookups_are_errors() {
    let spec = spec();
    assert!(spec.validate_schema("NoSuchSchema", &json!({})).is_err());
    let err = spec
        .validate_response("/api/v1/checkout-sessions", "post", 404, &json!({}))
        .expect_err("create documents no 404");
    assert!(err.contains("no 404"), "{err}");
}

#[test]
fn a_missing_spec_says_where_it_looked() {
    let err = Spec::try_load("no-such-vendor/openapi.json")
        .err()
        .expect("must fail");
    assert!(
        err.contains("fixtures/no-such-vendor/spec/openapi.json"),
        "{err}"
    );
}

#[test]
fn a_spec_can_be_shared_across_tests() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<Spec>();
}
