//! Middleware: every routed request gets its span, its closing log line
//! and its metrics (`telemetry::Tracked`), labelled by route template.

use std::borrow::Cow;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::http::errors::REQUEST_ID;
use crate::routes::sessions::SESSION_ROUTE;
use crate::state::live::Current;
use crate::telemetry::metrics::Label;
use crate::telemetry::Tracked;

/// Middleware: the request span, its closing log line, and the metrics.
pub async fn track(Current(state): Current, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(Cow::Borrowed("unmatched"), |p| route_label(p.as_str()));
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let tracked = Tracked::start(request.method(), route, request_id);
    let response = next.run(request).instrument(tracked.span.clone()).await;
    tracked.finish(&state.metrics, response.status());
    response
}

/// Route templates are the router's own (a closed set); anything that
/// matched none is `unmatched`.
fn route_label(route: &str) -> Label {
    if route == SESSION_ROUTE {
        Cow::Borrowed(SESSION_ROUTE)
    } else {
        Cow::Owned(route.to_owned())
    }
}
