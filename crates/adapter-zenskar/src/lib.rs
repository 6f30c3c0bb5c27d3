//! Zenskar adapter: `wire` (vendor serde types), `convert` (pure
//! vendor ⇄ canonical), `client` (HTTP calls and vendor errors).
//!
//! Zenskar documents two incompatible checkout APIs (vendor notes §2.1):
//! family A, `/checkout` (`checkout_session_status` + `payment_status`,
//! body idempotency key, cancel) and family B, `/checkouts` (free-form
//! `checkout_status`). Each account names its family in config; `normalize`
//! tells them apart from the body.

pub mod client;
pub mod convert;
pub mod wire;

use std::sync::Arc;

use checkout_core::adapter::ConfigError;
use checkout_core::{Adapter, Capabilities, CheckoutSession, Error, Provider};
use serde::{Deserialize, Serialize};

pub const PROVIDER: &str = "zenskar";

/// Which of Zenskar's two checkout APIs an account uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Family {
    /// Family A, `/checkout`: the documented default of both doc sites.
    #[default]
    #[serde(rename = "checkout")]
    Checkout,
    /// Family B, `/checkouts`.
    #[serde(rename = "checkouts")]
    Checkouts,
}

impl Family {
    /// The collection path, relative to the base URL.
    pub fn path(self) -> &'static str {
        match self {
            Family::Checkout => "/checkout",
            Family::Checkouts => "/checkouts",
        }
    }

    /// The config value (`family = "…"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Checkout => "checkout",
            Family::Checkouts => "checkouts",
        }
    }
}

/// Registration handle for the gateway.
pub struct Zenskar;

/// Zenskar ids are UUIDs; the vendor answers with the lower-case hyphenated
/// form, so only that form is accepted (any other would come back different).
pub fn validate_session_id(reference: &str) -> Result<(), String> {
    let bytes = reference.as_bytes();
    let shape_ok = bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => matches!(b, b'0'..=b'9' | b'a'..=b'f'),
        });
    if shape_ok {
        Ok(())
    } else {
        Err("a Zenskar checkout id is a lower-case hyphenated UUID".to_owned())
    }
}

impl Provider for Zenskar {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            get: true,
            create: true,
            create_fields: vec![
                "customer",
                "plan",
                "quantity (1 only)",
                "success_url",
                "cancel_url",
                "expires_at",
                "metadata (family checkout only, as custom_data)",
                "provider_options",
            ],
            provider_options: wire::ALL_OPTION_FIELDS.to_vec(),
        }
    }

    fn validate_reference(&self, reference: &str) -> Result<(), String> {
        validate_session_id(reference)
    }

    fn normalize(&self, account: &str, body: &[u8]) -> Result<CheckoutSession, Error> {
        let family = convert::detect_family(body)?;
        convert::session_body(account, family, body)
    }

    fn build(
        &self,
        account: &str,
        config: serde_json::Value,
    ) -> Result<Arc<dyn Adapter>, ConfigError> {
        Ok(Arc::new(client::ZenskarClient::from_config(
            account, config,
        )?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_id_format() {
        assert!(validate_session_id("3f1c9a52-7b4e-4d2a-9c61-0e8f5b7a2d14").is_ok());
        for bad in [
            "",
            "3F1C9A52-7B4E-4D2A-9C61-0E8F5B7A2D14",
            "3f1c9a527b4e4d2a9c610e8f5b7a2d14",
            "{3f1c9a52-7b4e-4d2a-9c61-0e8f5b7a2d14}",
            "3f1c9a52-7b4e-4d2a-9c61-0e8f5b7a2d1",
            "3f1c9a52-7b4e-4d2a-9c61-0e8f5b7a2d14a",
            "3f1c9a52_7b4e-4d2a-9c61-0e8f5b7a2d14",
            "3f1c9a52-7b4e-4d2a-9c61-0e8f5b7a2g14",
            "che_7n42DGM5Tflk9n8mt7Fhc7",
        ] {
            assert!(validate_session_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn family_config_values() {
        assert_eq!(Family::default(), Family::Checkout);
        let f: Family = serde_json::from_str("\"checkouts\"").unwrap();
        assert_eq!(
            (f, f.path(), f.as_str()),
            (Family::Checkouts, "/checkouts", "checkouts")
        );
        assert!(serde_json::from_str::<Family>("\"checkout_session\"").is_err());
    }
}
