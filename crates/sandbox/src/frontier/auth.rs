//! Who is calling: service-user client credentials (`Authorization: Basic
//! base64(client_id:client_secret)`) or a bearer token (an access token or
//! PAT), and which organizations that principal administers (Frontier's
//! checkout RPCs need the org's `delete` permission).

use axum::http::HeaderMap;
use uuid::Uuid;

use crate::kit::auth::{authorization, basic, bearer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrontierAuth {
    Basic {
        client_id: String,
        client_secret: String,
    },
    Bearer(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub auth: FrontierAuth,
    /// Organizations this principal administers.
    pub orgs: Vec<Uuid>,
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    orgs: Vec<Uuid>,
}

impl Principal {
    pub fn administers(&self, org: Uuid) -> bool {
        self.orgs.contains(&org)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Credentials {
    known: Vec<Credential>,
}

impl Credentials {
    pub fn new(known: &[Credential]) -> Credentials {
        Credentials {
            known: known.to_vec(),
        }
    }

    /// `None`: unauthenticated (missing, malformed or unknown credentials).
    pub fn principal(&self, headers: &HeaderMap) -> Option<Principal> {
        let value = authorization(headers)?;
        let presented = if value.starts_with("Basic ") {
            let (client_id, client_secret) = basic(value)?;
            FrontierAuth::Basic {
                client_id,
                client_secret,
            }
        } else {
            FrontierAuth::Bearer(bearer(value)?.trim().to_owned())
        };
        self.known
            .iter()
            .find(|c| c.auth == presented)
            .map(|c| Principal {
                orgs: c.orgs.clone(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::auth::authorization_header as headers;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    #[test]
    fn basic_and_bearer() {
        let org = Uuid::from_u128(7);
        let creds = Credentials::new(&[
            Credential {
                auth: FrontierAuth::Basic {
                    client_id: "id".into(),
                    client_secret: "s:e:c".into(),
                },
                orgs: vec![org],
            },
            Credential {
                auth: FrontierAuth::Bearer("fpt_x".into()),
                orgs: vec![],
            },
        ]);
        let basic = format!("Basic {}", STANDARD.encode("id:s:e:c"));
        assert!(creds
            .principal(&headers(&basic))
            .is_some_and(|p| p.administers(org)));
        assert!(creds
            .principal(&headers("Bearer fpt_x"))
            .is_some_and(|p| !p.administers(org)));
        for bad in [
            String::new(),
            "Bearer fpt_y".into(),
            "fpt_x".into(),
            format!("Basic {}", STANDARD.encode("id:wrong")),
            "Basic !!!".into(),
        ] {
            assert!(creds.principal(&headers(&bad)).is_none(), "{bad}");
        }
        assert!(creds.principal(&HeaderMap::new()).is_none());
    }
}
