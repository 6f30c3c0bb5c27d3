//! Vendor drift as an operator sees it, over real sockets: a sandbox
//! taught an unknown field and an unknown status, the gateway reading,
//! creating and listing through it. Every read succeeds; `/metrics` counts
//! each unknown per answer; the log names each one once.

use checkout_gateway_e2e::{
    answer, captured_logs, start_with, Stack, CLIENT_KEY, OTHER_CLIENT_KEY,
};
use serde_json::{json, Value};

fn config() -> String {
    let key = sandbox::DEMO_METEROID_API_KEY;
    format!(
        r#"
        [providers.meteroid.accounts.default]
        base_url = "{{sandbox}}/meteroid"
        api_key = "{key}"
        [clients.main]
        key = "{CLIENT_KEY}"
        accounts = ["meteroid:default"]
        vendor_calls_per_sec = 1000
        [clients.ops]
        key = "{OTHER_CLIENT_KEY}"
        scopes = ["admin"]
        "#
    )
}

async fn metrics(s: &Stack) -> String {
    let (status, text) = s.metrics(OTHER_CLIENT_KEY).await;
    assert_eq!(status, 200);
    text
}

#[tokio::test]
async fn unknown_fields_and_values_are_counted_logged_once_and_never_fail_a_read() {
    let logs = captured_logs();
    let s = start_with(&config()).await;
    let id = format!("meteroid:default:{}", s.vendor_session().await);
    // Clean answers count nothing.
    assert_eq!(answer(s.fresh_session(&id)).await.0, 200);
    assert!(!metrics(&s).await.contains("vendor_unknown_total{"));

    s.sandbox_control(
        "/meteroid/drift",
        json!({"field": {"name": "risk_score", "value": {"band": "low"}}, "status": "PAYMENT_FAILED"}),
    )
    .await;
    for _ in 0..2 {
        let (status, _, body) = answer(s.fresh_session(&id)).await;
        assert_eq!(status, 200, "{body}");
        // A status no rule knows reads as processing, kept verbatim.
        assert_eq!(body["status"], "processing");
        assert_eq!(body["provider_status"]["status"], "PAYMENT_FAILED");
    }
    let (status, _, created) = answer(s.create(s.create_body())).await;
    assert_eq!(status, 201, "{created}");
    let (status, _, list) = answer(s.get("/v1/checkout-sessions?limit=5")).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["sources"][0]["state"], "ok");

    let text = metrics(&s).await;
    for expected in [
        // Two reads and a create, each one answer.
        r#"checkout_gateway_vendor_unknown_total{provider="meteroid",kind="field",name="session.risk_score"} 3"#,
        // The list is one answer, however many items held it.
        r#"checkout_gateway_vendor_unknown_total{provider="meteroid",kind="field",name="[].risk_score"} 1"#,
        r#"checkout_gateway_vendor_unknown_total{provider="meteroid",kind="value",name="status=PAYMENT_FAILED"} 4"#,
    ] {
        assert!(text.contains(expected), "missing {expected}\n{text}");
    }

    let warned: Vec<Value> = logs
        .text()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["level"] == "WARN" && line["fields"]["kind"].is_string())
        .collect();
    let names: Vec<&str> = warned
        .iter()
        .map(|w| w["fields"]["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        names,
        [
            "session.risk_score",
            "status=PAYMENT_FAILED",
            "[].risk_score"
        ],
        "one warning per name: {warned:?}"
    );
    assert!(warned.iter().all(|w| w["fields"]["provider"] == "meteroid"));
}

#[tokio::test]
async fn a_vendor_cannot_grow_the_series_without_bound() {
    let s = start_with(&config()).await;
    let id = format!("meteroid:default:{}", s.vendor_session().await);
    // Each read answers a status no rule knows, a new one every time.
    for i in 0..110 {
        s.sandbox_control("/meteroid/drift", json!({"status": format!("NEW_{i}")}))
            .await;
        assert_eq!(answer(s.fresh_session(&id)).await.0, 200);
    }
    let text = metrics(&s).await;
    let series = text
        .lines()
        .filter(|l| l.starts_with("checkout_gateway_vendor_unknown_total{"))
        .count();
    assert_eq!(series, 101, "100 names and _other\n{text}");
    assert!(text.contains(
        r#"checkout_gateway_vendor_unknown_total{provider="meteroid",kind="value",name="_other"} 10"#
    ));
}
