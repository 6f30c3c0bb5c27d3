//! Open connections and their limits. A client that opens sockets and sends
//! nothing, or sends a request head a line at a time, must not hold the
//! gateway's descriptors: each connection has a time to send its head and
//! a time it may sit idle between requests, their number is capped (past
//! the cap the oldest idle one is closed, or, none idle, the newcomer is
//! refused with 503), and on shutdown a connection without a request in
//! flight closes at once.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use checkout_core::{Error, ErrorCode};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{watch, Notify};

pub use crate::config::ConnectionLimits;
use crate::http::request_id::new_request_id;

/// One connection's activity, shared by its watchdog, its IO and its
/// requests. Times are milliseconds since the tracker's epoch.
pub struct ConnState {
    /// Requests being answered on this connection.
    busy: AtomicU32,
    /// When the connection last became idle (opened, or answered a request).
    idle_since: AtomicU64,
    /// One more than when the first byte of the next request head arrived;
    /// 0 while none has.
    head_since: AtomicU64,
    epoch: Instant,
    /// Set to close the connection (it was the oldest idle one at the cap).
    evict: Notify,
}

impl ConnState {
    fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn is_idle(&self) -> bool {
        self.busy.load(Ordering::Acquire) == 0
    }

    /// A request reached the service: head read, no timer runs until it is answered.
    pub fn request_started(self: &Arc<Self>) -> RequestInFlight {
        self.busy.fetch_add(1, Ordering::AcqRel);
        self.head_since.store(0, Ordering::Release);
        RequestInFlight(self.clone())
    }

    /// Bytes arrived: while idle, they start the time to send a head.
    fn bytes_arrived(&self) {
        if self.is_idle() && self.head_since.load(Ordering::Acquire) == 0 {
            self.head_since.store(self.now() + 1, Ordering::Release);
        }
    }

    /// When the connection is due to close if nothing changes, or `None`
    /// while a request is in flight.
    fn due(&self, limits: &ConnectionLimits) -> Option<u64> {
        if !self.is_idle() {
            return None;
        }
        match self.head_since.load(Ordering::Acquire) {
            0 => Some(self.idle_since.load(Ordering::Acquire) + millis(limits.idle_timeout)),
            started => Some(started - 1 + millis(limits.header_read_timeout)),
        }
    }
}

fn millis(d: Duration) -> u64 {
    d.as_millis().try_into().unwrap_or(u64::MAX)
}

/// Held while a request is answered; dropping it makes the connection idle.
pub struct RequestInFlight(Arc<ConnState>);

impl Drop for RequestInFlight {
    fn drop(&mut self) {
        self.0.idle_since.store(self.0.now(), Ordering::Release);
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Every open connection of one listener.
pub struct Tracker {
    limits: ConnectionLimits,
    epoch: Instant,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<ConnState>>>,
    shutdown: watch::Sender<bool>,
}

/// A connection admitted by the tracker; leaving it removes the connection.
pub struct Admitted {
    pub id: u64,
    pub state: Arc<ConnState>,
}

impl Tracker {
    pub fn new(limits: ConnectionLimits) -> Arc<Tracker> {
        Arc::new(Tracker {
            limits,
            epoch: Instant::now(),
            next_id: AtomicU64::new(0),
            open: Mutex::default(),
            shutdown: watch::Sender::new(false),
        })
    }

    pub fn limits(&self) -> &ConnectionLimits {
        &self.limits
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<ConnState>>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.lock().len()
    }

    /// Room for a new connection: at the cap, the oldest idle connection
    /// is closed to make it; `None` when every connection is busy.
    pub fn admit(&self) -> Option<Admitted> {
        let mut open = self.lock();
        if open.len() >= self.limits.max_connections {
            let oldest_idle = open
                .iter()
                .filter(|(_, c)| c.is_idle())
                .min_by_key(|(_, c)| c.idle_since.load(Ordering::Acquire))
                .map(|(id, _)| *id)?;
            if let Some(evicted) = open.remove(&oldest_idle) {
                evicted.evict.notify_one();
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let state = Arc::new(ConnState {
            busy: AtomicU32::new(0),
            idle_since: AtomicU64::new(self.epoch.elapsed().as_millis() as u64),
            head_since: AtomicU64::new(0),
            epoch: self.epoch,
            evict: Notify::new(),
        });
        open.insert(id, state.clone());
        Some(Admitted { id, state })
    }

    fn leave(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// Turns true when the listener shuts down: long answers (the event
    /// stream) end themselves then, as the connection cannot end them.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Close every connection: idle ones now, busy ones once answered.
    pub fn shut_down(&self) {
        self.shutdown.send_replace(true);
    }

    /// Resolves once no connection is open.
    pub async fn drained(&self) {
        while self.open() > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Drive one connection until it ends, is evicted, idles or dawdles
    /// past its limits, or the listener shuts down.
    pub async fn drive<C>(self: Arc<Self>, admitted: Admitted, connection: C)
    where
        C: Future + GracefulConnection,
    {
        let Admitted { id, state } = admitted;
        let mut shutdown = self.shutdown.subscribe();
        let mut connection = std::pin::pin!(connection);
        let mut closing = *shutdown.borrow_and_update();
        if closing {
            connection.as_mut().close_gracefully();
        }
        loop {
            let wake = if closing {
                // Shutting down: a busy connection finishes its request
                // (hyper closes it after the answer); an idle one gets a
                // moment to flush what it has written, then goes.
                Some(state.now() + DRAIN_MS)
            } else {
                state.due(&self.limits)
            };
            let sleep = match wake {
                Some(at) => Duration::from_millis(at.saturating_sub(state.now())),
                None => self.limits.idle_timeout,
            };
            tokio::select! {
                _ = connection.as_mut() => break,
                () = state.evict.notified() => break,
                _ = shutdown.changed(), if !closing => {
                    closing = true;
                    connection.as_mut().close_gracefully();
                }
                () = tokio::time::sleep(sleep) => {
                    let now = state.now();
                    let idle_for = now.saturating_sub(state.idle_since.load(Ordering::Acquire));
                    if closing {
                        if state.is_idle() && idle_for >= DRAIN_MS {
                            break;
                        }
                    } else if state.due(&self.limits).is_some_and(|due| now >= due) {
                        break;
                    }
                }
            }
        }
        self.leave(id);
    }
}

/// How long an idle connection may take to flush on shutdown.
const DRAIN_MS: u64 = 100;

/// hyper's connection, closed gracefully (the trait keeps this module
/// free of the service type).
pub trait GracefulConnection {
    fn close_gracefully(self: Pin<&mut Self>);
}

impl<I, S> GracefulConnection for hyper::server::conn::http1::Connection<I, S>
where
    S: hyper::service::HttpService<hyper::body::Incoming>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin,
    S::ResBody: hyper::body::Body + 'static,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn close_gracefully(self: Pin<&mut Self>) {
        self.graceful_shutdown();
    }
}

/// The socket of one connection: reports arriving bytes to the watchdog,
/// and writes the JSON error shape (with a request id) where hyper refuses
/// a request it could not parse with a bodiless 400, 414 or 431.
pub struct TrackedIo<T> {
    inner: T,
    state: Arc<ConnState>,
    limits: ConnectionLimits,
    /// Our answer in place of hyper's, and how much of it is written.
    rewritten: Option<(Bytes, usize)>,
}

impl<T> TrackedIo<T> {
    pub fn new(inner: T, state: Arc<ConnState>, limits: ConnectionLimits) -> TrackedIo<T> {
        TrackedIo {
            inner,
            state,
            limits,
            rewritten: None,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for TrackedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.state.bytes_arrived();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> TrackedIo<T> {
    /// Write out the rewritten answer, if one is pending.
    fn poll_rewritten(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, written)) = &mut self.rewritten {
            if *written == bytes.len() {
                self.rewritten = None;
                break;
            }
            let n =
                std::task::ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(()))
    }

    /// If `head` is hyper's own bodiless refusal, our answer instead.
    fn rewrite(&self, head: &[u8]) -> Option<Bytes> {
        let status = hyper_refusal(head)?;
        Some(refusal(status, &self.limits))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TrackedIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(self.poll_rewritten(cx))?;
        if let Some(answer) = self.rewrite(buf) {
            self.rewritten = Some((answer, 0));
            // hyper's bytes count as written: ours go in their place.
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(self.poll_rewritten(cx))?;
        let first = bufs.iter().find(|b| !b.is_empty());
        if let Some(answer) = first.and_then(|b| self.rewrite(b)) {
            self.rewritten = Some((answer, 0));
            return Poll::Ready(Ok(bufs.iter().map(|b| b.len()).sum()));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.poll_rewritten(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.poll_rewritten(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The status of hyper's automatic answer to a request it could not parse:
/// 400, 414 or 431 with `content-length: 0`. The gateway's own answers
/// with these statuses always carry a JSON body, so they never match.
fn hyper_refusal(head: &[u8]) -> Option<u16> {
    let status = match head.get(..13)? {
        b"HTTP/1.1 400 " | b"HTTP/1.0 400 " => 400,
        b"HTTP/1.1 414 " | b"HTTP/1.0 414 " => 414,
        b"HTTP/1.1 431 " | b"HTTP/1.0 431 " => 431,
        _ => return None,
    };
    let end = head.windows(4).position(|w| w == b"\r\n\r\n")?;
    // Nothing after the head, and a zero length: hyper's, not ours.
    let bodiless = end + 4 == head.len()
        && head[..end]
            .split(|b| *b == b'\n')
            .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
            .any(|line| line.eq_ignore_ascii_case(b"content-length: 0"));
    bodiless.then_some(status)
}

/// A whole HTTP/1.1 answer in the canonical error shape, for requests
/// refused before any handler (and before they had a request id).
pub fn refusal(status: u16, limits: &ConnectionLimits) -> Bytes {
    let error = match status {
        414 => Error::new(
            ErrorCode::UriTooLong,
            format!(
                "the request target is longer than {} bytes",
                limits.max_uri_bytes
            ),
        ),
        431 => Error::new(
            ErrorCode::HeadersTooLarge,
            format!(
                "request headers are larger than {} bytes in all, or more than 100",
                limits.max_head_bytes
            ),
        ),
        503 => Error::new(
            ErrorCode::Overloaded,
            "the gateway has no room for another connection; try again shortly",
        )
        .with_retry_after(Some(Duration::from_secs(1))),
        _ => Error::new(ErrorCode::InvalidRequest, "malformed HTTP request"),
    };
    let request_id = new_request_id();
    let request_id = request_id.to_str().unwrap_or_default();
    tracing::info!(
        status,
        request_id,
        "refused a request hyper could not parse or had no room for"
    );
    let body = serde_json::to_vec(&error.body(Some(request_id))).unwrap_or_default();
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    let retry_after = error
        .retry_after
        .map(|d| format!("retry-after: {}\r\n", d.as_secs()))
        .unwrap_or_default();
    let mut answer = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nx-request-id: {request_id}\r\n{retry_after}connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    Bytes::from(answer)
}

/// Raise this process's open-file limit to what the system allows, so
/// that the connection cap, not the descriptor limit, decides. Returns the
/// limit in force.
pub fn raise_descriptor_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(e) => {
            tracing::warn!(error = %e, "could not raise the open-file limit");
            None
        }
    }
}

/// The connection cap that fits the descriptor limit: some descriptors are
/// kept for vendor connections, the listener and logs.
pub fn cap_for(configured: usize, descriptors: Option<u64>) -> usize {
    const KEPT_FOR_OTHERS: u64 = 256;
    match descriptors {
        Some(limit) => {
            let room = usize::try_from(limit.saturating_sub(KEPT_FOR_OTHERS).max(16))
                .unwrap_or(usize::MAX);
            configured.min(room)
        }
        None => configured,
    }
}

/// A routed request's connection (a request extension), for an answer
/// whose body outlives its handler (the event stream): while it holds the
/// connection, the connection counts as busy (no idle timeout, never
/// evicted, shutdown waits for it), and it ends itself on `closing`.
#[derive(Clone)]
pub struct ConnectionHandle {
    state: Arc<ConnState>,
    closing: watch::Receiver<bool>,
}

impl ConnectionHandle {
    pub(crate) fn new(state: Arc<ConnState>, closing: watch::Receiver<bool>) -> ConnectionHandle {
        ConnectionHandle { state, closing }
    }

    /// The connection is busy until this is dropped.
    pub fn hold(&self) -> RequestInFlight {
        self.state.request_started()
    }

    /// Turns true when the server shuts down.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ConnectionLimits {
        ConnectionLimits {
            max_connections: 2,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_uri_bytes: 8192,
            max_header_bytes: 8192,
            max_head_bytes: 32768,
        }
    }

    #[test]
    fn only_hypers_bodiless_refusals_are_rewritten() {
        let hyper = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\ndate: Sun, 29 Nov 2026 15:00:00 GMT\r\n\r\n";
        assert_eq!(hyper_refusal(hyper), Some(400));
        let hyper = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(hyper_refusal(hyper), Some(431));
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 98\r\n\r\n";
        assert_eq!(hyper_refusal(ours), None);
        let with_body = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n{}";
        assert_eq!(hyper_refusal(with_body), None);
        assert_eq!(
            hyper_refusal(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"),
            None
        );
    }

    #[test]
    fn refusals_are_json_errors_with_a_request_id() {
        let answer = refusal(431, &limits());
        let text = std::str::from_utf8(&answer).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 "));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["error"]["code"], "headers_too_large");
        let id = json["error"]["request_id"].as_str().unwrap();
        assert!(head.contains(&format!("x-request-id: {id}")));
        assert!(refusal(503, &limits()).starts_with(b"HTTP/1.1 503 "));
    }

    #[test]
    fn at_the_cap_the_oldest_idle_connection_makes_room() {
        let tracker = Tracker::new(limits());
        let first = tracker.admit().unwrap();
        std::thread::sleep(Duration::from_millis(5));
        let second = tracker.admit().unwrap();
        let _busy = second.state.request_started();
        let third = tracker.admit().expect("room made");
        assert_eq!(tracker.open(), 2);
        assert!(!tracker.lock().contains_key(&first.id), "the idle one went");
        let _also_busy = third.state.request_started();
        assert!(tracker.admit().is_none(), "every connection busy: refused");
    }

    #[test]
    fn the_head_timer_starts_with_the_first_byte_and_stops_with_the_request() {
        let tracker = Tracker::new(limits());
        let conn = tracker.admit().unwrap().state;
        let idle_due = conn.due(&limits()).unwrap();
        assert_eq!(idle_due, conn.idle_since.load(Ordering::Acquire) + 60_000);
        conn.bytes_arrived();
        let head_due = conn.due(&limits()).unwrap();
        assert!(head_due <= conn.now() + 10_000);
        let request = conn.request_started();
        assert_eq!(conn.due(&limits()), None, "no timer while answering");
        drop(request);
        assert_eq!(conn.head_since.load(Ordering::Acquire), 0);
        assert!(conn.due(&limits()).unwrap() >= conn.now() + 59_000);
    }

    #[test]
    fn the_cap_leaves_room_for_other_descriptors() {
        assert_eq!(cap_for(10_000, Some(1024)), 768);
        assert_eq!(cap_for(10_000, Some(1_048_576)), 10_000);
        assert_eq!(cap_for(10_000, None), 10_000);
    }
}
