//! Fault injection over real sockets, shown on the Meteroid emulation.

mod support;

use std::time::{Duration, Instant};

use sandbox::DEMO_METEROID_API_KEY;
use serde_json::json;
use support::{start, SESSIONS};

fn create_body() -> serde_json::Value {
    json!({"customer_id": sandbox::meteroid::seed::CUSTOMER_ACME_ALIAS, "plan_version_id": sandbox::meteroid::seed::PLAN_VERSION_STARTER_ID})
}

async fn session_count(s: &support::Running) -> usize {
    let list: serde_json::Value = s
        .client
        .get(format!("{}/meteroid{SESSIONS}", s.base))
        .bearer_auth(DEMO_METEROID_API_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list["sessions"].as_array().map_or(0, Vec::len)
}

/// A fresh client each time: a faulted connection is dead and must not be reused.
fn create(s: &support::Running, fault: serde_json::Value) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(format!("{}/meteroid{SESSIONS}", s.base))
        .bearer_auth(DEMO_METEROID_API_KEY)
        .header("x-sandbox-fault", fault.to_string())
        .json(&create_body())
}

#[tokio::test]
async fn chosen_status_body_and_retry_after() {
    let s = start().await;
    let r = create(&s, json!({"status": 429, "body": "{\"code\":\"TOO_MANY_REQUESTS\",\"message\":\"slow down\"}", "retry_after": "3"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "3");
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(
        r.text().await.unwrap(),
        r#"{"code":"TOO_MANY_REQUESTS","message":"slow down"}"#
    );
    assert_eq!(
        session_count(&s).await,
        0,
        "a canned answer never reaches the vendor"
    );
    assert_eq!(
        s.sandbox.calls("meteroid", "create"),
        1,
        "but the call is counted"
    );
}

#[tokio::test]
async fn resets_before_and_after_the_vendor_handled_it() {
    let s = start().await;
    let err = create(&s, json!({"reset": "before_read"}))
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_timeout() && !err.is_connect(), "{err:?}");
    assert_eq!(session_count(&s).await, 0);
    // After read: the vendor created the session, the answer is lost.
    let outcome = create(&s, json!({"reset": "after_read"})).send().await;
    match outcome {
        Err(_) => {}
        Ok(r) => assert!(r.bytes().await.is_err(), "the body must not arrive"),
    }
    assert_eq!(session_count(&s).await, 1);
}

#[tokio::test]
async fn truncated_malformed_and_wrong_shape_bodies() {
    let s = start().await;
    let r = create(&s, json!({"truncate_at": 10})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.is_err(), "a truncated body fails to read");

    let r = create(&s, json!({"malformed_json": true}))
        .send()
        .await
        .unwrap();
    let text = r.text().await.unwrap();
    assert!(
        serde_json::from_str::<serde_json::Value>(&text).is_err(),
        "{text}"
    );

    let r = create(&s, json!({"wrong_shape": true}))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(v.get("session").is_none(), "{v}");
}

#[tokio::test]
async fn latency_and_trickle_take_time() {
    let s = start().await;
    let started = Instant::now();
    let r = create(&s, json!({"latency_ms": 300})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));

    let r = create(&s, json!({"status": 404, "body": "{\"code\":\"NOT_FOUND\",\"message\":\"Resource not found\"}", "trickle_ms": 5}))
        .send()
        .await
        .unwrap();
    let started = Instant::now();
    let body = r.text().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(5 * (body.len() as u64 - 1)),
        "trickled"
    );
    assert!(body.contains("Resource not found"));
}

#[tokio::test]
async fn queued_faults_hit_the_matching_requests_only() {
    let s = start().await;
    let queue = |body: serde_json::Value| {
        s.client
            .post(format!("{}/_sandbox/faults", s.base))
            .json(&body)
            .send()
    };
    let r = queue(json!({"vendor": "meteroid", "op": "get", "times": 2, "fault": {"status": 503}}))
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let get = || {
        s.client
            .get(format!("{}/meteroid{SESSIONS}/che_1", s.base))
            .bearer_auth(DEMO_METEROID_API_KEY)
            .send()
    };
    assert_eq!(get().await.unwrap().status(), 503);
    // A create is not a get: untouched.
    let created = s
        .client
        .post(format!("{}/meteroid{SESSIONS}", s.base))
        .bearer_auth(DEMO_METEROID_API_KEY)
        .json(&create_body())
        .send();
    assert_eq!(created.await.unwrap().status(), 200);
    assert_eq!(get().await.unwrap().status(), 503);
    assert_eq!(get().await.unwrap().status(), 404, "used up after two");

    queue(json!({"vendor": "meteroid", "times": 0, "fault": {"status": 500}}))
        .await
        .unwrap();
    assert_eq!(get().await.unwrap().status(), 500);
    assert_eq!(get().await.unwrap().status(), 500);
    let r = s
        .client
        .delete(format!("{}/_sandbox/faults", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(get().await.unwrap().status(), 404);

    let bad = s
        .client
        .get(format!("{}/meteroid{SESSIONS}/che_1", s.base))
        .header("x-sandbox-fault", "{\"explode\":1}")
        .send();
    assert_eq!(bad.await.unwrap().status(), 400);
}

/// Statuses of `n` reads in a row of a session that does not exist (404
/// when spared), each on a fresh connection: a faulted one may be dead.
async fn read_statuses(s: &support::Running, n: usize) -> Vec<u16> {
    let mut statuses = Vec::new();
    for _ in 0..n {
        let r = reqwest::Client::new()
            .get(format!("{}/meteroid{SESSIONS}/che_1", s.base))
            .bearer_auth(DEMO_METEROID_API_KEY)
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    statuses
}

#[tokio::test]
async fn random_faults_are_drawn_per_request_and_a_seed_repeats_them() {
    let s = start().await;
    let rule = json!({"vendor": "meteroid", "op": "get", "times": 0,
        "random": {"p": 0.5, "seed": 11, "faults": [{"status": 500}, {"status": 503}]}});
    let faults = format!("{}/_sandbox/faults", s.base);
    let queue = || s.client.post(&faults).json(&rule).send();
    assert_eq!(queue().await.unwrap().status(), 204);
    let first = read_statuses(&s, 60).await;
    for status in [404, 500, 503] {
        assert!(first.contains(&status), "{status} never came: {first:?}");
    }
    assert!(
        first.iter().all(|s| [404, 500, 503].contains(s)),
        "{first:?}"
    );

    s.client.delete(&faults).send().await.unwrap();
    assert_eq!(read_statuses(&s, 3).await, [404, 404, 404], "cleared");
    queue().await.unwrap();
    assert_eq!(
        read_statuses(&s, 60).await,
        first,
        "the same seed, the same faults"
    );
    assert_eq!(
        s.sandbox.calls("meteroid", "get"),
        123,
        "every request counted"
    );

    // A bad rule is refused in the control routes' form, saying why.
    let bad = s
        .client
        .post(&faults)
        .json(&json!({"vendor": "meteroid", "random": {"p": 2, "faults": [{"status": 500}]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let body: serde_json::Value = bad.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("random.p")),
        "{body}"
    );
}
