//! The Frontier emulation's happy paths over a real socket, on both APIs:
//! create, get, list, the lifecycle controls, field rules, call counts.

#[path = "frontier_support.rs"]
mod support;

use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use sandbox::frontier::seed;
use serde_json::{json, Value};
use support::{acme, checkouts, id_of, start, Auth};

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not a timestamp: {v}"))
}

/// Frontier's ids: `uuid.New().String()`.
fn is_v4_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok_and(|u| u.get_version_num() == 4 && u.to_string() == s)
}

fn assert_24h_expiry(s: &Value) {
    let created = time(&s["created_at"]);
    let expire = time(&s["expire_at"]);
    assert_eq!(expire.timestamp_subsec_nanos(), 0, "Stripe's whole seconds");
    let short = created + Duration::hours(24) - expire;
    assert!(
        short >= Duration::zero() && short < Duration::seconds(2),
        "{s}"
    );
}

#[tokio::test]
async fn connect_create_get_and_list() {
    let sb = start().await;
    let reply = sb
        .connect(
            "CreateCheckout",
            Auth::Basic,
            &json!({
                "org_id": acme(),
                "success_url": "https://app.example/ok?checkout={{.CheckoutID}}",
                "cancel_url": "https://app.example/billing",
                "subscription_body": {"plan": seed::PLAN_STARTER_NAME, "skip_trial": true},
                "billing_id": "ignored", "an_unknown_field": 1
            }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.content_type, "application/json");
    let s = reply.session();
    let id = id_of(&s);
    assert!(is_v4_uuid(&id), "{id}");
    assert_eq!(s["state"], "open");
    assert_eq!(
        s["plan"],
        seed::PLAN_STARTER_ID.to_string(),
        "names resolve to ids"
    );
    assert_eq!(
        s["success_url"],
        format!("https://app.example/ok?checkout={id}")
    );
    assert!(s["checkout_url"]
        .as_str()
        .unwrap()
        .starts_with("https://checkout.stripe.com/c/pay/cs_test_a1"));
    for absent in ["product", "metadata"] {
        assert!(s.get(absent).is_none(), "Connect omits empty {absent}");
    }
    assert_eq!(s["created_at"], s["updated_at"]);
    assert_24h_expiry(&s);
    // Field-number order, read from the raw text.
    let order = [
        "\"id\"",
        "\"checkout_url\"",
        "\"success_url\"",
        "\"cancel_url\"",
        "\"state\"",
        "\"plan\"",
        "\"created_at\"",
        "\"updated_at\"",
        "\"expire_at\"",
    ];
    let at: Vec<usize> = order.iter().map(|k| reply.text.find(k).expect(k)).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{}", reply.text);

    let got = sb
        .connect("GetCheckout", Auth::Bearer, &json!({"id": id}))
        .await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.session(), s);

    let list = sb
        .connect("ListCheckouts", Auth::Basic, &json!({"orgId": acme()}))
        .await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.json()["checkout_sessions"], json!([s]));
    let private = sb.inspect(&id).await;
    assert_eq!(private["org_id"], acme());
    assert_eq!(private["skip_trial"], true);
    assert_eq!(private["payment_status"], "unpaid");
    assert!(private["provider_id"]
        .as_str()
        .unwrap()
        .starts_with("cs_test_"));

    assert_eq!(sb.sandbox.calls("frontier", "create"), 1);
    assert_eq!(sb.sandbox.calls("frontier", "get"), 1);
    assert_eq!(sb.sandbox.calls("frontier", "list"), 1);
}

#[tokio::test]
async fn legacy_rest_create_get_and_list() {
    let sb = start().await;
    let reply = sb
        .rest(
            Method::POST,
            &checkouts(&acme()),
            Auth::Bearer,
            Some(&json!({"subscription_body": {"plan": seed::PLAN_PRO_ID.to_string()}})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let s = reply.session();
    let id = id_of(&s);
    // EmitUnpopulated: every field, empty ones too, metadata as null.
    let keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 11, "{s}");
    assert_eq!(s["product"], "");
    assert_eq!(s["success_url"], "");
    assert!(s["metadata"].is_null());
    assert_eq!(s["plan"], seed::PLAN_PRO_ID.to_string());
    assert_24h_expiry(&s);

    let got = sb
        .rest(
            Method::GET,
            &format!("{}/{id}", checkouts(&acme())),
            Auth::Basic,
            None,
        )
        .await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.session(), s);
    let list = sb
        .rest(Method::GET, &checkouts(&acme()), Auth::Bearer, None)
        .await;
    assert_eq!(list.json()["checkout_sessions"], json!([s]));

    // One Frontier behind both APIs.
    let via_connect = sb
        .connect("GetCheckout", Auth::Basic, &json!({"id": id}))
        .await;
    assert_eq!(via_connect.session()["id"], s["id"]);
    assert!(via_connect.session().get("product").is_none());
    assert_eq!(sb.sandbox.calls("frontier", "create"), 1);
    assert_eq!(sb.sandbox.calls("frontier", "get"), 2);
    assert_eq!(sb.sandbox.calls("frontier", "list"), 1);
}

#[tokio::test]
async fn products_setups_and_portals() {
    let sb = start().await;
    let product = sb
        .connect(
            "CreateCheckout",
            Auth::Basic,
            &json!({"org_id": acme(), "product_body": {"product": seed::PRODUCT_CREDITS_NAME, "quantity": "3"}}),
        )
        .await
        .session();
    assert_eq!(product["product"], seed::PRODUCT_CREDITS_ID.to_string());
    assert!(product.get("plan").is_none());
    assert_eq!(sb.inspect(&id_of(&product)).await["quantity"], 3);

    let setup = sb
        .rest(
            Method::POST,
            &checkouts(&acme()),
            Auth::Basic,
            Some(&json!({"setup_body": {"payment_method": true}, "success_url": "https://app.example/pm/{{.CheckoutID}}"})),
        )
        .await
        .session();
    assert_eq!(
        (setup["plan"].as_str(), setup["product"].as_str()),
        (Some(""), Some(""))
    );
    assert_eq!(setup["state"], "open");
    assert_eq!(
        setup["success_url"],
        format!("https://app.example/pm/{}", id_of(&setup))
    );

    // Plan wins over product; setup wins over both.
    let both = sb
        .connect(
            "CreateCheckout",
            Auth::Basic,
            &json!({"org_id": acme(), "subscription_body": {"plan": seed::PLAN_PRO_NAME},
                    "product_body": {"product": seed::PRODUCT_CREDITS_NAME}}),
        )
        .await
        .session();
    assert!(both.get("product").is_none() && both.get("plan").is_some());

    let portal = sb
        .connect(
            "CreateCheckout",
            Auth::Basic,
            &json!({"org_id": acme(), "setup_body": {"customer_portal": true},
                    "success_url": "https://app.example/{{.CheckoutID}}"}),
        )
        .await;
    assert_eq!(portal.status, 200, "{}", portal.text);
    let p = portal.session();
    assert!(p.get("state").is_none(), "portal sessions have no state");
    assert_eq!(p["created_at"], "0001-01-01T00:00:00Z");
    assert_eq!(p["success_url"], "https://app.example/{{.CheckoutID}}");
    assert!(p["checkout_url"]
        .as_str()
        .unwrap()
        .starts_with("https://billing.stripe.com/"));
    let again = sb
        .connect("GetCheckout", Auth::Basic, &json!({"id": id_of(&p)}))
        .await;
    again.assert_connect_error(404, "not_found", "not found");

    let list = sb
        .connect("ListCheckouts", Auth::Basic, &json!({"org_id": acme()}))
        .await;
    let listed = list.json()["checkout_sessions"].as_array().unwrap().len();
    assert_eq!(
        listed, 3,
        "product, setup and subscription; never the portal"
    );
}

#[tokio::test]
async fn state_changes_through_the_control_route() {
    let sb = start().await;
    let create = json!({"org_id": acme(), "subscription_body": {"plan": seed::PLAN_STARTER_NAME}});
    let s = sb
        .connect("CreateCheckout", Auth::Basic, &create)
        .await
        .session();
    let id = id_of(&s);
    let moved = sb
        .control(&format!("/sessions/{id}"), &json!({"state": "complete"}))
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text);
    let done = sb
        .connect("GetCheckout", Auth::Basic, &json!({"id": id}))
        .await
        .session();
    assert_eq!(done["state"], "complete");
    assert!(time(&done["updated_at"]) > time(&done["created_at"]));
    assert_eq!(sb.inspect(&id).await["payment_status"], "paid");

    // Paid: the org now has the plan.
    sb.connect("CreateCheckout", Auth::Basic, &create)
        .await
        .assert_connect_error(409, "already_exists", "already subscribed to the plan");
    let legacy = sb
        .rest(
            Method::POST,
            &checkouts(&acme()),
            Auth::Basic,
            Some(&json!({"subscription_body": {"plan": seed::PLAN_STARTER_NAME}})),
        )
        .await;
    legacy.assert_status(500, 13, "internal server error");

    let back = sb
        .control(&format!("/sessions/{id}"), &json!({"state": "open"}))
        .await;
    assert_eq!(back.status, 409, "{}", back.text);
    let bogus = sb
        .control(&format!("/sessions/{id}"), &json!({"colour": "red"}))
        .await;
    assert_eq!(bogus.status, 400);
    let missing = sb
        .control(
            &format!("/sessions/{}", uuid::Uuid::new_v4()),
            &json!({"state": "expired"}),
        )
        .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn the_sync_expires_sessions_past_expire_at() {
    let sb = start().await;
    let s = sb
        .connect(
            "CreateCheckout",
            Auth::Basic,
            &json!({"org_id": acme(), "product_body": {"product": seed::PRODUCT_CREDITS_ID.to_string()}}),
        )
        .await
        .session();
    let id = id_of(&s);
    let past = (Utc::now() - Duration::seconds(5)).to_rfc3339();
    sb.control(&format!("/sessions/{id}"), &json!({"expire_at": past}))
        .await;
    let still = sb
        .connect("GetCheckout", Auth::Basic, &json!({"id": id}))
        .await
        .session();
    assert_eq!(still["state"], "open", "Frontier lags until its sync runs");
    let synced = sb.control("/sync", &json!({})).await;
    assert_eq!(synced.json()["expired"], 1);
    let expired = sb
        .connect("GetCheckout", Auth::Basic, &json!({"id": id}))
        .await
        .session();
    assert_eq!(expired["state"], "expired");
}

#[tokio::test]
async fn empty_lists_differ_between_the_apis() {
    let sb = start().await;
    let globex = seed::ORG_GLOBEX_ID.to_string();
    let connect = sb
        .connect("ListCheckouts", Auth::Basic, &json!({"org_id": globex}))
        .await;
    assert_eq!((connect.status, connect.text.as_str()), (200, "{}"));
    let legacy = sb
        .rest(Method::GET, &checkouts(&globex), Auth::Basic, None)
        .await;
    assert_eq!(legacy.json(), json!({"checkout_sessions": []}));
}

#[tokio::test]
async fn a_billing_outage_is_unavailable() {
    let sb = start().await;
    let down = sb
        .control("/billing-provider", &json!({"available": false}))
        .await;
    assert_eq!(down.status, 200, "{}", down.text);
    let create = json!({"org_id": acme(), "setup_body": {"payment_method": true}});
    sb.connect("CreateCheckout", Auth::Basic, &create)
        .await
        .assert_connect_error(
            503,
            "unavailable",
            "billing provider is unavailable, retry later",
        );
    sb.control("/billing-provider", &json!({"available": true}))
        .await;
    assert_eq!(
        sb.connect("CreateCheckout", Auth::Basic, &create)
            .await
            .status,
        200
    );
}
