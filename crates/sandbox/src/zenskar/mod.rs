//! Emulation of Zenskar's two checkout APIs (vendor notes §2): family A
//! "Checkout Session" (`/checkout…`) and family B "Checkouts"
//! (`/checkouts…`), in one organisation.
//!
//! Layering, outermost first: an `x-amzn-requestid` on every answer (the
//! API sits behind AWS API Gateway), injected failures (control route
//! `fail-next`), the `organisation` + `x-api-key` check, a panic catcher
//! answering Starlette's 500, a 1 MiB body limit, then the routes with
//! FastAPI's JSON 404 and 405.

mod auth;
mod control;
mod error;
mod model;
mod routes;
pub mod seed;
mod store;
mod validate;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;

use crate::kit::auth::guard;
use crate::kit::drift::Shape;
use crate::kit::fill::Fill;
use crate::kit::mount::Vendor;
use crate::kit::tour::Walk;
use error::ApiError;
use store::Store;

const BODY_LIMIT: usize = 1024 * 1024;

/// The emulated organisation: shared by every router built from one `Sandbox`.
#[derive(Debug, Default)]
pub(crate) struct Zenskar {
    store: Store,
    /// API calls still to fail (control route `fail-next`).
    failures: AtomicU32,
}

impl Zenskar {
    pub(crate) fn new() -> Zenskar {
        Zenskar::default()
    }
}

/// A failure armed by the control route answers instead of the vendor.
async fn injected_failure(State(z): State<Arc<Zenskar>>, request: Request, next: Next) -> Response {
    let armed = z
        .failures
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if armed {
        ApiError::Internal.into_response()
    } else {
        next.run(request).await
    }
}

async fn request_id(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        response.headers_mut().insert("x-amzn-requestid", v);
    }
    response
}

impl Vendor for Zenskar {
    const NAME: &'static str = "zenskar";
    const WALKS: fn() -> Vec<Walk> = seed::walks;

    const SHAPE: Shape = Shape {
        one: &[""],
        many: &["/data"],
        status: &["checkout_session_status", "checkout_status"],
    };

    fn api(self: Arc<Self>) -> Router {
        Router::new()
            .route("/checkout", get(routes::list_a).post(routes::create_a))
            .route("/checkout/{checkout_session_id}", get(routes::get_a))
            .route(
                "/checkout/{checkout_session_id}/cancel",
                post(routes::cancel_a),
            )
            .route(
                "/checkout/{checkout_session_id}/confirm",
                post(routes::confirm_a),
            )
            .route("/checkouts", post(routes::create_b))
            .route("/checkouts/{checkout_id}", get(routes::get_b))
            .route("/checkouts/{checkout_id}/confirm", post(routes::confirm_b))
            .fallback(error::not_found)
            .method_not_allowed_fallback(error::method_not_allowed)
            .with_state(Arc::clone(&self))
            .layer(DefaultBodyLimit::disable())
            .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
            .layer(CatchPanicLayer::custom(error::panic_response))
            .layer(middleware::from_fn_with_state(
                auth::RequiredHeaders,
                guard::<auth::RequiredHeaders>,
            ))
            .layer(middleware::from_fn_with_state(self, injected_failure))
            .layer(middleware::from_fn(request_id))
    }

    fn control(self: Arc<Self>) -> Router {
        control::router(self)
    }

    fn fill(&self, fill: &Fill) -> usize {
        self.store.fill(fill)
    }

    fn classify(method: &Method, path: &str) -> &'static str {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (method.as_str(), segments.as_slice()) {
            ("POST", ["checkout" | "checkouts"]) => "create",
            ("GET", ["checkout"]) => "list",
            ("GET", ["checkout" | "checkouts", id]) if !id.is_empty() => "get",
            ("POST", ["checkout", id, "cancel"]) if !id.is_empty() => "cancel",
            ("POST", ["checkout" | "checkouts", id, "confirm"]) if !id.is_empty() => "confirm",
            _ => "other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_classified_like_the_routes() {
        let classify = Zenskar::classify;
        let (get, post) = (Method::GET, Method::POST);
        let id = "3f1c9a52-7b4e-4d2a-9c61-0e8f5b7a2d14";
        assert_eq!(classify(&post, "/checkout"), "create");
        assert_eq!(classify(&post, "/checkouts"), "create");
        assert_eq!(classify(&get, "/checkout"), "list");
        assert_eq!(classify(&get, &format!("/checkout/{id}")), "get");
        assert_eq!(classify(&get, &format!("/checkouts/{id}")), "get");
        assert_eq!(classify(&post, &format!("/checkout/{id}/cancel")), "cancel");
        assert_eq!(
            classify(&post, &format!("/checkout/{id}/confirm")),
            "confirm"
        );
        assert_eq!(
            classify(&post, &format!("/checkouts/{id}/confirm")),
            "confirm"
        );
        assert_eq!(classify(&get, "/checkouts"), "other");
        assert_eq!(classify(&get, "/checkout/"), "other");
        assert_eq!(
            classify(&Method::DELETE, &format!("/checkout/{id}")),
            "other"
        );
        assert_eq!(classify(&get, "/customers"), "other");
    }
}
