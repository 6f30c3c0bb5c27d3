//! The HTTP server: routes and the middleware every response passes through.

use std::borrow::Cow;
use std::convert::Infallible;
use std::future::IntoFuture;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::future::BoxFuture;
use futures::FutureExt;
use http::request::Parts;
use tower::{Service, ServiceExt};
use tracing::Instrument;

use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};

use crate::errors::{render_errors, REQUEST_ID};
use crate::observe::Tracked;
use crate::reload::{self, Gateway};
use crate::request_id::{request_id_of, RandomRequestId};
use crate::sessions::SESSION_ROUTE;
use crate::{health, observe, openapi, providers, sessions};

pub fn router(gateway: Arc<Gateway>) -> Router {
    let request_id = http::HeaderName::from_static(REQUEST_ID);
    let doc = openapi::document();
    Router::new()
        .route("/v1/checkout-sessions/{id}", get(sessions::get_session))
        .route("/v1/checkout-sessions", post(sessions::create_session))
        .route("/v1/providers", get(providers::list_providers))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/admin/reload", post(reload::reload))
        .route(
            "/openapi.json",
            get(move || async move { Json(doc.clone()) }),
        )
        .layer(axum::middleware::from_fn_with_state(
            gateway.clone(),
            observe::track,
        ))
        .with_state(gateway)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), RandomRequestId))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(axum::middleware::from_fn(render_errors))
                .layer(CatchPanicLayer::new()),
        )
}

/// What the listener serves: cache hits answered before routing (most of
/// the traffic, and the path bench/run.sh holds to the bare-hyper floor),
/// everything else through the router and its middleware.
#[derive(Clone)]
pub struct App {
    gateway: Arc<Gateway>,
    router: Router,
}

impl App {
    pub fn new(gateway: Arc<Gateway>) -> App {
        App {
            router: router(gateway.clone()),
            gateway,
        }
    }
}

impl Service<Request> for App {
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let (gateway, router) = (self.gateway.clone(), self.router.clone());
        Box::pin(async move {
            // A panic on the fast path only sends the request the routed
            // way, where it is caught and answered.
            let (parts, body) = request.into_parts();
            let fast = AssertUnwindSafe(answer_hit(&gateway, &parts)).catch_unwind();
            match fast.await {
                Ok(Some(response)) => Ok(response),
                _ => router.oneshot(Request::from_parts(parts, body)).await,
            }
        })
    }
}

/// A fresh cache hit, with the request id, span, log line and metrics the
/// routed path would give it; `None` for anything else.
async fn answer_hit(gateway: &Gateway, request: &Parts) -> Option<Response> {
    if request.method != http::Method::GET
        || !request.uri.path().starts_with("/v1/checkout-sessions/")
    {
        return None;
    }
    let state = gateway.current();
    let request_id = request_id_of(&request.headers);
    let tracked = Tracked::start(
        &request.method,
        Cow::Borrowed(SESSION_ROUTE),
        request_id.to_str().unwrap_or_default(),
    );
    let mut response = sessions::answer_hit(&state, request)
        .instrument(tracked.span.clone())
        .await?;
    response.headers_mut().insert(REQUEST_ID, request_id);
    tracked.finish(&state.metrics, response.status());
    Some(response)
}

/// Serve until `shutdown` resolves, then let in-flight requests finish for
/// at most the configured grace period.
pub async fn serve(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let grace = gateway.current().shutdown_grace;
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        tracing::info!(
            grace_secs = grace.as_secs(),
            "shutting down: finishing in-flight requests"
        );
        let _ = stopping_tx.send(());
    };
    let app = tower::make::Shared::new(App::new(gateway));
    let server = axum::serve(listener, app).with_graceful_shutdown(signal);
    let grace_over = async move {
        if stopping_rx.await.is_ok() {
            tokio::time::sleep(grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        served = server.into_future() => served,
        () = grace_over => {
            tracing::warn!("grace period over: dropping the requests still in flight");
            Ok(())
        }
    }
}
