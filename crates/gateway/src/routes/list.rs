//! `GET /v1/checkout-sessions`: the list across vendors (PRODUCT §8). The
//! query is parsed here; the fan-out, merge and cursor are in
//! `service::list`.

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::header::CONTENT_TYPE;
use http::{HeaderValue, StatusCode};

use crate::auth::Scope;
use crate::http::errors::ApiError;
use crate::routes::sessions::context;
use crate::service::list::{self, query};
use crate::state::live::Current;

#[utoipa::path(
    get,
    path = "/v1/checkout-sessions",
    tag = "checkout-sessions",
    params(
        ("accounts" = Option<String>, Query, description = "Comma-separated `provider:account` list; default: every account this key may read", example = "meteroid:default,flowglad:default"),
        ("status" = Option<String>, Query, description = "Comma-separated canonical statuses, as seen now (derived expiry applied)", example = "open,complete"),
        ("customer" = Option<String>, Query, description = "The vendor's customer reference (Frontier: the organization id)"),
        ("created_gte" = Option<String>, Query, description = "RFC 3339: created at or after"),
        ("created_lt" = Option<String>, Query, description = "RFC 3339: created before"),
        ("limit" = Option<u32>, Query, description = "1 to 100; default 20", minimum = 1, maximum = 100),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page, with the same filters"),
    ),
    // Shared answers (401, 403, 405, 414, 431, too_many_requests…) are
    // added to every route by `openapi::SharedResponses`.
    responses(
        (status = 200, description = "One page, newest first; a failing or unsupported source is named in `sources`, never silently missing", body = list::SessionList),
        (status = 400, description = "`invalid_request` (the message names the parameter) or `invalid_cursor` (tampered, expired, or issued for other filters)", body = checkout_core::error::ErrorBody),
        (status = 404, description = "`not_found`: an account in `accounts` does not exist or is not visible to this key", body = checkout_core::error::ErrorBody),
    ),
    security(("client_key" = []))
)]
pub async fn list_sessions(
    Current(state): Current,
    request: Request,
) -> Result<Response, ApiError> {
    let client = state.authorize(request.headers(), Scope::SessionsRead)?;
    let query = query::parse(request.uri().query())?;
    let ctx = context(request.headers())?;
    let body = list::list(&state, &client, query, &ctx).await?;
    let mut response = (StatusCode::OK, body).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}
