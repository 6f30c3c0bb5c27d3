//! Test and demo controls for the Flowglad emulation (no vendor auth),
//! mounted at `/_sandbox/flowglad`:
//!
//! - `GET /sessions/{id}`: the session as get renders it.
//! - `POST /sessions/{id}`: what the hosted page and Stripe do to it:
//!   `{"status"?, "expires_at"? (RFC 3339 or epoch ms), "billing_address"?,
//!   "payment_method_type"?}`.
//! - `POST /rate-limit`: `{"requests": n, "message"?}`: the next `n` calls
//!   with a valid key get Unkey's rate-limit 401 (the vendor's text unless
//!   `message` says otherwise).
//! - `POST /error-form`: `{"form": "server" | "documented"}`: JSON errors as
//!   the server sends them, or as the vendor's OpenAPI documents them.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};

use super::error::ErrorForm;
use super::model::{BillingAddress, PaymentMethodType, SessionResponse, Status};
use super::routes::url;
use super::store::{self, Move, MoveError};
use super::Flowglad;
use crate::kit::control::ControlError;

pub fn router(fg: Arc<Flowglad>) -> Router {
    Router::new()
        .route("/sessions/{id}", get(inspect).post(move_session))
        .route("/rate-limit", post(rate_limit))
        .route("/error-form", post(error_form))
        .with_state(fg)
}

fn not_found(id: &str) -> ControlError {
    ControlError::new(StatusCode::NOT_FOUND, format!("no session {id}"))
}

fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ControlError> {
    body.map(|Json(b)| b)
        .map_err(|e| ControlError::new(StatusCode::BAD_REQUEST, e.body_text()))
}

async fn inspect(
    State(fg): State<Arc<Flowglad>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<SessionResponse>, ControlError> {
    let record = fg.store.get(&id).ok_or_else(|| not_found(&id))?;
    let url = url(&fg.app_url(&headers), &record, false);
    Ok(Json(SessionResponse {
        checkout_session: record,
        url,
    }))
}

/// An instant as RFC 3339 or as epoch milliseconds.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Instant {
    Millis(i64),
    Text(DateTime<Utc>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveBody {
    #[serde(default)]
    status: Option<Status>,
    #[serde(default)]
    expires_at: Option<Instant>,
    /// Absent: unchanged; `null`: cleared.
    #[serde(default, deserialize_with = "present")]
    billing_address: Option<Option<BillingAddress>>,
    #[serde(default, deserialize_with = "present")]
    payment_method_type: Option<Option<PaymentMethodType>>,
}

fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

async fn move_session(
    State(fg): State<Arc<Flowglad>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<MoveBody>, JsonRejection>,
) -> Result<Json<SessionResponse>, ControlError> {
    let body = json_body(body)?;
    let change = Move {
        status: body.status,
        expires: body.expires_at.map(|at| match at {
            Instant::Millis(ms) => ms,
            Instant::Text(t) => t.timestamp_millis(),
        }),
        billing_address: body.billing_address,
        payment_method_type: body.payment_method_type,
    };
    let record = fg
        .store
        .apply(&id, change, store::now_ms())
        .map_err(|e| match e {
            MoveError::NotFound => not_found(&id),
            MoveError::Terminal { from, to } => ControlError::new(
                StatusCode::CONFLICT,
                format!(
                    "checkout session {id} is in terminal state: {} (cannot move to {})",
                    from.as_str(),
                    to.as_str()
                ),
            ),
        })?;
    let url = url(&fg.app_url(&headers), &record, false);
    Ok(Json(SessionResponse {
        checkout_session: record,
        url,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitBody {
    requests: u32,
    #[serde(default)]
    message: Option<String>,
}

async fn rate_limit(
    State(fg): State<Arc<Flowglad>>,
    body: Result<Json<RateLimitBody>, JsonRejection>,
) -> Result<Json<Value>, ControlError> {
    let body = json_body(body)?;
    fg.set_rate_limit(body.requests, body.message);
    Ok(Json(json!({ "remaining": body.requests })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorFormBody {
    form: FormName,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum FormName {
    Server,
    Documented,
}

async fn error_form(
    State(fg): State<Arc<Flowglad>>,
    body: Result<Json<ErrorFormBody>, JsonRejection>,
) -> Result<Json<Value>, ControlError> {
    let body = json_body(body)?;
    let (form, name) = match body.form {
        FormName::Server => (ErrorForm::Server, "server"),
        FormName::Documented => (ErrorForm::Documented, "documented"),
    };
    fg.set_error_form(form);
    Ok(Json(json!({ "form": name })))
}
