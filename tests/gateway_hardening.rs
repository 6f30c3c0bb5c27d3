//! What an outside probe found, each pinned down over real sockets: the
//! breaker cannot be opened by invented ids nor closed by stale results,
//! and concurrent reads of one id share one vendor call, failed or not.

use std::time::Duration;

use checkout_gateway_e2e::{json_of, start, start_with, Stack, CLIENT_KEY};
use sandbox::seed;
use serde_json::{json, Value};

async fn fault(s: &Stack, body: Value) {
    let r = s
        .http
        .post(format!("{}/_sandbox/faults", s.sandbox))
        .json(&body)
        .send()
        .await
        .expect("sandbox faults");
    assert_eq!(r.status(), 204, "fault refused");
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

fn policy(breaker_failures: u32) -> String {
    format!(
        "[resilience]\ndeadline_ms = 3000\nmax_retries = 0\nbackoff_base_ms = 10\nbackoff_max_ms = 10\nbreaker_failures = {breaker_failures}\nbreaker_open_secs = 30\nmax_in_flight = 64\nstale_if_error_secs = 0\nshutdown_grace_secs = 1\n"
    )
}

/// A well-formed Meteroid id of a session nobody created.
const INVENTED_METEROID_ID: &str = "meteroid:default:che_1Ab2Cd3Ef4Gh5Ij6Kl7Mn";

#[tokio::test]
async fn invented_ids_cannot_open_the_breaker() {
    let s = start_with(&format!(
        r#"
        [providers.frontier.accounts.legacy]
        base_url = "{{sandbox}}/frontier"
        protocol = "rest"
        bearer_token = "{token}"
        [clients.main]
        key = "{CLIENT_KEY}"
        accounts = ["frontier:legacy"]
        {policy}
        "#,
        token = seed::FRONTIER_BEARER_TOKEN,
        policy = policy(2),
    ))
    .await;
    // Frontier's legacy REST answers 500 for a checkout id it does not know.
    for n in 0..6 {
        let unknown = format!("00000000-0000-4000-8000-00000000000{n}");
        let (status, _, body) = json_of(
            s.session(&format!(
                "frontier:legacy:{}:{unknown}",
                seed::FRONTIER_ORG_ID
            ))
            .send()
            .await
            .expect("read"),
        )
        .await;
        assert_ne!(status, 503, "read {n}: the breaker opened: {body}");
    }
    // Every client can still create and read on that account.
    let (status, _, created) = json_of(
        s.create(json!({
            "provider": "frontier",
            "account": "legacy",
            "customer": seed::FRONTIER_ORG_ID,
            "plan": seed::FRONTIER_PLAN_ID,
        }))
        .send()
        .await
        .expect("create"),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id");
    let r = s.session(id).send().await.expect("read");
    assert_eq!(r.status(), 200);

    // Failures on a session the gateway has served still count.
    fault(
        &s,
        json!({"vendor": "frontier", "times": 0, "fault": {"status": 500}}),
    )
    .await;
    for _ in 0..2 {
        let r = s
            .session(id)
            .header("cache-control", "no-cache")
            .send()
            .await
            .expect("read");
        assert_eq!(r.status(), 502);
    }
    let (status, _, body) = json_of(
        s.session(id)
            .header("cache-control", "no-cache")
            .send()
            .await
            .expect("read"),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (503, "provider_unavailable"),
        "{body}"
    );
}

#[tokio::test]
async fn a_late_success_does_not_close_an_open_breaker() {
    let s = start(&policy(2)).await;
    let (status, _, created) =
        json_of(s.create(s.create_body()).send().await.expect("create")).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    // The first read is slow and will succeed; every later one fails.
    fault(
        &s,
        json!({"vendor": "meteroid", "op": "get", "fault": {"latency_ms": 1000}}),
    )
    .await;
    fault(
        &s,
        json!({"vendor": "meteroid", "op": "get", "times": 0, "fault": {"status": 500}}),
    )
    .await;
    let slow = {
        let read = s.session(&id).header("cache-control", "no-cache").send();
        tokio::spawn(async move { read.await.expect("slow read").status().as_u16() })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..2 {
        let r = s
            .session(&id)
            .header("cache-control", "no-cache")
            .send()
            .await
            .expect("read");
        assert_eq!(r.status(), 502);
    }
    assert_eq!(slow.await.expect("slow read task"), 200);
    let (status, _, body) = json_of(
        s.session(&id)
            .header("cache-control", "no-cache")
            .send()
            .await
            .expect("read"),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (503, "provider_unavailable"),
        "a call admitted before the breaker opened closed it: {body}"
    );
}

#[tokio::test]
async fn concurrent_reads_of_an_unknown_id_share_one_vendor_call() {
    let s = start(&policy(50)).await;
    let unknown = INVENTED_METEROID_ID;
    fault(
        &s,
        json!({"vendor": "meteroid", "op": "get", "times": 0, "fault": {"latency_ms": 300}}),
    )
    .await;
    let before = s.upstream_calls("get");
    let reads = (0..10).map(|_| {
        let read = s.session(unknown).send();
        async move { read.await.expect("read").status().as_u16() }
    });
    let statuses = futures::future::join_all(reads).await;
    assert_eq!(statuses, vec![404; 10]);
    assert_eq!(
        s.upstream_calls("get") - before,
        1,
        "ten concurrent reads of one unknown id"
    );
}

const OPS_KEY: &str = "test-ops-key-0000000000000000000000003";

async fn series(s: &Stack) -> Vec<String> {
    let text = s
        .http
        .get(format!("{}/metrics", s.gateway))
        .bearer_auth(OPS_KEY)
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            l.rsplit_once(' ')
                .map_or(l, |(series, _)| series)
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn invented_methods_paths_and_statuses_add_no_series() {
    let s = start(&format!(
        "[clients.ops]\nkey = \"{OPS_KEY}\"\nscopes = [\"admin\"]\n"
    ))
    .await;
    // The scrape is a request too: count it in before comparing.
    series(&s).await;
    let mut sizes = Vec::new();
    for batch in 0..2 {
        for n in 0..150 {
            let method = reqwest::Method::from_bytes(format!("M{batch}X{n}").as_bytes())
                .expect("a method token");
            let path = if n % 2 == 0 {
                format!("/invented/{batch}/{n}")
            } else {
                "/v1/checkout-sessions".to_owned()
            };
            let r = s
                .http
                .request(method, format!("{}{path}", s.gateway))
                .bearer_auth(CLIENT_KEY)
                .send()
                .await
                .expect("request");
            assert!(r.status().is_client_error(), "{}", r.status());
        }
        let now = series(&s).await;
        for line in now.iter().filter(|l| l.contains("method=\"")) {
            assert!(
                !line.contains("M0X") && !line.contains("M1X") && !line.contains("/invented/"),
                "a caller-chosen label value: {line}"
            );
        }
        sizes.push(now);
    }
    assert_eq!(
        sizes[0].len(),
        sizes[1].len(),
        "150 more invented methods and paths: {:?}",
        sizes[1]
            .iter()
            .filter(|l| !sizes[0].contains(l))
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn request_ids_are_bounded_and_cannot_forge_log_fields() {
    let s = start("").await;
    let forged = "x status=500 client=\"admin\"";
    let huge = "r".repeat(400 * 1024);
    for sent in [forged, huge.as_str()] {
        let r = s
            .get("/v1/providers")
            .header("x-request-id", sent)
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), 200);
        let echoed = r.headers()["x-request-id"].to_str().expect("ascii");
        assert_ne!(echoed, sent);
        assert!(echoed.len() <= 128, "{}", echoed.len());
    }
    // An id made of safe characters is kept, on the routed path and on errors.
    let (status, headers, body) = json_of(
        s.session("meteroid:default:nope")
            .header("x-request-id", "req-42:abc")
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(headers["x-request-id"], "req-42:abc");
    assert_eq!(body["error"]["request_id"], "req-42:abc");
}
