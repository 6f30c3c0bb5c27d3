//! Bearer API-key check for every path under `/api/`, with the vendor's
//! 401 messages (`api_rest/auth.rs`). A key is
//! `pv_<env>_<secret>/<base62 token id>`: the token id finds the key, then
//! the secret (after the last `_`) is compared.

use std::sync::Arc;

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::error::RestError;
use crate::kit::auth::{authorization, bearer, Gate};

pub const MISSING_HEADER: &str = "Invalid or missing Authorization header";
pub const BAD_FORMAT: &str = "Invalid API key format";
pub const UNKNOWN_KEY: &str = "Failed to resolve api key";
pub const WRONG_SECRET: &str = "Unauthorized. Invalid hash";

#[derive(Debug, Clone, PartialEq, Eq)]
struct ParsedKey {
    token_id: u128,
    secret: String,
}

fn parse(key: &str) -> Option<ParsedKey> {
    let (head, id_part) = key.rsplit_once('/')?;
    let secret = head.rsplit('_').next().unwrap_or(head);
    let token_id = base62::decode(id_part).ok()?;
    Some(ParsedKey {
        token_id,
        secret: secret.to_owned(),
    })
}

/// The keys the emulated tenant accepts.
#[derive(Debug, Clone, Default)]
pub struct ApiKeys {
    keys: Arc<Vec<ParsedKey>>,
}

impl ApiKeys {
    pub fn new(configured: &[String]) -> ApiKeys {
        let mut keys = Vec::new();
        for key in configured {
            match parse(key) {
                Some(parsed) => keys.push(parsed),
                // The vendor could never accept it either.
                None => tracing::warn!(
                    "meteroid sandbox: ignoring api key not in pv_<env>_<secret>/<id> form"
                ),
            }
        }
        ApiKeys {
            keys: Arc::new(keys),
        }
    }

    pub fn check(&self, headers: &HeaderMap) -> Result<(), &'static str> {
        let presented = authorization(headers)
            .and_then(bearer)
            .ok_or(MISSING_HEADER)?;
        let presented = parse(presented).ok_or(BAD_FORMAT)?;
        let known = self
            .keys
            .iter()
            .find(|k| k.token_id == presented.token_id)
            .ok_or(UNKNOWN_KEY)?;
        if known.secret == presented.secret {
            Ok(())
        } else {
            Err(WRONG_SECRET)
        }
    }
}

/// Routing has happened, extractors have not (as upstream).
impl Gate for ApiKeys {
    const SCOPE: &'static str = "/api/";

    fn refusal(&self, headers: &HeaderMap) -> Option<Response> {
        let message = self.check(headers).err()?;
        Some(RestError::Unauthorized(message).into_response())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::auth::authorization_header as headers;

    const KEY: &str = "pv_sand_5ldOh21Ipns1OpHzYbeAjvA87x3v/2vIOgNg2ElyLMxWAPn6Xz";

    #[test]
    fn messages_follow_the_vendor_order_of_checks() {
        let keys = ApiKeys::new(&[KEY.to_owned()]);
        assert_eq!(keys.check(&headers(&format!("Bearer {KEY}"))), Ok(()));
        assert_eq!(keys.check(&HeaderMap::new()), Err(MISSING_HEADER));
        assert_eq!(
            keys.check(&headers(&format!("bearer {KEY}"))),
            Err(MISSING_HEADER)
        );
        assert_eq!(keys.check(&headers("Bearer nokey")), Err(BAD_FORMAT));
        assert_eq!(keys.check(&headers("Bearer pv_sand_x/!!")), Err(BAD_FORMAT));
        assert_eq!(
            keys.check(&headers("Bearer pv_sand_x/abc")),
            Err(UNKNOWN_KEY)
        );
        assert_eq!(
            keys.check(&headers("Bearer pv_sand_wrong/2vIOgNg2ElyLMxWAPn6Xz")),
            Err(WRONG_SECRET)
        );
    }

    #[test]
    fn the_vendor_test_key_decodes_to_its_token_uuid() {
        let parsed = parse(KEY).expect("parses");
        let uuid = uuid::Uuid::from_u128(parsed.token_id);
        assert_eq!(uuid.to_string(), "018cb5a1-2ca6-7d0a-9090-319762bf129b");
    }
}
