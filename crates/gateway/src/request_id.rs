//! Request ids: the caller's `x-request-id` when it sends one, a random
//! UUID otherwise. Drawn from the thread-local CSPRNG rather than a
//! getrandom(2) call per request, which showed in the profile of the hit path.

use http::{HeaderMap, HeaderValue, Request};
use tower_http::request_id::{MakeRequestId, RequestId};

use crate::errors::REQUEST_ID;

/// A new random (version 4) UUID as a header value.
pub fn new_request_id() -> HeaderValue {
    let uuid = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    let mut buffer = uuid::Uuid::encode_buffer();
    HeaderValue::from_str(uuid.hyphenated().encode_lower(&mut buffer))
        .expect("a hyphenated UUID is a valid header value")
}

/// The request's id as it arrived, or a new one.
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
        assert_eq!(request_id_of(&headers), "abc-123");
    }
}
