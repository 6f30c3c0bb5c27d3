//! The gateway in front of the Meteroid sandbox, over real sockets.

use std::time::Duration;

use checkout_gateway_e2e::{cache, header, json_of, start, Stack, OTHER_CLIENT_KEY};
use serde_json::{json, Value};

/// Assert the canonical error shape and return its code.
fn error_code(body: &Value, headers: &reqwest::header::HeaderMap) -> String {
    let e = &body["error"];
    for field in ["type", "code", "message", "retryable"] {
        assert!(!e[field].is_null(), "error lacks {field}: {body}");
    }
    assert_eq!(
        e["request_id"],
        header(headers, "x-request-id"),
        "error carries the request id"
    );
    e["code"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn create_then_get_returns_the_canonical_session() {
    let s = start("").await;
    let (status, headers, created) = json_of(s.create(s.create_body()).send().await.unwrap()).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["object"], "checkout_session");
    assert_eq!(created["provider"], "meteroid");
    assert_eq!(created["status"], "open");
    assert_eq!(created["purpose"], "subscription");
    assert!(created["url"]
        .as_str()
        .unwrap()
        .contains("/checkout?token="));
    assert_eq!(created["plan"]["kind"], "plan_version");
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("meteroid:default:che_"), "{id}");
    assert_eq!(
        header(&headers, "location"),
        format!("/v1/checkout-sessions/{id}")
    );
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));

    // Create populated the cache.
    let (status, headers, got) = json_of(s.session(&id).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "x-cache"), "hit");
    assert_eq!(got["id"], created["id"]);
    assert_eq!(s.upstream_calls("get"), 0);

    // no-cache goes to the vendor.
    let r = s
        .session(&id)
        .header("cache-control", "no-cache")
        .send()
        .await
        .unwrap();
    assert_eq!(header(r.headers(), "x-cache"), "bypass");
    assert_eq!(s.upstream_calls("get"), 1);
}

#[tokio::test]
async fn one_hundred_concurrent_misses_make_one_upstream_call() {
    let s = start("").await;
    let reference = s.vendor_session().await;
    let id = format!("meteroid:default:{reference}");
    let requests = (0..100).map(|_| {
        let r = s.session(&id).send();
        async move { r.await.expect("answer").status().as_u16() }
    });
    let statuses = futures::future::join_all(requests).await;
    assert!(statuses.iter().all(|&c| c == 200), "{statuses:?}");
    assert_eq!(s.upstream_calls("get"), 1);
    let r = s.session(&id).send().await.unwrap();
    assert_eq!(header(r.headers(), "x-cache"), "hit");
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
    let (_, _, plain) = json_of(
        s.session(&format!("meteroid:default:{reference}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(plain.get("raw").is_none());
}

#[tokio::test]
async fn status_follows_the_vendor_after_the_open_ttl() {
    let s = start(&cache(1, 1000)).await;
    let reference = s.vendor_session().await;
    let id = format!("meteroid:default:{reference}");
    let (_, _, first) = json_of(s.session(&id).send().await.unwrap()).await;
    assert_eq!(first["status"], "open");
    s.control(&reference, json!({"status": "AWAITING_PAYMENT"}))
        .await;
    s.control(&reference, json!({"status": "COMPLETED"})).await;
    let (_, h, cached) = json_of(s.session(&id).send().await.unwrap()).await;
    assert_eq!(
        (header(&h, "x-cache"), cached["status"].as_str()),
        ("hit", Some("open"))
    );
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let (_, h, fresh) = json_of(s.session(&id).send().await.unwrap()).await;
    assert_eq!(header(&h, "x-cache"), "miss");
    assert_eq!(fresh["status"], "complete");
    assert_eq!(fresh["provider_status"]["status"], "COMPLETED");
    assert!(fresh["subscription_id"]
        .as_str()
        .unwrap()
        .starts_with("sub_"));
    assert!(fresh["completed_at"].is_string());
    // Terminal sessions stay cached.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let r = s.session(&id).send().await.unwrap();
    assert_eq!(header(r.headers(), "x-cache"), "hit");
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
async fn clients_see_only_their_accounts_and_auth_comes_first() {
    let s = start("").await;
    let reference = s.vendor_session().await;
    let id = format!("meteroid:default:{reference}");
    assert_eq!(s.session(&id).send().await.unwrap().status(), 200); // now cached

    let r = s
        .http
        .get(format!("{}/v1/checkout-sessions/{id}", s.gateway))
        .send()
        .await
        .unwrap();
    let (status, headers, body) = json_of(r).await;
    assert_eq!(
        (status, error_code(&body, &headers).as_str()),
        (401, "unauthenticated")
    );
    assert_eq!(header(&headers, "www-authenticate"), "Bearer");
    let r = s
        .http
        .get(format!("{}/v1/checkout-sessions/{id}", s.gateway))
        .bearer_auth("nope-nope-nope-nope")
        .send();
    assert_eq!(r.await.unwrap().status(), 401);

    // Another client's key: the cached session is invisible, and so is the account.
    let calls = s.upstream_calls("get");
    let r = s
        .http
        .get(format!("{}/v1/checkout-sessions/{id}", s.gateway))
        .bearer_auth(OTHER_CLIENT_KEY)
        .send();
    let (status, headers, body) = json_of(r.await.unwrap()).await;
    assert_eq!(
        (status, error_code(&body, &headers).as_str()),
        (404, "not_found")
    );
    assert!(headers.get("x-cache").is_none());
    let unknown = format!("meteroid:nosuchaccount:{reference}");
    let (status, _, unknown_body) = json_of(s.session(&unknown).send().await.unwrap()).await;
    assert_eq!(status, 404);
    assert_eq!(
        unknown_body["error"]["message"], body["error"]["message"],
        "forbidden and absent look alike"
    );
    assert_eq!(s.upstream_calls("get"), calls);

    let r = s
        .http
        .get(format!("{}/v1/providers", s.gateway))
        .bearer_auth(OTHER_CLIENT_KEY)
        .send();
    let (_, _, providers) = json_of(r.await.unwrap()).await;
    assert_eq!(providers["data"][0]["provider"], "meteroid");
    assert_eq!(providers["data"][0]["accounts"], json!(["other"]));
    assert!(
        providers["data"][0]["capabilities"]["provider_options"]
            .as_array()
            .unwrap()
            .len()
            > 10
    );
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
    // The vendor refusing our key is not the caller's fault → 502.
    let (status, headers, body) =
        json_of(s.session("meteroid:badkey:che_1").send().await.unwrap()).await;
    assert_eq!(
        (status, error_code(&body, &headers).as_str()),
        (502, "provider_auth_failed")
    );
    assert!(
        !body.to_string().contains("wrongwrong"),
        "the key never appears in errors"
    );
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

#[tokio::test]
async fn create_refuses_what_meteroid_cannot_honour_before_calling_it() {
    let s = start("").await;
    for (field, value) in [
        ("success_url", json!("https://shop.example/ok")),
        ("cancel_url", json!("https://shop.example/no")),
        ("expires_at", json!("2030-01-01T00:00:00Z")),
        ("quantity", json!(2)),
    ] {
        let mut body = s.create_body();
        body[field] = value;
        let (status, headers, err) = json_of(s.create(body).send().await.unwrap()).await;
        assert_eq!(
            (status, error_code(&err, &headers).as_str()),
            (422, "unsupported_field"),
            "{field}"
        );
        let message = err["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(field) && message.contains("meteroid"),
            "{message}"
        );
    }
    let mut body = s.create_body();
    body["provider_options"] = json!({"trial_days": 3});
    let (status, _, err) = json_of(s.create(body).send().await.unwrap()).await;
    assert_eq!(status, 422);
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("provider_options.trial_days"));
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

#[tokio::test]
async fn bad_requests_are_json_errors_naming_the_reason() {
    let s = start("[server]\nlisten = \"127.0.0.1:0\"\nmax_body_bytes = 2048").await;
    let url = format!("{}/v1/checkout-sessions", s.gateway);
    let cases = [
        (
            s.http
                .post(&url)
                .bearer_auth(checkout_gateway_e2e::CLIENT_KEY)
                .body("{}"),
            415,
            "unsupported_media_type",
        ),
        (
            s.http
                .post(&url)
                .bearer_auth(checkout_gateway_e2e::CLIENT_KEY)
                .header("content-type", "application/json")
                .body("{"),
            400,
            "invalid_request",
        ),
        (
            s.http
                .post(&url)
                .bearer_auth(checkout_gateway_e2e::CLIENT_KEY)
                .header("content-type", "application/json")
                .body(format!(
                    "{{\"provider\":\"meteroid\",\"account\":\"default\",\"customer\":\"{}\"}}",
                    "x".repeat(4096)
                )),
            413,
            "payload_too_large",
        ),
        (
            s.create(json!({"provider": "meteroid", "account": "default", "colour": "red"})),
            400,
            "invalid_request",
        ),
        (
            s.create(json!({"provider": "stripe", "account": "default"})),
            400,
            "unknown_provider",
        ),
        (
            s.create(json!({"provider": "meteroid", "account": "default", "plan": "plv_1"})),
            400,
            "invalid_request",
        ),
        (
            s.create(
                json!({"provider": "meteroid", "account": "other", "customer": "a", "plan": "b"}),
            ),
            404,
            "not_found",
        ),
        (
            s.create(s.create_body())
                .header("idempotency-key", "k".repeat(300)),
            400,
            "invalid_request",
        ),
        (s.get("/v1/nothing-here"), 404, "not_found"),
        (
            s.http.delete(format!("{}/v1/providers", s.gateway)),
            405,
            "method_not_allowed",
        ),
        (
            s.get("/v1/checkout-sessions/meteroid:default:che_1?include=everything"),
            400,
            "invalid_request",
        ),
    ];
    for (request, want_status, want_code) in cases {
        let (status, headers, body) = json_of(request.send().await.unwrap()).await;
        assert_eq!(
            (status, error_code(&body, &headers).as_str()),
            (want_status, want_code),
            "{body}"
        );
        assert!(header(&headers, "content-type").starts_with("application/json"));
    }
    let (_, _, body) = json_of(
        s.create(json!({"provider": "meteroid", "account": "default", "colour": "red"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("colour"),
        "{body}"
    );
    assert_eq!(s.upstream_calls("create"), 0);
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_health_and_openapi_answer() {
    let s: Stack = start("").await;
    let r = s
        .http
        .get(format!("{}/healthz", s.gateway))
        .send()
        .await
        .unwrap();
    assert!(!header(r.headers(), "x-request-id").is_empty());
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "ok");
    let r = s
        .http
        .get(format!("{}/healthz", s.gateway))
        .header("x-request-id", "caller-chosen-1")
        .send()
        .await
        .unwrap();
    assert_eq!(header(r.headers(), "x-request-id"), "caller-chosen-1");

    let doc: Value = s
        .http
        .get(format!("{}/openapi.json", s.gateway))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/v1/checkout-sessions/{id}",
        "/v1/checkout-sessions",
        "/v1/providers",
        "/healthz",
    ] {
        assert!(doc["paths"][path].is_object(), "openapi lacks {path}");
    }
    assert!(doc["components"]["schemas"]["CheckoutSession"].is_object());
    assert!(doc["components"]["securitySchemes"]["client_key"].is_object());
}
