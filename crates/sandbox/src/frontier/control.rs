//! Test and demo controls for the Frontier emulation (no vendor auth),
//! mounted at `/_sandbox/frontier`:
//!
//! - `GET /sessions/{id}`: the session plus what Frontier keeps private
//!   (org, Stripe id, payment status, what was bought);
//! - `POST /sessions/{id}` `{"state"?, "payment_status"?, "expire_at"?}`:
//!   what Stripe's webhooks or the sync would write (`complete` defaults to
//!   `paid`, which subscribes the org to the plan);
//! - `POST /sync`: run the once-a-minute sync now;
//! - `POST /billing-provider` `{"available": bool}`: Stripe up or down.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::model::{Session, SessionResponse, Style};
use super::store::{self, Move, MoveError, Purchase};
use super::Frontier;
use crate::kit::control::ControlError;

pub fn router(f: Arc<Frontier>) -> Router {
    Router::new()
        .route("/sessions/{id}", get(inspect).post(move_session))
        .route("/sync", post(sync))
        .route("/billing-provider", post(billing_provider))
        .with_state(f)
}

fn parse_id(raw: &str) -> Result<Uuid, ControlError> {
    Uuid::parse_str(raw).map_err(|e| ControlError::new(StatusCode::BAD_REQUEST, e.to_string()))
}

fn not_found(raw: &str) -> ControlError {
    ControlError::new(StatusCode::NOT_FOUND, format!("no checkout {raw}"))
}

fn bad_body(e: JsonRejection) -> ControlError {
    ControlError::new(StatusCode::BAD_REQUEST, e.body_text())
}

async fn inspect(
    State(f): State<Arc<Frontier>>,
    Path(raw_id): Path<String>,
) -> Result<Json<Value>, ControlError> {
    parse_id(&raw_id)?;
    let c = f.store.get(&raw_id).map_err(|_| not_found(&raw_id))?;
    let (quantity, skip_trial, cancel_after_trial) = match c.purchase {
        Purchase::Product { quantity, .. } => (Some(quantity), None, None),
        Purchase::Plan {
            skip_trial,
            cancel_after_trial,
            ..
        } => (None, Some(skip_trial), Some(cancel_after_trial)),
        Purchase::Setup => (None, None, None),
    };
    let session = serde_json::to_value(Session {
        checkout: &c,
        style: Style::Connect,
    })
    .map_err(|e| ControlError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(Json(json!({
        "checkout_session": session,
        "org_id": c.org.to_string(),
        "provider_id": c.provider_id,
        "payment_status": c.payment_status,
        "quantity": quantity,
        "skip_trial": skip_trial,
        "cancel_after_trial": cancel_after_trial,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveBody {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    payment_status: Option<String>,
    #[serde(default)]
    expire_at: Option<DateTime<Utc>>,
}

async fn move_session(
    State(f): State<Arc<Frontier>>,
    Path(raw_id): Path<String>,
    body: Result<Json<MoveBody>, JsonRejection>,
) -> Result<Response, ControlError> {
    let id = parse_id(&raw_id)?;
    let Json(body) = body.map_err(bad_body)?;
    let change = Move {
        state: body.state,
        payment_status: body.payment_status,
        expire_at: body.expire_at,
    };
    let checkout = f.store.apply(id, change).map_err(|e| match e {
        MoveError::NotFound => not_found(&raw_id),
        MoveError::Illegal { from, to } => ControlError::new(
            StatusCode::CONFLICT,
            format!("illegal transition {from} -> {to} (state/payment_status)"),
        ),
    })?;
    // Typed, so the fields keep Frontier's order.
    Ok(Json(SessionResponse {
        checkout_session: Session {
            checkout: &checkout,
            style: Style::Connect,
        },
    })
    .into_response())
}

async fn sync(State(f): State<Arc<Frontier>>) -> Json<Value> {
    Json(json!({ "expired": f.store.sync(store::now()) }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderBody {
    available: bool,
}

async fn billing_provider(
    State(f): State<Arc<Frontier>>,
    body: Result<Json<ProviderBody>, JsonRejection>,
) -> Result<Json<Value>, ControlError> {
    let Json(body) = body.map_err(bad_body)?;
    f.store.set_provider_available(body.available);
    Ok(Json(json!({ "available": body.available })))
}
