//! Live configuration: the state every request reads is swapped atomically
//! on reload (SIGHUP or `POST /admin/reload`). A request in flight keeps the
//! state it started with, so rotating credentials drops nothing; a config
//! that fails to load or validate is refused and the old one keeps serving.

use std::sync::Arc;

use arc_swap::ArcSwap;
use axum::extract::FromRequestParts;

use figment::Figment;
use http::request::Parts;

use crate::config::GatewayConfig;
use crate::state::AppState;

/// Re-reads the config sources (file and environment) on each call.
pub type ConfigSource = Arc<dyn Fn() -> Result<Figment, String> + Send + Sync>;

pub struct Gateway {
    current: ArcSwap<AppState>,
    source: Option<ConfigSource>,
    reloading: tokio::sync::Mutex<()>,
}

impl Gateway {
    /// `source` is where a reload reads from; `None` refuses reloads.
    pub fn new(state: AppState, source: Option<ConfigSource>) -> Arc<Gateway> {
        Arc::new(Gateway {
            current: ArcSwap::from_pointee(state),
            source,
            reloading: tokio::sync::Mutex::new(()),
        })
    }

    /// The state a request should use from start to end.
    pub fn current(&self) -> Arc<AppState> {
        self.current.load_full()
    }

    /// Load, validate and swap in a new configuration; the old one stays
    /// on any error. Returns the number of accounts now configured.
    pub async fn reload(&self) -> Result<usize, String> {
        let _one_at_a_time = self.reloading.lock().await;
        let source = self
            .source
            .as_ref()
            .ok_or("this gateway has no config file to reload from")?;
        let config = GatewayConfig::from_figment(&source()?).map_err(|e| e.to_string())?;
        let old = self.current();
        let new = AppState::build_reusing(&config, Some(&old)).map_err(|e| e.to_string())?;
        let accounts = new.accounts.len();
        self.current.store(Arc::new(new));
        tracing::info!(accounts, "configuration reloaded");
        Ok(accounts)
    }
}

/// Extractor: the current state, loaded once per request.
pub struct Current(pub Arc<AppState>);

impl FromRequestParts<Arc<Gateway>> for Current {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        _: &mut Parts,
        gateway: &Arc<Gateway>,
    ) -> Result<Self, Self::Rejection> {
        Ok(Current(gateway.current()))
    }
}

/// Reload on every SIGHUP, for as long as the process runs.
pub fn reload_on_sighup(gateway: Arc<Gateway>) {
    #[cfg(unix)]
    tokio::spawn(async move {
        let Ok(mut hups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            tracing::warn!("cannot listen for SIGHUP; reload with POST /admin/reload");
            return;
        };
        while hups.recv().await.is_some() {
            if let Err(why) = gateway.reload().await {
                tracing::warn!(error = %why, "SIGHUP reload refused; the old configuration keeps serving");
            }
        }
    });
}
