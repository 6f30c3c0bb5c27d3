//! `POST|DELETE /_sandbox/<vendor>/drift`: a vendor's session answers carry
//! an extra field and an unknown status while it is set, over real sockets.

mod support;
mod zenskar_support;

use reqwest::Method;
use serde_json::{json, Value};
use support::{id_of, start, Running};

async fn drift(base: &str, vendor: &str, body: Value) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(format!("{base}/_sandbox/{vendor}/drift"))
        .json(&body)
        .send()
        .await
        .expect("drift control");
    (r.status().as_u16(), r.text().await.expect("text"))
}

async fn reset(base: &str, vendor: &str) -> u16 {
    reqwest::Client::new()
        .delete(format!("{base}/_sandbox/{vendor}/drift"))
        .send()
        .await
        .expect("drift reset")
        .status()
        .as_u16()
}

const TAUGHT: &str =
    r#"{"field": {"name": "risk_score", "value": {"band": "low"}}, "status": "PAYMENT_FAILED"}"#;

fn taught() -> Value {
    serde_json::from_str(TAUGHT).expect("json")
}

fn assert_drifted(session: &Value) {
    assert_eq!(session["risk_score"], json!({"band": "low"}), "{session}");
    assert_eq!(session["status"], "PAYMENT_FAILED", "{session}");
}

#[tokio::test]
async fn every_meteroid_session_answer_drifts_until_reset() {
    let s: Running = start().await;
    let created = s.create_ok(json!({})).await;
    let id = id_of(&created);
    assert_eq!(drift(&s.base, "meteroid", taught()).await.0, 204);

    assert_drifted(&s.get(&id).await.session());
    let list = s.list("").await.json();
    let items = list["sessions"].as_array().expect("sessions");
    assert!(!items.is_empty());
    items.iter().for_each(assert_drifted);
    assert_drifted(&s.create_ok(json!({})).await);
    let cancelled = s.cancel(&id).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    assert_drifted(&cancelled.session());
    // What the store holds did not change: the control route shows it.
    assert_eq!(
        s.control_inspect(&id).await.json()["session"]["status"],
        "CANCELLED"
    );
    // An error answer is left as the vendor wrote it.
    let missing = s.get("che_1").await;
    assert!(missing.status >= 400 && !missing.text.contains("risk_score"));

    assert_eq!(reset(&s.base, "meteroid").await, 204);
    let clean = s.get(&id).await.session();
    assert_eq!(
        (clean.get("risk_score"), clean["status"].as_str()),
        (None, Some("CANCELLED"))
    );

    // `{}` resets too; a status alone leaves the fields as they are.
    drift(&s.base, "meteroid", json!({"status": "ON_HOLD"})).await;
    let only_status = s.get(&id).await.session();
    assert_eq!(
        (
            only_status.get("risk_score"),
            only_status["status"].as_str()
        ),
        (None, Some("ON_HOLD"))
    );
    drift(&s.base, "meteroid", json!({})).await;
    assert_eq!(s.get(&id).await.session()["status"], "CANCELLED");
    // Drift is per vendor: the others are untouched.
    drift(&s.base, "flowglad", taught()).await;
    assert_eq!(s.get(&id).await.session()["status"], "CANCELLED");
}

#[tokio::test]
async fn zenskar_sessions_drift_in_either_family() {
    let z = zenskar_support::start().await;
    let a = zenskar_support::id_of(&z.create_a_ok(json!({})).await);
    let b = zenskar_support::id_of(&z.create_b_ok(json!({})).await);
    let (status, _) = drift(
        &z.base,
        "zenskar",
        json!({"field": {"name": "locale", "value": "de-DE"}, "status": "on_hold"}),
    )
    .await;
    assert_eq!(status, 204);
    let got_a = z.get_a(&a).await.expect(200);
    assert_eq!(
        (
            got_a["checkout_session_status"].as_str(),
            got_a["locale"].as_str()
        ),
        (Some("on_hold"), Some("de-DE"))
    );
    let got_b = z.get_b(&b).await.expect(200);
    assert_eq!(
        (got_b["checkout_status"].as_str(), got_b["locale"].as_str()),
        (Some("on_hold"), Some("de-DE"))
    );
    let list = z.call(Method::GET, "/checkout", None).await.expect(200);
    let items = list["data"].as_array().expect("data");
    assert!(!items.is_empty());
    assert!(items
        .iter()
        .all(|i| i["checkout_session_status"] == "on_hold"));
    assert!(
        list.get("locale").is_none(),
        "the list envelope is not a session"
    );
}

#[tokio::test]
async fn bad_drifts_are_refused_naming_the_field() {
    let s = start().await;
    for (body, names) in [
        (json!({"field": {"name": "", "value": 1}}), "field.name"),
        (json!({"status": ""}), "status"),
        (json!({"field": {"name": "x"}}), "value"),
        (json!({"colour": "red"}), "colour"),
    ] {
        let (status, text) = drift(&s.base, "meteroid", body.clone()).await;
        assert_eq!(status, 400, "{body}: {text}");
        assert!(text.contains(names), "{body}: {text}");
    }
    let id = id_of(&s.create_ok(json!({})).await);
    assert!(s.get(&id).await.session().get("risk_score").is_none());
}
