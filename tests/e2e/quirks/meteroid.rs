//! What only Meteroid does, behind the gateway: its shapes, its id format,
//! its lifecycle and its create options. The checks every vendor passes
//! are in `vendors.rs`.

use std::time::Duration;

use checkout_gateway_e2e::{cache, error_code, header, json_of, start};
use serde_json::json;

#[tokio::test]
async fn create_reads_back_meteroid_shapes() {
    let s = start("").await;
    let (status, _, created) = json_of(s.create(s.create_body()).send().await.unwrap()).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["purpose"], "subscription");
    assert!(created["url"]
        .as_str()
        .unwrap()
        .contains("/checkout?token="));
    assert_eq!(created["plan"]["kind"], "plan_version");
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("meteroid:default:che_"), "{id}");
}

#[tokio::test]
async fn raw_is_the_vendor_payload() {
    let s = start("").await;
    let reference = s.vendor_session().await;
    let (status, headers, body) = json_of(
        s.session(&format!("meteroid:default:{reference}?include=raw"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(header(&headers, "x-cache"), "miss");
    assert_eq!(body["raw"]["session"]["id"], reference);
    assert_eq!(body["raw"]["session"]["status"], "CREATED");
}

#[tokio::test]
async fn a_completed_session_names_its_subscription() {
    let s = start("").await;
    let reference = s.vendor_session().await;
    let id = format!("meteroid:default:{reference}");
    s.control(&reference, json!({"status": "AWAITING_PAYMENT"}))
        .await;
    s.control(&reference, json!({"status": "COMPLETED"})).await;
    let (_, _, fresh) = json_of(s.fresh_session(&id).send().await.unwrap()).await;
    assert_eq!(fresh["status"], "complete");
    assert_eq!(fresh["provider_status"]["status"], "COMPLETED");
    assert!(fresh["subscription_id"]
        .as_str()
        .unwrap()
        .starts_with("sub_"));
    assert!(fresh["completed_at"].is_string());
}

#[tokio::test]
async fn expiry_is_derived_even_from_the_cache() {
    let s = start(&cache(60, 1000)).await;
    let reference = s.vendor_session().await;
    let id = format!("meteroid:default:{reference}");
    let soon = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    s.control(&reference, json!({"expires_at": soon.to_rfc3339()}))
        .await;
    let (_, _, before) = json_of(s.session(&id).send().await.unwrap()).await;
    assert_eq!(before["status"], "open");
    tokio::time::sleep(Duration::from_millis(1700)).await;
    // The vendor still says CREATED (its worker lags); the gateway says expired.
    let (_, _, after) = json_of(s.session(&id).send().await.unwrap()).await;
    assert_eq!(after["status"], "expired");
    assert_eq!(after["provider_status"]["status"], "CREATED");
}

#[tokio::test]
async fn malformed_ids_never_reach_the_vendor() {
    let s = start("").await;
    for (id, code) in [
        ("meteroid:default:cus_19uzVEbTp1wplXRYVYOAYm", "invalid_id"),
        ("meteroid:default:che_7n42DGM5Tflk9n8mt7Fhc8", "invalid_id"),
        ("meteroid:default:che_1..", "invalid_id"),
        ("meteroid:default:che_1%2Fcancel", "invalid_id"),
        ("meteroid:default:che_1:x", "invalid_id"),
        ("meteroid:default", "invalid_id"),
        ("stripe:default:cs_123", "unknown_provider"),
        ("meteroid:DEFAULT:che_1", "invalid_id"),
    ] {
        let (status, headers, body) = json_of(s.session(id).send().await.unwrap()).await;
        assert_eq!(status, 400, "{id}: {body}");
        assert_eq!(error_code(&body, &headers), code, "{id}");
    }
    assert_eq!(s.upstream_calls("get"), 0);
}

#[tokio::test]
async fn vendor_errors_map_to_the_canonical_model() {
    let s = start("").await;
    // Vendor 404 → 404.
    let (status, headers, body) =
        json_of(s.session("meteroid:default:che_1").send().await.unwrap()).await;
    assert_eq!(
        (status, error_code(&body, &headers).as_str()),
        (404, "not_found")
    );
    assert_eq!(body["error"]["provider"], "meteroid");
    assert_eq!(body["error"]["provider_http_status"], 404);
    // Unknown customer on create → vendor 404.
    let mut create = s.create_body();
    create["customer"] = json!("no-such-alias");
    let (status, headers, body) = json_of(s.create(create).send().await.unwrap()).await;
    assert_eq!(
        (status, error_code(&body, &headers).as_str()),
        (404, "not_found"),
        "{body}"
    );
    // A provider option of the wrong shape deep inside → the vendor's own 422 text.
    let mut create = s.create_body();
    create["provider_options"] = json!({"components": {"remove_components": "price_1"}});
    let (status, headers, body) = json_of(s.create(create).send().await.unwrap()).await;
    assert_eq!(
        (status, error_code(&body, &headers).as_str()),
        (422, "provider_invalid_request"),
        "{body}"
    );
}

/// Meteroid takes `quantity` 1 only (its capabilities say so): the fields
/// it takes not at all are refused in `vendors.rs`.
#[tokio::test]
async fn create_refuses_a_quantity_other_than_one_before_calling_it() {
    let s = start("").await;
    let mut body = s.create_body();
    body["quantity"] = json!(2);
    let (status, headers, err) = json_of(s.create(body).send().await.unwrap()).await;
    assert_eq!(
        (status, error_code(&err, &headers).as_str()),
        (422, "unsupported_field"),
        "{err}"
    );
    let message = err["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("quantity") && message.contains("meteroid"),
        "{message}"
    );
    assert_eq!(s.upstream_calls("create"), 0);
}

#[tokio::test]
async fn create_passes_every_provider_option_through() {
    let s = start("").await;
    let mut body = s.create_body();
    body["metadata"] = json!({"order": "1234"});
    body["provider_options"] = json!({
        "expires_in_hours": 0,
        "coupon_code": "WELCOME10",
        "trial_duration_days": 14,
        "net_terms": 30,
        "billing_day_anchor": 1,
        "payment_methods_config": {"type": "online", "config": {"card": {"enabled": true}}}
    });
    let (status, _, created) = json_of(s.create(body).send().await.unwrap()).await;
    assert_eq!(status, 201, "{created}");
    assert!(
        created["expires_at"].is_null(),
        "expires_in_hours 0 never expires"
    );
    let id = created["id"].as_str().unwrap();
    let (_, _, got) = json_of(
        s.session(&format!("{id}?include=raw"))
            .header("cache-control", "no-cache")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let raw = &got["raw"]["session"];
    assert_eq!(raw["coupon_code"], "WELCOME10");
    assert_eq!(raw["trial_duration_days"], 14);
    assert_eq!(raw["net_terms"], 30);
    assert_eq!(raw["payment_methods_config"]["type"], "online");
}

/// Current Meteroid takes `success_url`/`cancel_url` on create (SDK
/// `meteroid` 0.30.1) and returns them on the session: create, get and list
/// read them back as given.
#[tokio::test]
async fn redirect_urls_pass_through_and_read_back() {
    let s = start("").await;
    let ok = "https://shop.example/welcome?plan=starter";
    let no = "https://shop.example/pricing";
    let mut body = s.create_body();
    body["success_url"] = json!(ok);
    body["cancel_url"] = json!(no);
    let (status, _, created) = json_of(s.create(body).send().await.unwrap()).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        (
            created["success_url"].as_str(),
            created["cancel_url"].as_str()
        ),
        (Some(ok), Some(no))
    );
    let id = created["id"].as_str().unwrap().to_owned();

    let (status, _, got) = json_of(
        s.fresh_session(&format!("{id}?include=raw"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(
        (got["success_url"].as_str(), got["cancel_url"].as_str()),
        (Some(ok), Some(no))
    );
    // The vendor holds them too: not just the gateway's memory of the create.
    assert_eq!(got["raw"]["session"]["success_url"], ok);
    assert_eq!(got["raw"]["session"]["cancel_url"], no);

    let (status, _, page) = json_of(
        s.get("/v1/checkout-sessions?accounts=meteroid:default&limit=100")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let listed = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == id.as_str())
        .unwrap_or_else(|| panic!("{id} not listed: {page}"));
    assert_eq!(
        (
            listed["success_url"].as_str(),
            listed["cancel_url"].as_str()
        ),
        (Some(ok), Some(no))
    );
    assert_eq!(s.upstream_calls("create"), 1);

    // Without them the session says `null`, as before.
    let (_, _, plain) = json_of(s.create(s.create_body()).send().await.unwrap()).await;
    assert!(
        plain["success_url"].is_null() && plain["cancel_url"].is_null(),
        "{plain}"
    );
}

/// An account whose deployment predates redirect URLs (`api_level =
/// "2026-08"`) refuses each with 422 naming it, before any call, and its own
/// capabilities leave both out.
#[tokio::test]
async fn an_account_predating_redirect_urls_refuses_them_by_name() {
    let s = start(&format!(
        r#"
        [providers.meteroid.accounts.older]
        base_url = "{{sandbox}}/meteroid"
        api_key = "{key}"
        api_level = "2026-08"
        [clients.older]
        key = "test-client-key-00000000000000003"
        accounts = ["meteroid:older"]
        "#,
        key = sandbox::DEMO_METEROID_API_KEY,
    ))
    .await;
    let as_older = |body: serde_json::Value| {
        s.http
            .post(format!("{}/v1/checkout-sessions", s.gateway))
            .bearer_auth("test-client-key-00000000000000003")
            .json(&body)
    };
    let mut base = s.create_body();
    base["account"] = json!("older");
    for field in ["success_url", "cancel_url"] {
        let mut body = base.clone();
        body[field] = json!("https://shop.example/x");
        let (status, headers, err) = json_of(as_older(body).send().await.unwrap()).await;
        assert_eq!(
            (status, error_code(&err, &headers).as_str()),
            (422, "unsupported_field"),
            "{field}: {err}"
        );
        let message = err["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("`{field}`")) && message.contains("predates redirect URLs"),
            "{message}"
        );
    }
    assert_eq!(s.upstream_calls("create"), 0);
    // Without them the same account creates.
    let (status, _, created) = json_of(as_older(base).send().await.unwrap()).await;
    assert_eq!(status, 201, "{created}");

    let (status, _, providers) = json_of(
        s.http
            .get(format!("{}/v1/providers", s.gateway))
            .bearer_auth("test-client-key-00000000000000003")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{providers}");
    let entry = &providers["data"][0];
    let fields = |caps: &serde_json::Value| -> Vec<String> {
        caps["create_fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().to_owned())
            .collect()
    };
    assert!(fields(&entry["capabilities"]).contains(&"success_url".to_owned()));
    let own = fields(&entry["account_capabilities"]["older"]);
    assert!(
        !own.iter().any(|f| f == "success_url" || f == "cancel_url"),
        "{providers}"
    );
}
