//! Shared helpers for the end-to-end tests: a real sandbox and a real
//! gateway, each on its own loopback socket.

use std::sync::{Arc, Mutex};

use checkout_gateway::cmd::serve::{load, prepare};
use checkout_gateway::state::live::{ConfigSource, Gateway};
use figment::providers::{Format, Toml};
use figment::Figment;
use tokio::net::TcpListener;

/// The client key with access to `meteroid:default` and `meteroid:badkey`.
pub const CLIENT_KEY: &str = "test-client-key-00000000000000001";
/// A client key with access to `meteroid:other` only.
pub const OTHER_CLIENT_KEY: &str = "test-client-key-00000000000000002";

pub struct Stack {
    pub gateway: String,
    pub sandbox: String,
    pub sandbox_state: sandbox::Sandbox,
    pub http: reqwest::Client,
    /// The gateway's `data_dir` (the list cursor key, the SQLite store),
    /// shared with its replicas and removed with the last of them.
    pub data_dir: Arc<tempfile::TempDir>,
    /// The store's PostgreSQL schema, when CHECKOUT_GATEWAY_TEST_POSTGRES
    /// is set; shared with the replicas, dropped with the last of them.
    postgres: Option<Arc<store::testing::PostgresSchema>>,
    /// The gateway's live state, once started.
    live: Option<Arc<Gateway>>,
    /// The change-feed poller (`feed.enabled`), stopped with the stack.
    pub poller: Option<tokio::task::JoinHandle<()>>,
    /// Whether the gateway starts its poller (tests that step through
    /// rounds themselves say no).
    start_poller: bool,
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop_poller();
        let Some(schema) = self.postgres.take().and_then(Arc::into_inner) else {
            return;
        };
        // Drop is not async, and this thread runs the test's runtime: drop
        // the schema from a thread and runtime of its own.
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map(|rt| rt.block_on(schema.drop()))
        })
        .join();
        if !matches!(dropped, Ok(Ok(Ok(())))) {
            eprintln!("the test schema was not dropped (a later test drops it after an hour)");
        }
    }
}

/// Start a sandbox and a gateway configured with three Meteroid accounts
/// (`default`, `other` with valid keys; `badkey` with a key the sandbox
/// refuses). `extra` is appended to the gateway's TOML config.
pub async fn start(extra: &str) -> Stack {
    start_with(&meteroid_config(extra)).await
}

/// The config [`start`] uses: three Meteroid accounts and two clients,
/// then `extra`.
pub fn meteroid_config(extra: &str) -> String {
    let key = sandbox::DEMO_METEROID_API_KEY;
    format!(
        r#"
        [providers.meteroid.accounts.default]
        base_url = "{{sandbox}}/meteroid"
        api_key = "{key}"
        [providers.meteroid.accounts.other]
        base_url = "{{sandbox}}/meteroid"
        api_key = "{key}"
        [providers.meteroid.accounts.badkey]
        base_url = "{{sandbox}}/meteroid"
        api_key = "pv_sand_wrongwrongwrongwrongwrongwrong/abc"
        [clients.main]
        key = "{CLIENT_KEY}"
        accounts = ["meteroid:default", "meteroid:badkey"]
        [clients.other]
        key = "{OTHER_CLIENT_KEY}"
        accounts = ["meteroid:other"]
        {extra}
        "#
    )
}

/// One Flowglad account (`default`) that the main client may use, then
/// `extra`.
pub fn flowglad_config(extra: &str) -> String {
    let key = sandbox::flowglad::seed::API_KEY;
    format!(
        r#"
        [providers.flowglad.accounts.default]
        base_url = "{{sandbox}}/flowglad"
        api_key = "{key}"
        [clients.main]
        key = "{CLIENT_KEY}"
        accounts = ["flowglad:default"]
        {extra}
        "#
    )
}

/// Meteroid's and Flowglad's sandbox accounts (`default` each), the main
/// client on every account with budgets no test reaches, then `extra`.
pub fn meteroid_and_flowglad_config(extra: &str) -> String {
    let meteroid = sandbox::DEMO_METEROID_API_KEY;
    let flowglad = sandbox::flowglad::seed::API_KEY;
    format!(
        r#"
        [providers.meteroid.accounts.default]
        base_url = "{{sandbox}}/meteroid"
        api_key = "{meteroid}"
        [providers.flowglad.accounts.default]
        base_url = "{{sandbox}}/flowglad"
        api_key = "{flowglad}"
        [clients.main]
        key = "{CLIENT_KEY}"
        accounts = ["*"]
        requests_per_sec = 100000
        vendor_calls_per_sec = 100000
        {extra}
        "#
    )
}

/// Start a sandbox and a gateway with this TOML config, in which every
/// `{sandbox}` is replaced by the sandbox's base URL (`http://127.0.0.1:PORT`).
pub async fn start_with(config_toml: &str) -> Stack {
    start_inner(config_toml, None).await
}

/// Like [`start_with`], but the config is written to `file`, and reloads
/// (`POST /admin/reload`, SIGHUP) re-read that file.
pub async fn start_from_file(config_toml: &str, file: std::path::PathBuf) -> Stack {
    start_inner(config_toml, Some(file)).await
}

async fn start_inner(config_toml: &str, file: Option<std::path::PathBuf>) -> Stack {
    let postgres = store::testing::schema_or_skip().await;
    start_on_store(config_toml, file, postgres, true).await
}

/// Which store a test's gateway uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    /// Only when CHECKOUT_GATEWAY_TEST_POSTGRES is set.
    Postgres,
}

/// Like [`start_with`], on `backend` (`None`, after the skip line, for
/// PostgreSQL when CHECKOUT_GATEWAY_TEST_POSTGRES is unset), its poller
/// started only when `poller` (and `feed.enabled`).
pub async fn start_on(backend: Backend, config_toml: &str, poller: bool) -> Option<Stack> {
    let postgres = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(store::testing::schema_or_skip().await?),
    };
    Some(start_on_store(config_toml, None, postgres, poller).await)
}

async fn start_on_store(
    config_toml: &str,
    file: Option<std::path::PathBuf>,
    postgres: Option<store::testing::PostgresSchema>,
    start_poller: bool,
) -> Stack {
    let sandbox_listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind sandbox");
    let sandbox_addr = sandbox_listener.local_addr().expect("sandbox addr");
    let sandbox_url = format!("http://{sandbox_addr}");
    let mut sandbox_config = sandbox::SandboxConfig::default();
    sandbox_config.meteroid.public_url = format!("{sandbox_url}/meteroid");
    let sandbox_state = sandbox::Sandbox::new(sandbox_config);
    tokio::spawn(sandbox::serve(sandbox_listener, sandbox_state.clone()));

    // A data directory of its own, and the store in it, or in a PostgreSQL
    // schema of its own when CHECKOUT_GATEWAY_TEST_POSTGRES is set.
    let data_dir = Arc::new(tempfile::tempdir().expect("data dir"));
    let stack = Stack {
        gateway: String::new(),
        sandbox: sandbox_url,
        sandbox_state,
        http: reqwest::Client::new(),
        data_dir,
        postgres: postgres.map(Arc::new),
        live: None,
        poller: None,
        start_poller,
    };
    stack.gateway_with(config_toml, file).await
}

impl Stack {
    /// Another gateway (a replica) in front of this stack's sandbox, with
    /// its own config (`{sandbox}` replaced as in [`start_with`]) and
    /// cache, sharing this stack's data directory and store.
    pub async fn replica(&self, config_toml: &str) -> Stack {
        let shared = Stack {
            gateway: String::new(),
            sandbox: self.sandbox.clone(),
            sandbox_state: self.sandbox_state.clone(),
            http: self.http.clone(),
            data_dir: self.data_dir.clone(),
            postgres: self.postgres.clone(),
            live: None,
            poller: None,
            start_poller: self.start_poller,
        };
        shared.gateway_with(config_toml, None).await
    }

    /// Start a gateway in front of this stack's sandbox, on its data
    /// directory and store; this stack, now answering at its address.
    async fn gateway_with(mut self, config_toml: &str, file: Option<std::path::PathBuf>) -> Stack {
        // The config may name neither the data directory nor the store
        // (top-level keys precede every table, so they go first).
        let store = self
            .postgres
            .as_ref()
            .map(|schema| format!("store.url = {:?}\n", schema.url))
            .unwrap_or_default();
        let toml = format!(
            "data_dir = {:?}\n{store}{}",
            self.data_dir.path().display().to_string(),
            with_hashed_keys(&config_toml.replace("{sandbox}", &self.sandbox))
        );
        let (_, state) = load(&Figment::from(Toml::string(&toml))).expect("test config loads");
        prepare(&state)
            .await
            .expect("the data directory and store open");
        let gateway_listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind gateway");
        let gateway_addr = gateway_listener.local_addr().expect("gateway addr");
        let source: ConfigSource = match file {
            Some(path) => {
                std::fs::write(&path, &toml).expect("write the config file");
                Arc::new(move || Ok(Figment::from(Toml::file_exact(&path))))
            }
            None => Arc::new(move || Ok(Figment::from(Toml::string(&toml)))),
        };
        let polling = self.start_poller && state.feed.config().enabled;
        let live = Gateway::new(state, Some(source));
        if polling {
            self.poller = Some(checkout_gateway::service::poll::start(live.clone()));
        }
        checkout_gateway::service::webhooks::start(live.clone());
        self.live = Some(live.clone());
        tokio::spawn(checkout_gateway::server::serve(
            gateway_listener,
            live,
            std::future::pending(),
        ));
        self.gateway = format!("http://{gateway_addr}");
        self
    }

    /// The store this stack's gateways share: the SQLite file in the data
    /// directory, or the test's PostgreSQL schema.
    pub fn store_url(&self) -> String {
        match &self.postgres {
            Some(schema) => schema.url.clone(),
            None => store::sqlite_url(
                &self
                    .data_dir
                    .path()
                    .join(checkout_gateway::config::DEFAULT_STORE_FILE),
            ),
        }
    }

    /// The gateway's current state: its store and change feed, for a test
    /// to put there what the gateway would have written.
    pub fn state(&self) -> Arc<checkout_gateway::state::AppState> {
        self.live.as_ref().expect("the gateway started").current()
    }

    /// Stop this gateway's poller, as if its replica died: its leases are
    /// not released, they run out.
    pub fn stop_poller(&mut self) {
        if let Some(poller) = self.poller.take() {
            poller.abort();
        }
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.gateway))
            .bearer_auth(CLIENT_KEY)
    }

    pub fn session(&self, id: &str) -> reqwest::RequestBuilder {
        self.get(&format!("/v1/checkout-sessions/{id}"))
    }

    pub fn create(&self, body: serde_json::Value) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}/v1/checkout-sessions", self.gateway))
            .bearer_auth(CLIENT_KEY)
            .json(&body)
    }

    /// A read past the cache (`Cache-Control: no-cache`).
    pub fn fresh_session(&self, id: &str) -> reqwest::RequestBuilder {
        self.session(id).header("cache-control", "no-cache")
    }

    /// Queue a fault at the sandbox (`POST /_sandbox/faults`).
    pub async fn fault(&self, body: serde_json::Value) {
        let r = self
            .http
            .post(format!("{}/_sandbox/faults", self.sandbox))
            .json(&body)
            .send()
            .await
            .expect("sandbox faults");
        assert_eq!(r.status(), 204, "fault refused");
    }

    /// Drop every queued fault.
    pub async fn clear_faults(&self) {
        self.http
            .delete(format!("{}/_sandbox/faults", self.sandbox))
            .send()
            .await
            .expect("sandbox faults");
    }

    /// Upstream calls the sandbox received for one Meteroid operation.
    pub fn upstream_calls(&self, op: &str) -> u64 {
        self.calls("meteroid", op)
    }

    /// Upstream calls the sandbox received for one vendor operation.
    pub fn calls(&self, vendor: &str, op: &str) -> u64 {
        self.sandbox_state.calls(vendor, op)
    }

    /// A session created directly at the sandbox (so the gateway has never seen it).
    pub async fn vendor_session(&self) -> String {
        let body: serde_json::Value = self
            .http
            .post(format!(
                "{}/meteroid/api/v1/checkout-sessions",
                self.sandbox
            ))
            .bearer_auth(sandbox::DEMO_METEROID_API_KEY)
            .json(&serde_json::json!({
                "customer_id": sandbox::meteroid::seed::CUSTOMER_ACME_ALIAS,
                "plan_version_id": sandbox::meteroid::seed::PLAN_VERSION_STARTER_ID,
            }))
            .send()
            .await
            .expect("sandbox create")
            .json()
            .await
            .expect("sandbox create body");
        body["session"]["id"]
            .as_str()
            .expect("session id")
            .to_owned()
    }

    /// Move a sandbox Meteroid session through its lifecycle (control route).
    pub async fn control(&self, reference: &str, body: serde_json::Value) {
        self.sandbox_control(&format!("/meteroid/sessions/{reference}"), body)
            .await;
    }

    /// `POST /_sandbox<path>`, a sandbox control route (any vendor); asserts
    /// the sandbox agreed and returns its answer's body.
    pub async fn sandbox_control(&self, path: &str, body: serde_json::Value) -> String {
        let response = self
            .http
            .post(format!("{}/_sandbox{path}", self.sandbox))
            .json(&body)
            .send()
            .await
            .expect("control route");
        let status = response.status();
        let text = response.text().await.expect("control route body");
        assert!(
            status.is_success(),
            "control route refused: {status}: {text}"
        );
        text
    }

    /// A GET to the gateway as the client holding `key`.
    pub fn get_as(&self, key: &str, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.gateway))
            .bearer_auth(key)
    }

    /// `GET /metrics` as the client holding `key`: status and text.
    pub async fn metrics(&self, key: &str) -> (u16, String) {
        let r = self.get_as(key, "/metrics").send().await.expect("scrape");
        (r.status().as_u16(), r.text().await.expect("metrics text"))
    }

    /// `GET /readyz` (anonymous): status and body.
    pub async fn ready(&self) -> (u16, serde_json::Value) {
        let r = self
            .http
            .get(format!("{}/readyz", self.gateway))
            .send()
            .await
            .expect("readyz");
        (r.status().as_u16(), r.json().await.expect("readyz body"))
    }

    /// The canonical create body for the seeded demo customer and plan.
    /// Every session the sandbox's Meteroid tenant holds, as it lists them.
    pub async fn meteroid_sessions(&self) -> Vec<serde_json::Value> {
        let list: serde_json::Value = self
            .http
            .get(format!(
                "{}/meteroid/api/v1/checkout-sessions",
                self.sandbox
            ))
            .bearer_auth(sandbox::DEMO_METEROID_API_KEY)
            .send()
            .await
            .expect("the sandbox lists")
            .json()
            .await
            .expect("a JSON list");
        list["sessions"].as_array().cloned().unwrap_or_default()
    }

    pub fn create_body(&self) -> serde_json::Value {
        serde_json::json!({
            "provider": "meteroid",
            "account": "default",
            "customer": sandbox::meteroid::seed::CUSTOMER_ACME_ALIAS,
            "plan": sandbox::meteroid::seed::PLAN_VERSION_STARTER_ID,
        })
    }
}

/// A gateway answer read whole: status, headers, JSON body.
pub async fn json_of(r: reqwest::Response) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.json().await.expect("JSON body");
    (status, headers, body)
}

/// Send a request and read the answer whole: status, headers, and the JSON
/// body (`Null` when the body is not JSON).
pub async fn answer(
    r: reqwest::RequestBuilder,
) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
    let r = r.send().await.expect("an answer");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (
        status,
        headers,
        r.json().await.unwrap_or(serde_json::Value::Null),
    )
}

/// The canonical error code of an error body, or "".
pub fn code(body: &serde_json::Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

/// A header's value, or "" when absent.
pub fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// A `[resilience]` table. The default is the policy most tests run under:
/// a 3 s deadline, no retries, a breaker that only opens when a test means
/// it to (1,000 calls in its window at least), no stale copies.
#[derive(Debug, Clone, Copy)]
pub struct Resilience {
    pub deadline_ms: u64,
    pub max_retries: u32,
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    pub retry_budget_ratio: f64,
    pub retry_budget_min_per_sec: u32,
    pub breaker_window_secs: u64,
    pub breaker_min_calls: u32,
    pub breaker_failure_ratio: f64,
    pub breaker_open_secs: u64,
    pub breaker_half_open_probes: u32,
    pub max_in_flight: u32,
    pub stale_if_error_secs: u64,
    pub shutdown_grace_secs: u64,
}

impl Default for Resilience {
    fn default() -> Self {
        Resilience {
            deadline_ms: 3000,
            max_retries: 0,
            backoff_base_ms: 10,
            backoff_max_ms: 10,
            retry_budget_ratio: 0.2,
            retry_budget_min_per_sec: 10,
            breaker_window_secs: 30,
            breaker_min_calls: 1000,
            breaker_failure_ratio: 0.5,
            breaker_open_secs: 30,
            breaker_half_open_probes: 3,
            max_in_flight: 64,
            stale_if_error_secs: 0,
            shutdown_grace_secs: 1,
        }
    }
}

impl Resilience {
    /// The TOML table, one key a line.
    pub fn toml(&self) -> String {
        let Resilience {
            deadline_ms,
            max_retries,
            backoff_base_ms,
            backoff_max_ms,
            retry_budget_ratio,
            retry_budget_min_per_sec,
            breaker_window_secs,
            breaker_min_calls,
            breaker_failure_ratio,
            breaker_open_secs,
            breaker_half_open_probes,
            max_in_flight,
            stale_if_error_secs,
            shutdown_grace_secs,
        } = self;
        // `{:?}` keeps a float's point (`1.0`, not `1`).
        format!(
            "[resilience]\ndeadline_ms = {deadline_ms}\nmax_retries = {max_retries}\nbackoff_base_ms = {backoff_base_ms}\nbackoff_max_ms = {backoff_max_ms}\nretry_budget_ratio = {retry_budget_ratio:?}\nretry_budget_min_per_sec = {retry_budget_min_per_sec}\nbreaker_window_secs = {breaker_window_secs}\nbreaker_min_calls = {breaker_min_calls}\nbreaker_failure_ratio = {breaker_failure_ratio:?}\nbreaker_open_secs = {breaker_open_secs}\nbreaker_half_open_probes = {breaker_half_open_probes}\nmax_in_flight = {max_in_flight}\nstale_if_error_secs = {stale_if_error_secs}\nshutdown_grace_secs = {shutdown_grace_secs}\n"
        )
    }
}

/// A `[cache]` table: open sessions fresh for `open_ttl_secs`, terminal
/// ones for an hour.
pub fn cache(open_ttl_secs: u64, max_entries: u64) -> String {
    format!(
        "[cache]\nopen_ttl_secs = {open_ttl_secs}\nterminal_ttl_secs = 3600\nmax_entries = {max_entries}\n"
    )
}

/// Test sugar: a client table's `key = "<key>"` line becomes the
/// `key_sha256 = ["<hash>"]` the gateway takes (keys are never configured
/// in clear).
pub fn with_hashed_keys(toml: &str) -> String {
    toml.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            match trimmed
                .strip_prefix("key = \"")
                .and_then(|rest| rest.strip_suffix('"'))
            {
                Some(key) => format!("key_sha256 = [\"{}\"]", key_sha256(key)),
                None => line.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The hex SHA-256 of a client key, as `checkout-gateway hash-key` prints it.
pub fn key_sha256(key: &str) -> String {
    checkout_gateway::auth::to_hex(&checkout_gateway::auth::key_hash(key))
}

/// Every log line this test's thread emits, at trace level, as JSON, with
/// a line for each span opened (so a test can count spans), while the
/// returned [`Logs`] lives. Scoped to the thread, not the process: all the
/// e2e tests share one binary, and a `#[tokio::test]` runs its gateway and
/// sandbox on its own thread (current-thread runtime), so this sees every
/// line of this test's gateway and none of the other tests'.
///
/// One process-wide subscriber writes to the capturing thread's buffer and
/// is disabled elsewhere, decided at each call. A subscriber set per thread
/// instead (`set_default`) loses spans: a callsite first registered by
/// another test's thread while this one installs its subscriber can keep
/// tracing's cached "never" interest.
pub fn captured_logs() -> Logs {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        // Dynamic: asked at every call, never cached per callsite.
        let capturing = tracing_subscriber::filter::dynamic_filter_fn(|_, _| {
            CAPTURE.with(|c| c.borrow().is_some())
        });
        let layer = tracing_subscriber::fmt::layer()
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::NEW)
            .with_writer(|| ThreadSink)
            .json()
            .with_filter(capturing);
        // Another global subscriber (none is set in the e2e binary) would
        // only mean nothing is captured, which the tests would notice.
        let _ = tracing_subscriber::registry().with(layer).try_init();
    });
    let lines: Arc<Mutex<Vec<u8>>> = Arc::default();
    CAPTURE.with(|c| *c.borrow_mut() = Some(lines.clone()));
    Logs { lines }
}

thread_local! {
    /// The buffer of the capture running on this thread, if any.
    static CAPTURE: std::cell::RefCell<Option<Arc<Mutex<Vec<u8>>>>> =
        const { std::cell::RefCell::new(None) };
}

/// Log lines captured by [`captured_logs`]; capture stops when dropped.
pub struct Logs {
    lines: Arc<Mutex<Vec<u8>>>,
}

impl Drop for Logs {
    fn drop(&mut self) {
        CAPTURE.with(|c| *c.borrow_mut() = None);
    }
}

impl Logs {
    /// Everything captured so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.lines.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

/// Writes into the capturing thread's buffer (nothing reaches it from a
/// thread that is not capturing: the filter says so first).
struct ThreadSink;

impl std::io::Write for ThreadSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|c| {
            if let Some(lines) = c.borrow().as_ref() {
                lines
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Assert the canonical error shape (every field present, the request id
/// echoed) and return its code.
pub fn error_code(body: &serde_json::Value, headers: &reqwest::header::HeaderMap) -> String {
    let e = &body["error"];
    for field in ["type", "code", "message", "retryable"] {
        assert!(!e[field].is_null(), "error lacks {field}: {body}");
    }
    assert_eq!(
        e["request_id"],
        header(headers, "x-request-id"),
        "error carries the request id: {body}"
    );
    e["code"].as_str().unwrap_or_default().to_owned()
}
