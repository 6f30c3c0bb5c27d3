//! Faults upstream never become hangs, lost or duplicated checkouts.
//! The sandbox's fault queue plays the sick vendor.

use std::time::{Duration, Instant};

use checkout_gateway_e2e::{answer, cache, code, start, start_with, Resilience, Stack, CLIENT_KEY};

use crate::skip;
use serde_json::{json, Value};

/// Retries within a 1.5 s deadline, and stale copies for a minute.
fn test_policy() -> String {
    Resilience {
        deadline_ms: 1500,
        max_retries: 2,
        backoff_base_ms: 20,
        backoff_max_ms: 100,
        stale_if_error_secs: 60,
        ..Resilience::default()
    }
    .toml()
}

async fn sessions_at_vendor(s: &Stack) -> usize {
    s.meteroid_sessions().await.len()
}

#[tokio::test]
async fn reads_retry_transient_failures_and_honour_retry_after() {
    let s = start(&test_policy()).await;
    let reference = s.vendor_session().await;
    let id = format!("meteroid:default:{reference}");
    s.fault(json!({"vendor": "meteroid", "op": "get", "times": 2, "fault": {"status": 503}}))
        .await;
    let (status, _, body) = answer(s.session(&id)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(s.upstream_calls("get"), 3);

    s.fault(
        json!({"vendor": "meteroid", "op": "get", "fault": {"status": 429, "retry_after": "1"}}),
    )
    .await;
    let started = Instant::now();
    let (status, _, _) = answer(s.fresh_session(&id)).await;
    assert_eq!(status, 200);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited as the vendor asked"
    );
    assert_eq!(s.upstream_calls("get"), 5);
}

#[tokio::test]
async fn a_caller_always_gets_an_answer_within_the_deadline() {
    let s = start(&test_policy()).await;
    let reference = s.vendor_session().await;
    let id = format!("meteroid:default:{reference}");
    for slow in [json!({"latency_ms": 5000}), json!({"trickle_ms": 200})] {
        s.clear_faults().await;
        s.fault(json!({"vendor": "meteroid", "op": "get", "times": 0, "fault": slow}))
            .await;
        let started = Instant::now();
        let (status, _, body) = answer(s.fresh_session(&id)).await;
        let took = started.elapsed();
        assert_eq!((status, code(&body)), (504, "provider_timeout"), "{body}");
        assert!(took < Duration::from_millis(2500), "answered in {took:?}");
    }
}

#[tokio::test]
async fn unreadable_vendor_answers_are_502_never_a_crash() {
    let s = start(&Resilience::default().toml()).await;
    let reference = s.vendor_session().await;
    let id = format!("meteroid:default:{reference}");
    for broken in [
        json!({"malformed_json": true}),
        json!({"wrong_shape": true}),
        json!({"truncate_at": 12}),
        json!({"status": 500, "body": "<html>oops</html>", "content_type": "text/html"}),
        json!({"reset": "before_read"}),
    ] {
        s.fault(json!({"vendor": "meteroid", "op": "get", "fault": broken.clone()}))
            .await;
        let (status, _, body) = answer(s.fresh_session(&id)).await;
        assert_eq!(status, 502, "{broken}: {body}");
        assert!(code(&body).starts_with("provider_"), "{broken}: {body}");
    }
    let (status, _, _) = answer(s.session(&id)).await;
    assert_eq!(status, 200, "still serving");
}

#[tokio::test]
async fn creates_are_not_retried_when_the_vendor_may_have_acted() {
    let s = start(&test_policy()).await;
    for (broken, want) in [
        (json!({"status": 503}), 503),
        (json!({"reset": "after_read"}), 502),
        (json!({"latency_ms": 5000}), 504),
    ] {
        let before = s.upstream_calls("create");
        s.fault(json!({"vendor": "meteroid", "op": "create", "fault": broken.clone()}))
            .await;
        let (status, _, body) = answer(s.create(s.create_body())).await;
        assert_eq!(status, want, "{broken}: {body}");
        assert_eq!(
            s.upstream_calls("create") - before,
            1,
            "{broken}: one attempt only"
        );
    }
    // Only the reset-after-read reached the vendor's handler: one session, never two.
    assert_eq!(sessions_at_vendor(&s).await, 1);
}

/// A vendor failing three reads in five, never more than two in a row:
/// the breaker opens on the rate (no rule of three or more consecutive
/// failures would), fails fast without calling the vendor, and after its
/// open period closes again through its probes.
#[tokio::test]
async fn the_breaker_opens_on_a_failure_rate_and_recovers_through_probes() {
    let s = start(
        &Resilience {
            deadline_ms: 2000,
            breaker_min_calls: 10,
            breaker_failure_ratio: 0.5,
            breaker_open_secs: 1,
            breaker_half_open_probes: 2,
            ..Resilience::default()
        }
        .toml(),
    )
    .await;
    let reference = s.vendor_session().await;
    let id = format!("meteroid:default:{reference}");
    // Read once, so failures on it count (invented ids cannot open a
    // breaker): one healthy call in the window.
    let (status, _, _) = answer(s.session(&id)).await;
    assert_eq!(status, 200);
    // Reads 0, 2, 4 of every five fail: F S F S F F S F S. The ninth read
    // makes ten calls in the window, five of them failed.
    for read in 0..9 {
        let fails = matches!(read % 5, 0 | 2 | 4);
        if fails {
            s.fault(json!({"vendor": "meteroid", "op": "get", "fault": {"status": 500}}))
                .await;
        }
        let (status, _, body) = answer(s.fresh_session(&id)).await;
        assert_eq!(status, if fails { 502 } else { 200 }, "read {read}: {body}");
    }
    let (status, ready) = s.ready().await;
    assert_eq!(
        status, 200,
        "one sick account does not take the gateway out"
    );
    assert_eq!(ready["accounts"]["breaker_open"], 1, "{ready}");

    // Another account is not affected by this account's breaker.
    let (status, _, _) = answer(s.session(&format!("meteroid:badkey:{reference}"))).await;
    assert_ne!(status, 503);

    let calls = s.upstream_calls("get");
    let started = Instant::now();
    let (status, headers, body) = answer(s.fresh_session(&id)).await;
    assert_eq!(
        (status, code(&body)),
        (503, "provider_unavailable"),
        "{body}"
    );
    assert!(headers.get("retry-after").is_some());
    assert!(started.elapsed() < Duration::from_millis(100), "fails fast");
    assert_eq!(
        s.upstream_calls("get"),
        calls,
        "an open breaker sends nothing"
    );

    // The open period is measured in tokio time: jump it rather than wait.
    skip(Duration::from_millis(1100)).await;
    let (status, _, _) = answer(s.fresh_session(&id)).await;
    assert_eq!(status, 200, "the first probe");
    let (_, ready) = s.ready().await;
    assert_eq!(ready["accounts"]["breaker_open"], 1, "half-open: {ready}");
    let (status, _, _) = answer(s.fresh_session(&id)).await;
    assert_eq!(status, 200, "the second probe");
    let (_, ready) = s.ready().await;
    assert_eq!(ready["accounts"]["breaker_open"], 0, "closed: {ready}");
    assert_eq!(s.upstream_calls("get"), calls + 2);
}

#[tokio::test]
async fn stale_copies_are_served_when_the_vendor_fails() {
    let s = start(&format!("{}{}", cache(1, 100), test_policy())).await;
    let reference = s.vendor_session().await;
    let id = format!("meteroid:default:{reference}");
    let (_, headers, fresh) = answer(s.session(&id)).await;
    assert_eq!(headers["x-cache"], "miss");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    s.fault(json!({"vendor": "meteroid", "op": "get", "times": 0, "fault": {"status": 500}}))
        .await;
    let (status, headers, stale) = answer(s.session(&id)).await;
    assert_eq!(status, 200, "{stale}");
    assert_eq!(headers["x-cache"], "stale");
    assert!(headers["warning"].to_str().unwrap().starts_with("110"));
    assert!(headers["age"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(stale["id"], fresh["id"]);
    // Never for creates: a failing create is an error.
    s.fault(json!({"vendor": "meteroid", "op": "create", "fault": {"status": 500}}))
        .await;
    let (status, _, _) = answer(s.create(s.create_body())).await;
    assert_eq!(status, 502);
}

#[tokio::test]
async fn no_stale_copy_past_the_configured_staleness() {
    let s = start(&format!(
        "{}{}",
        cache(1, 100),
        Resilience {
            deadline_ms: 2000,
            stale_if_error_secs: 1,
            ..Resilience::default()
        }
        .toml()
    ))
    .await;
    let reference = s.vendor_session().await;
    let id = format!("meteroid:default:{reference}");
    answer(s.session(&id)).await;
    tokio::time::sleep(Duration::from_millis(2200)).await;
    s.fault(json!({"vendor": "meteroid", "op": "get", "times": 0, "fault": {"status": 500}}))
        .await;
    let (status, _, _) = answer(s.session(&id)).await;
    assert_eq!(status, 502);
}

#[tokio::test]
async fn idempotent_create_replays_refuses_reuse_and_coalesces() {
    let s = start(&test_policy()).await;
    let create = |key: &str, body: Value| s.create(body).header("idempotency-key", key);
    let (status, headers, first) = answer(create("order-1", s.create_body())).await;
    assert_eq!(status, 201);
    assert!(headers.get("idempotent-replayed").is_none());
    let (status, headers, again) = answer(create("order-1", s.create_body())).await;
    assert_eq!(status, 201);
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(
        headers["location"],
        format!("/v1/checkout-sessions/{}", first["id"].as_str().unwrap())
    );
    assert_eq!(again["id"], first["id"]);
    assert_eq!(s.upstream_calls("create"), 1);

    let mut other = s.create_body();
    other["metadata"] = json!({"order": "2"});
    let (status, _, body) = answer(create("order-1", other)).await;
    assert_eq!(
        (status, code(&body)),
        (422, "idempotency_key_reused"),
        "{body}"
    );

    // Concurrent requests with one key: one upstream create.
    s.fault(json!({"vendor": "meteroid", "op": "create", "fault": {"latency_ms": 300}}))
        .await;
    let requests = (0..10).map(|_| {
        let r = create("order-2", s.create_body()).send();
        async move {
            let r = r.await.unwrap();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap();
            (status, body["id"].as_str().unwrap_or("").to_owned())
        }
    });
    let answers = futures::future::join_all(requests).await;
    assert!(answers.iter().all(|(st, _)| *st == 201), "{answers:?}");
    assert!(
        answers.windows(2).all(|w| w[0].1 == w[1].1),
        "one session: {answers:?}"
    );
    assert_eq!(s.upstream_calls("create"), 2);
}

#[tokio::test]
async fn a_create_the_vendor_did_nothing_with_is_not_kept() {
    let s = start(&test_policy()).await;
    // A rate-limited create did nothing at the vendor: the retry creates.
    s.fault(json!({"vendor": "meteroid", "op": "create", "fault": {"status": 429, "body": "{\"code\":\"TOO_MANY_REQUESTS\",\"message\":\"slow down\"}"}})).await;
    let retry = || {
        s.create(s.create_body())
            .header("idempotency-key", "order-10")
    };
    let (status, _, _) = answer(retry()).await;
    assert_eq!(status, 429);
    let (status, headers, _) = answer(retry()).await;
    assert_eq!(status, 201);
    assert!(headers.get("idempotent-replayed").is_none());
    assert_eq!(sessions_at_vendor(&s).await, 1);
}

/// Issue 17's race: the first request with a key is rate limited (so the
/// gateway releases the key) while three more wait on it. Exactly one of
/// them creates; the other two replay its answer: one session, two calls.
#[tokio::test]
async fn waiters_on_a_released_key_make_one_create() {
    let s = start(&test_policy()).await;
    s.fault(
        json!({"vendor": "meteroid", "op": "create", "fault": {"latency_ms": 300, "status": 429,
        "body": "{\"code\":\"TOO_MANY_REQUESTS\",\"message\":\"slow down\"}"}}),
    )
    .await;
    let first = s
        .create(s.create_body())
        .header("idempotency-key", "order-race")
        .send();
    let first = tokio::spawn(async move { first.await.expect("an answer").status().as_u16() });
    // The first holds the key (its vendor call is under way) before the
    // others ask.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let waiters = (0..3).map(|_| {
        let r = s
            .create(s.create_body())
            .header("idempotency-key", "order-race")
            .send();
        async move {
            let (status, headers, body) =
                checkout_gateway_e2e::json_of(r.await.expect("an answer")).await;
            let replayed = headers.get("idempotent-replayed").is_some();
            (
                status,
                replayed,
                body["id"].as_str().unwrap_or_default().to_owned(),
            )
        }
    });
    let answers = futures::future::join_all(waiters).await;
    assert_eq!(first.await.expect("first"), 429);
    assert!(
        answers.iter().all(|(status, _, _)| *status == 201),
        "{answers:?}"
    );
    assert!(
        answers.windows(2).all(|w| w[0].2 == w[1].2),
        "one session: {answers:?}"
    );
    assert_eq!(
        answers.iter().filter(|(_, replayed, _)| *replayed).count(),
        2,
        "{answers:?}"
    );
    assert_eq!(s.upstream_calls("create"), 2, "the 429, then one create");
    assert_eq!(sessions_at_vendor(&s).await, 1);
}

/// A request that waits longer than `idempotency.wait_ms` for another
/// with its key is told to come back, not left hanging; afterwards the
/// key replays the first answer.
#[tokio::test]
async fn a_waiter_past_wait_ms_gets_409_in_progress_then_the_replay() {
    let s = start(&format!("{}[idempotency]\nwait_ms = 100\n", test_policy())).await;
    s.fault(json!({"vendor": "meteroid", "op": "create", "fault": {"latency_ms": 800}}))
        .await;
    let create = || {
        s.create(s.create_body())
            .header("idempotency-key", "order-slow")
    };
    let first = create().send();
    let first = tokio::spawn(async move {
        checkout_gateway_e2e::json_of(first.await.expect("an answer")).await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let (status, headers, body) = answer(create()).await;
    assert!(
        started.elapsed() >= Duration::from_millis(100),
        "it waited first"
    );
    assert_eq!(
        (
            status,
            checkout_gateway_e2e::error_code(&body, &headers).as_str()
        ),
        (409, "idempotency_in_progress"),
        "{body}"
    );
    assert_eq!(body["error"]["retryable"], true);
    let after: u64 = checkout_gateway_e2e::header(&headers, "retry-after")
        .parse()
        .expect("Retry-After");
    assert!((1..=5).contains(&after), "{after}");
    let (status, _, created) = first.await.expect("first");
    assert_eq!(status, 201);
    let (status, headers, again) = answer(create()).await;
    assert_eq!((status, again["id"].clone()), (201, created["id"].clone()));
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(s.upstream_calls("create"), 1);
}

#[tokio::test]
async fn in_flight_calls_are_bounded_per_account() {
    let s = start(
        &Resilience {
            max_in_flight: 2,
            ..Resilience::default()
        }
        .toml(),
    )
    .await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(format!("meteroid:default:{}", s.vendor_session().await));
    }
    s.fault(json!({"vendor": "meteroid", "op": "get", "times": 0, "fault": {"latency_ms": 500}}))
        .await;
    let requests = ids.iter().map(|id| {
        let r = s.session(id).send();
        async move {
            let r = r.await.unwrap();
            (
                r.status().as_u16(),
                r.headers().get("retry-after").is_some(),
            )
        }
    });
    let answers = futures::future::join_all(requests).await;
    let ok = answers.iter().filter(|(st, _)| *st == 200).count();
    let refused = answers.iter().filter(|(st, ra)| *st == 503 && *ra).count();
    assert_eq!((ok, refused), (2, 3), "{answers:?}");
}

#[tokio::test]
async fn oversized_headers_are_refused_before_any_work() {
    let s = start(&test_policy()).await;
    let mut request = s.get("/v1/providers");
    for i in 0..200 {
        request = request.header(format!("x-filler-{i}"), "x");
    }
    let status = request.send().await.unwrap().status().as_u16();
    assert_eq!(status, 431);
    let huge = "x".repeat(512 * 1024);
    let outcome = s.get("/v1/providers").header("x-huge", huge).send().await;
    assert!(
        outcome.map(|r| r.status().as_u16() == 431).unwrap_or(true),
        "refused or dropped, never served"
    );
}

/// p99 of `n` uncached Flowglad reads, in milliseconds.
async fn flowglad_p99(s: &Stack, id: &str, n: usize) -> f64 {
    let mut took = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        let r = s.fresh_session(id).send().await.unwrap();
        assert_eq!(r.status(), 200);
        took.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    took.sort_by(f64::total_cmp);
    took[(n * 99 / 100).min(n - 1)]
}

#[tokio::test]
async fn one_sick_vendor_never_slows_the_others() {
    let toml = format!(
        r#"
        {policy}
        [providers.meteroid.accounts.default]
        base_url = "{{sandbox}}/meteroid"
        api_key = "{meteroid_key}"
        [providers.flowglad.accounts.default]
        base_url = "{{sandbox}}/flowglad"
        api_key = "{flowglad_key}"
        [clients.main]
        key = "{CLIENT_KEY}"
        accounts = ["meteroid:default", "flowglad:default"]
        # 260 reads past the cache in a few seconds: this measures latency,
        # not the client's budget.
        vendor_calls_per_sec = 100000
        "#,
        meteroid_key = sandbox::DEMO_METEROID_API_KEY,
        flowglad_key = sandbox::flowglad::seed::API_KEY,
        policy = Resilience {
            breaker_min_calls: 1000,
            ..Resilience::default()
        }
        .toml(),
    );
    let s = start_with(&toml).await;
    let created = s
        .create(json!({"provider": "flowglad", "account": "default",
            "customer": sandbox::flowglad::seed::CUSTOMER_ACME_EXTERNAL_ID, "plan": sandbox::flowglad::seed::PRICE_PRO_MONTHLY_ID,
            "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let flowglad_id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let meteroid_id = format!("meteroid:default:{}", s.vendor_session().await);

    flowglad_p99(&s, &flowglad_id, 20).await; // warm up connections
    let healthy = flowglad_p99(&s, &flowglad_id, 100).await;

    // Meteroid hangs for 2 s on every read while 40 callers wait on it.
    s.fault(json!({"vendor": "meteroid", "op": "get", "times": 0, "fault": {"latency_ms": 2000}}))
        .await;
    let stuck: Vec<_> = (0..40)
        .map(|_| tokio::spawn(s.fresh_session(&meteroid_id).send()))
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let sick = flowglad_p99(&s, &flowglad_id, 100).await;
    for call in stuck {
        let _ = call.await;
    }
    assert!(
        sick <= healthy * 3.0 + 25.0,
        "Flowglad p99 went from {healthy:.2} ms to {sick:.2} ms while Meteroid hung"
    );
}
