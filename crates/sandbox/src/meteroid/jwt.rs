//! `checkout_url`: `{public_url}/checkout?token=<JWT>`, HS256 over
//! `{iat, tenant_id, resource: {CheckoutSession: <uuid>}}` with no `exp`.
//! Ids inside the token are bare UUIDs, as the vendor serializes them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use uuid::Uuid;

#[derive(Serialize)]
struct Header {
    typ: &'static str,
    alg: &'static str,
}

#[derive(Serialize)]
struct Claims {
    iat: i64,
    tenant_id: String,
    resource: Resource,
}

#[derive(Serialize)]
enum Resource {
    CheckoutSession(String),
}

/// The signing failed (it cannot with HMAC; the vendor answers 500 if so).
#[derive(Debug)]
pub struct TokenError;

pub fn checkout_url(
    public_url: &str,
    secret: &[u8],
    tenant_id: Uuid,
    session: Uuid,
    now: DateTime<Utc>,
) -> Result<String, TokenError> {
    let token = token(secret, tenant_id, session, now)?;
    Ok(format!("{public_url}/checkout?token={token}"))
}

fn token(
    secret: &[u8],
    tenant_id: Uuid,
    session: Uuid,
    now: DateTime<Utc>,
) -> Result<String, TokenError> {
    let header = serde_json::to_vec(&Header {
        typ: "JWT",
        alg: "HS256",
    })
    .map_err(|_| TokenError)?;
    let claims = serde_json::to_vec(&Claims {
        iat: now.timestamp(),
        tenant_id: tenant_id.to_string(),
        resource: Resource::CheckoutSession(session.to_string()),
    })
    .map_err(|_| TokenError)?;
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| TokenError)?;
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    Ok(format!("{signing_input}.{signature}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_has_the_vendor_claims_and_a_valid_signature() {
        let tenant = Uuid::now_v7();
        let session = Uuid::now_v7();
        let url = checkout_url("http://x/p", b"k", tenant, session, Utc::now()).expect("signed");
        let token = url
            .strip_prefix("http://x/p/checkout?token=")
            .expect("prefix");
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
        assert_eq!(claims["tenant_id"], tenant.to_string());
        assert_eq!(claims["resource"]["CheckoutSession"], session.to_string());
        assert!(claims.get("exp").is_none());
        let mut mac = Hmac::<Sha256>::new_from_slice(b"k").expect("key");
        mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).expect("b64");
        assert!(mac.verify_slice(&sig).is_ok());
    }
}
