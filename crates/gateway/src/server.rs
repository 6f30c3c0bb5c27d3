//! The HTTP server: routes and the middleware every response passes through.

use std::sync::Arc;

use axum::routing::{get, post};
use axum::{Json, Router};
use std::future::IntoFuture;

use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

use crate::errors::{render_errors, REQUEST_ID};
use crate::reload::{self, Gateway};
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
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(axum::middleware::from_fn(render_errors))
                .layer(CatchPanicLayer::new()),
        )
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
    let server = axum::serve(listener, router(gateway)).with_graceful_shutdown(signal);
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
