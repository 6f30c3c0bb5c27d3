//! The Frontier legacy REST swagger: a Swagger 2.0 document in YAML.

use serde_json::{json, Value};
use spec_check::Spec;

const GET: &str = "/v1beta1/organizations/{org_id}/billing/checkouts/{id}";
const CHECKOUTS: &str = "/v1beta1/organizations/{org_id}/billing/checkouts";

fn spec() -> Spec {
    Spec::load("frontier/legacy-rest.swagger.yaml")
}

fn session() -> Value {
    json!({
        "id": "5b0f8b4e-3c1d-4f7a-9e2b-6d8c1a4f0e37",
        "checkout_url": "https://checkout.stripe.com/c/pay/cs_test_a1b2",
        "success_url": "", "cancel_url": "", "state": "open",
        "plan": "0f6c3d52-8a41-4e0b-b7a9-2c5e9d1f6a80", "product": "",
        "created_at": "2026-11-18T10:15:42.123456Z",
        "updated_at": "2026-11-18T10:15:42.123456Z",
        "expire_at": "2026-11-19T10:15:41Z"
    })
}

#[test]
fn yaml_is_read_and_swagger_definitions_are_found() {
    let spec = spec();
    assert_eq!(spec.document()["swagger"], "2.0");
    assert!(spec.schema("v1beta1CheckoutSession").is_some());
    spec.validate_schema("v1beta1CheckoutSession", &session())
        .expect("session");
    spec.validate_schema(
        "googlerpcStatus",
        &json!({"code": 5, "message": "Not Found", "details": []}),
    )
    .expect("status");
}

#[test]
fn checkout_responses_are_found_by_path_method_and_status() {
    let spec = spec();
    let one = json!({"checkout_session": session()});
    spec.validate_response(GET, "get", 200, &one).expect("get");
    spec.validate_response(CHECKOUTS, "post", 200, &one)
        .expect("create");
    spec.validate_response(
        CHECKOUTS,
        "get",
        200,
        &json!({"checkout_sessions": [session()]}),
    )
    .expect("list");
    spec.validate_response(CHECKOUTS, "get", 200, &json!({"checkout_sessions": []}))
        .expect("empty list");
    let status = json!({"code": 13, "message": "internal server error", "details": []});
    spec.validate_response(GET, "get", 500, &status)
        .expect("500");
    // Statuses the swagger does not list fall back to `default`.
    spec.validate_response(GET, "get", 409, &status)
        .expect("default");
}

#[test]
fn wrong_shapes_fail() {
    let spec = spec();
    let mut bad = session();
    bad["state"] = json!(3);
    bad["expire_at"] = json!("tomorrow");
    let err = spec
        .validate_response(GET, "get", 200, &json!({"checkout_session": bad}))
        .expect_err("must fail");
    assert!(err.contains("/checkout_session/state"), "{err}");
    assert!(err.contains("/checkout_session/expire_at"), "{err}");
    let err = spec
        .validate_schema("googlerpcStatus", &json!({"code": "not_found"}))
        .expect_err("a Connect error is not a gRPC status");
    assert!(err.contains("/code"), "{err}");
}

/// protojson's `EmitUnpopulated` writes an unset message field (the session's
/// `metadata` Struct) as `null`, which the generated swagger does not allow:
/// callers that validate legacy bodies must know this gap.
#[test]
fn the_swagger_has_no_nullable_metadata() {
    let mut with_null = session();
    with_null["metadata"] = Value::Null;
    assert!(spec()
        .validate_schema("v1beta1CheckoutSession", &with_null)
        .is_err());
}
