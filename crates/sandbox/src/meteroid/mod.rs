//! Emulation of Meteroid's checkout-session REST API (`/api/v1/checkout-sessions*`).
//!
//! Layering follows the vendor's server: routes with a JSON 404 fallback,
//! then bearer auth on `/api/`, then a 1 MiB body limit, then a panic
//! catcher answering the vendor's 500 body.

mod auth;
mod control;
mod error;
pub mod ids;
mod jwt;
mod model;
mod query;
mod request;
mod routes;
pub mod seed;
mod store;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;

use crate::kit::auth::guard;
use crate::kit::drift::Shape;
use crate::kit::fill::Fill;
use crate::kit::mount::{every, Job, Vendor};
use crate::kit::tour::Walk;
use crate::kit::{clock, paths};
use auth::ApiKeys;
use model::CheckoutSession;
use store::Store;

/// The vendor's REST body limit.
const BODY_LIMIT: usize = 1024 * 1024;
/// The vendor's cleanup worker period (plus up to 59 s of jitter).
const WORKER_PERIOD: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeteroidConfig {
    /// Accepted keys, in the vendor's `pv_<env>_<secret>/<token id>` form.
    pub api_keys: Vec<String>,
    /// Base of `checkout_url` (`{public_url}/checkout?token=…`).
    pub public_url: String,
}

impl Default for MeteroidConfig {
    fn default() -> Self {
        MeteroidConfig {
            api_keys: vec![seed::API_KEY.to_owned()],
            public_url: "http://127.0.0.1:9100/meteroid".to_owned(),
        }
    }
}

/// The emulated tenant: shared by every router built from one `Sandbox`.
#[derive(Debug)]
pub(crate) struct Meteroid {
    keys: ApiKeys,
    public_url: String,
    store: Store,
}

impl Meteroid {
    pub(crate) fn new(config: &MeteroidConfig) -> Meteroid {
        let customers = seed::CUSTOMERS
            .iter()
            .map(|(id, alias)| (*id, Some((*alias).to_owned())));
        Meteroid {
            keys: ApiKeys::new(&config.api_keys),
            public_url: config.public_url.trim_end_matches('/').to_owned(),
            store: Store::new(customers, seed::PLAN_VERSIONS),
        }
    }

    fn checkout_url(
        &self,
        session: &CheckoutSession,
        now: DateTime<Utc>,
    ) -> Result<String, jwt::TokenError> {
        jwt::checkout_url(
            &self.public_url,
            seed::JWT_SECRET.as_bytes(),
            seed::TENANT_ID,
            session.id.uuid(),
            now,
        )
    }

    /// The URL only while the session can still be completed; a signing
    /// failure just leaves it out (as the vendor's list does).
    fn url_if_open(&self, session: &CheckoutSession, now: DateTime<Utc>) -> Option<String> {
        if session.can_complete(now) {
            self.checkout_url(session, now).ok()
        } else {
            None
        }
    }

    /// Expire overdue CREATED sessions, then drop old EXPIRED ones.
    fn run_worker_once(&self) -> (usize, usize) {
        let now = clock::now_micros();
        let expired = self.store.expire_overdue(now);
        let deleted = self.store.delete_old_expired(now);
        (expired, deleted)
    }
}

impl Vendor for Meteroid {
    const NAME: &'static str = "meteroid";
    const WALKS: fn() -> Vec<Walk> = seed::walks;

    const SHAPE: Shape = Shape {
        one: &["/session"],
        many: &["/sessions"],
        status: &["status"],
    };

    /// The vendor's routes and layers.
    fn api(self: Arc<Self>) -> Router {
        let keys = self.keys.clone();
        Router::new()
            .route(
                "/api/v1/checkout-sessions",
                get(routes::list).post(routes::create),
            )
            .route("/api/v1/checkout-sessions/{id}", get(routes::get))
            .route(
                "/api/v1/checkout-sessions/{id}/cancel",
                post(routes::cancel),
            )
            .fallback(error::not_found)
            .with_state(self)
            .layer(axum::middleware::from_fn_with_state(keys, guard::<ApiKeys>))
            .layer(DefaultBodyLimit::disable())
            .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
            .layer(CatchPanicLayer::custom(error::panic_response))
    }

    fn control(self: Arc<Self>) -> Router {
        control::router(self)
    }

    fn fill(&self, fill: &Fill) -> usize {
        self.store.fill(fill)
    }

    fn classify(method: &Method, path: &str) -> &'static str {
        let segments = paths::segments(path, "/api/v1/checkout-sessions");
        match (method.as_str(), segments.as_deref()) {
            ("POST", Some([])) => "create",
            ("GET", Some([])) => "list",
            ("GET", Some([id])) if !id.is_empty() => "get",
            ("POST", Some([id, "cancel"])) if !id.is_empty() => "cancel",
            _ => "other",
        }
    }

    /// The hourly cleanup, with up to 59 s of jitter, as upstream.
    fn worker(self: Arc<Self>) -> Option<Job> {
        every(move || {
            let (expired, deleted) = self.run_worker_once();
            if expired > 0 || deleted > 0 {
                tracing::debug!(
                    expired,
                    deleted,
                    "meteroid sandbox: checkout session cleanup"
                );
            }
            WORKER_PERIOD + Duration::from_secs((uuid::Uuid::new_v4().as_u128() % 60) as u64)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_classified_like_the_routes() {
        let classify = Meteroid::classify;
        let get = Method::GET;
        let post = Method::POST;
        assert_eq!(classify(&post, "/api/v1/checkout-sessions"), "create");
        assert_eq!(classify(&get, "/api/v1/checkout-sessions"), "list");
        assert_eq!(classify(&get, "/api/v1/checkout-sessions/che_1"), "get");
        assert_eq!(
            classify(&post, "/api/v1/checkout-sessions/che_1/cancel"),
            "cancel"
        );
        assert_eq!(classify(&get, "/api/v1/checkout-sessions/"), "other");
        assert_eq!(classify(&get, "/api/v1/checkout-sessions-x"), "other");
        assert_eq!(
            classify(&Method::DELETE, "/api/v1/checkout-sessions/che_1"),
            "other"
        );
        assert_eq!(classify(&get, "/api/v1/customers"), "other");
    }
}
