//! Raystack Frontier adapter: `wire` (vendor serde types), `convert` (pure
//! vendor ⇄ canonical), `client` (HTTP calls and vendor errors).
//!
//! Current Frontier serves ConnectRPC JSON only (one POST per RPC); older
//! deployments serve the grpc-gateway REST API. Each account picks its
//! protocol. The canonical reference is the checkout UUID for Connect, and
//! `<org_id>:<checkout UUID>` for legacy REST, whose GET path needs the org.

pub mod client;
pub mod convert;
pub mod wire;

use std::sync::Arc;

use checkout_core::adapter::ConfigError;
use checkout_core::{Adapter, Capabilities, CheckoutSession, Error, Provider};
use serde::{Deserialize, Serialize};

pub const PROVIDER: &str = "frontier";

/// Which of Frontier's two APIs an account speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// ConnectRPC unary JSON: `POST /raystack.frontier.v1beta1.FrontierService/<Rpc>`.
    #[default]
    Connect,
    /// The legacy grpc-gateway REST API (`/v1beta1/organizations/{org_id}/billing/checkouts…`).
    Rest,
}

/// Registration handle for the gateway.
pub struct Frontier;

/// The vendor part of a canonical id, split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference<'a> {
    /// Present in legacy REST references only.
    pub org_id: Option<&'a str>,
    pub checkout_id: &'a str,
}

/// A checkout id as Frontier makes them (`uuid.New().String()`): a UUID in
/// lower-case hyphenated form, the only form its answers echo back.
pub fn is_checkout_id(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => matches!(b, b'0'..=b'9' | b'a'..=b'f'),
        })
}

/// Longest organization reference accepted in a legacy REST id.
const MAX_ORG_LEN: usize = 100;

/// An organization as it may appear in a legacy REST id and URL path:
/// its UUID (or name), letters, digits, `-` and `_` only.
pub fn validate_org_id(org: &str) -> Result<(), String> {
    let ok = (3..=MAX_ORG_LEN).contains(&org.len())
        && org
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "a Frontier organization id has 3 to {MAX_ORG_LEN} letters, digits, '-' or '_'"
        ))
    }
}

/// `<checkout uuid>` (Connect) or `<org_id>:<checkout uuid>` (legacy REST).
pub fn parse_reference(reference: &str) -> Result<Reference<'_>, String> {
    let (org_id, checkout_id) = match reference.split_once(':') {
        Some((org, id)) => {
            validate_org_id(org)?;
            (Some(org), id)
        }
        None => (None, reference),
    };
    if !is_checkout_id(checkout_id) {
        return Err(
            "a Frontier checkout reference is the checkout UUID (lower case), or \
             <org_id>:<checkout UUID> for a legacy REST account"
                .to_owned(),
        );
    }
    Ok(Reference {
        org_id,
        checkout_id,
    })
}

impl Provider for Frontier {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            get: true,
            create: true,
            create_fields: vec![
                "customer (organization id)",
                "plan (plan id or name)",
                "quantity (product purchases; 1 for plans)",
                "success_url ({{.CheckoutID}} is replaced by Frontier)",
                "cancel_url ({{.CheckoutID}} is replaced by Frontier)",
                "provider_options",
            ],
            provider_options: wire::CREATE_OPTION_FIELDS.to_vec(),
        }
    }

    fn validate_reference(&self, reference: &str) -> Result<(), String> {
        parse_reference(reference).map(|_| ())
    }

    /// The body does not name its organization, so the id is always the
    /// Connect form (the checkout UUID) and `customer` is null.
    fn normalize(&self, account: &str, body: &[u8]) -> Result<CheckoutSession, Error> {
        if let Ok(serde_json::Value::Object(top)) =
            serde_json::from_slice::<serde_json::Value>(body)
        {
            let is_list = top.is_empty()
                || ["checkout_sessions", "checkoutSessions"]
                    .iter()
                    .any(|k| top.contains_key(*k));
            if is_list {
                return Err(Error::invalid_request(
                    "this is a Frontier list body (Connect sends `{}` for an empty list); \
                     normalize takes one get or create response",
                ));
            }
        }
        convert::session_body(account, convert::Origin::UNKNOWN, body)
    }

    fn build(
        &self,
        account: &str,
        config: serde_json::Value,
    ) -> Result<Arc<dyn Adapter>, ConfigError> {
        Ok(Arc::new(client::FrontierClient::from_config(
            account, config,
        )?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "5b0f8b4e-3c1d-4f7a-9e2b-6d8c1a4f0e37";

    #[test]
    fn references_of_both_protocols() {
        assert_eq!(
            parse_reference(ID),
            Ok(Reference {
                org_id: None,
                checkout_id: ID
            })
        );
        let legacy = format!("8d0c3f64-52b1-4c5e-a0f3-7b2e9c41d6a8:{ID}");
        assert_eq!(
            parse_reference(&legacy).map(|r| r.org_id),
            Ok(Some("8d0c3f64-52b1-4c5e-a0f3-7b2e9c41d6a8"))
        );
        assert!(parse_reference(&format!("acme-corp:{ID}")).is_ok());
    }

    #[test]
    fn malformed_references_are_refused() {
        for bad in [
            "",
            "5B0F8B4E-3C1D-4F7A-9E2B-6D8C1A4F0E37",
            "5b0f8b4e3c1d4f7a9e2b6d8c1a4f0e37",
            "5b0f8b4e-3c1d-4f7a-9e2b-6d8c1a4f0e3",
            "5b0f8b4e-3c1d-4f7a-9e2b-6d8c1a4f0e37x",
            "cs_test_a1B2c3D4e5F6g7H8",
            "ab:5b0f8b4e-3c1d-4f7a-9e2b-6d8c1a4f0e37",
            "a.b.c:5b0f8b4e-3c1d-4f7a-9e2b-6d8c1a4f0e37",
            "org:org:5b0f8b4e-3c1d-4f7a-9e2b-6d8c1a4f0e37",
            ":5b0f8b4e-3c1d-4f7a-9e2b-6d8c1a4f0e37",
            "acme:",
        ] {
            assert!(parse_reference(bad).is_err(), "{bad:?}");
        }
        let long_org = format!("{}:{ID}", "o".repeat(MAX_ORG_LEN + 1));
        assert!(parse_reference(&long_org).is_err());
    }
}
