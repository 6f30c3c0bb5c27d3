//! Emulation of Flowglad's checkout-session REST API
//! (`/api/v1/checkout-sessions`, `…/{id}`), for one test-mode organization.
//!
//! Layering follows the vendor: the key check on every `/api/v1/` path
//! (plain-text 401s, no request id), then the REST handler, which gives
//! every response an `X-Request-Id` and answers unknown routes with a
//! plain-text 404. Sessions are never expired by the vendor: `expires` is
//! 24 h after creation and `status` stays as it is.

mod auth;
mod control;
pub mod error;
pub mod ids;
pub mod model;
mod request;
mod routes;
pub mod seed;
mod store;
pub mod webhooks;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::kit::auth::{guard, Gate};
use crate::kit::drift::Shape;
use crate::kit::fill::Fill;
use crate::kit::mount::Vendor;
use crate::kit::paths;
use crate::kit::store::Locked;
use crate::kit::tour::Walk;
use error::{ApiError, ErrorForm};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowgladConfig {
    /// Accepted secret keys.
    pub api_keys: Vec<String>,
    /// Base of the hosted-page URLs (the vendor's `NEXT_PUBLIC_APP_URL`);
    /// `None`: `http://<Host of the request>/flowglad`, so URLs point at
    /// this sandbox whatever port it got.
    pub app_url: Option<String>,
    /// Where `purchase.completed` goes, signed (see [`webhooks`]); also
    /// set by `POST /_sandbox/flowglad/webhooks`.
    pub webhook: Option<webhooks::WebhookTarget>,
}

impl Default for FlowgladConfig {
    fn default() -> Self {
        FlowgladConfig {
            api_keys: vec![seed::API_KEY.to_owned()],
            app_url: None,
            webhook: None,
        }
    }
}

/// Per-request facts the handlers need.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    request_id: String,
    form: ErrorForm,
}

#[derive(Debug, Default)]
struct RateLimit {
    remaining: u32,
    message: Option<String>,
}

/// The emulated organization: shared by every router built from one `Sandbox`.
#[derive(Debug)]
pub(crate) struct Flowglad {
    keys: Vec<String>,
    app_url: Option<String>,
    /// Test-mode keys make test-mode sessions.
    livemode: bool,
    store: store::Store,
    rate_limit: Locked<RateLimit>,
    error_form: Locked<ErrorForm>,
    webhooks: webhooks::Webhooks,
}

impl Flowglad {
    pub(crate) fn new(config: &FlowgladConfig) -> Flowglad {
        Flowglad {
            keys: config.api_keys.clone(),
            app_url: config
                .app_url
                .as_deref()
                .map(|u| u.trim_end_matches('/').to_owned()),
            livemode: false,
            store: store::Store::default(),
            rate_limit: Locked::default(),
            error_form: Locked::default(),
            webhooks: webhooks::Webhooks::new(config.webhook.as_ref()),
        }
    }

    fn app_url(&self, headers: &HeaderMap) -> String {
        match &self.app_url {
            Some(url) => url.clone(),
            None => {
                let host = headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or("127.0.0.1:9100");
                format!("http://{host}/{}", Self::NAME)
            }
        }
    }

    fn set_rate_limit(&self, requests: u32, message: Option<String>) {
        *self.rate_limit.lock() = RateLimit {
            remaining: requests,
            message,
        };
    }

    /// One rate-limited answer, if any are left.
    fn take_rate_limit(&self) -> Option<String> {
        let mut limit = self.rate_limit.lock();
        if limit.remaining == 0 {
            return None;
        }
        limit.remaining -= 1;
        Some(
            limit
                .message
                .clone()
                .unwrap_or_else(error::invalid_key_message),
        )
    }

    fn set_error_form(&self, form: ErrorForm) {
        *self.error_form.lock() = form;
    }

    fn error_form(&self) -> ErrorForm {
        *self.error_form.lock()
    }
}

/// The key check on every `/api/v1/` path, before the REST handler: its
/// 401s are plain text without a request id.
impl Gate for Arc<Flowglad> {
    const SCOPE: &'static str = "/api/v1/";

    fn refusal(&self, headers: &HeaderMap) -> Option<Response> {
        // The vendor reads the header as text whatever its bytes.
        let header = headers
            .get(header::AUTHORIZATION)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let message =
            auth::check(header.as_deref(), &self.keys, || self.take_rate_limit()).err()?;
        Some(ApiError::Unauthorized(message).render(self.error_form(), None))
    }
}

/// The REST handler: a request id for everything it answers.
async fn handler_context(
    State(fg): State<Arc<Flowglad>>,
    mut request: Request,
    next: Next,
) -> Response {
    let request_id = ids::request_id();
    request.extensions_mut().insert(Ctx {
        request_id: request_id.clone(),
        form: fg.error_form(),
    });
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

impl Vendor for Flowglad {
    const NAME: &'static str = "flowglad";
    const WALKS: fn() -> Vec<Walk> = seed::walks;

    const SHAPE: Shape = Shape {
        one: &["/checkoutSession"],
        many: &["/data"],
        status: &["status"],
    };

    fn api(self: Arc<Self>) -> Router {
        Router::new()
            .route(
                "/api/v1/checkout-sessions",
                get(routes::list).post(routes::create),
            )
            .route("/api/v1/checkout-sessions/{id}", get(routes::get))
            .fallback(routes::not_found)
            .method_not_allowed_fallback(routes::not_found)
            .with_state(Arc::clone(&self))
            .layer(axum::middleware::from_fn_with_state(
                Arc::clone(&self),
                handler_context,
            ))
            .layer(axum::middleware::from_fn_with_state(
                self,
                guard::<Arc<Flowglad>>,
            ))
    }

    fn control(self: Arc<Self>) -> Router {
        control::router(self)
    }

    fn fill(&self, fill: &Fill) -> usize {
        self.store.fill(fill, self.livemode)
    }

    fn classify(method: &Method, path: &str) -> &'static str {
        let segments = paths::segments(path, "/api/v1/checkout-sessions");
        match (method.as_str(), segments.as_deref()) {
            ("POST", Some([])) => "create",
            ("GET", Some([])) => "list",
            ("GET", Some([id])) if !id.is_empty() => "get",
            _ => "other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_classified_like_the_routes() {
        let classify = Flowglad::classify;
        let (get, post) = (Method::GET, Method::POST);
        assert_eq!(classify(&post, "/api/v1/checkout-sessions"), "create");
        assert_eq!(classify(&get, "/api/v1/checkout-sessions"), "list");
        assert_eq!(
            classify(&get, "/api/v1/checkout-sessions/chckt_session_1"),
            "get"
        );
        assert_eq!(classify(&get, "/api/v1/checkout-sessions/"), "other");
        assert_eq!(classify(&post, "/api/v1/checkout-sessions/x"), "other");
        assert_eq!(classify(&get, "/api/v1/prices"), "other");
    }

    #[test]
    fn rate_limits_count_down() {
        let fg = Flowglad::new(&FlowgladConfig::default());
        assert_eq!(fg.take_rate_limit(), None);
        fg.set_rate_limit(2, Some("Rate limit exceeded".to_owned()));
        assert_eq!(fg.take_rate_limit().as_deref(), Some("Rate limit exceeded"));
        assert!(fg.take_rate_limit().is_some());
        assert_eq!(fg.take_rate_limit(), None);
    }
}
