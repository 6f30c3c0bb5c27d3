//! The Zenskar emulation's error answers: the `organisation` 403 with its
//! capital-M body, the key 401, FastAPI's 422 lists, 400/404/405 details
//! and Starlette's plain-text 500.

mod zenskar_support;

use reqwest::Method;
use sandbox::zenskar::seed;
use serde_json::{json, Value};
use zenskar_support::{body_a, id_of, merged, start};

const DENIED: &str = "User is not authorized to access this resource with an explicit deny";

#[tokio::test]
async fn organisation_then_key() {
    let zk = start().await;
    for headers in [
        vec![("x-api-key", seed::API_KEY)],
        vec![
            ("organisation", seed::BUSINESS_ENTITY_ID),
            ("x-api-key", seed::API_KEY),
        ],
        vec![
            ("organization", seed::ORGANISATION_ID),
            ("x-api-key", seed::API_KEY),
        ],
        vec![],
    ] {
        let r = zk.raw(Method::GET, "/checkout", &headers, None).await;
        assert_eq!(r.expect(403), json!({ "Message": DENIED }), "{headers:?}");
        assert_eq!(r.content_type, "application/json");
    }
    let r = zk
        .raw(
            Method::GET,
            "/checkout",
            &[("organisation", seed::ORGANISATION_ID)],
            None,
        )
        .await;
    assert_eq!(r.expect(401), json!({"detail": "Not authenticated"}));
    let r = zk
        .raw(
            Method::GET,
            "/checkout",
            &[
                ("organisation", seed::ORGANISATION_ID),
                ("x-api-key", "zsk_guess"),
            ],
            None,
        )
        .await;
    assert_eq!(r.expect(401), json!({"detail": "Invalid API key"}));
    // Refused calls are still counted.
    assert_eq!(zk.sandbox.calls("zenskar", "list"), 6);
}

#[tokio::test]
async fn validation_errors_name_the_field() {
    let zk = start().await;
    let r = zk
        .create_a(json!({"contract": {"is_plan_based": true, "currency": "USD"}}))
        .await;
    assert_eq!(
        r.issues(),
        [
            (
                json!(["body", "contract", "start_date"]),
                "value_error.missing".to_owned()
            ),
            (
                json!(["body", "contract", "plan_id"]),
                "value_error.missing".to_owned()
            ),
        ]
    );
    let r = zk.get_a("not-a-uuid").await;
    assert_eq!(
        r.expect(422),
        json!({"detail": [{"loc": ["path", "checkout_session_id"], "msg": "value is not a valid uuid", "type": "type_error.uuid"}]})
    );
    let long = format!("https://shop.example/{}", "a".repeat(2070));
    let r = zk
        .create_a(json!({"success_url": long, "cancel_url": "shop.example/no"}))
        .await;
    assert_eq!(
        r.issues(),
        [
            (
                json!(["body", "success_url"]),
                "value_error.any_str.max_length".to_owned()
            ),
            (
                json!(["body", "cancel_url"]),
                "value_error.url.scheme".to_owned()
            ),
        ]
    );
    let r = zk.create_a(json!({"customer_id": null})).await;
    assert_eq!(
        r.issues(),
        [(json!(["body", "__root__"]), "value_error".to_owned())]
    );
    let r = zk.create_a(json!({"currency": "EUR"})).await;
    assert_eq!(
        r.issues(),
        [(json!(["body", "__root__"]), "value_error".to_owned())]
    );
    let r = zk
        .raw(Method::POST, "/checkout", &auth(), Some("{\"contract\": "))
        .await;
    assert_eq!(r.issues()[0].1, "value_error.jsondecode");
    let r = zk
        .raw(Method::POST, "/checkout", &auth(), Some("[1]"))
        .await;
    assert_eq!(
        r.issues(),
        [(json!(["body"]), "type_error.dict".to_owned())]
    );
    let r = zk.raw(Method::POST, "/checkout", &auth(), None).await;
    assert_eq!(
        r.issues(),
        [(json!(["body"]), "value_error.missing".to_owned())]
    );
    let r = zk.call(Method::GET, "/checkout?limit=101", None).await;
    assert_eq!(
        r.issues(),
        [(
            json!(["query", "limit"]),
            "value_error.number.not_le".to_owned()
        )]
    );

    let id = id_of(&zk.create_a_ok(json!({})).await);
    let r = zk
        .call(
            Method::POST,
            &format!("/checkout/{id}/cancel"),
            Some(json!({"reason_type": "other"})),
        )
        .await;
    assert_eq!(
        r.issues(),
        [(json!(["body", "reason"]), "value_error".to_owned())]
    );
    let r = zk
        .call(
            Method::POST,
            &format!("/checkout/{id}/cancel"),
            Some(json!({"reason_type": "bored"})),
        )
        .await;
    assert_eq!(
        r.issues(),
        [(json!(["body", "reason_type"]), "type_error.enum".to_owned())]
    );
    let r = zk
        .call(
            Method::POST,
            &format!("/checkout/{id}/confirm"),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        r.issues(),
        [(
            json!(["body", "confirmation"]),
            "value_error.missing".to_owned()
        )]
    );

    let r = zk.create_b(json!({"plan_id": null})).await;
    assert_eq!(
        r.issues(),
        [(json!(["body", "__root__"]), "value_error".to_owned())]
    );
    let r = zk
        .create_b(json!({"product_overrides": [{"product_id": seed::PRODUCT_SEATS_ID, "quantity": "many"}]}))
        .await;
    assert_eq!(
        r.issues(),
        [(
            json!(["body", "product_overrides", 0, "quantity"]),
            "type_error.integer".to_owned()
        )]
    );
}

fn auth() -> [(&'static str, &'static str); 2] {
    [
        ("organisation", seed::ORGANISATION_ID),
        ("x-api-key", seed::API_KEY),
    ]
}

fn detail(r: &zenskar_support::Reply, status: u16) -> String {
    r.expect(status)["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn rule_violations_are_400_with_a_detail() {
    let zk = start().await;
    let unknown = uuid::Uuid::new_v4().to_string();
    let r = zk.create_a(json!({"customer_id": unknown})).await;
    assert!(detail(&r, 400).starts_with("Customer "), "{}", r.text);
    let r = zk
        .create_a(json!({"contract": {"is_plan_based": true, "plan_id": unknown, "currency": "USD", "start_date": "2026-03-01T00:00:00"}}))
        .await;
    assert!(detail(&r, 400).starts_with("Plan "), "{}", r.text);
    let r = zk
        .create_a(json!({"contract": {"is_plan_based": true, "plan_id": seed::PLAN_STARTER_ID, "currency": "GBP", "start_date": "2026-03-01T00:00:00"}}))
        .await;
    assert!(detail(&r, 400).contains("no pricing in GBP"), "{}", r.text);
    let r = zk
        .create_a(json!({"expires_at": "2020-01-01T00:00:00"}))
        .await;
    assert_eq!(detail(&r, 400), "expires_at must be in the future");

    let id = id_of(&zk.create_a_ok(json!({})).await);
    zk.control_ok(&id, json!({"action": "confirm"})).await;
    let r = zk
        .call(
            Method::POST,
            &format!("/checkout/{id}/cancel"),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        detail(&r, 400),
        "Checkout session cannot be cancelled in status 'completed'"
    );
    let r = zk
        .call(
            Method::POST,
            &format!("/checkout/{id}/confirm"),
            Some(json!({"confirmation": "no_payment"})),
        )
        .await;
    assert!(
        detail(&r, 400).contains("cannot be confirmed"),
        "{}",
        r.text
    );
    let kaito = zk
        .create_a_ok(json!({"customer_id": seed::CUSTOMER_KAITO_ID, "contract": {"is_plan_based": true,
            "plan_id": seed::PLAN_STARTER_ID, "currency": "JPY", "start_date": "2026-03-01T00:00:00"}}))
        .await;
    let r = zk
        .call(
            Method::POST,
            &format!("/checkout/{}/confirm", id_of(&kaito)),
            Some(json!({"confirmation": "charge_when_due"})),
        )
        .await;
    assert!(
        detail(&r, 400).contains("saved payment method"),
        "{}",
        r.text
    );

    let b = id_of(&zk.create_b_ok(json!({})).await);
    let r = zk
        .call(Method::POST, &format!("/checkouts/{b}/confirm"), None)
        .await;
    assert!(
        detail(&r, 400).contains("'pending' or 'payment_succeeded'"),
        "{}",
        r.text
    );
    zk.control_ok(&b, json!({"action": "submit"})).await;
    zk.control_ok(
        &b,
        json!({"action": "set_expiry", "expires_at": "2020-01-01T00:00:00Z"}),
    )
    .await;
    let r = zk
        .call(
            Method::POST,
            &format!("/checkouts/{b}/confirm"),
            Some(json!({})),
        )
        .await;
    assert_eq!(detail(&r, 400), "Checkout has expired");
    let r = zk
        .create_b(json!({"plan_id": null, "contract_id": seed::CONTRACT_NORTHWIND_TEAM_ID, "customer_id": seed::CUSTOMER_GULF_ID,
            "product_overrides": []}))
        .await;
    assert!(detail(&r, 400).contains("does not belong"), "{}", r.text);
    let r = zk.call(Method::GET, "/checkout?cursor=bm9wZQ", None).await;
    assert_eq!(detail(&r, 400), "Invalid cursor");
}

#[tokio::test]
async fn not_found_method_not_allowed_and_server_errors() {
    let zk = start().await;
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        detail(&zk.get_a(&unknown).await, 404),
        "Checkout session not found"
    );
    assert_eq!(detail(&zk.get_b(&unknown).await, 404), "Checkout not found");
    let r = zk
        .call(Method::POST, &format!("/checkout/{unknown}/cancel"), None)
        .await;
    assert_eq!(detail(&r, 404), "Checkout session not found");
    assert_eq!(
        detail(&zk.call(Method::GET, "/customers", None).await, 404),
        "Not Found"
    );
    assert_eq!(
        detail(&zk.call(Method::DELETE, "/checkout", None).await, 405),
        "Method Not Allowed"
    );

    zk.fail_next(2).await;
    for _ in 0..2 {
        let r = zk
            .call(Method::POST, "/checkout", Some(merged(body_a(), json!({}))))
            .await;
        assert_eq!((r.status, r.text.as_str()), (500, "Internal Server Error"));
        assert!(r.content_type.starts_with("text/plain"), "{r:?}");
    }
    assert_eq!(
        zk.create_a(json!({})).await.status,
        201,
        "only the armed calls fail"
    );
    assert_eq!(
        zk.sandbox.calls("zenskar", "create"),
        3,
        "failed calls are counted"
    );
    let control = zk.control(&unknown, json!({"action": "expire"})).await;
    assert_eq!(control.status, 404);
    let control = zk.control("nope", json!({"action": "expire"})).await;
    assert_eq!(control.status, 400);
    let id = id_of(&zk.create_a_ok(json!({})).await);
    let bad: Value = zk
        .control(&id, json!({"action": "explode"}))
        .await
        .expect(400);
    assert!(bad["error"].is_string());
}
