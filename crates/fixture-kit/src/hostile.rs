//! The harness of the adapters' `tests/hostile.rs`: a real get body to
//! spoil, and the checks every hostile body must pass through
//! `Provider::normalize` — `provider_bad_response` (a 502 at the gateway),
//! never a panic, and a short message that never echoes the body.

use std::panic::{catch_unwind, AssertUnwindSafe};

use checkout_core::vendor::raw_json;
use checkout_core::{CheckoutSession, Error, ErrorCode, Provider};
use serde_json::{json, Value};

pub const MIB: usize = 1 << 20;
/// Nesting depth of the deeply nested bodies.
pub const DEPTH: usize = 100_000;

/// One vendor's base body and where its session's fields sit.
pub struct Hostile {
    provider: &'static dyn Provider,
    /// Keys from the body's root to the session object (empty: the root).
    session: &'static [&'static str],
    base: Value,
}

impl Hostile {
    /// `fixture`: a real get body; `session`: the keys leading to the
    /// session's fields in it.
    pub fn new(
        provider: &'static dyn Provider,
        session: &'static [&'static str],
        fixture: &[u8],
    ) -> Hostile {
        Hostile {
            provider,
            session,
            base: serde_json::from_slice(fixture).expect("fixture is JSON"),
        }
    }

    pub fn base(&self) -> Value {
        self.base.clone()
    }

    pub fn base_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.base).expect("a Value serialises")
    }

    /// The base body with the session's `field` set to `value`.
    pub fn with(&self, field: &str, value: Value) -> Vec<u8> {
        let path: Vec<&str> = self.session.iter().copied().chain([field]).collect();
        self.with_at(&path, value)
    }

    /// The base body with the field at `path` (from the root) set to `value`.
    pub fn with_at(&self, path: &[&str], value: Value) -> Vec<u8> {
        let mut body = self.base();
        let (last, parents) = path.split_last().expect("a path of one key at least");
        let mut at = &mut body;
        for key in parents {
            at = &mut at[*key];
        }
        at[*last] = value;
        serde_json::to_vec(&body).expect("a Value serialises")
    }

    /// The base body with `text` spliced in, unparsed, as the session's `field`.
    pub fn with_raw(&self, field: &str, text: &[u8]) -> Vec<u8> {
        let path: Vec<&str> = self.session.iter().copied().chain([field]).collect();
        self.with_raw_at(&path, text)
    }

    /// The base body with `text` spliced in, unparsed, as the field at `path`.
    pub fn with_raw_at(&self, path: &[&str], text: &[u8]) -> Vec<u8> {
        let marker = "\u{1}marker\u{1}";
        let body = String::from_utf8(self.with_at(path, json!(marker))).expect("JSON is UTF-8");
        let quoted = serde_json::to_string(marker).expect("a string serialises");
        let at = body.find(&quoted).expect("the marker is in the body");
        let mut out = body.as_bytes()[..at].to_vec();
        out.extend_from_slice(text);
        out.extend_from_slice(&body.as_bytes()[at + quoted.len()..]);
        out
    }

    /// `normalize`, with a panic turned into a test failure naming `what`.
    #[track_caller]
    pub fn normalize(&self, what: &str, body: &[u8]) -> Result<CheckoutSession, Error> {
        catch_unwind(AssertUnwindSafe(|| {
            self.provider.normalize("default", body)
        }))
        .unwrap_or_else(|_| panic!("{what}: normalize panicked"))
    }

    /// `normalize` answers `provider_bad_response`, does not panic, and
    /// keeps its message short (the body is never echoed).
    #[track_caller]
    pub fn assert_bad_response(&self, what: &str, body: &[u8]) {
        match self.normalize(what, body) {
            Ok(s) => panic!("{what}: read as a session {} ({:?})", clip(&s.id), s.status),
            Err(e) => assert_502(what, &e),
        }
    }

    /// `normalize` refuses the body, or the gateway's read path does when it
    /// keeps the body verbatim (what every adapter client does after converting).
    #[track_caller]
    pub fn assert_read_path_refuses(&self, what: &str, body: &[u8]) {
        match self.normalize(what, body) {
            Ok(_) => assert_502(what, &raw_json(self.provider.name(), body).expect_err(what)),
            Err(e) => assert_502(what, &e),
        }
    }

    /// Hostile data where the adapter reads nothing: no panic, and the
    /// session is exactly the one of the body without it.
    #[track_caller]
    pub fn assert_ignored(&self, what: &str, body: &[u8]) {
        let plain = self
            .provider
            .normalize("default", &self.base_bytes())
            .expect("the base body is read");
        assert_eq!(self.normalize(what, body).expect(what), plain, "{what}");
    }
}

/// The first 80 bytes of a message, for a failure report.
pub fn clip(s: &str) -> &str {
    s.get(..80).unwrap_or(s)
}

#[track_caller]
pub fn assert_502(what: &str, e: &Error) {
    assert_eq!(e.code, ErrorCode::ProviderBadResponse, "{what}: {e}");
    assert_eq!(e.http_status, 502, "{what}");
    assert!(e.message.len() < 1_000, "{what}: {}", clip(&e.message));
}

/// Hostile list answers: `key` names the array of items in the body's
/// object, `item` is a real list item, and each of `spoiled` replaces one of its fields in a second item.
/// Every one must be refused by a list reader (see [`assert_list_refused`]).
pub fn list_bodies(key: &str, item: &Value, spoiled: &[(&str, Value)]) -> Vec<(String, Vec<u8>)> {
    let open = "[".repeat(DEPTH);
    let closed = "]".repeat(DEPTH);
    let mut bodies: Vec<(String, Vec<u8>)> = [
        ("null", "null".to_owned()),
        ("an array", "[]".to_owned()),
        ("the items null", format!(r#"{{"{key}":null,"x":1}}"#)),
        ("the items an object", format!(r#"{{"{key}":{{}}}}"#)),
        ("an item null", format!(r#"{{"{key}":[null]}}"#)),
        ("an item a string", format!(r#"{{"{key}":["id"]}}"#)),
        ("an item a number", format!(r#"{{"{key}":[1e400]}}"#)),
        (
            "100k nested arrays as an item",
            format!(r#"{{"{key}":[{open}{closed}]}}"#),
        ),
        ("unbalanced nesting", format!(r#"{{"{key}":[{open}"#)),
    ]
    .into_iter()
    .map(|(what, body)| (what.to_owned(), body.into_bytes()))
    .collect();
    let mut invalid = format!(r#"{{"{key}":[{{"id":""#).into_bytes();
    invalid.extend_from_slice(b"\xff\"}]}");
    bodies.push(("invalid UTF-8 in an item".to_owned(), invalid));
    bodies.push(("8 MiB of text".to_owned(), vec![b'x'; 8 * MIB]));
    for (field, value) in spoiled {
        let mut bad = item.clone();
        bad[*field] = value.clone();
        let body = serde_json::to_vec(&json!({ key: [item.clone(), bad] })).expect("JSON");
        bodies.push((format!("item 1 with {field} = {value}"), body));
    }
    bodies
}

/// A list read refused `what` as `provider_bad_response` carrying the
/// vendor's 200, without a panic.
#[track_caller]
pub fn assert_list_refused<T>(what: &str, read: impl FnOnce() -> Result<T, Error>) {
    let e = match catch_unwind(AssertUnwindSafe(read)) {
        Ok(Ok(_)) => panic!("{what}: read as a page"),
        Ok(Err(e)) => e,
        Err(_) => panic!("{what}: the list read panicked"),
    };
    assert_502(what, &e);
    assert_eq!(e.provider_http_status, Some(200), "{what}");
}
