//! Gateway configuration (PRODUCT §6): defaults < TOML file < environment
//! (`CHECKOUT_GATEWAY__SECTION__KEY`), loaded with figment. A bad config
//! fails at start with the exact key path.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::auth::{from_hex, Scope};

/// Environment prefix; `__` separates key path segments.
pub const ENV_PREFIX: &str = "CHECKOUT_GATEWAY__";
/// Environment variable naming the config file when `--config` is absent.
pub const CONFIG_PATH_ENV: &str = "CHECKOUT_GATEWAY_CONFIG";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub cache: CacheConfig,
    #[serde(default)]
    pub resilience: ResilienceConfig,
    #[serde(default)]
    pub idempotency: IdempotencyConfig,
    #[serde(default)]
    pub log: LogConfig,
    /// `providers.<vendor>.accounts.<account>`: each account's table is
    /// checked by the vendor's adapter.
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderConfig>,
    /// `clients.<name>`: gateway client keys and the accounts each may use.
    #[serde(default)]
    pub clients: BTreeMap<String, ClientConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Largest create body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Admit `http://localhost` redirect URLs on create (the demo); https otherwise.
    #[serde(default)]
    pub allow_http_localhost_urls: bool,
    /// Open connections at most (also bounded by the descriptor limit).
    /// Past it the oldest idle connection is closed; when none is idle the
    /// new one is answered 503 and closed.
    pub max_connections: usize,
    /// Time a client has to send a whole request head, from its first byte.
    pub header_read_timeout_ms: u64,
    /// A keep-alive connection without a request is closed after this long.
    pub idle_timeout_secs: u64,
    /// Longest request target (path and query), in bytes: 414 past it.
    pub max_uri_bytes: usize,
    /// Largest single header (name and value), in bytes: 431 past it.
    pub max_header_bytes: usize,
    /// Largest request head (request line and all headers), in bytes: 431 past it.
    pub max_head_bytes: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 64 * 1024,
            allow_http_localhost_urls: false,
            max_connections: 10_000,
            header_read_timeout_ms: 10_000,
            idle_timeout_secs: 60,
            max_uri_bytes: 8 * 1024,
            max_header_bytes: 8 * 1024,
            max_head_bytes: 32 * 1024,
        }
    }
}

impl ServerConfig {
    pub fn connection_limits(&self) -> crate::connections::ConnectionLimits {
        crate::connections::ConnectionLimits {
            max_connections: self.max_connections.max(1),
            header_read_timeout: std::time::Duration::from_millis(self.header_read_timeout_ms),
            idle_timeout: std::time::Duration::from_secs(self.idle_timeout_secs),
            max_uri_bytes: self.max_uri_bytes,
            max_header_bytes: self.max_header_bytes,
            max_head_bytes: self.max_head_bytes,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheConfig {
    /// Lifetime of an open or processing session, in seconds (0 = never cached).
    pub open_ttl_secs: u64,
    /// Lifetime of a terminal session, in seconds.
    pub terminal_ttl_secs: u64,
    /// Most sessions held.
    pub max_entries: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            open_ttl_secs: 5,
            terminal_ttl_secs: 3600,
            max_entries: 100_000,
        }
    }
}

/// How the gateway protects callers from sick vendors (every account).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResilienceConfig {
    /// A caller always has an answer within this bound (then 504).
    pub deadline_ms: u64,
    /// Extra attempts for reads (and for creates only when provably safe).
    pub max_retries: u32,
    /// First retry delay; doubles per attempt, with full jitter.
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    /// Consecutive failed calls that open an account's circuit breaker.
    pub breaker_failures: u32,
    /// How long an open breaker fails fast before letting one probe through.
    pub breaker_open_secs: u64,
    /// Upstream calls in flight per account; more are refused with 503.
    pub max_in_flight: usize,
    /// How long past fresh a cached session may still be served when the vendor fails (0 = never).
    pub stale_if_error_secs: u64,
    /// On SIGTERM, how long in-flight requests may take to finish.
    pub shutdown_grace_secs: u64,
}

impl Default for ResilienceConfig {
    fn default() -> Self {
        ResilienceConfig {
            deadline_ms: 15_000,
            max_retries: 2,
            backoff_base_ms: 100,
            backoff_max_ms: 2_000,
            breaker_failures: 5,
            breaker_open_secs: 30,
            max_in_flight: 64,
            stale_if_error_secs: 300,
            shutdown_grace_secs: 20,
        }
    }
}

/// Logging.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `RUST_LOG`-style filter (`RUST_LOG` itself, when set, wins).
    pub filter: String,
    /// OTLP/HTTP traces endpoint (e.g. `http://127.0.0.1:4318/v1/traces`);
    /// needs a binary built with `--features otlp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otlp_endpoint: Option<String>,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            filter: "info".to_owned(),
            otlp_endpoint: None,
        }
    }
}

/// Gateway-side idempotent create (`Idempotency-Key`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdempotencyConfig {
    /// How long a key and its response are kept.
    pub ttl_secs: u64,
    /// Most keys kept at once.
    pub max_keys: u64,
}

impl Default for IdempotencyConfig {
    fn default() -> Self {
        IdempotencyConfig {
            ttl_secs: 24 * 3600,
            max_keys: 1_000_000,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    #[serde(default)]
    pub accounts: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// SHA-256 (hex) of each key the client may present — several while a
    /// key rotates. Keys themselves are never configured: `checkout-gateway
    /// hash-key` prints the hash of a key read from stdin.
    pub key_sha256: Vec<String>,
    /// `provider:account` entries, or `provider:*` for every account of a provider.
    #[serde(default)]
    pub accounts: Vec<String>,
    /// `sessions:read`, `sessions:write`, `admin`.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<Scope>,
}

fn default_scopes() -> Vec<Scope> {
    vec![Scope::SessionsRead, Scope::SessionsWrite]
}

/// A configuration error with the key path it concerns.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Figment(Box<figment::Error>),
    #[error("config key `{path}`: {message}")]
    Invalid { path: String, message: String },
}

impl ConfigError {
    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl From<figment::Error> for ConfigError {
    fn from(e: figment::Error) -> Self {
        ConfigError::Figment(Box::new(e))
    }
}

/// The built-in defaults, the first layer of every configuration.
pub fn defaults() -> Figment {
    Figment::from(Serialized::defaults(GatewayConfig::default_values()))
}

/// The environment layer, which overrides every other.
pub fn environment() -> Env {
    Env::prefixed(ENV_PREFIX).split("__")
}

/// The layered sources: defaults, then the file (if any), then the environment.
pub fn figment(file: Option<&Path>) -> Figment {
    let mut f = defaults();
    if let Some(path) = file {
        f = f.merge(Toml::file_exact(path));
    }
    f.merge(environment())
}

impl GatewayConfig {
    fn default_values() -> GatewayConfig {
        GatewayConfig {
            server: ServerConfig::default(),
            cache: CacheConfig::default(),
            resilience: ResilienceConfig::default(),
            idempotency: IdempotencyConfig::default(),
            log: LogConfig::default(),
            providers: BTreeMap::new(),
            clients: BTreeMap::new(),
        }
    }

    /// Extract and check the parts that do not need the adapters.
    pub fn from_figment(figment: &Figment) -> Result<GatewayConfig, ConfigError> {
        let config: GatewayConfig = figment.extract()?;
        if config.cache.max_entries == 0 {
            return Err(ConfigError::invalid(
                "cache.max_entries",
                "must be at least 1",
            ));
        }
        if config.server.max_body_bytes < 1024 {
            return Err(ConfigError::invalid(
                "server.max_body_bytes",
                "must be at least 1024",
            ));
        }
        Ok(config)
    }
}

/// The key hashes of one client, checked.
pub fn client_key_hashes(name: &str, client: &ClientConfig) -> Result<Vec<[u8; 32]>, ConfigError> {
    if client.key_sha256.is_empty() {
        return Err(ConfigError::invalid(
            format!("clients.{name}.key_sha256"),
            "give at least one key hash",
        ));
    }
    client
        .key_sha256
        .iter()
        .enumerate()
        .map(|(i, hex)| {
            from_hex(hex.trim()).ok_or_else(|| {
                ConfigError::invalid(
                    format!("clients.{name}.key_sha256[{i}]"),
                    "not a SHA-256 in hex (64 hex digits; see `checkout-gateway hash-key`)",
                )
            })
        })
        .collect()
}

#[cfg(test)]
// figment's Jail API returns its own large error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_file_overrides_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "gw.toml",
                r#"
                [cache]
                open_ttl_secs = 9
                [providers.meteroid.accounts.default]
                api_key = "from-file"
                "#,
            )?;
            jail.set_env("CHECKOUT_GATEWAY__CACHE__TERMINAL_TTL_SECS", "60");
            jail.set_env(
                "CHECKOUT_GATEWAY__PROVIDERS__METEROID__ACCOUNTS__DEFAULT__API_KEY",
                "from-env",
            );
            let c = GatewayConfig::from_figment(&figment(Some(Path::new("gw.toml")))).unwrap();
            assert_eq!(c.cache.open_ttl_secs, 9);
            assert_eq!(c.cache.terminal_ttl_secs, 60);
            assert_eq!(c.cache.max_entries, 100_000);
            assert_eq!(
                c.providers["meteroid"].accounts["default"]["api_key"],
                "from-env"
            );
            Ok(())
        });
    }

    #[test]
    fn bad_values_name_the_key_path() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("gw.toml", "[cache]\nopen_ttl_secs = \"soon\"\n")?;
            let err =
                GatewayConfig::from_figment(&figment(Some(Path::new("gw.toml")))).unwrap_err();
            assert!(err.to_string().contains("cache.open_ttl_secs"), "{err}");
            jail.create_file("gw2.toml", "[cache]\nopen_tll_secs = 1\n")?;
            let err =
                GatewayConfig::from_figment(&figment(Some(Path::new("gw2.toml")))).unwrap_err();
            assert!(err.to_string().contains("open_tll_secs"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn client_keys_are_hashes() {
        let client = |hashes: Vec<&str>| ClientConfig {
            key_sha256: hashes.into_iter().map(str::to_owned).collect(),
            accounts: vec![],
            scopes: default_scopes(),
        };
        let err = client_key_hashes("demo", &client(vec![])).unwrap_err();
        assert!(err.to_string().contains("clients.demo.key_sha256"), "{err}");
        let err = client_key_hashes("demo", &client(vec!["plain-key-not-a-hash"])).unwrap_err();
        assert!(
            err.to_string().contains("clients.demo.key_sha256[0]"),
            "{err}"
        );
        assert!(
            !err.to_string().contains("plain-key-not-a-hash"),
            "the value is not echoed"
        );
        let hash = crate::auth::to_hex(&crate::auth::key_hash("0123456789abcdef"));
        assert_eq!(
            client_key_hashes("demo", &client(vec![&hash, &hash]))
                .unwrap()
                .len(),
            2
        );
    }
}
