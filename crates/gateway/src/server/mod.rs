//! The HTTP server: the connection loop, the cache-hit fast path, and the
//! router (`routes`) for everything else.

pub mod connections;

use std::borrow::Cow;
use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::Router;
use futures::FutureExt;
use http::request::Parts;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::http::errors::{ApiError, REQUEST_ID};
use crate::http::request_id::request_id_of;
use crate::routes::sessions::SESSION_ROUTE;
use crate::routes::{router, sessions, stripe};
use crate::state::live::Gateway;
use crate::telemetry::Tracked;
use connections::{ConnState, ConnectionHandle, ConnectionLimits, TrackedIo, Tracker};

/// Parsed once: inserting by `&str` parses the name on every response.
static REQUEST_ID_NAME: http::HeaderName = http::HeaderName::from_static(REQUEST_ID);

/// What the listener serves: cache hits answered before routing (most of
/// the traffic, and the path bench/run.sh holds to the bare-hyper floor),
/// everything else through the router and its middleware.
#[derive(Clone)]
pub struct App {
    gateway: Arc<Gateway>,
    router: Router,
    limits: ConnectionLimits,
    closing: watch::Receiver<bool>,
}

impl App {
    pub fn new(
        gateway: Arc<Gateway>,
        limits: ConnectionLimits,
        closing: watch::Receiver<bool>,
    ) -> App {
        App {
            router: router(gateway.clone()),
            gateway,
            limits,
            closing,
        }
    }

    /// One request off the wire.
    async fn handle(
        self,
        request: http::Request<Incoming>,
        connection: Arc<ConnState>,
    ) -> Result<Response, Infallible> {
        let _in_flight = connection.request_started();
        let (mut parts, body) = request.into_parts();
        crate::http::request_id::settle(&mut parts.headers);
        if let Some(refused) = self.over_limits(&parts) {
            return Ok(refused);
        }
        // A panic on the fast path only sends the request the routed way,
        // where it is caught and answered.
        match AssertUnwindSafe(answer_hit(&self.gateway, &parts))
            .catch_unwind()
            .await
        {
            Ok(Some(response)) => Ok(response),
            _ => {
                parts
                    .extensions
                    .insert(ConnectionHandle::new(connection, self.closing.clone()));
                let request = Request::from_parts(parts, Body::new(body));
                self.router.oneshot(request).await
            }
        }
    }

    /// 414 or 431 for a request target or single header past the limits
    /// hyper does not bound itself, in the canonical shape.
    fn over_limits(&self, request: &Parts) -> Option<Response> {
        let limits = &self.limits;
        let target = request.uri.path_and_query().map_or(0, |p| p.as_str().len());
        let error = if target > limits.max_uri_bytes {
            checkout_core::Error::new(
                checkout_core::ErrorCode::UriTooLong,
                format!(
                    "the request target is longer than {} bytes",
                    limits.max_uri_bytes
                ),
            )
        } else if let Some(name) = request
            .headers
            .iter()
            .find(|(name, value)| name.as_str().len() + value.len() > limits.max_header_bytes)
            .map(|(name, _)| name)
        {
            checkout_core::Error::new(
                checkout_core::ErrorCode::HeadersTooLarge,
                format!(
                    "header {name} is larger than {} bytes",
                    limits.max_header_bytes
                ),
            )
        } else {
            return None;
        };
        let request_id = request_id_of(&request.headers);
        let tracked = Tracked::start(
            &request.method,
            Cow::Borrowed("unmatched"),
            request_id.to_str().unwrap_or_default(),
        );
        let response = ApiError(error.clone()).into_response();
        let mut response = crate::http::errors::render(response, &error, request_id.to_str().ok());
        response
            .headers_mut()
            .insert(REQUEST_ID_NAME.clone(), request_id);
        tracked.finish(&self.gateway.current().metrics, response.status());
        Some(response)
    }
}

/// A fresh cache hit, with the request id, span, log line and metrics the
/// routed path would give it; `None` for anything else.
async fn answer_hit(gateway: &Gateway, request: &Parts) -> Option<Response> {
    if request.method != http::Method::GET {
        return None;
    }
    let path = request.uri.path();
    let canonical = path.starts_with("/v1/checkout-sessions/");
    if !canonical && !crate::http::stripe::is_facade_path(path) {
        return None;
    }
    let started = Instant::now();
    let state = gateway.current();
    let (mut response, route, client) = if canonical {
        let (response, client) = sessions::answer_hit(&state, request).await?;
        (response, SESSION_ROUTE, client)
    } else {
        stripe::answer_hit(&state, request).await?
    };
    let request_id = request_id_of(&request.headers);
    let tracked = Tracked::started_at(
        started,
        &request.method,
        Cow::Borrowed(route),
        request_id.to_str().unwrap_or_default(),
    );
    tracked.span.record("client", client.name.as_str());
    response
        .headers_mut()
        .insert(REQUEST_ID_NAME.clone(), request_id);
    tracked.finish(&state.metrics, response.status());
    Some(response)
}

/// Serve HTTP/1.1 until `shutdown` resolves, then let in-flight requests
/// finish for at most the configured grace period. hyper's connection
/// directly, not `axum::serve`: its protocol sniffing (for h2c, which no
/// client of this API needs) showed on the cache-hit path.
pub async fn serve(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let state = gateway.current();
    let grace = state.shutdown_grace;
    let mut limits = state.connection_limits;
    drop(state);
    limits.max_connections = connections::cap_for(
        limits.max_connections,
        connections::raise_descriptor_limit(),
    );
    tracing::info!(
        max_connections = limits.max_connections,
        "accepting connections"
    );
    let tracker = Tracker::new(limits);
    let app = App::new(gateway, limits, tracker.closing());
    let mut http = http1::Builder::new();
    http.max_buf_size(limits.max_head_bytes.max(8192) + 8192)
        .max_header_size(limits.max_head_bytes)
        // The tracker times heads and idle connections (hyper's timer
        // would also run while a keep-alive connection waits).
        .header_read_timeout(None);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors, say: wait rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(admitted) = tracker.admit() else {
            tokio::spawn(refuse(stream, limits));
            continue;
        };
        let io = TokioIo::new(TrackedIo::new(stream, admitted.state.clone(), limits));
        let (app, connection) = (app.clone(), admitted.state.clone());
        let service = service_fn(move |request| app.clone().handle(request, connection.clone()));
        let connection = http.serve_connection(io, service);
        tokio::spawn(tracker.clone().drive(admitted, connection));
    }
    drop(listener);
    tracing::info!(
        grace_secs = grace.as_secs(),
        open = tracker.open(),
        "shutting down: closing idle connections, finishing in-flight requests"
    );
    tracker.shut_down();
    tokio::select! {
        () = tracker.drained() => {}
        () = tokio::time::sleep(grace) => {
            tracing::warn!("grace period over: dropping the requests still in flight");
        }
    }
    Ok(())
}

/// Every connection is busy at the cap: say so, and close.
async fn refuse(mut stream: tokio::net::TcpStream, limits: ConnectionLimits) {
    let answer = connections::refusal(503, &limits);
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(&answer)).await;
    let _ = stream.shutdown().await;
}
