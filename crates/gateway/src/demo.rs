//! `checkout-gateway demo`: the vendor sandbox and a gateway in front of it,
//! both on loopback, with curl lines that work as printed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
use tokio::net::TcpListener;

use crate::cli::{load, shutdown_signal, CliResult};
use crate::config::{self, GatewayConfig};
use crate::observe::{init_logging, LogFormat};
use crate::reload::{reload_on_sighup, ConfigSource, Gateway};
use crate::server;

/// The demo config shipped with the binary, used when `config/demo.toml`
/// is not in the working directory.
pub const DEMO_TOML: &str = include_str!("../../../config/demo.toml");
/// The client the demo prints the key of.
const DEMO_CLIENT: &str = "demo";

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Demo config (falls back to the copy built into the binary).
    #[arg(long, default_value = "config/demo.toml")]
    pub config: PathBuf,
    /// Gateway address (default: `server.listen` of the config).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Sandbox address; every configured account is pointed at it.
    #[arg(long, default_value = "127.0.0.1:9100")]
    pub sandbox_listen: SocketAddr,
}

/// The demo's config sources, every account pointed at the sandbox
/// (whatever port it got). Read afresh on each call, so a reload sees edits.
fn demo_sources(
    config_file: &Path,
    listen: Option<SocketAddr>,
    sandbox: SocketAddr,
) -> Result<Figment, String> {
    let file = if config_file.exists() {
        Toml::file_exact(config_file)
    } else {
        Toml::string(DEMO_TOML)
    };
    let mut figment = config::defaults().merge(file).merge(config::environment());
    let base =
        GatewayConfig::from_figment(&figment).map_err(|e| format!("invalid demo config: {e}"))?;
    for (provider, p) in &base.providers {
        for account in p.accounts.keys() {
            let key = format!("providers.{provider}.accounts.{account}.base_url");
            figment = figment.merge(Serialized::default(
                &key,
                format!("http://{sandbox}/{provider}"),
            ));
        }
    }
    if let Some(listen) = listen {
        figment = figment.merge(Serialized::default("server.listen", listen.to_string()));
    }
    Ok(figment)
}

pub async fn run(args: DemoArgs, format: LogFormat) -> CliResult {
    let sandbox_listener = TcpListener::bind(args.sandbox_listen).await.map_err(|e| {
        format!(
            "cannot listen on {} for the sandbox: {e}",
            args.sandbox_listen
        )
    })?;
    let sandbox_addr = sandbox_listener.local_addr().map_err(|e| e.to_string())?;

    let (config_file, listen) = (args.config.clone(), args.listen);
    let sources = move || demo_sources(&config_file, listen, sandbox_addr);
    let figment = sources()?;
    let (config, state) = load(&figment)?;
    init_logging(format, &config.log)?;
    let client_key = config
        .clients
        .get(DEMO_CLIENT)
        .and_then(|c| c.key.as_ref())
        .map(|k| k.expose().to_owned())
        .ok_or_else(|| format!("the demo config needs a `clients.{DEMO_CLIENT}.key`"))?;

    let gateway_listener = TcpListener::bind(config.server.listen).await.map_err(|e| {
        format!(
            "cannot listen on {} for the gateway: {e}",
            config.server.listen
        )
    })?;
    let gateway_addr = gateway_listener.local_addr().map_err(|e| e.to_string())?;

    let mut sandbox_config = sandbox::SandboxConfig::default();
    sandbox_config.meteroid.public_url = format!("http://{sandbox_addr}/meteroid");
    let sandbox = sandbox::Sandbox::new(sandbox_config);
    tokio::spawn(sandbox::serve(sandbox_listener, sandbox));
    let source: ConfigSource = Arc::new(sources);
    let gateway = Gateway::new(state, Some(source));
    reload_on_sighup(gateway.clone());
    let gateway = tokio::spawn(server::serve(gateway_listener, gateway, shutdown_signal()));

    let gateway_url = format!("http://{gateway_addr}");
    let session_id = create_demo_session(&gateway_url, &client_key).await?;
    print_walkthrough(
        &gateway_url,
        &format!("http://{sandbox_addr}"),
        &client_key,
        &session_id,
    );

    gateway
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

fn create_body() -> String {
    serde_json::json!({
        "provider": "meteroid",
        "account": "default",
        "customer": sandbox::seed::METEROID_CUSTOMER_ALIAS,
        "plan": sandbox::seed::METEROID_PLAN_VERSION_ID,
    })
    .to_string()
}

/// Create one session through the gateway so the printed GET works at once.
async fn create_demo_session(gateway_url: &str, client_key: &str) -> Result<String, String> {
    let response = reqwest::Client::new()
        .post(format!("{gateway_url}/v1/checkout-sessions"))
        .bearer_auth(client_key)
        .header("content-type", "application/json")
        .body(create_body())
        .send()
        .await
        .map_err(|e| format!("demo: the gateway did not answer: {e}"))?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| format!("demo: unreadable answer: {e}"))?;
    let body: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("demo: the gateway answered something that is not JSON: {e}"))?;
    match body["id"].as_str() {
        Some(id) if status.is_success() => Ok(id.to_owned()),
        _ => Err(format!(
            "demo: creating a session failed ({status}): {body}"
        )),
    }
}

fn print_walkthrough(gateway: &str, sandbox: &str, key: &str, id: &str) {
    let reference = id.rsplit(':').next().unwrap_or(id);
    let auth = format!("-H 'Authorization: Bearer {key}'");
    println!("checkout-gateway demo");
    println!("  gateway  {gateway}   client key: {key}");
    println!("  sandbox  {sandbox}   (Meteroid at {sandbox}/meteroid)");
    println!("  a session was created for you: {id}");
    println!();
    println!("# what this key may use");
    println!("$ curl -sS --fail-with-body {gateway}/v1/providers {auth}");
    println!("# create a checkout session");
    println!(
        "$ curl -sS --fail-with-body -X POST {gateway}/v1/checkout-sessions {auth} -H 'Content-Type: application/json' -d '{}'",
        create_body()
    );
    println!("# read it (X-Cache tells hit or miss)");
    println!("$ curl -sS --fail-with-body -i {gateway}/v1/checkout-sessions/{id} {auth}");
    println!("# the customer pays: move the sandbox session to COMPLETED");
    println!(
        "$ curl -sS --fail-with-body -X POST {sandbox}/_sandbox/meteroid/sessions/{reference} -H 'Content-Type: application/json' -d '{{\"status\":\"COMPLETED\"}}'"
    );
    println!("# read past the cache, with the vendor's own payload");
    println!(
        "$ curl -sS --fail-with-body '{gateway}/v1/checkout-sessions/{id}?include=raw' {auth} -H 'Cache-Control: no-cache'"
    );
    println!("# the gateway's OpenAPI document");
    println!("$ curl -sS --fail-with-body {gateway}/openapi.json");
    println!();
    println!("Ctrl-C stops both.");
}
