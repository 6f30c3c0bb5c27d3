//! Every JSON body the Zenskar emulation sends validates against
//! `fixtures/zenskar/spec/openapi.json`, the transcription of Zenskar's
//! documented schemas that the fixtures are checked against too (Zenskar
//! publishes no machine-readable spec).

mod zenskar_support;

use reqwest::Method;
use sandbox::zenskar::seed;
use serde_json::json;
use spec_check::Spec;
use zenskar_support::{id_of, start, Reply};

struct Checked {
    spec: Spec,
    count: usize,
}

impl Checked {
    /// `schema` names what a 2xx answer must be; errors are judged by status.
    fn check(&mut self, schema: &str, reply: &Reply) {
        self.count += 1;
        if reply.status == 302 || reply.status == 500 {
            assert!(
                reply.status == 302 || reply.content_type.starts_with("text/plain"),
                "{reply:?}"
            );
            return;
        }
        let name = match reply.status {
            200..=299 => schema,
            403 => "AuthorizerDenied",
            422 => "HTTPValidationError",
            _ => "HTTPError",
        };
        if let Err(e) = self.spec.validate_schema(name, &reply.json()) {
            panic!("{name} {}: {e}\n{}", reply.status, reply.text);
        }
    }
}

fn spec() -> Spec {
    Spec::load("zenskar/openapi.json")
}

const SESSION: &str = "CheckoutSessionResponse";
const CHECKOUT: &str = "CheckoutResponse";

#[tokio::test]
async fn every_response_matches_the_documented_schema() {
    let zk = start().await;
    let mut c = Checked {
        spec: spec(),
        count: 0,
    };
    let full = json!({
        "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no",
        "pending_url": "https://shop.example/wait", "idempotency_key": "k-1", "correlation_id": "c-1",
        "custom_data": {"order": "1"}, "attribution": {"utm_source": "mail"}, "currency": "USD",
        "business_entity_id": seed::BUSINESS_ENTITY_ID, "expires_at": "2099-01-01T00:00:00Z"
    });

    // Family A: every status and payment status, via the API and the controls.
    let mut ids = Vec::new();
    for extra in [
        full.clone(),
        json!({}),
        json!({}),
        json!({}),
        json!({}),
        json!({}),
        json!({}),
    ] {
        let r = zk.create_a(extra).await;
        c.check(SESSION, &r);
        ids.push(id_of(&r.json()));
    }
    c.check(SESSION, &zk.create_a(full).await); // idempotent replay
    let guest = zk
        .create_a(json!({"customer_id": null, "guest_checkout": true, "business_entity_id": seed::BUSINESS_ENTITY_ID,
                         "customer_data": {"customer_name": "Fjord Studio AS", "email": "post@fjordstudio.example"}}))
        .await;
    c.check(SESSION, &guest);
    let product = zk
        .create_a(json!({"contract": {"is_plan_based": false, "currency": "USD", "start_date": "2026-04-01T00:00:00",
            "phases": [{"pricings": [{"product_id": seed::PRODUCT_SEATS_ID, "quantity": 3, "price": 12.5}]}]}}))
        .await;
    c.check(SESSION, &product);
    let confirm = |mode: &str| json!({"confirmation": mode, "preferred_payment_method": "card", "customer_notes": "n"});
    c.check(
        SESSION,
        &zk.call(
            Method::POST,
            &format!("/checkout/{}/confirm", ids[0]),
            Some(confirm("charge_immediately")),
        )
        .await,
    );
    c.check(
        SESSION,
        &zk.call(
            Method::POST,
            &format!("/checkout/{}/confirm", ids[1]),
            Some(confirm("charge_when_due")),
        )
        .await,
    );
    c.check(
        SESSION,
        &zk.call(
            Method::POST,
            &format!("/checkout/{}/confirm", id_of(&guest.json())),
            Some(confirm("no_payment")),
        )
        .await,
    );
    c.check(
        SESSION,
        &zk.call(
            Method::POST,
            &format!("/checkout/{}/confirm", ids[2]),
            Some(json!({"confirmation": "charge_immediately", "redirect": true})),
        )
        .await,
    );
    zk.control_ok(
        &ids[0],
        json!({"action": "payment", "payment_status": "paid"}),
    )
    .await;
    zk.control_ok(
        &ids[1],
        json!({"action": "payment", "payment_status": "failed"}),
    )
    .await;
    zk.control_ok(&ids[3], json!({"action": "process"})).await;
    zk.control_ok(&ids[4], json!({"action": "expire"})).await;
    let cancelled = zk
        .call(
            Method::POST,
            &format!("/checkout/{}/cancel", ids[5]),
            Some(json!({"reason_type": "other", "reason": "r", "reference_id": "T"})),
        )
        .await;
    c.check("CheckoutSessionCancelResponse", &cancelled);
    c.check(
        "CheckoutSessionCancelResponse",
        &zk.call(Method::POST, &format!("/checkout/{}/cancel", ids[6]), None)
            .await,
    );
    for id in &ids {
        c.check(SESSION, &zk.get_a(id).await);
    }
    for query in [
        "",
        "?limit=2",
        "?payment_status=paid",
        "?checkout_session_status=cancelled&order=last_activity_at",
    ] {
        c.check(
            "CheckoutSessionListResponse",
            &zk.call(Method::GET, &format!("/checkout{query}"), None)
                .await,
        );
    }

    // Family B: new, amendment, guest, every documented status.
    let mut b = Vec::new();
    for extra in [
        json!({"start_date": "2026-03-01", "end_date": "2027-02-28T00:00:00Z", "success_url": "https://shop.example/ok",
               "cancel_url": "https://shop.example/no", "expires_at": "2099-01-01T00:00:00"}),
        json!({"plan_id": null, "contract_id": seed::CONTRACT_NORTHWIND_TEAM_ID,
               "product_overrides": [{"product_id": seed::PRODUCT_SEATS_ID, "quantity": 6}, {"product_id": seed::PRODUCT_PLATFORM_ID, "is_enabled": true}]}),
        json!({"customer_id": null, "guest_checkout": true, "business_entity_id": seed::BUSINESS_ENTITY_ID, "customer_data": {"customer_name": "G"}}),
        json!({"customer_id": seed::CUSTOMER_KAITO_ID, "plan_id": seed::PLAN_TEAM_ID}),
    ] {
        let r = zk.create_b(extra).await;
        c.check(CHECKOUT, &r);
        b.push(id_of(&r.json()));
    }
    zk.control_ok(&b[0], json!({"action": "submit"})).await;
    c.check(
        "CheckoutConfirmResponse",
        &zk.call(
            Method::POST,
            &format!("/checkouts/{}/confirm", b[0]),
            Some(json!({})),
        )
        .await,
    );
    zk.control_ok(&b[1], json!({"action": "pay"})).await;
    zk.control_ok(&b[2], json!({"action": "expire"})).await;
    zk.control_ok(
        &b[3],
        json!({"action": "status", "checkout_status": "awaiting_approval"}),
    )
    .await;
    for id in &b {
        c.check(CHECKOUT, &zk.get_b(id).await);
    }

    // Errors of every kind.
    let unknown = uuid::Uuid::new_v4().to_string();
    c.check(SESSION, &zk.get_a(&unknown).await);
    c.check(SESSION, &zk.get_a("x").await);
    c.check(CHECKOUT, &zk.get_b(&unknown).await);
    c.check(SESSION, &zk.create_a(json!({"contract": {}})).await);
    c.check(SESSION, &zk.create_a(json!({"customer_id": unknown})).await);
    c.check(
        SESSION,
        &zk.call(Method::POST, &format!("/checkout/{}/cancel", ids[0]), None)
            .await,
    );
    c.check(
        CHECKOUT,
        &zk.call(Method::POST, &format!("/checkouts/{}/confirm", b[2]), None)
            .await,
    );
    c.check(SESSION, &zk.call(Method::PUT, "/checkout", None).await);
    c.check(SESSION, &zk.call(Method::GET, "/elsewhere", None).await);
    c.check(SESSION, &zk.raw(Method::GET, "/checkout", &[], None).await);
    c.check(
        SESSION,
        &zk.raw(
            Method::GET,
            "/checkout",
            &[("organisation", seed::ORGANISATION_ID)],
            None,
        )
        .await,
    );
    zk.fail_next(1).await;
    c.check(SESSION, &zk.get_a(&ids[0]).await);

    assert!(c.count >= 45, "only {} responses checked", c.count);
}
