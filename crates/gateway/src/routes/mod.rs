//! The routes, and the middleware every routed response passes through:
//! request id, span and metrics, the canonical error body, panics caught.

pub mod admin;
pub mod customers;
pub mod event_stream;
pub mod events;
pub mod health;
pub mod list;
pub mod openapi;
pub mod providers;
pub mod routing;
pub mod sessions;
pub mod stripe;
pub mod track;
pub mod vendor_webhooks;
pub mod webhooks;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::{Json, Router};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};

use crate::http::errors::{render_errors, REQUEST_ID};
use crate::http::request_id::RandomRequestId;
use crate::routes::track::track;
use crate::state::live::Gateway;

pub fn router(gateway: Arc<Gateway>) -> Router {
    let request_id = http::HeaderName::from_static(REQUEST_ID);
    let doc = openapi::document();
    let mut routes = Router::new();
    // The Stripe facade, at each of its mounts.
    for mount in crate::http::stripe::MOUNTS {
        routes = routes
            .route(mount, post(stripe::create).get(stripe::list))
            .route(&format!("{mount}/{{id}}"), get(stripe::retrieve))
            .route(&format!("{mount}/{{id}}/expire"), post(stripe::expire));
    }
    routes
        .route("/v1/checkout-sessions/{id}", get(sessions::get_session))
        .route(
            "/v1/checkout-sessions",
            post(sessions::create_session).get(list::list_sessions),
        )
        .route(
            "/v1/checkout-sessions/{id}/cancel",
            post(sessions::cancel_session),
        )
        .route("/v1/providers", get(providers::list_providers))
        .route("/v1/events", get(events::list_events))
        .route("/v1/events/stream", get(event_stream::stream_events))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/admin/reload", post(admin::reload))
        .route("/v1/routing", get(routing::routing_in_force))
        .route("/v1/routing/explain", post(routing::explain))
        .route("/v1/customers", get(customers::list_customers))
        .route(
            "/v1/customers/{id}",
            get(customers::get_customer)
                .put(customers::put_customer)
                .delete(customers::delete_customer),
        )
        .route("/v1/events/{id}/redeliver", post(webhooks::redeliver_event))
        .route(
            "/v1/events/{id}/deliveries",
            get(webhooks::event_deliveries),
        )
        .route(
            "/v1/vendor-webhooks/{provider}/{account}",
            post(vendor_webhooks::vendor_webhook),
        )
        .route(
            "/openapi.json",
            get(move || async move { Json(doc.clone()) }),
        )
        .layer(axum::middleware::from_fn_with_state(gateway.clone(), track))
        .with_state(gateway)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), RandomRequestId))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(axum::middleware::from_fn(render_errors))
                .layer(CatchPanicLayer::new()),
        )
}
