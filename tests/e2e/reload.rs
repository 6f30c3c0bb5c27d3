//! Config reload: credentials rotate without dropping in-flight requests;
//! a bad config is refused and the old one keeps serving.

use std::time::Duration;

use checkout_gateway_e2e::{start_from_file, with_hashed_keys};
use serde_json::json;

const ADMIN_KEY: &str = "admin-key-000000000000000001";
const OLD_KEY: &str = "client-key-old-0000000000001";
const NEW_KEY: &str = "client-key-new-0000000000002";

fn config(sandbox: &str, client_key: &str, vendor_key: &str) -> String {
    with_hashed_keys(&format!(
        r#"
        [providers.meteroid.accounts.default]
        base_url = "{sandbox}/meteroid"
        api_key = "{vendor_key}"
        [clients.shop]
        key = "{client_key}"
        accounts = ["meteroid:default"]
        [clients.ops]
        key = "{ADMIN_KEY}"
        scopes = ["sessions:read", "sessions:write", "admin"]
        "#
    ))
}

#[tokio::test]
async fn reload_rotates_keys_without_dropping_in_flight_requests_and_refuses_bad_configs() {
    let file = std::env::temp_dir().join(format!("cg-reload-{}.toml", std::process::id()));
    let s = start_from_file(
        &config("{sandbox}", OLD_KEY, sandbox::DEMO_METEROID_API_KEY),
        file.clone(),
    )
    .await;
    let reference = s.vendor_session().await;
    let url = format!(
        "{}/v1/checkout-sessions/meteroid:default:{reference}",
        s.gateway
    );
    let reload = || {
        s.http
            .post(format!("{}/admin/reload", s.gateway))
            .bearer_auth(ADMIN_KEY)
            .send()
    };

    // Only admin keys may reload.
    let r = s
        .http
        .post(format!("{}/admin/reload", s.gateway))
        .bearer_auth(OLD_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // A slow request is in flight with the old credentials when they rotate.
    let fault = json!({"vendor": "meteroid", "op": "get", "fault": {"latency_ms": 800}});
    s.http
        .post(format!("{}/_sandbox/faults", s.sandbox))
        .json(&fault)
        .send()
        .await
        .unwrap();
    let in_flight = tokio::spawn(
        s.http
            .get(&url)
            .bearer_auth(OLD_KEY)
            .header("cache-control", "no-cache")
            .send(),
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The vendor key changes to one the sandbox refuses, and the client key rotates.
    std::fs::write(
        &file,
        config(
            &s.sandbox,
            NEW_KEY,
            "pv_sand_rotatedrotatedrotatedrotated12/abc",
        ),
    )
    .unwrap();
    let r = reload().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["accounts"], 1);
    let finished = in_flight.await.unwrap().unwrap();
    assert_eq!(
        finished.status(),
        200,
        "the in-flight request finished with the credentials it started with"
    );

    assert_eq!(
        s.http
            .get(&url)
            .bearer_auth(OLD_KEY)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let r = s
        .http
        .get(&url)
        .bearer_auth(NEW_KEY)
        .header("cache-control", "no-cache")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502, "the new (refused) vendor key is in use");

    // A bad config is refused, naming the key path; the running one stays.
    std::fs::write(&file, "[cache]\nopen_ttl_secs = \"soon\"\n").unwrap();
    let r = reload().await.unwrap();
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_config");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cache.open_ttl_secs"),
        "{body}"
    );
    assert_eq!(
        s.http
            .get(&url)
            .bearer_auth(NEW_KEY)
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "still serving (cached)"
    );
    assert_eq!(
        s.http
            .get(&url)
            .bearer_auth(OLD_KEY)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    // And back to good credentials.
    std::fs::write(
        &file,
        config(&s.sandbox, NEW_KEY, sandbox::DEMO_METEROID_API_KEY),
    )
    .unwrap();
    assert_eq!(reload().await.unwrap().status(), 200);
    let r = s
        .http
        .get(&url)
        .bearer_auth(NEW_KEY)
        .header("cache-control", "no-cache")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let _ = std::fs::remove_file(&file);
}

/// A syntax error on a secret's line is refused naming the file position;
/// neither the 422 body nor the log line quotes the line or the secret.
#[tokio::test]
async fn a_syntax_error_on_a_secret_line_is_refused_without_quoting_it() {
    let logs = checkout_gateway_e2e::captured_logs();
    let file = std::env::temp_dir().join(format!("cg-reload-syntax-{}.toml", std::process::id()));
    let s = start_from_file(
        &config("{sandbox}", OLD_KEY, sandbox::DEMO_METEROID_API_KEY),
        file.clone(),
    )
    .await;
    let secret = "sk_live_SYNTAXSECRETzq7xSYNTAXSECRET";
    std::fs::write(
        &file,
        format!(
            "[providers.meteroid.accounts.default]\nbase_url = \"{}/meteroid\"\napi_key = \"{secret}\n",
            s.sandbox
        ),
    )
    .unwrap();
    let r = s
        .http
        .post(format!("{}/admin/reload", s.gateway))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    let file_name = file.file_name().unwrap().to_str().unwrap();
    assert!(
        message.contains(file_name) && message.contains("line 3, column"),
        "names the position: {message}"
    );
    let logs = logs.text();
    let refused = logs
        .lines()
        .find(|l| l.contains("reload refused"))
        .expect("the refusal is logged");
    assert!(refused.contains("line 3, column"), "{refused}");
    for text in [message, &logs] {
        assert!(
            !text.contains("SYNTAXSECRET") && !text.contains("api_key = "),
            "the line is quoted: {text}"
        );
    }
    let _ = std::fs::remove_file(&file);
}
