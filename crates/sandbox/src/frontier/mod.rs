//! Emulation of Raystack Frontier's checkout RPCs, over both of its APIs:
//!
//! - ConnectRPC unary (current Frontier), in JSON or binary protobuf,
//!   gzip-compressed or not, as connect-go serves it:
//!   `POST /raystack.frontier.v1beta1.FrontierService/{CreateCheckout,GetCheckout,ListCheckouts}`;
//! - the legacy grpc-gateway REST API (older deployments):
//!   `POST|GET /v1beta1/organizations/{org_id}/billing/checkouts`,
//!   `GET …/checkouts/{id}`.
//!
//! One instance serves both (upstream they were separate ports of one
//! server), with one store, Basic (service-user client credentials) and
//! bearer auth, and each API's own error bodies and statuses. Sessions
//! expire 24 h after creation; a once-a-minute sync marks them, like
//! Frontier's. Stripe is not called: its ids and URLs are made up in its
//! formats.

mod auth;
mod connect;
mod control;
mod model;
pub mod proto;
mod rest;
pub mod seed;
mod store;

use std::sync::Arc;
use std::time::Duration;

use axum::http::Method;
use axum::routing::{any, get};
use axum::Router;
use tower_http::limit::RequestBodyLimitLayer;

use crate::kit::drift::Shape;
use crate::kit::fill::Fill;
use crate::kit::mount::{every, Job, Vendor};
use crate::kit::tour::Walk;
use auth::Credentials;
use store::Store;

pub use auth::{Credential, FrontierAuth};

/// The Connect service of the checkout RPCs.
pub const SERVICE: &str = "raystack.frontier.v1beta1.FrontierService";
/// gRPC's default receive limit, which both APIs inherited.
const BODY_LIMIT: usize = 4 * 1024 * 1024;
/// `billing.refresh_interval.checkout`'s default.
const SYNC_PERIOD: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontierConfig {
    /// Who may call, and which organizations each administers.
    pub credentials: Vec<Credential>,
}

impl Default for FrontierConfig {
    fn default() -> Self {
        FrontierConfig {
            credentials: vec![
                Credential {
                    auth: FrontierAuth::Basic {
                        client_id: seed::CLIENT_ID.to_owned(),
                        client_secret: seed::CLIENT_SECRET.to_owned(),
                    },
                    orgs: seed::ORGS.iter().map(|(org, _)| *org).collect(),
                },
                Credential {
                    auth: FrontierAuth::Bearer(seed::BEARER_TOKEN.to_owned()),
                    orgs: vec![seed::ORG_ACME_ID],
                },
            ],
        }
    }
}

/// The emulated instance: shared by every router built from one `Sandbox`.
#[derive(Debug)]
pub(crate) struct Frontier {
    credentials: Credentials,
    store: Store,
}

impl Frontier {
    pub(crate) fn new(config: &FrontierConfig) -> Frontier {
        Frontier {
            credentials: Credentials::new(&config.credentials),
            store: Store::new(seed::ORGS, seed::PLANS, seed::PRODUCTS),
        }
    }
}

/// Connect paths miss in Go's mux (plain text); the rest in grpc-gateway's.
async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    if uri.path().starts_with("/raystack.") {
        connect::unknown_procedure()
    } else {
        rest::not_found()
    }
}

impl Vendor for Frontier {
    const NAME: &'static str = "frontier";
    const WALKS: fn() -> Vec<Walk> = seed::walks;

    const SHAPE: Shape = Shape {
        one: &["/checkout_session", "/checkoutSession"],
        many: &["/checkout_sessions", "/checkoutSessions"],
        status: &["state"],
    };

    fn api(self: Arc<Self>) -> Router {
        Router::new()
            .route(&format!("/{SERVICE}/{{method}}"), any(connect::call))
            .route(
                "/v1beta1/organizations/{org_id}/billing/checkouts",
                get(rest::list).post(rest::create),
            )
            .route(
                "/v1beta1/organizations/{org_id}/billing/checkouts/{id}",
                get(rest::get),
            )
            .method_not_allowed_fallback(rest::method_not_allowed)
            .fallback(not_found)
            .with_state(self)
            .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
    }

    fn control(self: Arc<Self>) -> Router {
        control::router(self)
    }

    /// Into Acme, the organization the demo's accounts list.
    fn fill(&self, fill: &Fill) -> usize {
        self.store.fill(seed::ORG_ACME_ID, fill)
    }

    fn classify(method: &Method, path: &str) -> &'static str {
        if let Some(rpc) = path
            .strip_prefix('/')
            .and_then(|p| p.strip_prefix(SERVICE))
            .and_then(|p| p.strip_prefix('/'))
        {
            return match (method.as_str(), rpc) {
                ("POST", "CreateCheckout") => "create",
                ("POST", "GetCheckout") => "get",
                ("POST", "ListCheckouts") => "list",
                _ => "other",
            };
        }
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (method.as_str(), segments.as_slice()) {
            ("POST", ["v1beta1", "organizations", org, "billing", "checkouts"])
                if !org.is_empty() =>
            {
                "create"
            }
            ("GET", ["v1beta1", "organizations", org, "billing", "checkouts"])
                if !org.is_empty() =>
            {
                "list"
            }
            ("GET", ["v1beta1", "organizations", org, "billing", "checkouts", id])
                if !org.is_empty() && !id.is_empty() =>
            {
                "get"
            }
            _ => "other",
        }
    }

    /// The checkout sync, once a minute.
    fn worker(self: Arc<Self>) -> Option<Job> {
        every(move || {
            let expired = self.store.sync(crate::kit::clock::now_micros());
            if expired > 0 {
                tracing::debug!(expired, "frontier sandbox: checkout sync");
            }
            SYNC_PERIOD
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_classified_like_the_routes() {
        let classify = Frontier::classify;
        let get = Method::GET;
        let post = Method::POST;
        let rpc = |m: &str| format!("/{SERVICE}/{m}");
        assert_eq!(classify(&post, &rpc("CreateCheckout")), "create");
        assert_eq!(classify(&post, &rpc("GetCheckout")), "get");
        assert_eq!(classify(&post, &rpc("ListCheckouts")), "list");
        assert_eq!(classify(&get, &rpc("GetCheckout")), "other");
        assert_eq!(classify(&post, &rpc("DelegatedCheckout")), "other");
        let base = "/v1beta1/organizations/o1/billing/checkouts";
        assert_eq!(classify(&post, base), "create");
        assert_eq!(classify(&get, base), "list");
        assert_eq!(classify(&get, &format!("{base}/c1")), "get");
        assert_eq!(classify(&post, &format!("{base}/c1")), "other");
        assert_eq!(
            classify(&get, "/v1beta1/organizations//billing/checkouts"),
            "other"
        );
        assert_eq!(
            classify(&get, "/v1beta1/organizations/o1/billing/invoices"),
            "other"
        );
    }
}
