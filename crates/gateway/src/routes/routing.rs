//! `POST /v1/routing/explain` (what a create would do, nothing created)
//! and `GET /v1/routing` (admin: the rules in force and what each did
//! since this process started).

use axum::body::Body;
use axum::Json;
use http::HeaderMap;
use serde_json::{json, Value};

use crate::auth::Scope;
use crate::http::errors::ApiError;
use crate::routes::sessions::{context, create_body};
use crate::service::route::{self, Explained};
use crate::state::live::Current;

#[utoipa::path(
    post,
    path = "/v1/routing/explain",
    tag = "routing",
    request_body(content = checkout_core::CreateSession, content_type = "application/json",
        description = "A create body, exactly as `POST /v1/checkout-sessions` takes it"),
    responses(
        (status = 200, description = "Where that create would go and what would be sent; nothing is created and no vendor is called", body = Explained),
        (status = 400, description = "`invalid_request`: the body is not a valid create (the message names the field), or a split needs a customer", body = checkout_core::error::ErrorBody),
        (status = 403, description = "`forbidden`: routing would choose an account this client key may not use", body = checkout_core::error::ErrorBody),
        (status = 404, description = "`not_found`: a direct create's account is not visible to this key", body = checkout_core::error::ErrorBody),
        (status = 413, description = "`payload_too_large`", body = checkout_core::error::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not sent as JSON", body = checkout_core::error::ErrorBody),
        (status = 422, description = "`no_route` (no rule takes it and there is no default) or `not_mapped` (its customer or plan alias has no reference at the target), as the create would answer", body = checkout_core::error::ErrorBody),
    ),
    security(("client_key" = []))
)]
pub async fn explain(
    Current(state): Current,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Explained>, ApiError> {
    let client = state.authorize(&headers, Scope::SessionsWrite)?;
    let (request, _) = create_body(&state, &headers, body).await?;
    let ctx = context(&headers)?;
    Ok(Json(route::explain(&state, &client, &request, &ctx).await?))
}

#[utoipa::path(
    get,
    path = "/v1/routing",
    tag = "routing",
    responses(
        (status = 200, description = "The routing in force (`admin` scope): each rule with its match, its target or split (each share's bucket range), its fallbacks, and per target the routed creates (created, failed, refused) and completions counted since this process started", body = Object),
    ),
    security(("client_key" = []))
)]
pub async fn routing_in_force(
    Current(state): Current,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    state.authorize(&headers, Scope::Admin)?;
    let mut described = state.routing.describe();
    let mut counts = serde_json::Map::new();
    for (rule, target) in state.routing.pairs() {
        let target = target.to_string();
        let c = state.metrics.routing.counts(&rule, &target);
        let entry = counts
            .entry(rule)
            .or_insert_with(|| Value::Object(Default::default()));
        entry[&target] = json!(c);
    }
    described["counts"] = Value::Object(counts);
    Ok(Json(described))
}
