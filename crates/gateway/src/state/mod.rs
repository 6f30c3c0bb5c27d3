//! Everything a request handler needs, built once from the config.

pub mod live;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use checkout_core::id::is_valid_account_name;
use checkout_core::{Connector, Error, ErrorCode, Provider};
use vendor_http::VendorClient;

use crate::auth::rate_limit::{Budget, ClientBudgets};
use crate::auth::{Client, Clients, Grants, Scope};
use crate::cache::SessionCache;
use crate::config::{client_key_hashes, ConfigError, GatewayConfig};
use crate::feed::Feed;
use crate::idempotency::Idempotency;
use crate::registry;
use crate::telemetry::metrics::Metrics;
use crate::upstream::Guard;

pub struct Account {
    pub provider: &'static dyn Provider,
    /// Builds this account's requests and reads its answers (no I/O).
    pub connector: Arc<dyn Connector>,
    /// Sends them: this account's connection pool and credentials.
    pub client: VendorClient,
    /// Deadline, retries, breaker and in-flight limit for this account.
    pub guard: Guard,
}

impl Account {
    /// What this account can do: its connector's own answer where it
    /// differs from its provider's (Zenskar `/checkouts`), else the provider's.
    pub fn capabilities(&self) -> checkout_core::Capabilities {
        self.connector
            .capabilities()
            .unwrap_or_else(|| self.provider.capabilities())
    }
}

pub struct AppState {
    /// `(provider, account)` → configured account.
    pub accounts: BTreeMap<(String, String), Account>,
    pub clients: Clients,
    pub cache: SessionCache,
    /// Idempotency records, in the store (`store.url`).
    pub idempotency: Arc<Idempotency>,
    /// The change feed: tracked sessions and their events (same store).
    pub feed: Arc<Feed>,
    /// Where events are delivered (`[webhooks]`, checked; a reload's own).
    pub webhooks: crate::feed::endpoints::Webhooks,
    /// The secrets vendors sign their own webhooks with, per account.
    pub vendor_webhooks: crate::feed::vendor_secrets::VendorSecrets,
    pub metrics: Arc<Metrics>,
    pub max_body_bytes: usize,
    pub allow_http_localhost_urls: bool,
    pub shutdown_grace: Duration,
    /// The cross-vendor list's cursor key and kept answers.
    pub list: crate::service::list::settings::ListSettings,
    /// The listener's limits (read when it starts; a reload keeps them).
    pub connection_limits: crate::server::connections::ConnectionLimits,
    /// Plan aliases, configured customer references and the routing rules
    /// (a reload swaps them with everything else).
    pub routing: Arc<routing::Routing>,
    /// The Stripe facade's `checkout.session` of cached sessions, made once
    /// per canonical rendering.
    pub stripe_renders: crate::cache::renders::Renders,
}

/// What routing checks against: the accounts this config builds.
struct ConfiguredAccounts<'a>(&'a BTreeMap<(String, String), Account>);

impl routing::Accounts for ConfiguredAccounts<'_> {
    fn exists(&self, target: &routing::Target) -> bool {
        self.0
            .contains_key(&(target.provider.clone(), target.account.clone()))
    }

    fn could_be_plan_id(&self, target: &routing::Target, plan: &str) -> bool {
        self.0
            .get(&(target.provider.clone(), target.account.clone()))
            .is_some_and(|account| account.provider.could_be_plan_id(plan))
    }
}

impl AppState {
    pub fn build(config: &GatewayConfig) -> Result<AppState, ConfigError> {
        AppState::build_reusing(config, None)
    }

    /// Build from `config`; on a reload, keep the previous state's cache,
    /// store (idempotency records) and metrics (their settings need a
    /// restart). The store is opened by `cmd::serve::prepare`, else at
    /// first use.
    pub fn build_reusing(
        config: &GatewayConfig,
        previous: Option<&AppState>,
    ) -> Result<AppState, ConfigError> {
        let metrics = previous.map_or_else(|| Arc::new(Metrics::new()), |p| p.metrics.clone());
        let mut accounts = BTreeMap::new();
        for (name, provider_config) in &config.providers {
            let provider = registry::provider(name).ok_or_else(|| {
                ConfigError::invalid(
                    format!("providers.{name}"),
                    format!(
                        "unknown provider (supported: {})",
                        registry::provider_names()
                    ),
                )
            })?;
            for (account, table) in &provider_config.accounts {
                let path = format!("providers.{name}.accounts.{account}");
                if !is_valid_account_name(account) {
                    return Err(ConfigError::invalid(
                        path,
                        "account names are lower-case letters, digits, '_' and '-' (at most 64)",
                    ));
                }
                let at_path = |e: checkout_core::adapter::ConfigError| {
                    ConfigError::invalid(
                        format!("{path}.{}", e.path),
                        crate::config::without_values(&e.message),
                    )
                };
                let connector = provider.build(account, table.clone()).map_err(at_path)?;
                let client = VendorClient::new(provider.name(), account, connector.endpoint())
                    .map_err(at_path)?;
                let guard = Guard::new(
                    provider.name(),
                    account,
                    &config.resilience,
                    metrics.clone(),
                );
                accounts.insert(
                    (name.clone(), account.clone()),
                    Account {
                        provider,
                        connector,
                        client,
                        guard,
                    },
                );
            }
        }
        let webhooks = crate::feed::endpoints::Webhooks::from_config(&config.webhooks, |p, a| {
            accounts.contains_key(&(p.to_owned(), a.to_owned()))
        })?;
        let vendor_webhooks = crate::feed::vendor_secrets::VendorSecrets::from_config(
            &config.vendor_webhooks,
            |p, a| accounts.contains_key(&(p.to_owned(), a.to_owned())),
        )?;
        let routing = routing::Routing::build(
            &config.catalog,
            &config.routing,
            &ConfiguredAccounts(&accounts),
        )
        .map_err(|e| ConfigError::invalid(e.path, e.message))?;
        let mut clients = Vec::new();
        let mut seen_keys = HashSet::new();
        for (name, client) in &config.clients {
            let hashes = client_key_hashes(name, client)?;
            for (i, hash) in hashes.iter().enumerate() {
                if !seen_keys.insert(*hash) {
                    return Err(ConfigError::invalid(
                        format!("clients.{name}.key_sha256[{i}]"),
                        "this key is already given (to this or another client)",
                    ));
                }
            }
            let mut grants = Grants::default();
            for (i, entry) in client.accounts.iter().enumerate() {
                let path = format!("clients.{name}.accounts[{i}]");
                // `*`: every configured account, so a new vendor's demo
                // account needs no edit to the clients that use them all.
                if entry == "*" {
                    grants.every_account = true;
                    continue;
                }
                let (p, a) = entry.split_once(':').ok_or_else(|| {
                    ConfigError::invalid(
                        &path,
                        format!("{entry:?} is not `provider:account`, `provider:*` or `*`"),
                    )
                })?;
                if a == "*" {
                    if registry::provider(p).is_none() {
                        return Err(ConfigError::invalid(
                            path,
                            format!("{p:?} is not a supported provider"),
                        ));
                    }
                    grants.every_account_of.insert(p.to_owned());
                } else if accounts.contains_key(&(p.to_owned(), a.to_owned())) {
                    grants.exact.insert((p.to_owned(), a.to_owned()));
                } else {
                    return Err(ConfigError::invalid(
                        path,
                        format!("{entry:?} is not a configured account"),
                    ));
                }
            }
            let scopes = client.scopes.iter().copied().collect();
            let budgets = ClientBudgets::new(client.requests_per_sec, client.vendor_calls_per_sec);
            clients.push(Client::new(name.clone(), hashes, grants, scopes, budgets));
        }
        let mut list =
            crate::service::list::settings::ListSettings::new(&config.list, &config.data_dir)?;
        if let Some(p) = previous {
            list = list.reusing(&p.list);
        }
        let idempotency = match previous {
            Some(p) => p.idempotency.clone(),
            None => Arc::new(Idempotency::new(config)?),
        };
        let feed = match previous {
            Some(p) => p.feed.clone(),
            None => Arc::new(Feed::new(&config.feed, idempotency.clone())),
        };
        Ok(AppState {
            accounts,
            list,
            clients: Clients::new(clients),
            cache: match previous {
                Some(p) => p.cache.clone(),
                None => SessionCache::new(config, metrics.clone())?,
            },
            idempotency,
            feed,
            webhooks,
            vendor_webhooks,
            max_body_bytes: config.server.max_body_bytes,
            allow_http_localhost_urls: config.server.allow_http_localhost_urls,
            shutdown_grace: Duration::from_secs(config.resilience.shutdown_grace_secs),
            connection_limits: config.server.connection_limits(),
            routing: Arc::new(routing),
            stripe_renders: crate::cache::renders::Renders::new(config.cache.max_entries),
            metrics,
        })
    }

    /// The client presenting this request's key (401 otherwise), named on
    /// the request span, holding `scope` (403 otherwise), within its
    /// request budget (429 otherwise).
    pub fn authorize(&self, headers: &http::HeaderMap, scope: Scope) -> Result<Arc<Client>, Error> {
        let client = self.authorize_unmetered(headers, scope)?;
        self.spend(&client, Budget::Requests)?;
        Ok(client)
    }

    /// [`AppState::authorize`] without spending: for the fast path, which
    /// spends only once it knows it answers.
    pub fn authorize_unmetered(
        &self,
        headers: &http::HeaderMap,
        scope: Scope,
    ) -> Result<Arc<Client>, Error> {
        let client = self.clients.authenticate(headers)?;
        crate::telemetry::record_client(&client.name);
        client.require(scope)?;
        Ok(client)
    }

    /// Spend one from a client's budget; refusals are counted.
    pub fn spend(&self, client: &Client, budget: Budget) -> Result<(), Error> {
        client.budgets.spend(budget).inspect_err(|_| {
            self.metrics.rate_limited(&client.name, budget);
        })
    }

    /// The account a client asks for. Accounts the client may not use, and
    /// accounts that do not exist, look the same: 404, so that nobody learns
    /// which accounts exist.
    pub fn account_for(
        &self,
        client: &Client,
        provider: &str,
        account: &str,
    ) -> Result<&Account, Error> {
        if !client.may_use(provider, account) {
            return Err(Error::new(
                ErrorCode::NotFound,
                "no such checkout session or account",
            ));
        }
        self.accounts
            .get(&(provider.to_owned(), account.to_owned()))
            .ok_or_else(|| Error::new(ErrorCode::NotFound, "no such checkout session or account"))
    }

    /// Effective configuration with every secret shown as `***`.
    pub fn redacted(&self, config: &GatewayConfig) -> serde_json::Value {
        let mut out = serde_json::to_value(config).unwrap_or_default();
        for ((provider, account), acc) in &self.accounts {
            out["providers"][provider]["accounts"][account] = acc.connector.redacted_config();
        }
        // A secret, so `***` as serialised; the host is worth showing.
        if let Some(url) = &config.cache.redis_url {
            out["cache"]["redis_url"] = url.expose().into();
        }
        crate::config::redact_url_credentials(&mut out);
        if let Some(url) = out["store"]["url"].as_str() {
            out["store"]["url"] = crate::config::redact_url_query(url).into();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{header::AUTHORIZATION, HeaderMap, HeaderValue};
    use figment::providers::{Format, Toml};

    use super::*;
    use crate::auth::{key_hash, to_hex};
    use crate::config::defaults;

    const ALL: &str = "k-all-0123456789abcdef";
    const ONE: &str = "k-one-0123456789abcdef";

    fn state(all_accounts: &str) -> Result<AppState, ConfigError> {
        let text = format!(
            r#"
            [providers.meteroid.accounts.a]
            base_url = "http://127.0.0.1:9/meteroid"
            api_key = "pv_sand_x/1"
            [providers.flowglad.accounts.b]
            base_url = "http://127.0.0.1:9/flowglad"
            api_key = "sk_test_x"
            [clients.all]
            key_sha256 = ["{all}"]
            accounts = {all_accounts}
            [clients.one]
            key_sha256 = ["{one}"]
            accounts = ["meteroid:a"]
            "#,
            all = to_hex(&key_hash(ALL)),
            one = to_hex(&key_hash(ONE)),
        );
        let config = GatewayConfig::from_figment(&defaults().merge(Toml::string(&text)))?;
        AppState::build(&config)
    }

    fn client(state: &AppState, key: &str) -> Arc<Client> {
        let mut headers = HeaderMap::new();
        let value = HeaderValue::from_str(&format!("Bearer {key}")).expect("ascii key");
        headers.insert(AUTHORIZATION, value);
        state
            .clients
            .authenticate(&headers)
            .expect("a configured key")
    }

    #[test]
    fn a_star_grants_every_configured_account_and_nothing_else() {
        let state = state(r#"["*"]"#).expect("valid config");
        let all = client(&state, ALL);
        assert!(state.account_for(&all, "meteroid", "a").is_ok());
        assert!(state.account_for(&all, "flowglad", "b").is_ok());
        assert!(state.account_for(&all, "meteroid", "nope").is_err());
        // A client without it still cannot read an account it does not list.
        let one = client(&state, ONE);
        assert!(state.account_for(&one, "meteroid", "a").is_ok());
        assert!(state.account_for(&one, "flowglad", "b").is_err());
    }

    #[test]
    fn the_store_url_is_redacted() {
        let text = format!(
            "store.url = \"postgres://gw:hunter2@db.internal:5432/gw?password=hunter3&sslmode=require\"\n[clients.all]\nkey_sha256 = [\"{}\"]\n",
            to_hex(&key_hash(ALL))
        );
        let config = GatewayConfig::from_figment(&defaults().merge(Toml::string(&text)))
            .expect("valid config");
        let state = AppState::build(&config).expect("builds without connecting");
        let shown = state.redacted(&config);
        assert_eq!(
            shown["store"]["url"],
            "postgres://***@db.internal:5432/gw?***"
        );
        assert!(!shown.to_string().contains("hunter"), "{shown}");
    }

    #[test]
    fn the_redis_url_is_redacted_everywhere() {
        let text = format!(
            "[cache]\nredis_url = \"redis://gw:hunter2@cache.internal:6379/2\"\n[clients.all]\nkey_sha256 = [\"{}\"]\n",
            to_hex(&key_hash(ALL))
        );
        let config = GatewayConfig::from_figment(&defaults().merge(Toml::string(&text)))
            .expect("valid config");
        assert!(!format!("{config:?}").contains("hunter"));
        let state = AppState::build(&config).expect("builds without connecting");
        let shown = state.redacted(&config);
        assert_eq!(
            shown["cache"]["redis_url"],
            "redis://***@cache.internal:6379/2"
        );
        assert!(!shown.to_string().contains("hunter"), "{shown}");
        let bad = format!(
            "[cache]\nredis_url = \"http://gw:hunter2@cache.internal\"\n[clients.all]\nkey_sha256 = [\"{}\"]\n",
            to_hex(&key_hash(ALL))
        );
        let config =
            GatewayConfig::from_figment(&defaults().merge(Toml::string(&bad))).expect("parses");
        let err = AppState::build(&config)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("cache.redis_url") && !err.contains("hunter"),
            "{err}"
        );
        let tls = format!(
            "[cache]\nredis_url = \"rediss://cache.internal:6380\"\n[clients.all]\nkey_sha256 = [\"{}\"]\n",
            to_hex(&key_hash(ALL))
        );
        let config =
            GatewayConfig::from_figment(&defaults().merge(Toml::string(&tls))).expect("parses");
        assert!(AppState::build(&config).is_ok(), "TLS is built in");
    }

    #[test]
    fn only_a_lone_star_is_a_wildcard() {
        for bad in [r#"["**"]"#, r#"["*:*"]"#, r#"["* "]"#, r#"["*:a"]"#] {
            let err = state(bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("clients.all.accounts[0]"), "{bad}: {err}");
        }
    }
}
