//! `GET /v1/checkout-sessions?…`: the query, checked field by field, and
//! the filters every listed session must pass (PRODUCT §8).

use checkout_core::{CheckoutSession, Error, Status};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// Page size when `limit` is absent, and its bounds.
pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;
/// Longest `customer` accepted (ids of every vendor fit).
const MAX_CUSTOMER_LEN: usize = 255;
/// Longest `cursor` accepted; a real one stays far below.
const MAX_CURSOR_LEN: usize = 16 * 1024;

/// A list request as the caller sent it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListRequest {
    /// `provider:account` pairs; `None`: every account the key may read.
    pub accounts: Option<Vec<(String, String)>>,
    pub filters: Filters,
    pub limit: u32,
    pub cursor: Option<String>,
}

/// What every listed session must match. The gateway applies all of them
/// to what it fetches, whether or not the vendor applied them too, so the
/// answer is the same either way.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    /// Canonical statuses as seen now (derived expiry applied); empty: any.
    pub statuses: Vec<Status>,
    /// The vendor's customer reference (Frontier: the organization).
    pub customer: Option<String>,
    pub created_gte: Option<DateTime<Utc>>,
    pub created_lt: Option<DateTime<Utc>>,
}

impl Filters {
    /// Whether `session` (with its vendor-mapped status) matches at `now`.
    pub fn matches(&self, session: &CheckoutSession, now: DateTime<Utc>) -> bool {
        if !self.statuses.is_empty()
            && !self
                .statuses
                .contains(&session.status.derived(session.expires_at, now))
        {
            return false;
        }
        if let Some(wanted) = &self.customer {
            let customer = session.customer.as_ref();
            let same = |v: Option<&String>| v.is_some_and(|v| v == wanted);
            if !customer.is_some_and(|c| same(c.id.as_ref()) || same(c.external_id.as_ref())) {
                return false;
            }
        }
        if self.created_gte.is_some_and(|t| session.created_at < t) {
            return false;
        }
        if self.created_lt.is_some_and(|t| session.created_at >= t) {
            return false;
        }
        true
    }

    /// A digest of these filters and the `sources` they apply to, which a
    /// cursor carries so that it cannot be used with others.
    pub fn digest(&self, sources: &[String]) -> String {
        let mut statuses: Vec<&str> = self.statuses.iter().map(|s| status_name(*s)).collect();
        statuses.sort_unstable();
        statuses.dedup();
        let canonical = serde_json::json!({
            "sources": sources,
            "statuses": statuses,
            "customer": self.customer,
            "created_gte": self.created_gte.map(|t| t.timestamp_micros()),
            "created_lt": self.created_lt.map(|t| t.timestamp_micros()),
        });
        let digest = Sha256::digest(canonical.to_string().as_bytes());
        digest[..16].iter().map(|b| format!("{b:02x}")).collect()
    }
}

fn status_name(status: Status) -> &'static str {
    match status {
        Status::Open => "open",
        Status::Processing => "processing",
        Status::Complete => "complete",
        Status::Expired => "expired",
        Status::Canceled => "canceled",
        Status::Failed => "failed",
    }
}

const STATUSES: [Status; 6] = [
    Status::Open,
    Status::Processing,
    Status::Complete,
    Status::Expired,
    Status::Canceled,
    Status::Failed,
];

/// A query string's pairs, each parameter at most once (several values go
/// in one, separated by commas): the list's and the change feed's rule.
pub fn unique_pairs(query: Option<&str>) -> Result<Vec<(String, String)>, Error> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|_| Error::invalid_request("query string is not valid form encoding"))?;
    let mut seen: Vec<&str> = Vec::new();
    for (key, _) in &pairs {
        if seen.contains(&key.as_str()) {
            return Err(Error::invalid_request(format!(
                "{key}: given more than once (separate several values with commas)"
            )));
        }
        seen.push(key);
    }
    Ok(pairs)
}

/// Parse the query string. Every problem names its parameter.
pub fn parse(query: Option<&str>) -> Result<ListRequest, Error> {
    let mut request = ListRequest {
        limit: DEFAULT_LIMIT,
        ..ListRequest::default()
    };
    for (key, value) in unique_pairs(query)? {
        match key.as_str() {
            "accounts" => request.accounts = Some(accounts(&value)?),
            "status" => request.filters.statuses = statuses(&value)?,
            "customer" => {
                if value.is_empty() || value.len() > MAX_CUSTOMER_LEN {
                    return Err(Error::invalid_request(format!(
                        "customer: 1 to {MAX_CUSTOMER_LEN} characters"
                    )));
                }
                request.filters.customer = Some(value);
            }
            "created_gte" => request.filters.created_gte = Some(timestamp(&key, &value)?),
            "created_lt" => request.filters.created_lt = Some(timestamp(&key, &value)?),
            "limit" => request.limit = limit(&value)?,
            "cursor" => {
                if value.is_empty() || value.len() > MAX_CURSOR_LEN {
                    return Err(Error::invalid_request(
                        "cursor: give the `next_cursor` of the previous page, unchanged",
                    ));
                }
                request.cursor = Some(value);
            }
            other => {
                return Err(Error::invalid_request(format!(
                    "unknown query parameter {other:?} (accepted: accounts, status, customer, created_gte, created_lt, limit, cursor)"
                )))
            }
        }
    }
    if let (Some(gte), Some(lt)) = (request.filters.created_gte, request.filters.created_lt) {
        if gte >= lt {
            return Err(Error::invalid_request(
                "created_gte: must be earlier than created_lt",
            ));
        }
    }
    Ok(request)
}

/// `provider:account,…` (also the change feed's `accounts`).
pub fn accounts(value: &str) -> Result<Vec<(String, String)>, Error> {
    let mut out: Vec<(String, String)> = Vec::new();
    for item in value.split(',') {
        let (provider, account) = item
            .split_once(':')
            .filter(|(p, a)| !p.is_empty() && !a.is_empty() && !a.contains(':'))
            .ok_or_else(|| {
                Error::invalid_request(format!(
                    "accounts: {item:?} is not `provider:account` (separate several with commas)"
                ))
            })?;
        let pair = (provider.to_owned(), account.to_owned());
        if !out.contains(&pair) {
            out.push(pair);
        }
    }
    Ok(out)
}

fn statuses(value: &str) -> Result<Vec<Status>, Error> {
    let mut out = Vec::new();
    for item in value.split(',') {
        let status = STATUSES
            .into_iter()
            .find(|s| status_name(*s) == item)
            .ok_or_else(|| {
                Error::invalid_request(format!(
                    "status: unknown status {item:?} (accepted: open, processing, complete, expired, canceled, failed)"
                ))
            })?;
        if !out.contains(&status) {
            out.push(status);
        }
    }
    Ok(out)
}

fn timestamp(key: &str, value: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            Error::invalid_request(format!(
                "{key}: not an RFC 3339 time (e.g. 2026-11-29T12:00:00Z)"
            ))
        })
}

fn limit(value: &str) -> Result<u32, Error> {
    value
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_LIMIT).contains(n))
        .ok_or_else(|| {
            Error::invalid_request(format!("limit: a whole number from 1 to {MAX_LIMIT}"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(query: &str) -> String {
        parse(Some(query)).unwrap_err().message
    }

    #[test]
    fn a_full_query_parses() {
        let r = parse(Some(
            "accounts=meteroid:default,flowglad:eu&status=open,complete&customer=cus_1&created_gte=2026-01-01T00:00:00Z&created_lt=2026-02-01T00:00:00%2B01:00&limit=7&cursor=abc",
        ))
        .unwrap();
        assert_eq!(
            r.accounts.unwrap(),
            vec![
                ("meteroid".to_owned(), "default".to_owned()),
                ("flowglad".to_owned(), "eu".to_owned())
            ]
        );
        assert_eq!(r.filters.statuses, vec![Status::Open, Status::Complete]);
        assert_eq!(r.filters.customer.as_deref(), Some("cus_1"));
        assert_eq!(
            r.filters.created_lt.unwrap().to_rfc3339(),
            "2026-01-31T23:00:00+00:00"
        );
        assert_eq!((r.limit, r.cursor.as_deref()), (7, Some("abc")));
        let empty = parse(None).unwrap();
        assert_eq!((empty.limit, empty.accounts), (DEFAULT_LIMIT, None));
    }

    #[test]
    fn every_mistake_names_its_parameter() {
        for (query, field) in [
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=ten", "limit"),
            ("status=done", "status"),
            ("status=open&status=complete", "status"),
            ("accounts=meteroid", "accounts"),
            ("accounts=meteroid:a:b", "accounts"),
            ("accounts=,", "accounts"),
            ("created_gte=yesterday", "created_gte"),
            (
                "created_gte=2026-02-01T00:00:00Z&created_lt=2026-01-01T00:00:00Z",
                "created_gte",
            ),
            ("customer=", "customer"),
            ("cursor=", "cursor"),
            ("expand=x", "expand"),
        ] {
            let m = message(query);
            assert!(m.contains(field), "{query}: {m}");
        }
    }

    #[test]
    fn the_digest_ignores_order_and_repeats_but_not_values() {
        let a = parse(Some("status=open,complete&customer=c"))
            .unwrap()
            .filters;
        let b = parse(Some("customer=c&status=complete,open"))
            .unwrap()
            .filters;
        let sources = vec!["meteroid:default".to_owned()];
        assert_eq!(a.digest(&sources), b.digest(&sources));
        let c = parse(Some("status=open&customer=c")).unwrap().filters;
        assert_ne!(a.digest(&sources), c.digest(&sources));
        assert_ne!(
            a.digest(&sources),
            a.digest(&["flowglad:default".to_owned()])
        );
    }
}
