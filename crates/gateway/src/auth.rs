//! Gateway client authentication: `Authorization: Bearer <client key>`,
//! each key limited to the accounts listed for it.

use std::collections::HashSet;
use std::sync::Arc;

use checkout_core::{Error, ErrorCode, Secret};
use http::header::AUTHORIZATION;
use http::HeaderMap;

pub struct Client {
    pub name: String,
    /// May read `/metrics`.
    pub admin: bool,
    key: Secret,
    /// `(provider, account)` pairs this client may use.
    accounts: HashSet<(String, String)>,
}

impl Client {
    pub fn with_admin(self, admin: bool) -> Client {
        Client { admin, ..self }
    }

    pub fn new(name: String, key: Secret, accounts: HashSet<(String, String)>) -> Client {
        Client {
            admin: false,
            name,
            key,
            accounts,
        }
    }

    pub fn may_use(&self, provider: &str, account: &str) -> bool {
        self.accounts
            .contains(&(provider.to_owned(), account.to_owned()))
    }

    pub fn accounts(&self) -> impl Iterator<Item = &(String, String)> {
        self.accounts.iter()
    }
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
            .and_then(|v| {
                let (scheme, key) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| key.trim())
            })
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::Unauthenticated,
                    "missing client key: send `Authorization: Bearer <client key>`",
                )
            })?;
        // Compare against every key so the time taken does not say which matched.
        let mut found = None;
        for client in &self.0 {
            if constant_time_eq(client.key.expose().as_bytes(), presented.as_bytes()) {
                found = Some(client.clone());
            }
        }
        found.ok_or_else(|| Error::new(ErrorCode::Unauthenticated, "unknown client key"))
    }
}

/// Equality whose duration depends only on the lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn clients() -> Clients {
        let accounts = HashSet::from([("meteroid".to_owned(), "default".to_owned())]);
        Clients::new(vec![Client::new(
            "demo".into(),
            Secret::new("k-0123456789abcdef"),
            accounts,
        )])
    }

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn bearer_keys() {
        let c = clients();
        let client = c
            .authenticate(&headers("Bearer k-0123456789abcdef"))
            .unwrap();
        assert!(client.may_use("meteroid", "default"));
        assert!(!client.may_use("meteroid", "other"));
        assert!(c
            .authenticate(&headers("bearer k-0123456789abcdef"))
            .is_ok());
        for bad in [
            "Bearer nope",
            "Basic k-0123456789abcdef",
            "k-0123456789abcdef",
            "Bearer",
        ] {
            assert_eq!(
                c.authenticate(&headers(bad)).err().map(|e| e.code),
                Some(ErrorCode::Unauthenticated),
                "{bad}"
            );
        }
        assert!(c.authenticate(&HeaderMap::new()).is_err());
    }
}
