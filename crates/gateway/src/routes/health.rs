//! `/healthz`, `/readyz` and `/metrics`.

use axum::response::{IntoResponse, Response};
use axum::Json;

use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Scope;
use crate::http::errors::ApiError;
use crate::state::live::Current;
use crate::telemetry::metrics::AccountLabels;
use crate::upstream::breaker::BreakerState;
use crate::upstream::LastCall;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` while the process serves.
    pub status: &'static str,
}

#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The process is up", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`, or `not_ready` when every account's breaker is open.
    pub status: &'static str,
    pub accounts: AccountSummary,
    /// The shared cache tier (`cache.redis_url`), when configured: `up`
    /// or `down`. Never makes the gateway unready: without Redis, reads go
    /// on from the local cache and the vendor.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub redis: Option<&'static str>,
}

/// Counts only: account names are not for anonymous callers.
#[derive(Serialize, ToSchema, Default)]
pub struct AccountSummary {
    pub total: usize,
    /// Last vendor call answered.
    pub ok: usize,
    /// Last vendor call failed (5xx, timeout, unreachable, unreadable).
    pub failing: usize,
    /// No call yet.
    pub idle: usize,
    /// Breaker open or probing: calls fail fast.
    pub breaker_open: usize,
}

#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "Config loaded and serving; some account may be failing", body = Readiness),
        (status = 503, description = "Every account's breaker is open", body = Readiness),
    ))]
pub async fn readyz(Current(state): Current) -> Response {
    let mut summary = AccountSummary {
        total: state.accounts.len(),
        ..AccountSummary::default()
    };
    for account in state.accounts.values() {
        match account.guard.last_call() {
            LastCall::Ok => summary.ok += 1,
            LastCall::Failed => summary.failing += 1,
            LastCall::None => summary.idle += 1,
        }
        if account.guard.breaker.state() != BreakerState::Closed {
            summary.breaker_open += 1;
        }
    }
    // One sick vendor must not take the whole gateway out of rotation: only
    // when every account fails fast is there nothing left to serve.
    let all_down = summary.total > 0 && summary.breaker_open == summary.total;
    let status = if all_down { "not_ready" } else { "ready" };
    let code = if all_down {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (
        code,
        Json(Readiness {
            status,
            accounts: summary,
            redis: state
                .cache
                .shared_up()
                .map(|up| if up { "up" } else { "down" }),
        }),
    )
        .into_response()
}

#[utoipa::path(get, path = "/metrics", tag = "health",
    responses(
        (status = 200, description = "OpenMetrics text exposition (`admin` scope)", content_type = "application/openmetrics-text"),
    ),
    security(("client_key" = [])))]
pub async fn metrics(Current(state): Current, headers: HeaderMap) -> Result<Response, ApiError> {
    state.authorize(&headers, Scope::Admin)?;
    let m = &state.metrics;
    m.cache_entries
        .set(i64::try_from(state.cache.entry_count().await).unwrap_or(i64::MAX));
    for ((provider, account), a) in &state.accounts {
        let labels = AccountLabels {
            provider: provider.clone(),
            account: account.clone(),
        };
        m.in_flight
            .get_or_create(&labels)
            .set(a.guard.in_flight() as i64);
        let breaker = match a.guard.breaker.state() {
            BreakerState::Closed => 0,
            BreakerState::HalfOpen => 1,
            BreakerState::Open => 2,
        };
        m.breaker_state.get_or_create(&labels).set(breaker);
    }
    let mut response = m.render().into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    Ok(response)
}
