//! Meteroid adapter: `wire` (vendor serde types), `convert` (pure
//! vendor ⇄ canonical), `client` (HTTP calls and vendor errors).

pub mod client;
pub mod convert;
pub mod wire;

use std::sync::Arc;

use checkout_core::adapter::ConfigError;
use checkout_core::{Adapter, Capabilities, CheckoutSession, Error, Provider};

pub const PROVIDER: &str = "meteroid";

/// Registration handle for the gateway.
pub struct Meteroid;

/// `che_` + unpadded base62 of a 128-bit value (vendor notes M5).
pub fn validate_session_id(reference: &str) -> Result<(), String> {
    let digits = reference
        .strip_prefix("che_")
        .ok_or_else(|| "a Meteroid checkout session id starts with `che_`".to_owned())?;
    if digits.is_empty() || digits.len() > 22 {
        return Err(
            "a Meteroid checkout session id has 1 to 22 base62 characters after `che_`".to_owned(),
        );
    }
    digits
        .bytes()
        .try_fold(0u128, |acc, b| {
            let d = match b {
                b'0'..=b'9' => b - b'0',
                b'A'..=b'Z' => b - b'A' + 10,
                b'a'..=b'z' => b - b'a' + 36,
                _ => return None,
            };
            acc.checked_mul(62)?.checked_add(u128::from(d))
        })
        .map(|_| ())
        .ok_or_else(|| {
            "not a Meteroid checkout session id (base62 of a 128-bit value after `che_`)".to_owned()
        })
}

impl Provider for Meteroid {
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
                "metadata (stored, never returned)",
                "provider_options",
            ],
            provider_options: wire::CREATE_OPTION_FIELDS.to_vec(),
        }
    }

    fn validate_reference(&self, reference: &str) -> Result<(), String> {
        validate_session_id(reference)
    }

    fn normalize(&self, account: &str, body: &[u8]) -> Result<CheckoutSession, Error> {
        if let Ok(serde_json::Value::Object(top)) =
            serde_json::from_slice::<serde_json::Value>(body)
        {
            if top.contains_key("sessions") && !top.contains_key("session") {
                return Err(Error::invalid_request(
                    "this is a Meteroid list body; normalize takes one get or create response",
                ));
            }
        }
        convert::session_body(account, body)
    }

    fn build(
        &self,
        account: &str,
        config: serde_json::Value,
    ) -> Result<Arc<dyn Adapter>, ConfigError> {
        Ok(Arc::new(client::MeteroidClient::from_config(
            account, config,
        )?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_id_format() {
        assert!(
            validate_session_id("che_7n42DGM5Tflk9n8mt7Fhc7").is_ok(),
            "u128::MAX is the largest id"
        );
        assert!(validate_session_id("che_1").is_ok());
        for bad in [
            "",
            "che_",
            "cus_7n42DGM5Tflk9n8mt7Fhc7",
            "che_7n42DGM5Tflk9n8mt7Fhc8",
            "che_zzzzzzzzzzzzzzzzzzzzzz",
            "che_abc-def",
            "che_a.b",
            "che_0123456789012345678901x",
        ] {
            assert!(validate_session_id(bad).is_err(), "{bad:?}");
        }
    }
}
