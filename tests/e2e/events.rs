//! The change feed's read side (PRODUCT §11): `GET /v1/events` and its
//! server-sent stream. Events are put in the stack's store directly, as
//! the tracker would write them, so these tests do not depend on it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use checkout_gateway::telemetry::metrics::StreamDropLabels;
use checkout_gateway_e2e::{
    answer, code, error_code, key_sha256, meteroid_config, start_from_file, start_with, Stack,
    CLIENT_KEY, OTHER_CLIENT_KEY,
};
use serde_json::Value;
use store::{NewEvent, Observation, Recorded, StoredEvent};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{timeout, Instant};

const CREATED: &str = "checkout_session.created";
const COMPLETED: &str = "checkout_session.completed";
const EXPIRED: &str = "checkout_session.expired";
const KINDS: [&str; 7] = [
    CREATED,
    "checkout_session.processing",
    COMPLETED,
    EXPIRED,
    "checkout_session.canceled",
    "checkout_session.failed",
    "checkout_session.payment_status_changed",
];

/// The main key reads `meteroid:default` and `meteroid:badkey`, the other
/// key `meteroid:other`. The feed's own tasks are off: only what a test
/// records is in the store.
fn config(max_lag: u64) -> String {
    meteroid_config(&format!(
        "[feed]\nenabled = false\nstream_heartbeat_secs = 1\nstream_max_lag = {max_lag}\n"
    ))
}

/// May reload the configuration (`admin`), nothing else.
const ADMIN_KEY: &str = "events-admin-key-0000000000000001";

/// Event ids and session references unique within a store.
static NEXT: AtomicU64 = AtomicU64::new(1);

/// Record one session of `account` with one event of each of `kinds`, as
/// the tracker would; `wake`: tell this replica's streams at once (else
/// they find it reading the store again, as for another replica's).
async fn record(
    s: &Stack,
    account: &str,
    kinds: &[&str],
    pad: usize,
    wake: bool,
) -> Vec<StoredEvent> {
    let state = s.state();
    let store = state.feed.store().await.expect("the store opens");
    let session_id = format!("{account}:cs_{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let ids: Vec<String> = kinds
        .iter()
        .map(|_| format!("evt_{:032x}", NEXT.fetch_add(1, Ordering::Relaxed)))
        .collect();
    let padding = "x".repeat(pad);
    // A space after the first comma: bodies must pass through byte for byte.
    let bodies: Vec<String> = kinds
        .iter()
        .zip(&ids)
        .map(|(kind, id)| {
            format!(
                r#"{{"object":"event", "id":"{id}","type":"{kind}","created_at":"2026-11-30T00:00:00.000Z","account":"{account}","data":{{"object":{{"id":"{session_id}","pad":"{padding}"}}}},"previous":null}}"#
            )
        })
        .collect();
    let events: Vec<NewEvent<'_>> = kinds
        .iter()
        .zip(&ids)
        .zip(&bodies)
        .map(|((kind, id), body)| NewEvent {
            id,
            kind,
            created_ms: 1_795_000_000_000,
            body,
        })
        .collect();
    let observation = Observation {
        session_id: &session_id,
        account,
        status: "open",
        payment_status: None,
        state: "{}",
        hint: None,
        created_ms: 1_795_000_000_000,
        expires_ms: None,
        next_poll_ms: None,
        terminal: false,
        seen_ms: 0,
    };
    let Recorded::Done(stored) = store
        .record(&observation, None, &events)
        .await
        .expect("recorded")
    else {
        panic!("a new session cannot conflict");
    };
    if wake {
        if let Some(last) = stored.last() {
            state.feed.written(last.seq);
        }
    }
    stored
}

/// `GET /v1/events?<query>` as `key`: status and body.
async fn page(s: &Stack, key: &str, query: &str) -> (u16, Value) {
    let (status, _, body) = answer(s.get_as(key, &format!("/v1/events?{query}"))).await;
    (status, body)
}

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn pages_follow_the_cursor_without_gaps_or_repeats() {
    let s = start_with(&config(10_000)).await;
    let mut visible = Vec::new();
    for i in 0..25 {
        let kinds: Vec<&str> = (0..5).map(|k| KINDS[(i + k) % KINDS.len()]).collect();
        visible.extend(record(&s, "meteroid:default", &kinds, 0, true).await);
        // Another key's account in between: never on this key's pages.
        record(&s, "meteroid:other", &[CREATED], 0, true).await;
        visible.extend(record(&s, "meteroid:badkey", &kinds, 0, true).await);
    }
    assert_eq!(visible.len(), 250);

    let mut seen: Vec<String> = Vec::new();
    let mut shape = Vec::new();
    let mut after = String::new();
    loop {
        let query = if after.is_empty() {
            "limit=100".to_owned()
        } else {
            format!("limit=100&after={after}")
        };
        let (status, body) = page(&s, CLIENT_KEY, &query).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["object"], "list");
        let got = ids(&body);
        shape.push((got.len(), body["has_more"].as_bool().expect("has_more")));
        seen.extend(got);
        match body["next_cursor"].as_str() {
            Some(next) => after = next.to_owned(),
            None => break,
        }
        if body["has_more"] == false {
            break;
        }
    }
    assert_eq!(shape, [(100, true), (100, true), (50, false)]);
    let expected: Vec<String> = visible.iter().map(|e| e.id.clone()).collect();
    assert_eq!(seen, expected, "every event once, in order");
    assert_eq!(after, visible[249].seq.to_string(), "the cursor is the seq");

    // Past the end: nothing, and no cursor to move to.
    let (_, end) = page(&s, CLIENT_KEY, &format!("after={after}")).await;
    assert_eq!(
        (ids(&end).len(), &end["has_more"], &end["next_cursor"]),
        (0, &Value::Bool(false), &Value::Null)
    );
    // 50 a page unless asked.
    let (_, first) = page(&s, CLIENT_KEY, "").await;
    assert_eq!(
        (ids(&first).len(), &first["has_more"]),
        (50, &Value::Bool(true))
    );
    assert_eq!(first["next_cursor"], visible[49].seq.to_string());

    // Each event is the stored body, byte for byte.
    let text = s
        .get("/v1/events?limit=1")
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(text.contains(&visible[0].body), "{text}");
}

#[tokio::test]
async fn types_and_accounts_filter() {
    let s = start_with(&config(10_000)).await;
    let default = record(
        &s,
        "meteroid:default",
        &[CREATED, COMPLETED, EXPIRED],
        0,
        true,
    )
    .await;
    let badkey = record(&s, "meteroid:badkey", &[CREATED, COMPLETED], 0, true).await;
    let id = |e: &StoredEvent| e.id.clone();
    for (query, expected) in [
        (
            "types=checkout_session.completed",
            vec![id(&default[1]), id(&badkey[1])],
        ),
        (
            "accounts=meteroid:badkey",
            vec![id(&badkey[0]), id(&badkey[1])],
        ),
        (
            "types=checkout_session.completed&accounts=meteroid:badkey",
            vec![id(&badkey[1])],
        ),
        (
            "types=checkout_session.expired,checkout_session.created&accounts=meteroid:default,meteroid:badkey",
            vec![id(&default[0]), id(&default[2]), id(&badkey[0])],
        ),
        ("types=checkout_session.failed", vec![]),
    ] {
        let (status, body) = page(&s, CLIENT_KEY, query).await;
        assert_eq!(status, 200, "{query}: {body}");
        assert_eq!(ids(&body), expected, "{query}");
    }
}

#[tokio::test]
async fn a_key_sees_only_its_accounts_events() {
    let s = start_with(&config(10_000)).await;
    let mine = record(&s, "meteroid:default", &[CREATED, COMPLETED], 0, true).await;
    let theirs = record(&s, "meteroid:other", &[CREATED], 0, true).await;

    let (_, body) = page(&s, OTHER_CLIENT_KEY, "").await;
    assert_eq!(ids(&body), [theirs[0].id.clone()]);
    let (_, body) = page(&s, CLIENT_KEY, "").await;
    assert_eq!(ids(&body), [mine[0].id.clone(), mine[1].id.clone()]);
    // Naming another key's account, or one that does not exist, is the
    // list route's 404 (the two look alike), on the page and the stream.
    for (key, accounts) in [
        (OTHER_CLIENT_KEY, "meteroid:default"),
        (OTHER_CLIENT_KEY, "meteroid:other,meteroid:default"),
        (CLIENT_KEY, "meteroid:other"),
        (CLIENT_KEY, "meteroid:nosuch"),
    ] {
        for path in ["/v1/events", "/v1/events/stream"] {
            let (status, headers, body) =
                answer(s.get_as(key, &format!("{path}?accounts={accounts}&after=0"))).await;
            assert_eq!(status, 404, "{path} {accounts}: {body}");
            assert_eq!(error_code(&body, &headers), "not_found");
            assert!(!body.to_string().contains(&mine[0].id));
        }
    }

    // The stream too: another account's events never come, new or old.
    let mut stream = Sse::open(&s, OTHER_CLIENT_KEY, "after=0", None).await;
    let (id, _, data) = stream.event().await;
    assert_eq!((id, data), (theirs[0].seq, theirs[0].body.clone()));
    record(&s, "meteroid:default", &[EXPIRED], 0, true).await;
    let later = record(&s, "meteroid:other", &[COMPLETED], 0, true).await;
    assert_eq!(stream.event().await.0, later[0].seq);
}

#[tokio::test]
async fn a_bad_query_is_400_naming_the_field() {
    let s = start_with(&config(10_000)).await;
    for (query, field) in [
        ("types=checkout_session.done", "checkout_session.done"),
        ("types=checkout_session.created,nope", "types"),
        ("after=abc", "after"),
        ("after=-5", "after"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=many", "limit"),
        ("accounts=meteroid", "accounts"),
        ("color=blue", "color"),
    ] {
        for path in ["/v1/events", "/v1/events/stream"] {
            if path.ends_with("stream") && query.starts_with("limit") {
                continue;
            }
            let (status, headers, body) = answer(s.get(&format!("{path}?{query}"))).await;
            assert_eq!(status, 400, "{path}?{query}: {body}");
            assert_eq!(error_code(&body, &headers), "invalid_request");
            let message = body["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains(field), "{path}?{query}: {message}");
        }
    }
    let (_, _, body) = answer(s.get("/v1/events?types=checkout_session.done")).await;
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("types:")));
    // The stream takes no pages, and its header is checked like `after`.
    let (status, _, body) = answer(s.get("/v1/events/stream?limit=5")).await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("limit"));
    let (status, _, body) =
        answer(s.get("/v1/events/stream").header("last-event-id", "evt_1")).await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .starts_with("Last-Event-ID:"));
    // A client key is needed.
    let (status, _, body) = answer(s.http.get(format!("{}/v1/events", s.gateway))).await;
    assert_eq!((status, code(&body)), (401, "unauthenticated"));
}

#[tokio::test]
async fn the_stream_sends_the_backlog_then_new_events_and_resumes_without_gaps() {
    let s = start_with(&config(10_000)).await;
    let mut backlog = Vec::new();
    for _ in 0..15 {
        backlog.extend(record(&s, "meteroid:default", &KINDS[..5].repeat(2), 0, true).await);
    }
    assert_eq!(backlog.len(), 150, "more than a page of 100");

    // `Last-Event-ID` wins over `after` (EventSource resends the URL it opened).
    let mut stream = Sse::open(&s, CLIENT_KEY, "after=0", Some(backlog[19].seq)).await;
    for expected in &backlog[20..] {
        let (id, kind, data) = stream.event().await;
        assert_eq!(
            (id, kind.as_str(), &data),
            (expected.seq, expected.kind.as_str(), &expected.body)
        );
    }
    // New events: this replica's at once, another replica's (found by
    // reading the store again) within the second; both well within 2 s.
    let woken = record(&s, "meteroid:badkey", &[COMPLETED], 0, true).await;
    let quiet = record(&s, "meteroid:default", &[EXPIRED], 0, false).await;
    for expected in [&woken[0], &quiet[0]] {
        let (id, _, _) = timeout(Duration::from_secs(2), stream.event())
            .await
            .expect("a new event within 2 s");
        assert_eq!(id, expected.seq);
    }
    // Idle: heartbeats.
    let comment = timeout(Duration::from_secs(3), stream.comment())
        .await
        .expect("a heartbeat within 3 s");
    assert_eq!(comment, ": heartbeat");
    assert_eq!(s.state().metrics.event_streams_open.get(), 1);

    // The reader goes away: its producer ends.
    let last_seen = quiet[0].seq;
    drop(stream);
    streams_closed(&s).await;
    let missed = record(
        &s,
        "meteroid:default",
        &[CREATED, COMPLETED, EXPIRED],
        0,
        true,
    )
    .await;
    let mut stream = Sse::open(&s, CLIENT_KEY, "", Some(last_seen)).await;
    for expected in &missed {
        assert_eq!(stream.event().await.0, expected.seq, "no gap, no repeat");
    }
    let next = record(&s, "meteroid:default", &[CREATED], 0, true).await;
    assert_eq!(stream.event().await.0, next[0].seq);

    // Without a cursor: only what happens from now on.
    let mut fresh = Sse::open(&s, CLIENT_KEY, "", None).await;
    let now = record(&s, "meteroid:badkey", &[CREATED], 0, true).await;
    assert_eq!(fresh.event().await.0, now[0].seq);
}

#[tokio::test]
async fn a_stream_outlives_the_idle_timeout_of_connections() {
    // A connection without a request in flight closes after 1 s idle; a
    // stream is a request in flight for as long as it lasts.
    let s = start_with(&format!(
        "{}[server]\nidle_timeout_secs = 1\n",
        config(10_000)
    ))
    .await;
    let mut stream = Sse::open(&s, CLIENT_KEY, "", None).await;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        assert_eq!(stream.comment().await, ": heartbeat");
    }
    let event = record(&s, "meteroid:default", &[CREATED], 0, true).await;
    assert_eq!(stream.event().await.0, event[0].seq);
    // The request is counted once, when the stream starts.
    let metrics = s.state().metrics.render();
    assert!(
        metrics.contains(
            r#"checkout_gateway_http_requests_total{method="GET",route="/v1/events/stream",status="200"} 1"#
        ),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_reader_that_stops_reading_is_dropped_and_its_stream_ends() {
    // Dropped once more than 20 events behind the newest, not reading.
    let s = start_with(&config(20)).await;
    let address = s.gateway.trim_start_matches("http://").to_owned();
    // A small receive window, so the reader's socket fills soon.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let mut reader = socket
        .connect(address.parse().expect("address"))
        .await
        .expect("connect");
    reader
        .write_all(
            format!(
                "GET /v1/events/stream HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer {CLIENT_KEY}\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .expect("send");
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        reader.read_exact(&mut byte).await.expect("response head");
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    assert_eq!(s.state().metrics.event_streams_open.get(), 1);

    // Events of 64 KiB until the socket, the stream's queue and then the
    // lag fill up: the reader reads nothing meanwhile.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut written = 0;
    while drops(&s, "lagging") == 0 {
        assert!(
            Instant::now() < deadline && written < 1000,
            "not dropped after {written} events"
        );
        record(&s, "meteroid:default", &[CREATED; 10], 64 * 1024, true).await;
        written += 10;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Its task is gone (and with it what it held), while the reader still
    // has not read.
    streams_closed(&s).await;
    assert_eq!(drops(&s, "lagging"), 1);

    // Reading again: what was on its way, then the last comment, then the
    // end of the body (the last chunk).
    let mut received = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let ending = b": dropped: slow consumer, resume with Last-Event-ID\n\n\r\n0\r\n\r\n";
    let read_all = async {
        while !received.ends_with(ending) {
            let n = reader.read(&mut buffer).await.expect("read");
            assert!(n > 0, "closed before the last comment");
            received.extend_from_slice(&buffer[..n]);
        }
    };
    timeout(Duration::from_secs(30), read_all)
        .await
        .expect("the stream ends with its last comment");
    assert_eq!(drops(&s, "lagging"), 1);
    assert_eq!(s.state().metrics.event_streams_open.get(), 0);
}

#[tokio::test]
async fn the_stream_ends_cleanly_on_shutdown() {
    // A server of its own, to shut down: its grace is long, so a server
    // that stops at once shows the stream ended by itself.
    let data_dir = tempfile::tempdir().expect("data dir");
    let toml = checkout_gateway_e2e::with_hashed_keys(&format!(
        "data_dir = {:?}\n[resilience]\nshutdown_grace_secs = 30\n[feed]\nenabled = false\n[providers.meteroid.accounts.default]\nbase_url = \"http://127.0.0.1:9/meteroid\"\napi_key = \"{}\"\n[clients.main]\nkey = \"{CLIENT_KEY}\"\naccounts = [\"meteroid:default\"]\n",
        data_dir.path().display().to_string(),
        sandbox::DEMO_METEROID_API_KEY,
    ));
    let (_, state) = checkout_gateway::cmd::serve::load(&figment::Figment::from(
        <figment::providers::Toml as figment::providers::Format>::string(&toml),
    ))
    .expect("config");
    checkout_gateway::cmd::serve::prepare(&state)
        .await
        .expect("the store opens");
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
    let mut response = reqwest::Client::new()
        .get(format!("http://{address}/v1/events/stream?after=0"))
        .bearer_auth(CLIENT_KEY)
        .send()
        .await
        .expect("stream");
    assert_eq!(response.status(), 200);

    stop.send(()).expect("server running");
    let mut body = Vec::new();
    let read_all = async {
        while let Some(chunk) = response.chunk().await.expect("a clean end, not a cut") {
            body.extend_from_slice(&chunk);
        }
    };
    timeout(Duration::from_secs(10), read_all)
        .await
        .expect("the stream ends on shutdown");
    assert!(
        String::from_utf8_lossy(&body)
            .ends_with(": server shutting down, resume with Last-Event-ID\n\n"),
        "{}",
        String::from_utf8_lossy(&body)
    );
    timeout(Duration::from_secs(10), server)
        .await
        .expect("the server stops well within its grace")
        .expect("server task")
        .expect("server");
}

/// Streams `s` dropped for `reason`. (The family's guard is let go at
/// once: held, it would block the gateway counting another reason.)
fn drops(s: &Stack, reason: &'static str) -> u64 {
    s.state()
        .metrics
        .event_streams_dropped
        .get_or_create(&StreamDropLabels { reason })
        .get()
}

/// Wait (up to 10 s) until no event stream of `s` is open.
async fn streams_closed(s: &Stack) {
    let state = s.state();
    let deadline = Instant::now() + Duration::from_secs(10);
    while state.metrics.event_streams_open.get() != 0 {
        assert!(Instant::now() < deadline, "an event stream is still open");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A server-sent event stream, read frame by frame.
struct Sse {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl Sse {
    async fn open(s: &Stack, key: &str, query: &str, last_event_id: Option<i64>) -> Sse {
        let mut request = s.get_as(key, &format!("/v1/events/stream?{query}"));
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        let response = request.send().await.expect("stream");
        assert_eq!(response.status(), 200);
        assert_eq!(
            checkout_gateway_e2e::header(response.headers(), "content-type"),
            "text/event-stream"
        );
        Sse {
            response,
            buffer: Vec::new(),
        }
    }

    /// The next frame's lines (up to 10 s).
    async fn frame(&mut self) -> Vec<String> {
        let read = async {
            loop {
                if let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                    let frame: Vec<u8> = self.buffer.drain(..end + 2).collect();
                    let text = String::from_utf8(frame).expect("UTF-8");
                    return text.trim_end().lines().map(str::to_owned).collect();
                }
                let chunk = self
                    .response
                    .chunk()
                    .await
                    .expect("stream read")
                    .expect("the stream goes on");
                self.buffer.extend_from_slice(&chunk);
            }
        };
        timeout(Duration::from_secs(10), read)
            .await
            .expect("a frame within 10 s")
    }

    /// The next event (comments passed over): id, type, data.
    async fn event(&mut self) -> (i64, String, String) {
        loop {
            let lines = self.frame().await;
            if lines.iter().all(|l| l.starts_with(':')) {
                continue;
            }
            let field = |name: &str| {
                lines
                    .iter()
                    .find_map(|l| l.strip_prefix(name))
                    .unwrap_or_else(|| panic!("no {name} in {lines:?}"))
                    .to_owned()
            };
            let id = field("id: ").parse().expect("a numeric id");
            return (id, field("event: "), field("data: "));
        }
    }

    /// The next frame, which must be a comment.
    async fn comment(&mut self) -> String {
        let lines = self.frame().await;
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].starts_with(':'), "{lines:?}");
        lines[0].clone()
    }
}

/// A reload that takes a key's access away ends its open streams with a
/// comment saying so; one that keeps it keeps them.
#[tokio::test]
async fn a_reload_that_takes_the_key_away_ends_its_streams() {
    let file = std::env::temp_dir().join(format!("cg-events-reload-{}.toml", std::process::id()));
    let admin = format!(
        "[clients.admin]\nkey = \"{ADMIN_KEY}\"\naccounts = [\"*\"]\nscopes = [\"admin\"]\n"
    );
    let with_main = format!("{}\n{admin}", config(10_000));
    let s = start_from_file(&with_main, file.clone()).await;
    let mut kept = Sse::open(&s, OTHER_CLIENT_KEY, "", None).await;
    let mut ended = Sse::open(&s, CLIENT_KEY, "", None).await;
    let first = record(&s, "meteroid:default", &[CREATED], 0, true).await;
    assert_eq!(ended.event().await.0, first[0].seq);

    // The main key is gone from the new configuration.
    let without_main = std::fs::read_to_string(&file)
        .expect("the stack's config file")
        .replace("[clients.main]", "[clients.former]")
        .replace(
            &key_sha256(CLIENT_KEY),
            &key_sha256("former-client-key-00000000000000001"),
        );
    std::fs::write(&file, without_main).expect("config written");
    let reload = s
        .http
        .post(format!("{}/admin/reload", s.gateway))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .expect("reload");
    assert_eq!(reload.status(), 200);
    record(&s, "meteroid:default", &[COMPLETED], 0, true).await;
    let comment = timeout(Duration::from_secs(3), ended.comment())
        .await
        .expect("the stream ends within the recheck");
    assert_eq!(comment, ": access changed by a reload, reconnect");
    assert_eq!(drops(&s, "access_changed"), 1);
    // The other key's stream goes on.
    let other = record(&s, "meteroid:other", &[CREATED], 0, true).await;
    assert_eq!(kept.event().await.0, other[0].seq);
    let _ = std::fs::remove_file(file);
}
