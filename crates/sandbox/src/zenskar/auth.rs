//! The two headers every call needs (vendor notes §2.2): `organisation`,
//! checked first by what answers like an AWS API Gateway authorizer (403,
//! capital-`M` body), then `x-api-key` (401). `apiversion` is optional.

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::error::ApiError;
use super::seed;
use crate::kit::auth::Gate;

pub const MISSING_KEY: &str = "Not authenticated";
pub const UNKNOWN_KEY: &str = "Invalid API key";

pub fn check(headers: &HeaderMap) -> Result<(), ApiError> {
    let organisation = headers
        .get("organisation")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Uuid::parse_str(v.trim()).ok());
    if organisation != Some(seed::ORGANISATION_UUID) {
        return Err(ApiError::Denied);
    }
    match headers.get("x-api-key").map(|v| v.as_bytes()) {
        None => Err(ApiError::Unauthenticated(MISSING_KEY)),
        Some(key) if key == seed::API_KEY.as_bytes() => Ok(()),
        Some(_) => Err(ApiError::Unauthenticated(UNKNOWN_KEY)),
    }
}

/// The check around every Zenskar route.
#[derive(Debug, Clone, Copy)]
pub struct RequiredHeaders;

impl Gate for RequiredHeaders {
    const SCOPE: &'static str = "/";

    fn refusal(&self, headers: &HeaderMap) -> Option<Response> {
        check(headers).err().map(IntoResponse::into_response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(org: Option<&str>, key: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(v) = org.and_then(|o| HeaderValue::from_str(o).ok()) {
            h.insert("organisation", v);
        }
        if let Some(v) = key.and_then(|k| HeaderValue::from_str(k).ok()) {
            h.insert("x-api-key", v);
        }
        h
    }

    #[test]
    fn organisation_first_then_key() {
        let org = Some(seed::ORGANISATION_ID);
        let upper = seed::ORGANISATION_ID.to_ascii_uppercase();
        assert!(check(&headers(org, Some(seed::API_KEY))).is_ok());
        assert!(check(&headers(Some(&upper), Some(seed::API_KEY))).is_ok());
        for h in [
            headers(None, Some(seed::API_KEY)),
            headers(Some(seed::BUSINESS_ENTITY_ID), Some(seed::API_KEY)),
            headers(Some("acme"), None),
        ] {
            assert!(matches!(check(&h), Err(ApiError::Denied)));
        }
        assert!(matches!(
            check(&headers(org, None)),
            Err(ApiError::Unauthenticated(MISSING_KEY))
        ));
        assert!(matches!(
            check(&headers(org, Some("zsk_wrong"))),
            Err(ApiError::Unauthenticated(UNKNOWN_KEY))
        ));
    }
}
