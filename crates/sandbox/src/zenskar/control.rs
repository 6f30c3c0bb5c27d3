//! Test and demo controls for the Zenskar emulation (no vendor auth),
//! mounted at `/_sandbox/zenskar`: move a session of either family along
//! its lifecycle, read it as the API would, make the next calls fail.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use super::store::{
    MoveA, MoveB, Refusal, SessionA, SessionB, CONFIRMATIONS, PAYMENT_OUTCOMES, REASON_TYPES,
};
use super::Zenskar;
use crate::kit::clock::now_micros;
use crate::kit::control::{self, ControlError, Refused, SessionControls};

pub fn router(z: Arc<Zenskar>) -> Router {
    control::router(z, Router::new().route("/fail-next", post(fail_next)))
}

/// `{"action": …}`. Family A (`/checkout`): `confirm` (with `confirmation`,
/// default `charge_immediately`), `cancel` (`reason_type`, `reason`,
/// `reference_id`), `process`, `payment` (`payment_status`: pending, paid,
/// failed), `expire` (→ `closed`). Family B (`/checkouts`): `submit`
/// (→ `pending`), `pay` (→ `payment_succeeded`), `confirm`, `expire`,
/// `status` (any `checkout_status`). Both: `set_expiry` (`expires_at`).
#[derive(Debug, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
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
            ControlError::bad_request(format!("{what} must be one of {}", allowed.join(", ")))
        })
}

impl From<Refusal> for Refused {
    fn from(r: Refusal) -> Refused {
        match r {
            Refusal::NotFound => Refused::NotFound,
            Refusal::Rule(m) => ControlError::conflict(m).into(),
        }
    }
}

fn only(family: &str, action: &str) -> Refused {
    ControlError::conflict(format!(
        "`{action}` applies to family {family} sessions only"
    ))
    .into()
}

/// `{"family", "session"}`, the session as its family's get renders it
/// (key order kept).
#[derive(Serialize)]
struct Rendered<T> {
    family: &'static str,
    session: T,
}

fn rendered(z: &Zenskar, id: Uuid) -> Option<Response> {
    match z.store.get::<SessionA>(id) {
        Some(s) => Some(shown("checkout", s.render())),
        None => z
            .store
            .get::<SessionB>(id)
            .map(|s| shown("checkouts", s.render())),
    }
}

fn shown<T: Serialize>(family: &'static str, session: T) -> Response {
    Json(Rendered { family, session }).into_response()
}

impl SessionControls for Zenskar {
    const NOUN: &'static str = "Zenskar session";
    type Id = Uuid;
    type Move = Action;

    fn parse_id(raw: &str) -> Result<Uuid, ControlError> {
        Uuid::parse_str(raw).map_err(|_| ControlError::bad_request("not a UUID"))
    }

    fn inspect(&self, id: Uuid, _: &HeaderMap) -> Result<Response, Refused> {
        rendered(self, id).ok_or(Refused::NotFound)
    }

    fn apply(&self, id: Uuid, action: Action, _: &HeaderMap) -> Result<Response, Refused> {
        let now = now_micros();
        if self.store.get::<SessionA>(id).is_some() {
            self.move_a(id, action, now)?;
        } else {
            self.move_b(id, action, now)?;
        }
        rendered(self, id).ok_or(Refused::NotFound)
    }
}

impl Zenskar {
    fn move_a(&self, id: Uuid, action: Action, now: DateTime<Utc>) -> Result<(), Refused> {
        let store = &self.store;
        match action {
            Action::Confirm { confirmation } => {
                let mode = pick(
                    CONFIRMATIONS,
                    confirmation.as_deref().unwrap_or("charge_immediately"),
                    "confirmation",
                )?;
                store.confirm_a(id, mode, now)?;
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
                    return Err(ControlError::bad_request(
                        "reason is required when reason_type is 'other'",
                    )
                    .into());
                }
                store.cancel_a(id, reason_type, reason, reference_id, now)?;
            }
            Action::Process => {
                store.move_a(id, MoveA::Process, now)?;
            }
            Action::Payment { payment_status } => {
                let outcome = pick(PAYMENT_OUTCOMES, &payment_status, "payment_status")?;
                store.move_a(id, MoveA::Payment(outcome), now)?;
            }
            Action::Expire => {
                store.move_a(id, MoveA::Expire, now)?;
            }
            Action::SetExpiry { expires_at } => {
                store.move_a(id, MoveA::SetExpiry(Some(expires_at)), now)?;
            }
            Action::Submit => return Err(only("checkouts", "submit")),
            Action::Pay => return Err(only("checkouts", "pay")),
            Action::Status { .. } => return Err(only("checkouts", "status")),
        }
        Ok(())
    }

    fn move_b(&self, id: Uuid, action: Action, now: DateTime<Utc>) -> Result<(), Refused> {
        let store = &self.store;
        match action {
            Action::Confirm { confirmation: None } => {
                store.confirm_b(id, now)?;
            }
            Action::Confirm {
                confirmation: Some(_),
            } => {
                return Err(ControlError::bad_request(
                    "family checkouts confirms without a confirmation mode",
                )
                .into())
            }
            Action::Submit => {
                store.move_b(id, MoveB::Submit, now)?;
            }
            Action::Pay => {
                store.move_b(id, MoveB::Pay, now)?;
            }
            Action::Expire => {
                store.move_b(id, MoveB::Expire, now)?;
            }
            Action::Status { checkout_status } => {
                store.move_b(id, MoveB::Status(checkout_status), now)?;
            }
            Action::SetExpiry { expires_at } => {
                store.move_b(id, MoveB::SetExpiry(expires_at), now)?;
            }
            Action::Cancel { .. } => return Err(only("checkout", "cancel")),
            Action::Process => return Err(only("checkout", "process")),
            Action::Payment { .. } => return Err(only("checkout", "payment")),
        }
        Ok(())
    }
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
