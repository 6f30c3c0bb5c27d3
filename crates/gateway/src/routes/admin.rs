//! `POST /admin/reload`: load the configuration again, or say why not
//! while the old one keeps serving.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use checkout_core::{Error, ErrorCode};
use http::HeaderMap;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Scope;
use crate::http::errors::ApiError;
use crate::state::live::Gateway;

#[derive(Serialize, ToSchema)]
pub struct Reloaded {
    /// Always `reloaded`.
    pub status: &'static str,
    /// Accounts configured now.
    pub accounts: usize,
}

#[utoipa::path(post, path = "/admin/reload", tag = "admin",
    responses(
        (status = 200, description = "The new configuration is serving (`admin` scope)", body = Reloaded),
        (status = 422, description = "`invalid_config`: the new configuration is invalid; the old one keeps serving", body = checkout_core::error::ErrorBody),
    ),
    security(("client_key" = [])))]
pub async fn reload(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
) -> Result<Json<Reloaded>, ApiError> {
    let state = gateway.current();
    state.authorize(&headers, Scope::Admin)?;
    match gateway.reload().await {
        Ok(accounts) => Ok(Json(Reloaded {
            status: "reloaded",
            accounts,
        })),
        Err(why) => {
            tracing::warn!(error = %why, "reload refused; the old configuration keeps serving");
            Err(Error::new(
                ErrorCode::InvalidConfig,
                format!("reload refused, the old configuration keeps serving: {why}"),
            )
            .into())
        }
    }
}
