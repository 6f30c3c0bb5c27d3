//! Test and demo controls for the Zenskar emulation (no vendor auth),
//! mounted at `/_sandbox/zenskar`: move a session of either family along
//! its lifecycle, read it as the API would, make the next calls fail.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use super::store::{self, MoveA, MoveB, Refusal, CONFIRMATIONS, PAYMENT_OUTCOMES, REASON_TYPES};
use super::Zenskar;
use crate::kit::control::ControlError;

pub fn router(z: Arc<Zenskar>) -> Router {
    Router::new()
        .route("/sessions/{id}", get(inspect).post(move_session))
        .route("/fail-next", post(fail_next))
        .with_state(z)
}

/// `{"action": …}`. Family A (`/checkout`): `confirm` (with `confirmation`,
/// default `charge_immediately`), `cancel` (`reason_type`, `reason`,
/// `reference_id`), `process`, `payment` (`payment_status`: pending, paid,
/// failed), `expire` (→ `closed`). Family B (`/checkouts`): `submit`
/// (→ `pending`), `pay` (→ `payment_succeeded`), `confirm`, `expire`,
/// `status` (any `checkout_status`). Both: `set_expiry` (`expires_at`).
#[derive(Debug, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
enum Action {
    Confirm {
        #[serde(default)]
        confirmation: Option<String>,
    },
    Cancel {
        #[serde(default)]
        reason_type: Option<String>,
        #[serde(default)]
        reason: Option<String>,
        #[serde(default)]
        reference_id: Option<String>,
    },
    Process,
    Payment {
        payment_status: String,
    },
    Expire,
    Submit,
    Pay,
    Status {
        checkout_status: String,
    },
    SetExpiry {
        expires_at: DateTime<Utc>,
    },
}

fn not_found(raw: &str) -> ControlError {
    ControlError::new(StatusCode::NOT_FOUND, format!("no Zenskar session {raw}"))
}

fn parse_id(raw: &str) -> Result<Uuid, ControlError> {
    Uuid::parse_str(raw).map_err(|_| ControlError::new(StatusCode::BAD_REQUEST, "not a UUID"))
}

fn pick(
    allowed: &'static [&'static str],
    given: &str,
    what: &str,
) -> Result<&'static str, ControlError> {
    allowed
        .iter()
        .copied()
        .find(|a| *a == given)
        .ok_or_else(|| {
            ControlError::new(
                StatusCode::BAD_REQUEST,
                format!("{what} must be one of {}", allowed.join(", ")),
            )
        })
}

fn refused(r: Refusal, raw: &str) -> ControlError {
    match r {
        Refusal::NotFound => not_found(raw),
        Refusal::Rule(m) => ControlError::new(StatusCode::CONFLICT, m),
    }
}

fn only(family: &str, action: &str) -> ControlError {
    ControlError::new(
        StatusCode::CONFLICT,
        format!("`{action}` applies to family {family} sessions only"),
    )
}

/// `{"family", "session"}`, the session as its family's get renders it
/// (key order kept).
#[derive(Serialize)]
struct Rendered<T> {
    family: &'static str,
    session: T,
}

fn rendered(z: &Zenskar, id: Uuid) -> Option<Response> {
    if let Some(s) = z.store.get_a(id) {
        let body = Rendered {
            family: "checkout",
            session: s.render(),
        };
        return Some(Json(body).into_response());
    }
    z.store.get_b(id).map(|s| {
        let body = Rendered {
            family: "checkouts",
            session: s.render(),
        };
        Json(body).into_response()
    })
}

async fn inspect(
    State(z): State<Arc<Zenskar>>,
    Path(raw): Path<String>,
) -> Result<Response, ControlError> {
    rendered(&z, parse_id(&raw)?).ok_or_else(|| not_found(&raw))
}

async fn move_session(
    State(z): State<Arc<Zenskar>>,
    Path(raw): Path<String>,
    body: Result<Json<Action>, JsonRejection>,
) -> Result<Response, ControlError> {
    let id = parse_id(&raw)?;
    let Json(action) =
        body.map_err(|e| ControlError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let now = store::now();
    let family_a = z.store.get_a(id).is_some();
    let result = if family_a {
        match action {
            Action::Confirm { confirmation } => {
                let mode = pick(
                    CONFIRMATIONS,
                    confirmation.as_deref().unwrap_or("charge_immediately"),
                    "confirmation",
                )?;
                z.store.confirm_a(id, mode, now).map(|_| ())
            }
            Action::Cancel {
                reason_type,
                reason,
                reference_id,
            } => {
                let reason_type = reason_type
                    .as_deref()
                    .map(|r| pick(REASON_TYPES, r, "reason_type"))
                    .transpose()?;
                if reason_type == Some("other") && reason.is_none() {
                    return Err(ControlError::new(
                        StatusCode::BAD_REQUEST,
                        "reason is required when reason_type is 'other'",
                    ));
                }
                z.store
                    .cancel_a(id, reason_type, reason, reference_id, now)
                    .map(|_| ())
            }
            Action::Process => z.store.move_a(id, MoveA::Process, now).map(|_| ()),
            Action::Payment { payment_status } => {
                let outcome = pick(PAYMENT_OUTCOMES, &payment_status, "payment_status")?;
                z.store.move_a(id, MoveA::Payment(outcome), now).map(|_| ())
            }
            Action::Expire => z.store.move_a(id, MoveA::Expire, now).map(|_| ()),
            Action::SetExpiry { expires_at } => z
                .store
                .move_a(id, MoveA::SetExpiry(Some(expires_at)), now)
                .map(|_| ()),
            Action::Submit => return Err(only("checkouts", "submit")),
            Action::Pay => return Err(only("checkouts", "pay")),
            Action::Status { .. } => return Err(only("checkouts", "status")),
        }
    } else {
        match action {
            Action::Confirm { confirmation: None } => z.store.confirm_b(id, now).map(|_| ()),
            Action::Confirm {
                confirmation: Some(_),
            } => {
                return Err(ControlError::new(
                    StatusCode::BAD_REQUEST,
                    "family checkouts confirms without a confirmation mode",
                ))
            }
            Action::Submit => z.store.move_b(id, MoveB::Submit, now).map(|_| ()),
            Action::Pay => z.store.move_b(id, MoveB::Pay, now).map(|_| ()),
            Action::Expire => z.store.move_b(id, MoveB::Expire, now).map(|_| ()),
            Action::Status { checkout_status } => z
                .store
                .move_b(id, MoveB::Status(checkout_status), now)
                .map(|_| ()),
            Action::SetExpiry { expires_at } => z
                .store
                .move_b(id, MoveB::SetExpiry(expires_at), now)
                .map(|_| ()),
            Action::Cancel { .. } => return Err(only("checkout", "cancel")),
            Action::Process => return Err(only("checkout", "process")),
            Action::Payment { .. } => return Err(only("checkout", "payment")),
        }
    };
    result.map_err(|r| refused(r, &raw))?;
    rendered(&z, id).ok_or_else(|| not_found(&raw))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FailNext {
    #[serde(default)]
    count: Option<u32>,
}

/// The next `count` (default 1) Zenskar API calls answer Starlette's 500.
async fn fail_next(State(z): State<Arc<Zenskar>>, body: Option<Json<FailNext>>) -> Json<Value> {
    let count = body.and_then(|Json(b)| b.count).unwrap_or(1);
    z.failures.store(count, Ordering::SeqCst);
    Json(json!({ "failing_next": count }))
}
