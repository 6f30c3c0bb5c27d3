//! What only Frontier does, behind the gateway: two protocols (Connect with
//! Basic client credentials, legacy REST with a bearer token and the org in
//! the id), URL placeholders, products and setups, its errors. The checks
//! every vendor passes are in `vendors.rs`.

use std::time::Duration;

use checkout_gateway_e2e::{code, header, json_of, start_with, Stack, CLIENT_KEY};
use sandbox::frontier::seed;
use serde_json::{json, Value};

fn config(extra: &str) -> String {
    format!(
        r#"
        [providers.frontier.accounts.default]
        base_url = "{{sandbox}}/frontier"
        client_id = "{id}"
        client_secret = "{secret}"
        [providers.frontier.accounts.legacy]
        base_url = "{{sandbox}}/frontier"
        protocol = "rest"
        bearer_token = "{token}"
        [clients.main]
        key = "{CLIENT_KEY}"
        accounts = ["frontier:default", "frontier:legacy"]
        {extra}
        "#,
        id = seed::CLIENT_ID,
        secret = seed::CLIENT_SECRET,
        token = seed::BEARER_TOKEN,
    )
}

async fn start(extra: &str) -> Stack {
    start_with(&config(extra)).await
}

fn create_body(account: &str) -> Value {
    json!({
        "provider": "frontier",
        "account": account,
        "customer": seed::ORG_ACME_ID_TEXT,
        "plan": seed::PLAN_STARTER_ID_TEXT,
    })
}

/// A checkout made at the sandbox's Connect API, unseen by the gateway.
async fn vendor_checkout(s: &Stack) -> String {
    let body: Value = s
        .http
        .post(format!(
            "{}/frontier/raystack.frontier.v1beta1.FrontierService/CreateCheckout",
            s.sandbox
        ))
        .basic_auth(seed::CLIENT_ID, Some(seed::CLIENT_SECRET))
        .json(&json!({
            "org_id": seed::ORG_ACME_ID_TEXT,
            "product_body": {"product": seed::PRODUCT_CREDITS_ID_TEXT}
        }))
        .send()
        .await
        .expect("sandbox create")
        .json()
        .await
        .expect("sandbox create body");
    body["checkout_session"]["id"]
        .as_str()
        .expect("checkout id")
        .to_owned()
}

/// Move a sandbox checkout (control route).
async fn control(s: &Stack, checkout_id: &str, body: Value) {
    s.sandbox_control(&format!("/frontier/sessions/{checkout_id}"), body)
        .await;
}

#[tokio::test]
async fn connect_create_fills_the_url_placeholder() {
    let s = start("").await;
    let mut body = create_body("default");
    body["success_url"] = json!("https://app.example/billing?checkout={{.CheckoutID}}");
    body["cancel_url"] = json!("https://app.example/billing");
    body["provider_options"] = json!({"skip_trial": true});
    let (status, _, created) = json_of(s.create(body).send().await.unwrap()).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let checkout = id.strip_prefix("frontier:default:").expect("Connect id");
    assert_eq!(checkout.len(), 36, "{id}");
    assert_eq!(created["purpose"], "subscription");
    assert_eq!(
        created["plan"],
        json!({"id": seed::PLAN_STARTER_ID_TEXT, "kind": "plan"})
    );
    assert_eq!(created["customer"]["id"], seed::ORG_ACME_ID_TEXT);
    assert_eq!(created["payment_status"], Value::Null);
    assert_eq!(
        created["success_url"],
        format!("https://app.example/billing?checkout={checkout}"),
        "Frontier filled the placeholder the gateway passed through"
    );
    assert!(created["url"]
        .as_str()
        .unwrap()
        .starts_with("https://checkout.stripe.com/"));
    assert!(created["expires_at"].is_string());
}

#[tokio::test]
async fn get_misses_then_hits_on_both_protocols() {
    let s = start("").await;
    let checkout = vendor_checkout(&s).await;
    let connect_id = format!("frontier:default:{checkout}");
    let (status, headers, first) = json_of(
        s.session(&format!("{connect_id}?include=raw"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(header(&headers, "x-cache"), "miss");
    assert_eq!(first["purpose"], "purchase");
    assert_eq!(first["plan"]["kind"], "product");
    assert_eq!(
        first["customer"],
        Value::Null,
        "a Connect get does not name the org"
    );
    assert_eq!(first["raw"]["checkout_session"]["id"], checkout.as_str());
    assert!(first["raw"]["checkout_session"].get("plan").is_none());
    let r = s.session(&connect_id).send().await.unwrap();
    assert_eq!(header(r.headers(), "x-cache"), "hit");
    assert_eq!(s.calls("frontier", "get"), 1);

    // The same checkout through the legacy account: the org is in the id.
    let legacy_id = format!("frontier:legacy:{}:{checkout}", seed::ORG_ACME_ID_TEXT);
    let (status, headers, legacy) = json_of(
        s.session(&format!("{legacy_id}?include=raw"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{legacy}");
    assert_eq!(header(&headers, "x-cache"), "miss");
    assert_eq!(
        legacy["provider_session_id"],
        format!("{}:{checkout}", seed::ORG_ACME_ID_TEXT)
    );
    assert_eq!(legacy["customer"]["id"], seed::ORG_ACME_ID_TEXT);
    assert_eq!(
        legacy["raw"]["checkout_session"]["plan"], "",
        "legacy emits empties"
    );
    assert!(legacy["raw"]["checkout_session"]["metadata"].is_null());
    let r = s.session(&legacy_id).send().await.unwrap();
    assert_eq!(header(r.headers(), "x-cache"), "hit");
    assert_eq!(s.calls("frontier", "get"), 2);
}

#[tokio::test]
async fn legacy_create_and_state_change() {
    let s = start("").await;
    let (status, _, created) = json_of(s.create(create_body("legacy")).send().await.unwrap()).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let prefix = format!("frontier:legacy:{}:", seed::ORG_ACME_ID_TEXT);
    let checkout = id
        .strip_prefix(&prefix)
        .expect("legacy id carries the org")
        .to_owned();
    assert_eq!(created["status"], "open");

    control(&s, &checkout, json!({"state": "complete"})).await;
    let (_, _, fresh) = json_of(s.fresh_session(&id).send().await.unwrap()).await;
    assert_eq!(fresh["status"], "complete");
    assert_eq!(fresh["provider_status"]["status"], "complete");
    assert_eq!(
        fresh["payment_status"],
        Value::Null,
        "Frontier does not say"
    );
    assert_eq!(
        fresh["url"],
        Value::Null,
        "a finished Stripe page is not offered"
    );

    // Paid, so the org has the plan now: Connect says so with a 409.
    let (status, _, err) = json_of(s.create(create_body("default")).send().await.unwrap()).await;
    assert_eq!((status, code(&err)), (409, "provider_conflict"), "{err}");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("already subscribed"));
}

#[tokio::test]
async fn expiry_is_derived_before_frontier_syncs() {
    let s = start("").await;
    let checkout = vendor_checkout(&s).await;
    let soon = chrono::Utc::now() + chrono::Duration::milliseconds(1200);
    control(&s, &checkout, json!({"expire_at": soon.to_rfc3339()})).await;
    tokio::time::sleep(Duration::from_millis(2300)).await;
    let (_, _, got) = json_of(
        s.session(&format!("frontier:default:{checkout}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(got["status"], "expired");
    assert_eq!(got["provider_status"]["status"], "open");
}

#[tokio::test]
async fn products_and_setups_through_provider_options() {
    let s = start("").await;
    let mut body = create_body("default");
    body.as_object_mut().unwrap().remove("plan");
    body["quantity"] = json!(4);
    body["provider_options"] = json!({"product_body": {"product": seed::PRODUCT_CREDITS_ID_TEXT}});
    let (status, _, bought) = json_of(s.create(body).send().await.unwrap()).await;
    assert_eq!(status, 201, "{bought}");
    assert_eq!(bought["purpose"], "purchase");
    assert_eq!(bought["plan"]["id"], seed::PRODUCT_CREDITS_ID_TEXT);
    let checkout = bought["provider_session_id"].as_str().unwrap();
    let private: Value = s
        .http
        .get(format!(
            "{}/_sandbox/frontier/sessions/{checkout}",
            s.sandbox
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(private["quantity"], 4, "sent as protojson's int64 string");

    let mut body = create_body("legacy");
    body.as_object_mut().unwrap().remove("plan");
    body["provider_options"] = json!({"setup_body": {"payment_method": true}});
    let (status, _, setup) = json_of(s.create(body).send().await.unwrap()).await;
    assert_eq!(status, 201, "{setup}");
    assert_eq!(setup["purpose"], "setup");
    assert_eq!(setup["plan"], Value::Null);
}

#[tokio::test]
async fn refusals_before_any_call() {
    let s = start("").await;
    let cases = [
        (
            json!({"provider_options": {"setup_body": {"customer_portal": true}}}),
            true,
            422,
            "unsupported_field",
            "customer_portal",
        ),
        (
            json!({"metadata": {"order": "1"}}),
            false,
            422,
            "unsupported_field",
            "metadata",
        ),
        (
            json!({"expires_at": "2030-01-01T00:00:00Z"}),
            false,
            422,
            "unsupported_field",
            "expires_at",
        ),
        (
            json!({"quantity": 3}),
            false,
            422,
            "unsupported_field",
            "quantity",
        ),
        (
            json!({"provider_options": {"trial_days": 3}}),
            false,
            422,
            "unsupported_field",
            "provider_options.trial_days",
        ),
        (
            json!({"provider_options": {"product_body": {"product": "x"}}}),
            false,
            400,
            "invalid_request",
            "only one of",
        ),
    ];
    for (extra, drop_plan, status, want, needle) in cases {
        let mut body = create_body("default");
        if drop_plan {
            body.as_object_mut().unwrap().remove("plan");
        }
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (got, _, err) = json_of(s.create(body).send().await.unwrap()).await;
        assert_eq!((got, code(&err)), (status, want), "{err}");
        assert!(
            err["error"]["message"].as_str().unwrap().contains(needle),
            "{err}"
        );
    }
    let mut body = create_body("legacy");
    body["customer"] = json!("acme/../admin");
    let (status, _, err) = json_of(s.create(body).send().await.unwrap()).await;
    assert_eq!((status, code(&err)), (400, "invalid_request"), "{err}");
    assert_eq!(s.calls("frontier", "create"), 0);

    let checkout = "5b0f8b4e-3c1d-4f7a-9e2b-6d8c1a4f0e37";
    for (id, want) in [
        (
            format!("frontier:default:{}", checkout.to_uppercase()),
            "invalid_id",
        ),
        ("frontier:default:cs_test_a1B2c3".to_owned(), "invalid_id"),
        (format!("frontier:default:ab:{checkout}"), "invalid_id"),
        (
            format!("frontier:default:{}:{checkout}", seed::ORG_ACME_ID_TEXT),
            "invalid_id",
        ),
        (format!("frontier:legacy:{checkout}"), "invalid_id"),
    ] {
        let (status, _, err) = json_of(s.session(&id).send().await.unwrap()).await;
        assert_eq!((status, code(&err)), (400, want), "{id}: {err}");
    }
    assert_eq!(s.calls("frontier", "get"), 0);
}

#[tokio::test]
async fn vendor_errors_map_to_the_canonical_model() {
    let s = start("").await;
    let unknown = "5b0f8b4e-3c1d-4f7a-9e2b-6d8c1a4f0e37";
    let (status, _, err) = json_of(
        s.session(&format!("frontier:default:{unknown}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code(&err)), (404, "not_found"), "{err}");
    assert_eq!(err["error"]["provider_http_status"], 404);
    // Legacy Frontier answers an unknown checkout with a sanitised 500: read
    // as not found (and never counted against the vendor).
    let (status, _, err) = json_of(
        s.session(&format!(
            "frontier:legacy:{}:{unknown}",
            seed::ORG_ACME_ID_TEXT
        ))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!((status, code(&err)), (404, "not_found"), "{err}");
    assert_eq!(err["error"]["provider_http_status"], 500);

    // The legacy account's token administers Acme only.
    let mut body = create_body("legacy");
    body["customer"] = json!(seed::ORG_GLOBEX_ID.to_string());
    let (status, _, err) = json_of(s.create(body).send().await.unwrap()).await;
    assert_eq!((status, code(&err)), (502, "provider_auth_failed"), "{err}");

    let mut body = create_body("default");
    body["plan"] = json!(seed::PLAN_RETIRED_NAME);
    let (status, _, err) = json_of(s.create(body).send().await.unwrap()).await;
    assert_eq!(
        (status, code(&err)),
        (400, "provider_invalid_request"),
        "{err}"
    );
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("failed_precondition"));

    let down = s
        .http
        .post(format!("{}/_sandbox/frontier/billing-provider", s.sandbox))
        .json(&json!({"available": false}))
        .send()
        .await
        .unwrap();
    assert!(down.status().is_success());
    let (status, _, err) = json_of(s.create(create_body("default")).send().await.unwrap()).await;
    assert_eq!((status, code(&err)), (503, "provider_unavailable"), "{err}");
    assert_eq!(err["error"]["retryable"], true);
}

#[tokio::test]
async fn providers_lists_frontier_with_its_options() {
    let s = start("").await;
    let (_, _, providers) = json_of(s.get("/v1/providers").send().await.unwrap()).await;
    let frontier = providers["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["provider"] == "frontier")
        .cloned()
        .expect("frontier listed");
    assert_eq!(
        frontier["capabilities"]["provider_options"],
        json!([
            "product_body",
            "setup_body",
            "skip_trial",
            "cancel_after_trial"
        ])
    );
}
