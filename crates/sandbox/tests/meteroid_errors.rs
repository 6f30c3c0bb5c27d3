//! Every way the Meteroid emulation says no, with the vendor's statuses,
//! bodies and content types.

mod support;

use reqwest::Method;
use sandbox::meteroid::seed;
use serde_json::json;
use support::{start, start_with, Reply, SESSIONS};

const UNAUTHORIZED: &str = "UNAUTHORIZED";

async fn with_auth(sb: &support::Running, path: &str, header: Option<&str>) -> Reply {
    let mut request = sb.client.get(sb.meteroid(path));
    if let Some(value) = header {
        request = request.header("authorization", value);
    }
    Reply::read(request.send().await.expect("send")).await
}

#[tokio::test]
async fn auth_failures_use_the_vendor_messages() {
    let sb = start().await;
    let key = sandbox::DEMO_METEROID_API_KEY;
    let (secret_part, token) = key.rsplit_once('/').expect("key shape");
    let cases = [
        (None, "Invalid or missing Authorization header"),
        (
            Some(format!("bearer {key}")),
            "Invalid or missing Authorization header",
        ),
        (
            Some(format!("Basic {key}")),
            "Invalid or missing Authorization header",
        ),
        (
            Some(key.to_owned()),
            "Invalid or missing Authorization header",
        ),
        // Trailing whitespace is trimmed by the HTTP parser: no `Bearer `.
        (
            Some("Bearer ".to_owned()),
            "Invalid or missing Authorization header",
        ),
        (Some("Bearer /".to_owned()), "Invalid API key format"),
        (
            Some("Bearer sk_test_123".to_owned()),
            "Invalid API key format",
        ),
        (
            Some(format!("Bearer {secret_part}/not-base62!")),
            "Invalid API key format",
        ),
        (
            Some(format!("Bearer {secret_part}/abc")),
            "Failed to resolve api key",
        ),
        (
            Some(format!("Bearer pv_sand_wrongsecret/{token}")),
            "Unauthorized. Invalid hash",
        ),
    ];
    for (header, message) in cases {
        with_auth(&sb, SESSIONS, header.as_deref())
            .await
            .assert_error(401, UNAUTHORIZED, message);
    }
    // Only the secret after the last `_` is compared, as upstream, so the
    // environment part and extra spaces go unchecked.
    let other_env = format!("Bearer pv_prod_{}", key.trim_start_matches("pv_sand_"));
    assert_eq!(with_auth(&sb, SESSIONS, Some(&other_env)).await.status, 200);
    let two_spaces = format!("Bearer  {key}");
    assert_eq!(
        with_auth(&sb, SESSIONS, Some(&two_spaces)).await.status,
        200
    );
}

#[tokio::test]
async fn auth_runs_before_routing_and_extractors() {
    let sb = start().await;
    // Unknown route and bad id under /api/: auth answers first.
    with_auth(&sb, "/api/v1/nothing", None).await.assert_error(
        401,
        UNAUTHORIZED,
        "Invalid or missing Authorization header",
    );
    with_auth(&sb, &format!("{SESSIONS}/che_!"), None)
        .await
        .assert_error(401, UNAUTHORIZED, "Invalid or missing Authorization header");
    // Outside /api/ there is no auth, only the JSON 404.
    with_auth(&sb, "/nothing", None)
        .await
        .assert_error(404, "NOT_FOUND", "Resource not found");
    with_auth(&sb, "", None)
        .await
        .assert_error(404, "NOT_FOUND", "Resource not found");
}

#[tokio::test]
async fn configured_keys_replace_the_demo_key() {
    let custom = "pv_prod_AAAAbbbbCCCCddddEEEEffffGGGG/2vIOgNg2ElyLMxWAPn6Xz";
    let sb = start_with(|c| c.api_keys = vec![custom.to_owned(), "not-a-key".to_owned()]).await;
    let ok = with_auth(&sb, SESSIONS, Some(&format!("Bearer {custom}"))).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    with_auth(
        &sb,
        SESSIONS,
        Some(&format!("Bearer {}", sandbox::DEMO_METEROID_API_KEY)),
    )
    .await
    .assert_error(401, UNAUTHORIZED, "Failed to resolve api key");
    // A key the vendor could never have issued is never accepted.
    with_auth(&sb, SESSIONS, Some("Bearer not-a-key"))
        .await
        .assert_error(401, UNAUTHORIZED, "Invalid API key format");
}

#[tokio::test]
async fn unknown_routes_are_json_404s() {
    let sb = start().await;
    for path in [
        "/api/v1/customers",
        "/api/v2/checkout-sessions",
        "/api/v1/checkout-sessions/",
    ] {
        sb.call(Method::GET, path, None)
            .await
            .assert_error(404, "NOT_FOUND", "Resource not found");
    }
    // A known path with the wrong method is axum's bare 405.
    let reply = sb.call(Method::DELETE, SESSIONS, None).await;
    assert_eq!(reply.status, 405);
    // Outside any vendor: the sandbox's own 404.
    let reply = Reply::read(
        sb.client
            .get(format!("{}/nowhere", sb.base))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(reply.status, 404);
    assert!(reply.json()["error"].is_string());
}

#[tokio::test]
async fn unknown_and_unparseable_ids() {
    let sb = start().await;
    let unknown = sandbox::meteroid::ids::encode("che_", uuid::Uuid::now_v7());
    sb.get(&unknown)
        .await
        .assert_error(404, "NOT_FOUND", "Resource not found");
    sb.get(&uuid::Uuid::now_v7().to_string())
        .await
        .assert_error(404, "NOT_FOUND", "Resource not found");
    // Path rejections are axum's plain text with the vendor's id error.
    sb.get("che_!!").await.assert_text(
        400,
        "Invalid URL: IdError: Encoded input contains the invalid byte",
    );
    sb.get("che_").await.assert_text(
        400,
        "Invalid URL: IdError: Encoded input is an empty string",
    );
    sb.get(seed::CUSTOMER_ACME_ID)
        .await
        .assert_text(400, "Invalid URL: IdError: invalid character");
    sb.cancel("not-an-id")
        .await
        .assert_text(400, "Invalid URL: IdError: ");
    sb.get("che_zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz")
        .await
        .assert_text(
            400,
            "Invalid URL: IdError: Decoded number cannot fit into a `u128`",
        );
}

#[tokio::test]
async fn body_rejections_are_axum_plain_text() {
    let sb = start().await;
    let url = sb.meteroid(SESSIONS);
    let key = sandbox::DEMO_METEROID_API_KEY;
    let post = |body: &'static str, json: bool| {
        let mut request = sb.client.post(&url).bearer_auth(key).body(body);
        if json {
            request = request.header("content-type", "application/json");
        }
        request
    };
    let reply = Reply::read(post("{}", false).send().await.expect("send")).await;
    reply.assert_text(
        415,
        "Expected request with `Content-Type: application/json`",
    );
    let reply = Reply::read(post("{", true).send().await.expect("send")).await;
    reply.assert_text(400, "Failed to parse the request body as JSON: ");
    let reply = Reply::read(post("{}", true).send().await.expect("send")).await;
    reply.assert_text(
        422,
        "Failed to deserialize the JSON body into the target type: missing field `customer_id`",
    );
    let reply = Reply::read(
        post(r#"{"customer_id":"acme"}"#, true)
            .send()
            .await
            .expect("send"),
    )
    .await;
    reply.assert_text(
        422,
        "Failed to deserialize the JSON body into the target type: missing field `plan_version_id`",
    );
    let bad_types = [
        (
            json!({"expires_in_hours": -1}),
            "expires_in_hours: invalid value: integer `-1`",
        ),
        (
            json!({"net_terms": "30"}),
            "net_terms: invalid type: string \"30\"",
        ),
        (
            json!({"plan_version_id": "plv_!"}),
            "plan_version_id: IdError: ",
        ),
        (
            json!({"billing_start_date": "02/01/2026"}),
            "billing_start_date: ",
        ),
        (json!({"coupon_ids": ["WELCOME"]}), "coupon_ids: IdError: "),
        (
            json!({"payment_methods_config": {"type": "paypal"}}),
            "payment_methods_config.type: unknown variant `paypal`",
        ),
        (
            json!({"payment_methods_config": {"type": "online", "config": {"card": {}}}}),
            "payment_methods_config",
        ),
        (
            json!({"add_ons": [{"add_on_id": "add_1", "customization": {"type": "NOPE"}}]}),
            "add_ons[0].customization",
        ),
    ];
    for (patch, detail) in bad_types {
        let mut body =
            json!({"customer_id": "acme", "plan_version_id": seed::PLAN_VERSION_STARTER_ID});
        if let (Some(b), Some(p)) = (body.as_object_mut(), patch.as_object()) {
            b.extend(p.clone());
        }
        let reply = sb.create(body).await;
        reply.assert_text(
            422,
            &format!("Failed to deserialize the JSON body into the target type: {detail}"),
        );
    }
}

/// A redirect URL that is not absolute http(s) is the vendor's JSON 400
/// (its exact wording is not known), and nothing is created; one that is
/// not a string at all fails the body's types, as any field does.
#[tokio::test]
async fn redirect_urls_must_be_absolute_http() {
    let sb = start().await;
    let base = json!({"customer_id": "acme", "plan_version_id": seed::PLAN_VERSION_STARTER_ID});
    for (field, url) in [
        ("success_url", "/welcome"),
        ("success_url", "ftp://shop.example/ok"),
        ("cancel_url", "shop.example/pricing"),
        ("cancel_url", "https://"),
        ("cancel_url", ""),
    ] {
        let mut body = base.clone();
        body[field] = json!(url);
        sb.create(body).await.assert_error(
            400,
            "BAD_REQUEST",
            &format!("Invalid input: {field} must be an absolute http(s) URL"),
        );
    }
    assert_eq!(sb.list("").await.json(), json!({"sessions": []}));
    let mut body = base.clone();
    body["success_url"] = json!(42);
    sb.create(body).await.assert_text(
        422,
        "Failed to deserialize the JSON body into the target type: success_url: invalid type: integer `42`",
    );
}

#[tokio::test]
async fn unknown_references_on_create() {
    let sb = start().await;
    // Unknown alias: the lookup's not-found.
    sb.create(json!({"customer_id": "nobody", "plan_version_id": seed::PLAN_VERSION_STARTER_ID}))
        .await
        .assert_error(404, "NOT_FOUND", "Resource not found");
    // Unknown ids are only caught by the insert's foreign keys: a 500.
    let internal = "Internal server error. Please refer to logs or support.";
    let ghost_customer = sandbox::meteroid::ids::encode("cus_", uuid::Uuid::now_v7());
    sb.create(
        json!({"customer_id": ghost_customer, "plan_version_id": seed::PLAN_VERSION_STARTER_ID}),
    )
    .await
    .assert_error(500, "INTERNAL_SERVER_ERROR", internal);
    let ghost_plan = sandbox::meteroid::ids::encode("plv_", uuid::Uuid::now_v7());
    sb.create(json!({"customer_id": "acme", "plan_version_id": ghost_plan}))
        .await
        .assert_error(500, "INTERNAL_SERVER_ERROR", internal);
    // `cus_` that does not decode falls back to an alias lookup.
    sb.create(json!({"customer_id": "cus_!", "plan_version_id": seed::PLAN_VERSION_STARTER_ID}))
        .await
        .assert_error(404, "NOT_FOUND", "Resource not found");
}

#[tokio::test]
async fn an_expiry_beyond_the_calendar_is_the_panic_500() {
    let sb = start().await;
    sb.create(json!({
        "customer_id": "acme",
        "plan_version_id": seed::PLAN_VERSION_STARTER_ID,
        "expires_in_hours": u32::MAX
    }))
    .await
    .assert_error(500, "INTERNAL_SERVER_ERROR", "Internal Server Error");
}

#[tokio::test]
async fn bad_list_queries_are_plain_text_400s() {
    let sb = start().await;
    let prefix = "Failed to deserialize query string: ";
    sb.list("?status=OPEN")
        .await
        .assert_text(400, &format!("{prefix}unknown variant `OPEN`"));
    // Aliases are not accepted here, unlike create.
    sb.list("?customer_id=acme")
        .await
        .assert_text(400, &format!("{prefix}IdError: "));
    sb.list("?customer_id=cus_!")
        .await
        .assert_text(400, &format!("{prefix}IdError: "));
    // Unknown parameters are ignored.
    assert_eq!(sb.list("?limit=5&cursor=x").await.status, 200);
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_refused() {
    let sb = start().await;
    let big = format!(
        r#"{{"customer_id":"acme","plan_version_id":"{}","metadata":"{}"}}"#,
        seed::PLAN_VERSION_STARTER_ID,
        "x".repeat(1024 * 1024)
    );
    let reply = Reply::read(
        sb.client
            .post(sb.meteroid(SESSIONS))
            .bearer_auth(sandbox::DEMO_METEROID_API_KEY)
            .header("content-type", "application/json")
            .body(big)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(reply.status, 413, "{}", reply.text);
}
