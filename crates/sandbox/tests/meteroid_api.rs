//! The Meteroid emulation's happy paths over a real socket: create, get,
//! list, cancel, the lifecycle controls, checkout-url rules, call counts.

mod support;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use reqwest::Method;
use sandbox::meteroid::ids::{self, CheckoutSession, Id};
use sandbox::meteroid::seed;
use serde_json::{json, Value};
use sha2::Sha256;
use support::{id_of, start, SESSIONS};

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not a timestamp: {v}"))
}

#[tokio::test]
async fn create_returns_200_with_the_vendor_session() {
    let sb = start().await;
    let reply = sb
        .create(json!({
            "customer_id": "acme",
            "plan_version_id": seed::PLAN_VERSION_PRO_ID,
            "coupon_code": "WELCOME10",
            "billing_start_date": "2026-02-01",
            "billing_day_anchor": 15,
            "net_terms": 30,
            "trial_duration_days": 14,
            "metadata": {"order": "1234"},
            "payment_methods_config": {"type": "online", "config": {"card": {"enabled": true}}},
            "end_date": "2027-02-01",
            "invoice_threshold": "100.50",
            "add_ons": [{"add_on_id": "add_7n42DGM5Tflk9n8mt7Fhc7"}],
            "an_unknown_field": true
        }))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.content_type, "application/json");
    let s = reply.session();
    // Every field present, in the vendor's order (read from the raw text).
    let order = [
        "id",
        "customer_id",
        "plan_version_id",
        "coupon_code",
        "billing_start_date",
        "billing_day_anchor",
        "net_terms",
        "trial_duration_days",
        "status",
        "checkout_type",
        "created_at",
        "expires_at",
        "completed_at",
        "subscription_id",
        "checkout_url",
        "payment_methods_config",
        "success_url",
        "cancel_url",
    ];
    assert_eq!(s.as_object().map(|o| o.len()), Some(order.len()));
    let positions: Vec<usize> = order
        .iter()
        .map(|k| reply.text.find(&format!("\"{k}\":")).expect("field"))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{}", reply.text);
    assert!(Id::<CheckoutSession>::parse(&id_of(&s)).is_ok());
    assert!(id_of(&s).starts_with("che_"));
    assert_eq!(s["customer_id"], seed::CUSTOMER_ACME_ID);
    assert_eq!(s["plan_version_id"], seed::PLAN_VERSION_PRO_ID);
    assert_eq!(s["status"], "CREATED");
    assert_eq!(s["checkout_type"], "SELF_SERVE");
    assert_eq!(s["coupon_code"], "WELCOME10");
    assert_eq!(s["billing_start_date"], "2026-02-01");
    assert_eq!(s["billing_day_anchor"], 15);
    assert_eq!(s["net_terms"], 30);
    assert_eq!(s["trial_duration_days"], 14);
    assert_eq!(
        s["payment_methods_config"],
        json!({"type": "online", "config": {"card": {"enabled": true}}})
    );
    assert_eq!(s["completed_at"], Value::Null);
    assert_eq!(s["subscription_id"], Value::Null);
    let created = s["created_at"].as_str().expect("created_at");
    assert!(created.ends_with('Z'), "{created}");
    assert_eq!(
        time(&s["expires_at"]) - time(&s["created_at"]),
        Duration::hours(1)
    );
    assert!(s.get("metadata").is_none());
    assert_eq!(
        (&s["success_url"], &s["cancel_url"]),
        (&Value::Null, &Value::Null)
    );

    // Stored though never returned.
    let stored = sb.control_inspect(&id_of(&s)).await.json();
    assert_eq!(stored["metadata"], json!({"order": "1234"}));
}

/// Redirect URLs (SDK `meteroid` 0.30.1) come back as given from every
/// answer; `checkout_session_id` is added only when the hosted page redirects.
#[tokio::test]
async fn redirect_urls_are_returned_as_given_by_every_operation() {
    let sb = start().await;
    let ok = "https://shop.example/welcome?plan=pro";
    let no = "HTTP://localhost:3000/pricing";
    let created = sb
        .create_ok(json!({"success_url": ok, "cancel_url": no}))
        .await;
    let id = id_of(&created);
    let given = |s: &Value| {
        assert_eq!(
            (s["success_url"].as_str(), s["cancel_url"].as_str()),
            (Some(ok), Some(no)),
            "{s}"
        );
    };
    given(&created);
    given(&sb.get(&id).await.session());
    let listed = sb.list("").await.json();
    given(&listed["sessions"][0]);
    sb.control_move(&id, json!({"status": "COMPLETED"})).await;
    let completed = sb.get(&id).await.session();
    assert_eq!(completed["status"], "COMPLETED");
    given(&completed);

    let other = id_of(&sb.create_ok(json!({"cancel_url": no})).await);
    let cancelled = sb.cancel(&other).await.session();
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(
        (&cancelled["success_url"], cancelled["cancel_url"].as_str()),
        (&Value::Null, Some(no))
    );
    // `null` is the same as leaving a field out.
    let nulls = sb
        .create_ok(json!({"success_url": null, "cancel_url": null}))
        .await;
    assert_eq!(
        (&nulls["success_url"], &nulls["cancel_url"]),
        (&Value::Null, &Value::Null)
    );
}

#[tokio::test]
async fn customer_is_an_id_only_with_the_cus_prefix() {
    let sb = start().await;
    let s = sb
        .create_ok(json!({"customer_id": seed::CUSTOMER_GLOBEX_ID}))
        .await;
    assert_eq!(s["customer_id"], seed::CUSTOMER_GLOBEX_ID);
    let s = sb.create_ok(json!({"customer_id": "globex"})).await;
    assert_eq!(s["customer_id"], seed::CUSTOMER_GLOBEX_ID);
    // A raw UUID is looked up as an alias, so it is not found.
    let uuid = seed::CUSTOMER_GLOBEX_UUID.to_string();
    sb.create(json!({"customer_id": uuid, "plan_version_id": seed::PLAN_VERSION_PRO_ID}))
        .await
        .assert_error(404, "NOT_FOUND", "Resource not found");
    // The plan version may be a raw UUID.
    let plan = seed::PLAN_VERSION_PRO_UUID.to_string();
    let s = sb.create_ok(json!({"plan_version_id": plan})).await;
    assert_eq!(s["plan_version_id"], seed::PLAN_VERSION_PRO_ID);
}

#[tokio::test]
async fn get_accepts_the_prefixed_id_or_the_uuid() {
    let sb = start().await;
    let created = sb.create_ok(json!({})).await;
    let id = id_of(&created);
    let by_id = sb.get(&id).await;
    assert_eq!(by_id.status, 200, "{}", by_id.text);
    let uuid = Id::<CheckoutSession>::parse(&id).expect("id").uuid();
    let by_uuid = sb.get(&uuid.to_string()).await;
    assert_eq!(by_uuid.status, 200);
    for s in [by_id.session(), by_uuid.session()] {
        assert_eq!(s["id"], created["id"]);
        assert_eq!(s["created_at"], created["created_at"]);
        assert!(s["checkout_url"].is_string());
    }
}

#[tokio::test]
async fn list_is_newest_first_and_filters() {
    let sb = start().await;
    let a = sb.create_ok(json!({})).await;
    let b = sb.create_ok(json!({"customer_id": "globex"})).await;
    let c = sb.create_ok(json!({})).await;
    let all = sb.list("").await;
    assert_eq!(all.status, 200, "{}", all.text);
    let ids: Vec<Value> = all.json()["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .map(|s| s["id"].clone())
        .collect();
    assert_eq!(ids, [c["id"].clone(), b["id"].clone(), a["id"].clone()]);

    let globex = sb
        .list(&format!("?customer_id={}", seed::CUSTOMER_GLOBEX_ID))
        .await
        .json();
    assert_eq!(globex["sessions"].as_array().map(Vec::len), Some(1));
    assert_eq!(globex["sessions"][0]["id"], b["id"]);
    let by_uuid = sb
        .list(&format!("?customer_id={}", seed::CUSTOMER_ACME_UUID))
        .await
        .json();
    assert_eq!(by_uuid["sessions"].as_array().map(Vec::len), Some(2));

    sb.cancel(&id_of(&a)).await;
    let cancelled = sb.list("?status=CANCELLED").await.json();
    assert_eq!(cancelled["sessions"].as_array().map(Vec::len), Some(1));
    assert_eq!(cancelled["sessions"][0]["checkout_url"], Value::Null);
    let open = sb
        .list(&format!(
            "?status=CREATED&customer_id={}",
            seed::CUSTOMER_ACME_ID
        ))
        .await
        .json();
    assert_eq!(open["sessions"].as_array().map(Vec::len), Some(1));
    assert!(open["sessions"][0]["checkout_url"].is_string());
    let none = sb.list("?status=COMPLETED").await.json();
    assert_eq!(none, json!({"sessions": []}));
}

#[tokio::test]
async fn cancel_only_from_open_statuses() {
    const CANNOT: &str = "Invalid input: Checkout session not found or cannot be cancelled";
    let sb = start().await;
    let s = sb.create_ok(json!({})).await;
    let id = id_of(&s);
    let reply = sb.cancel(&id).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.session()["status"], "CANCELLED");
    assert_eq!(reply.session()["checkout_url"], Value::Null);
    sb.cancel(&id)
        .await
        .assert_error(400, "BAD_REQUEST", CANNOT);
    let unknown = ids::encode("che_", uuid::Uuid::now_v7());
    sb.cancel(&unknown)
        .await
        .assert_error(400, "BAD_REQUEST", CANNOT);

    let awaiting = id_of(&sb.create_ok(json!({})).await);
    sb.control_move(&awaiting, json!({"status": "AWAITING_PAYMENT"}))
        .await;
    let reply = sb.cancel(&awaiting).await;
    assert_eq!(reply.session()["status"], "CANCELLED");

    let done = id_of(&sb.create_ok(json!({})).await);
    sb.control_move(&done, json!({"status": "COMPLETED"})).await;
    sb.cancel(&done)
        .await
        .assert_error(400, "BAD_REQUEST", CANNOT);
}

#[tokio::test]
async fn lifecycle_moves_through_the_control_route() {
    let sb = start().await;
    let id = id_of(&sb.create_ok(json!({})).await);

    let moved = sb
        .control_move(&id, json!({"status": "AWAITING_PAYMENT"}))
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text);
    let s = sb.get(&id).await.session();
    assert_eq!(s["status"], "AWAITING_PAYMENT");
    assert!(s["checkout_url"].is_string());

    let moved = sb.control_move(&id, json!({"status": "COMPLETED"})).await;
    assert_eq!(moved.session()["status"], "COMPLETED");
    let s = sb.get(&id).await.session();
    assert_eq!(s["status"], "COMPLETED");
    assert!(s["completed_at"].is_string());
    assert!(s["subscription_id"]
        .as_str()
        .is_some_and(|v| v.starts_with("sub_")));
    assert_eq!(s["checkout_url"], Value::Null);

    let refused = sb.control_move(&id, json!({"status": "CREATED"})).await;
    assert_eq!(refused.status, 409);
    assert_eq!(
        refused.json()["error"],
        "illegal transition COMPLETED -> CREATED"
    );
    let refused = sb.control_move(&id, json!({"status": "EXPIRED"})).await;
    assert_eq!(refused.status, 409);

    let unknown = ids::encode("che_", uuid::Uuid::now_v7());
    assert_eq!(sb.control_move(&unknown, json!({})).await.status, 404);
    assert_eq!(sb.control_move("che_!", json!({})).await.status, 400);
    assert_eq!(
        sb.control_move(&id, json!({"status": "PAID"})).await.status,
        400
    );
}

#[tokio::test]
async fn an_overdue_session_stays_created_until_the_worker_runs() {
    let sb = start().await;
    let id = id_of(&sb.create_ok(json!({})).await);
    let past = (Utc::now() - Duration::minutes(5)).to_rfc3339();
    let moved = sb.control_move(&id, json!({"expires_at": past})).await;
    assert_eq!(moved.status, 200, "{}", moved.text);

    // Like the vendor: status lags, but the URL is already gone.
    let s = sb.get(&id).await.session();
    assert_eq!(s["status"], "CREATED");
    assert_eq!(s["checkout_url"], Value::Null);
    let listed = sb.list("").await.json();
    assert_eq!(listed["sessions"][0]["checkout_url"], Value::Null);

    let awaiting = id_of(&sb.create_ok(json!({})).await);
    sb.control_move(
        &awaiting,
        json!({"status": "AWAITING_PAYMENT", "expires_at": past}),
    )
    .await;

    assert_eq!(
        sb.expire_overdue().await,
        json!({"expired": 1, "deleted": 0})
    );
    assert_eq!(sb.get(&id).await.session()["status"], "EXPIRED");
    // The batch job never expires AWAITING_PAYMENT sessions.
    assert_eq!(
        sb.get(&awaiting).await.session()["status"],
        "AWAITING_PAYMENT"
    );
    assert_eq!(sb.expire_overdue().await["expired"], 0);
}

#[tokio::test]
async fn an_overdue_created_session_can_still_be_cancelled() {
    let sb = start().await;
    let id = id_of(&sb.create_ok(json!({})).await);
    let past = (Utc::now() - Duration::minutes(1)).to_rfc3339();
    sb.control_move(&id, json!({"expires_at": past})).await;
    assert_eq!(sb.cancel(&id).await.session()["status"], "CANCELLED");
}

#[tokio::test]
async fn zero_hours_means_the_session_never_expires() {
    let sb = start().await;
    let s = sb.create_ok(json!({"expires_in_hours": 0})).await;
    assert_eq!(s["expires_at"], Value::Null);
    let id = id_of(&s);
    assert_eq!(sb.expire_overdue().await["expired"], 0);
    let s = sb.get(&id).await.session();
    assert_eq!(s["status"], "CREATED");
    assert_eq!(s["expires_at"], Value::Null);
    assert!(s["checkout_url"].is_string());

    let s = sb.create_ok(json!({"expires_in_hours": 48})).await;
    assert_eq!(
        time(&s["expires_at"]) - time(&s["created_at"]),
        Duration::hours(48)
    );
    // `null` through the control route also means never.
    let moved = sb
        .control_move(&id_of(&s), json!({"expires_at": null}))
        .await;
    assert_eq!(moved.session()["expires_at"], Value::Null);
}

#[tokio::test]
async fn checkout_url_is_a_signed_token_for_the_session() {
    let sb = start().await;
    let s = sb.create_ok(json!({})).await;
    let url = s["checkout_url"].as_str().expect("url");
    let prefix = format!("{}/checkout?token=", sb.meteroid(""));
    let token = url.strip_prefix(&prefix).expect("url shape");
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let decode = |p: &str| -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).expect("base64url")).expect("json")
    };
    assert_eq!(decode(parts[0]), json!({"typ": "JWT", "alg": "HS256"}));
    let claims = decode(parts[1]);
    let uuid = Id::<CheckoutSession>::parse(&id_of(&s)).expect("id").uuid();
    assert_eq!(
        claims["resource"],
        json!({"CheckoutSession": uuid.to_string()})
    );
    assert_eq!(claims["tenant_id"], seed::TENANT_ID.to_string());
    assert!(claims["iat"].is_i64());
    assert!(claims.get("exp").is_none());
    let mut mac = Hmac::<Sha256>::new_from_slice(seed::JWT_SECRET.as_bytes()).expect("key");
    mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).expect("base64url");
    assert!(mac.verify_slice(&signature).is_ok());

    // Regenerated on each read, for the same session.
    let again = sb.get(&id_of(&s)).await.session();
    assert!(again["checkout_url"]
        .as_str()
        .is_some_and(|u| u.starts_with(&prefix)));
}

#[tokio::test]
async fn calls_are_counted_per_vendor_and_operation() {
    let sb = start().await;
    let id = id_of(&sb.create_ok(json!({})).await);
    sb.get(&id).await;
    sb.get("che_!").await;
    sb.list("").await;
    sb.cancel(&id).await;
    // Rejected by auth: still a call the vendor received.
    sb.client
        .get(sb.meteroid(SESSIONS))
        .send()
        .await
        .expect("send");
    sb.call(Method::GET, "/api/v1/customers", None).await;
    // Control routes are not vendor calls.
    sb.control_inspect(&id).await;

    assert_eq!(sb.sandbox.calls("meteroid", "create"), 1);
    assert_eq!(sb.sandbox.calls("meteroid", "get"), 2);
    assert_eq!(sb.sandbox.calls("meteroid", "list"), 2);
    assert_eq!(sb.sandbox.calls("meteroid", "cancel"), 1);
    assert_eq!(sb.sandbox.calls("meteroid", "other"), 1);
    assert_eq!(sb.sandbox.calls("flowglad", "get"), 0);

    let counts = sb
        .client
        .get(format!("{}/_sandbox/calls", sb.base))
        .send()
        .await
        .expect("send")
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(
        counts,
        json!({"meteroid": {"create": 1, "get": 2, "list": 2, "cancel": 1, "other": 1}})
    );
    let reset = sb
        .client
        .post(format!("{}/_sandbox/calls/reset", sb.base))
        .send()
        .await
        .expect("send");
    assert_eq!(reset.status().as_u16(), 204);
    assert_eq!(sb.sandbox.calls("meteroid", "create"), 0);
    assert_eq!(sb.sandbox.call_counts(), Default::default());
}

#[tokio::test]
async fn clones_and_routers_share_state() {
    let sb = start().await;
    let id = id_of(&sb.create_ok(json!({})).await);
    // A second server on the same Sandbox sees the same session.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(sandbox::serve(listener, sb.sandbox.clone()));
    let reply = sb
        .client
        .get(format!("http://{addr}/meteroid{SESSIONS}/{id}"))
        .bearer_auth(sandbox::DEMO_METEROID_API_KEY)
        .send()
        .await
        .expect("send");
    assert_eq!(reply.status().as_u16(), 200);
    assert_eq!(sb.sandbox.calls("meteroid", "get"), 1);
}
