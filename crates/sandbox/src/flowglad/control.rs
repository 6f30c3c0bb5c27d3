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
//! - `POST /webhooks`: `{"url", "secret": "whsec_…"}`: send Flowglad's
//!   webhooks (`purchase.completed` when a product checkout succeeds,
//!   signed as Svix does) there; `GET /webhooks`: what was sent and what
//!   came back; `DELETE /webhooks`: stop sending.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ErrorForm;
use super::model::{BillingAddress, PaymentMethodType, Record, SessionResponse, Status};
use super::routes::url;
use super::store::Move;
use super::webhooks::WebhookTarget;
use super::Flowglad;
use crate::kit::clock::now_ms;
use crate::kit::control::{self, Body, ControlError, Refused, SessionControls};

pub fn router(fg: Arc<Flowglad>) -> Router {
    let extra = Router::new()
        .route("/rate-limit", post(rate_limit))
        .route("/error-form", post(error_form))
        .route(
            "/webhooks",
            post(set_webhooks).get(deliveries).delete(clear_webhooks),
        );
    control::router(fg, extra)
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
pub struct MoveBody {
    #[serde(default)]
    status: Option<Status>,
    #[serde(default)]
    expires_at: Option<Instant>,
    /// Absent: unchanged; `null`: cleared.
    #[serde(default, deserialize_with = "control::present")]
    billing_address: Option<Option<BillingAddress>>,
    #[serde(default, deserialize_with = "control::present")]
    payment_method_type: Option<Option<PaymentMethodType>>,
}

impl Flowglad {
    /// The session as get renders it, URLs on the caller's host.
    fn shown(&self, headers: &HeaderMap, record: Record) -> Response {
        let url = url(&self.app_url(headers), &record, false);
        Json(SessionResponse {
            checkout_session: record,
            url,
        })
        .into_response()
    }
}

impl SessionControls for Flowglad {
    const NOUN: &'static str = "session";
    type Id = String;
    type Move = MoveBody;

    fn parse_id(raw: &str) -> Result<String, ControlError> {
        Ok(raw.to_owned())
    }

    fn inspect(&self, id: String, headers: &HeaderMap) -> Result<Response, Refused> {
        let record = self.store.get(&id).ok_or(Refused::NotFound)?;
        Ok(self.shown(headers, record))
    }

    fn apply(&self, id: String, body: MoveBody, headers: &HeaderMap) -> Result<Response, Refused> {
        let change = Move {
            status: body.status,
            expires: body.expires_at.map(|at| match at {
                Instant::Millis(ms) => ms,
                Instant::Text(t) => t.timestamp_millis(),
            }),
            billing_address: body.billing_address,
            payment_method_type: body.payment_method_type,
            at: now_ms(),
        };
        let before = self.store.get(&id).map(|r| r.status);
        let record = self.store.apply(&id, change).map_err(|e| {
            e.refused(|from, to| {
                format!(
                    "checkout session {id} is in terminal state: {} (cannot move to {})",
                    from.as_str(),
                    to.as_str()
                )
            })
        })?;
        if record.status == Status::Succeeded && before != Some(Status::Succeeded) {
            self.webhooks.completed(&record);
        }
        Ok(self.shown(headers, record))
    }
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
    Body(body): Body<RateLimitBody>,
) -> Json<Value> {
    fg.set_rate_limit(body.requests, body.message);
    Json(json!({ "remaining": body.requests }))
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
    Body(body): Body<ErrorFormBody>,
) -> Json<Value> {
    let (form, name) = match body.form {
        FormName::Server => (ErrorForm::Server, "server"),
        FormName::Documented => (ErrorForm::Documented, "documented"),
    };
    fg.set_error_form(form);
    Json(json!({ "form": name }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhooksBody {
    url: String,
    secret: String,
}

async fn set_webhooks(
    State(fg): State<Arc<Flowglad>>,
    Body(body): Body<WebhooksBody>,
) -> Result<Json<Value>, ControlError> {
    let target = WebhookTarget {
        url: body.url,
        secret: body.secret,
    };
    fg.webhooks
        .set(&target)
        .map_err(ControlError::bad_request)?;
    Ok(Json(json!({ "url": target.url })))
}

async fn deliveries(State(fg): State<Arc<Flowglad>>) -> Json<Value> {
    Json(json!({ "deliveries": fg.webhooks.deliveries() }))
}

async fn clear_webhooks(State(fg): State<Arc<Flowglad>>) -> Json<Value> {
    fg.webhooks.clear();
    Json(json!({ "url": null }))
}
