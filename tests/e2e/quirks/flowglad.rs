//! What only Flowglad does, behind the gateway: its session types, field
//! limits, id format, errors and rate limits. The checks every vendor
//! passes are in `vendors.rs`.

use std::time::Duration;

use checkout_gateway_e2e::{cache, flowglad_config, header, json_of, start_with, Stack};
use sandbox::flowglad::seed;
use serde_json::{json, Value};

async fn start(open_ttl_secs: u64) -> Stack {
    start_with(&flowglad_config(&cache(open_ttl_secs, 1000))).await
}

fn create_body() -> Value {
    json!({
        "provider": "flowglad", "account": "default",
        "customer": sandbox::flowglad::seed::CUSTOMER_ACME_EXTERNAL_ID,
        "plan": sandbox::flowglad::seed::PRICE_PRO_MONTHLY_ID,
        "quantity": 2,
        "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no",
        "metadata": {"order": "1234", "seats": 2, "gift": false}
    })
}

/// `POST /_sandbox/flowglad/<path>`; asserts the sandbox agreed.
async fn control(s: &Stack, path: &str, body: Value) -> Value {
    let text = s.sandbox_control(&format!("/flowglad{path}"), body).await;
    serde_json::from_str(&text).expect("control JSON")
}

/// A session created at the sandbox directly (the gateway has never seen it).
async fn vendor_session(s: &Stack) -> String {
    let body: Value = s
        .http
        .post(format!("{}/flowglad/api/v1/checkout-sessions", s.sandbox))
        .bearer_auth(seed::API_KEY)
        .json(&json!({"checkoutSession": {
            "type": "product", "customerExternalId": seed::CUSTOMER_GLOBEX_EXTERNAL_ID,
            "priceSlug": seed::PRICE_LIFETIME_SLUG,
            "successUrl": "https://shop.example/ok", "cancelUrl": "https://shop.example/no"
        }}))
        .send()
        .await
        .expect("sandbox create")
        .json()
        .await
        .expect("sandbox create body");
    body["checkoutSession"]["id"]
        .as_str()
        .expect("session id")
        .to_owned()
}

#[tokio::test]
async fn create_read_and_see_the_session_complete() {
    let s = start(60).await;
    let (status, _, created) = json_of(s.create(create_body()).send().await.unwrap()).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let reference = id.rsplit(':').next().unwrap().to_owned();
    assert!(id.starts_with("flowglad:default:chckt_session_"), "{id}");
    assert_eq!(created["purpose"], "purchase");
    assert_eq!(created["payment_status"], Value::Null);
    assert_eq!(
        created["url"],
        format!("{}/flowglad/checkout/{reference}", s.sandbox)
    );
    assert_eq!(
        created["plan"],
        json!({"id": seed::PRICE_PRO_MONTHLY_ID, "kind": "price"})
    );
    assert_eq!(created["quantity"], 2);
    assert_eq!(
        created["customer"],
        json!({"id": seed::CUSTOMER_ACME_ID, "external_id": "acme",
               "email": seed::CUSTOMER_ACME_EMAIL, "name": seed::CUSTOMER_ACME_NAME})
    );
    assert_eq!(
        created["metadata"],
        json!({"order": "1234", "seats": 2, "gift": false})
    );
    assert_eq!(created["success_url"], "https://shop.example/ok");
    assert_eq!(created["livemode"], false);
    let created_at =
        chrono::DateTime::parse_from_rfc3339(created["created_at"].as_str().unwrap()).unwrap();
    let expires_at =
        chrono::DateTime::parse_from_rfc3339(created["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(expires_at - created_at, chrono::Duration::hours(24));

    // Read back, Flowglad no longer says which external id it was.
    let (_, _, read) = json_of(s.fresh_session(&id).send().await.unwrap()).await;
    assert_eq!(read["status"], "open");
    assert_eq!(read["customer"]["external_id"], Value::Null);

    // The customer pays.
    control(
        &s,
        &format!("/sessions/{reference}"),
        json!({"status": "pending"}),
    )
    .await;
    control(
        &s,
        &format!("/sessions/{reference}"),
        json!({"status": "succeeded", "payment_method_type": "card"}),
    )
    .await;
    let (_, _, done) = json_of(
        s.fresh_session(&format!("{id}?include=raw"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(done["status"], "complete");
    assert_eq!(done["provider_status"]["status"], "succeeded");
    assert!(done["raw"]["checkoutSession"]["purchaseId"]
        .as_str()
        .unwrap()
        .starts_with("prch_"));
    assert!(done["raw"]["checkoutSession"]["createdAt"].is_i64());
}

#[tokio::test]
async fn a_vendor_session_reads_its_customer_and_expiry_is_derived() {
    let s = start(60).await;
    let reference = vendor_session(&s).await;
    let id = format!("flowglad:default:{reference}");
    let (status, _, first) = json_of(s.session(&id).send().await.unwrap()).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["customer"]["name"], seed::CUSTOMER_GLOBEX_NAME);
    assert_eq!(first["plan"]["id"], seed::PRICE_LIFETIME_ID);

    // Flowglad never expires a session: the gateway derives it from `expires`.
    let soon = chrono::Utc::now() + chrono::Duration::milliseconds(1200);
    control(
        &s,
        &format!("/sessions/{reference}"),
        json!({"expires_at": soon.to_rfc3339()}),
    )
    .await;
    let (_, _, before) = json_of(
        s.session(&id)
            .header("cache-control", "no-cache")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(before["status"], "open");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, h, after) = json_of(s.session(&id).send().await.unwrap()).await;
    assert_eq!(after["status"], "expired");
    assert_eq!(after["provider_status"]["status"], "open");
    let (_, _, fresh) = json_of(
        s.session(&id)
            .header("cache-control", "no-cache")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (
            fresh["status"].as_str(),
            fresh["provider_status"]["status"].as_str()
        ),
        (Some("expired"), Some("open")),
        "{}",
        header(&h, "x-cache")
    );
}

#[tokio::test]
async fn every_session_type_through_the_gateway() {
    let s = start(60).await;
    let urls =
        json!({"success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no"});
    let with = |v: Value| {
        let mut v = v;
        if let (Some(o), Some(u)) = (v.as_object_mut(), urls.as_object()) {
            o.extend(u.clone());
        }
        v
    };
    // Anonymous, by price slug.
    let (status, _, anon) = json_of(
        s.create(with(json!({"provider": "flowglad", "account": "default",
            "plan": format!("price_slug:{}", seed::PRICE_LIFETIME_SLUG),
            "provider_options": {"anonymous": true, "outputName": "Lifetime"}})))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{anon}");
    assert_eq!(anon["customer"], Value::Null);
    assert_eq!(anon["plan"]["id"], seed::PRICE_LIFETIME_ID);
    // Add a payment method: the create URL, and the same after a vendor read.
    let (status, _, apm) = json_of(
        s.create(with(
            json!({"provider": "flowglad", "account": "default", "customer": "globex",
            "provider_options": {"type": "add_payment_method",
                                 "targetSubscriptionId": seed::SUBSCRIPTION_GLOBEX_ID}}),
        ))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{apm}");
    assert_eq!(apm["purpose"], "setup");
    assert_eq!(
        (apm["plan"].clone(), apm["quantity"].clone()),
        (Value::Null, Value::Null)
    );
    assert_eq!(apm["subscription_id"], seed::SUBSCRIPTION_GLOBEX_ID);
    let apm_ref = apm["provider_session_id"].as_str().unwrap();
    let want = format!("{}/flowglad/add-payment-method/{apm_ref}", s.sandbox);
    assert_eq!(apm["url"], want);
    let (_, _, reread) = json_of(
        s.session(&format!("{}?include=raw", apm["id"].as_str().unwrap()))
            .header("cache-control", "no-cache")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reread["url"], want);
    assert!(reread["raw"]["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/checkout/{apm_ref}")));
    // Activate a subscription.
    let (status, _, act) = json_of(
        s.create(with(
            json!({"provider": "flowglad", "account": "default", "customer": "acme",
            "provider_options": {"type": "activate_subscription",
                                 "targetSubscriptionId": seed::SUBSCRIPTION_ACME_ID,
                                 "preserveBillingCycleAnchor": true}}),
        ))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{act}");
    assert_eq!(act["purpose"], "subscription_activation");
    assert_eq!(act["subscription_id"], seed::SUBSCRIPTION_ACME_ID);
    assert_eq!(act["plan"]["id"], seed::PRICE_PRO_MONTHLY_ID);
    assert_eq!(s.calls("flowglad", "create"), 3);
}

#[tokio::test]
async fn create_refuses_what_flowglad_cannot_honour_before_calling_it() {
    let s = start(60).await;
    let cases = [
        (
            json!({"expires_at": "2030-01-01T00:00:00Z"}),
            422,
            "unsupported_field",
            "expires_at",
        ),
        (
            json!({"success_url": null}),
            400,
            "invalid_request",
            "success_url",
        ),
        // 300 characters pass the gateway's own limit, but are 600 UTF-16
        // units: JavaScript's length, which Flowglad's 500 counts.
        (
            json!({"metadata": {"note": "😀".repeat(300)}}),
            422,
            "unsupported_field",
            "metadata.note",
        ),
        (
            json!({"metadata": {"id": 9_007_199_254_740_993u64}}),
            422,
            "unsupported_field",
            "metadata.id",
        ),
        (
            json!({"provider_options": {"trialDays": 3}}),
            422,
            "unsupported_field",
            "provider_options.trialDays",
        ),
        (
            json!({"provider_options": {"priceSlug": "pro_monthly"}}),
            400,
            "invalid_request",
            "not both",
        ),
        (
            json!({"provider_options": {"type": "add_payment_method"}}),
            422,
            "unsupported_field",
            "plan",
        ),
    ];
    for (changes, want_status, want_code, needle) in cases {
        let mut body = create_body();
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        let (status, _, err) = json_of(s.create(body).send().await.unwrap()).await;
        assert_eq!(
            (status, err["error"]["code"].as_str()),
            (want_status, Some(want_code)),
            "{needle}: {err}"
        );
        let message = err["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(needle) && message.contains("flowglad"),
            "{message}"
        );
    }
    assert_eq!(s.calls("flowglad", "create"), 0);
}

#[tokio::test]
async fn vendor_errors_map_to_the_canonical_model() {
    let s = start(60).await;
    // Unknown customer: the vendor's 400 and its message, with its request id.
    let mut body = create_body();
    body["customer"] = json!("nobody");
    let (status, _, err) = json_of(s.create(body).send().await.unwrap()).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (400, Some("provider_invalid_request")),
        "{err}"
    );
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Required customer not found"));
    let vendor_request_id = err["error"]["provider_request_id"].as_str().unwrap();
    assert_eq!(vendor_request_id.len(), 8);

    // An id Flowglad does not have: its 500 is read as not found.
    let (status, _, err) = json_of(
        s.session("flowglad:default:chckt_session_000000000000000000000")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (404, Some("not_found")),
        "{err}"
    );
    assert_eq!(err["error"]["provider_http_status"], 500);
    assert!(err["error"]["provider_request_id"].is_string());

    // Rate limits arrive as 401s: retryable only when the text says so.
    let reference = vendor_session(&s).await;
    let id = format!("flowglad:default:{reference}");
    control(&s, "/rate-limit", json!({"requests": 1})).await;
    let (status, _, err) = json_of(s.session(&id).send().await.unwrap()).await;
    assert_eq!(
        (
            status,
            err["error"]["code"].as_str(),
            err["error"]["retryable"].as_bool()
        ),
        (502, Some("provider_auth_failed"), Some(false))
    );
    control(
        &s,
        "/rate-limit",
        // The gateway retries a rate-limited read twice (resilience.max_retries
        // default): three limited answers exhaust it.
        json!({"requests": 3, "message": "Rate limit exceeded for this API key"}),
    )
    .await;
    let (status, _, err) = json_of(s.session(&id).send().await.unwrap()).await;
    assert_eq!(
        (
            status,
            err["error"]["code"].as_str(),
            err["error"]["retryable"].as_bool()
        ),
        (429, Some("rate_limited"), Some(true)),
        "{err}"
    );
    assert_eq!(err["error"]["provider_http_status"], 401);
    // Errors are not cached: the next read works.
    assert_eq!(s.session(&id).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn malformed_ids_never_reach_flowglad() {
    let s = start(60).await;
    for id in [
        "flowglad:default:chckt_session_short",
        "flowglad:default:chckt_session_000000000000000000000x",
        "flowglad:default:cs_test_000000000000000000000",
        "flowglad:default:che_7n42DGM5Tflk9n8mt7Fhc7",
        "flowglad:default:chckt_session_0000000000000000000-0",
    ] {
        let (status, _, body) = json_of(s.session(id).send().await.unwrap()).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("invalid_id")),
            "{id}"
        );
    }
    assert_eq!(s.calls("flowglad", "get"), 0);
}

#[tokio::test]
async fn providers_lists_flowglad_and_its_options() {
    let s = start(60).await;
    let (_, _, providers) = json_of(s.get("/v1/providers").send().await.unwrap()).await;
    let flowglad = providers["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["provider"] == "flowglad")
        .expect("flowglad listed")
        .clone();
    let options = flowglad["capabilities"]["provider_options"].clone();
    for option in ["type", "anonymous", "priceSlug", "targetSubscriptionId"] {
        assert!(
            options.as_array().unwrap().contains(&json!(option)),
            "{option}"
        );
    }
}
