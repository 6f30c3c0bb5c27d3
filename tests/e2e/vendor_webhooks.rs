//! A vendor's own webhook as a hint: the sandbox's Flowglad sends a signed
//! `purchase.completed` when a checkout completes, and the gateway reads
//! the session again at once, so the next read shows it complete from the
//! cache (which keeps open sessions for 10 minutes here). What is not
//! signed with the account's secret, is signed too long ago, or names an
//! unknown account, changes nothing.

use std::time::{Duration, Instant};

use checkout_gateway_e2e::{answer, cache, code, flowglad_config, header, start_with, Stack};
use feed::signature::{self, Secret};
use sandbox::flowglad::seed;
use serde_json::{json, Value};

const SECRET: &str = "whsec_ZTJlLWZsb3dnbGFkLXN2aXgtc2VjcmV0LTAwMDE=";
const OTHER_SECRET: &str = "whsec_c29tZW9uZS1lbHNlcy1zZWNyZXQtMDAwMDE=";
const ROUTE: &str = "/v1/vendor-webhooks/flowglad/default";

/// One Flowglad account with a vendor-webhook secret, one without, and a
/// cache that keeps open sessions far longer than any test runs.
async fn stack() -> Stack {
    let extra = format!(
        "scopes = [\"sessions:read\", \"sessions:write\", \"admin\"]\n\
         [providers.flowglad.accounts.nosecret]\n\
         base_url = \"{{sandbox}}/flowglad\"\n\
         api_key = \"{key}\"\n\
         {cache}\
         [vendor_webhooks.flowglad.default]\n\
         secret = \"{SECRET}\"\n",
        key = seed::API_KEY,
        cache = cache(600, 1000),
    );
    let s = start_with(&flowglad_config(&extra)).await;
    // The sandbox's Flowglad sends its webhooks to the gateway.
    s.sandbox_control(
        "/flowglad/webhooks",
        json!({"url": format!("{}{ROUTE}", s.gateway), "secret": SECRET}),
    )
    .await;
    s
}

/// A product checkout for the seeded customer, created through the
/// gateway and tracked (its canonical JSON).
async fn created(s: &Stack) -> Value {
    let (status, _, session) = answer(s.create(json!({
        "provider": "flowglad", "account": "default",
        "customer": seed::CUSTOMER_ACME_EXTERNAL_ID, "plan": seed::PRICE_PRO_MONTHLY_ID,
        "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no",
    })))
    .await;
    assert_eq!(status, 201, "{session}");
    tracked(s, &session).await;
    session
}

/// Make sure the store tracks `session`, as the change feed's tracker does
/// for every create: written here only if the tracker has not (so this
/// test holds with or without it).
async fn tracked(s: &Stack, session: &Value) {
    let store = store::Store::open(&s.store_url()).await.expect("the store");
    let id = session["id"].as_str().expect("id");
    if store.tracked(id).await.expect("tracked").is_some() {
        return;
    }
    let ms = |field: &str| {
        session[field]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp_millis())
    };
    let state = session.to_string();
    let observation = store::Observation {
        session_id: id,
        account: "flowglad:default",
        status: "open",
        payment_status: None,
        state: &state,
        hint: None,
        created_ms: ms("created_at").expect("created_at"),
        expires_ms: ms("expires_at"),
        next_poll_ms: Some(chrono::Utc::now().timestamp_millis() + 600_000),
        terminal: false,
        seen_ms: 0,
    };
    // A tracker writing at the same time wins: the row is there either way.
    store
        .record(&observation, None, &[])
        .await
        .expect("recorded");
}

/// The sandbox's deliveries once the newest has its answer (10 s at most).
async fn answered(s: &Stack, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let body: Value = s
            .http
            .get(format!("{}/_sandbox/flowglad/webhooks", s.sandbox))
            .send()
            .await
            .expect("deliveries")
            .json()
            .await
            .expect("deliveries JSON");
        let all = body["deliveries"].as_array().cloned().unwrap_or_default();
        let done = all.len() == count && all.iter().all(|d| !d["status"].is_null());
        if done || Instant::now() > deadline {
            assert!(done, "{count} answered deliveries expected: {all:?}");
            return all;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Complete `session` at the sandbox (the customer pays); its delivery.
async fn complete(s: &Stack, session: &Value, deliveries_before: usize) -> Value {
    let reference = session["provider_session_id"].as_str().expect("reference");
    s.sandbox_control(
        &format!("/flowglad/sessions/{reference}"),
        json!({"status": "succeeded"}),
    )
    .await;
    answered(s, deliveries_before + 1)
        .await
        .pop()
        .expect("a delivery")
}

/// `body` signed with `secret`, `age_secs` ago, in Svix's headers.
fn signed(
    s: &Stack,
    route: &str,
    secret: &str,
    body: &str,
    age_secs: i64,
) -> reqwest::RequestBuilder {
    let at = chrono::Utc::now().timestamp() - age_secs;
    let secret = Secret::parse(secret).expect("secret");
    s.http
        .post(format!("{}{route}", s.gateway))
        .header("content-type", "application/json")
        .header("svix-id", "msg_e2e")
        .header("svix-timestamp", at.to_string())
        .header(
            "svix-signature",
            signature::sign(&secret, "msg_e2e", at, body.as_bytes()),
        )
        .body(body.to_owned())
}

#[tokio::test]
async fn a_signed_purchase_completed_refreshes_the_session_at_once() {
    let s = stack().await;
    let session = created(&s).await;
    let id = session["id"].as_str().unwrap();
    let (_, headers, read) = answer(s.session(id)).await;
    assert_eq!(
        (read["status"].as_str(), header(&headers, "x-cache")),
        (Some("open"), "hit")
    );
    let gets = s.calls("flowglad", "get");

    let delivery = complete(&s, &session, 0).await;
    assert_eq!(delivery["status"], 200, "{delivery}");
    assert_eq!(delivery["answer"], "{\"refreshed\":1}", "{delivery}");
    assert_eq!(
        s.calls("flowglad", "get"),
        gets + 1,
        "one read at the vendor"
    );

    // No wait for the cache: the hint refreshed it.
    let (status, headers, read) = answer(s.session(id)).await;
    assert_eq!(status, 200);
    assert_eq!(read["status"], "complete", "{read}");
    assert_eq!(header(&headers, "x-cache"), "hit");
    let (_, metrics) = s.metrics(checkout_gateway_e2e::CLIENT_KEY).await;
    assert!(
        metrics.contains(
            "checkout_gateway_vendor_webhooks_total{provider=\"flowglad\",outcome=\"refreshed\"} 1"
        ),
        "{metrics}"
    );
}

#[tokio::test]
async fn unsigned_forged_stale_or_unknown_changes_nothing_and_a_replay_is_harmless() {
    let s = stack().await;
    let session = created(&s).await;
    let id = session["id"].as_str().unwrap();
    let delivery = complete(&s, &session, 0).await;
    assert_eq!(delivery["status"], 200, "{delivery}");
    let body = delivery["body"].as_str().unwrap().to_owned();
    let gets = s.calls("flowglad", "get");

    let unsigned = s
        .http
        .post(format!("{}{ROUTE}", s.gateway))
        .header("content-type", "application/json")
        .body(body.clone());
    for (request, why) in [
        (unsigned, "not signed"),
        (
            signed(&s, ROUTE, OTHER_SECRET, &body, 0),
            "no signature matches",
        ),
        (signed(&s, ROUTE, SECRET, &body, 600), "too old"),
        (signed(&s, ROUTE, SECRET, &body, -600), "future"),
    ] {
        let (status, _, error) = answer(request).await;
        assert_eq!(
            (status, code(&error)),
            (401, "unauthenticated"),
            "{why}: {error}"
        );
        let message = error["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(why), "{why}: {message}");
        assert!(!message.contains("whsec_"), "{message}");
    }
    // A body other than the one signed.
    let tampered = signed(&s, ROUTE, SECRET, &body, 0).body(body.replace("prch_", "prch_x"));
    let (status, _, _) = answer(tampered).await;
    assert_eq!(status, 401);
    assert_eq!(s.calls("flowglad", "get"), gets, "nothing was read");

    // The sandbox's own message, sent again as it was: verified, harmless.
    let replay = s
        .http
        .post(format!("{}{ROUTE}", s.gateway))
        .header("content-type", "application/json")
        .header("svix-id", delivery["id"].as_str().unwrap())
        .header("svix-timestamp", delivery["timestamp"].to_string())
        .header("svix-signature", delivery["signature"].as_str().unwrap())
        .body(body.clone());
    let (status, _, replayed) = answer(replay).await;
    assert_eq!(status, 200, "{replayed}");
    assert!(replayed["refreshed"].as_u64().is_some(), "{replayed}");
    let (_, _, read) = answer(s.session(id)).await;
    assert_eq!(read["status"], "complete");

    // A purchase nobody tracks, and an event about no checkout: verified, nothing read.
    let gets = s.calls("flowglad", "get");
    let unknown = json!({"id": "prch_NoSuchPurchase0000000", "object": "purchase",
                         "customer": {"id": "cust_NoSuchCustomer000000"}})
    .to_string();
    let payment = json!({"id": "pym_1", "object": "payment"}).to_string();
    for body in [unknown, payment] {
        let (status, _, answered) = answer(signed(&s, ROUTE, SECRET, &body, 0)).await;
        assert_eq!(
            (status, &answered),
            (200, &json!({"refreshed": 0})),
            "{body}"
        );
    }
    assert_eq!(s.calls("flowglad", "get"), gets);

    // No such account, no such provider, or no secret for the account.
    for route in [
        "/v1/vendor-webhooks/flowglad/nope",
        "/v1/vendor-webhooks/stripe/default",
        "/v1/vendor-webhooks/flowglad/nosecret",
    ] {
        let (status, _, error) = answer(signed(&s, route, SECRET, &body, 0)).await;
        assert_eq!(
            (status, code(&error)),
            (404, "not_found"),
            "{route}: {error}"
        );
    }
    // Bounded: a body past `server.max_body_bytes`.
    let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(70 * 1024));
    let (status, _, error) = answer(signed(&s, ROUTE, SECRET, &huge, 0)).await;
    assert_eq!(
        (status, code(&error)),
        (413, "payload_too_large"),
        "{error}"
    );

    let (_, metrics) = s.metrics(checkout_gateway_e2e::CLIENT_KEY).await;
    for (provider, outcome, count) in [
        ("flowglad", "unauthorized", 5),
        ("flowglad", "ignored", 1),
        ("flowglad", "not_found", 2),
        ("unknown", "not_found", 1),
        ("flowglad", "too_large", 1),
    ] {
        let line = format!(
            "checkout_gateway_vendor_webhooks_total{{provider=\"{provider}\",outcome=\"{outcome}\"}} {count}\n"
        );
        assert!(metrics.contains(&line), "{line}{metrics}");
    }
}
