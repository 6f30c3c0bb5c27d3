//! The Zenskar emulation's happy paths over a real socket, both API
//! families: create, get, list, idempotency, money, the lifecycles through
//! the API and the control routes, call counts.

mod zenskar_support;

use chrono::{DateTime, NaiveDateTime, Utc};
use reqwest::Method;
use sandbox::zenskar::seed;
use serde_json::{json, Value};
use zenskar_support::{id_of, start};

fn naive(v: &Value) -> NaiveDateTime {
    let s = v.as_str().unwrap_or_else(|| panic!("not a string: {v}"));
    assert!(
        !s.ends_with('Z') && !s.contains('+'),
        "family A timestamps are naive: {s}"
    );
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").expect("naive datetime")
}

fn zulu(v: &Value) -> DateTime<Utc> {
    let s = v.as_str().unwrap_or_else(|| panic!("not a string: {v}"));
    assert!(s.ends_with('Z'), "family B timestamps end in Z: {s}");
    DateTime::parse_from_rfc3339(s).expect("rfc3339").to_utc()
}

#[tokio::test]
async fn family_a_create_has_the_documented_shape() {
    let zk = start().await;
    let reply = zk
        .create_a(json!({
            "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no",
            "idempotency_key": "order-1", "custom_data": {"order": "1"},
            "correlation_id": "trace-9", "business_entity_id": seed::BUSINESS_ENTITY_ID
        }))
        .await;
    let s = reply.expect(201);
    assert_eq!(reply.content_type, "application/json");
    assert!(reply.request_id.is_some(), "every answer names its request");
    assert!(uuid::Uuid::parse_str(&id_of(&s)).is_ok());
    assert_eq!(s["checkout_session_status"], "open");
    assert_eq!(s["payment_status"], "not_started");
    assert_eq!(s["guest_checkout"], false);
    assert_eq!(s["customer_id"], seed::CUSTOMER_NORTHWIND_ID);
    assert_eq!(
        s["contract"],
        json!({"currency": "USD", "is_plan_based": true, "plan_id": seed::PLAN_STARTER_ID, "start_date": "2026-03-01T00:00:00"})
    );
    assert_eq!(s["idempotency_key"], "order-1");
    assert_eq!(s["custom_data"], json!({"order": "1"}));
    assert_eq!(s["currency"], "USD");
    // Unset keys are left out, as in the documented samples.
    for absent in [
        "contract_id",
        "confirmed_at",
        "paid_at",
        "cancellation_details",
        "pending_url",
    ] {
        assert!(s.get(absent).is_none(), "{absent} present: {s}");
    }
    let created = naive(&s["created_at"]);
    assert_eq!(
        naive(&s["expires_at"]) - created,
        chrono::Duration::hours(24)
    );
    // Money is the decimal's own text.
    assert!(
        reply.text.contains(r#""unit_price":29.99,"amount":29.99"#),
        "{}",
        reply.text
    );
    assert!(
        reply.text.contains(r#""amount_due":29.99"#),
        "{}",
        reply.text
    );
    let invoice = &s["estimates"]["current_invoice"];
    assert_eq!(invoice["status"], "estimated");
    assert_eq!(invoice["customer"]["customer_name"], "Northwind Traders");
    assert_eq!(
        invoice["line_items"][0]["period"]["start_date"],
        "2026-03-01T00:00:00"
    );
    assert_eq!(
        invoice["line_items"][0]["period"]["end_date"],
        "2026-03-31T23:59:59"
    );

    let got = zk.get_a(&id_of(&s)).await;
    assert_eq!(got.expect(200), s);
}

#[tokio::test]
async fn decimal_money_in_each_currency_exponent() {
    let zk = start().await;
    for (customer, currency, due) in [
        (seed::CUSTOMER_NORTHWIND_ID, "USD", "99.0"),
        (seed::CUSTOMER_KAITO_ID, "JPY", "15000"),
        (seed::CUSTOMER_GULF_ID, "KWD", "21.295"),
        (seed::CUSTOMER_BRAMBLE_ID, "EUR", "91.25"),
    ] {
        let reply = zk
            .create_a(json!({"customer_id": customer, "contract": {"is_plan_based": true,
                "plan_id": seed::PLAN_TEAM_ID, "currency": currency, "start_date": "2026-03-01T00:00:00"}}))
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        assert!(
            reply.text.contains(&format!(r#""amount_due":{due},"#)),
            "{currency}: {}",
            reply.text
        );
    }
    let reply = zk
        .create_a(json!({"customer_id": seed::CUSTOMER_GULF_ID, "contract": {"is_plan_based": true,
            "plan_id": seed::PLAN_TEAM_ID, "currency": "KWD", "start_date": "2026-03-01T00:00:00"}}))
        .await;
    assert!(
        reply.text.contains(r#""unit_price":1.234,"amount":6.17"#),
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn the_body_idempotency_key_gives_one_session() {
    let zk = start().await;
    let first = zk.create_a_ok(json!({"idempotency_key": "retry-me"})).await;
    let again = zk.create_a(json!({"idempotency_key": "retry-me"})).await;
    assert_eq!(again.expect(200), first, "same key: the same session, 200");
    let other = zk.create_a_ok(json!({"idempotency_key": "another"})).await;
    assert_ne!(other["id"], first["id"]);
    let none = zk.create_a_ok(json!({})).await;
    assert_ne!(none["id"], first["id"]);
    assert_eq!(zk.sandbox.calls("zenskar", "create"), 4);
    let list = zk.call(Method::GET, "/checkout", None).await.expect(200);
    assert_eq!(list["total"], 3);
}

#[tokio::test]
async fn family_a_guest_checkout_and_product_based_contract() {
    let zk = start().await;
    let s = zk
        .create_a_ok(json!({"customer_id": null, "guest_checkout": true,
            "customer_data": {"customer_name": "Fjord Studio AS", "email": "post@fjordstudio.example"},
            "business_entity_id": seed::BUSINESS_ENTITY_ID}))
        .await;
    assert_eq!(s["guest_checkout"], true);
    assert!(s.get("customer_id").is_none());
    assert_eq!(
        s["estimates"]["current_invoice"]["customer"],
        json!({"customer_name": "Fjord Studio AS", "email": "post@fjordstudio.example"})
    );
    let done = zk
        .control_ok(
            &id_of(&s),
            json!({"action": "confirm", "confirmation": "no_payment"}),
        )
        .await;
    assert!(
        done["customer_id"].is_string(),
        "confirming a guest checkout makes the customer"
    );

    let s = zk
        .create_a_ok(json!({"contract": {"is_plan_based": false, "currency": "EUR", "start_date": "2026-04-01T00:00:00",
            "phases": [{"name": "Intro", "pricings": [{"product_id": seed::PRODUCT_PLATFORM_ID, "quantity": 2, "price": 39.5}]}]},
            "customer_id": seed::CUSTOMER_BRAMBLE_ID}))
        .await;
    assert_eq!(s["contract"]["is_plan_based"], false);
    assert_eq!(s["estimates"]["amount_due"], json!(79.0));
    assert_eq!(
        s["estimates"]["current_invoice"]["line_items"][0]["name"],
        "Platform access"
    );
}

#[tokio::test]
async fn family_a_lifecycle_through_the_api_and_the_controls() {
    let zk = start().await;
    // charge_immediately: completed, payment not started (the documented sample).
    let s = zk.create_a_ok(json!({})).await;
    let id = id_of(&s);
    let confirmed = zk
        .call(
            Method::POST,
            &format!("/checkout/{id}/confirm"),
            Some(json!({"confirmation": "charge_immediately"})),
        )
        .await
        .expect(200);
    assert_eq!(
        (
            &confirmed["checkout_session_status"],
            &confirmed["payment_status"]
        ),
        (&json!("completed"), &json!("not_started"))
    );
    assert!(confirmed["contract_id"].is_string() && confirmed["confirmed_at"].is_string());
    let paid = zk
        .control_ok(&id, json!({"action": "payment", "payment_status": "paid"}))
        .await;
    assert_eq!(paid["payment_status"], "paid");
    naive(&paid["paid_at"]);

    // redirect: a 302 to the payment page.
    let s = zk.create_a_ok(json!({})).await;
    let id = id_of(&s);
    let r = zk
        .call(
            Method::POST,
            &format!("/checkout/{id}/confirm"),
            Some(json!({"confirmation": "charge_immediately", "redirect": true})),
        )
        .await;
    assert_eq!(r.status, 302, "{}", r.text);
    assert!(
        r.location.as_deref().is_some_and(|l| l.ends_with(&id)),
        "{r:?}"
    );

    // charge_when_due: needs a saved payment method (Northwind has one).
    let s = zk.create_a_ok(json!({})).await;
    let due = zk
        .control_ok(
            &id_of(&s),
            json!({"action": "confirm", "confirmation": "charge_when_due"}),
        )
        .await;
    assert_eq!(due["payment_status"], "pending");

    // processing, then the payment settles it.
    let s = zk.create_a_ok(json!({})).await;
    let id = id_of(&s);
    let p = zk.control_ok(&id, json!({"action": "process"})).await;
    assert_eq!(
        (&p["checkout_session_status"], &p["payment_status"]),
        (&json!("processing"), &json!("pending"))
    );
    let f = zk
        .control_ok(
            &id,
            json!({"action": "payment", "payment_status": "failed"}),
        )
        .await;
    assert_eq!(
        (&f["checkout_session_status"], &f["payment_status"]),
        (&json!("completed"), &json!("failed"))
    );

    // expiry closes.
    let s = zk.create_a_ok(json!({})).await;
    let closed = zk.control_ok(&id_of(&s), json!({"action": "expire"})).await;
    assert_eq!(closed["checkout_session_status"], "closed");
    assert_eq!(
        zk.control(&id_of(&s), json!({"action": "expire"}))
            .await
            .status,
        409
    );
}

#[tokio::test]
async fn family_a_cancel_with_every_reason_type() {
    let zk = start().await;
    for reason_type in [
        "customer_requested",
        "payment_failed",
        "expired",
        "duplicate",
        "fraudulent",
        "other",
    ] {
        let s = zk.create_a_ok(json!({})).await;
        let id = id_of(&s);
        let answer = zk
            .call(
                Method::POST,
                &format!("/checkout/{id}/cancel"),
                Some(
                    json!({"reason_type": reason_type, "reason": "because", "reference_id": "T-1"}),
                ),
            )
            .await
            .expect(200);
        // The documented cancel answer carries no id.
        assert!(answer.get("id").is_none(), "{answer}");
        assert_eq!(answer["checkout_session_status"], "cancelled");
        assert_eq!(answer["cancellation_details"]["reason_type"], reason_type);
        let got = zk.get_a(&id).await.expect(200);
        assert_eq!(got["cancellation_details"]["reason_type"], reason_type);
        assert_eq!(got["cancelled_at"], answer["cancelled_at"]);
    }
    // Through the control route as well.
    let s = zk.create_a_ok(json!({})).await;
    let c = zk
        .control_ok(
            &id_of(&s),
            json!({"action": "cancel", "reason_type": "expired"}),
        )
        .await;
    assert_eq!(c["cancellation_details"]["reason_type"], "expired");
    assert_eq!(zk.sandbox.calls("zenskar", "cancel"), 6);
}

#[tokio::test]
async fn family_a_list_pages_and_filters() {
    let zk = start().await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(id_of(&zk.create_a_ok(json!({})).await));
    }
    let kaito = zk
        .create_a_ok(
            json!({"customer_id": seed::CUSTOMER_KAITO_ID, "contract": {"is_plan_based": true,
        "plan_id": seed::PLAN_STARTER_ID, "currency": "JPY", "start_date": "2026-03-01T00:00:00"}}),
        )
        .await;
    let page = zk
        .call(Method::GET, "/checkout?limit=4", None)
        .await
        .expect(200);
    assert_eq!(page["total"], 6);
    let data = page["data"].as_array().expect("data");
    assert_eq!(data.len(), 4);
    assert_eq!(data[0]["id"], kaito["id"], "newest first");
    assert!(data[0].get("contract").is_none() && data[0].get("estimates").is_none());
    let next = page["next"].as_str().expect("next cursor");
    let rest = zk
        .call(
            Method::GET,
            &format!("/checkout?limit=4&cursor={next}"),
            None,
        )
        .await
        .expect(200);
    assert_eq!(rest["data"].as_array().map(Vec::len), Some(2));
    assert!(rest.get("next").is_none());
    let filtered = zk
        .call(
            Method::GET,
            &format!(
                "/checkout?customer_id={}&currency=JPY",
                seed::CUSTOMER_KAITO_ID
            ),
            None,
        )
        .await
        .expect(200);
    assert_eq!(filtered["total"], 1);
    let by_ids = zk
        .call(
            Method::GET,
            &format!("/checkout?id__in={},{}&order=created_at", ids[0], ids[1]),
            None,
        )
        .await
        .expect(200);
    assert_eq!(by_ids["data"][0]["id"], ids[0].as_str());
    assert_eq!(zk.sandbox.calls("zenskar", "list"), 4);
}

#[tokio::test]
async fn family_b_create_get_and_lifecycle() {
    let zk = start().await;
    let reply = zk
        .create_b(
            json!({"start_date": "2026-03-01T00:00:00Z", "end_date": "2027-02-28",
                         "success_url": "https://shop.example/ok"}),
        )
        .await;
    let c = reply.expect(201);
    assert_eq!(c["organisation_id"], seed::ORGANISATION_ID);
    assert_eq!(c["checkout_status"], "open");
    assert_eq!(c["plan_id"], seed::PLAN_STARTER_ID);
    // Every key is present, null when unset; dates come back as datetimes.
    for key in [
        "contract_id",
        "business_entity_id",
        "customer_data",
        "cancel_url",
        "product_overrides",
    ] {
        assert_eq!(c[key], Value::Null, "{key}");
    }
    assert_eq!(c["start_date"], "2026-03-01T00:00:00Z");
    assert_eq!(c["end_date"], "2027-02-28T00:00:00Z");
    assert_eq!(
        zulu(&c["expires_at"]) - zulu(&c["created_at"]),
        chrono::Duration::hours(24)
    );
    assert!(
        reply
            .text
            .contains(r#""current_invoice":{"total":29.99,"currency":"USD"}"#),
        "{}",
        reply.text
    );
    let id = id_of(&c);
    assert_eq!(zk.get_b(&id).await.expect(200), c);
    assert_eq!(
        zk.get_a(&id).await.status,
        404,
        "families do not share sessions"
    );

    // open → pending → payment_succeeded → (API confirm) contract_created.
    assert_eq!(
        zk.control_ok(&id, json!({"action": "submit"})).await["checkout_status"],
        "pending"
    );
    assert_eq!(
        zk.control_ok(&id, json!({"action": "pay"})).await["checkout_status"],
        "payment_succeeded"
    );
    let confirmed = zk
        .call(
            Method::POST,
            &format!("/checkouts/{id}/confirm"),
            Some(json!({"payment_method_id": uuid::Uuid::new_v4().to_string()})),
        )
        .await
        .expect(200);
    assert_eq!(confirmed["checkout_status"], "contract_created");
    assert_eq!(confirmed["message"], "Checkout confirmed successfully");
    let got = zk.get_b(&id).await.expect(200);
    assert_eq!(got["contract_id"], confirmed["contract_id"]);

    // Free-form statuses, expiry.
    let other = id_of(&zk.create_b_ok(json!({})).await);
    assert_eq!(
        zk.control_ok(
            &other,
            json!({"action": "status", "checkout_status": "awaiting_approval"})
        )
        .await["checkout_status"],
        "awaiting_approval"
    );
    assert_eq!(
        zk.control_ok(&other, json!({"action": "expire"})).await["checkout_status"],
        "expired"
    );
    assert_eq!(
        zk.control(&other, json!({"action": "cancel"})).await.status,
        409,
        "family B has no cancel"
    );
    assert_eq!(zk.sandbox.calls("zenskar", "confirm"), 1);
}

#[tokio::test]
async fn family_b_amendments_and_guests() {
    let zk = start().await;
    let c = zk
        .create_b_ok(json!({"plan_id": null, "contract_id": seed::CONTRACT_NORTHWIND_TEAM_ID,
            "product_overrides": [{"product_id": seed::PRODUCT_SEATS_ID, "quantity": 8, "is_enabled": true}]}))
        .await;
    assert_eq!(c["plan_id"], Value::Null);
    assert_eq!(c["contract_id"], seed::CONTRACT_NORTHWIND_TEAM_ID);
    assert_eq!(
        c["estimates"]["current_invoice"],
        json!({"total": 129.0, "currency": "USD"})
    );
    assert_eq!(c["product_overrides"][0]["quantity"], 8);

    let g = zk
        .create_b_ok(json!({"customer_id": null, "guest_checkout": true, "business_entity_id": seed::BUSINESS_ENTITY_ID,
            "customer_data": {"customer_name": "Fjord Studio AS"}}))
        .await;
    assert_eq!(
        (&g["guest_checkout"], &g["customer_id"]),
        (&json!(true), &Value::Null)
    );
}
