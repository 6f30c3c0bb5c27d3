//! `[feed]`, `[webhooks]` and `[vendor_webhooks]`: the change feed
//! (PRODUCT §11) — how tracked sessions are polled, how long events are
//! kept, how the stream behaves, where events are delivered, and the
//! vendors' own webhook secrets (hints that a session changed).

use std::collections::BTreeMap;
use std::path::PathBuf;

use checkout_core::Secret;
use serde::{Deserialize, Serialize};

use crate::config::ConfigError;

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct FeedConfig {
    /// Track sessions, poll the open ones and emit events. Off: no
    /// tracking, no polling, no webhooks (the event routes answer from
    /// what the store already holds).
    pub enabled: bool,
    /// Vendor calls per second the poller may make, per account. Client
    /// calls go first: a poll waits while the account's guard is more than
    /// half busy.
    pub poll_calls_per_sec: f64,
    /// Most sessions of one account taken from the store per poll round.
    pub poll_batch: u32,
    /// Use the vendor's list (one call for many sessions) when at least
    /// this many of an account's sessions are due and the vendor lists.
    pub list_refresh_min: u32,
    /// How long events are kept, in days.
    pub retention_days: u32,
    /// How long a terminal session stays tracked (answering vendor hints).
    pub terminal_grace_secs: u64,
    /// A comment line on an idle event stream this often.
    pub stream_heartbeat_secs: u64,
    /// A stream reader further than this many events behind the newest
    /// is dropped (with a final comment) and resumes with `Last-Event-ID`.
    pub stream_max_lag: u64,
    /// How long an account's poll lease (and an endpoint's delivery lease)
    /// lasts without renewal: a dead replica's work moves after this.
    pub lease_secs: u64,
}

impl Default for FeedConfig {
    fn default() -> Self {
        FeedConfig {
            enabled: true,
            poll_calls_per_sec: 5.0,
            poll_batch: 100,
            list_refresh_min: 10,
            retention_days: 30,
            terminal_grace_secs: 600,
            stream_heartbeat_secs: 15,
            stream_max_lag: 10_000,
            lease_secs: 30,
        }
    }
}

/// `[webhooks.endpoints.<name>]`: where events are delivered, signed per
/// Standard Webhooks. A receiver answering `410 Gone` disables its
/// endpoint until a reload gives it another `url` or `secret`; its
/// deliveries wait, and the events recorded meanwhile follow then.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksConfig {
    pub endpoints: BTreeMap<String, EndpointConfig>,
    /// Seconds to wait before each retry of a failed delivery (the first
    /// attempt is at once): one attempt more than entries, then the
    /// delivery fails for good. A receiver's longer `Retry-After` wins.
    /// Each delay gets ±20 % jitter.
    pub retry_schedule_secs: Vec<u64>,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        WebhooksConfig {
            endpoints: BTreeMap::new(),
            retry_schedule_secs: ::feed::retry::SCHEDULE
                .iter()
                .map(|delay| delay.as_secs())
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointConfig {
    /// `https://…` (`http://` only for localhost).
    pub url: String,
    /// The signing secret, `whsec_<base64>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_file: Option<PathBuf>,
    /// While a secret rotates: the old one also signs, so receivers
    /// holding either verify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret_file: Option<PathBuf>,
    /// Event types sent (default: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,
    /// Accounts (`provider:account`) whose events are sent (default: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<String>,
    /// One delivery attempt's deadline.
    #[serde(default = "default_endpoint_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_endpoint_timeout_ms() -> u64 {
    10_000
}

/// `[vendor_webhooks.<provider>.<account>]`: the secret a vendor signs its
/// own webhooks with (Flowglad's Svix secret, `whsec_…`).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VendorWebhookConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_file: Option<PathBuf>,
}

/// provider → account → secret.
pub type VendorWebhooksConfig = BTreeMap<String, BTreeMap<String, VendorWebhookConfig>>;

impl FeedConfig {
    pub fn check(&self) -> Result<(), ConfigError> {
        if !(self.poll_calls_per_sec.is_finite() && self.poll_calls_per_sec > 0.0) {
            return Err(ConfigError::invalid(
                "feed.poll_calls_per_sec",
                "must be a number above 0",
            ));
        }
        for (key, value) in [
            ("feed.poll_batch", u64::from(self.poll_batch)),
            ("feed.list_refresh_min", u64::from(self.list_refresh_min)),
            ("feed.retention_days", u64::from(self.retention_days)),
            ("feed.stream_heartbeat_secs", self.stream_heartbeat_secs),
            ("feed.stream_max_lag", self.stream_max_lag),
        ] {
            if value == 0 {
                return Err(ConfigError::invalid(key, "must be at least 1"));
            }
        }
        if !(3..=86_400).contains(&self.lease_secs) {
            return Err(ConfigError::invalid(
                "feed.lease_secs",
                "must be 3 to 86400 (a lease is renewed every third of it)",
            ));
        }
        if self.stream_heartbeat_secs > 3_600 {
            return Err(ConfigError::invalid(
                "feed.stream_heartbeat_secs",
                "must be at most 3600",
            ));
        }
        if self.terminal_grace_secs > 30 * 86_400 {
            return Err(ConfigError::invalid(
                "feed.terminal_grace_secs",
                "must be at most 2592000 (30 days)",
            ));
        }
        if self.retention_days > 3_650 {
            return Err(ConfigError::invalid(
                "feed.retention_days",
                "must be at most 3650",
            ));
        }
        Ok(())
    }
}
