//! `GET /v1/providers`: what this client key may use, and what each vendor can do.

use std::collections::BTreeMap;

use axum::Json;
use checkout_core::list::ListFilter;
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
    /// Who applies each list filter for this vendor; `null` when it cannot list.
    pub list_filters: Option<ListFilters>,
}

/// The list's filters (`customer`, `status`, `created`), split by who
/// applies them. The gateway checks every listed session against all of
/// them anyway, so the answer is the same either way; a filter the vendor
/// applies only saves fetching what would be dropped.
#[derive(Serialize, ToSchema)]
pub struct ListFilters {
    /// Sent to the vendor with the list call (where the value allows:
    /// e.g. one status the vendor has a word for).
    pub vendor: Vec<ListFilter>,
    /// Applied by the gateway to what the vendor answers.
    pub gateway: Vec<ListFilter>,
}

const ALL_FILTERS: [ListFilter; 3] = [
    ListFilter::Customer,
    ListFilter::Status,
    ListFilter::Created,
];

fn list_filters(capabilities: &Capabilities) -> Option<ListFilters> {
    let list = capabilities.list.as_ref()?;
    Some(ListFilters {
        vendor: list.vendor_filters.clone(),
        gateway: ALL_FILTERS
            .into_iter()
            .filter(|f| !list.vendor_filters.contains(f))
            .collect(),
    })
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
            let capabilities = p.capabilities();
            Some(ProviderEntry {
                provider: p.name(),
                accounts,
                list_filters: list_filters(&capabilities),
                capabilities,
            })
        })
        .collect();
    Ok(Json(ProviderList {
        object: "list",
        data,
    }))
}
