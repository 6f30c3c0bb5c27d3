//! `GET /v1/events`: the change feed as pages (PRODUCT §11). The query is
//! parsed here, and so are the accounts a key may see, for this route and
//! its stream (`routes::event_stream`). A cursor is an event's seq in
//! decimal: events are numbered in commit order, so a cursor never skips
//! one committed late.

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use checkout_core::{Error, ErrorCode, PaymentStatus, Status};
use feed::EventType;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, StatusCode};
use serde::Serialize;
use store::{EventFilter, StoredEvent};
use utoipa::ToSchema;

use crate::auth::{Client, Scope};
use crate::http::errors::ApiError;
use crate::idempotency::unavailable;
use crate::service::list::query::{accounts as parse_accounts, unique_pairs};
use crate::state::live::Current;
use crate::state::AppState;

/// Page size when `limit` is absent, and its bounds.
pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 100;
/// The longest cursor: an `i64` in decimal.
const MAX_CURSOR_DIGITS: usize = 19;

/// The feed's filters as a request gives them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedQuery {
    /// Event type names (`checkout_session.completed`…); `None`: all.
    pub types: Option<Vec<String>>,
    /// `provider:account` pairs; `None`: every account the key may read.
    pub accounts: Option<Vec<(String, String)>>,
    /// Only events after this seq.
    pub after: Option<i64>,
    /// Page size (the pull feed only).
    pub limit: u32,
}

/// Parse the query string; every problem names its parameter. `limit` is
/// taken only where pages are (`paged`), not by the stream.
pub fn parse(query: Option<&str>, paged: bool) -> Result<FeedQuery, Error> {
    let mut out = FeedQuery {
        limit: DEFAULT_LIMIT,
        ..FeedQuery::default()
    };
    for (key, value) in unique_pairs(query)? {
        match key.as_str() {
            "types" => out.types = Some(types(&value)?),
            "accounts" => out.accounts = Some(parse_accounts(&value)?),
            "after" => out.after = Some(cursor("after", &value)?),
            "limit" if paged => out.limit = limit(&value)?,
            other => {
                let accepted = if paged {
                    "types, accounts, after, limit"
                } else {
                    "types, accounts, after (or the Last-Event-ID header)"
                };
                return Err(Error::invalid_request(format!(
                    "unknown query parameter {other:?} (accepted: {accepted})"
                )));
            }
        }
    }
    Ok(out)
}

fn types(value: &str) -> Result<Vec<String>, Error> {
    let mut out: Vec<String> = Vec::new();
    for item in value.split(',') {
        let kind = EventType::parse(item).ok_or_else(|| {
            let known: Vec<&str> = EventType::ALL.iter().map(|k| k.as_str()).collect();
            Error::invalid_request(format!(
                "types: unknown event type {item:?} (accepted: {})",
                known.join(", ")
            ))
        })?;
        let name = kind.as_str().to_owned();
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}

/// A cursor (`after`, `Last-Event-ID`): an event's seq, in decimal.
pub fn cursor(name: &str, value: &str) -> Result<i64, Error> {
    Some(value)
        .filter(|v| !v.is_empty() && v.len() <= MAX_CURSOR_DIGITS)
        .filter(|v| v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse::<i64>().ok())
        .ok_or_else(|| {
            Error::invalid_request(format!(
                "{name}: not a cursor (give a page's `next_cursor`, or a streamed event's `id`, unchanged)"
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

/// The accounts (`provider:account`) whose events `client` gets: those
/// named, each of which must be configured and granted to the key (the
/// list route's rule: 404 either way, so nobody learns which accounts
/// exist), or else every configured account it may use.
pub fn visible_accounts(
    state: &AppState,
    client: &Client,
    wanted: Option<&[(String, String)]>,
) -> Result<Vec<String>, Error> {
    let label = |(p, a): &(String, String)| format!("{p}:{a}");
    match wanted {
        Some(wanted) => wanted
            .iter()
            .map(|pair| {
                let (p, a) = pair;
                if state.accounts.contains_key(pair) && client.may_use(p, a) {
                    Ok(label(pair))
                } else {
                    Err(Error::new(
                        ErrorCode::NotFound,
                        format!("accounts: no account {p}:{a} (or not visible to this key)"),
                    ))
                }
            })
            .collect(),
        None => Ok(state
            .accounts
            .keys()
            .filter(|(p, a)| client.may_use(p, a))
            .map(label)
            .collect()),
    }
}

/// One page of the feed: `{"object":"list","data":[…],"has_more":…,"next_cursor":…}`,
/// each event as stored, byte for byte.
fn page_body(events: &[StoredEvent], has_more: bool) -> String {
    let size: usize = events.iter().map(|e| e.body.len() + 1).sum();
    let mut body = String::with_capacity(size + 80);
    body.push_str(r#"{"object":"list","data":["#);
    for (i, event) in events.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&event.body);
    }
    body.push_str(r#"],"has_more":"#);
    body.push_str(if has_more { "true" } else { "false" });
    body.push_str(r#","next_cursor":"#);
    match events.last() {
        Some(last) => {
            body.push('"');
            body.push_str(&last.seq.to_string());
            body.push('"');
        }
        None => body.push_str("null"),
    }
    body.push('}');
    body
}

/// An event, PRODUCT §11 (documentation only: bodies are sent as stored).
#[derive(Serialize, ToSchema)]
#[schema(as = Event)]
pub struct EventDoc {
    /// Always `event`.
    #[schema(example = "event")]
    pub object: String,
    /// `evt_` and 32 hex digits; also the Standard Webhooks `webhook-id`.
    #[schema(example = "evt_019a1f3c5e8b7d2a9c4f6e1b3d5a7c90")]
    pub id: String,
    #[serde(rename = "type")]
    #[schema(value_type = EventTypeDoc)]
    pub kind: String,
    /// RFC 3339, milliseconds, UTC.
    #[schema(example = "2026-03-04T13:20:11.250Z")]
    pub created_at: String,
    /// `provider:account`.
    #[schema(example = "meteroid:default")]
    pub account: String,
    pub data: EventDataDoc,
    /// What the gateway saw before; `null` on the first sight.
    #[schema(required = true)]
    pub previous: Option<PreviousDoc>,
}

/// The event's type.
#[derive(Serialize, ToSchema)]
#[schema(as = EventType)]
pub enum EventTypeDoc {
    #[serde(rename = "checkout_session.created")]
    Created,
    #[serde(rename = "checkout_session.processing")]
    Processing,
    #[serde(rename = "checkout_session.completed")]
    Completed,
    #[serde(rename = "checkout_session.expired")]
    Expired,
    #[serde(rename = "checkout_session.canceled")]
    Canceled,
    #[serde(rename = "checkout_session.failed")]
    Failed,
    #[serde(rename = "checkout_session.payment_status_changed")]
    PaymentStatusChanged,
}

#[derive(Serialize, ToSchema)]
#[schema(as = EventData)]
pub struct EventDataDoc {
    /// The session as of the event (derived expiry applied).
    pub object: checkout_core::CheckoutSession,
}

#[derive(Serialize, ToSchema)]
#[schema(as = EventPrevious)]
pub struct PreviousDoc {
    pub status: Status,
    #[schema(required = true)]
    pub payment_status: Option<PaymentStatus>,
}

/// A page of events.
#[derive(Serialize, ToSchema)]
#[schema(as = EventList)]
pub struct EventListDoc {
    /// Always `list`.
    #[schema(example = "list")]
    pub object: String,
    /// Oldest first.
    pub data: Vec<EventDoc>,
    /// More events follow (ask again with `after` = `next_cursor`).
    pub has_more: bool,
    /// The last event's cursor; `null` when `data` is empty (keep the one you had).
    #[schema(example = "1042", required = true)]
    pub next_cursor: Option<String>,
}

#[utoipa::path(
    get,
    path = "/v1/events",
    tag = "events",
    params(
        ("types" = Option<String>, Query, description = "Comma-separated event types; default: all", example = "checkout_session.completed,checkout_session.expired"),
        ("accounts" = Option<String>, Query, description = "Comma-separated `provider:account` list; default: every account this key may read", example = "meteroid:default"),
        ("after" = Option<String>, Query, description = "Only events after this cursor (a page's `next_cursor`, or a streamed event's `id`); default: the oldest kept", example = "1042"),
        ("limit" = Option<u32>, Query, description = "1 to 100; default 50", minimum = 1, maximum = 100),
    ),
    responses(
        (status = 200, description = "Events in the order they happened (events older than `feed.retention_days` are gone)", body = EventListDoc),
        (status = 400, description = "`invalid_request`: the message names the parameter", body = checkout_core::error::ErrorBody),
        (status = 404, description = "`not_found`: an account in `accounts` does not exist or is not visible to this key", body = checkout_core::error::ErrorBody),
        (status = 500, description = "`internal_error` (retryable): the store is unavailable", body = checkout_core::error::ErrorBody),
    ),
    security(("client_key" = []))
)]
pub async fn list_events(Current(state): Current, request: Request) -> Result<Response, ApiError> {
    let client = state.authorize(request.headers(), Scope::SessionsRead)?;
    let query = parse(request.uri().query(), true)?;
    let accounts = visible_accounts(&state, &client, query.accounts.as_deref())?;
    let store = state.feed.store().await?;
    let limit = i64::from(query.limit);
    // One more than asked: whether there is more, without a second query.
    let mut events = store
        .events(&EventFilter {
            after: query.after.unwrap_or(0),
            kinds: query.types.as_deref(),
            accounts: Some(&accounts),
            session_id: None,
            limit: limit + 1,
        })
        .await
        .map_err(unavailable)?;
    let has_more = events.len() as i64 > limit;
    events.truncate(query.limit as usize);
    let mut response = (StatusCode::OK, page_body(&events, has_more)).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(query: &str, paged: bool) -> String {
        parse(Some(query), paged).unwrap_err().message
    }

    #[test]
    fn a_full_query_parses() {
        let q = parse(
            Some("types=checkout_session.completed,checkout_session.created,checkout_session.completed&accounts=meteroid:default,flowglad:eu&after=42&limit=7"),
            true,
        )
        .unwrap();
        assert_eq!(
            q.types.unwrap(),
            ["checkout_session.completed", "checkout_session.created"]
        );
        assert_eq!(
            q.accounts.unwrap(),
            [
                ("meteroid".to_owned(), "default".to_owned()),
                ("flowglad".to_owned(), "eu".to_owned())
            ]
        );
        assert_eq!((q.after, q.limit), (Some(42), 7));
        let empty = parse(None, true).unwrap();
        assert_eq!(
            (empty.types, empty.accounts, empty.after, empty.limit),
            (None, None, None, DEFAULT_LIMIT)
        );
    }

    #[test]
    fn every_mistake_names_its_parameter() {
        for (query, field) in [
            ("types=checkout_session.done", "types"),
            ("types=", "types"),
            ("types=checkout_session.created,", "types"),
            ("accounts=meteroid", "accounts"),
            ("after=abc", "after"),
            ("after=-1", "after"),
            ("after=", "after"),
            ("after=99999999999999999999", "after"),
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=ten", "limit"),
            ("after=1&after=2", "after"),
            ("cursor=1", "cursor"),
        ] {
            let m = message(query, true);
            assert!(m.contains(field), "{query}: {m}");
        }
        // The stream has no pages.
        assert!(message("limit=5", false).contains("limit"));
        assert!(parse(Some("after=5"), false).is_ok());
    }

    #[test]
    fn cursors_are_decimal_seqs() {
        assert_eq!(cursor("after", "0").unwrap(), 0);
        assert_eq!(cursor("after", "9223372036854775807").unwrap(), i64::MAX);
        for bad in ["+1", " 1", "1.0", "0x10", "9223372036854775808"] {
            assert!(cursor("Last-Event-ID", bad).is_err(), "{bad}");
        }
    }

    fn stored(seq: i64, body: &str) -> StoredEvent {
        StoredEvent {
            seq,
            id: format!("evt_{seq}"),
            kind: "checkout_session.created".into(),
            account: "meteroid:default".into(),
            session_id: "s".into(),
            created_ms: 0,
            body: body.into(),
        }
    }

    #[test]
    fn a_page_holds_the_bodies_as_stored() {
        let events = [stored(3, r#"{"b":1, "a":2}"#), stored(9, r#"{"c":[]}"#)];
        let body = page_body(&events, true);
        assert_eq!(
            body,
            r#"{"object":"list","data":[{"b":1, "a":2},{"c":[]}],"has_more":true,"next_cursor":"9"}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["data"][1]["c"], serde_json::json!([]));
        assert_eq!(
            page_body(&[], false),
            r#"{"object":"list","data":[],"has_more":false,"next_cursor":null}"#
        );
    }
}
