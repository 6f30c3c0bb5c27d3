//! A create whose outcome at the vendor is unknown is looked for, not
//! parked (PRODUCT §10): the client's own retries with its key end with the
//! one session the vendor made, or make it once the vendor provably holds
//! none. Never two sessions, never one the client is not told about.

use std::time::Duration;

use checkout_gateway_e2e::{
    answer, code, flowglad_config, header, start, start_with, Resilience, Stack,
};
use serde_json::{json, Value};

/// A 1.5 s deadline and a 1 s settle time (the vendor's grace to act on a
/// request the gateway gave up on), so the tests wait little.
fn policy() -> String {
    let resilience = Resilience {
        deadline_ms: 1500,
        max_retries: 0,
        ..Resilience::default()
    }
    .toml();
    format!(
        "[idempotency]\nwait_ms = 200\nsettle_ms = 1000\n{resilience}\n\
         [clients.ops]\nkey = \"{OPS_KEY}\"\nscopes = [\"admin\"]\n"
    )
}

/// May scrape `/metrics`.
const OPS_KEY: &str = "test-ops-key-0000000000000000000000017";

fn keyed(s: &Stack, key: &str) -> reqwest::RequestBuilder {
    s.create(s.create_body()).header("idempotency-key", key)
}

async fn resolutions(s: &Stack, found: &str) -> u64 {
    let (status, text) = s.metrics(OPS_KEY).await;
    assert_eq!(status, 200, "{text}");
    let line = format!(
        "checkout_gateway_create_resolutions_total{{provider=\"meteroid\",found=\"{found}\"}} "
    );
    text.lines()
        .find_map(|l| l.strip_prefix(&line))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

fn ids_at_vendor(sessions: &[Value]) -> Vec<String> {
    sessions
        .iter()
        .map(|s| format!("meteroid:default:{}", s["id"].as_str().unwrap_or_default()))
        .collect()
}

#[tokio::test]
async fn a_lost_answer_is_found_at_the_vendor_and_answered_at_once() {
    let s = start(&policy()).await;
    s.fault(json!({"vendor": "meteroid", "op": "create", "fault": {"reset": "after_read"}}))
        .await;
    let (status, headers, first) = answer(keyed(&s, "order-lost")).await;
    assert_eq!(status, 201, "the session the vendor made: {first}");
    let at_vendor = s.meteroid_sessions().await;
    assert_eq!(ids_at_vendor(&at_vendor), [first["id"].as_str().unwrap()]);
    assert_eq!(
        header(&headers, "location"),
        format!("/v1/checkout-sessions/{}", first["id"].as_str().unwrap())
    );
    assert_eq!(s.calls("meteroid", "create"), 1);
    assert_eq!(resolutions(&s, "made").await, 1);
    // The key now answers with that session.
    let (status, headers, again) = answer(keyed(&s, "order-lost")).await;
    assert_eq!(
        (status, header(&headers, "idempotent-replayed")),
        (201, "true")
    );
    assert_eq!(again["id"], first["id"]);
    // Another key for the same customer and plan is another checkout: the
    // session the first key answered with is never adopted again.
    s.fault(json!({"vendor": "meteroid", "op": "create", "fault": {"reset": "after_read"}}))
        .await;
    let (status, _, second) = answer(keyed(&s, "order-lost-2")).await;
    assert_eq!(status, 201, "{second}");
    assert_ne!(second["id"], first["id"]);
    assert_eq!(s.meteroid_sessions().await.len(), 2);
}

#[tokio::test]
async fn a_vendor_error_that_made_nothing_lets_the_next_retry_create() {
    let s = start(&policy()).await;
    // The vendor answered 500 and made nothing: its list proves it at once.
    s.fault(json!({"vendor": "meteroid", "op": "create", "fault": {"status": 500, "body": "{\"code\":\"INTERNAL\",\"message\":\"boom\"}"}}))
        .await;
    let (status, headers, first) = answer(keyed(&s, "order-500")).await;
    assert_eq!(status, 502, "{first}");
    assert!(headers.get("idempotent-replayed").is_none());
    assert_eq!(first["error"]["retryable"], true, "{first}");
    assert!(s.meteroid_sessions().await.is_empty());
    assert_eq!(resolutions(&s, "nothing").await, 1);
    let (status, headers, created) = answer(keyed(&s, "order-500")).await;
    assert_eq!(status, 201, "{created}");
    assert!(headers.get("idempotent-replayed").is_none(), "made now");
    assert_eq!(
        ids_at_vendor(&s.meteroid_sessions().await),
        [created["id"].as_str().unwrap()]
    );
}

#[tokio::test]
async fn a_timeout_is_settled_by_the_clients_retry() {
    let s = start(&policy()).await;
    // The vendor is slower than the deadline: the gateway gives up, and
    // cannot know yet whether the vendor will make the session.
    s.fault(json!({"vendor": "meteroid", "op": "create", "fault": {"latency_ms": 2500}}))
        .await;
    let (status, headers, first) = answer(keyed(&s, "order-slow")).await;
    assert_eq!((status, code(&first)), (504, "provider_timeout"), "{first}");
    assert_eq!(first["error"]["retryable"], true, "{first}");
    let wait: u64 = header(&headers, "retry-after")
        .parse()
        .expect("Retry-After");
    assert!((1..=3).contains(&wait), "{wait}");
    let message = first["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("same Idempotency-Key"), "{message}");
    // Asked again at once, the key is still being settled.
    let (status, headers, early) = answer(keyed(&s, "order-slow")).await;
    assert_eq!(
        (status, code(&early)),
        (409, "idempotency_in_progress"),
        "{early}"
    );
    assert!(headers.get("retry-after").is_some());
    // After Retry-After (and the vendor's slow request is over), the retry
    // ends with exactly one session at the vendor, and it is the client's.
    tokio::time::sleep(Duration::from_secs(wait) + Duration::from_millis(1200)).await;
    let (status, _, done) = answer(keyed(&s, "order-slow")).await;
    assert_eq!(status, 201, "{done}");
    let (status, _, replay) = answer(keyed(&s, "order-slow")).await;
    assert_eq!((status, &replay["id"]), (201, &done["id"]));
    assert_eq!(
        ids_at_vendor(&s.meteroid_sessions().await),
        [done["id"].as_str().unwrap()],
        "one session, the one the client was given"
    );
}

#[tokio::test]
async fn a_failing_list_leaves_the_key_to_the_next_retry() {
    let s = start(&policy()).await;
    s.fault(json!({"vendor": "meteroid", "op": "create", "fault": {"reset": "after_read"}}))
        .await;
    s.fault(json!({"vendor": "meteroid", "op": "list", "fault": {"status": 503}}))
        .await;
    let (status, _, first) = answer(keyed(&s, "order-blind")).await;
    assert_eq!(status, 502, "{first}");
    assert_eq!(first["error"]["retryable"], true, "{first}");
    assert_eq!(resolutions(&s, "unknown").await, 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _, found) = answer(keyed(&s, "order-blind")).await;
    assert_eq!(status, 201, "the retry looked again and found it: {found}");
    assert_eq!(
        ids_at_vendor(&s.meteroid_sessions().await),
        [found["id"].as_str().unwrap()]
    );
    assert_eq!(s.calls("meteroid", "create"), 1);
}

#[tokio::test]
async fn two_sessions_that_could_be_the_create_are_never_guessed_between() {
    let s = start(&policy()).await;
    // A create without a key, for the same customer and plan, at the time:
    // the gateway cannot tell it from the lost one.
    let (status, _, _) = answer(s.create(s.create_body())).await;
    assert_eq!(status, 201);
    s.fault(json!({"vendor": "meteroid", "op": "create", "fault": {"reset": "after_read"}}))
        .await;
    let (status, headers, first) = answer(keyed(&s, "order-twin")).await;
    assert_eq!(status, 502, "{first}");
    assert_eq!(first["error"]["retryable"], false, "{first}");
    let message = first["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("2 sessions"), "{message}");
    assert!(headers.get("retry-after").is_none());
    let (_, headers, again) = answer(keyed(&s, "order-twin")).await;
    assert_eq!(header(&headers, "idempotent-replayed"), "true");
    assert_eq!(again, first);
    assert_eq!(resolutions(&s, "ambiguous").await, 1);
}

#[tokio::test]
async fn flowglad_creates_are_found_by_their_mark_which_nobody_sees() {
    let s = start_with(&flowglad_config(&policy())).await;
    let body = json!({
        "provider": "flowglad", "account": "default",
        "customer": sandbox::flowglad::seed::CUSTOMER_ACME_EXTERNAL_ID,
        "plan": sandbox::flowglad::seed::PRICE_PRO_MONTHLY_ID,
        "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no",
        "metadata": {"order": "1234"}
    });
    // Two sessions for the same customer and plan around the lost one: the
    // mark still tells which is the key's.
    let (status, _, plain) = answer(s.create(body.clone())).await;
    assert_eq!(status, 201, "{plain}");
    assert_eq!(
        plain["metadata"],
        json!({"order": "1234"}),
        "the mark is not shown"
    );
    s.fault(json!({"vendor": "flowglad", "op": "create", "fault": {"reset": "after_read"}}))
        .await;
    let (status, _, found) = answer(
        s.create(body.clone())
            .header("idempotency-key", "order-marked"),
    )
    .await;
    assert_eq!(status, 201, "{found}");
    assert_ne!(found["id"], plain["id"]);
    assert_eq!(found["metadata"], json!({"order": "1234"}));
    assert!(found["url"].is_string(), "read in full: {found}");
    // The vendor keeps the mark (in the raw payload).
    let (_, _, raw) = answer(s.get(&format!(
        "/v1/checkout-sessions/{}?include=raw",
        found["id"].as_str().unwrap()
    )))
    .await;
    let kept = raw.to_string();
    assert!(kept.contains("checkout_gateway_attempt"), "{kept}");
    // A caller may not use the gateway's key.
    let mut reserved = body;
    reserved["metadata"]["checkout_gateway_attempt"] = json!("mine");
    let (status, _, refused) = answer(s.create(reserved)).await;
    assert_eq!(status, 400, "{refused}");
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("metadata.checkout_gateway_attempt"),
        "{message}"
    );
}
