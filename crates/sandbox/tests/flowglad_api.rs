//! The Flowglad emulation's happy paths over a real socket: the create
//! wrapper and its three types, get, list pages, the lifecycle controls,
//! URLs, auth forms and call counts.

#[path = "flowglad_support.rs"]
mod support;

use reqwest::Method;
use sandbox::flowglad::seed;
use serde_json::{json, Value};
use support::{id_of, start, SESSIONS};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

fn nanoid_after(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .is_some_and(|rest| rest.len() == 21 && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[tokio::test]
async fn create_product_answers_the_record_and_its_url() {
    let sb = start().await;
    let before = chrono::Utc::now().timestamp_millis();
    let reply = sb
        .create_ok(json!({
            "quantity": 3,
            "outputName": "Pro for Acme",
            "preserveBillingCycleAnchor": true,
            "outputMetadata": {"order": "1234", "n": 2, "gift": true, "zz_last_by_length": "x", "a": "y"},
            "anUnknownField": "dropped"
        }))
        .await;
    assert_eq!(reply.content_type, "application/json");
    let request_id = reply.request_id.clone().expect("x-request-id");
    assert!(request_id.len() == 8 && request_id.bytes().all(|b| b.is_ascii_hexdigit()));
    let body = reply.json();
    assert_eq!(body.as_object().map(|o| o.len()), Some(2), "{body}");
    let s = &body["checkoutSession"];
    let id = id_of(s);
    assert!(nanoid_after(&id, "chckt_session_"), "{id}");
    assert_eq!(body["url"], format!("{}/flowglad/checkout/{id}", sb.base));
    // Every column, in the vendor's order (read from the raw text).
    let order = [
        "id",
        "createdAt",
        "updatedAt",
        "livemode",
        "pricingModelId",
        "status",
        "billingAddress",
        "priceId",
        "purchaseId",
        "invoiceId",
        "quantity",
        "organizationId",
        "customerName",
        "customerEmail",
        "customerId",
        "paymentMethodType",
        "discountId",
        "successUrl",
        "cancelUrl",
        "type",
        "preserveBillingCycleAnchor",
        "outputMetadata",
        "outputName",
        "targetSubscriptionId",
        "automaticallyUpdateSubscriptions",
        "expires",
    ];
    assert_eq!(s.as_object().map(|o| o.len()), Some(order.len()));
    let positions: Vec<usize> = order
        .iter()
        .map(|k| reply.text.find(&format!("\"{k}\":")).expect("field"))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{}", reply.text);
    // Epoch milliseconds, 24 h expiry.
    let created = s["createdAt"].as_i64().expect("integer createdAt");
    assert!(created >= before && created <= chrono::Utc::now().timestamp_millis());
    assert_eq!(s["updatedAt"], created);
    assert_eq!(s["expires"].as_i64(), Some(created + DAY_MS));
    assert_eq!(s["status"], "open");
    assert_eq!(s["type"], "product");
    assert_eq!(s["livemode"], false);
    assert_eq!(s["pricingModelId"], seed::PRICING_MODEL_ID);
    assert_eq!(s["organizationId"], seed::ORGANIZATION_ID);
    assert_eq!(s["customerId"], seed::CUSTOMER_ACME_ID);
    assert_eq!(s["customerName"], seed::CUSTOMER_ACME_NAME);
    assert_eq!(s["customerEmail"], seed::CUSTOMER_ACME_EMAIL);
    assert_eq!(s["priceId"], seed::PRICE_PRO_MONTHLY_ID);
    assert_eq!(s["quantity"], 3);
    assert_eq!(s["preserveBillingCycleAnchor"], true);
    assert_eq!(s["outputName"], "Pro for Acme");
    for null in [
        "billingAddress",
        "purchaseId",
        "invoiceId",
        "paymentMethodType",
        "discountId",
        "targetSubscriptionId",
        "automaticallyUpdateSubscriptions",
    ] {
        assert!(s[null].is_null(), "{null}: {s}");
    }
    assert!(s.get("anUnknownField").is_none());
    // jsonb key order: shorter keys first.
    let meta = reply.text.find("\"outputMetadata\":").expect("metadata");
    let meta_text = &reply.text[meta..];
    let a = meta_text.find("\"a\"").expect("a");
    let n = meta_text.find("\"n\"").expect("n");
    let gift = meta_text.find("\"gift\"").expect("gift");
    let order_key = meta_text.find("\"order\"").expect("order");
    assert!(a < n && n < gift && gift < order_key, "{meta_text}");

    // Get answers the same record.
    let got = sb.get(&id).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.session(), *s);
    assert_ne!(got.request_id.as_deref(), Some(request_id.as_str()));
}

#[tokio::test]
async fn prices_resolve_by_slug_and_anonymous_sessions_have_no_customer() {
    let sb = start().await;
    let s = sb
        .create_ok(json!({"priceId": null, "priceSlug": seed::PRICE_LIFETIME_SLUG}))
        .await
        .session();
    assert_eq!(s["priceId"], seed::PRICE_LIFETIME_ID);
    assert_eq!(s["quantity"], 1);
    assert_eq!(s["preserveBillingCycleAnchor"], false);
    let anon = sb
        .create(json!({
            "type": "product", "anonymous": true,
            "priceSlug": seed::PRICE_PRO_MONTHLY_SLUG,
            "successUrl": "https://shop.example/ok", "cancelUrl": "https://shop.example/no"
        }))
        .await;
    assert_eq!(anon.status, 200, "{}", anon.text);
    let s = anon.session();
    for null in ["customerId", "customerName", "customerEmail"] {
        assert!(s[null].is_null(), "{null}");
    }
    assert_eq!(s["priceId"], seed::PRICE_PRO_MONTHLY_ID);
}

#[tokio::test]
async fn add_payment_method_urls_differ_between_create_and_get() {
    let sb = start().await;
    let reply = sb
        .create(json!({
            "type": "add_payment_method",
            "customerExternalId": seed::CUSTOMER_GLOBEX_EXTERNAL_ID,
            "targetSubscriptionId": seed::SUBSCRIPTION_GLOBEX_ID,
            "automaticallyUpdateSubscriptions": true,
            "successUrl": "https://shop.example/ok", "cancelUrl": "https://shop.example/no"
        }))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let s = reply.session();
    let id = id_of(&s);
    assert_eq!(
        reply.json()["url"],
        format!("{}/flowglad/add-payment-method/{id}", sb.base)
    );
    assert_eq!(s["type"], "add_payment_method");
    assert!(s["priceId"].is_null());
    assert_eq!(s["customerId"], seed::CUSTOMER_GLOBEX_ID);
    assert_eq!(s["targetSubscriptionId"], seed::SUBSCRIPTION_GLOBEX_ID);
    // The input flag is ignored by the insert: the customer decides on the page.
    assert_eq!(s["automaticallyUpdateSubscriptions"], false);
    let got = sb.get(&id).await;
    assert_eq!(
        got.json()["url"],
        format!("{}/flowglad/checkout/{id}", sb.base)
    );
}

#[tokio::test]
async fn activate_subscription_takes_the_subscriptions_price() {
    let sb = start().await;
    let reply = sb
        .create(json!({
            "type": "activate_subscription",
            "customerExternalId": seed::CUSTOMER_ACME_EXTERNAL_ID,
            "targetSubscriptionId": seed::SUBSCRIPTION_ACME_ID,
            "preserveBillingCycleAnchor": true,
            "successUrl": "https://shop.example/ok", "cancelUrl": "https://shop.example/no"
        }))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let s = reply.session();
    assert_eq!(s["type"], "activate_subscription");
    assert_eq!(s["priceId"], seed::PRICE_PRO_MONTHLY_ID);
    assert_eq!(s["targetSubscriptionId"], seed::SUBSCRIPTION_ACME_ID);
    assert_eq!(s["preserveBillingCycleAnchor"], true);
    assert!(s["purchaseId"].is_null() && s["automaticallyUpdateSubscriptions"].is_null());
    assert!(reply.json()["url"]
        .as_str()
        .unwrap_or_default()
        .ends_with(&format!("/checkout/{}", id_of(&s))));
}

#[tokio::test]
async fn list_pages_oldest_first_with_cursors() {
    let sb = start().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(id_of(&sb.create_ok(json!({})).await.session()));
        // Same-millisecond sessions are ordered by (random) id instead.
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let first = sb.list("?limit=2").await;
    assert_eq!(first.status, 200, "{}", first.text);
    let page = first.json();
    let got: Vec<String> = page["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(got, ids[..2]);
    assert_eq!(page["hasMore"], true);
    assert_eq!(page["total"], 3);
    assert!(page.get("currentCursor").is_none());
    let cursor = page["nextCursor"].as_str().expect("nextCursor").to_owned();
    let second = sb.list(&format!("?limit=2&cursor={cursor}")).await.json();
    let got: Vec<String> = second["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(got, ids[2..]);
    assert_eq!(second["hasMore"], false);
    assert_eq!(second["currentCursor"], cursor);
    assert!(second.get("nextCursor").is_none());
    // Default page size 10; list items carry no URL.
    let all = sb.list("").await.json();
    assert_eq!(all["data"].as_array().map(Vec::len), Some(3));
    assert!(all["data"][0].get("url").is_none());
}

#[tokio::test]
async fn the_lifecycle_moves_through_the_control_route() {
    let sb = start().await;
    let s = sb.create_ok(json!({})).await.session();
    let id = id_of(&s);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let pending = sb
        .move_to(
            &id,
            json!({
                "status": "pending",
                "payment_method_type": "us_bank_account",
                "billing_address": {"name": "Acme Corp", "email": "ap@acme.example",
                    "address": {"line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}}
            }),
        )
        .await;
    assert_eq!(pending["status"], "pending");
    assert_eq!(pending["paymentMethodType"], "us_bank_account");
    assert_eq!(pending["billingAddress"]["address"]["postal_code"], "12345");
    assert!(pending["updatedAt"].as_i64() > s["updatedAt"].as_i64());
    assert_eq!(pending["createdAt"], s["createdAt"]);
    let done = sb.move_to(&id, json!({"status": "succeeded"})).await;
    assert_eq!(done["status"], "succeeded");
    assert!(nanoid_after(
        done["purchaseId"].as_str().unwrap_or_default(),
        "prch_"
    ));
    assert_eq!(sb.get(&id).await.session(), done);
    // Terminal sessions stay where they are.
    let refused = sb
        .control(&format!("/sessions/{id}"), json!({"status": "open"}))
        .await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    // Expiry can be moved (as epoch ms or RFC 3339); status is not touched.
    let other = id_of(&sb.create_ok(json!({})).await.session());
    let moved = sb
        .move_to(&other, json!({"expires_at": "2020-01-01T00:00:00Z"}))
        .await;
    assert_eq!(moved["expires"], 1_577_836_800_000i64);
    assert_eq!(moved["status"], "open");
    let moved = sb
        .move_to(&other, json!({"expires_at": 1_577_836_800_001i64}))
        .await;
    assert_eq!(moved["expires"], 1_577_836_800_001i64);
    let missing = sb
        .control(
            "/sessions/chckt_session_000000000000000000000",
            json!({"status": "failed"}),
        )
        .await;
    assert_eq!(missing.status, 404);
    let bad = sb
        .control(&format!("/sessions/{other}"), json!({"status": "done"}))
        .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn bearer_or_bare_key_and_every_call_is_counted() {
    let sb = start().await;
    let id = id_of(&sb.create_ok(json!({})).await.session());
    let path = format!("{SESSIONS}/{id}");
    for auth in [
        format!("Bearer {}", seed::API_KEY),
        format!("bearer {}", seed::API_KEY),
        seed::API_KEY.to_owned(),
    ] {
        let reply = sb.call_as(Some(&auth), Method::GET, &path, None).await;
        assert_eq!(reply.status, 200, "{auth}: {}", reply.text);
    }
    let refused = sb.call_as(None, Method::GET, &path, None).await;
    assert_eq!(refused.status, 401);
    sb.list("").await;
    assert_eq!(sb.sandbox.calls("flowglad", "create"), 1);
    assert_eq!(sb.sandbox.calls("flowglad", "get"), 4);
    assert_eq!(sb.sandbox.calls("flowglad", "list"), 1);
    let inspect: Value = sb
        .client
        .get(format!("{}/_sandbox/flowglad/sessions/{id}", sb.base))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("JSON");
    assert_eq!(inspect["checkoutSession"]["id"], id);
    assert_eq!(
        sb.sandbox.calls("flowglad", "get"),
        4,
        "controls are not counted"
    );
}
