//! The `checkout-gateway` binary: normalize, config check, demo.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_checkout-gateway");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

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
    let key_file = dir.join("meteroid-key");
    std::fs::write(&key_file, "pv_sand_FROMFILEFROMFILEFROMFILEFROMFI/tok\n").unwrap();
    let config = dir.join("gw.toml");
    std::fs::write(
        &config,
        format!(
            "[providers.meteroid.accounts.eu]\napi_key_file = {key_file:?}\n[providers.meteroid.accounts.us]\napi_key = \"pv_sand_INFILEINFILEINFILEINFILEINFILE/t\"\n[clients.shop]\nkey = \"client-key-in-clear-0001\"\naccounts = [\"meteroid:eu\"]\n"
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
    assert_eq!(v["clients"]["shop"]["key"], "***");

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
            "[clients.shop]\nkey = \"client-key-in-clear-0001\"\naccounts = [\"meteroid:nope\"]\n",
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

/// The demo prints curl lines; every one of them must work as printed.
#[test]
fn demo_serves_and_every_printed_curl_line_works() {
    let mut child = Command::new(BIN)
        .args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--sandbox-listen",
            "127.0.0.1:0",
        ])
        .current_dir(repo())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn demo");
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
    let curls: Vec<&str> = lines.iter().filter_map(|l| l.strip_prefix("$ ")).collect();
    assert!(curls.len() >= 6, "demo printed: {lines:#?}");
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
    let _ = child.kill();
    let _ = child.wait();
    let completed = outputs
        .iter()
        .any(|o| o.contains("\"status\":\"complete\"") && o.contains("\"raw\""));
    assert!(
        completed,
        "the walkthrough ends with a completed session read past the cache: {outputs:#?}"
    );
}
