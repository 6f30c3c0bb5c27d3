//! `GET /v1/events/stream`: the change feed as server-sent events
//! (PRODUCT §11), resuming after `Last-Event-ID` (or `?after=`).
//!
//! One producer task per stream reads the store after its position (in
//! pages, so a long backlog costs no memory) and hands whole frames to the
//! body through a small channel: what a stream holds is bounded whatever
//! its reader does. New events are found on this replica's head (`Feed::
//! subscribe`) or by reading the store again every second (other replicas
//! write too). A reader that stops reading is dropped with a last comment
//! naming the way back (`Last-Event-ID`), and so is one that falls too far
//! behind; on shutdown every stream ends with a comment too. A reload that
//! takes the key's access away ends its streams (a comment says why); one
//! that narrows it narrows them.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode};
use store::{EventFilter, StoreError, StoredEvent};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{sleep, sleep_until, Instant};
use tracing::Instrument;

use crate::auth::Scope;
use crate::feed::Feed;
use crate::http::errors::ApiError;
use crate::idempotency::unavailable;
use crate::routes::events::{cursor, parse, visible_accounts};
use crate::server::connections::ConnectionHandle;
use crate::server::connections::RequestInFlight;
use crate::state::live::{Current, Gateway};
use crate::state::AppState;
use crate::telemetry::metrics::Metrics;

/// Events read from the store at a time.
const PAGE: i64 = 100;
/// Frames waiting between the producer and the body: a stream's memory.
const CHANNEL_FRAMES: usize = 16;
/// How often the store is read again for other replicas' events, and how
/// often a blocked producer checks how far behind its reader is.
const RECHECK: Duration = Duration::from_secs(1);
/// A reader that reads nothing this long, with something to send, is dropped.
pub const STALL: Duration = Duration::from_secs(30);

const HEARTBEAT: &[u8] = b": heartbeat\n\n";
const DROPPED: &[u8] = b": dropped: slow consumer, resume with Last-Event-ID\n\n";
const SHUTTING_DOWN: &[u8] = b": server shutting down, resume with Last-Event-ID\n\n";
const STORE_FAILED: &[u8] = b": store unavailable, resume with Last-Event-ID\n\n";
const ACCESS_CHANGED: &[u8] = b": access changed by a reload, reconnect\n\n";

#[utoipa::path(
    get,
    path = "/v1/events/stream",
    tag = "events",
    params(
        ("types" = Option<String>, Query, description = "Comma-separated event types; default: all", example = "checkout_session.completed"),
        ("accounts" = Option<String>, Query, description = "Comma-separated `provider:account` list; default: every account this key may read", example = "meteroid:default"),
        ("after" = Option<String>, Query, description = "Start after this cursor (a page's `next_cursor` or an event's `id`); default: only events from now on. `Last-Event-ID` wins over it", example = "1042"),
        ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event (`id` of the last one received), as EventSource sends on reconnecting", example = "1042"),
    ),
    responses(
        (status = 200, description = "Server-sent events that do not end: each event as `id: <cursor>`, `event: <type>`, `data: <event JSON>`; a `: heartbeat` comment when idle; a last comment when the gateway ends the stream (reader too slow, shutdown), after which resume with `Last-Event-ID`", content_type = "text/event-stream", body = String),
        (status = 400, description = "`invalid_request`: the message names the parameter or header", body = checkout_core::error::ErrorBody),
        (status = 404, description = "`not_found`: an account in `accounts` does not exist or is not visible to this key", body = checkout_core::error::ErrorBody),
        (status = 500, description = "`internal_error` (retryable): the store is unavailable", body = checkout_core::error::ErrorBody),
    ),
    security(("client_key" = []))
)]
pub async fn stream_events(
    State(gateway): State<Arc<Gateway>>,
    Current(state): Current,
    request: Request,
) -> Result<Response, ApiError> {
    let client = state.authorize(request.headers(), Scope::SessionsRead)?;
    let query = parse(request.uri().query(), false)?;
    // EventSource resends the URL it was opened with: the header is newer.
    // An empty one is no id (EventSource sends none then; a proxy might).
    let header = request
        .headers()
        .get("last-event-id")
        .map(|v| v.to_str().unwrap_or("?").trim())
        .filter(|v| !v.is_empty());
    let resume = match header {
        Some(value) => Some(cursor("Last-Event-ID", value)?),
        None => query.after,
    };
    let accounts = visible_accounts(&state, &client, query.accounts.as_deref())?;
    let store = state.feed.store().await?;
    let position = match resume {
        Some(after) => after,
        None => store.last_event_seq().await.map_err(unavailable)?,
    };
    let connection = request.extensions().get::<ConnectionHandle>();
    let (frames, frames_rx) = mpsc::channel(CHANNEL_FRAMES);
    let (farewell, farewell_rx) = oneshot::channel();
    let settings = state.feed.config();
    // Only the key is kept, to ask the configuration after a reload.
    let mut key = HeaderMap::new();
    if let Some(value) = request.headers().get(http::header::AUTHORIZATION) {
        key.insert(http::header::AUTHORIZATION, value.clone());
    }
    let producer = Producer {
        access: Access {
            gateway,
            checked: state.clone(),
            key,
            wanted: query.accounts.clone(),
        },
        feed: state.feed.clone(),
        metrics: state.metrics.clone(),
        kinds: query.types,
        accounts,
        position,
        heartbeat: Duration::from_secs(settings.stream_heartbeat_secs),
        max_lag: i64::try_from(settings.stream_max_lag).unwrap_or(i64::MAX),
        head: state.feed.subscribe(),
        closing: connection.map(ConnectionHandle::closing),
        frames,
    };
    let hold = connection.map(ConnectionHandle::hold);
    // Its log lines carry the request's span (request id, client).
    tokio::spawn(
        producer
            .run(farewell, hold)
            .instrument(tracing::Span::current()),
    );
    let mut response = Response::new(body(frames_rx, farewell_rx));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// The response body: the producer's frames, until it ends; its last
/// comment, when it sends one, goes ahead of what is still queued (the
/// reader resumes from the last event it got, so nothing is lost).
fn body(mut frames: mpsc::Receiver<Bytes>, farewell: oneshot::Receiver<Bytes>) -> Body {
    let mut farewell = Some(farewell);
    let mut ended = false;
    Body::from_stream(futures::stream::poll_fn(move |cx| {
        if ended {
            return Poll::Ready(None);
        }
        if let Some(last) = farewell.as_mut() {
            match Pin::new(last).poll(cx) {
                Poll::Ready(Ok(comment)) => {
                    ended = true;
                    frames.close();
                    return Poll::Ready(Some(Ok::<_, Infallible>(comment)));
                }
                // Ended without a word (the reader left): the queue's end says it.
                Poll::Ready(Err(_)) => farewell = None,
                Poll::Pending => {}
            }
        }
        frames.poll_recv(cx).map(|frame| frame.map(Ok))
    }))
}

/// `id:`, `event:` and `data:` of one event; a body is one line, but any
/// line break in it would start a `data:` line of its own.
fn event_frame(event: &StoredEvent) -> Bytes {
    let mut frame = format!("id: {}\nevent: {}\n", event.seq, event.kind);
    for line in event.body.lines() {
        frame.push_str("data: ");
        frame.push_str(line);
        frame.push('\n');
    }
    frame.push('\n');
    Bytes::from(frame)
}

/// Why a stream ended.
enum Ended {
    /// The reader left (or the body was dropped): nothing to say.
    Gone,
    /// Further than `stream_max_lag` behind the head, and not reading.
    Lagging,
    /// Not read for [`STALL`].
    Stalled,
    ShuttingDown,
    /// Logged where it failed.
    StoreFailed,
    /// A reload took the key, its scope or a named account away.
    AccessChanged,
}

/// Who the stream is for, checked again whenever the configuration changes.
struct Access {
    gateway: Arc<Gateway>,
    /// The configuration the accounts were last worked out against.
    checked: Arc<AppState>,
    /// The request's `Authorization` header, nothing else.
    key: HeaderMap,
    wanted: Option<Vec<(String, String)>>,
}

impl Access {
    /// The accounts the stream may now show, when the configuration has
    /// changed since the last check; `Err` when the key may no longer
    /// stream what it asked for.
    fn recheck(&mut self) -> Result<Option<Vec<String>>, Ended> {
        let current = self.gateway.current();
        if Arc::ptr_eq(&current, &self.checked) {
            return Ok(None);
        }
        let client = current
            .authorize_unmetered(&self.key, Scope::SessionsRead)
            .map_err(|_| Ended::AccessChanged)?;
        let accounts = visible_accounts(&current, &client, self.wanted.as_deref())
            .map_err(|_| Ended::AccessChanged)?;
        self.checked = current;
        Ok(Some(accounts))
    }
}

/// Counts an open stream for as long as its producer runs.
struct OpenStream(Arc<Metrics>);

impl OpenStream {
    fn new(metrics: Arc<Metrics>) -> OpenStream {
        metrics.event_streams_open.inc();
        OpenStream(metrics)
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0.event_streams_open.dec();
    }
}

struct Producer {
    access: Access,
    feed: Arc<Feed>,
    metrics: Arc<Metrics>,
    kinds: Option<Vec<String>>,
    accounts: Vec<String>,
    /// Every event up to this seq has been sent or passed over.
    position: i64,
    heartbeat: Duration,
    max_lag: i64,
    head: watch::Receiver<i64>,
    /// `None` outside the server (a router driven directly).
    closing: Option<watch::Receiver<bool>>,
    frames: mpsc::Sender<Bytes>,
}

impl Producer {
    /// Stream until the reader leaves or the gateway ends it; `hold` keeps
    /// the connection busy meanwhile (once dropped, a reader that never
    /// reads again is closed by the connection's idle timeout).
    async fn run(mut self, farewell: oneshot::Sender<Bytes>, hold: Option<RequestInFlight>) {
        let _open = OpenStream::new(self.metrics.clone());
        let _hold = hold;
        let ended = self.serve().await;
        let slow = |reason: &'static str| {
            tracing::info!(
                reason,
                position = self.position,
                "event stream dropped: slow consumer"
            );
            self.metrics.event_stream_dropped(reason);
            DROPPED
        };
        let last: &'static [u8] = match ended {
            Ended::Gone => return,
            Ended::Lagging => slow("lagging"),
            Ended::Stalled => slow("stalled"),
            Ended::ShuttingDown => SHUTTING_DOWN,
            Ended::StoreFailed => {
                self.metrics.event_stream_dropped("store_error");
                STORE_FAILED
            }
            Ended::AccessChanged => {
                tracing::info!("event stream ended: a reload changed its key's access");
                self.metrics.event_stream_dropped("access_changed");
                ACCESS_CHANGED
            }
        };
        let _ = farewell.send(Bytes::from_static(last));
    }

    async fn serve(&mut self) -> Ended {
        let mut heartbeat_at = Instant::now() + self.heartbeat;
        let mut head_open = true;
        loop {
            match self.catch_up().await {
                Ok(true) => heartbeat_at = Instant::now() + self.heartbeat,
                Ok(false) => {}
                Err(ended) => return ended,
            }
            let closing = self.closing.clone();
            tokio::select! {
                () = self.frames.closed() => return Ended::Gone,
                () = shut_down(closing) => return Ended::ShuttingDown,
                changed = self.head.changed(), if head_open => head_open = changed.is_ok(),
                () = sleep(RECHECK) => {}
                () = sleep_until(heartbeat_at) => {
                    if let Err(ended) = self.send(Bytes::from_static(HEARTBEAT), None).await {
                        return ended;
                    }
                    heartbeat_at = Instant::now() + self.heartbeat;
                }
            }
        }
    }

    /// Send every event after the position, a page at a time; true when
    /// any was sent.
    async fn catch_up(&mut self) -> Result<bool, Ended> {
        if let Some(accounts) = self.access.recheck()? {
            self.accounts = accounts;
        }
        let mut sent = false;
        loop {
            // A store that will not open is logged by `Feed::store`.
            let store = self.feed.store().await.map_err(|_| Ended::StoreFailed)?;
            // Read before the page: every event up to it is committed (seq
            // order is commit order), so the page passing over the ones
            // this stream does not want moves the position past them.
            let head = store.last_event_seq().await.map_err(store_failed)?;
            if head <= self.position {
                return Ok(sent);
            }
            let page = store
                .events(&EventFilter {
                    after: self.position,
                    kinds: self.kinds.as_deref(),
                    accounts: Some(&self.accounts),
                    session_id: None,
                    limit: PAGE,
                })
                .await
                .map_err(store_failed)?;
            let full = page.len() as i64 == PAGE;
            for event in &page {
                self.send(event_frame(event), Some(event.seq)).await?;
                self.position = event.seq;
                sent = true;
            }
            if !full {
                self.position = self.position.max(head);
                return Ok(sent);
            }
        }
    }

    /// Hand one frame to the body, waiting while the reader is busy, up
    /// to [`STALL`], or until it is more than `max_lag` events behind
    /// the head with an event (`seq`) still to take.
    async fn send(&mut self, frame: Bytes, seq: Option<i64>) -> Result<(), Ended> {
        let stalled_at = Instant::now() + STALL;
        loop {
            let closing = self.closing.clone();
            tokio::select! {
                permit = self.frames.reserve() => {
                    let Ok(permit) = permit else { return Err(Ended::Gone) };
                    permit.send(frame);
                    return Ok(());
                }
                () = shut_down(closing) => return Err(Ended::ShuttingDown),
                () = sleep_until(stalled_at) => return Err(Ended::Stalled),
                () = sleep(RECHECK) => {
                    if let Some(seq) = seq {
                        if self.newest().await.saturating_sub(seq) > self.max_lag {
                            return Err(Ended::Lagging);
                        }
                    }
                }
            }
        }
    }

    /// The newest event anywhere: this replica's head, or the store's
    /// (other replicas'); a store error leaves this replica's.
    async fn newest(&self) -> i64 {
        let mine = *self.head.borrow();
        let stored = match self.feed.store().await {
            Ok(store) => store.last_event_seq().await.unwrap_or(mine),
            Err(_) => mine,
        };
        mine.max(stored)
    }
}

/// Resolves once the server shuts down (never outside a server).
async fn shut_down(closing: Option<watch::Receiver<bool>>) {
    match closing {
        Some(mut closing) => {
            if closing.wait_for(|closing| *closing).await.is_err() {
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending().await,
    }
}

fn store_failed(e: StoreError) -> Ended {
    tracing::error!(error = %e, "an event stream's store read failed; the stream ends");
    Ended::StoreFailed
}

#[cfg(test)]
mod tests {
    use figment::providers::{Format, Toml};

    use super::*;
    use crate::config::GatewayConfig;
    use crate::idempotency::Idempotency;

    fn producer(capacity: usize) -> (Producer, mpsc::Receiver<Bytes>) {
        let config =
            GatewayConfig::from_figment(&figment::Figment::from(Toml::string(""))).unwrap();
        let feed = Arc::new(Feed::new(
            &config.feed,
            Arc::new(Idempotency::new(&config).unwrap()),
        ));
        let gateway = Gateway::new(AppState::build(&config).unwrap(), None);
        let (frames, rx) = mpsc::channel(capacity);
        let producer = Producer {
            access: Access {
                checked: gateway.current(),
                gateway,
                key: HeaderMap::new(),
                wanted: None,
            },
            head: feed.subscribe(),
            feed,
            metrics: Arc::new(Metrics::new()),
            kinds: None,
            accounts: Vec::new(),
            position: 0,
            heartbeat: Duration::from_secs(15),
            max_lag: 10,
            closing: None,
            frames,
        };
        (producer, rx)
    }

    /// Paused time: the stall is measured in tokio time, so this takes no
    /// wall-clock time and cannot flake.
    #[tokio::test(start_paused = true)]
    async fn a_reader_that_takes_nothing_is_dropped_after_the_stall_time() {
        let (mut producer, rx) = producer(1);
        producer
            .send(Bytes::from_static(HEARTBEAT), None)
            .await
            .ok()
            .unwrap();
        let started = Instant::now();
        let ended = producer.send(Bytes::from_static(HEARTBEAT), None).await;
        assert!(matches!(ended, Err(Ended::Stalled)));
        assert_eq!(started.elapsed(), STALL);
        drop(rx);
    }

    #[tokio::test(start_paused = true)]
    async fn a_reader_that_left_ends_the_producer() {
        let (mut producer, rx) = producer(1);
        drop(rx);
        let ended = producer.send(Bytes::from_static(HEARTBEAT), None).await;
        assert!(matches!(ended, Err(Ended::Gone)));
    }

    #[tokio::test]
    async fn the_last_comment_goes_ahead_of_what_is_queued_and_ends_the_body() {
        let (frames, rx) = mpsc::channel(4);
        let (farewell, farewell_rx) = oneshot::channel();
        frames.send(Bytes::from_static(b"id: 1\n\n")).await.unwrap();
        frames.send(Bytes::from_static(b"id: 2\n\n")).await.unwrap();
        farewell.send(Bytes::from_static(DROPPED)).unwrap();
        let text = axum::body::to_bytes(body(rx, farewell_rx), usize::MAX)
            .await
            .unwrap();
        assert_eq!(&text[..], DROPPED);
        assert!(frames.is_closed(), "the queue is let go");

        // Ended without a word: what was queued, then the end.
        let (frames, rx) = mpsc::channel(4);
        let (farewell, farewell_rx) = oneshot::channel::<Bytes>();
        frames.send(Bytes::from_static(b"id: 1\n\n")).await.unwrap();
        drop((frames, farewell));
        let text = axum::body::to_bytes(body(rx, farewell_rx), usize::MAX)
            .await
            .unwrap();
        assert_eq!(&text[..], b"id: 1\n\n");
    }

    #[test]
    fn an_event_is_id_type_and_data() {
        let event = StoredEvent {
            seq: 42,
            id: "evt_1".into(),
            kind: "checkout_session.completed".into(),
            account: "meteroid:default".into(),
            session_id: "s".into(),
            created_ms: 0,
            body: "{\"a\":1}".into(),
        };
        assert_eq!(
            &event_frame(&event)[..],
            b"id: 42\nevent: checkout_session.completed\ndata: {\"a\":1}\n\n"
        );
        let broken = StoredEvent {
            body: "{\n}".into(),
            ..event
        };
        assert_eq!(
            &event_frame(&broken)[..],
            b"id: 42\nevent: checkout_session.completed\ndata: {\ndata: }\n\n"
        );
    }
}
