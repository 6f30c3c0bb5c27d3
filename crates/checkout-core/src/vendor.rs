//! Pure helpers every adapter needs when reading a vendor's answer. No I/O:
//! `vendor-http` does the calls and hands the answers to the adapters.

use serde::de::DeserializeOwned;

use crate::drift::{self, Unknowns};
use crate::error::{Error, ErrorCode};
use crate::exchange::VendorAnswer;
use serde_json::value::RawValue;

use crate::list::ListPage;
use crate::model::CheckoutSession;
use crate::model::Fetched;

/// Longest vendor-body path named in a parse error.
const MAX_PATH_LEN: usize = 120;

/// Longest vendor error text relayed to a caller.
pub const MAX_MESSAGE_LEN: usize = 500;

/// Cut a vendor message to [`MAX_MESSAGE_LEN`] characters.
pub fn truncate_message(s: &str) -> String {
    match s.char_indices().nth(MAX_MESSAGE_LEN) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_owned(),
    }
}

pub use crate::exchange::parse_retry_after;

/// A vendor answer the gateway cannot use.
pub fn bad_response(provider: &str, what: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorCode::ProviderBadResponse,
        format!("{provider} sent an unreadable response: {what}"),
    )
    .with_provider(provider)
}

/// Deserialize a vendor body, naming where it went wrong but never echoing
/// vendor data into the error. Inside a drift collector (a read by
/// [`read_fetched`] or [`read_page`]), every field no wire type reads is
/// reported to it ([`drift`]).
pub fn parse_body<T: DeserializeOwned>(provider: &str, body: &[u8]) -> Result<T, Error> {
    parse_at(provider, body, "")
}

/// [`parse_body`], naming drift found in `body` after `prefix`.
fn parse_at<T: DeserializeOwned>(provider: &str, body: &[u8], prefix: &str) -> Result<T, Error> {
    // Tracking the path costs an allocation per key and doubles the parse
    // (benches/conversion.rs), so it runs only to explain a failure (and,
    // in `drift::parse`, to name a field no wire type reads).
    let parsed = if drift::active() {
        drift::parse(body, prefix)
    } else {
        serde_json::from_slice(body)
    };
    parsed.or_else(|_| explain_bad_body(provider, body))
}

/// Parse again, tracking where it fails, for the error message.
fn explain_bad_body<T: DeserializeOwned>(provider: &str, body: &[u8]) -> Result<T, Error> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        // The path holds the vendor's object keys: bound it, a key can be huge.
        let path = e.path().to_string();
        let path = match path.char_indices().nth(MAX_PATH_LEN) {
            Some((at, _)) => format!("{}…", &path[..at]),
            None => path,
        };
        let what = match e.inner().classify() {
            serde_json::error::Category::Data => "wrong type or missing field",
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                "malformed JSON"
            }
            serde_json::error::Category::Io => "unreadable body",
        };
        bad_response(provider, format_args!("{what} at `{path}`"))
    })?;
    // Bytes after the value mean the body is not the JSON document it claims.
    de.end()
        .map_err(|_| bad_response(provider, "data after the JSON value"))?;
    Ok(value)
}

/// A 2xx vendor body kept verbatim for `?include=raw`; not JSON is a bad response.
pub fn raw_json(provider: &str, body: &[u8]) -> Result<Box<serde_json::value::RawValue>, Error> {
    std::str::from_utf8(body)
        .ok()
        .and_then(|s| serde_json::value::RawValue::from_string(s.trim().to_owned()).ok())
        .ok_or_else(|| bad_response(provider, "the body is not JSON"))
}

/// A vendor's answer to a call that returns one session: a non-2xx is the
/// vendor's refusal (`refused`, with the answer's `Retry-After` when it
/// sends one), a 2xx body is read by `session` and kept verbatim for
/// `?include=raw`. Every error carries the vendor's HTTP status, whichever
/// vendor and whichever step raised it.
pub fn read_fetched(
    provider: &str,
    answer: &VendorAnswer,
    refused: impl FnOnce(&VendorAnswer) -> Error,
    session: impl FnOnce(&[u8]) -> Result<CheckoutSession, Error>,
) -> Result<Fetched, Error> {
    read_answer(answer, refused, |body| {
        let (session, unknown) = drift::collect(|| session(body));
        Ok(Fetched {
            session: session?,
            raw: raw_json(provider, body)?,
            unknown,
        })
    })
}

/// A vendor's answer to a list call, read like [`read_fetched`]: a non-2xx
/// is `refused`, a 2xx body is read by `page` (see [`listed`] for its
/// items), and every error carries the vendor's HTTP status.
pub fn read_page(
    provider: &str,
    answer: &VendorAnswer,
    refused: impl FnOnce(&VendorAnswer) -> Error,
    page: impl FnOnce(&[u8]) -> Result<ListPage, Error>,
) -> Result<ListPage, Error> {
    read_answer(answer, refused, |body| {
        // Items are kept verbatim as `raw`: the whole body must be text.
        std::str::from_utf8(body).map_err(|_| bad_response(provider, "the body is not JSON"))?;
        let (page, unknown) = drift::collect(|| page(body));
        Ok(ListPage { unknown, ..page? })
    })
}

/// The items of a list answer: each read as the vendor's session type `T`,
/// turned into the canonical session by `session`, and kept verbatim as
/// `raw` (moved, not copied: a whole-list vendor sends hundreds). An error
/// names the item's position, never its content. Drift in an item is the
/// page's (see [`read_page`]), its fields named after `[]`.
pub fn listed<T: DeserializeOwned>(
    provider: &str,
    items: Vec<Box<RawValue>>,
    session: impl Fn(T) -> Result<CheckoutSession, Error>,
) -> Result<Vec<Fetched>, Error> {
    items
        .into_iter()
        .enumerate()
        .map(|(index, raw)| {
            parse_at::<T>(provider, raw.get().as_bytes(), "[]")
                .and_then(&session)
                .map(|session| Fetched {
                    session,
                    raw,
                    unknown: Unknowns::default(),
                })
                .map_err(|mut e| {
                    e.message = format!("{} (list item {index})", e.message);
                    e
                })
        })
        .collect()
}

/// The shared shape of every read: refusal or body, tagged with the status.
fn read_answer<T>(
    answer: &VendorAnswer,
    refused: impl FnOnce(&VendorAnswer) -> Error,
    body: impl FnOnce(&[u8]) -> Result<T, Error>,
) -> Result<T, Error> {
    let read = if answer.is_success() {
        body(&answer.body)
    } else {
        let error = refused(answer);
        Err(match answer.retry_after() {
            Some(after) => error.with_retry_after(Some(after)),
            None => error,
        })
    };
    read.map_err(|e| with_vendor_status(e, answer.status))
}

/// `error`, tagged with the vendor's status unless a step already did.
pub fn with_vendor_status(mut error: Error, status: u16) -> Error {
    error.provider_http_status.get_or_insert(status);
    error
}

/// How a call failed before any HTTP status arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportFailure {
    /// No answer within the deadline.
    Timeout,
    /// The connection could not be made: the request never reached the vendor.
    Connect,
    /// The connection broke.
    Other,
}

impl TransportFailure {
    /// From an HTTP client's own answers to "did it time out / fail to connect?".
    pub fn classify(timed_out: bool, connect_failed: bool) -> TransportFailure {
        if timed_out {
            TransportFailure::Timeout
        } else if connect_failed {
            TransportFailure::Connect
        } else {
            TransportFailure::Other
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TransportFailure::Timeout => "timeout",
            TransportFailure::Connect => "connect",
            TransportFailure::Other => "transport",
        }
    }

    pub fn error(self, provider: &str) -> Error {
        let (code, message) = match self {
            TransportFailure::Timeout => (
                ErrorCode::ProviderTimeout,
                format!("{provider} did not answer in time"),
            ),
            TransportFailure::Connect => (
                ErrorCode::ProviderUnavailable,
                format!("{provider} could not be reached"),
            ),
            TransportFailure::Other => (
                ErrorCode::ProviderError,
                format!("{provider} connection failed"),
            ),
        };
        let mut err = Error::new(code, message).with_provider(provider);
        err.not_sent = self == TransportFailure::Connect;
        err
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn messages_are_bounded() {
        assert_eq!(truncate_message("short"), "short");
        assert_eq!(
            truncate_message(&"é".repeat(2000)).chars().count(),
            MAX_MESSAGE_LEN + 1
        );
    }

    #[test]
    fn parse_errors_name_the_path_not_the_data() {
        #[derive(serde::Deserialize, Debug)]
        struct T {
            #[allow(dead_code)]
            n: u32,
        }
        let e = parse_body::<T>("acme", br#"{"n":"secret-value"}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::ProviderBadResponse);
        assert!(
            e.message.contains("`n`") && !e.message.contains("secret-value"),
            "{}",
            e.message
        );
        assert!(parse_body::<T>("acme", b"{")
            .unwrap_err()
            .message
            .contains("malformed JSON"));
    }

    #[test]
    fn raw_json_keeps_the_bytes() {
        let raw = raw_json("acme", b" {\"a\": 29.990}\n").unwrap();
        assert_eq!(raw.get(), "{\"a\": 29.990}");
        assert_eq!(
            raw_json("acme", b"<html>").unwrap_err().code,
            ErrorCode::ProviderBadResponse
        );
    }

    fn answer(status: u16, body: &'static [u8]) -> VendorAnswer {
        VendorAnswer {
            status,
            body: body.into(),
            ..VendorAnswer::default()
        }
    }

    #[derive(serde::Deserialize)]
    struct Item {
        id: String,
    }

    fn session(id: &str) -> Result<CheckoutSession, Error> {
        if id.is_empty() {
            return Err(bad_response("acme", "empty id"));
        }
        let body = format!(
            r#"{{"object":"checkout_session","id":"acme:a:{id}","provider":"acme","account":"a",
            "provider_session_id":"{id}","status":"open","payment_status":null,"purpose":"other",
            "url":null,"success_url":null,"cancel_url":null,"customer":null,"plan":null,
            "quantity":null,"subscription_id":null,"invoice_id":null,"amount_total":null,
            "livemode":null,"metadata":{{}},"created_at":"2026-01-19T10:00:00Z","updated_at":null,
            "expires_at":null,"completed_at":null,"provider_status":{{"status":null,"payment_status":null}}}}"#
        );
        Ok(serde_json::from_str(&body).expect("a canonical session"))
    }

    fn page(body: &[u8]) -> Result<ListPage, Error> {
        #[derive(serde::Deserialize)]
        struct Page {
            items: Vec<Box<RawValue>>,
        }
        let p: Page = parse_body("acme", body)?;
        let sessions = listed("acme", p.items, |item: Item| session(&item.id))?;
        Ok(ListPage::new(sessions, None))
    }

    #[test]
    fn pages_keep_each_item_verbatim_and_every_error_its_status() {
        let ok = read_page(
            "acme",
            &answer(200, br#"{"items":[{"id": "s1", "x": 1.50},{"id":"s2"}]}"#),
            |_| unreachable!(),
            page,
        )
        .unwrap();
        assert_eq!(ok.sessions.len(), 2);
        assert_eq!(ok.sessions[0].raw.get(), r#"{"id": "s1", "x": 1.50}"#);
        let e = read_page(
            "acme",
            &answer(200, br#"{"items":[{"id":"s1"},{"id":""}]}"#),
            |_| unreachable!(),
            page,
        )
        .unwrap_err();
        assert_eq!(e.provider_http_status, Some(200));
        assert!(e.message.contains("list item 1"), "{}", e.message);
        let e = read_page(
            "acme",
            &answer(200, b"{\"items\":[\"\xff\"]}"),
            |_| unreachable!(),
            page,
        )
        .unwrap_err();
        assert_eq!(
            (e.code, e.provider_http_status),
            (ErrorCode::ProviderBadResponse, Some(200))
        );
        let e = read_page(
            "acme",
            &answer(503, b"busy"),
            |a| Error::from_vendor_status("acme", a.status, "busy"),
            page,
        )
        .unwrap_err();
        assert_eq!(
            (e.code, e.provider_http_status),
            (ErrorCode::ProviderUnavailable, Some(503))
        );
    }

    #[test]
    fn transport_failures() {
        assert_eq!(
            TransportFailure::classify(true, true),
            TransportFailure::Timeout
        );
        assert_eq!(
            TransportFailure::classify(false, true),
            TransportFailure::Connect
        );
        assert_eq!(
            TransportFailure::classify(false, false),
            TransportFailure::Other
        );
        assert_eq!(TransportFailure::Timeout.error("x").http_status, 504);
        assert_eq!(TransportFailure::Connect.error("x").http_status, 503);
        assert_eq!(TransportFailure::Other.error("x").http_status, 502);
    }
}
