//! Request ids: the caller's `x-request-id` when it is a short token of
//! safe characters, a random UUID otherwise. The id goes into every log
//! line and error body, so a caller must not be able to make it long or
//! make it look like more log fields (`x status=500 client="admin"`).
//! Drawn from the thread-local CSPRNG rather than a getrandom(2) call per
//! request, which showed in the profile of the hit path.

use http::{HeaderMap, HeaderValue, Request};
use tower_http::request_id::{MakeRequestId, RequestId};

use crate::http::errors::REQUEST_ID;

/// A new random (version 4) UUID as a header value.
pub fn new_request_id() -> HeaderValue {
    let uuid = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    let mut buffer = uuid::Uuid::encode_buffer();
    HeaderValue::from_str(uuid.hyphenated().encode_lower(&mut buffer))
        .expect("a hyphenated UUID is a valid header value")
}

/// Longest caller-chosen request id kept.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// Whether a caller's id is kept as is: 1 to 128 characters of letters,
/// digits and `-_.:/+=@`. No space, quote or backslash: nothing a log
/// format would need to escape.
pub fn is_acceptable(id: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=@".contains(b))
}

/// Make the request's `x-request-id` one the gateway will echo and log:
/// the caller's when acceptable, a new one otherwise (and when absent).
pub fn settle(headers: &mut HeaderMap) {
    let kept = headers.get_all(REQUEST_ID).iter().count() == 1
        && headers
            .get(REQUEST_ID)
            .is_some_and(|v| is_acceptable(v.as_bytes()));
    if !kept {
        headers.insert(REQUEST_ID, new_request_id());
    }
}

/// The request's id, after [`settle`].
pub fn request_id_of(headers: &HeaderMap) -> HeaderValue {
    headers
        .get(REQUEST_ID)
        .cloned()
        .unwrap_or_else(new_request_id)
}

/// For tower-http's `SetRequestIdLayer` on the routed path.
#[derive(Clone, Copy, Default)]
pub struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        Some(RequestId::new(new_request_id()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_v4_uuids() {
        let a = new_request_id();
        let b = new_request_id();
        assert_ne!(a, b);
        let parsed = uuid::Uuid::parse_str(a.to_str().unwrap()).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
    }

    #[test]
    fn the_callers_id_is_kept() {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID, HeaderValue::from_static("abc-123"));
        settle(&mut headers);
        assert_eq!(request_id_of(&headers), "abc-123");
    }

    #[test]
    fn long_or_field_forging_ids_are_replaced() {
        let long = "a".repeat(MAX_REQUEST_ID_LEN + 1);
        for bad in [
            "x status=500 client=\"admin\"",
            "a\tb",
            "",
            "quote\"",
            "back\\slash",
            long.as_str(),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(REQUEST_ID, HeaderValue::from_str(bad).unwrap());
            settle(&mut headers);
            let id = request_id_of(&headers);
            assert_ne!(id, bad);
            uuid::Uuid::parse_str(id.to_str().unwrap()).expect("a fresh id");
        }
        let mut headers = HeaderMap::new();
        headers.append(REQUEST_ID, HeaderValue::from_static("one"));
        headers.append(REQUEST_ID, HeaderValue::from_static("two"));
        settle(&mut headers);
        assert_eq!(headers.get_all(REQUEST_ID).iter().count(), 1);
        assert!(is_acceptable(&[b'k'; MAX_REQUEST_ID_LEN]));
        assert!(is_acceptable(b"req_01J:abc/def+g=@h.i-j"));
    }
}
