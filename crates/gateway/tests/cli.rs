//! The `checkout-gateway` binary: normalize, config check, demo.

mod process;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use process::{repo, BIN};

fn run(args: &[&str], stdin: &[u8], envs: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .current_dir(repo());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn checkout-gateway");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn normalize_turns_a_meteroid_body_into_canonical_json() {
    let body =
        std::fs::read(repo().join("fixtures/meteroid/get_created_past_expiry.json")).unwrap();
    let (ok, out, err) = run(
        &[
            "normalize",
            "--provider",
            "meteroid",
            "--at",
            "2026-11-18T12:00:00Z",
        ],
        &body,
        &[],
    );
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["id"], "meteroid:default:che_2QWQR7vBZjyswiWCgoydvA");
    assert_eq!(v["status"], "open");
    let (_, out, _) = run(
        &[
            "normalize",
            "--provider",
            "meteroid",
            "--account",
            "eu",
            "--at",
            "2026-11-18T12:31:18Z",
        ],
        &body,
        &[],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"], "expired", "derived expiry at --at");
    assert_eq!(v["account"], "eu");
}

#[test]
fn normalize_explains_what_it_cannot_read() {
    let list = std::fs::read(repo().join("fixtures/meteroid/list_all_sessions.json")).unwrap();
    let (ok, _, err) = run(&["normalize", "--provider", "meteroid"], &list, &[]);
    assert!(!ok && err.contains("list body"), "{err}");
    let (ok, _, err) = run(&["normalize", "--provider", "meteroid"], b"<html>", &[]);
    assert!(!ok && err.contains("malformed JSON"), "{err}");
    let (ok, _, err) = run(&["normalize", "--provider", "stripe"], b"{}", &[]);
    assert!(!ok && err.contains("unknown provider"), "{err}");
}

#[test]
fn config_check_prints_the_effective_config_redacted() {
    let dir = std::env::temp_dir().join(format!("cg-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let shop_hash = hash("client-key-in-clear-0001");
    let key_file = dir.join("meteroid-key");
    std::fs::write(&key_file, "pv_sand_FROMFILEFROMFILEFROMFILEFROMFI/tok\n").unwrap();
    let config = dir.join("gw.toml");
    std::fs::write(
        &config,
        format!(
            "[providers.meteroid.accounts.eu]\napi_key_file = {key_file:?}\n[providers.meteroid.accounts.us]\napi_key = \"pv_sand_INFILEINFILEINFILEINFILEINFILE/t\"\n[clients.shop]\nkey_sha256 = [\"{shop_hash}\"]\naccounts = [\"meteroid:eu\"]\n"
        ),
    )
    .unwrap();
    let path = config.to_str().unwrap();
    let env = [(
        "CHECKOUT_GATEWAY__PROVIDERS__METEROID__ACCOUNTS__US__API_KEY",
        "pv_sand_FROMENVFROMENVFROMENVFROMENV/t",
    )];
    let (ok, out, err) = run(&["config", "check", "--config", path], b"", &env);
    assert!(ok, "{err}");
    for secret in ["FROMFILE", "INFILE", "FROMENV", "client-key-in-clear"] {
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "{secret} leaked:\n{out}\n{err}"
        );
    }
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["providers"]["meteroid"]["accounts"]["us"]["api_key"],
        "***"
    );
    assert_eq!(
        v["providers"]["meteroid"]["accounts"]["eu"]["timeout_ms"], 10000,
        "defaults are shown"
    );
    assert_eq!(
        v["clients"]["shop"]["key_sha256"][0], shop_hash,
        "hashes are not secrets"
    );
    assert_eq!(
        v["clients"]["shop"]["scopes"],
        serde_json::json!(["sessions:read", "sessions:write"])
    );

    // Bad configs fail naming the exact key path.
    for (toml, path_named) in [
        ("[cache]\nopen_ttl_secs = -1\n", "cache.open_ttl_secs"),
        (
            "[providers.meteroid.accounts.eu]\napi_key = \"k\"\ntimeout_ms = \"x\"\n",
            "providers.meteroid.accounts.eu.timeout_ms",
        ),
        (
            "[providers.meteroid.accounts.eu]\n",
            "providers.meteroid.accounts.eu.api_key",
        ),
        (
            "[providers.stripe.accounts.eu]\napi_key = \"k\"\n",
            "providers.stripe",
        ),
        (
            "[clients.shop]\nkey_sha256 = [\"0000000000000000000000000000000000000000000000000000000000000000\"]\naccounts = [\"meteroid:nope\"]\n",
            "clients.shop.accounts[0]",
        ),
    ] {
        std::fs::write(&config, toml).unwrap();
        let (ok, _, err) = run(&["config", "check", "--config", path], b"", &[]);
        assert!(!ok, "{toml} was accepted");
        assert!(err.contains(path_named), "{toml}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A running `checkout-gateway demo` and what it printed.
struct Demo {
    child: std::process::Child,
    lines: Vec<String>,
}

impl Demo {
    fn start(envs: &[(&str, &str)]) -> Demo {
        Demo::start_logging(envs, &[], Stdio::null())
    }

    fn start_logging(envs: &[(&str, &str)], flags: &[&str], stderr: Stdio) -> Demo {
        let mut cmd = Command::new(BIN);
        cmd.args(flags).args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--sandbox-listen",
            "127.0.0.1:0",
        ]);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        Demo::from_command(cmd, stderr)
    }

    fn from_command(mut cmd: Command, stderr: Stdio) -> Demo {
        cmd.current_dir(repo())
            .stdout(Stdio::piped())
            .stderr(stderr);
        let mut child = cmd.spawn().expect("spawn demo");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut lines = Vec::new();
        while Instant::now() < deadline {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(line) if line.starts_with("Ctrl-C") => break,
                Ok(line) => lines.push(line),
                Err(_) => {}
            }
        }
        Demo { child, lines }
    }

    /// The URL printed after `label` (`gateway`, `sandbox`).
    fn url(&self, label: &str) -> String {
        self.lines
            .iter()
            .find_map(|l| l.trim_start().strip_prefix(label))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("demo printed no {label} URL: {:#?}", self.lines))
            .to_owned()
    }

    fn curls(&self) -> Vec<&str> {
        self.lines
            .iter()
            .filter_map(|l| l.strip_prefix("$ "))
            .collect()
    }

    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What `checkout-gateway hash-key` prints for `key`.
fn hash(key: &str) -> String {
    let (ok, out, err) = run(&["hash-key"], key.as_bytes(), &[]);
    assert!(ok, "{err}");
    out.trim().to_owned()
}

fn curl(args: &str) -> (bool, String) {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("curl -sS {args}"))
        .output()
        .expect("sh");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The demo prints curl lines; every one of them must work as printed.
#[test]
fn demo_serves_and_every_printed_curl_line_works() {
    let demo = Demo::start(&[]);
    let curls = demo.curls();
    assert!(curls.len() >= 6, "demo printed: {:#?}", demo.lines);
    let mut outputs = Vec::new();
    for curl in &curls {
        let out = Command::new("sh").arg("-c").arg(curl).output().expect("sh");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{curl}\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        outputs.push(text);
    }
    let completed = outputs
        .iter()
        .any(|o| o.contains("\"status\":\"complete\"") && o.contains("\"raw\""));
    assert!(
        completed,
        "the walkthrough ends with a completed session read past the cache: {outputs:#?}"
    );
    // Migration routing: an explain line with its answer, and a routed
    // create whose headers name the demo's ramp rule.
    assert!(
        curls.iter().any(|c| c.contains("/v1/routing/explain")),
        "{curls:#?}"
    );
    assert!(
        demo.lines
            .iter()
            .any(|l| l.contains("by rule `pro-to-flowglad`, bucket")),
        "{:#?}",
        demo.lines
    );
    assert!(
        outputs.iter().any(|o| o
            .to_ascii_lowercase()
            .contains("x-routing-rule: pro-to-flowglad")),
        "{outputs:#?}"
    );
    // The Stripe facade: a Stripe-shaped create, and a list object.
    assert!(
        outputs
            .iter()
            .any(|o| o.contains("\"object\":\"checkout.session\"") && o.contains("\"id\":\"cs_")),
        "{outputs:#?}"
    );
    assert!(
        outputs
            .iter()
            .any(|o| o.contains("\"url\":\"/v1/checkout/sessions\"")),
        "{outputs:#?}"
    );
}

/// SIGTERM lets a request in flight finish, then the process exits cleanly;
/// past the grace period it stops waiting.
#[test]
fn sigterm_finishes_in_flight_requests_within_the_grace_period() {
    for (grace, latency_ms, finishes) in [("5", 1500, true), ("1", 6000, false)] {
        let mut demo = Demo::start(&[("CHECKOUT_GATEWAY__RESILIENCE__SHUTDOWN_GRACE_SECS", grace)]);
        let gateway = demo.url("gateway");
        let sandbox = demo.url("sandbox");
        let providers = demo
            .curls()
            .first()
            .copied()
            .expect("a curl line")
            .to_owned();
        let key = providers
            .rsplit("Bearer ")
            .next()
            .unwrap_or_default()
            .trim_end_matches('\'')
            .to_owned();
        let get_line = demo
            .curls()
            .iter()
            .find(|c| c.contains("-i "))
            .copied()
            .expect("a GET line")
            .to_owned();
        let id = get_line
            .split("/v1/checkout-sessions/")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .expect("id")
            .to_owned();
        let fault = format!(
            r#"-X POST {sandbox}/_sandbox/faults -H 'Content-Type: application/json' -d '{{"vendor":"meteroid","op":"get","fault":{{"latency_ms":{latency_ms}}}}}'"#
        );
        assert!(curl(&fault).0);
        let in_flight = std::thread::spawn(move || {
            curl(&format!("-o /dev/null -w '%{{http_code}}' -H 'Cache-Control: no-cache' -H 'Authorization: Bearer {key}' {gateway}/v1/checkout-sessions/{id}"))
        });
        std::thread::sleep(Duration::from_millis(300));
        let stopping = Instant::now();
        demo.terminate();
        let exited = loop {
            if let Some(status) = demo.child.try_wait().expect("wait") {
                break status;
            }
            assert!(stopping.elapsed() < Duration::from_secs(10), "did not exit");
            std::thread::sleep(Duration::from_millis(50));
        };
        let took = stopping.elapsed();
        let (_, code) = in_flight.join().expect("request thread");
        assert!(exited.success(), "grace {grace}: exit {exited:?}");
        if finishes {
            assert_eq!(code, "200", "the in-flight request finished");
            assert!(
                took >= Duration::from_millis(1000),
                "waited for it: {took:?}"
            );
        } else {
            assert_ne!(code, "200");
            assert!(
                took < Duration::from_millis(3000),
                "stopped after the grace period: {took:?}"
            );
        }
    }
}

/// Trace-level JSON logs of a whole walkthrough, errors included, never
/// contain a client key or a vendor key.
#[test]
fn logs_at_trace_level_carry_no_secrets() {
    let log_path = std::env::temp_dir().join(format!("cg-logs-{}.jsonl", std::process::id()));
    let log = std::fs::File::create(&log_path).expect("log file");
    let demo = Demo::start_logging(
        &[("RUST_LOG", "trace")],
        &["--log-format", "json"],
        Stdio::from(log),
    );
    let gateway = demo.url("gateway");
    let key = demo.curls()[0]
        .rsplit("Bearer ")
        .next()
        .unwrap_or_default()
        .trim_end_matches('\'')
        .to_owned();
    for curl_line in demo.curls() {
        Command::new("sh")
            .arg("-c")
            .arg(curl_line)
            .output()
            .expect("sh");
    }
    // Error paths: wrong key, unknown session, a vendor failure.
    curl(&format!(
        "-H 'Authorization: Bearer wrong-key-wrong-key' {gateway}/v1/providers"
    ));
    curl(&format!(
        "-H 'Authorization: Bearer {key}' {gateway}/v1/checkout-sessions/meteroid:default:che_1"
    ));
    drop(demo);
    let logs = std::fs::read_to_string(&log_path).expect("logs");
    let _ = std::fs::remove_file(&log_path);
    assert!(logs.lines().count() > 20, "trace logging happened");
    assert!(
        logs.contains("\"route\":\"/v1/checkout-sessions/{id}\""),
        "request spans carry the route template"
    );
    assert!(logs.contains("\"client\":\"demo\""), "and the client name");
    for secret in [
        key.as_str(),
        sandbox::DEMO_METEROID_API_KEY,
        "wrong-key-wrong-key",
    ] {
        assert!(!logs.contains(secret), "{secret} appears in the logs");
    }
    let secret_part = sandbox::DEMO_METEROID_API_KEY
        .split('/')
        .next()
        .unwrap_or_default();
    assert!(!logs.contains(secret_part));
}

/// SIGHUP re-reads the config file: a rotated client key takes over.
#[test]
fn sighup_reloads_the_config_file() {
    let file = std::env::temp_dir().join(format!("cg-sighup-{}.toml", std::process::id()));
    let demo_toml = std::fs::read_to_string(repo().join("config/demo.toml")).expect("demo config");
    let old_key = "demo-client-key-0000000000000001";
    let new_key = "rotated-client-key-000000000000001";
    assert!(
        demo_toml.contains(&hash(old_key)),
        "config/demo.toml changed its demo key"
    );
    std::fs::write(&file, &demo_toml).unwrap();
    let file_arg = file.to_str().expect("utf-8 path").to_owned();
    let mut cmd = Command::new(BIN);
    cmd.args([
        "demo",
        "--config",
        &file_arg,
        "--listen",
        "127.0.0.1:0",
        "--sandbox-listen",
        "127.0.0.1:0",
    ]);
    let demo = Demo::from_command(cmd, Stdio::null());
    let gateway = demo.url("gateway");
    let status = |key: &str| {
        curl(&format!("-o /dev/null -w '%{{http_code}}' -H 'Authorization: Bearer {key}' {gateway}/v1/providers")).1
    };
    assert_eq!(status(old_key), "200");
    std::fs::write(&file, demo_toml.replace(&hash(old_key), &hash(new_key))).unwrap();
    let hup = Command::new("kill")
        .args(["-HUP", &demo.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(hup.success());
    let deadline = Instant::now() + Duration::from_secs(5);
    while status(new_key) != "200" {
        assert!(Instant::now() < deadline, "the new key never took over");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(status(old_key), "401");
    let _ = std::fs::remove_file(&file);
}

/// Asking for OTLP export from a binary built without it is a clear start-up error.
#[cfg(not(feature = "otlp"))]
#[test]
fn otlp_without_the_feature_is_refused_at_start() {
    let (ok, _, err) = run(
        &[
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--sandbox-listen",
            "127.0.0.1:0",
        ],
        b"",
        &[(
            "CHECKOUT_GATEWAY__LOG__OTLP_ENDPOINT",
            "http://127.0.0.1:4318/v1/traces",
        )],
    );
    assert!(!ok);
    assert!(
        err.contains("otlp") && err.contains("--features otlp"),
        "{err}"
    );
}

#[test]
fn hash_key_prints_the_sha256_and_refuses_weak_keys() {
    let (ok, out, _) = run(&["hash-key"], b"demo-client-key-0000000000000001\n", &[]);
    assert!(ok);
    let config = std::fs::read_to_string(repo().join("config/demo.toml")).unwrap();
    assert!(
        config.contains(out.trim()),
        "config/demo.toml carries the demo key's hash"
    );
    let (ok, _, err) = run(&["hash-key"], b"short", &[]);
    assert!(!ok && err.contains("at least 16"), "{err}");
}

/// A TOML syntax error on a secret's line names the file position, never
/// the line; URL credentials are redacted in the printed config.
#[test]
fn config_check_never_quotes_a_secret_line_or_url_credentials() {
    let dir = std::env::temp_dir().join(format!("cg-config-secret-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("gw.toml");
    let path = config.to_str().unwrap();
    std::fs::write(
        &config,
        "[providers.meteroid.accounts.eu]\nbase_url = \"https://api.example\"\napi_key = \"sk_live_SYNTAXSECRETzq7x\n",
    )
    .unwrap();
    let (ok, out, err) = run(&["config", "check", "--config", path], b"", &[]);
    assert!(!ok, "{out}");
    assert!(
        !out.contains("SYNTAXSECRET")
            && !err.contains("SYNTAXSECRET")
            && !err.contains("api_key = "),
        "the line is quoted:\n{err}"
    );
    assert!(
        err.contains(path) && err.contains("line 3, column"),
        "names the position: {err}"
    );

    std::fs::write(
        &config,
        "[log]\notlp_endpoint = \"https://otel:OTLPSECRET@otel.example/v1/traces\"\n[providers.meteroid.accounts.eu]\nbase_url = \"https://user:URLSECRET@api.example/\"\napi_key = \"pv_sand_INFILEINFILEINFILEINFILEINFILE/t\"\n",
    )
    .unwrap();
    let (ok, out, err) = run(&["config", "check", "--config", path], b"", &[]);
    assert!(ok, "{err}");
    assert!(
        !out.contains("URLSECRET") && !out.contains("OTLPSECRET") && !err.contains("SECRET"),
        "{out}\n{err}"
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["providers"]["meteroid"]["accounts"]["eu"]["base_url"],
        "https://***@api.example/"
    );
    assert_eq!(
        v["log"]["otlp_endpoint"],
        "https://***@otel.example/v1/traces"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The SIGHUP log line for a config with a syntax error on a secret's line
/// names the position, never the line.
#[test]
fn sighup_refusal_never_quotes_a_secret_line() {
    let dir = std::env::temp_dir().join(format!("cg-sighup-secret-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("gw.toml");
    let log = dir.join("stderr.log");
    let demo_toml = std::fs::read_to_string(repo().join("config/demo.toml")).expect("demo config");
    std::fs::write(&file, &demo_toml).unwrap();
    let file_arg = file.to_str().expect("utf-8 path").to_owned();
    let mut cmd = Command::new(BIN);
    cmd.args([
        "demo",
        "--config",
        &file_arg,
        "--listen",
        "127.0.0.1:0",
        "--sandbox-listen",
        "127.0.0.1:0",
    ]);
    let demo = Demo::from_command(cmd, Stdio::from(std::fs::File::create(&log).unwrap()));
    std::fs::write(
        &file,
        "[providers.meteroid.accounts.default]\napi_key = \"sk_live_SYNTAXSECRETzq7x\n",
    )
    .unwrap();
    let hup = Command::new("kill")
        .args(["-HUP", &demo.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(hup.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let logs = loop {
        let logs = std::fs::read_to_string(&log).unwrap_or_default();
        if logs.contains("SIGHUP reload refused") {
            break logs;
        }
        assert!(Instant::now() < deadline, "no refusal logged:\n{logs}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        !logs.contains("SYNTAXSECRET") && !logs.contains("api_key = "),
        "the line is quoted:\n{logs}"
    );
    assert!(
        logs.contains("line 2, column"),
        "names the position:\n{logs}"
    );
    drop(demo);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Keys live in the store, not in the process: a gateway killed with
/// SIGKILL right after a create and started again on the same store
/// answers the same key and body with the same response, and the vendor
/// sees no second create.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_outlives_kill_9() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox_addr = listener.local_addr().unwrap();
    let mut sandbox_config = sandbox::SandboxConfig::default();
    sandbox_config.meteroid.public_url = format!("http://{sandbox_addr}/meteroid");
    let sandbox = sandbox::Sandbox::new(sandbox_config);
    tokio::spawn(sandbox::serve(listener, sandbox.clone()));

    let dir = tempfile::tempdir().unwrap();
    let client_key = "restart-client-key-0000000000001";
    let config = format!(
        "data_dir = {data:?}\n[server]\nlisten = \"127.0.0.1:{{port}}\"\n\
         [providers.meteroid.accounts.default]\nbase_url = \"http://{sandbox_addr}/meteroid\"\napi_key = \"{api_key}\"\n\
         [clients.shop]\nkey_sha256 = [\"{hash}\"]\naccounts = [\"meteroid:default\"]\n",
        data = dir.path().join("data").display().to_string(),
        api_key = sandbox::DEMO_METEROID_API_KEY,
        hash = checkout_gateway::auth::to_hex(&checkout_gateway::auth::key_hash(client_key)),
    );
    let body = serde_json::json!({
        "provider": "meteroid",
        "account": "default",
        "customer": sandbox::meteroid::seed::CUSTOMER_ACME_ALIAS,
        "plan": sandbox::meteroid::seed::PLAN_VERSION_STARTER_ID,
    });
    let http = reqwest::Client::new();
    let create = |gateway: &process::Running| {
        http.post(format!("{}/v1/checkout-sessions", gateway.url))
            .bearer_auth(client_key)
            .header("idempotency-key", "order-kill-9")
            .json(&body)
            .send()
    };

    let gateway = process::serve(dir.path(), &config).await;
    let first = create(&gateway).await.expect("an answer");
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let location = first.headers()["location"].clone();
    let first: serde_json::Value = first.json().await.expect("JSON");
    assert_eq!(sandbox.calls("meteroid", "create"), 1);
    gateway.kill_9();

    let gateway = process::serve(dir.path(), &config).await;
    let again = create(&gateway).await.expect("an answer");
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["location"], location);
    let again: serde_json::Value = again.json().await.expect("JSON");
    assert_eq!(again, first, "the same response");
    assert_eq!(
        sandbox.calls("meteroid", "create"),
        1,
        "no second create at the vendor"
    );
}
