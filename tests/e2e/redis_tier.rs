//! The Redis tier (`cache.redis_url`): two gateways in front of one
//! sandbox share what they cache, see each other's writes, make one
//! vendor read between them; and a Redis that is down or silent fails
//! nothing. Against the Redis in CHECKOUT_GATEWAY_TEST_REDIS, each test
//! under a key prefix of its own; without it, each test says it skipped.

use std::time::{Duration, Instant};

use checkout_gateway::testing::{announce_redis_skip, redis_url, unique_redis_prefix};
use checkout_gateway_e2e::{
    captured_logs, header, json_of, meteroid_config, start_with, Stack, CLIENT_KEY,
};
use serde_json::json;
use tokio::net::TcpListener;

const OPS_KEY: &str = "test-ops-key-0000000000000000000000005";

/// The standard accounts, an admin client, and a `[cache]` table with
/// Redis at `redis_url` (open sessions fresh for `open_ttl_secs`).
fn config(redis_url: &str, prefix: &str, open_ttl_secs: u64, timeout_ms: u64) -> String {
    meteroid_config(&format!(
        r#"
        [clients.ops]
        key = "{OPS_KEY}"
        scopes = ["admin"]
        [cache]
        open_ttl_secs = {open_ttl_secs}
        terminal_ttl_secs = 3600
        max_entries = 1000
        redis_url = "{redis_url}"
        redis_prefix = "{prefix}"
        redis_timeout_ms = {timeout_ms}
        "#
    ))
}

/// Two gateways on one sandbox and one Redis (a prefix of their own), once
/// both have connected; `None` (and the skip line) without a test Redis.
async fn two_replicas(open_ttl_secs: u64) -> Option<(Stack, Stack)> {
    let Some(url) = redis_url() else {
        announce_redis_skip();
        return None;
    };
    let config = config(&url, &unique_redis_prefix(), open_ttl_secs, 500);
    let a = start_with(&config).await;
    let b = a.replica(&config).await;
    for s in [&a, &b] {
        wait_for("Redis to connect", || async {
            redis_state(s).await == "up"
        })
        .await;
    }
    Some((a, b))
}

/// `/readyz`'s `redis` field ("" when absent).
async fn redis_state(s: &Stack) -> String {
    let r = s
        .http
        .get(format!("{}/readyz", s.gateway))
        .send()
        .await
        .expect("readyz");
    assert_eq!(r.status(), 200, "Redis never makes the gateway unready");
    let body: serde_json::Value = r.json().await.expect("readyz JSON");
    body["redis"].as_str().unwrap_or_default().to_owned()
}

/// Poll `done` for up to five seconds.
async fn wait_for<F, Fut>(what: &str, done: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let until = Instant::now() + Duration::from_secs(5);
    while !done().await {
        assert!(Instant::now() < until, "waited 5 s for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A counter's value in `/metrics` (summed over its series), 0 when absent.
async fn counter(s: &Stack, name: &str) -> u64 {
    let (status, text) = s.metrics(OPS_KEY).await;
    assert_eq!(status, 200, "{text}");
    text.lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[tokio::test]
async fn a_session_created_through_one_replica_is_read_through_another_from_redis() {
    let Some((a, b)) = two_replicas(60).await else {
        return;
    };
    let (status, _, created) = json_of(a.create(a.create_body()).send().await.unwrap()).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("an id").to_owned();
    let (status, headers, read) = json_of(b.session(&id).send().await.unwrap()).await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(header(&headers, "x-cache"), "hit");
    assert_eq!(read, created, "the same rendering");
    assert_eq!(a.upstream_calls("get"), 0, "no vendor read");
    assert_eq!(
        counter(
            &b,
            r#"checkout_gateway_cache_events_total{event="shared_hit"}"#
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_fresh_read_on_one_replica_is_seen_by_the_others_next_read() {
    let Some((a, b)) = two_replicas(60).await else {
        return;
    };
    let reference = a.vendor_session().await;
    let id = format!("meteroid:default:{reference}");
    let (_, headers, first) = json_of(b.session(&id).send().await.unwrap()).await;
    assert_eq!(
        (header(&headers, "x-cache"), &first["status"]),
        ("miss", &json!("open"))
    );
    a.control(&reference, json!({"status": "AWAITING_PAYMENT"}))
        .await;
    a.control(&reference, json!({"status": "COMPLETED"})).await;
    // B's copy is fresh for a minute: without a word from A it would stay.
    let (_, _, stale) = json_of(b.session(&id).send().await.unwrap()).await;
    assert_eq!(stale["status"], "open");

    let (_, _, fresh) = json_of(a.fresh_session(&id).send().await.unwrap()).await;
    assert_eq!(fresh["status"], "complete");
    let gets = a.upstream_calls("get");
    // Pub/sub is asynchronous: B has applied A's message once it counts it.
    wait_for("B to drop its copy", || async {
        counter(&b, "checkout_gateway_redis_invalidations_total").await >= 1
    })
    .await;
    let (_, headers, next) = json_of(b.session(&id).send().await.unwrap()).await;
    assert_eq!(next["status"], "complete", "{next}");
    assert_eq!(header(&headers, "x-cache"), "hit", "A's copy, from Redis");
    assert_eq!(a.upstream_calls("get"), gets, "no vendor read");
    // A's own message leaves A's copy alone.
    assert_eq!(
        counter(&a, "checkout_gateway_redis_invalidations_total").await,
        0
    );
}

#[tokio::test]
async fn concurrent_reads_across_replicas_make_one_vendor_read() {
    let Some((a, b)) = two_replicas(60).await else {
        return;
    };
    let id = format!("meteroid:default:{}", a.vendor_session().await);
    // A slow vendor: both replicas miss while the first read is under way.
    a.fault(json!({"vendor": "meteroid", "op": "get", "times": 0, "fault": {"latency_ms": 300}}))
        .await;
    let reads = (0..200).map(|i| {
        let replica = if i % 2 == 0 { &a } else { &b };
        let read = replica.session(&id).send();
        async move { read.await.expect("an answer").status().as_u16() }
    });
    let statuses = futures::future::join_all(reads).await;
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
    assert_eq!(a.upstream_calls("get"), 1, "200 reads over two replicas");
}

/// A Redis that is not there, and one that accepts connections and never
/// answers: the gateway starts and serves as without Redis, the failures
/// are counted and logged once, and `/readyz` says so.
#[tokio::test]
async fn a_redis_down_or_silent_from_the_start_fails_nothing() {
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    };
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    // Accept and hold every connection, never writing a byte.
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    for (what, addr) in [("closed", closed), ("silent", silent_addr)] {
        let logs = captured_logs();
        let s = start_with(&config(&format!("redis://{addr}"), "unused", 5, 50)).await;
        let slowest = creates_and_reads(&s, what).await;
        assert!(slowest < Duration::from_secs(1), "{what}: {slowest:?}");
        wait_for("a Redis error to be counted", || async {
            counter(&s, "checkout_gateway_redis_errors_total").await >= 1
        })
        .await;
        assert_eq!(redis_state(&s).await, "down", "{what}");
        let said = logs.text().matches("Redis unavailable").count();
        assert_eq!(said, 1, "{what}: one line per outage\n{}", logs.text());
    }
}

/// Redis stops answering while the gateway uses it: every request still
/// answers, each Redis call bounded by `redis_timeout_ms`; one line when
/// it goes, one when it is back.
#[tokio::test]
async fn a_redis_that_stops_answering_costs_at_most_its_timeout() {
    let Some(url) = redis_url() else {
        announce_redis_skip();
        return;
    };
    let redis = Freezable::start(&url).await;
    let logs = captured_logs();
    let config = config(&redis.url, &unique_redis_prefix(), 5, 50);
    let s = start_with(&config).await;
    wait_for("Redis to connect", || async {
        redis_state(&s).await == "up"
    })
    .await;
    creates_and_reads(&s, "up").await;
    assert_eq!(counter(&s, "checkout_gateway_redis_errors_total").await, 0);

    redis.freeze(true);
    let slowest = creates_and_reads(&s, "frozen").await;
    // A few Redis calls of 50 ms at most, where a hung call would hang
    // the request (the client gives up after 10 s).
    assert!(slowest < Duration::from_secs(1), "{slowest:?}");
    let failed = counter(&s, "checkout_gateway_redis_errors_total").await;
    assert!(failed >= 1, "counted");
    assert_eq!(redis_state(&s).await, "down");

    redis.freeze(false);
    wait_for("Redis to answer again", || async {
        creates_and_reads(&s, "thawed").await;
        redis_state(&s).await == "up"
    })
    .await;
    let text = logs.text();
    assert_eq!(text.matches("Redis unavailable").count(), 1, "{text}");
    assert_eq!(text.matches("Redis answers again").count(), 1, "{text}");
}

/// One create and three reads (the created session, an unseen one twice);
/// each must succeed. The slowest of them.
async fn creates_and_reads(s: &Stack, what: &str) -> Duration {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut slowest = Duration::ZERO;
    let started = Instant::now();
    let r = http
        .post(format!("{}/v1/checkout-sessions", s.gateway))
        .bearer_auth(CLIENT_KEY)
        .json(&s.create_body())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    slowest = slowest.max(started.elapsed());
    assert_eq!(r.status(), 201, "{what}");
    let created: serde_json::Value = r.json().await.unwrap();
    let id = created["id"].as_str().expect("an id").to_owned();
    let unseen = format!("meteroid:default:{}", s.vendor_session().await);
    for read in [&id, &unseen, &unseen] {
        let started = Instant::now();
        let r = http
            .get(format!("{}/v1/checkout-sessions/{read}", s.gateway))
            .bearer_auth(CLIENT_KEY)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        slowest = slowest.max(started.elapsed());
        assert_eq!(r.status(), 200, "{what}");
    }
    slowest
}

/// A TCP proxy in front of the test Redis that can stop forwarding: a
/// Redis that hangs with its connections open.
struct Freezable {
    url: String,
    frozen: tokio::sync::watch::Sender<bool>,
}

impl Freezable {
    async fn start(redis_url: &str) -> Freezable {
        let upstream = redis_url
            .trim_start_matches("redis://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("redis://{}", listener.local_addr().unwrap());
        let (frozen, watching) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                    continue;
                };
                let (client_in, client_out) = client.into_split();
                let (server_in, server_out) = server.into_split();
                tokio::spawn(pump(client_in, server_out, watching.clone()));
                tokio::spawn(pump(server_in, client_out, watching.clone()));
            }
        });
        Freezable { url, frozen }
    }

    fn freeze(&self, frozen: bool) {
        self.frozen.send_replace(frozen);
    }
}

/// Copy `from` to `to`, holding the bytes while frozen.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut frozen: tokio::sync::watch::Receiver<bool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if frozen.wait_for(|f| !*f).await.is_err() {
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
