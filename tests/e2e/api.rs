//! The gateway's HTTP API itself (client auth, request errors, request
//! ids, health, OpenAPI), over real sockets in front of the Meteroid
//! sandbox: behaviour that is the same whichever vendor is behind it.

use checkout_gateway_e2e::{error_code, header, json_of, start, Stack, OTHER_CLIENT_KEY};
use serde_json::{json, Value};

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
