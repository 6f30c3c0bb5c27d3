//! `[webhooks]` checked at config load: each endpoint's URL, secrets and
//! filters, and the retry schedule. Built anew by every reload, so the
//! deliverer picks up new, removed and changed endpoints (a rotated
//! secret) at its next pass.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ::feed::{EventType, Secret};
use checkout_core::id::is_valid_account_name;
use store::EndpointFilter;

use crate::config::feed::EndpointConfig;
use crate::config::{ConfigError, WebhooksConfig};

/// Longest attempt deadline an endpoint may ask for.
const MAX_TIMEOUT_MS: u64 = 600_000;
/// Most retries a schedule may hold, and the longest delay in it (a week).
const MAX_RETRIES: usize = 30;
const MAX_DELAY_SECS: u64 = 7 * 86_400;
/// What the fingerprint signs (never sent anywhere).
const FINGERPRINT_ID: &str = "checkout-gateway:endpoint-fingerprint";

/// Every configured endpoint, checked, and the retry schedule.
#[derive(Debug, Default)]
pub struct Webhooks {
    endpoints: BTreeMap<String, Arc<Endpoint>>,
    retry_schedule: Arc<[Duration]>,
}

/// One endpoint, ready to deliver to.
pub struct Endpoint {
    pub name: String,
    pub url: reqwest::Url,
    /// The current secret first, then the previous one while it rotates.
    secrets: Vec<Secret>,
    /// Only these event types (`None`: all).
    kinds: Option<Vec<String>>,
    /// Only these accounts, `provider:account` (`None`: all).
    accounts: Option<Vec<String>>,
    pub timeout: Duration,
    /// Names the URL and current secret without revealing the secret: a
    /// truncated signature of a fixed message (no more than any delivery's
    /// signature shows). Kept with a 410's disabled mark, so that a config
    /// with another URL or secret enables the endpoint again.
    pub fingerprint: String,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a receiver's token in its query: name only.
        f.debug_struct("Endpoint")
            .field("name", &self.name)
            .field("kinds", &self.kinds)
            .field("accounts", &self.accounts)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Webhooks {
    /// Check `[webhooks]`: endpoint names, URLs (https, or http to
    /// localhost), secrets (`whsec_…`, never quoted in an error), event
    /// types, accounts (`is_account(provider, account)`: configured ones
    /// only), timeouts and the retry schedule.
    pub fn from_config(
        config: &WebhooksConfig,
        is_account: impl Fn(&str, &str) -> bool,
    ) -> Result<Webhooks, ConfigError> {
        let mut retry_schedule = Vec::with_capacity(config.retry_schedule_secs.len());
        if config.retry_schedule_secs.len() > MAX_RETRIES {
            return Err(ConfigError::invalid(
                "webhooks.retry_schedule_secs",
                format!("at most {MAX_RETRIES} retries"),
            ));
        }
        for (i, &secs) in config.retry_schedule_secs.iter().enumerate() {
            if !(1..=MAX_DELAY_SECS).contains(&secs) {
                return Err(ConfigError::invalid(
                    format!("webhooks.retry_schedule_secs[{i}]"),
                    format!("a delay is 1 to {MAX_DELAY_SECS} seconds"),
                ));
            }
            retry_schedule.push(Duration::from_secs(secs));
        }
        let mut endpoints = BTreeMap::new();
        for (name, endpoint) in &config.endpoints {
            let checked = Endpoint::from_config(name, endpoint, &is_account)?;
            endpoints.insert(name.clone(), Arc::new(checked));
        }
        Ok(Webhooks {
            endpoints,
            retry_schedule: retry_schedule.into(),
        })
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Endpoint>> {
        self.endpoints.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.endpoints.keys().map(String::as_str)
    }

    pub fn endpoints(&self) -> impl Iterator<Item = &Arc<Endpoint>> {
        self.endpoints.values()
    }

    /// The delays before each retry (`webhooks.retry_schedule_secs`).
    pub fn retry_schedule(&self) -> Arc<[Duration]> {
        self.retry_schedule.clone()
    }
}

impl Endpoint {
    fn from_config(
        name: &str,
        config: &EndpointConfig,
        is_account: &impl Fn(&str, &str) -> bool,
    ) -> Result<Endpoint, ConfigError> {
        let path = format!("webhooks.endpoints.{name}");
        if !is_valid_account_name(name) {
            return Err(ConfigError::invalid(
                path,
                "endpoint names are lower-case letters, digits, '_' and '-' (at most 64)",
            ));
        }
        // The redirect URLs' rule, http admitted for localhost only.
        crate::service::input::check_url("url", &config.url, true).map_err(|e| {
            let why = e.message.strip_prefix("url: ").unwrap_or(&e.message);
            ConfigError::invalid(format!("{path}.url"), why)
        })?;
        let url = reqwest::Url::parse(&config.url)
            .map_err(|_| ConfigError::invalid(format!("{path}.url"), "not a URL"))?;
        let secret = read_secret(&path, "secret", &config.secret, &config.secret_file)?
            .ok_or_else(|| {
                ConfigError::invalid(
                    format!("{path}.secret"),
                    "missing: set secret or secret_file (whsec_…)",
                )
            })?;
        let mut secrets = vec![secret];
        if let Some(previous) = read_secret(
            &path,
            "previous_secret",
            &config.previous_secret,
            &config.previous_secret_file,
        )? {
            secrets.push(previous);
        }
        for (i, kind) in config.types.iter().enumerate() {
            if EventType::parse(kind).is_none() {
                let known: Vec<&str> = EventType::ALL.iter().map(|k| k.as_str()).collect();
                return Err(ConfigError::invalid(
                    format!("{path}.types[{i}]"),
                    format!("{kind:?} is not an event type ({})", known.join(", ")),
                ));
            }
        }
        for (i, account) in config.accounts.iter().enumerate() {
            let configured = account
                .split_once(':')
                .is_some_and(|(provider, account)| is_account(provider, account));
            if !configured {
                return Err(ConfigError::invalid(
                    format!("{path}.accounts[{i}]"),
                    format!("{account:?} is not a configured account (`provider:account`)"),
                ));
            }
        }
        if !(1..=MAX_TIMEOUT_MS).contains(&config.timeout_ms) {
            return Err(ConfigError::invalid(
                format!("{path}.timeout_ms"),
                format!("must be 1 to {MAX_TIMEOUT_MS}"),
            ));
        }
        let signed = ::feed::sign(&secrets[0], FINGERPRINT_ID, 0, url.as_str().as_bytes());
        let fingerprint = signed.trim_start_matches("v1,").chars().take(16).collect();
        let listed = |list: &Vec<String>| (!list.is_empty()).then(|| list.clone());
        Ok(Endpoint {
            name: name.to_owned(),
            url,
            secrets,
            kinds: listed(&config.types),
            accounts: listed(&config.accounts),
            timeout: Duration::from_millis(config.timeout_ms),
            fingerprint,
        })
    }

    /// Which events fan-out gives this endpoint.
    pub fn filter(&self) -> EndpointFilter<'_> {
        EndpointFilter {
            kinds: self.kinds.as_deref(),
            accounts: self.accounts.as_deref(),
        }
    }

    /// Does this endpoint take events of `kind` for `account`?
    pub fn wants(&self, kind: &str, account: &str) -> bool {
        let listed = |list: &Option<Vec<String>>, value: &str| {
            list.as_ref()
                .is_none_or(|list| list.iter().any(|v| v == value))
        };
        listed(&self.kinds, kind) && listed(&self.accounts, account)
    }

    /// `webhook-signature`: every secret's signature (both while rotating).
    pub fn signature(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        ::feed::signature_header(&self.secrets, id, timestamp, body)
    }

    /// The disabled mark kept when the receiver answered 410.
    pub fn gone_reason(&self) -> String {
        format!(
            "the receiver answered 410 Gone; config {}",
            self.fingerprint
        )
    }

    /// Was the endpoint disabled (`reason`) under another URL or secret
    /// than it has now? Then a reload changed them: it may be enabled.
    pub fn changed_since(&self, reason: Option<&str>) -> bool {
        reason
            .and_then(|reason| reason.rsplit_once("; config "))
            .is_some_and(|(_, fingerprint)| fingerprint != self.fingerprint)
    }
}

/// `<key>` or `<key>_file`, parsed as a `whsec_` secret; an error names
/// the key, never the value.
fn read_secret(
    path: &str,
    key: &str,
    inline: &Option<checkout_core::Secret>,
    file: &Option<std::path::PathBuf>,
) -> Result<Option<Secret>, ConfigError> {
    let text = vendor_http::optional_secret(key, inline, file)
        .map_err(|e| ConfigError::invalid(format!("{path}.{}", e.path), e.message))?;
    let Some(text) = text else {
        return Ok(None);
    };
    let at = if inline.is_some() {
        format!("{path}.{key}")
    } else {
        format!("{path}.{key}_file")
    };
    Secret::parse(text.expose())
        .map(Some)
        .map_err(|e| ConfigError::invalid(at, e.to_string()))
}

#[cfg(test)]
mod tests {
    use figment::providers::{Format, Toml};

    use super::*;
    use crate::config::{defaults, GatewayConfig};

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const OTHER: &str = "whsec_c2VjcmV0LW9mLWFub3RoZXItZW5kcG9pbnQ=";

    fn webhooks(toml: &str) -> Result<Webhooks, String> {
        let config = GatewayConfig::from_figment(&defaults().merge(Toml::string(toml)))
            .map_err(|e| e.to_string())?;
        Webhooks::from_config(&config.webhooks, |p, a| (p, a) == ("meteroid", "default"))
            .map_err(|e| e.to_string())
    }

    fn endpoint(lines: &str) -> Result<Webhooks, String> {
        webhooks(&format!("[webhooks.endpoints.shop]\n{lines}\n"))
    }

    fn refused(lines: &str) -> String {
        endpoint(lines).err().unwrap_or_default()
    }

    #[test]
    fn a_complete_endpoint_is_accepted_with_its_filters() {
        let hooks = endpoint(&format!(
            "url = \"https://shop.example/hooks?t=1\"\nsecret = \"{SECRET}\"\nprevious_secret = \"{OTHER}\"\n\
             types = [\"checkout_session.completed\"]\naccounts = [\"meteroid:default\"]\ntimeout_ms = 2500"
        ))
        .unwrap();
        let shop = hooks.get("shop").unwrap();
        assert_eq!(shop.timeout, Duration::from_millis(2500));
        assert!(shop.wants("checkout_session.completed", "meteroid:default"));
        assert!(!shop.wants("checkout_session.created", "meteroid:default"));
        assert!(!shop.wants("checkout_session.completed", "meteroid:other"));
        assert_eq!(shop.signature("msg", 1, b"{}").split(' ').count(), 2);
        assert_eq!(hooks.names().collect::<Vec<_>>(), ["shop"]);
        assert_eq!(hooks.retry_schedule().as_ref(), ::feed::retry::SCHEDULE);
    }

    #[test]
    fn no_filter_takes_everything() {
        let hooks = endpoint(&format!(
            "url = \"http://127.0.0.1:9/x\"\nsecret = \"{SECRET}\""
        ))
        .unwrap();
        let shop = hooks.get("shop").unwrap();
        assert!(shop.wants("checkout_session.created", "zenskar:any"));
        assert_eq!(shop.signature("msg", 1, b"{}").split(' ').count(), 1);
    }

    #[test]
    fn a_bad_or_missing_secret_is_named_and_never_shown() {
        for (lines, key) in [
            (
                "secret = \"sk_live_hunter2\"",
                "webhooks.endpoints.shop.secret`",
            ),
            (
                "secret = \"whsec_hunter2!!\"",
                "webhooks.endpoints.shop.secret`",
            ),
            ("", "webhooks.endpoints.shop.secret`"),
            (
                "secret = \"whsec_aGk=\"\nprevious_secret = \"hunter2\"",
                "webhooks.endpoints.shop.previous_secret`",
            ),
        ] {
            let err = refused(&format!("url = \"https://shop.example/\"\n{lines}"));
            assert!(err.contains(key), "{lines}: {err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn a_secret_file_is_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good");
        std::fs::write(&good, format!("{SECRET}\n")).unwrap();
        let bad = dir.path().join("bad");
        std::fs::write(&bad, "hunter2\n").unwrap();
        let file = |path: &std::path::Path| {
            endpoint(&format!(
                "url = \"https://shop.example/\"\nsecret_file = {:?}",
                path.display().to_string()
            ))
        };
        let hooks = file(&good).unwrap();
        assert_eq!(
            hooks.get("shop").unwrap().signature(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        let err = file(&bad).err().unwrap();
        assert!(err.contains("webhooks.endpoints.shop.secret_file"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        let both = refused(&format!(
            "url = \"https://shop.example/\"\nsecret = \"{SECRET}\"\nsecret_file = \"/x\""
        ));
        assert!(both.contains("webhooks.endpoints.shop.secret"), "{both}");
    }

    #[test]
    fn urls_are_https_or_http_to_localhost() {
        for url in [
            "https://shop.example/hooks",
            "http://localhost:8080/hooks",
            "http://127.0.0.1:9/",
        ] {
            assert!(
                endpoint(&format!("url = \"{url}\"\nsecret = \"{SECRET}\"")).is_ok(),
                "{url}"
            );
        }
        for url in [
            "http://shop.example/hooks",
            "ftp://127.0.0.1/",
            "shop.example/hooks",
            "https://user:pw@shop.example/",
        ] {
            let err = refused(&format!("url = \"{url}\"\nsecret = \"{SECRET}\""));
            assert!(err.contains("webhooks.endpoints.shop.url"), "{url}: {err}");
        }
    }

    #[test]
    fn types_accounts_names_and_timeouts_are_checked() {
        let base = format!("url = \"https://shop.example/\"\nsecret = \"{SECRET}\"");
        let err = refused(&format!(
            "{base}\ntypes = [\"checkout_session.completed\", \"session.done\"]"
        ));
        assert!(err.contains("webhooks.endpoints.shop.types[1]"), "{err}");
        let err = refused(&format!("{base}\naccounts = [\"meteroid:nope\"]"));
        assert!(err.contains("webhooks.endpoints.shop.accounts[0]"), "{err}");
        let err = refused(&format!("{base}\naccounts = [\"meteroid\"]"));
        assert!(err.contains("webhooks.endpoints.shop.accounts[0]"), "{err}");
        let err = refused(&format!("{base}\ntimeout_ms = 0"));
        assert!(err.contains("webhooks.endpoints.shop.timeout_ms"), "{err}");
        let err = webhooks(&format!("[webhooks.endpoints.Shop]\n{base}"))
            .err()
            .unwrap_or_default();
        assert!(err.contains("webhooks.endpoints.Shop"), "{err}");
    }

    #[test]
    fn the_retry_schedule_is_checked() {
        let hooks = webhooks("[webhooks]\nretry_schedule_secs = [1, 2]").unwrap();
        assert_eq!(
            hooks.retry_schedule().as_ref(),
            [Duration::from_secs(1), Duration::from_secs(2)]
        );
        assert!(webhooks("[webhooks]\nretry_schedule_secs = []").is_ok());
        let err = webhooks("[webhooks]\nretry_schedule_secs = [1, 0]")
            .err()
            .unwrap_or_default();
        assert!(err.contains("webhooks.retry_schedule_secs[1]"), "{err}");
    }

    #[test]
    fn a_new_url_or_secret_changes_the_fingerprint() {
        let fingerprint = |url: &str, secret: &str, previous: &str| {
            let hooks =
                endpoint(&format!("url = \"{url}\"\nsecret = \"{secret}\"{previous}")).unwrap();
            hooks.get("shop").unwrap().fingerprint.clone()
        };
        let first = fingerprint("https://a.example/", SECRET, "");
        assert_eq!(first.len(), 16);
        assert_eq!(first, fingerprint("https://a.example/", SECRET, ""));
        // A previous secret alone is no change to what the receiver holds.
        assert_eq!(
            first,
            fingerprint(
                "https://a.example/",
                SECRET,
                &format!("\nprevious_secret = \"{OTHER}\"")
            )
        );
        assert_ne!(first, fingerprint("https://b.example/", SECRET, ""));
        assert_ne!(first, fingerprint("https://a.example/", OTHER, ""));
    }

    #[test]
    fn the_gone_mark_tells_a_changed_config() {
        let hooks = endpoint(&format!(
            "url = \"https://a.example/\"\nsecret = \"{SECRET}\""
        ))
        .unwrap();
        let shop = hooks.get("shop").unwrap();
        let reason = shop.gone_reason();
        assert!(!shop.changed_since(Some(&reason)));
        assert!(shop.changed_since(Some(
            "the receiver answered 410 Gone; config AAAAAAAAAAAAAAAA"
        )));
        // Not our mark (or none): left as it is.
        assert!(!shop.changed_since(Some("disabled by hand")));
        assert!(!shop.changed_since(None));
        assert!(!format!("{shop:?}").contains("a.example"));
    }
}
