//! Flowglad adapter: `wire` (vendor serde types), `convert` (pure
//! vendor ⇄ canonical), `client` (HTTP calls and vendor errors).

pub mod client;
pub mod convert;
pub mod wire;

use std::sync::Arc;

use checkout_core::adapter::ConfigError;
use checkout_core::{Adapter, Capabilities, CheckoutSession, Error, Provider};

pub const PROVIDER: &str = "flowglad";

/// Registration handle for the gateway.
pub struct Flowglad;

const ID_PREFIX: &str = "chckt_session_";
/// nanoid length of every Flowglad id (vendor notes §1.4).
const ID_LEN: usize = 21;

/// `chckt_session_` + 21 characters of `[0-9A-Za-z]` (a nanoid).
pub fn validate_session_id(reference: &str) -> Result<(), String> {
    let rest = reference
        .strip_prefix(ID_PREFIX)
        .ok_or_else(|| format!("a Flowglad checkout session id starts with `{ID_PREFIX}`"))?;
    if rest.len() == ID_LEN && rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(format!(
            "a Flowglad checkout session id has {ID_LEN} letters or digits after `{ID_PREFIX}`"
        ))
    }
}

impl Provider for Flowglad {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            get: true,
            create: true,
            create_fields: vec![
                "customer (customerExternalId; absent for anonymous sessions)",
                "plan (priceId, or price_slug:<slug>)",
                "quantity (product sessions)",
                "success_url (required)",
                "cancel_url (required)",
                "metadata (outputMetadata: strings of at most 500 characters, numbers, booleans)",
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
            if top.contains_key("data") && !top.contains_key("checkoutSession") {
                return Err(Error::invalid_request(
                    "this is a Flowglad list body; normalize takes one get or create response",
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
        Ok(Arc::new(client::FlowgladClient::from_config(
            account, config,
        )?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_id_format() {
        assert!(validate_session_id("chckt_session_a1B2c3D4e5F6g7H8i9J0k").is_ok());
        for bad in [
            "",
            "chckt_session_",
            "chckt_session_a1B2c3D4e5F6g7H8i9J0",
            "chckt_session_a1B2c3D4e5F6g7H8i9J0kk",
            "chckt_session_a1B2c3D4e5F6g7H8i9J0-",
            "chckt_session_a1B2c3D4e5F6g7H8i9J0_",
            "cs_test_a1B2c3D4e5F6g7H8i9J0k",
            "che_7n42DGM5Tflk9n8mt7Fhc7",
            "chckt_a1B2c3D4e5F6g7H8i9J0k",
        ] {
            assert!(validate_session_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn normalize_refuses_a_list_body() {
        let e = Flowglad
            .normalize("default", br#"{"data":[],"hasMore":false,"total":0}"#)
            .unwrap_err();
        assert!(e.message.contains("list body"), "{}", e.message);
    }
}
