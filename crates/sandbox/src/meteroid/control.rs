//! Test and demo controls for the Meteroid emulation (no vendor auth):
//! move a session along its lifecycle, run the expiry worker, see what a
//! session stored but the API never returns (metadata).
//! Mounted at `/_sandbox/meteroid`.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};

use super::ids::{CheckoutSession as SessionKind, Id};
use super::model::{SessionResponse, Status};
use super::store::{self, Move, MoveError};
use super::Meteroid;
use crate::control::ControlError;

pub fn router(m: Arc<Meteroid>) -> Router {
    Router::new()
        .route("/sessions/{id}", get(inspect).post(move_session))
        .route("/expire-overdue", post(expire_overdue))
        .with_state(m)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveBody {
    #[serde(default)]
    status: Option<Status>,
    /// Absent: unchanged; `null`: never expires; a timestamp: that moment.
    #[serde(default, deserialize_with = "present")]
    expires_at: Option<Option<DateTime<Utc>>>,
}

fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

fn parse_id(raw: &str) -> Result<Id<SessionKind>, ControlError> {
    Id::parse(raw).map_err(|e| ControlError::new(StatusCode::BAD_REQUEST, e.to_string()))
}

fn not_found(raw: &str) -> ControlError {
    ControlError::new(StatusCode::NOT_FOUND, format!("no session {raw}"))
}

/// The session as `get` renders it, plus its stored metadata.
async fn inspect(
    State(m): State<Arc<Meteroid>>,
    Path(raw_id): Path<String>,
) -> Result<Json<Value>, ControlError> {
    let session = m
        .store
        .get(parse_id(&raw_id)?)
        .ok_or_else(|| not_found(&raw_id))?;
    let now = store::now();
    let url = m.url_if_open(&session, now);
    Ok(Json(json!({
        "session": session.render(url),
        "metadata": session.request.metadata,
    })))
}

async fn move_session(
    State(m): State<Arc<Meteroid>>,
    Path(raw_id): Path<String>,
    body: Result<Json<MoveBody>, JsonRejection>,
) -> Result<Json<SessionResponse>, ControlError> {
    let id = parse_id(&raw_id)?;
    let Json(body) = body.map_err(|e| ControlError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let now = store::now();
    let change = Move {
        status: body.status,
        expires_at: body.expires_at,
    };
    let session = m.store.apply(id, change, now).map_err(|e| match e {
        MoveError::NotFound => not_found(&raw_id),
        MoveError::Illegal { from, to } => ControlError::new(
            StatusCode::CONFLICT,
            format!("illegal transition {} -> {}", from.as_str(), to.as_str()),
        ),
    })?;
    let url = m.url_if_open(&session, now);
    Ok(Json(SessionResponse {
        session: session.render(url),
    }))
}

/// One run of the vendor's hourly worker, now.
async fn expire_overdue(State(m): State<Arc<Meteroid>>) -> Json<Value> {
    let (expired, deleted) = m.run_worker_once();
    Json(json!({ "expired": expired, "deleted": deleted }))
}
