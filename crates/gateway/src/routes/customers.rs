//! The customer map (`admin` scope): a customer (the caller's own id) and
//! its reference at each vendor account, for routed creates (PRODUCT §12).
//! `catalog.customers` holds some in the config (read-only here); the store
//! holds the rest: `PUT`, `GET`, `DELETE /v1/customers/{id}` and
//! `GET /v1/customers`.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::Json;
use checkout_core::{Error, ErrorCode};
use chrono::{DateTime, SecondsFormat, Utc};
use http::HeaderMap;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Scope;
use crate::http::errors::ApiError;
use crate::state::live::Current;
use crate::state::AppState;

/// Longest customer id or reference accepted (as in a create).
const MAX_LEN: usize = 255;
/// Most references one customer may have.
const MAX_REFERENCES: usize = 100;
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 500;

/// `PUT /v1/customers/{id}`'s body: the whole map, replacing any before.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerMapping {
    /// `provider:account` → that vendor's customer reference (Meteroid
    /// customer id or alias, Flowglad external id, Frontier org id,
    /// Zenskar customer uuid).
    pub references: BTreeMap<String, String>,
}

#[derive(Serialize, ToSchema)]
pub struct MappedCustomer {
    /// Always `customer`.
    pub object: &'static str,
    /// The caller's own customer id.
    pub id: String,
    /// `provider:account` → reference.
    pub references: BTreeMap<String, String>,
    /// `config` (`catalog.customers`, changed only there) or `store`.
    pub source: &'static str,
    /// When the store's mapping was last written (RFC 3339); `null` for config.
    pub updated_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MappedCustomerList {
    /// Always `list`.
    pub object: &'static str,
    /// In id order.
    pub data: Vec<MappedCustomer>,
    /// More follow: ask again with `starting_after` set to the last id.
    pub has_more: bool,
}

#[derive(Serialize, ToSchema)]
pub struct DeletedCustomer {
    pub id: String,
    /// Always `true`.
    pub deleted: bool,
}

fn store_failed(e: store::StoreError) -> Error {
    crate::idempotency::unavailable(e)
}

fn no_such_customer() -> Error {
    Error::new(ErrorCode::NotFound, "no such customer in the customer map")
}

fn check_id(id: &str) -> Result<(), Error> {
    if id.is_empty() || id.chars().count() > MAX_LEN || id.chars().any(char::is_control) {
        return Err(Error::invalid_request(format!(
            "id: 1 to {MAX_LEN} characters, no control characters"
        )));
    }
    Ok(())
}

fn from_config(state: &AppState, id: &str) -> Option<MappedCustomer> {
    let references = state.routing.configured_customer_references(id)?;
    Some(MappedCustomer {
        object: "customer",
        id: id.to_owned(),
        references,
        source: "config",
        updated_at: None,
    })
}

fn from_store(refs: store::CustomerRefs) -> MappedCustomer {
    MappedCustomer {
        object: "customer",
        id: refs.customer,
        references: refs.references,
        source: "store",
        updated_at: DateTime::<Utc>::from_timestamp_millis(refs.updated_ms)
            .map(|at| at.to_rfc3339_opts(SecondsFormat::Millis, true)),
    }
}

/// A configured customer is changed in the config, not here.
fn configured(id: &str) -> Error {
    Error::new(
        ErrorCode::InvalidState,
        format!(
            "the customer `{id}` is configured in catalog.customers; change it there and reload"
        ),
    )
}

#[utoipa::path(put, path = "/v1/customers/{id}", tag = "routing",
    params(("id" = String, Path, description = "The caller's own customer id")),
    request_body(content = CustomerMapping, content_type = "application/json"),
    responses(
        (status = 200, description = "Replaced (`admin` scope)", body = MappedCustomer),
        (status = 201, description = "Added", body = MappedCustomer),
        (status = 400, description = "`invalid_request`: a malformed body, an unknown `provider:account`, or an empty reference (the message names it)", body = checkout_core::error::ErrorBody),
        (status = 409, description = "`invalid_state`: the customer is configured in `catalog.customers`", body = checkout_core::error::ErrorBody),
    ),
    security(("client_key" = [])))]
pub async fn put_customer(
    Current(state): Current,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<MappedCustomer>), ApiError> {
    state.authorize(&headers, Scope::Admin)?;
    check_id(&id)?;
    let mapping: CustomerMapping =
        serde_json::from_slice(&body).map_err(|e| Error::invalid_request(format!("body: {e}")))?;
    if mapping.references.len() > MAX_REFERENCES {
        return Err(Error::invalid_request(format!("references: at most {MAX_REFERENCES}")).into());
    }
    for (target, reference) in &mapping.references {
        let known = routing::Target::parse(target).is_some_and(|t| {
            state
                .accounts
                .contains_key(&(t.provider.clone(), t.account.clone()))
        });
        if !known {
            return Err(Error::invalid_request(format!(
                "references.{target}: not a configured `provider:account`"
            ))
            .into());
        }
        if reference.is_empty()
            || reference.chars().count() > MAX_LEN
            || reference.chars().any(char::is_control)
        {
            return Err(Error::invalid_request(format!(
                "references.{target}: 1 to {MAX_LEN} characters, no control characters"
            ))
            .into());
        }
    }
    if state.routing.customer_is_configured(&id) {
        return Err(configured(&id).into());
    }
    let store = state.idempotency.store().await?;
    let added = store
        .put_customer(&id, &mapping.references)
        .await
        .map_err(store_failed)?;
    let saved = store
        .customer(&id)
        .await
        .map_err(store_failed)?
        .ok_or_else(no_such_customer)?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(from_store(saved))))
}

#[utoipa::path(get, path = "/v1/customers/{id}", tag = "routing",
    params(("id" = String, Path, description = "The caller's own customer id")),
    responses(
        (status = 200, description = "The customer's references (`admin` scope)", body = MappedCustomer),
        (status = 404, description = "`not_found`: no such customer in the map", body = checkout_core::error::ErrorBody),
    ),
    security(("client_key" = [])))]
pub async fn get_customer(
    Current(state): Current,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<MappedCustomer>, ApiError> {
    state.authorize(&headers, Scope::Admin)?;
    check_id(&id)?;
    if let Some(customer) = from_config(&state, &id) {
        return Ok(Json(customer));
    }
    let store = state.idempotency.store().await?;
    let refs = store
        .customer(&id)
        .await
        .map_err(store_failed)?
        .ok_or_else(no_such_customer)?;
    Ok(Json(from_store(refs)))
}

#[utoipa::path(delete, path = "/v1/customers/{id}", tag = "routing",
    params(("id" = String, Path, description = "The caller's own customer id")),
    responses(
        (status = 200, description = "Deleted (`admin` scope): routed creates for this customer are refused (422 `not_mapped`) until it is mapped again", body = DeletedCustomer),
        (status = 404, description = "`not_found`: no such customer in the map", body = checkout_core::error::ErrorBody),
        (status = 409, description = "`invalid_state`: the customer is configured in `catalog.customers`", body = checkout_core::error::ErrorBody),
    ),
    security(("client_key" = [])))]
pub async fn delete_customer(
    Current(state): Current,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<DeletedCustomer>, ApiError> {
    state.authorize(&headers, Scope::Admin)?;
    check_id(&id)?;
    if state.routing.customer_is_configured(&id) {
        return Err(configured(&id).into());
    }
    let store = state.idempotency.store().await?;
    if !store.delete_customer(&id).await.map_err(store_failed)? {
        return Err(no_such_customer().into());
    }
    Ok(Json(DeletedCustomer { id, deleted: true }))
}

#[utoipa::path(get, path = "/v1/customers", tag = "routing",
    params(
        ("limit" = Option<usize>, Query, description = "1 to 500 (default 50)"),
        ("starting_after" = Option<String>, Query, description = "The last id of the page before"),
    ),
    responses(
        (status = 200, description = "Every mapped customer, configured and stored, in id order (`admin` scope)", body = MappedCustomerList),
        (status = 400, description = "`invalid_request`: a bad `limit` or an unknown parameter", body = checkout_core::error::ErrorBody),
    ),
    security(("client_key" = [])))]
pub async fn list_customers(
    Current(state): Current,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Json<MappedCustomerList>, ApiError> {
    state.authorize(&headers, Scope::Admin)?;
    let (limit, after) = page_query(query.as_deref())?;
    let store = state.idempotency.store().await?;
    let stored = store
        .customers(
            after.as_deref(),
            i64::try_from(limit + 1).unwrap_or(i64::MAX),
        )
        .await
        .map_err(store_failed)?;
    // Both sources in id order, merged; the config wins a tie (the store
    // cannot hold a configured id, but a reload may have added one).
    let mut merged: BTreeMap<String, MappedCustomer> = stored
        .into_iter()
        .map(|refs| (refs.customer.clone(), from_store(refs)))
        .collect();
    for id in state.routing.configured_customers() {
        if after.as_deref().is_none_or(|a| id.as_str() > a) {
            if let Some(customer) = from_config(&state, id) {
                merged.insert(id.clone(), customer);
            }
        }
    }
    let mut data: Vec<MappedCustomer> = merged.into_values().take(limit + 1).collect();
    let has_more = data.len() > limit;
    data.truncate(limit);
    Ok(Json(MappedCustomerList {
        object: "list",
        data,
        has_more,
    }))
}

fn page_query(query: Option<&str>) -> Result<(usize, Option<String>), Error> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|_| Error::invalid_request("query string is not valid form encoding"))?;
    let mut limit = DEFAULT_LIMIT;
    let mut after = None;
    for (key, value) in pairs {
        match key.as_str() {
            "limit" => {
                limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        Error::invalid_request(format!(
                            "limit: a whole number from 1 to {MAX_LIMIT}"
                        ))
                    })?;
            }
            "starting_after" => {
                check_id(&value).map_err(|_| {
                    Error::invalid_request("starting_after: a customer id from the page before")
                })?;
                after = Some(value);
            }
            other => {
                return Err(Error::invalid_request(format!(
                    "unknown query parameter {other:?} (accepted: limit, starting_after)"
                )))
            }
        }
    }
    Ok((limit, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_queries_are_checked() {
        assert_eq!(page_query(None).unwrap(), (50, None));
        assert_eq!(
            page_query(Some("limit=2&starting_after=acme")).unwrap(),
            (2, Some("acme".into()))
        );
        for bad in [
            "limit=0",
            "limit=501",
            "limit=x",
            "after=x",
            "starting_after=",
        ] {
            assert!(page_query(Some(bad)).is_err(), "{bad}");
        }
    }
}
