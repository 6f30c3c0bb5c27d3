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
    /// Accounts (of those above) that can do less than the vendor can,
    /// with what they can do (Zenskar `/checkouts` accounts: no list, no
    /// cancel); empty when every account can do it all.
    pub account_capabilities: BTreeMap<String, Capabilities>,
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
    let mut differing: BTreeMap<&str, BTreeMap<String, Capabilities>> = BTreeMap::new();
    let configured = state
        .accounts
        .iter()
        .filter(|((p, a), _)| client.may_use(p, a));
    for ((provider, name), account) in configured {
        visible
            .entry(provider.as_str())
            .or_default()
            .push(name.clone());
        if let Some(own) = account.connector.capabilities() {
            differing
                .entry(provider.as_str())
                .or_default()
                .insert(name.clone(), own);
        }
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
                account_capabilities: differing.remove(p.name()).unwrap_or_default(),
            })
        })
        .collect();
    Ok(Json(ProviderList {
        object: "list",
        data,
    }))
}
