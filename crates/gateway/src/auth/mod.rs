//! Gateway client authentication: `Authorization: Bearer <client key>`.
//! Keys are configured as SHA-256 hashes only; each client has a name, the
//! accounts it may use (`provider:account`, `provider:*`, or `*`) and scopes.

pub mod rate_limit;

use std::collections::HashSet;
use std::sync::Arc;

use checkout_core::{Error, ErrorCode};
use http::header::AUTHORIZATION;
use http::HeaderMap;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::auth::rate_limit::ClientBudgets;

/// What a client key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Scope {
    /// Read sessions and list providers.
    #[serde(rename = "sessions:read")]
    SessionsRead,
    /// Create sessions.
    #[serde(rename = "sessions:write")]
    SessionsWrite,
    /// Read `/metrics`, reload the configuration.
    #[serde(rename = "admin")]
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::SessionsRead => "sessions:read",
            Scope::SessionsWrite => "sessions:write",
            Scope::Admin => "admin",
        }
    }
}

/// Accounts a client may use.
#[derive(Debug, Clone, Default)]
pub struct Grants {
    /// `(provider, account)` pairs.
    pub exact: HashSet<(String, String)>,
    /// Providers all of whose accounts are granted (`provider:*`).
    pub every_account_of: HashSet<String>,
    /// Every configured account of every provider (`*`).
    pub every_account: bool,
}

pub struct Client {
    pub name: String,
    key_hashes: Vec<[u8; 32]>,
    grants: Grants,
    scopes: HashSet<Scope>,
    /// What this key may spend per second.
    pub budgets: ClientBudgets,
}

/// SHA-256 of a key, as configured (`key_sha256`) and as compared.
pub fn key_hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Lower-case hex, as `checkout-gateway hash-key` prints it.
pub fn to_hex(hash: &[u8; 32]) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parse 64 hex digits.
pub fn from_hex(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

impl Client {
    pub fn new(
        name: String,
        key_hashes: Vec<[u8; 32]>,
        grants: Grants,
        scopes: HashSet<Scope>,
        budgets: ClientBudgets,
    ) -> Client {
        Client {
            name,
            key_hashes,
            grants,
            scopes,
            budgets,
        }
    }

    pub fn may_use(&self, provider: &str, account: &str) -> bool {
        self.grants.every_account
            || self.grants.every_account_of.contains(provider)
            || self
                .grants
                .exact
                .contains(&(provider.to_owned(), account.to_owned()))
    }

    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }

    /// 403 unless the key carries `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), Error> {
        if self.has(scope) {
            Ok(())
        } else {
            Err(Error::new(
                ErrorCode::Forbidden,
                format!("this client key lacks the `{}` scope", scope.as_str()),
            ))
        }
    }
}

/// The key in an `Authorization` value: `Bearer <key>`, or `Basic` with
/// the key as the user name (as Stripe's clients and `curl -u key:` send
/// it; a password, if any, is not read).
fn presented_key(value: &str) -> Option<String> {
    use base64::Engine;
    let (scheme, rest) = value.split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.to_owned());
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let user = text.split_once(':').map_or(text.as_str(), |(user, _)| user);
    (!user.is_empty()).then(|| user.to_owned())
}

#[derive(Default)]
pub struct Clients(Vec<Arc<Client>>);

impl Clients {
    pub fn new(clients: Vec<Client>) -> Clients {
        Clients(clients.into_iter().map(Arc::new).collect())
    }

    /// The client presenting this request's bearer key; 401 otherwise.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Arc<Client>, Error> {
        let presented = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(presented_key)
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::Unauthenticated,
                    "missing client key: send `Authorization: Bearer <client key>`",
                )
            })?;
        let presented = key_hash(&presented);
        // Compare against every hash of every client, so the time taken
        // says nothing about which (if any) matched.
        let mut found = None;
        for client in &self.0 {
            for hash in &client.key_hashes {
                if constant_time_eq(hash, &presented) {
                    found = Some(client.clone());
                }
            }
        }
        found.ok_or_else(|| Error::new(ErrorCode::Unauthenticated, "unknown client key"))
    }

    /// The providers and accounts a client may see, among `configured`.
    pub fn visible<'a>(
        client: &Client,
        configured: impl Iterator<Item = &'a (String, String)>,
    ) -> Vec<&'a (String, String)> {
        configured.filter(|(p, a)| client.may_use(p, a)).collect()
    }
}

/// Equality of two hashes whose duration does not depend on where they differ.
fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const KEY: &str = "k-0123456789abcdef";

    fn clients() -> Clients {
        let grants = Grants {
            exact: HashSet::from([("meteroid".to_owned(), "default".to_owned())]),
            every_account_of: HashSet::from(["flowglad".to_owned()]),
            every_account: false,
        };
        let scopes = HashSet::from([Scope::SessionsRead]);
        let old_and_new = vec![key_hash(KEY), key_hash("k-rotated-0123456789")];
        let budgets = ClientBudgets::new(
            std::num::NonZeroU32::new(100).unwrap(),
            std::num::NonZeroU32::new(10).unwrap(),
        );
        Clients::new(vec![Client::new(
            "demo".into(),
            old_and_new,
            grants,
            scopes,
            budgets,
        )])
    }

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn bearer_keys_by_hash_with_rotation() {
        let c = clients();
        let client = c.authenticate(&headers(&format!("Bearer {KEY}"))).unwrap();
        assert_eq!(client.name, "demo");
        assert!(
            c.authenticate(&headers("bearer k-rotated-0123456789"))
                .is_ok(),
            "both keys work"
        );
        for bad in ["Bearer nope", &format!("Token {KEY}"), KEY, "Bearer"] {
            let err = c.authenticate(&headers(bad)).err().map(|e| e.code);
            assert_eq!(err, Some(ErrorCode::Unauthenticated), "{bad}");
        }
        assert!(c.authenticate(&HeaderMap::new()).is_err());
    }

    #[test]
    fn basic_carries_the_key_as_user_name() {
        use base64::Engine;
        let basic = |text: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(text)
            )
        };
        let c = clients();
        for good in [format!("{KEY}:"), KEY.to_owned(), format!("{KEY}:ignored")] {
            let client = c.authenticate(&headers(&basic(&good))).unwrap();
            assert_eq!(client.name, "demo", "{good}");
        }
        for bad in [basic(":"), basic("nope:"), "Basic !!!".to_owned()] {
            let err = c.authenticate(&headers(&bad)).err().map(|e| e.code);
            assert_eq!(err, Some(ErrorCode::Unauthenticated), "{bad}");
        }
    }

    #[test]
    fn grants_and_scopes() {
        let c = clients();
        let client = c.authenticate(&headers(&format!("Bearer {KEY}"))).unwrap();
        assert!(client.may_use("meteroid", "default"));
        assert!(!client.may_use("meteroid", "other"));
        assert!(client.may_use("flowglad", "anything"), "provider wildcard");
        assert!(client.require(Scope::SessionsRead).is_ok());
        let denied = client.require(Scope::SessionsWrite).unwrap_err();
        assert_eq!(
            (denied.code, denied.http_status),
            (ErrorCode::Forbidden, 403)
        );
        assert!(denied.message.contains("sessions:write"));
    }

    #[test]
    fn hex_round_trips() {
        let h = key_hash("abc");
        assert_eq!(
            to_hex(&h),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(from_hex(&to_hex(&h)), Some(h));
        assert_eq!(from_hex("zz"), None);
        assert_eq!(from_hex(&"g".repeat(64)), None);
    }
}
