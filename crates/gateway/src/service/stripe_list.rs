//! Stripe's list pagination over the canonical list (PRODUCT §13). Stripe
//! pages by object id (`starting_after`, `ending_before`); the canonical
//! list pages by a signed cursor, newest first by (`created_at`, `id`). A
//! session's place in that order is its key, so "after X" is every session
//! whose key is below X's, and "before X" every one above it: the anchor's
//! `created_at` narrows the canonical filters, and its id settles ties.
//!
//! Stripe's list has no place to say that one vendor failed: a failed
//! source fails the page (retryable), and an account that cannot list is
//! left out (`GET /v1/providers` says which).

use checkout_core::{CheckoutSession, Error, ErrorCode, RequestContext};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;
use stripe_facade::list::StripeList;

use crate::auth::Client;
use crate::service::list::query::{Filters, ListRequest, MAX_LIMIT};
use crate::service::list::{self};
use crate::state::AppState;

/// Most canonical pages one Stripe page reads (an `ending_before` far from
/// the newest session reads every page between).
const MAX_PAGES: usize = 50;

/// Where a Stripe page starts: the session named by `starting_after`
/// (`after`) or `ending_before`.
pub struct Anchor {
    pub after: bool,
    pub created_at: DateTime<Utc>,
    /// The canonical id.
    pub id: String,
}

/// One Stripe page, newest first.
pub struct Page {
    pub data: Vec<CheckoutSession>,
    pub has_more: bool,
}

/// The canonical list page as this module reads it back.
#[derive(Deserialize)]
struct CanonicalPage {
    data: Vec<CheckoutSession>,
    next_cursor: Option<String>,
    #[serde(default)]
    sources: Vec<SourceState>,
}

#[derive(Deserialize)]
struct SourceState {
    account: String,
    state: String,
    /// The canonical error body's detail, when it failed.
    #[serde(default)]
    error: Option<serde_json::Value>,
}

/// A canonical error as its body's detail (`{"code", "message",
/// "retryable", …}`) says it, with `status`.
pub fn error_of(detail: &serde_json::Value, status: u16) -> Error {
    let code = detail["code"]
        .as_str()
        .and_then(ErrorCode::from_name)
        .unwrap_or(ErrorCode::Internal);
    let mut e =
        Error::new(code, detail["message"].as_str().unwrap_or_default()).with_http_status(status);
    e.retryable = detail["retryable"].as_bool().unwrap_or(false);
    e
}

/// Whether a session created at `created_at` with `id` comes after
/// (older than) the anchor in the list's order.
fn is_after(created_at: DateTime<Utc>, id: &str, anchor: &Anchor) -> bool {
    (created_at, id) < (anchor.created_at, anchor.id.as_str())
}

fn at(seconds: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(seconds, 0)
}

pub async fn page(
    state: &AppState,
    client: &Client,
    accounts: Option<Vec<(String, String)>>,
    query: &StripeList,
    anchor: Option<Anchor>,
    ctx: &RequestContext,
) -> Result<Page, Error> {
    let mut filters = Filters {
        statuses: query.statuses.clone(),
        customer: query.customer.clone(),
        created_gte: query.created_gte.and_then(at),
        created_lt: query.created_lt.and_then(at),
    };
    // Narrow to the anchor's side; its own second may hold ties.
    match &anchor {
        Some(a) if a.after => {
            let bound = a.created_at + TimeDelta::microseconds(1);
            filters.created_lt = Some(filters.created_lt.map_or(bound, |lt| lt.min(bound)));
        }
        Some(a) => {
            filters.created_gte = Some(
                filters
                    .created_gte
                    .map_or(a.created_at, |gte| gte.max(a.created_at)),
            );
        }
        None => {}
    }
    let limit = query.limit as usize;
    let backward = anchor.as_ref().is_some_and(|a| !a.after);
    let mut request = ListRequest {
        accounts,
        filters,
        limit: if backward {
            MAX_LIMIT
        } else {
            (query.limit + 1).min(MAX_LIMIT)
        },
        cursor: None,
    };
    let mut kept: Vec<CheckoutSession> = Vec::new();
    let mut more_pages = false;
    for _ in 0..MAX_PAGES {
        let body = list::list(state, client, request.clone(), ctx).await?;
        let page: CanonicalPage = serde_json::from_slice(&body)
            .map_err(|_| Error::new(ErrorCode::Internal, "a list page is unreadable"))?;
        // The source's own error (a vendor failure, the key's budget),
        // retryable: the next attempt asks it again.
        if let Some(failed) = page.sources.iter().find(|s| s.state == "failed") {
            let detail = failed.error.clone().unwrap_or_default();
            let code = detail["code"].as_str().and_then(ErrorCode::from_name);
            let mut e = error_of(&detail, code.map_or(503, ErrorCode::http_status));
            e.message = format!(
                "listing {} failed, so the list cannot be given whole: {}",
                failed.account, e.message
            );
            e.retryable = true;
            return Err(e);
        }
        let mut reached_anchor = false;
        for session in page.data {
            match &anchor {
                Some(a) if a.after => {
                    if is_after(session.created_at, &session.id, a) {
                        kept.push(session);
                    }
                }
                Some(a) => {
                    if is_after(session.created_at, &session.id, a) || session.id == a.id {
                        reached_anchor = true;
                        break;
                    }
                    kept.push(session);
                }
                None => kept.push(session),
            }
        }
        more_pages = page.next_cursor.is_some();
        let enough = !backward && kept.len() > limit;
        match page.next_cursor {
            Some(cursor) if !enough && !reached_anchor => request.cursor = Some(cursor),
            _ => break,
        }
    }
    if backward {
        // The `limit` sessions just before the anchor, still newest first.
        let has_more = kept.len() > limit;
        let from = kept.len().saturating_sub(limit);
        return Ok(Page {
            data: kept.split_off(from),
            has_more,
        });
    }
    let has_more = kept.len() > limit || more_pages;
    kept.truncate(limit);
    Ok(Page {
        data: kept,
        has_more,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_means_older_or_a_lower_id_in_the_same_microsecond() {
        let t = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let anchor = Anchor {
            after: true,
            created_at: t,
            id: "meteroid:default:che_m".into(),
        };
        assert!(is_after(t - TimeDelta::seconds(1), "z", &anchor));
        assert!(is_after(t, "meteroid:default:che_a", &anchor));
        assert!(!is_after(t, "meteroid:default:che_m", &anchor));
        assert!(!is_after(t, "meteroid:default:che_z", &anchor));
        assert!(!is_after(t + TimeDelta::seconds(1), "a", &anchor));
    }
}
