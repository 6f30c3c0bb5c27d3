//! The one layer the core puts around each vendor's API: the request's
//! operation is named once, counted, then handed to fault injection. One
//! layer, not two near-identical ones, so a vendor is wired in one place
//! and the counter stays outside the faults (a faulted call still counts).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::calls::CallCounter;
use crate::faults::{self, FaultQueue};
use crate::kit::mount::Classify;

#[derive(Clone)]
pub(crate) struct Tap {
    pub calls: CallCounter,
    pub faults: FaultQueue,
    pub vendor: &'static str,
    pub classify: Classify,
}

/// Middleware: the outermost layer of each vendor's router.
pub(crate) async fn tap(State(tap): State<Tap>, request: Request, next: Next) -> Response {
    let op = (tap.classify)(request.method(), request.uri().path());
    tap.calls.record(tap.vendor, op);
    faults::inject(&tap.faults, tap.vendor, op, request, next).await
}
