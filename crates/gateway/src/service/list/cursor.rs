//! The list cursor: opaque to callers, versioned, signed (HMAC-SHA256 with
//! the configured key), expiring, and bound to the filters it was issued
//! for. It carries each source's own position, so a source that failed
//! is asked again from where it stood.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use checkout_core::{Error, ErrorCode};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The version prefix; a cursor of another version is refused.
const VERSION: &str = "v1";

/// A place in the merged order: `created_at` descending, then id descending.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key {
    /// `created_at`, in microseconds since the epoch.
    pub at: i64,
    pub id: String,
}

impl Key {
    pub fn of(created_at: DateTime<Utc>, id: &str) -> Key {
        Key {
            at: created_at.timestamp_micros(),
            id: id.to_owned(),
        }
    }
}

/// One source's position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// `provider:account`, or `provider:account/customer` for a vendor
    /// listed per customer.
    pub source: String,
    /// Everything this source had up to this key (inclusive) was answered;
    /// `None`: nothing yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Key>,
    /// The vendor's cursor of the page holding the next session;
    /// `None`: its first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// The id of the kept full answer of an unpaginated vendor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<u64>,
}

/// What a cursor holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CursorState {
    /// Issued at, seconds since the epoch.
    pub issued: i64,
    /// [`super::query::Filters::digest`] of the filters and sources.
    pub filters: String,
    /// The vendor page size used from the first page on (a vendor cursor
    /// is only asked again with the size it was made with).
    pub page_size: u32,
    /// The sources with sessions left, each where it stands.
    pub positions: Vec<Position>,
}

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &[u8]) -> HmacSha256 {
    // HMAC takes a key of any length.
    HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

/// `v1.<payload>.<signature>`, both base64url.
pub fn encode(state: &CursorState, key: &[u8]) -> String {
    let json = serde_json::to_vec(state).unwrap_or_default();
    let signed = format!("{VERSION}.{}", URL_SAFE_NO_PAD.encode(json));
    let mut m = mac(key);
    m.update(signed.as_bytes());
    let tag = URL_SAFE_NO_PAD.encode(m.finalize().into_bytes());
    format!("{signed}.{tag}")
}

fn invalid(why: &str) -> Error {
    Error::new(ErrorCode::InvalidCursor, format!("cursor: {why}"))
}

/// Check and open a cursor: signature, version, age and filters.
pub fn decode(
    cursor: &str,
    key: &[u8],
    filters: &str,
    ttl_secs: u64,
    now: DateTime<Utc>,
) -> Result<CursorState, Error> {
    let malformed = || invalid("not a cursor this gateway issued; give `next_cursor` unchanged");
    let (signed, tag) = cursor.rsplit_once('.').ok_or_else(malformed)?;
    let (version, payload) = signed.split_once('.').ok_or_else(malformed)?;
    if version != VERSION {
        return Err(invalid(
            "issued by another version of the gateway; start the list again",
        ));
    }
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| malformed())?;
    let mut m = mac(key);
    m.update(signed.as_bytes());
    m.verify_slice(&tag)
        .map_err(|_| invalid("signature does not match: it was altered, or not issued here"))?;
    let json = URL_SAFE_NO_PAD.decode(payload).map_err(|_| malformed())?;
    let state: CursorState = serde_json::from_slice(&json).map_err(|_| malformed())?;
    let age = now.timestamp().saturating_sub(state.issued);
    if age < 0 || age as u64 > ttl_secs {
        return Err(invalid("expired; start the list again"));
    }
    if state.filters != filters {
        return Err(invalid(
            "issued for other filters or accounts; use it with the query it came from",
        ));
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn state() -> CursorState {
        CursorState {
            issued: 1_800_000_000,
            filters: "f1".into(),
            page_size: 20,
            positions: vec![Position {
                source: "flowglad:default".into(),
                after: Some(Key {
                    at: 1,
                    id: "flowglad:default:cs_1".into(),
                }),
                page: Some("vendor-cursor".into()),
                snapshot: None,
            }],
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_060, 0).unwrap()
    }

    #[test]
    fn a_cursor_round_trips() {
        let c = encode(&state(), KEY);
        assert!(c.starts_with("v1."));
        assert_eq!(decode(&c, KEY, "f1", 3600, now()).unwrap(), state());
    }

    #[test]
    fn tampered_foreign_expired_and_refiltered_cursors_are_refused() {
        let c = encode(&state(), KEY);
        let check = |cursor: &str, key: &[u8], filters: &str, ttl: u64, why: &str| {
            let e = decode(cursor, key, filters, ttl, now()).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidCursor);
            assert!(e.message.contains(why), "{}", e.message);
        };
        // Every single-character change of the payload or signature.
        let (signed, _) = c.rsplit_once('.').unwrap();
        for i in 3..c.len() {
            let mut bytes = c.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let altered = String::from_utf8(bytes).unwrap();
            if altered != c {
                assert!(decode(&altered, KEY, "f1", 3600, now()).is_err(), "{i}");
            }
        }
        let forged = {
            let mut s = state();
            s.positions[0].after = None;
            let json = serde_json::to_vec(&s).unwrap();
            format!(
                "v1.{}.{}",
                URL_SAFE_NO_PAD.encode(json),
                c.rsplit_once('.').unwrap().1
            )
        };
        check(&forged, KEY, "f1", 3600, "signature");
        check(
            &c,
            b"another key, also 32 bytes long!",
            "f1",
            3600,
            "signature",
        );
        check(&c, KEY, "f2", 3600, "other filters");
        check(&c, KEY, "f1", 30, "expired");
        check(
            &c.replacen("v1.", "v2.", 1),
            KEY,
            "f1",
            3600,
            "another version",
        );
        check("garbage", KEY, "f1", 3600, "not a cursor");
        check(&format!("{signed}.!!"), KEY, "f1", 3600, "not a cursor");
    }
}
