//! Webhook delivery (PRODUCT §11, Standard Webhooks): events recorded
//! straight into the stack's store (as the tracker would) reach receivers
//! run here, signed, in order per session, retried, and never lost.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use checkout_gateway_e2e::{start, start_from_file, Stack, CLIENT_KEY};
use chrono::{SecondsFormat, Utc};
use feed::Secret;
use serde_json::{json, Value};
use store::{Observation, Recorded};
use tokio::net::TcpListener;

const ADMIN_KEY: &str = "webhooks-admin-key-0000000000001";
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER_SECRET: &str = "whsec_c2VjcmV0LW9mLWFub3RoZXItZW5kcG9pbnQ=";
/// How long a test waits for what it expects.
const PATIENCE: Duration = Duration::from_secs(30);
const CREATED: &str = "checkout_session.created";
const COMPLETED: &str = "checkout_session.completed";

/// The admin client and a short retry schedule, then `endpoints`.
fn hooks(endpoints: &str) -> String {
    format!(
        "[clients.ops]\nkey = \"{ADMIN_KEY}\"\nscopes = [\"admin\"]\n\
         [webhooks]\nretry_schedule_secs = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n{endpoints}"
    )
}

/// `[webhooks.endpoints.<name>]` at `url` signed with `secret`, then `extra` lines.
fn endpoint(name: &str, url: &str, secret: &str, extra: &str) -> String {
    format!("[webhooks.endpoints.{name}]\nurl = \"{url}\"\nsecret = \"{secret}\"\ntimeout_ms = 3000\n{extra}\n")
}

fn secret(text: &str) -> Secret {
    Secret::parse(text).unwrap()
}

// ---- the receiver ----------------------------------------------------------

/// What a receiver answers one request.
#[derive(Debug, Clone, Copy)]
enum Reply {
    Status(u16),
    /// A status with `Retry-After: <secs>`.
    RetryAfter(u16, u64),
}

impl Reply {
    fn status(self) -> u16 {
        match self {
            Reply::Status(status) | Reply::RetryAfter(status, _) => status,
        }
    }
}

/// One request as received.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    content_type: String,
    user_agent: String,
    body: String,
    at: Instant,
    answered: u16,
}

impl Received {
    fn delivered(&self) -> bool {
        (200..300).contains(&self.answered)
    }

    /// Does the signature verify with exactly these secrets?
    fn verifies_with(&self, secrets: &[Secret]) -> bool {
        feed::verify(
            secrets,
            &self.id,
            &self.timestamp,
            &self.signature,
            self.body.as_bytes(),
            Utc::now(),
            Duration::from_secs(300),
        )
        .is_ok()
    }
}

#[derive(Default)]
struct Script {
    log: Vec<Received>,
    /// Replies for an event id, in turn; then 204.
    replies: HashMap<String, VecDeque<Reply>>,
}

/// A webhook receiver on loopback: records every request, answers as scripted.
#[derive(Clone, Default)]
struct Receiver {
    script: Arc<Mutex<Script>>,
}

impl Receiver {
    /// A receiver on a port of its own; its URL.
    async fn start() -> (Receiver, String) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let receiver = Receiver::default();
        receiver.serve(listener);
        (receiver, url)
    }

    fn serve(&self, listener: TcpListener) {
        let app = Router::new()
            .route("/hooks", post(receive))
            .with_state(self.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
    }

    /// Answer event `id` with `replies` in turn (then 204).
    fn script(&self, id: &str, replies: &[Reply]) {
        self.lock()
            .replies
            .insert(id.to_owned(), replies.iter().copied().collect());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Script> {
        self.script.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn received(&self) -> Vec<Received> {
        self.lock().log.clone()
    }

    /// Requests for event `id`.
    fn of(&self, id: &str) -> Vec<Received> {
        self.received().into_iter().filter(|r| r.id == id).collect()
    }

    /// Event ids delivered (answered 2xx), in order of delivery.
    fn delivered(&self) -> Vec<String> {
        self.received()
            .into_iter()
            .filter(Received::delivered)
            .map(|r| r.id)
            .collect()
    }

    /// Wait until every one of `ids` was delivered; what was received.
    async fn wait_delivered(&self, ids: &[&str]) -> Vec<Received> {
        eventually(&format!("{ids:?} delivered"), || {
            let delivered = self.delivered();
            ids.iter()
                .all(|id| delivered.iter().any(|d| d == id))
                .then(|| self.received())
        })
        .await
    }
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let id = header("webhook-id");
    let mut script = receiver.lock();
    let reply = script
        .replies
        .get_mut(&id)
        .and_then(VecDeque::pop_front)
        .unwrap_or(Reply::Status(204));
    script.log.push(Received {
        id,
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        content_type: header("content-type"),
        user_agent: header("user-agent"),
        body: String::from_utf8_lossy(&body).into_owned(),
        at: Instant::now(),
        answered: reply.status(),
    });
    let status = StatusCode::from_u16(reply.status()).unwrap();
    match reply {
        Reply::Status(_) => status.into_response(),
        Reply::RetryAfter(_, secs) => (status, [("retry-after", secs.to_string())]).into_response(),
    }
}

/// Poll `probe` until it gives something, failing after [`PATIENCE`].
async fn eventually<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(Instant::now() < deadline, "waited {PATIENCE:?} for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---- events ----------------------------------------------------------------

/// A fresh event id (known before the event is recorded, so that a
/// receiver can be told how to answer it first).
fn new_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default() as u64;
    format!(
        "evt_{nanos:016x}{:016x}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Record an event of `kind` for `session` of `account` straight into the
/// store, as the tracker does; its id.
async fn record(store: &store::Store, account: &str, session: &str, kind: &str) -> String {
    let id = new_id();
    record_as(store, &id, account, session, kind).await;
    id
}

/// [`record`] with the event id `id`.
async fn record_as(store: &store::Store, id: &str, account: &str, session: &str, kind: &str) {
    let now = Utc::now();
    let body = json!({
        "object": "event", "id": id, "type": kind,
        "created_at": now.to_rfc3339_opts(SecondsFormat::Millis, true),
        "account": account,
        // Unicode in the signed body: signatures are over its UTF-8 bytes.
        "data": {"object": {"id": session, "note": "Grüße, 世界 🧾"}},
        "previous": null,
    })
    .to_string();
    let expected = store.tracked(session).await.unwrap().map(|t| t.version);
    let observation = Observation {
        session_id: session,
        account,
        status: "open",
        payment_status: None,
        state: "{}",
        hint: None,
        created_ms: now.timestamp_millis(),
        expires_ms: None,
        next_poll_ms: None,
        terminal: false,
        seen_ms: 0,
    };
    let event = store::NewEvent {
        id,
        kind,
        created_ms: now.timestamp_millis(),
        body: &body,
    };
    let recorded = store
        .record(&observation, expected, &[event])
        .await
        .unwrap();
    assert!(matches!(recorded, Recorded::Done(_)), "{recorded:?}");
}

/// The stack's store, with `endpoints` made at the feed's head first (as
/// the gateway does on its first pass), so they get what is recorded next.
async fn store_for(stack: &Stack, endpoints: &[&str]) -> store::Store {
    let store = store::Store::open(&stack.store_url())
        .await
        .expect("the stack's store opens");
    for name in endpoints {
        store.webhook_endpoint(name).await.unwrap();
    }
    store
}

fn session(n: u32) -> String {
    format!("meteroid:default:che_webhooks_{n}")
}

/// The event's delivery attempts, as the admin route lists them.
async fn deliveries(stack: &Stack, id: &str) -> Vec<Value> {
    let r = stack
        .get_as(ADMIN_KEY, &format!("/v1/events/{id}/deliveries"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    body["data"].as_array().cloned().unwrap_or_default()
}

/// A counter's value in `/metrics`, 0 when absent.
async fn attempts_metric(stack: &Stack, endpoint: &str, outcome: &str) -> u64 {
    let (status, text) = stack.metrics(ADMIN_KEY).await;
    assert_eq!(status, 200);
    let series = format!(
        "checkout_gateway_webhook_attempts_total{{endpoint=\"{endpoint}\",outcome=\"{outcome}\"}} "
    );
    text.lines()
        .find_map(|line| line.strip_prefix(&series))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

async fn pending(store: &store::Store, endpoint: &str) -> i64 {
    store.pending_deliveries(Some(endpoint)).await.unwrap()
}

/// Wait until `endpoint` has nothing pending: every attempt made is
/// recorded (a receiver sees a request before the gateway its answer).
async fn wait_drained(store: &store::Store, endpoint: &str) {
    until(&format!("{endpoint} drained"), || async {
        pending(store, endpoint).await == 0
    })
    .await;
}

/// Poll `probe` until it holds, failing after [`PATIENCE`].
async fn until<F, Fut>(what: &str, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + PATIENCE;
    while !probe().await {
        assert!(Instant::now() < deadline, "waited {PATIENCE:?} for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---- the tests -------------------------------------------------------------

#[tokio::test]
async fn events_arrive_signed_with_the_standard_headers() {
    let (receiver, url) = Receiver::start().await;
    let s = start(&hooks(&endpoint("shop", &url, SECRET, ""))).await;
    let store = store_for(&s, &["shop"]).await;
    let id = record(&store, "meteroid:default", &session(1), CREATED).await;

    let received = receiver.wait_delivered(&[&id]).await;
    wait_drained(&store, "shop").await;
    assert_eq!(received.len(), 1, "{received:?}");
    let got = &received[0];
    let stored = store.event(&id).await.unwrap().unwrap();
    assert_eq!(got.body, stored.body, "the stored body, byte for byte");
    assert_eq!(got.content_type, "application/json");
    assert!(
        got.user_agent
            .starts_with(&format!("checkout-gateway/{}", env!("CARGO_PKG_VERSION"))),
        "{}",
        got.user_agent
    );
    let seconds: i64 = got.timestamp.parse().unwrap();
    assert!(
        (Utc::now().timestamp() - seconds).abs() < 60,
        "{}",
        got.timestamp
    );
    assert_eq!(got.signature.split(' ').count(), 1, "{}", got.signature);
    assert!(got.verifies_with(&[secret(SECRET)]));
    assert!(!got.verifies_with(&[secret(OTHER_SECRET)]));

    // The attempt is listed for admins only; an unknown event is a 404.
    let attempts = deliveries(&s, &id).await;
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    assert_eq!(attempts[0]["endpoint"], "shop");
    assert_eq!(attempts[0]["attempt"], 1);
    assert_eq!(attempts[0]["status"], 204);
    assert_eq!(attempts[0]["state"], "delivered");
    assert!(attempts[0]["error"].is_null());
    let path = format!("/v1/events/{id}/deliveries");
    let r = s.get_as(CLIENT_KEY, &path).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = s
        .get_as(ADMIN_KEY, "/v1/events/evt_nope/deliveries")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(attempts_metric(&s, "shop", "delivered").await, 1);
    let (_, metrics) = s.metrics(ADMIN_KEY).await;
    assert!(
        metrics.contains("checkout_gateway_webhook_pending{endpoint=\"shop\"}"),
        "{metrics}"
    );
    assert!(metrics
        .contains("checkout_gateway_webhook_delivery_latency_seconds_count{endpoint=\"shop\"} 1"));
}

#[tokio::test]
async fn a_reload_adds_rotates_and_removes_endpoints() {
    let (receiver, url) = Receiver::start().await;
    let (audit, audit_url) = Receiver::start().await;
    let file = std::env::temp_dir().join(format!("cg-webhooks-rotate-{}.toml", std::process::id()));
    let config = |endpoints: &str| checkout_gateway_e2e::meteroid_config(&hooks(endpoints));
    let s = start_from_file(
        &config(&endpoint("shop", &url, OTHER_SECRET, "")),
        file.clone(),
    )
    .await;
    let store = store_for(&s, &["shop"]).await;
    let first = record(&store, "meteroid:default", &session(1), CREATED).await;
    let got = receiver.wait_delivered(&[&first]).await;
    assert!(got[0].verifies_with(&[secret(OTHER_SECRET)]));

    // Rotation: the new secret and the old one both sign, and a new
    // endpoint comes with the reload.
    let rotated = format!(
        "{}{}",
        endpoint(
            "shop",
            &url,
            SECRET,
            &format!("previous_secret = \"{OTHER_SECRET}\"")
        ),
        endpoint("audit", &audit_url, SECRET, "")
    );
    reload(&s, &file, &config(&rotated)).await;
    store.webhook_endpoint("audit").await.unwrap();
    let second = record(&store, "meteroid:default", &session(1), COMPLETED).await;
    let got = receiver.wait_delivered(&[&second]).await;
    let signed = got.iter().find(|r| r.id == second).unwrap();
    assert_eq!(
        signed.signature.split(' ').count(),
        2,
        "{}",
        signed.signature
    );
    assert!(
        signed.verifies_with(&[secret(OTHER_SECRET)]),
        "the old secret still verifies"
    );
    assert!(signed.verifies_with(&[secret(SECRET)]), "the new one too");
    let audited = audit.wait_delivered(&[&second]).await;
    assert!(
        audited.iter().all(|r| r.id != first),
        "a new endpoint starts at the head"
    );
    assert!(audited[0].verifies_with(&[secret(SECRET)]));

    // Removed: its worker stops (its pending gauge goes with it) and it
    // gets nothing more, while the endpoint kept does.
    reload(
        &s,
        &file,
        &config(&endpoint("audit", &audit_url, SECRET, "")),
    )
    .await;
    until("the removed endpoint's worker gone", || async {
        let (_, metrics) = s.metrics(ADMIN_KEY).await;
        !metrics.contains("checkout_gateway_webhook_pending{endpoint=\"shop\"}")
    })
    .await;
    let third = record(
        &store,
        "meteroid:default",
        &session(1),
        "checkout_session.expired",
    )
    .await;
    audit.wait_delivered(&[&third]).await;
    wait_drained(&store, "audit").await;
    assert!(receiver.of(&third).is_empty(), "{:?}", receiver.received());
    assert_eq!(pending(&store, "shop").await, 0, "nothing fanned out to it");
    let _ = std::fs::remove_file(file);
}

/// Rewrite the config file the stack reads (its own top-level lines, the
/// data directory and store, kept) and reload it as an admin.
async fn reload(stack: &Stack, file: &std::path::Path, config: &str) {
    let written = std::fs::read_to_string(file).unwrap();
    let top: String = written
        .lines()
        .take_while(|line| line.starts_with("data_dir") || line.starts_with("store.url"))
        .map(|line| format!("{line}\n"))
        .collect();
    let tables =
        checkout_gateway_e2e::with_hashed_keys(&config.replace("{sandbox}", &stack.sandbox));
    std::fs::write(file, format!("{top}{tables}")).unwrap();
    let r = stack
        .http
        .post(format!("{}/admin/reload", stack.gateway))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
}

#[tokio::test]
async fn endpoints_get_only_the_types_and_accounts_they_filter() {
    let (completed, completed_url) = Receiver::start().await;
    let (other, other_url) = Receiver::start().await;
    let (all, all_url) = Receiver::start().await;
    let endpoints = format!(
        "{}{}{}",
        endpoint(
            "completed",
            &completed_url,
            SECRET,
            &format!("types = [\"{COMPLETED}\"]")
        ),
        endpoint(
            "other",
            &other_url,
            SECRET,
            "accounts = [\"meteroid:other\"]"
        ),
        endpoint("all", &all_url, SECRET, ""),
    );
    let s = start(&hooks(&endpoints)).await;
    let store = store_for(&s, &["completed", "other", "all"]).await;
    let mut ids = HashMap::new();
    for (account, n) in [("meteroid:default", 1), ("meteroid:other", 2)] {
        let session = format!("{account}:che_filters_{n}");
        for kind in [CREATED, COMPLETED] {
            ids.insert(
                (account, kind),
                record(&store, account, &session, kind).await,
            );
        }
    }
    let id = |account, kind| ids[&(account, kind)].as_str();
    let every: Vec<&str> = ids.values().map(String::as_str).collect();
    all.wait_delivered(&every).await;
    let completed_ids = [
        id("meteroid:default", COMPLETED),
        id("meteroid:other", COMPLETED),
    ];
    completed.wait_delivered(&completed_ids).await;
    let other_ids = [
        id("meteroid:other", CREATED),
        id("meteroid:other", COMPLETED),
    ];
    other.wait_delivered(&other_ids).await;
    // Nothing else was made for them, nor sent.
    for name in ["completed", "other", "all"] {
        wait_drained(&store, name).await;
    }
    let sorted = |mut ids: Vec<String>| {
        ids.sort();
        ids
    };
    let owned = |ids: &[&str]| sorted(ids.iter().map(|id| id.to_string()).collect());
    assert_eq!(sorted(completed.delivered()), owned(&completed_ids));
    assert_eq!(sorted(other.delivered()), owned(&other_ids));
    assert_eq!(sorted(all.delivered()), owned(&every));
}

#[tokio::test]
async fn a_failed_attempt_is_retried_and_every_attempt_is_listed() {
    let (receiver, url) = Receiver::start().await;
    let s = start(&hooks(&endpoint("shop", &url, SECRET, ""))).await;
    let store = store_for(&s, &["shop"]).await;
    let id = new_id();
    receiver.script(&id, &[Reply::Status(500)]);
    record_as(&store, &id, "meteroid:default", &session(1), CREATED).await;
    receiver.wait_delivered(&[&id]).await;
    wait_drained(&store, "shop").await;
    let got = receiver.of(&id);
    assert_eq!(
        got.iter().map(|r| r.answered).collect::<Vec<_>>(),
        [500, 204]
    );
    for r in &got {
        assert!(r.verifies_with(&[secret(SECRET)]));
    }
    let attempts = deliveries(&s, &id).await;
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    for (n, (attempt, status)) in attempts.iter().zip([500, 204]).enumerate() {
        assert_eq!(attempt["attempt"], n as u64 + 1);
        assert_eq!(attempt["status"], status);
        assert_eq!(attempt["state"], "delivered", "the delivery's state now");
        assert_eq!(attempt["delivery_id"], attempts[0]["delivery_id"]);
        assert!(attempt["at"].as_str().unwrap().ends_with('Z'));
    }
    assert_eq!(attempts_metric(&s, "shop", "delivered").await, 1);
    assert_eq!(attempts_metric(&s, "shop", "retry").await, 1);
}

#[tokio::test]
async fn retry_after_holds_the_next_attempt_back() {
    let (receiver, url) = Receiver::start().await;
    let s = start(&hooks(&endpoint("shop", &url, SECRET, ""))).await;
    let store = store_for(&s, &["shop"]).await;
    let id = new_id();
    receiver.script(&id, &[Reply::RetryAfter(503, 3), Reply::RetryAfter(429, 3)]);
    record_as(&store, &id, "meteroid:default", &session(1), CREATED).await;
    receiver.wait_delivered(&[&id]).await;
    wait_drained(&store, "shop").await;
    let got = receiver.of(&id);
    assert_eq!(
        got.iter().map(|r| r.answered).collect::<Vec<_>>(),
        [503, 429, 204]
    );
    // Each retry waited the 3 s asked for (the schedule says about 1 s).
    for pair in got.windows(2) {
        let waited = pair[1].at - pair[0].at;
        assert!(
            waited >= Duration::from_millis(2990),
            "retried after {waited:?}"
        );
    }
}

#[tokio::test]
async fn gone_disables_the_endpoint_until_its_secret_changes() {
    let (gone, gone_url) = Receiver::start().await;
    let (witness, witness_url) = Receiver::start().await;
    let file = std::env::temp_dir().join(format!("cg-webhooks-gone-{}.toml", std::process::id()));
    let config = |gone_secret: &str| {
        checkout_gateway_e2e::meteroid_config(&hooks(&format!(
            "{}{}",
            endpoint("gone", &gone_url, gone_secret, ""),
            endpoint("witness", &witness_url, SECRET, "")
        )))
    };
    let s = start_from_file(&config(SECRET), file.clone()).await;
    let store = store_for(&s, &["gone", "witness"]).await;
    let first = new_id();
    gone.script(&first, &[Reply::Status(410)]);
    record_as(&store, &first, "meteroid:default", &session(1), CREATED).await;
    // The 410 is counted once its endpoint is disabled.
    until("the 410 counted", || async {
        attempts_metric(&s, "gone", "disabled").await == 1
    })
    .await;
    let state = store.webhook_endpoint("gone").await.unwrap();
    assert!(state.disabled_ms.is_some());
    assert!(state.disabled_reason.unwrap().contains("410"));

    // Disabled: no further attempts, nothing new fanned out to it, while
    // the witness gets the next event (and a little longer).
    let second = record(&store, "meteroid:default", &session(2), CREATED).await;
    witness.wait_delivered(&[&first, &second]).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(gone.received().len(), 1, "{:?}", gone.received());
    let r = s
        .http
        .post(format!("{}/v1/events/{second}/redeliver", s.gateway))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"endpoints": ["gone"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409, "redelivering to a disabled endpoint");

    // A new secret (a reload) enables it: the waiting delivery and the
    // event recorded meanwhile arrive, signed with it.
    reload(&s, &file, &config(OTHER_SECRET)).await;
    let got = gone.wait_delivered(&[&first, &second]).await;
    wait_drained(&store, "gone").await;
    for r in got.iter().filter(|r| r.delivered()) {
        assert!(r.verifies_with(&[secret(OTHER_SECRET)]));
    }
    let attempts = deliveries(&s, &first).await;
    let gone_statuses: Vec<u64> = attempts
        .iter()
        .filter(|a| a["endpoint"] == "gone")
        .filter_map(|a| a["status"].as_u64())
        .collect();
    assert_eq!(gone_statuses, [410, 204]);
    assert_eq!(gone.received().len(), 3, "{:?}", gone.received());
    assert!(store
        .webhook_endpoint("gone")
        .await
        .unwrap()
        .disabled_ms
        .is_none());
    let _ = std::fs::remove_file(file);
}

#[tokio::test]
async fn a_session_stays_in_order_under_retries_while_others_go_on() {
    let (receiver, url) = Receiver::start().await;
    let s = start(&hooks(&endpoint("shop", &url, SECRET, ""))).await;
    let store = store_for(&s, &["shop"]).await;
    let (slow, quick) = (session(1), session(2));
    let e1 = new_id();
    receiver.script(
        &e1,
        &[Reply::Status(500), Reply::Status(500), Reply::Status(503)],
    );
    record_as(&store, &e1, "meteroid:default", &slow, CREATED).await;
    let e2 = record(
        &store,
        "meteroid:default",
        &slow,
        "checkout_session.processing",
    )
    .await;
    let e3 = record(&store, "meteroid:default", &slow, COMPLETED).await;
    let t1 = record(&store, "meteroid:default", &quick, CREATED).await;
    let t2 = record(&store, "meteroid:default", &quick, COMPLETED).await;
    let got = receiver.wait_delivered(&[&e1, &e2, &e3, &t1, &t2]).await;

    let first_seen = |id: &str| got.iter().position(|r| r.id == id).unwrap();
    let delivered_at = |id: &str| {
        got.iter()
            .position(|r| r.id == id && r.delivered())
            .unwrap()
    };
    // Event 2 of a session never goes before event 1 is delivered.
    assert!(first_seen(&e2) > delivered_at(&e1), "{got:?}");
    assert!(first_seen(&e3) > delivered_at(&e2), "{got:?}");
    assert!(first_seen(&t2) > delivered_at(&t1), "{got:?}");
    assert_eq!(receiver.of(&e1).len(), 4, "three failures, then delivered");
    // Another session is not held back by the retries.
    assert!(delivered_at(&t2) < delivered_at(&e1), "{got:?}");
}

#[tokio::test]
async fn redeliver_sends_the_same_webhook_id_again() {
    let (shop, shop_url) = Receiver::start().await;
    let (audit, audit_url) = Receiver::start().await;
    let endpoints = format!(
        "{}{}",
        endpoint("shop", &shop_url, SECRET, ""),
        endpoint(
            "audit",
            &audit_url,
            SECRET,
            &format!("types = [\"{COMPLETED}\"]")
        )
    );
    let s = start(&hooks(&endpoints)).await;
    let store = store_for(&s, &["shop", "audit"]).await;
    let id = record(&store, "meteroid:default", &session(1), CREATED).await;
    shop.wait_delivered(&[&id]).await;
    let redeliver = |key: &str, body: Option<Value>| {
        let request = s
            .http
            .post(format!("{}/v1/events/{id}/redeliver", s.gateway))
            .bearer_auth(key);
        match body {
            Some(body) => request.json(&body),
            None => request,
        }
        .send()
    };

    assert_eq!(redeliver(CLIENT_KEY, None).await.unwrap().status(), 403);
    // By default: the enabled endpoints whose filter takes it (not audit).
    let r = redeliver(ADMIN_KEY, None).await.unwrap();
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["endpoints"], json!(["shop"]), "{body}");
    assert_eq!(body["deliveries"], 1);
    assert_eq!(body["event"], json!(id));
    eventually("the redelivery", || (shop.of(&id).len() == 2).then_some(())).await;
    let both = shop.of(&id);
    assert!(both
        .iter()
        .all(|r| r.delivered() && r.verifies_with(&[secret(SECRET)])));
    assert_eq!(both[0].body, both[1].body);

    // Named: whatever its filter.
    let r = redeliver(ADMIN_KEY, Some(json!({"endpoints": ["audit"]})))
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    audit.wait_delivered(&[&id]).await;
    wait_drained(&store, "audit").await;
    wait_drained(&store, "shop").await;

    for bad in [
        json!({"endpoints": ["nope"]}),
        json!({"bogus": 1}),
        json!([1]),
    ] {
        let r = redeliver(ADMIN_KEY, Some(bad.clone())).await.unwrap();
        assert_eq!(r.status(), 400, "{bad}");
    }
    let r = s
        .http
        .post(format!("{}/v1/events/evt_nope/redeliver", s.gateway))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // Three deliveries, one attempt each.
    let attempts = deliveries(&s, &id).await;
    assert_eq!(attempts.len(), 3, "{attempts:?}");
    let mut ids: Vec<i64> = attempts
        .iter()
        .map(|a| a["delivery_id"].as_i64().unwrap())
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 3, "{attempts:?}");
}

#[tokio::test]
async fn events_recorded_while_the_receiver_is_down_all_arrive_once_it_is_up() {
    // A port nobody listens on (for now): connections are refused.
    let address = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{address}/hooks");
    let s = start(&hooks(&endpoint("shop", &url, SECRET, ""))).await;
    let store = store_for(&s, &["shop"]).await;
    let mut ids = Vec::new();
    for n in 0..6 {
        let kind = if n < 3 { CREATED } else { COMPLETED };
        ids.push(record(&store, "meteroid:default", &session(n % 3), kind).await);
    }
    // Refused twice at least (no status, the error says why).
    let deadline = Instant::now() + PATIENCE;
    loop {
        let attempts = store.attempts(&ids[0]).await.unwrap();
        if attempts.len() >= 2 {
            assert!(attempts.iter().all(|a| a.status.is_none()), "{attempts:?}");
            let error = attempts[0].error.clone().unwrap_or_default();
            assert!(error.starts_with("cannot connect"), "{error}");
            break;
        }
        assert!(Instant::now() < deadline, "no refused attempts recorded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let receiver = Receiver::default();
    receiver.serve(TcpListener::bind(address).await.unwrap());
    let wanted: Vec<&str> = ids.iter().map(String::as_str).collect();
    receiver.wait_delivered(&wanted).await;
    wait_drained(&store, "shop").await;
    let mut delivered = receiver.delivered();
    delivered.sort();
    delivered.dedup();
    assert_eq!(delivered.len(), ids.len());
}

/// The Standard Webhooks reference library (Python) as the receiver:
/// `tests/sdk/standard-webhooks/receiver.py` verifies every request and
/// answers 204, or 400 when a signature does not verify.
#[tokio::test]
async fn the_reference_library_verifies_every_delivery() {
    const PYTHON_VAR: &str = "CHECKOUT_GATEWAY_TEST_STANDARDWEBHOOKS";
    let Some(python) = std::env::var(PYTHON_VAR).ok().filter(|v| !v.is_empty()) else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr().lock(),
            "skipped: set {PYTHON_VAR}=<python with tests/sdk/standard-webhooks/requirements.txt installed> \
             to have the Standard Webhooks library verify deliveries"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let verified = dir.path().join("verified.jsonl");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sdk/standard-webhooks/receiver.py");
    let mut child = tokio::process::Command::new(&python)
        .arg(&script)
        .arg("--secret")
        .arg(OTHER_SECRET)
        .arg("--out")
        .arg(&verified)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("{PYTHON_VAR}={python}: cannot run: {e}"));
    let mut lines =
        tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(child.stdout.take().unwrap()));
    let first = tokio::time::timeout(PATIENCE, lines.next_line())
        .await
        .expect("receiver.py says where it listens")
        .unwrap()
        .unwrap_or_default();
    let port = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("receiver.py said {first:?}"));
    let url = format!("http://127.0.0.1:{port}/hooks");

    // Rotating: the library holds only the old secret and still verifies.
    let rotating = endpoint(
        "py",
        &url,
        SECRET,
        &format!("previous_secret = \"{OTHER_SECRET}\""),
    );
    let s = start(&hooks(&rotating)).await;
    let store = store_for(&s, &["py"]).await;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(record(&store, "meteroid:default", &session(n), CREATED).await);
    }
    let read = || -> Vec<Value> {
        std::fs::read_to_string(&verified)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    };
    eventually("every event verified by the reference library", || {
        let seen = read();
        ids.iter()
            .all(|id| {
                seen.iter()
                    .any(|v| v["id"] == json!(id) && v["verified"] == true)
            })
            .then_some(())
    })
    .await;
    wait_drained(&store, "py").await;
    assert!(read().iter().all(|v| v["verified"] == true), "{:?}", read());

    // The control: a changed body is refused.
    let r = s
        .http
        .post(&url)
        .header("webhook-id", &ids[0])
        .header("webhook-timestamp", Utc::now().timestamp().to_string())
        .header(
            "webhook-signature",
            "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
        )
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let _ = child.kill().await;
}
