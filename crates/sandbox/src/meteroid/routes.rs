//! The four checkout-session operations, as `api_rest/checkoutsessions`
//! serves them. Auth has already run (see `auth.rs`); body and path errors
//! are axum's own plain-text rejections, as upstream.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;

use super::error::RestError;
use super::ids::{CheckoutSession as SessionKind, Customer, Id};
use super::model::{SessionResponse, SessionsResponse, Status};
use super::query::QueryParams;
use super::request::CreateCheckoutSessionRequest;
use super::store::CreateError;
use super::Meteroid;
use crate::kit::clock::now_micros;

const CANNOT_CANCEL: &str = "Checkout session not found or cannot be cancelled";

pub async fn create(
    State(m): State<Arc<Meteroid>>,
    Json(request): Json<CreateCheckoutSessionRequest>,
) -> Result<Json<SessionResponse>, RestError> {
    if let Some(detail) = request.redirect_url_error() {
        return Err(RestError::InvalidInput(detail));
    }
    let customer = resolve_customer(&m, &request.customer_id)?;
    let now = now_micros();
    let session = m
        .store
        .create(customer, request, now)
        .map_err(|e| match e {
            CreateError::ForeignKey => RestError::Store,
            CreateError::Overflow => RestError::Panicked,
        })?;
    let url = m
        .checkout_url(&session, now)
        .map_err(|_| RestError::Store)?;
    Ok(Json(SessionResponse {
        session: session.render(Some(url)),
    }))
}

/// `cus_…` that decodes is an id (existence is only checked on insert);
/// anything else, a raw UUID included, is an alias.
fn resolve_customer(m: &Meteroid, given: &str) -> Result<Id<Customer>, RestError> {
    if given.starts_with("cus_") {
        if let Ok(id) = Id::<Customer>::parse(given) {
            return Ok(id);
        }
    }
    m.store.customer_by_alias(given).ok_or(RestError::NotFound)
}

pub async fn get(
    State(m): State<Arc<Meteroid>>,
    Path(id): Path<Id<SessionKind>>,
) -> Result<Json<SessionResponse>, RestError> {
    let session = m.store.get(id).ok_or(RestError::NotFound)?;
    let now = now_micros();
    let url = if session.can_complete(now) {
        Some(
            m.checkout_url(&session, now)
                .map_err(|_| RestError::Store)?,
        )
    } else {
        None
    };
    Ok(Json(SessionResponse {
        session: session.render(url),
    }))
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    customer_id: Option<Id<Customer>>,
    status: Option<Status>,
}

pub async fn list(
    State(m): State<Arc<Meteroid>>,
    QueryParams(query): QueryParams<ListQuery>,
) -> Json<SessionsResponse> {
    let now = now_micros();
    let sessions = m
        .store
        .list(query.customer_id, query.status)
        .iter()
        .map(|s| s.render(m.url_if_open(s, now)))
        .collect();
    Json(SessionsResponse { sessions })
}

pub async fn cancel(
    State(m): State<Arc<Meteroid>>,
    Path(id): Path<Id<SessionKind>>,
) -> Result<Json<SessionResponse>, RestError> {
    let session = m
        .store
        .cancel(id)
        .ok_or_else(|| RestError::InvalidInput(CANNOT_CANCEL.to_owned()))?;
    Ok(Json(SessionResponse {
        session: session.render(None),
    }))
}
