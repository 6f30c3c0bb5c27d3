//! `GET /v1/providers`: what this client key may use, and what each vendor can do.

use std::collections::BTreeMap;

use axum::Json;
use checkout_core::Capabilities;
use http::HeaderMap;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Scope;
use crate::http::errors::ApiError;
use crate::registry;
use crate::state::live::Current;

#[derive(Serialize, ToSchema)]
pub struct ProviderList {
    /// Always `list`.
    pub object: &'static str,
    pub data: Vec<ProviderEntry>,
}

#[derive(Serialize, ToSchema)]
pub struct ProviderEntry {
    pub provider: &'static str,
    /// The accounts of this provider the client key may use.
    pub accounts: Vec<String>,
    pub capabilities: Capabilities,
}

#[utoipa::path(
    get,
    path = "/v1/providers",
    tag = "providers",
    responses(
        (status = 200, description = "Providers and accounts visible to this key", body = ProviderList),
    ),
    security(("client_key" = []))
)]
pub async fn list_providers(
    Current(state): Current,
    headers: HeaderMap,
) -> Result<Json<ProviderList>, ApiError> {
    let client = state.authorize(&headers, Scope::SessionsRead)?;
    let mut visible: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let configured = state.accounts.keys().filter(|(p, a)| client.may_use(p, a));
    for (provider, account) in configured {
        visible
            .entry(provider.as_str())
            .or_default()
            .push(account.clone());
    }
    let data = registry::providers()
        .iter()
        .filter_map(|p| {
            let mut accounts = visible.remove(p.name())?;
            accounts.sort();
            Some(ProviderEntry {
                provider: p.name(),
                accounts,
                capabilities: p.capabilities(),
            })
        })
        .collect();
    Ok(Json(ProviderList {
        object: "list",
        data,
    }))
}
