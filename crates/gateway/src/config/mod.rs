//! Gateway configuration (PRODUCT §6): defaults < TOML file < environment
//! (`CHECKOUT_GATEWAY__SECTION__KEY`), loaded with figment. A bad config
//! fails at start with the exact key path.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use checkout_core::Secret;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::auth::{from_hex, Scope};

pub mod feed;
pub mod list;
pub mod resilience;
pub use feed::{FeedConfig, VendorWebhooksConfig, WebhooksConfig};
pub use list::ListConfig;
pub use resilience::ResilienceConfig;

/// Environment prefix; `__` separates key path segments.
pub const ENV_PREFIX: &str = "CHECKOUT_GATEWAY__";
/// Environment variable naming the config file when `--config` is absent.
pub const CONFIG_PATH_ENV: &str = "CHECKOUT_GATEWAY_CONFIG";

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
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
    pub store: StoreConfig,
    #[serde(default)]
    pub log: LogConfig,
    #[serde(default)]
    pub list: ListConfig,
    /// The change feed: tracking, polling, events (PRODUCT §11).
    #[serde(default)]
    pub feed: FeedConfig,
    /// Where events are delivered (Standard Webhooks).
    #[serde(default)]
    pub webhooks: WebhooksConfig,
    /// The vendors' own webhook secrets, per provider and account.
    #[serde(default)]
    pub vendor_webhooks: VendorWebhooksConfig,
    /// Plan aliases and customer references across vendors (PRODUCT §12).
    #[serde(default)]
    pub catalog: routing::CatalogConfig,
    /// Where a create without `provider`/`account` goes (PRODUCT §12).
    #[serde(default)]
    pub routing: routing::RoutingConfig,
    /// Where the gateway keeps what it generates for itself (the list
    /// cursor key, the default SQLite store); relative paths are taken
    /// from the working directory.
    #[serde(default = "default_data_dir")]
    pub data_dir: std::path::PathBuf,
    /// `providers.<vendor>.accounts.<account>`: each account's table is
    /// checked by the vendor's adapter.
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderConfig>,
    /// `clients.<name>`: gateway client keys and the accounts each may use.
    #[serde(default)]
    pub clients: BTreeMap<String, ClientConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
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

/// The limits one listener applies, from `[server]`.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_uri_bytes: usize,
    pub max_header_bytes: usize,
    pub max_head_bytes: usize,
}

impl ServerConfig {
    pub fn connection_limits(&self) -> crate::server::connections::ConnectionLimits {
        crate::server::connections::ConnectionLimits {
            max_connections: self.max_connections.max(1),
            header_read_timeout: Duration::from_millis(self.header_read_timeout_ms),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs),
            max_uri_bytes: self.max_uri_bytes,
            max_header_bytes: self.max_header_bytes,
            max_head_bytes: self.max_head_bytes,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CacheConfig {
    /// Lifetime of an open or processing session, in seconds (0 = never cached).
    pub open_ttl_secs: u64,
    /// Lifetime of a terminal session, in seconds.
    pub terminal_ttl_secs: u64,
    /// Most sessions held.
    pub max_entries: u64,
    /// `redis://[user:password@]host[:port][/db]`: a second tier shared by
    /// every replica (PRODUCT §10). Unset: each replica caches alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis_url: Option<Secret>,
    /// Starts every Redis key and channel name, so that several
    /// deployments can share one Redis.
    #[serde(default = "default_redis_prefix")]
    pub redis_prefix: String,
    /// Longest wait for one Redis operation, in milliseconds; past it the
    /// read goes on without Redis.
    #[serde(default = "default_redis_timeout_ms")]
    pub redis_timeout_ms: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            open_ttl_secs: 5,
            terminal_ttl_secs: 3600,
            max_entries: 100_000,
            redis_url: None,
            redis_prefix: default_redis_prefix(),
            redis_timeout_ms: default_redis_timeout_ms(),
        }
    }
}

fn default_redis_prefix() -> String {
    "checkout-gateway".to_owned()
}

fn default_redis_timeout_ms() -> u64 {
    100
}

/// Logging.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
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

/// Gateway-side idempotent create (`Idempotency-Key`); the records live
/// in the store.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct IdempotencyConfig {
    /// How long a key and its response are kept (at least 86400: 24 h).
    pub ttl_secs: u64,
    /// How long a request waits while another request with its key is
    /// running, before `409 idempotency_in_progress` with `Retry-After`.
    pub wait_ms: u64,
    /// How long after a create's deadline the vendor may still make its
    /// session (a request it received before the gateway gave up). A
    /// create whose outcome is unknown is found at the vendor, or, once
    /// this has passed with nothing found, made again.
    pub settle_ms: u64,
}

/// Shortest `idempotency.ttl_secs`: a client may retry for a day.
pub const MIN_IDEMPOTENCY_TTL_SECS: u64 = 24 * 3600;

impl Default for IdempotencyConfig {
    fn default() -> Self {
        IdempotencyConfig {
            ttl_secs: MIN_IDEMPOTENCY_TTL_SECS,
            wait_ms: 10_000,
            settle_ms: 5_000,
        }
    }
}

/// Durable state (idempotency records), shared by every replica that
/// names the same database.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `sqlite://PATH` or `postgres://…` (a password is better kept in
    /// `PGPASSWORD`, `~/.pgpass` or `url_file` than here). Default:
    /// `sqlite://<data_dir>/gateway.db`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A file holding the URL instead of `url` (trailing newline dropped):
    /// a mounted secret, since the URL may carry the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_file: Option<PathBuf>,
}

impl GatewayConfig {
    /// The store's URL: `store.url` or the content of `store.url_file`
    /// (not both), else a SQLite file in `data_dir`.
    pub fn store_url(&self) -> Result<String, ConfigError> {
        let inline = self.store.url.clone().map(Secret::new);
        let configured = vendor_http::optional_secret("url", &inline, &self.store.url_file)
            .map_err(|e| ConfigError::invalid(format!("store.{}", e.path), e.message))?;
        let Some(url) = configured else {
            return Ok(store::sqlite_url(&self.data_dir.join(DEFAULT_STORE_FILE)));
        };
        let key = if inline.is_some() {
            "store.url"
        } else {
            "store.url_file"
        };
        store::Backend::of(url.expose())
            .map_err(|_| ConfigError::invalid(key, "expected `sqlite://PATH` or `postgres://…`"))?;
        Ok(url.expose().to_owned())
    }
}

/// The default store's file name, in `data_dir`.
pub const DEFAULT_STORE_FILE: &str = "gateway.db";

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    #[serde(default)]
    pub accounts: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// SHA-256 (hex) of each key the client may present — several while a
    /// key rotates. Keys themselves are never configured: `checkout-gateway
    /// hash-key` prints the hash of a key read from stdin.
    pub key_sha256: Vec<String>,
    /// `provider:account` entries, `provider:*` for every account of a provider, or `*` for every configured account.
    #[serde(default)]
    pub accounts: Vec<String>,
    /// `sessions:read`, `sessions:write`, `admin`.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<Scope>,
    /// Requests per second this key may send; bursts up to twice that.
    /// Past it: 429 `too_many_requests`.
    #[serde(default = "default_requests_per_sec")]
    pub requests_per_sec: NonZeroU32,
    /// Vendor calls per second this key's requests may cause (reads past
    /// the cache, `no-cache` and `?include=raw` reads, creates); bursts up
    /// to twice that. Cache hits never spend it.
    #[serde(default = "default_vendor_calls_per_sec")]
    pub vendor_calls_per_sec: NonZeroU32,
}

fn default_data_dir() -> std::path::PathBuf {
    std::path::PathBuf::from("data")
}

fn default_scopes() -> Vec<Scope> {
    vec![Scope::SessionsRead, Scope::SessionsWrite]
}

fn default_requests_per_sec() -> NonZeroU32 {
    NonZeroU32::new(500).unwrap_or(NonZeroU32::MIN)
}

fn default_vendor_calls_per_sec() -> NonZeroU32 {
    NonZeroU32::new(25).unwrap_or(NonZeroU32::MIN)
}

/// The JSON Schema of the whole configuration (`checkout-gateway config
/// schema`): the gateway's own tables from their serde types, and under
/// `providers.<vendor>.accounts.<name>` each vendor's account type, from
/// the adapter that reads it.
pub fn schema() -> serde_json::Value {
    let mut schema = schemars::schema_for!(GatewayConfig).to_value();
    let providers: serde_json::Map<String, serde_json::Value> = crate::registry::providers()
        .iter()
        .map(|p| {
            let account = p.account_schema();
            let table = serde_json::json!({
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "accounts": {
                        "type": "object",
                        "description": format!("{} accounts, by name", p.name()),
                        "additionalProperties": account,
                    }
                }
            });
            (p.name().to_owned(), table)
        })
        .collect();
    schema["properties"]["providers"] = serde_json::json!({
        "type": "object",
        "description": "Vendor accounts: providers.<vendor>.accounts.<name>",
        "additionalProperties": false,
        "properties": providers,
    });
    schema
}

/// A configuration error with the key path it concerns.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}", describe_figment(.0))]
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

/// figment's own Display quotes values (`found string "…"`) and, for a TOML
/// syntax error, the source line under a caret: either may be a secret, and
/// the text reaches `config check`, the reload 422 body and the SIGHUP log
/// line. This names the key path, the source and the position instead.
fn describe_figment(error: &figment::Error) -> String {
    error
        .clone()
        .into_iter()
        .map(|e| describe_one(&e))
        .collect::<Vec<_>>()
        .join("\n")
}

fn describe_one(e: &figment::Error) -> String {
    use figment::error::Kind;
    let source = e.metadata.as_ref();
    let file = source.and_then(|md| match &md.source {
        Some(figment::Source::File(path)) => Some(path.as_path()),
        _ => None,
    });
    // A provider's own failure, before any key: the file could not be
    // read or parsed. Parse it again to learn where, without figment's text.
    if let (Kind::Message(_), true, Some(path)) = (&e.kind, e.path.is_empty(), file) {
        return file_error(path);
    }
    let what = match &e.kind {
        Kind::Message(m) => without_snippet(m),
        Kind::InvalidType(found, expected) => {
            format!(
                "invalid type: found {}, expected {expected}",
                kind_of(found)
            )
        }
        Kind::InvalidValue(found, expected) => {
            format!(
                "invalid value: found {}, expected {expected}",
                kind_of(found)
            )
        }
        Kind::UnknownVariant(_, expected) => {
            format!("unknown variant, expected one of {}", expected.join(", "))
        }
        Kind::Unsupported(found) => format!("unsupported type {}", kind_of(found)),
        Kind::UnsupportedKey(found, expected) => {
            format!(
                "unsupported key type {}, expected {expected}",
                kind_of(found)
            )
        }
        // Names, lengths and sizes only.
        other => other.to_string(),
    };
    let key = if e.path.is_empty() {
        String::new()
    } else {
        format!("config key `{}`: ", e.path.join("."))
    };
    let from = match source {
        Some(md) => match &md.source {
            Some(src) => format!(" (in {} {src})", md.name),
            None => format!(" (in {})", md.name),
        },
        None => String::new(),
    };
    format!("{key}{what}{from}")
}

/// The type of a value, never the value.
fn kind_of(found: &figment::error::Actual) -> String {
    use figment::error::Actual;
    match found {
        Actual::Bool(_) => "a boolean".into(),
        Actual::Unsigned(_) | Actual::Signed(_) => "an integer".into(),
        Actual::Float(_) => "a float".into(),
        Actual::Char(_) | Actual::Str(_) | Actual::Other(_) => "a string".into(),
        Actual::Bytes(_) => "bytes".into(),
        other => other.to_string(),
    }
}

/// Why a config file could not be loaded, with its position: never the
/// text of the line (toml's own Display shows it under a caret).
fn file_error(path: &Path) -> String {
    let shown = path.display();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => return format!("cannot read {shown}: {e}"),
    };
    let Err(e) = toml::from_str::<toml::Table>(&text) else {
        return format!("cannot load {shown}");
    };
    let at = floor_char_boundary(&text, e.span().map_or(0, |s| s.start));
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..line_start].matches('\n').count() + 1;
    let column = text[line_start..at].chars().count() + 1;
    let key = key_at(&text, line_start)
        .map(|k| format!(" (key `{k}`)"))
        .unwrap_or_default();
    format!(
        "{shown}: TOML syntax error at line {line}, column {column}{key}: {}",
        one_line(e.message())
    )
}

fn floor_char_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The key path of the `key = …` line starting at `line_start`, under the
/// last `[table]` above it, when both are plain dotted keys; else `None`
/// (anything else might be a value).
fn key_at(text: &str, line_start: usize) -> Option<String> {
    let plain = |k: &str| {
        !k.is_empty()
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    };
    let line = text[line_start..].lines().next().unwrap_or_default();
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    if !plain(key) {
        return None;
    }
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| {
            l.trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or_default()
                .trim()
        });
    match table {
        None => Some(key.to_owned()),
        Some(t) if plain(t) => Some(format!("{t}.{key}")),
        Some(_) => None,
    }
}

/// A message without the source lines toml prints under a caret
/// (`3 | api_key = "…`, `  |     ^`), on one line.
fn without_snippet(message: &str) -> String {
    let kept: Vec<&str> = message
        .lines()
        .filter(|l| {
            let t = l
                .trim_start()
                .trim_start_matches(|c: char| c.is_ascii_digit());
            !t.trim_start().starts_with('|')
        })
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    one_line(&kept.join(": "))
}

/// Longest message kept from a parser.
const MAX_MESSAGE: usize = 200;

fn one_line(message: &str) -> String {
    message
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(MAX_MESSAGE)
        .collect()
}

/// Serde messages quote the offending value (`string "…"`, ``unknown
/// variant `…` ``): drop those values from an adapter's config error.
pub fn without_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find("string \"") {
        out.push_str(&rest[..i]);
        out.push_str("a string");
        let after = &rest[i + "string \"".len()..];
        // Debug-escaped: the value ends at the first unescaped quote.
        let mut escaped = false;
        let end = after
            .char_indices()
            .find(|&(_, c)| {
                let close = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                close
            })
            .map_or(after.len(), |(j, _)| j + 1);
        rest = &after[end..];
    }
    out.push_str(rest);
    if let (Some(from), Some(to)) = (out.find("unknown variant `"), out.rfind("`, expected")) {
        if from < to {
            out.replace_range(from..to + 1, "unknown variant");
        }
    }
    out
}

/// Every string in `value` that is a URL with credentials in it, with the
/// userinfo shown as `***` (a `base_url` of `https://user:pass@host/`).
pub fn redact_url_credentials(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => {
            if let Some(redacted) = redact_userinfo(s) {
                *s = redacted;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_url_credentials),
        serde_json::Value::Object(map) => map.values_mut().for_each(redact_url_credentials),
        _ => {}
    }
}

/// A URL with its query shown as `***`: a database URL may carry a
/// password there (`?password=…`).
pub fn redact_url_query(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?***"),
        None => url.to_owned(),
    }
}

fn redact_userinfo(s: &str) -> Option<String> {
    let url = reqwest::Url::parse(s).ok()?;
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    // Splice the string as written, so nothing but the userinfo changes;
    // the parser found credentials, so there is an `@` in the authority.
    let (scheme, rest) = s.split_once("://")?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let at = rest[..authority_end].rfind('@')?;
    Some(format!("{scheme}://***@{}", &rest[at + 1..]))
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
            store: StoreConfig::default(),
            log: LogConfig::default(),
            list: ListConfig::default(),
            feed: FeedConfig::default(),
            webhooks: WebhooksConfig::default(),
            vendor_webhooks: VendorWebhooksConfig::default(),
            catalog: routing::CatalogConfig::default(),
            routing: routing::RoutingConfig::default(),
            data_dir: default_data_dir(),
            providers: BTreeMap::new(),
            clients: BTreeMap::new(),
        }
    }

    /// Extract and check the parts that do not need the adapters.
    pub fn from_figment(figment: &Figment) -> Result<GatewayConfig, ConfigError> {
        // Before extracting: serde would only call a removed key unknown.
        resilience::refuse_removed_keys(figment)?;
        let config: GatewayConfig = figment.extract()?;
        config.resilience.check()?;
        config.feed.check()?;
        if config.cache.max_entries == 0 {
            return Err(ConfigError::invalid(
                "cache.max_entries",
                "must be at least 1",
            ));
        }
        if config.cache.redis_timeout_ms == 0 {
            return Err(ConfigError::invalid(
                "cache.redis_timeout_ms",
                "must be at least 1",
            ));
        }
        if config.cache.redis_prefix.is_empty() {
            return Err(ConfigError::invalid(
                "cache.redis_prefix",
                "must not be empty",
            ));
        }
        if config.list.max_vendor_pages == 0 {
            return Err(ConfigError::invalid(
                "list.max_vendor_pages",
                "must be at least 1",
            ));
        }
        if config.list.cursor_ttl_secs == 0 {
            return Err(ConfigError::invalid(
                "list.cursor_ttl_secs",
                "must be at least 1",
            ));
        }
        if config.idempotency.ttl_secs < MIN_IDEMPOTENCY_TTL_SECS {
            return Err(ConfigError::invalid(
                "idempotency.ttl_secs",
                format!("must be at least {MIN_IDEMPOTENCY_TTL_SECS} (24 h)"),
            ));
        }
        // Read (a `url_file`) and checked here too, so that a reload with a
        // store the next start could not open is refused now.
        config.store_url()?;
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
    fn syntax_errors_name_the_position_never_the_line() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "gw.toml",
                "[providers.meteroid.accounts.default]\nbase_url = \"https://x.example\"\napi_key = \"sk_live_secret_value\n",
            )?;
            let err = GatewayConfig::from_figment(&figment(Some(Path::new("gw.toml"))))
                .unwrap_err()
                .to_string();
            assert!(
                !err.contains("sk_live") && !err.contains("api_key ="),
                "{err}"
            );
            assert!(
                err.contains("gw.toml") && err.contains("line 3, column"),
                "{err}"
            );
            assert!(
                err.contains("providers.meteroid.accounts.default.api_key"),
                "{err}"
            );
            Ok(())
        });
    }

    #[test]
    fn values_are_never_echoed_in_errors() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("CHECKOUT_GATEWAY__CACHE__OPEN_TTL_SECS", "sk_live_from_env");
            let err = GatewayConfig::from_figment(&figment(None))
                .unwrap_err()
                .to_string();
            assert!(
                !err.contains("sk_live") && err.to_lowercase().contains("open_ttl_secs"),
                "{err}"
            );
            jail.clear_env();
            for (toml, path) in [
                (
                    "[clients.shop]\nkey_sha256 = []\nscopes = [\"sk_live_in_scopes\"]\n",
                    "clients.shop.scopes",
                ),
                ("[log]\nfilter = [\"sk_live_in_a_list\"]\n", "log.filter"),
                (
                    "[cache]\nmax_entries = \"sk_live_in_cache\"\n",
                    "cache.max_entries",
                ),
            ] {
                jail.create_file("gw.toml", toml)?;
                let err = GatewayConfig::from_figment(&figment(Some(Path::new("gw.toml"))))
                    .unwrap_err()
                    .to_string();
                assert!(
                    !err.contains("sk_live") && err.contains(path),
                    "{toml}: {err}"
                );
            }
            Ok(())
        });
    }

    #[test]
    fn values_and_credentials_are_scrubbed_from_text() {
        assert_eq!(
            without_values(r#"invalid type: string "sk_\"live", expected u64"#),
            "invalid type: a string, expected u64"
        );
        assert_eq!(
            without_values("unknown variant `sk_live`, expected `connect` or `rest`"),
            "unknown variant, expected `connect` or `rest`"
        );
        assert_eq!(
            without_values("unknown field `x`, expected `y`"),
            "unknown field `x`, expected `y`"
        );
        assert_eq!(
            without_snippet("TOML parse error at line 3, column 9\n  |\n3 | k = \"sk\n  |         ^\ninvalid basic string\n"),
            "TOML parse error at line 3, column 9: invalid basic string"
        );
        let mut v = serde_json::json!({"a": ["https://u:p@h.example/x?q=1"], "b": "https://u@h.example",
            "c": "https://h.example/a@b", "d": "not a url", "e": "https://%75:%70@h.example/"});
        redact_url_credentials(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"a": ["https://***@h.example/x?q=1"], "b": "https://***@h.example",
                "c": "https://h.example/a@b", "d": "not a url", "e": "https://***@h.example/"})
        );
    }

    #[test]
    fn the_store_url_may_come_from_a_file() {
        figment::Jail::expect_with(|jail| {
            let load = |toml: &str| {
                GatewayConfig::from_figment(&defaults().merge(Toml::string(toml)))
                    .and_then(|c| c.store_url())
            };
            jail.create_file("store-url", "postgres://gw:hunter2@db.internal/gw\n")?;
            assert_eq!(
                load("store.url_file = \"store-url\"").unwrap(),
                "postgres://gw:hunter2@db.internal/gw"
            );
            let both = load("[store]\nurl = \"sqlite://x.db\"\nurl_file = \"store-url\"")
                .unwrap_err()
                .to_string();
            assert!(
                both.contains("store.url") && both.contains("not both"),
                "{both}"
            );
            let missing = load("store.url_file = \"absent\"").unwrap_err().to_string();
            assert!(missing.contains("store.url_file"), "{missing}");
            jail.create_file("mysql-url", "mysql://gw:hunter2@db.internal/gw")?;
            let wrong = load("store.url_file = \"mysql-url\"")
                .unwrap_err()
                .to_string();
            assert!(wrong.contains("store.url_file"), "{wrong}");
            assert!(
                !wrong.contains("hunter2"),
                "the URL is never shown: {wrong}"
            );
            Ok(())
        });
    }

    #[test]
    fn client_keys_are_hashes() {
        let client = |hashes: Vec<&str>| ClientConfig {
            key_sha256: hashes.into_iter().map(str::to_owned).collect(),
            accounts: vec![],
            scopes: default_scopes(),
            requests_per_sec: default_requests_per_sec(),
            vendor_calls_per_sec: default_vendor_calls_per_sec(),
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

    /// A config file as JSON, the way the schema sees it.
    fn toml_file(path: &str) -> serde_json::Value {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../..")
                .join(path),
        )
        .unwrap();
        let value: toml::Value = toml::from_str(&text).unwrap();
        serde_json::to_value(value).unwrap()
    }

    #[test]
    fn the_schema_is_stable() {
        insta::assert_json_snapshot!("config_schema", schema());
    }

    #[test]
    fn shipped_configs_validate_against_the_schema() {
        let validator = jsonschema::validator_for(&schema()).unwrap();
        for path in ["config/example.toml", "config/demo.toml"] {
            let config = toml_file(path);
            let errors: Vec<String> = validator
                .iter_errors(&config)
                .map(|e| format!("{}: {e}", e.instance_path))
                .collect();
            assert!(errors.is_empty(), "{path}: {errors:#?}");
        }
        // The schema is as strict as the loader: a misspelt key is refused.
        let mut bad = toml_file("config/example.toml");
        bad["providers"]["meteroid"]["accounts"]["eu"]["api_kee"] = serde_json::json!("x");
        assert!(!validator.is_valid(&bad));
        let mut bad = toml_file("config/example.toml");
        bad["server"]["listn"] = serde_json::json!("127.0.0.1:1");
        assert!(!validator.is_valid(&bad));
    }
}
