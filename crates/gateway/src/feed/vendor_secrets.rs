//! `[vendor_webhooks]` as the gateway holds it: each account's secret for
//! its vendor's own webhooks (Flowglad's Svix secret), checked when the
//! config loads; `routes/vendor_webhooks.rs` verifies signatures with it.

use std::collections::BTreeMap;

use feed::signature::Secret;

use crate::config::{ConfigError, VendorWebhooksConfig};

/// The account's vendor-webhook secrets, from `[vendor_webhooks]`, checked
/// when the config loads.
#[derive(Default)]
pub struct VendorSecrets(BTreeMap<(String, String), Vec<Secret>>);

impl VendorSecrets {
    /// Every `[vendor_webhooks.<provider>.<account>]` names a configured
    /// account and holds one `whsec_` secret, inline or in a file.
    pub fn from_config(
        config: &VendorWebhooksConfig,
        is_account: impl Fn(&str, &str) -> bool,
    ) -> Result<VendorSecrets, ConfigError> {
        let mut secrets = BTreeMap::new();
        for (provider, by_account) in config {
            for (account, table) in by_account {
                let path = format!("vendor_webhooks.{provider}.{account}");
                let key = (provider.clone(), account.clone());
                if !is_account(provider, account) {
                    return Err(ConfigError::invalid(
                        path,
                        format!("{provider}:{account} is not a configured account"),
                    ));
                }
                let text =
                    vendor_http::required_secret("secret", &table.secret, &table.secret_file)
                        .map_err(|e| {
                            ConfigError::invalid(format!("{path}.{}", e.path), e.message)
                        })?;
                let field = if table.secret.is_some() {
                    "secret"
                } else {
                    "secret_file"
                };
                let secret = Secret::parse(text.expose())
                    .map_err(|e| ConfigError::invalid(format!("{path}.{field}"), e.to_string()))?;
                secrets.insert(key, vec![secret]);
            }
        }
        Ok(VendorSecrets(secrets))
    }

    pub fn of(&self, provider: &str, account: &str) -> Option<&[Secret]> {
        self.0
            .get(&(provider.to_owned(), account.to_owned()))
            .map(Vec::as_slice)
    }
}
