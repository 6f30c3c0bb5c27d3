//! `checkout-gateway demo`: the vendor sandbox and a gateway in front of it,
//! both on loopback, with curl lines that work as printed. The change feed
//! is wired end to end: the gateway delivers its events to a receiver in
//! this process (webhook endpoint `demo`, which prints each one it
//! verifies), and the sandbox's Flowglad sends its own signed webhooks to
//! the gateway's vendor-webhook route.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
use tokio::net::TcpListener;

use crate::auth::{key_hash, to_hex};
use crate::cmd::demo_receiver::{self, Receiver};
use crate::cmd::serve::{load, prepare, shutdown_signal, CliResult};
use crate::cmd::{demo_routing, demo_stripe};
use crate::config::{self, GatewayConfig};
use crate::examples::{tours, Tour};
use crate::server;
use crate::state::live::{reload_on_sighup, ConfigSource, Gateway};
use crate::telemetry::{init_logging, LogFormat};

/// The demo config shipped with the binary, used when `config/demo.toml`
/// is not in the working directory.
pub const DEMO_TOML: &str = include_str!("../../../../config/demo.toml");
/// The client the demo prints the key of.
const DEMO_CLIENT: &str = "demo";
/// The demo client's key (config/demo.toml holds its SHA-256). Not a secret:
/// it opens a sandbox on loopback.
pub const DEMO_CLIENT_KEY: &str = "demo-client-key-0000000000000001";
/// Narrower demo clients, `(label, client, key)`: printed when the config
/// holds their hash, so each scope can be tried (and contract-fuzzed) alone.
const SCOPED_CLIENTS: [(&str, &str, &str); 2] = [
    (
        "read-only",
        "demo_reader",
        "demo-reader-key-0000000000000001",
    ),
    (
        "write-only",
        "demo_writer",
        "demo-writer-key-0000000000000001",
    ),
];

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

/// The account whose vendor webhooks the demo wires (sandbox → gateway).
const FLOWGLAD_ACCOUNT: (&str, &str) = ("flowglad", "default");

/// The change feed's wiring: where the gateway delivers events, and the
/// secret the sandbox's Flowglad signs its own webhooks with (both new
/// for each demo).
struct FeedWiring {
    receiver_url: String,
    receiver_secret: String,
    flowglad_secret: String,
}

/// The demo's config sources, every account pointed at the sandbox
/// (whatever port it got), the change feed wired. Read afresh on each
/// call, so a reload sees edits.
fn demo_sources(
    config_file: &Path,
    listen: Option<SocketAddr>,
    sandbox: SocketAddr,
    data_dir: &Path,
    feed: &FeedWiring,
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
    for (key, value) in [
        ("webhooks.endpoints.demo.url", &feed.receiver_url),
        ("webhooks.endpoints.demo.secret", &feed.receiver_secret),
    ] {
        figment = figment.merge(Serialized::default(key, value));
    }
    let (provider, account) = FLOWGLAD_ACCOUNT;
    if base
        .providers
        .get(provider)
        .is_some_and(|p| p.accounts.contains_key(account))
    {
        figment = figment.merge(Serialized::default(
            &format!("vendor_webhooks.{provider}.{account}.secret"),
            &feed.flowglad_secret,
        ));
    }
    // The demo keeps nothing: its data, the store included, lives in a
    // temporary directory.
    figment = figment.merge(Serialized::default("data_dir", data_dir));
    figment = figment.merge(Serialized::default(
        "store.url",
        store::sqlite_url(&data_dir.join(config::DEFAULT_STORE_FILE)),
    ));
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

    // Removed when the demo stops.
    let data_dir = tempfile::Builder::new()
        .prefix("checkout-gateway-demo-")
        .tempdir()
        .map_err(|e| format!("cannot create the demo's data directory: {e}"))?;
    let (config_file, listen) = (args.config.clone(), args.listen);
    let data_path = data_dir.path().to_path_buf();
    let receiver = demo_receiver::start().await?;
    let feed = FeedWiring {
        receiver_url: receiver.url.clone(),
        receiver_secret: receiver.secret.clone(),
        flowglad_secret: demo_receiver::generated_secret(),
    };
    let flowglad_secret = feed.flowglad_secret.clone();
    let sources = move || demo_sources(&config_file, listen, sandbox_addr, &data_path, &feed);
    let figment = sources()?;
    let (config, state) = load(&figment)?;
    prepare(&state).await?;
    init_logging(format, &config.log)?;
    // The config holds only the key's hash; the demo knows the key itself.
    let holds = |client: &str, key: &str| {
        config.clients.get(client).is_some_and(|c| {
            c.key_sha256
                .iter()
                .any(|h| h.trim() == to_hex(&key_hash(key)))
        })
    };
    if !holds(DEMO_CLIENT, DEMO_CLIENT_KEY) {
        return Err(format!(
            "the demo config's `clients.{DEMO_CLIENT}.key_sha256` must hold the hash of the demo key {DEMO_CLIENT_KEY}"
        ));
    }
    let client_key = DEMO_CLIENT_KEY.to_owned();
    // A config edited to drop them (or rotate their keys) just prints fewer keys.
    let scoped: Vec<(&str, &str)> = SCOPED_CLIENTS
        .iter()
        .filter(|(_, client, key)| holds(client, key))
        .map(|&(label, _, key)| (label, key))
        .collect();

    let gateway_listener = TcpListener::bind(config.server.listen).await.map_err(|e| {
        format!(
            "cannot listen on {} for the gateway: {e}",
            config.server.listen
        )
    })?;
    let gateway_addr = gateway_listener.local_addr().map_err(|e| e.to_string())?;

    let mut sandbox_config = sandbox::SandboxConfig::default();
    sandbox_config.meteroid.public_url = format!("http://{sandbox_addr}/meteroid");
    let (provider, account) = FLOWGLAD_ACCOUNT;
    if state
        .accounts
        .contains_key(&(provider.to_owned(), account.to_owned()))
    {
        // Flowglad (through Svix) calls the gateway back, as it would in production.
        sandbox_config.flowglad.webhook = Some(sandbox::flowglad::webhooks::WebhookTarget {
            url: format!("http://{gateway_addr}/v1/vendor-webhooks/{provider}/{account}"),
            secret: flowglad_secret,
        });
    }
    let sandbox = sandbox::Sandbox::new(sandbox_config);
    tokio::spawn(sandbox::serve(sandbox_listener, sandbox));
    let source: ConfigSource = Arc::new(sources);
    // Which demo accounts can cancel, by their own capabilities (a Zenskar
    // `/checkouts` account cannot, though its provider can).
    let can_cancel: Vec<(String, String)> = state
        .accounts
        .iter()
        .filter(|(_, account)| account.capabilities().cancel)
        .map(|(key, _)| key.clone())
        .collect();
    let polling = state.feed.config().enabled;
    let gateway = Gateway::new(state, Some(source));
    reload_on_sighup(gateway.clone());
    if polling {
        crate::service::poll::start(gateway.clone());
    }
    crate::service::webhooks::start(gateway.clone());
    let gateway = tokio::spawn(server::serve(gateway_listener, gateway, shutdown_signal()));

    let gateway_url = format!("http://{gateway_addr}");
    let tours = tours();
    let ids = create_demo_sessions(&gateway_url, &client_key, &tours).await?;
    let extras = prepare_extras(&gateway_url, &client_key, &tours, &can_cancel).await?;
    let routed = demo_routing::run(&reqwest::Client::new(), &gateway_url, &client_key).await?;
    print_walkthrough(
        &gateway_url,
        &format!("http://{sandbox_addr}"),
        &client_key,
        &scoped,
        &tours,
        &ids,
        &extras,
        routed.as_ref(),
        &receiver,
    );

    gateway
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

/// The filtered list the demo pages through: open sessions of the first
/// two demo accounts, two at a time.
fn demo_list_query(tours: &[Tour]) -> String {
    let accounts: Vec<String> = tours
        .iter()
        .take(2)
        .map(|t| format!("{}:{}", t.provider, t.account))
        .collect();
    format!("status=open&accounts={}&limit=2", accounts.join(","))
}

/// What the list, cancel and change-feed lines need: a real cursor to
/// print, a session of its own to cancel, sessions of their own to
/// complete (the tours' sessions are moved on), and whether this gateway
/// serves the events.
struct Extras {
    next_cursor: Option<String>,
    cancel: Option<(&'static str, String)>,
    complete: Vec<(Tour, String)>,
    events: bool,
}

/// The tours whose sessions the change-feed lines complete: the first
/// (found by polling) and Flowglad's (whose own webhook tells the gateway).
fn feed_tours(tours: &[Tour]) -> Vec<Tour> {
    let (provider, account) = FLOWGLAD_ACCOUNT;
    let mut picked: Vec<Tour> = tours.iter().take(1).cloned().collect();
    if let Some(flowglad) = tours
        .iter()
        .find(|t| t.provider == provider && t.account == account)
    {
        if !picked.contains(flowglad) {
            picked.push(flowglad.clone());
        }
    }
    picked
}

async fn prepare_extras(
    gateway_url: &str,
    client_key: &str,
    tours: &[Tour],
    can_cancel: &[(String, String)],
) -> Result<Extras, String> {
    let http = reqwest::Client::new();
    let cancellable = tours.iter().find(|t| {
        can_cancel
            .iter()
            .any(|(p, a)| p == t.provider && a == t.account)
    });
    let cancel = match cancellable {
        Some(tour) => Some((
            tour.title,
            create_one(&http, gateway_url, client_key, tour).await?,
        )),
        None => None,
    };
    let bytes = http
        .get(format!(
            "{gateway_url}/v1/checkout-sessions?{}",
            demo_list_query(tours)
        ))
        .bearer_auth(client_key)
        .send()
        .await
        .map_err(|e| format!("demo: the gateway did not answer: {e}"))?
        .bytes()
        .await
        .map_err(|e| format!("demo: unreadable list answer: {e}"))?;
    let answer: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("demo: the list answer is not JSON: {e}"))?;
    let mut complete = Vec::new();
    for tour in feed_tours(tours) {
        let id = create_one(&http, gateway_url, client_key, &tour).await?;
        complete.push((tour, id));
    }
    // The event routes, where this gateway has them.
    let events = http
        .get(format!("{gateway_url}/v1/events?limit=1"))
        .bearer_auth(client_key)
        .send()
        .await
        .is_ok_and(|r| r.status().is_success());
    Ok(Extras {
        next_cursor: answer["next_cursor"].as_str().map(str::to_owned),
        cancel,
        complete,
        events,
    })
}

/// Create one session per tour through the gateway, so the printed reads
/// work at once.
async fn create_demo_sessions(
    gateway_url: &str,
    client_key: &str,
    tours: &[Tour],
) -> Result<Vec<String>, String> {
    let http = reqwest::Client::new();
    let mut ids = Vec::new();
    for tour in tours {
        ids.push(create_one(&http, gateway_url, client_key, tour).await?);
    }
    Ok(ids)
}

/// Create the tour's session; its id.
async fn create_one(
    http: &reqwest::Client,
    gateway_url: &str,
    client_key: &str,
    tour: &Tour,
) -> Result<String, String> {
    let response = http
        .post(format!("{gateway_url}/v1/checkout-sessions"))
        .bearer_auth(client_key)
        .header("content-type", "application/json")
        .body(tour.create.to_string())
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
            "demo: creating a {} session failed ({status}): {body}",
            tour.title
        )),
    }
}

#[allow(clippy::too_many_arguments)]
fn print_walkthrough(
    gateway: &str,
    sandbox: &str,
    key: &str,
    scoped: &[(&str, &str)],
    tours: &[Tour],
    ids: &[String],
    extras: &Extras,
    routed: Option<&demo_routing::RoutingDemo>,
    receiver: &Receiver,
) {
    let auth = format!("-H 'Authorization: Bearer {key}'");
    let json = "-H 'Content-Type: application/json'";
    println!("checkout-gateway demo");
    println!("  gateway  {gateway}   client key: {key}");
    println!("  sandbox  {sandbox}   (each vendor under /<vendor>, controls under /_sandbox)");
    for (label, scoped_key) in scoped {
        println!("  {label} key: {scoped_key}");
    }
    println!(
        "  receiver {}   (webhook endpoint `demo`, secret {}: prints each event it verifies)",
        receiver.url, receiver.secret
    );
    println!("  one session per vendor account was created for you");
    println!();
    println!("# what this key may use");
    println!("$ curl -sS --fail-with-body {gateway}/v1/providers {auth}");
    println!();
    println!("## a dashboard across vendors");
    println!("# every session this key can see, newest first, all vendors at once (`sources` says how each vendor fared)");
    println!("$ curl -sS --fail-with-body '{gateway}/v1/checkout-sessions?limit=10' {auth}");
    if let Some(cursor) = &extras.next_cursor {
        let query = demo_list_query(tours);
        println!("# filtered, two at a time; the next page passes `next_cursor` back as `cursor`, with the same filters");
        println!("$ curl -sS --fail-with-body '{gateway}/v1/checkout-sessions?{query}' {auth}");
        println!("$ curl -sS --fail-with-body '{gateway}/v1/checkout-sessions?{query}&cursor={cursor}' {auth}");
    }
    for (tour, id) in tours.iter().zip(ids) {
        let vendor_id = id.rsplit(':').next().unwrap_or(id);
        println!();
        println!(
            "## {} — account {}:{}",
            tour.title, tour.provider, tour.account
        );
        println!("# create a checkout session");
        println!("$ curl -sS --fail-with-body -X POST {gateway}/v1/checkout-sessions {auth} {json} -d '{}'", tour.create);
        println!("# read one (X-Cache tells hit or miss)");
        println!("$ curl -sS --fail-with-body -i {gateway}/v1/checkout-sessions/{id} {auth}");
        println!("# {}: move the sandbox session on", tour.control_says);
        println!(
            "$ curl -sS --fail-with-body -X POST {sandbox}/_sandbox/{}/sessions/{vendor_id} {json} -d '{}'",
            tour.provider, tour.control
        );
        println!("# read past the cache, with the vendor's own payload");
        println!("$ curl -sS --fail-with-body '{gateway}/v1/checkout-sessions/{id}?include=raw' {auth} -H 'Cache-Control: no-cache'");
    }
    if let Some((title, id)) = &extras.cancel {
        println!();
        println!("## cancel");
        println!("# an open {title} session, canceled (vendors that cannot cancel answer 422 before any call)");
        println!(
            "$ curl -sS --fail-with-body -X POST {gateway}/v1/checkout-sessions/{id}/cancel {auth}"
        );
    }
    print_feed(gateway, sandbox, &auth, extras);
    if let Some(routed) = routed {
        demo_routing::print(gateway, &auth, routed);
    }
    demo_stripe::print(gateway, key);
    println!();
    println!("# the gateway's OpenAPI document, and its metrics (the demo key is an admin key)");
    println!("$ curl -sS --fail-with-body {gateway}/openapi.json");
    println!("$ curl -sS --fail-with-body {gateway}/metrics {auth}");
    println!();
    println!("Ctrl-C stops both.");
}

/// The change feed: complete sessions at the sandbox, and an event follows
/// (the receiver above prints it); then the events themselves.
fn print_feed(gateway: &str, sandbox: &str, auth: &str, extras: &Extras) {
    let json = "-H 'Content-Type: application/json'";
    println!();
    println!("## change feed");
    println!("# the gateway tracks every session it creates, reads or lists, polls the open ones, and records each change as an event");
    for (tour, id) in &extras.complete {
        let vendor_id = id.rsplit(':').next().unwrap_or(id);
        if (tour.provider, tour.account) == FLOWGLAD_ACCOUNT {
            println!("# {}: Flowglad's own signed webhook (purchase.completed) tells the gateway, which reads {id} again at once", tour.control_says);
        } else {
            println!(
                "# {}: the poller sees {id} change within seconds, and an event follows",
                tour.control_says
            );
        }
        println!(
            "$ curl -sS --fail-with-body -X POST {sandbox}/_sandbox/{}/sessions/{vendor_id} {json} -d '{}'",
            tour.provider, tour.control
        );
    }
    if extras.events {
        println!(
            "# the events, oldest first (pass `next_cursor` back as `after` for the next ones)"
        );
        println!("$ curl -sS --fail-with-body '{gateway}/v1/events?limit=10' {auth}");
        println!("# the same as a stream (Server-Sent Events), in another terminal:");
        println!("#   curl -sS -N {gateway}/v1/events/stream {auth}");
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The walks come from the sandbox, the accounts from `demo.toml`: each
    /// walk needs its account, and each demo account gets a walk.
    #[test]
    fn every_demo_account_has_a_walk_and_every_walk_an_account() {
        let figment = config::defaults().merge(Toml::string(DEMO_TOML));
        let config = GatewayConfig::from_figment(&figment).expect("the demo config loads");
        let configured: BTreeSet<(String, String)> = config
            .providers
            .iter()
            .flat_map(|(p, c)| c.accounts.keys().map(move |a| (p.clone(), a.clone())))
            .collect();
        let walked: BTreeSet<(String, String)> = tours()
            .iter()
            .map(|t| (t.provider.to_owned(), t.account.to_owned()))
            .collect();
        assert_eq!(configured, walked);
    }
}
