//! Listing one account's sessions (PRODUCT §8): what the gateway asks an
//! adapter for, what comes back, and what each vendor can do about it. The
//! gateway merges the pages of several accounts; an adapter only speaks
//! for its own vendor.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::drift::Unknowns;
use crate::error::{Error, ErrorCode};
use crate::model::Fetched;
use crate::status::Status;

/// The filters and position of one account's list request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQuery {
    /// The vendor's customer (Frontier: the organization).
    pub customer: Option<String>,
    /// Canonical statuses; empty means any.
    pub statuses: Vec<Status>,
    pub created_gte: Option<DateTime<Utc>>,
    pub created_lt: Option<DateTime<Utc>>,
    /// Most sessions wanted from this account.
    pub limit: u32,
    /// The vendor's own cursor from the previous page of this account.
    pub cursor: Option<String>,
}

impl ListQuery {
    /// The one status asked for, if exactly one is: a vendor status filter
    /// takes a single value.
    pub fn only_status(&self) -> Option<Status> {
        match self.statuses.split_first() {
            Some((first, rest)) if rest.iter().all(|s| s == first) => Some(*first),
            _ => None,
        }
    }

    /// `limit` as a vendor page size: at least 1, at most `max`.
    pub fn page_size(&self, max: u32) -> u32 {
        self.limit.clamp(1, max)
    }

    /// Vendors that answer everything at once have no cursor of their own:
    /// one given to them is the gateway's mistake, named, not ignored.
    pub fn refuse_cursor(&self, provider: &str) -> Result<(), Error> {
        match self.cursor {
            Some(_) => Err(Error::new(
                ErrorCode::InvalidCursor,
                format!("{provider} lists every session in one answer: it takes no cursor"),
            )
            .with_provider(provider)),
            None => Ok(()),
        }
    }
}

/// One page of one account's sessions, in the vendor's order.
#[derive(Debug, Clone, Default)]
pub struct ListPage {
    /// Each listed session with its list item as `raw`.
    pub sessions: Vec<Fetched>,
    /// The vendor's cursor for the next page; `None` at the end.
    pub next_cursor: Option<String>,
    /// What the answer (its items included) held that the wire types do
    /// not know; filled in by `vendor::read_page`.
    pub unknown: Unknowns,
}

impl ListPage {
    pub fn new(sessions: Vec<Fetched>, next_cursor: Option<String>) -> ListPage {
        ListPage {
            sessions,
            next_cursor,
            unknown: Unknowns::default(),
        }
    }
}

/// How a vendor pages its list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "style", rename_all = "snake_case")]
pub enum Pagination {
    /// Everything in one answer (Meteroid, Frontier).
    Whole,
    /// An opaque cursor and a page size of at most `max_limit` (Flowglad,
    /// Zenskar `/checkout`).
    Cursor { max_limit: u32 },
}

/// A filter of [`ListQuery`], by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListFilter {
    Customer,
    Status,
    Created,
}

/// What a vendor's list can do. Filters it lacks are applied by the gateway
/// after the fetch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ListSupport {
    pub pagination: Pagination,
    /// Filters the vendor applies itself.
    pub vendor_filters: Vec<ListFilter>,
    /// The vendor lists per customer only (Frontier: per organization), so
    /// a list without `customer` cannot be asked of it.
    pub customer_required: bool,
    /// The list's items carry every field a get answers, so a listed
    /// session may stand in the cache for a read by id. `false` where the
    /// vendor lists summaries (Zenskar `/checkout`).
    pub items_complete: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_status_or_none() {
        let mut q = ListQuery::default();
        assert_eq!(q.only_status(), None);
        q.statuses = vec![Status::Open];
        assert_eq!(q.only_status(), Some(Status::Open));
        q.statuses = vec![Status::Open, Status::Open];
        assert_eq!(q.only_status(), Some(Status::Open));
        q.statuses = vec![Status::Open, Status::Complete];
        assert_eq!(q.only_status(), None);
    }

    #[test]
    fn page_sizes_and_cursors() {
        let q = ListQuery {
            limit: 0,
            ..ListQuery::default()
        };
        assert_eq!(q.page_size(100), 1);
        let q = ListQuery {
            limit: 500,
            cursor: Some("c".into()),
            ..ListQuery::default()
        };
        assert_eq!(q.page_size(100), 100);
        let e = q.refuse_cursor("acme").unwrap_err();
        assert_eq!((e.code, e.http_status), (ErrorCode::InvalidCursor, 400));
        assert!(ListQuery::default().refuse_cursor("acme").is_ok());
    }
}
