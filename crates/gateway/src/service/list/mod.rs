//! Listing across vendors (PRODUCT §8): every selected account asked
//! concurrently through its guard, the pages merged in `created_at`
//! descending order, the position of each source in a signed cursor. A
//! failing or unsupported source is named in `sources`; the page holds
//! the others.

pub mod cursor;
pub mod merge;
pub mod query;
pub mod settings;
mod snapshots;

use std::sync::Arc;

use bytes::Bytes;
use checkout_core::adapter::unsupported;
use checkout_core::list::{ListSupport, Pagination};
use checkout_core::{Error, ErrorCode, ListQuery, Operation, RequestContext};
use chrono::{DateTime, Utc};
use feed::Sighting;
use futures::future::join_all;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::rate_limit::Budget;
use crate::auth::Client;
use crate::cache::render;
use crate::feed::tracker::Detail;
use crate::state::{Account, AppState};
use cursor::{CursorState, Position};
use merge::{Item, Loaded, Merge, Source, SourceState, Step};
use query::{Filters, ListRequest};
pub use settings::ListSettings;

/// How one source of a list fared.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceReport {
    /// `provider:account`.
    pub account: String,
    /// For a vendor listed per customer (Frontier: per organization) when
    /// the list names none: which of the account's configured ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    /// `ok`, `failed` (its sessions are missing from this page; the next
    /// page asks it again from where it stood) or `unsupported`.
    #[schema(example = "ok")]
    pub state: &'static str,
    /// Why it failed or is unsupported; `null` when ok.
    #[schema(value_type = Option<checkout_core::error::ErrorDetail>)]
    pub error: Option<serde_json::Value>,
}

/// One source to ask: an account, and for per-customer vendors the customer.
struct Planned<'s> {
    name: String,
    account_label: String,
    customer: Option<String>,
    account: &'s Account,
    support: ListSupport,
}

/// The sources of a list, and those that cannot be asked.
struct Plan<'s> {
    sources: Vec<Planned<'s>>,
    reports: Vec<SourceReport>,
}

fn plan<'s>(
    state: &'s AppState,
    client: &Client,
    request: &ListRequest,
) -> Result<Plan<'s>, Error> {
    let selected: Vec<(&(String, String), &Account)> = match &request.accounts {
        Some(wanted) => wanted
            .iter()
            .map(|(p, a)| {
                // The same rule as a read's `account_for`: not visible and
                // not configured look alike.
                state
                    .accounts
                    .get_key_value(&(p.clone(), a.clone()))
                    .filter(|_| client.may_use(p, a))
                    .ok_or_else(|| {
                        Error::new(
                            ErrorCode::NotFound,
                            format!("accounts: no account {p}:{a} (or not visible to this key)"),
                        )
                    })
            })
            .collect::<Result<_, Error>>()?,
        None => state
            .accounts
            .iter()
            .filter(|((p, a), _)| client.may_use(p, a))
            .collect(),
    };
    let mut plan = Plan {
        sources: Vec::new(),
        reports: Vec::new(),
    };
    for ((provider, account_name), account) in selected {
        let label = format!("{provider}:{account_name}");
        let unsupported_report = |error: Error| SourceReport {
            account: label.clone(),
            customer: None,
            state: "unsupported",
            error: Some(error_json(&error)),
        };
        let Some(support) = list_support(account) else {
            plan.reports.push(unsupported_report(unsupported(
                account.provider.name(),
                Operation::List,
            )));
            continue;
        };
        if support.customer_required && request.filters.customer.is_none() {
            let customers = account.connector.list_customers();
            if customers.is_empty() {
                let message = format!(
                    "{provider} lists per customer (organization): pass `customer`, or name this account's organizations in providers.{provider}.accounts.{account_name}.orgs"
                );
                plan.reports.push(unsupported_report(
                    Error::new(ErrorCode::UnsupportedOperation, message).with_provider(provider),
                ));
                continue;
            }
            for customer in customers {
                plan.sources.push(Planned {
                    name: format!("{label}/{customer}"),
                    account_label: label.clone(),
                    customer: Some(customer.clone()),
                    account,
                    support: support.clone(),
                });
            }
        } else {
            plan.sources.push(Planned {
                name: label.clone(),
                account_label: label,
                customer: None,
                account,
                support,
            });
        }
    }
    Ok(plan)
}

/// How this account lists, if it can.
fn list_support(account: &Account) -> Option<ListSupport> {
    account.capabilities().list
}

fn error_json(error: &Error) -> serde_json::Value {
    serde_json::to_value(error.body(None).error).unwrap_or_default()
}

/// What one vendor call of a source needs, owned, so the calls can run
/// concurrently while the merge waits.
struct FetchOrder {
    index: usize,
    query: ListQuery,
    whole: bool,
    after: Option<cursor::Key>,
    snapshot: Option<u64>,
}

/// One page of the list, as the response body.
pub async fn list(
    state: &AppState,
    client: &Client,
    request: ListRequest,
    ctx: &RequestContext,
) -> Result<Bytes, Error> {
    let settings = &state.list;
    let key = settings.key_for_request()?;
    let plan = plan(state, client, &request)?;
    let mut names: Vec<String> = plan.sources.iter().map(|s| s.name.clone()).collect();
    names.extend(plan.reports.iter().map(|r| r.account.clone()));
    names.sort();
    let digest = request.filters.digest(&names);
    let now = Utc::now();
    let (page_size, positions) = match &request.cursor {
        Some(c) => {
            let state = cursor::decode(c, key, &digest, settings.config.cursor_ttl_secs, now)?;
            (state.page_size, Some(state.positions))
        }
        None => (request.limit, None),
    };
    // Each source's position; a cursor that lacks one has nothing left there.
    let mut planned = Vec::new();
    let mut sources = Vec::new();
    for p in plan.sources {
        let position = match &positions {
            None => Some(Position {
                source: p.name.clone(),
                after: None,
                page: None,
                snapshot: None,
            }),
            Some(list) => list.iter().find(|x| x.source == p.name).cloned(),
        };
        match position {
            Some(position) => {
                sources.push(Source::new(position));
                planned.push((p, true));
            }
            None => planned.push((p, false)),
        }
    }
    let active: Vec<&Planned> = planned.iter().filter(|(_, a)| *a).map(|(p, _)| p).collect();
    let mut merge = Merge::new(sources, request.limit as usize);
    'page: loop {
        match merge.next() {
            Step::Done => break,
            Step::Take(i) => merge.take(i),
            Step::Fetch(list) => {
                let mut orders = Vec::new();
                for i in list {
                    let source = &merge.sources[i];
                    // A page that would need more vendor pages ends here.
                    if source.fetches >= settings.config.max_vendor_pages {
                        break 'page;
                    }
                    let p = active[i];
                    let whole = p.support.pagination == Pagination::Whole;
                    let limit = match p.support.pagination {
                        Pagination::Whole => 0,
                        // One more than the page: its last session, which
                        // the next vendor page might tie, is rarely needed.
                        Pagination::Cursor { max_limit } => (page_size + 1).min(max_limit).max(1),
                    };
                    orders.push(FetchOrder {
                        index: i,
                        query: ListQuery {
                            customer: request.filters.customer.clone().or(p.customer.clone()),
                            statuses: request.filters.statuses.clone(),
                            created_gte: request.filters.created_gte,
                            created_lt: request.filters.created_lt,
                            limit,
                            cursor: source.page_to_fetch().map(str::to_owned),
                        },
                        whole,
                        after: source.position.after.clone(),
                        snapshot: source.position.snapshot,
                    });
                }
                let results = join_all(orders.iter().map(|o| {
                    fetch(
                        state,
                        client,
                        active[o.index].account,
                        o,
                        &request,
                        ctx,
                        now,
                    )
                }))
                .await;
                for (order, result) in orders.iter().zip(results) {
                    match result {
                        Ok(loaded) => merge.sources[order.index].load(loaded),
                        Err(e) => merge.sources[order.index].fail(e),
                    }
                }
            }
        }
    }
    let mut reports: Vec<SourceReport> = Vec::new();
    for (i, source) in merge.sources.iter().enumerate() {
        let p = active[i];
        let (state_name, error) = match &source.state {
            SourceState::Ok => ("ok", None),
            SourceState::Failed(e) => ("failed", Some(error_json(e))),
        };
        reports.push(SourceReport {
            account: p.account_label.clone(),
            customer: p.customer.clone(),
            state: state_name,
            error,
        });
    }
    // Sources a cursor holds no position for had nothing left.
    for (p, _) in planned.iter().filter(|(_, a)| !*a) {
        reports.push(SourceReport {
            account: p.account_label.clone(),
            customer: p.customer.clone(),
            state: "ok",
            error: None,
        });
    }
    reports.extend(plan.reports);
    reports.sort_by(|a, b| (&a.account, &a.customer).cmp(&(&b.account, &b.customer)));
    let (items, positions) = merge.finish();
    let next_cursor = (!positions.is_empty()).then(|| {
        cursor::encode(
            &CursorState {
                issued: now.timestamp(),
                filters: digest,
                page_size,
                positions,
            },
            key,
        )
    });
    let mut data = Vec::with_capacity(items.len());
    for item in &items {
        data.push(rendered(state, item).await);
    }
    Ok(body(&data, next_cursor.as_deref(), &reports))
}

/// One vendor call for one source, its answer filtered into the merged order.
async fn fetch(
    state: &AppState,
    client: &Client,
    account: &Account,
    order: &FetchOrder,
    request: &ListRequest,
    ctx: &RequestContext,
    now: DateTime<Utc>,
) -> Result<Loaded, Error> {
    let filters = &request.filters;
    if order.whole {
        let kept = order
            .snapshot
            .and_then(|id| state.list.snapshots.get(id).map(|a| (Some(id), a)));
        let (kept_id, items) = match kept {
            Some(found) => found,
            None => {
                let page = call(state, client, account, &order.query, ctx).await?;
                let mut items = matching(page.sessions, filters, now);
                items.sort_by(|a, b| b.key.cmp(&a.key));
                (None, Arc::new(items))
            }
        };
        // At most a page is taken from it; the rest waits in the snapshot.
        let start = match &order.after {
            Some(after) => items.partition_point(|i| i.key >= *after),
            None => 0,
        };
        let end = (start + request.limit as usize).min(items.len());
        let rest = end < items.len();
        // Kept only when a next page can use it.
        let snapshot = match kept_id {
            Some(id) => Some(id),
            None if rest => Some(state.list.snapshots.keep(items.clone())),
            None => None,
        };
        return Ok(Loaded {
            items: items[start..end].to_vec(),
            next_page: None,
            rest,
            snapshot,
        });
    }
    let page = call(state, client, account, &order.query, ctx).await?;
    Ok(Loaded {
        items: matching(page.sessions, filters, now),
        next_page: page.next_cursor,
        rest: false,
        snapshot: None,
    })
}

/// One list call through the account's guard, spending the client's
/// vendor-call budget.
async fn call(
    state: &AppState,
    client: &Client,
    account: &Account,
    query: &ListQuery,
    ctx: &RequestContext,
) -> Result<checkout_core::ListPage, Error> {
    state.spend(client, Budget::VendorCalls)?;
    account
        .guard
        .list(account.connector.as_ref(), &account.client, query, ctx)
        .await
}

fn matching(
    sessions: Vec<checkout_core::Fetched>,
    filters: &Filters,
    now: DateTime<Utc>,
) -> Vec<Item> {
    sessions
        .into_iter()
        .filter(|f| filters.matches(&f.session, now))
        .map(|f| Item::new(Arc::new(f)))
        .collect()
}

/// A listed session's JSON. Where the vendor lists whole sessions it
/// refreshes the cache, so a read by id right after is a hit; where it
/// lists fewer fields than a get (Flowglad without the hosted URL, Zenskar
/// summaries), a cached copy the listing contradicts is dropped instead.
async fn rendered(state: &AppState, item: &Item) -> Bytes {
    let session = &item.fetched.session;
    let account = state
        .accounts
        .get(&(session.provider.clone(), session.account.clone()));
    let complete = account
        .and_then(list_support)
        .is_some_and(|l| l.items_complete);
    if let Some(account) = account {
        let detail = if complete {
            Detail::Full
        } else {
            Detail::Partial
        };
        state
            .feed
            .tracker()
            .observe(&state.metrics, session, Sighting::Listed, detail, || {
                account.connector.feed_hint(&item.fetched.raw)
            });
    }
    if complete {
        state
            .cache
            .insert(session.id.clone(), &item.fetched)
            .await
            .body()
    } else {
        state.cache.contradicted(session).await;
        render(&item.fetched, false)
    }
}

/// `{"object": "list", "data", "has_more", "next_cursor", "sources"}`,
/// with the sessions' JSON spliced in as rendered.
fn body(data: &[Bytes], next_cursor: Option<&str>, sources: &[SourceReport]) -> Bytes {
    let mut out = Vec::with_capacity(64 + data.iter().map(|d| d.len() + 1).sum::<usize>());
    out.extend_from_slice(br#"{"object":"list","data":["#);
    for (i, session) in data.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(session);
    }
    out.extend_from_slice(br#"],"has_more":"#);
    out.extend_from_slice(if next_cursor.is_some() {
        b"true"
    } else {
        b"false"
    });
    out.extend_from_slice(br#","next_cursor":"#);
    // Strings and plain values always serialise.
    out.extend_from_slice(&serde_json::to_vec(&next_cursor).unwrap_or_default());
    out.extend_from_slice(br#","sources":"#);
    out.extend_from_slice(&serde_json::to_vec(sources).unwrap_or_default());
    out.push(b'}');
    Bytes::from(out)
}

/// The list answer's schema, for the OpenAPI document.
#[derive(Serialize, ToSchema)]
pub struct SessionList {
    /// Always `list`.
    #[schema(example = "list")]
    pub object: String,
    /// Newest first (`created_at`, then `id`, descending).
    pub data: Vec<checkout_core::CheckoutSession>,
    /// More sessions remain (or a source failed and is asked again).
    pub has_more: bool,
    /// Pass as `cursor` with the same filters for the next page.
    pub next_cursor: Option<String>,
    pub sources: Vec<SourceReport>,
}
