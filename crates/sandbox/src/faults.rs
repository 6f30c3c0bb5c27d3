//! Where per-request faults (latency, status codes, resets, truncated
//! bodies…) will be injected for one vendor. Sits inside the call counter
//! and outside the vendor's own layers, so a faulted call is still counted
//! and never reaches the emulated vendor. Pass-through for now.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

#[derive(Debug, Clone, Copy)]
pub(crate) struct FaultPoint {
    pub vendor: &'static str,
}

pub(crate) async fn inject(
    State(point): State<FaultPoint>,
    request: Request,
    next: Next,
) -> Response {
    tracing::trace!(vendor = point.vendor, path = %request.uri().path(), "no fault configured");
    next.run(request).await
}
