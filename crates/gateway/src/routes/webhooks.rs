//! `POST /v1/events/{id}/redeliver` and `GET /v1/events/{id}/deliveries`
//! (`admin` scope): send an event to webhook endpoints again, and see
//! every attempt at delivering it. An admin key sees every account's
//! events (like the rest of the admin surface).

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::Json;
use checkout_core::{Error, ErrorCode};
use chrono::{DateTime, SecondsFormat, Utc};
use http::HeaderMap;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Scope;
use crate::http::errors::ApiError;
use crate::state::live::Current;
use crate::state::AppState;

/// `POST /v1/events/{id}/redeliver`'s body (optional).
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RedeliverRequest {
    /// Endpoints (`webhooks.endpoints.<name>`) to send the event to again,
    /// whatever their filters. Default: every enabled endpoint whose
    /// filter takes the event.
    #[serde(default)]
    pub endpoints: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct Redelivery {
    /// Always `redelivery`.
    pub object: &'static str,
    /// The event's id.
    pub event: String,
    /// The endpoints a new delivery was made for (sent shortly, signed
    /// afresh, with the same `webhook-id`).
    pub endpoints: Vec<String>,
    /// How many deliveries were made.
    pub deliveries: u64,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryAttempts {
    /// Always `list`.
    pub object: &'static str,
    /// The event's id.
    pub event: String,
    /// Every attempt, by delivery then attempt number.
    pub data: Vec<DeliveryAttempt>,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryAttempt {
    /// Always `delivery_attempt`.
    pub object: &'static str,
    pub endpoint: String,
    /// The delivery this attempt belongs to (a redelivery is another).
    pub delivery_id: i64,
    /// 1-based, per delivery.
    pub attempt: i64,
    /// When the attempt was made (RFC 3339, UTC).
    pub at: String,
    /// The receiver's HTTP status; `null` when none came.
    pub status: Option<u16>,
    /// Why it failed, when no status says it (timeout, no connection).
    pub error: Option<String>,
    pub duration_ms: i64,
    /// The delivery's state now: `pending`, `delivered` or `failed`.
    pub state: String,
}

fn no_such_event() -> Error {
    Error::new(ErrorCode::NotFound, "no such event")
}

fn store_failed(e: store::StoreError) -> Error {
    tracing::error!(error = %e, "the store failed");
    let mut error = Error::new(
        ErrorCode::Internal,
        "the gateway's store is unavailable; retry later (see the gateway's log)",
    );
    error.retryable = true;
    error
}

#[utoipa::path(post, path = "/v1/events/{id}/redeliver", tag = "events",
    params(("id" = String, Path, description = "The event's id (`evt_…`)")),
    request_body(content = Option<RedeliverRequest>, description = "Optional: the endpoints to send to"),
    responses(
        (status = 202, description = "Deliveries made; they are sent shortly (`admin` scope)", body = Redelivery),
        (status = 400, description = "`invalid_request`: the body is not `{\"endpoints\": [names]}`, or names an endpoint that is not configured", body = checkout_core::error::ErrorBody),
        (status = 404, description = "`not_found`: no such event (or no longer kept)", body = checkout_core::error::ErrorBody),
        (status = 409, description = "`invalid_state`: a named endpoint is disabled (its receiver answered 410)", body = checkout_core::error::ErrorBody),
        (status = 500, description = "`internal`: the store is unavailable (retryable)", body = checkout_core::error::ErrorBody),
    ),
    security(("client_key" = [])))]
pub async fn redeliver_event(
    Current(state): Current,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Redelivery>), ApiError> {
    state.authorize(&headers, Scope::Admin)?;
    let request: RedeliverRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RedeliverRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|_| {
            Error::invalid_request(
                "the body is optional; when given: {\"endpoints\": [\"<endpoint name>\", …]}",
            )
        })?
    };
    if let Some(named) = &request.endpoints {
        for name in named {
            if state.webhooks.get(name).is_none() {
                return Err(Error::invalid_request(format!(
                    "endpoints: {name:?} is not a configured webhook endpoint"
                ))
                .into());
            }
        }
    }
    let store = state.feed.store().await?;
    let event = store
        .event(&id)
        .await
        .map_err(store_failed)?
        .ok_or_else(no_such_event)?;
    let endpoints = chosen(&state, store, request.endpoints, &event).await?;
    let names: Vec<&str> = endpoints.iter().map(String::as_str).collect();
    let made = store
        .redeliver(&id, &names, Utc::now().timestamp_millis())
        .await
        .map_err(store_failed)?;
    if made == 0 && !names.is_empty() {
        // Purged between the read and the redelivery.
        return Err(no_such_event().into());
    }
    tracing::info!(event_id = %id, endpoints = ?names, "event redelivery requested");
    Ok((
        StatusCode::ACCEPTED,
        Json(Redelivery {
            object: "redelivery",
            event: id,
            endpoints,
            deliveries: made,
        }),
    ))
}

/// The endpoints named (each enabled), or else every enabled endpoint
/// whose filter takes the event.
async fn chosen(
    state: &AppState,
    store: &store::Store,
    named: Option<Vec<String>>,
    event: &store::StoredEvent,
) -> Result<Vec<String>, Error> {
    let candidates: Vec<String> = match &named {
        Some(named) => named.clone(),
        None => state
            .webhooks
            .endpoints()
            .filter(|endpoint| endpoint.wants(&event.kind, &event.account))
            .map(|endpoint| endpoint.name.clone())
            .collect(),
    };
    let mut chosen = Vec::new();
    for name in candidates {
        if chosen.contains(&name) {
            continue;
        }
        let endpoint = store.webhook_endpoint(&name).await.map_err(store_failed)?;
        if endpoint.disabled_ms.is_none() {
            chosen.push(name);
        } else if named.is_some() {
            return Err(Error::new(
                ErrorCode::InvalidState,
                format!(
                    "endpoint {name:?} is disabled (its receiver answered 410 Gone); \
                     give it another url or secret and reload to enable it"
                ),
            ));
        }
    }
    Ok(chosen)
}

#[utoipa::path(get, path = "/v1/events/{id}/deliveries", tag = "events",
    params(("id" = String, Path, description = "The event's id (`evt_…`)")),
    responses(
        (status = 200, description = "Every attempt at delivering the event (`admin` scope)", body = DeliveryAttempts),
        (status = 404, description = "`not_found`: no such event (or no longer kept)", body = checkout_core::error::ErrorBody),
        (status = 500, description = "`internal`: the store is unavailable (retryable)", body = checkout_core::error::ErrorBody),
    ),
    security(("client_key" = [])))]
pub async fn event_deliveries(
    Current(state): Current,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<DeliveryAttempts>, ApiError> {
    state.authorize(&headers, Scope::Admin)?;
    let store = state.feed.store().await?;
    if store.event(&id).await.map_err(store_failed)?.is_none() {
        return Err(no_such_event().into());
    }
    let attempts = store.attempts(&id).await.map_err(store_failed)?;
    let data = attempts
        .into_iter()
        .map(|row| DeliveryAttempt {
            object: "delivery_attempt",
            endpoint: row.endpoint,
            delivery_id: row.delivery_id,
            attempt: row.attempt,
            at: DateTime::<Utc>::from_timestamp_millis(row.at_ms)
                .unwrap_or_default()
                .to_rfc3339_opts(SecondsFormat::Millis, true),
            status: row.status,
            error: row.error,
            duration_ms: row.duration_ms,
            state: row.state,
        })
        .collect();
    Ok(Json(DeliveryAttempts {
        object: "list",
        event: id,
        data,
    }))
}
