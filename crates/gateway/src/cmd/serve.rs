//! Serving: load and build the configuration, listen, reload on SIGHUP,
//! stop on SIGTERM. Shared by `serve` and `demo`.

use std::path::Path;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::config::{self, GatewayConfig};
use crate::server;
use crate::state::live::{reload_on_sighup, ConfigSource, Gateway};
use crate::state::AppState;
use crate::telemetry::{init_logging, LogFormat};

/// What went wrong, for the process exit message.
pub type CliResult = Result<(), String>;

/// Load, validate and build everything a server needs.
pub fn load(figment: &figment::Figment) -> Result<(GatewayConfig, AppState), String> {
    let config =
        GatewayConfig::from_figment(figment).map_err(|e| format!("invalid configuration: {e}"))?;
    let state = AppState::build(&config).map_err(|e| format!("invalid configuration: {e}"))?;
    Ok((config, state))
}

/// What a server keeps, made ready before it listens: the list cursor key
/// (read or generated in the data directory) and the store (opened, its
/// migrations run). A directory the gateway cannot write, or a database it
/// cannot reach, fails at start, not at the first list or create. Redis
/// (`cache.redis_url`) only starts connecting: the gateway serves without
/// it. `config check` skips all of it.
pub async fn prepare(state: &AppState) -> CliResult {
    state.cache.start();
    state
        .list
        .key()
        .map_err(|e| format!("invalid configuration: {e}"))?;
    state
        .idempotency
        .open()
        .await
        .map(|_| ())
        .map_err(|e| format!("cannot open the store (`store.url`): {e}"))
}

pub async fn serve(path: Option<&Path>, format: LogFormat) -> CliResult {
    let (config, state) = load(&config::figment(path))?;
    prepare(&state).await?;
    init_logging(format, &config.log)?;
    let listener = TcpListener::bind(config.server.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.server.listen))?;
    tracing::info!(listen = %config.server.listen, accounts = state.accounts.len(), "checkout-gateway serving");
    let path = path.map(Path::to_path_buf);
    let source: ConfigSource = Arc::new(move || Ok(config::figment(path.as_deref())));
    let polling = state.feed.config().enabled;
    let gateway = Gateway::new(state, Some(source));
    reload_on_sighup(gateway.clone());
    if polling {
        crate::service::poll::start(gateway.clone());
    }
    crate::service::webhooks::start(gateway.clone());
    server::serve(listener, gateway, shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

pub async fn run_sandbox(listen: &str, fill: Option<usize>) -> CliResult {
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener
        .local_addr()
        .map_or_else(|_| listen.to_owned(), |a| a.to_string());
    let mut config = sandbox::SandboxConfig::default();
    // Checkout URLs must point where the sandbox really listens.
    config.meteroid.public_url = format!("http://{addr}/meteroid");
    let sandbox = sandbox::Sandbox::new(config);
    if let Some(count) = fill {
        let made = sandbox
            .fill(count, 30)
            .map_err(|e| format!("--fill: {e}"))?;
        eprintln!("sandbox filled with {made} sessions ({count} per vendor)");
    }
    eprintln!("sandbox serving on http://{addr} (Meteroid under /meteroid, control routes under /_sandbox)");
    sandbox::serve(listener, sandbox)
        .await
        .map_err(|e| e.to_string())
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
