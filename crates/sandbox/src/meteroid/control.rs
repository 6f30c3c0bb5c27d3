//! Test and demo controls for the Meteroid emulation (no vendor auth):
//! move a session along its lifecycle, run the expiry worker, see what a
//! session stored but the API never returns (metadata).
//! Mounted at `/_sandbox/meteroid`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::ids::{CheckoutSession as SessionKind, Id};
use super::model::{SessionResponse, Status};
use super::store::Move;
use super::Meteroid;
use crate::kit::clock::now_micros;
use crate::kit::control::{self, ControlError, Refused, SessionControls};

pub fn router(m: Arc<Meteroid>) -> Router {
    let extra = Router::new().route("/expire-overdue", post(expire_overdue));
    control::router(m, extra)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    #[serde(default)]
    status: Option<Status>,
    /// Absent: unchanged; `null`: never expires; a timestamp: that moment.
    #[serde(default, deserialize_with = "control::present")]
    expires_at: Option<Option<DateTime<Utc>>>,
}

impl SessionControls for Meteroid {
    const NOUN: &'static str = "session";
    type Id = Id<SessionKind>;
    type Move = MoveBody;

    fn parse_id(raw: &str) -> Result<Id<SessionKind>, ControlError> {
        Id::parse(raw).map_err(|e| ControlError::bad_request(e.to_string()))
    }

    /// The session as `get` renders it, plus its stored metadata.
    fn inspect(&self, id: Id<SessionKind>, _: &HeaderMap) -> Result<Response, Refused> {
        let session = self.store.get(id).ok_or(Refused::NotFound)?;
        let url = self.url_if_open(&session, now_micros());
        Ok(Json(json!({
            "session": session.render(url),
            "metadata": session.metadata,
        }))
        .into_response())
    }

    fn apply(
        &self,
        id: Id<SessionKind>,
        body: MoveBody,
        _: &HeaderMap,
    ) -> Result<Response, Refused> {
        let now = now_micros();
        let change = Move {
            status: body.status,
            expires_at: body.expires_at,
            at: now,
        };
        let session = self.store.apply(id, change).map_err(|e| {
            e.refused(|from, to| format!("illegal transition {} -> {}", from.as_str(), to.as_str()))
        })?;
        let url = self.url_if_open(&session, now);
        Ok(Json(SessionResponse {
            session: session.render(url),
        })
        .into_response())
    }
}

/// One run of the vendor's hourly worker, now.
async fn expire_overdue(State(m): State<Arc<Meteroid>>) -> Json<Value> {
    let (expired, deleted) = m.run_worker_once();
    Json(json!({ "expired": expired, "deleted": deleted }))
}
