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

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::model::{Session, SessionResponse, Style};
use super::store::{Move, Purchase};
use super::Frontier;
use crate::kit::clock::now_micros;
use crate::kit::control::{self, Body, ControlError, Refused, SessionControls};

pub fn router(f: Arc<Frontier>) -> Router {
    let extra = Router::new()
        .route("/sync", post(sync))
        .route("/billing-provider", post(billing_provider));
    control::router(f, extra)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    payment_status: Option<String>,
    #[serde(default)]
    expire_at: Option<DateTime<Utc>>,
}

impl SessionControls for Frontier {
    const NOUN: &'static str = "checkout";
    type Id = Uuid;
    type Move = MoveBody;

    fn parse_id(raw: &str) -> Result<Uuid, ControlError> {
        Uuid::parse_str(raw).map_err(|e| ControlError::bad_request(e.to_string()))
    }

    /// The session plus what Frontier keeps private.
    fn inspect(&self, id: Uuid, _: &HeaderMap) -> Result<Response, Refused> {
        let c = self.store.checkout(id).map_err(|_| Refused::NotFound)?;
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
        .map_err(|e| {
            ControlError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
        })?;
        Ok(Json(json!({
            "checkout_session": session,
            "org_id": c.org.to_string(),
            "provider_id": c.provider_id,
            "payment_status": c.payment_status,
            "quantity": quantity,
            "skip_trial": skip_trial,
            "cancel_after_trial": cancel_after_trial,
        }))
        .into_response())
    }

    fn apply(&self, id: Uuid, body: MoveBody, _: &HeaderMap) -> Result<Response, Refused> {
        let change = Move {
            state: body.state,
            payment_status: body.payment_status,
            expire_at: body.expire_at,
        };
        let checkout = self.store.apply(id, change).map_err(|e| {
            e.refused(|(from_state, from_payment), (to_state, to_payment)| {
                format!("illegal transition {from_state}/{from_payment} -> {to_state}/{to_payment} (state/payment_status)")
            })
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
}

async fn sync(State(f): State<Arc<Frontier>>) -> Json<Value> {
    Json(json!({ "expired": f.store.sync(now_micros()) }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderBody {
    available: bool,
}

async fn billing_provider(
    State(f): State<Arc<Frontier>>,
    Body(body): Body<ProviderBody>,
) -> Json<Value> {
    f.store.set_provider_available(body.available);
    Json(json!({ "available": body.available }))
}
