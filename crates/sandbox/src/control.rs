//! The shared control routes under `/_sandbox` (not part of any vendor's
//! API, no vendor auth): call counts, plus each vendor's own controls
//! nested at `/_sandbox/<vendor>`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::calls::{CallCounter, CallCounts};
use crate::faults::{self, FaultQueue};
use crate::kit::control::ControlError;

pub(crate) fn router(calls: CallCounter, faults: FaultQueue) -> Router {
    let fault_routes = Router::new()
        .route(
            "/faults",
            post(faults::queue_fault).delete(faults::clear_faults),
        )
        .with_state(faults);
    Router::new()
        .route("/calls", get(counts))
        .route("/calls/reset", post(reset))
        .with_state(calls)
        .merge(fault_routes)
}

async fn counts(State(calls): State<CallCounter>) -> Json<CallCounts> {
    Json(calls.snapshot())
}

async fn reset(State(calls): State<CallCounter>) -> StatusCode {
    calls.reset();
    StatusCode::NO_CONTENT
}

/// Paths that are neither a vendor nor a control route.
pub(crate) async fn not_found() -> ControlError {
    ControlError::new(
        StatusCode::NOT_FOUND,
        "no such sandbox route: vendor APIs live under /<vendor>/, controls under /_sandbox/",
    )
}
