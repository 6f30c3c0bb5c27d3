//! What an outside probe found, each pinned down over real sockets: the
//! breaker cannot be opened by invented ids nor closed by stale results,
//! and concurrent reads of one id share one vendor call, failed or not.

use std::time::Duration;

use checkout_gateway_e2e::{code, json_of, start, start_with, Resilience, Stack, CLIENT_KEY};
use sandbox::frontier::seed;
use serde_json::{json, Value};

/// A breaker that opens once `breaker_min_calls` calls are in its window
/// and half of them failed.
fn policy(breaker_min_calls: u32) -> String {
    Resilience {
        breaker_min_calls,
        breaker_failure_ratio: 0.5,
        ..Resilience::default()
    }
    .toml()
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
        token = seed::BEARER_TOKEN,
        policy = policy(2),
    ))
    .await;
    // Frontier's legacy REST answers 500 for a checkout id it does not know.
    for n in 0..6 {
        let unknown = format!("00000000-0000-4000-8000-00000000000{n}");
        let (status, _, body) = json_of(
            s.session(&format!(
                "frontier:legacy:{}:{unknown}",
                seed::ORG_ACME_ID_TEXT
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
            "customer": seed::ORG_ACME_ID_TEXT,
            "plan": seed::PLAN_STARTER_ID_TEXT,
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

    // Failures on a session the gateway has served still count: once they
    // are half the calls in the window (the answered reads above are
    // healthy calls), the breaker opens.
    s.fault(json!({"vendor": "frontier", "times": 0, "fault": {"status": 500}}))
        .await;
    let mut failed = 0;
    let (status, body) = loop {
        let (status, _, body) = json_of(s.fresh_session(id).send().await.expect("read")).await;
        if status != 502 || failed == 20 {
            break (status, body);
        }
        failed += 1;
    };
    assert_eq!(
        (status, code(&body)),
        (503, "provider_unavailable"),
        "after {failed} failed reads: {body}"
    );
}

#[tokio::test]
async fn a_late_success_does_not_close_an_open_breaker() {
    // The create below and two failed reads: 2 of 3 calls failed.
    let s = start(&policy(3)).await;
    let (status, _, created) =
        json_of(s.create(s.create_body()).send().await.expect("create")).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    // The first read is slow and will succeed; every later one fails.
    s.fault(json!({"vendor": "meteroid", "op": "get", "fault": {"latency_ms": 1000}}))
        .await;
    s.fault(json!({"vendor": "meteroid", "op": "get", "times": 0, "fault": {"status": 500}}))
        .await;
    let slow = {
        let read = s.fresh_session(&id).send();
        tokio::spawn(async move { read.await.expect("slow read").status().as_u16() })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..2 {
        let r = s.fresh_session(&id).send().await.expect("read");
        assert_eq!(r.status(), 502);
    }
    assert_eq!(slow.await.expect("slow read task"), 200);
    let (status, _, body) = json_of(s.fresh_session(&id).send().await.expect("read")).await;
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
    s.fault(json!({"vendor": "meteroid", "op": "get", "times": 0, "fault": {"latency_ms": 300}}))
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
    let (_, text) = s.metrics(OPS_KEY).await;
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
    let long = "r".repeat(1000);
    for sent in [forged, long.as_str()] {
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
    // A 400 KB id is a header past the single-header bound: refused, and
    // the refusal carries an id of the gateway's own.
    let (status, headers, body) = json_of(
        s.get("/v1/providers")
            .header("x-request-id", "r".repeat(400 * 1024))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!((status, code(&body)), (431, "headers_too_large"), "{body}");
    let echoed = headers["x-request-id"].to_str().expect("ascii");
    assert!(echoed.len() <= 128);
    assert_eq!(body["error"]["request_id"], echoed);
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

/// The gateway's address (`127.0.0.1:PORT`).
fn addr(s: &Stack) -> String {
    s.gateway.trim_start_matches("http://").to_owned()
}

/// Send `bytes` on a new connection and read until the gateway closes it.
async fn raw(s: &Stack, bytes: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr(s))
        .await
        .expect("connect");
    stream.write_all(bytes).await.expect("send");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// Status, the x-request-id header, and the JSON body of a raw answer.
fn parse_raw(answer: &str) -> (u16, String, Value) {
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((answer, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let request_id = head
        .lines()
        .find_map(|l| l.strip_prefix("x-request-id: "))
        .unwrap_or_default()
        .to_owned();
    (
        status,
        request_id,
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn http_layer_refusals_are_json_errors_with_a_request_id() {
    let s = start("").await;
    let long_target = format!(
        "GET /v1/providers?{} HTTP/1.1\r\nHost: x\r\n\r\n",
        "q".repeat(9000)
    );
    let big_header = format!(
        "GET /v1/providers HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "h".repeat(10 * 1024)
    );
    let huge_head = format!(
        "GET /v1/providers HTTP/1.1\r\nHost: x\r\n{}\r\n",
        (0..10)
            .map(|i| format!("X-Part-{i}: {}\r\n", "p".repeat(4000)))
            .collect::<String>()
    );
    let many_headers = format!(
        "GET /v1/providers HTTP/1.1\r\nHost: x\r\n{}\r\n",
        (0..200)
            .map(|i| format!("X-F{i}: x\r\n"))
            .collect::<String>()
    );
    let cases = [
        (
            "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"
                .to_owned(),
            400,
            "invalid_request",
        ),
        (
            "GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n".to_owned(),
            400,
            "invalid_request",
        ),
        (long_target, 414, "uri_too_long"),
        (big_header, 431, "headers_too_large"),
        (huge_head, 431, "headers_too_large"),
        (many_headers, 431, "headers_too_large"),
    ];
    for (request, status, expected) in cases {
        let answer = raw(&s, request.as_bytes()).await;
        let (got, request_id, body) = parse_raw(&answer);
        assert_eq!((got, code(&body)), (status, expected), "{answer}");
        assert!(!request_id.is_empty(), "{answer}");
        assert_eq!(body["error"]["request_id"], request_id.as_str());
    }
}

fn connection_config(extra: &str) -> String {
    format!("[server]\n{extra}\n")
}

/// Whether the gateway closed `stream` within `within`.
async fn closed_within(stream: &mut tokio::net::TcpStream, within: Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut byte = [0u8; 64];
    matches!(
        tokio::time::timeout(within, stream.read(&mut byte)).await,
        Ok(Ok(0) | Err(_))
    )
}

#[tokio::test]
async fn slow_heads_and_silent_connections_are_closed() {
    use tokio::io::AsyncWriteExt;
    let s = start(&connection_config(
        "header_read_timeout_ms = 600\nidle_timeout_secs = 1",
    ))
    .await;
    // A head sent a line every 200 ms.
    let mut slow = tokio::net::TcpStream::connect(addr(&s))
        .await
        .expect("connect");
    let started = std::time::Instant::now();
    slow.write_all(b"GET /healthz HTTP/1.1\r\n")
        .await
        .expect("send");
    let mut cut = false;
    for n in 0..15 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if slow
            .write_all(format!("X-Line-{n}: x\r\n").as_bytes())
            .await
            .is_err()
            || closed_within(&mut slow, Duration::from_millis(1)).await
        {
            cut = true;
            break;
        }
    }
    assert!(cut, "a head trickled for 3 s was not cut");
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );

    // A connection that never sends anything.
    let mut silent = tokio::net::TcpStream::connect(addr(&s))
        .await
        .expect("connect");
    let started = std::time::Instant::now();
    assert!(closed_within(&mut silent, Duration::from_secs(3)).await);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_millis(2000),
        "{took:?}"
    );

    // A keep-alive connection stays usable within the idle time.
    let client = reqwest::Client::new();
    for _ in 0..3 {
        let r = client
            .get(format!("{}/healthz", s.gateway))
            .send()
            .await
            .expect("healthz");
        assert_eq!(r.status(), 200);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn healthz_answers_with_the_connection_cap_full_of_idle_sockets() {
    let s = start(&connection_config("max_connections = 32")).await;
    let mut idle = Vec::new();
    for _ in 0..200 {
        idle.push(
            tokio::net::TcpStream::connect(addr(&s))
                .await
                .expect("connect"),
        );
    }
    let started = std::time::Instant::now();
    let r = reqwest::Client::new()
        .get(format!("{}/healthz", s.gateway))
        .send()
        .await
        .expect("healthz");
    assert_eq!(r.status(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let mut closed = 0;
    for stream in &mut idle {
        if closed_within(stream, Duration::from_millis(20)).await {
            closed += 1;
        }
    }
    assert!(closed >= 200 - 32, "only {closed} idle sockets were closed");
}

#[tokio::test]
async fn with_every_connection_busy_a_newcomer_gets_503() {
    let s = start(&format!(
        "{}\n{}",
        connection_config("max_connections = 2"),
        policy(50)
    ))
    .await;
    let id = format!("meteroid:default:{}", s.vendor_session().await);
    s.fault(json!({"vendor": "meteroid", "op": "get", "times": 2, "fault": {"latency_ms": 1500}}))
        .await;
    let busy: Vec<_> = (0..2)
        .map(|_| {
            // One client each: two connections.
            let read = reqwest::Client::new()
                .get(format!("{}/v1/checkout-sessions/{id}", s.gateway))
                .bearer_auth(CLIENT_KEY)
                .header("cache-control", "no-cache")
                .send();
            tokio::spawn(async move { read.await.expect("slow read").status().as_u16() })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let answer = raw(&s, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let (status, request_id, body) = parse_raw(&answer);
    assert_eq!((status, code(&body)), (503, "overloaded"), "{answer}");
    assert!(answer.contains("retry-after: 1"), "{answer}");
    assert!(!request_id.is_empty());
    for read in busy {
        assert_eq!(read.await.expect("read task"), 200);
    }
}

#[tokio::test]
async fn shutdown_closes_connections_without_a_request_at_once() {
    use tokio::io::AsyncWriteExt;
    let config = checkout_gateway_e2e::with_hashed_keys(&format!(
        "[resilience]\nshutdown_grace_secs = 20\n[clients.main]\nkey = \"{CLIENT_KEY}\"\n"
    ));
    let (_, state) = checkout_gateway::cmd::serve::load(&figment::Figment::from(
        <figment::providers::Toml as figment::providers::Format>::string(&config),
    ))
    .expect("config");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(checkout_gateway::server::serve(
        listener,
        checkout_gateway::state::live::Gateway::new(state, None),
        async move {
            let _ = stopped.await;
        },
    ));
    // Half a request head, and an idle keep-alive connection.
    let mut half = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("send");
    let client = reqwest::Client::new();
    let r = client
        .get(format!("http://{address}/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(r.status(), 200);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("serve returns well before the 20 s grace")
        .expect("serve task")
        .expect("serve");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn each_client_key_has_a_request_budget() {
    let s = start(&format!(
        "[clients.ops]\nkey = \"{OPS_KEY}\"\nscopes = [\"admin\"]\nrequests_per_sec = 5\n"
    ))
    .await;
    let scrape = || s.get_as(OPS_KEY, "/metrics").send();
    // Bursts of twice the rate, then refusals.
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(scrape().await.expect("scrape").status().as_u16());
    }
    assert_eq!(&statuses[..10], &[200; 10], "{statuses:?}");
    let (status, headers, body) = json_of(scrape().await.expect("scrape")).await;
    assert_eq!((status, code(&body)), (429, "too_many_requests"), "{body}");
    assert_eq!(headers["retry-after"], "1");
    assert_eq!(headers["ratelimit-limit"], "5");
    assert_eq!(headers["ratelimit-remaining"], "0");
    assert_eq!(headers["ratelimit-reset"], "1");
    // Another key is not affected.
    let r = s.get("/v1/providers").send().await.expect("providers");
    assert_eq!(r.status(), 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let text = scrape().await.expect("scrape").text().await.expect("text");
    assert!(
        text.contains(r#"checkout_gateway_rate_limited_total{client="ops",budget="requests"} 3"#),
        "{text}"
    );
}

#[tokio::test]
async fn cache_hits_spend_no_vendor_budget_and_one_client_cannot_spend_anothers() {
    let s = start_with(&format!(
        r#"
        [providers.meteroid.accounts.default]
        base_url = "{{sandbox}}/meteroid"
        api_key = "{key}"
        [clients.noisy]
        key = "{CLIENT_KEY}"
        accounts = ["meteroid:default"]
        vendor_calls_per_sec = 1
        [clients.quiet]
        key = "{OPS_KEY}"
        accounts = ["meteroid:default"]
        {policy}
        "#,
        key = sandbox::DEMO_METEROID_API_KEY,
        policy = policy(50),
    ))
    .await;
    let id = format!("meteroid:default:{}", s.vendor_session().await);
    let read = |no_cache: bool| {
        let r = s.session(&id);
        if no_cache {
            r.header("cache-control", "no-cache")
        } else {
            r
        }
    };
    // A miss, then hits: one vendor call.
    for _ in 0..20 {
        assert_eq!(read(false).send().await.expect("read").status(), 200);
    }
    // The second vendor call of the burst, then the budget is spent.
    assert_eq!(read(true).send().await.expect("read").status(), 200);
    let (status, headers, body) = json_of(read(true).send().await.expect("read")).await;
    assert_eq!((status, code(&body)), (429, "too_many_requests"), "{body}");
    assert_eq!(headers["ratelimit-limit"], "1");
    assert!(headers.get("retry-after").is_some());
    // Hits still answer; the other client still reaches the vendor.
    assert_eq!(read(false).send().await.expect("read").status(), 200);
    let r = s
        .http
        .get(format!("{}/v1/checkout-sessions/{id}", s.gateway))
        .bearer_auth(OPS_KEY)
        .header("cache-control", "no-cache")
        .send()
        .await
        .expect("read");
    assert_eq!(r.status(), 200);
    // Creates spend it too.
    let creates = s.upstream_calls("create");
    let (status, _, body) = json_of(s.create(s.create_body()).send().await.expect("create")).await;
    assert_eq!((status, code(&body)), (429, "too_many_requests"), "{body}");
    assert_eq!(
        s.upstream_calls("create"),
        creates,
        "refused before the vendor"
    );
}
