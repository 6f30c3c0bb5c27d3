//! Nothing lost (PRODUCT §11): events recorded while the receiver is down
//! are delivered after the gateway is killed with SIGKILL mid-retry and
//! started again. The real binary (`checkout-gateway serve`) on a SQLite
//! file, and on PostgreSQL when `CHECKOUT_GATEWAY_TEST_POSTGRES` is set
//! (else that test prints a skip line naming the variable and passes).

mod process;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use chrono::{SecondsFormat, Utc};
use serde_json::{json, Value};
use store::{NewEvent, Observation, Recorded, Store};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ENDPOINT: &str = "shop";
const EVENTS: usize = 12;
const SESSIONS: usize = 4;
const PATIENCE: Duration = Duration::from_secs(60);

/// One request as the receiver saw it.
#[derive(Clone, Debug)]
struct Request {
    verified: bool,
    /// The event id its body names.
    named: String,
}

/// Requests by `webhook-id`.
type Got = BTreeMap<String, Vec<Request>>;

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Got>>,
}

impl Receiver {
    fn got(&self) -> Got {
        self.got.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let id = header("webhook-id");
    let verified = feed::verify(
        &[feed::Secret::parse(SECRET).unwrap()],
        &id,
        &header("webhook-timestamp"),
        &header("webhook-signature"),
        &body,
        Utc::now(),
        Duration::from_secs(300),
    )
    .is_ok();
    let named = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|b| b["id"].as_str().map(str::to_owned))
        .unwrap_or_default();
    receiver
        .got
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(id)
        .or_default()
        .push(Request { verified, named });
    StatusCode::NO_CONTENT
}

/// Record an event for `session` straight into the store (as the tracker does).
async fn record(store: &Store, session: &str, n: usize) -> String {
    let id = format!(
        "evt_{:032x}",
        (Utc::now().timestamp_micros() as u128) << 16 | n as u128
    );
    let now = Utc::now();
    let body = json!({
        "object": "event", "id": id, "type": "checkout_session.created",
        "created_at": now.to_rfc3339_opts(SecondsFormat::Millis, true),
        "account": "meteroid:default", "data": {"object": {"id": session}}, "previous": null,
    })
    .to_string();
    let expected = store.tracked(session).await.unwrap().map(|t| t.version);
    let observation = Observation {
        session_id: session,
        account: "meteroid:default",
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
    let event = NewEvent {
        id: &id,
        kind: "checkout_session.created",
        created_ms: now.timestamp_millis(),
        body: &body,
    };
    let recorded = store
        .record(&observation, expected, &[event])
        .await
        .unwrap();
    assert!(matches!(recorded, Recorded::Done(_)), "{recorded:?}");
    id
}

/// Poll `probe` until it holds, failing after [`PATIENCE`] with `what`.
async fn until<F, Fut>(what: &str, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + PATIENCE;
    while !probe().await {
        assert!(Instant::now() < deadline, "waited {PATIENCE:?} for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn nothing_lost_across_a_sigkill(store_url: &str, dir: &Path) {
    // The receiver's port, not listened on yet: every attempt is refused.
    let receiver_port = process::free_port();
    let config = format!(
        "data_dir = {data:?}\nstore.url = {store_url:?}\n\
         [server]\nlisten = \"127.0.0.1:{{port}}\"\n\
         [feed]\nlease_secs = 3\n\
         [webhooks]\nretry_schedule_secs = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n\
         [webhooks.endpoints.{ENDPOINT}]\nurl = \"http://127.0.0.1:{receiver_port}/hooks\"\n\
         secret = \"{SECRET}\"\ntimeout_ms = 2000\n",
        data = dir.join("data").display().to_string(),
    );
    let gateway = process::serve(dir, &config).await;
    let store = Store::open(store_url).await.unwrap();
    // The endpoint starts at the feed's head (the gateway may have made it already).
    store.webhook_endpoint(ENDPOINT).await.unwrap();
    let mut ids = Vec::new();
    for n in 0..EVENTS {
        let session = format!("meteroid:default:che_restart_{}", n % SESSIONS);
        ids.push(record(&store, &session, n).await);
    }
    // Killed while every delivery is pending and some were refused.
    until("deliveries fanned out and refused", || async {
        let pending = store.pending_deliveries(Some(ENDPOINT)).await.unwrap();
        let refused = store.attempts(&ids[0]).await.unwrap();
        pending == EVENTS as i64 && !refused.is_empty()
    })
    .await;
    let log = gateway.log_text();
    gateway.kill_9();
    assert!(
        store.pending_deliveries(Some(ENDPOINT)).await.unwrap() == EVENTS as i64,
        "nothing was delivered before the kill:\n{log}"
    );

    let receiver = Receiver::default();
    let app = Router::new()
        .route("/hooks", post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", receiver_port))
        .await
        .expect("the receiver's port is still free");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let restarted = process::serve(dir, &config).await;
    until("every event delivered after the restart", || async {
        let got = receiver.got();
        ids.iter().all(|id| got.contains_key(id))
    })
    .await;
    until("every delivery recorded", || async {
        store.pending_deliveries(Some(ENDPOINT)).await.unwrap() == 0
    })
    .await;
    let got = receiver.got();
    assert_eq!(got.len(), EVENTS, "only our events: {:?}", got.keys());
    for (id, requests) in &got {
        // Duplicates are allowed; each carries the same webhook-id, names
        // the same event in its body, and verifies.
        for request in requests {
            assert!(request.verified, "{id}: a signature that does not verify");
            assert_eq!(&request.named, id);
        }
    }
    drop(restarted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_lost_across_a_sigkill_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = store::sqlite_url(&dir.path().join("gateway.db"));
    nothing_lost_across_a_sigkill(&url, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_lost_across_a_sigkill_on_postgres() {
    let Some(schema) = store::testing::schema_or_skip().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    nothing_lost_across_a_sigkill(&schema.url, dir.path()).await;
    schema.drop().await.expect("drop the test schema");
}
