//! What an operator sees: metrics, readiness, one span per request.

use std::time::Duration;

use checkout_gateway_e2e::{captured_logs, header, start_with, CLIENT_KEY, OTHER_CLIENT_KEY};
use serde_json::{json, Value};

fn config() -> String {
    let key = sandbox::DEMO_METEROID_API_KEY;
    format!(
        r#"
        [resilience]
        deadline_ms = 2000
        max_retries = 0
        backoff_base_ms = 10
        backoff_max_ms = 10
        breaker_min_calls = 1
        breaker_failure_ratio = 0.5
        breaker_open_secs = 60
        max_in_flight = 8
        stale_if_error_secs = 0
        shutdown_grace_secs = 1
        [providers.meteroid.accounts.default]
        base_url = "{{sandbox}}/meteroid"
        api_key = "{key}"
        [providers.meteroid.accounts.other]
        base_url = "{{sandbox}}/meteroid"
        api_key = "{key}"
        [clients.main]
        key = "{CLIENT_KEY}"
        accounts = ["meteroid:default", "meteroid:other"]
        [clients.ops]
        key = "{OTHER_CLIENT_KEY}"
        scopes = ["sessions:read", "sessions:write", "admin"]
        "#
    )
}

#[tokio::test]
async fn metrics_have_the_documented_names_and_labels() {
    let s = start_with(&config()).await;
    let reference = s.vendor_session().await;
    let id = format!("meteroid:default:{reference}");
    s.session(&id).send().await.unwrap();
    s.session(&id).send().await.unwrap();
    s.session("meteroid:default:che_1").send().await.unwrap();
    let mut body = s.create_body();
    let created = s
        .create(body.clone())
        .header("idempotency-key", "k-1")
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    body["account"] = json!("default");
    s.create(body)
        .header("idempotency-key", "k-1")
        .send()
        .await
        .unwrap();

    assert_eq!(
        s.metrics(CLIENT_KEY).await.0,
        403,
        "only admin keys may scrape"
    );
    let r = s
        .http
        .get(format!("{}/metrics", s.gateway))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let (status, text) = s.metrics(OTHER_CLIENT_KEY).await;
    assert_eq!(status, 200);
    for expected in [
        r#"checkout_gateway_http_requests_total{method="GET",route="/v1/checkout-sessions/{id}",status="200"} 2"#,
        r#"checkout_gateway_http_requests_total{method="GET",route="/v1/checkout-sessions/{id}",status="404"} 1"#,
        r#"checkout_gateway_http_request_duration_seconds_count{method="GET",route="/v1/checkout-sessions/{id}"} 3"#,
        r#"checkout_gateway_upstream_calls_total{provider="meteroid",account="default",operation="get",outcome="ok"} 1"#,
        r#"checkout_gateway_upstream_calls_total{provider="meteroid",account="default",operation="get",outcome="not_found"} 1"#,
        r#"checkout_gateway_upstream_calls_total{provider="meteroid",account="default",operation="create",outcome="ok"} 1"#,
        r#"checkout_gateway_upstream_call_duration_seconds_count{provider="meteroid",account="default",operation="get"} 2"#,
        r#"checkout_gateway_cache_events_total{event="hit"} 1"#,
        r#"checkout_gateway_cache_events_total{event="miss"} 1"#,
        r#"checkout_gateway_cache_entries 2"#,
        r#"checkout_gateway_upstream_in_flight{provider="meteroid",account="other"} 0"#,
        r#"checkout_gateway_breaker_state{provider="meteroid",account="default"} 0"#,
        r#"checkout_gateway_idempotency_replays_total 1"#,
    ] {
        assert!(text.contains(expected), "missing {expected}\n{text}");
    }
    let bytes_line = text
        .lines()
        .find(|l| l.starts_with("checkout_gateway_cache_bytes "))
        .expect("cache bytes");
    let bytes: u64 = bytes_line
        .rsplit(' ')
        .next()
        .and_then(|v| v.parse().ok())
        .expect("a number");
    assert!(bytes > 1000, "{bytes_line}");
    assert!(!text.contains(CLIENT_KEY) && !text.contains(sandbox::DEMO_METEROID_API_KEY));
}

#[tokio::test]
async fn readiness_reports_sick_accounts_and_fails_only_when_all_are_down() {
    let s = start_with(&config()).await;
    let (status, body) = s.ready().await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ready");
    assert_eq!(body["accounts"]["total"], 2);
    assert_eq!(body["accounts"]["idle"], 2);

    // 503: the vendor says it is down, which counts whatever id was asked
    // (a 500 on an id the gateway never saw would not).
    let fault = json!({"vendor": "meteroid", "op": "get", "times": 0, "fault": {"status": 503}});
    s.http
        .post(format!("{}/_sandbox/faults", s.sandbox))
        .json(&fault)
        .send()
        .await
        .unwrap();
    s.session("meteroid:default:che_1").send().await.unwrap();
    let (status, body) = s.ready().await;
    assert_eq!(
        status, 200,
        "one sick account does not take the gateway out"
    );
    assert_eq!(body["accounts"]["breaker_open"], 1);
    assert_eq!(body["accounts"]["failing"], 1);

    s.session("meteroid:other:che_1").send().await.unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    let (status, body) = s.ready().await;
    assert_eq!(status, 503);
    assert_eq!(body["status"], "not_ready");
    assert!(
        !body.to_string().contains("default"),
        "no account names for anonymous callers"
    );
    // An admin sees which: the state, and the openings counted.
    let (_, text) = s.metrics(OTHER_CLIENT_KEY).await;
    for expected in [
        r#"checkout_gateway_breaker_state{provider="meteroid",account="default"} 2"#,
        r#"checkout_gateway_breaker_opened_total{provider="meteroid",account="default"} 1"#,
        r#"checkout_gateway_breaker_opened_total{provider="meteroid",account="other"} 1"#,
    ] {
        assert!(text.contains(expected), "missing {expected}\n{text}");
    }
}

/// One request, one `request` span, whichever way it is answered: a miss
/// passes the cache-hit fast path first, which must not open a span of its
/// own (an exporter would show every miss twice).
#[tokio::test]
async fn each_request_opens_one_request_span() {
    let logs = captured_logs();
    let s = start_with(&config()).await;
    let id = format!("meteroid:default:{}", s.vendor_session().await);
    for (request_id, cache) in [("span-count-miss", "miss"), ("span-count-hit", "hit")] {
        let r = s
            .session(&id)
            .header("x-request-id", request_id)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(header(r.headers(), "x-cache"), cache);
    }
    let text = logs.text();
    for request_id in ["span-count-miss", "span-count-hit"] {
        let opened = text
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|line| {
                line["fields"]["message"] == "new"
                    && line["span"]["name"] == "request"
                    && line["span"]["request_id"] == request_id
            })
            .count();
        assert_eq!(opened, 1, "{request_id}: {opened} request spans opened");
    }
}
