//! Every way the Flowglad emulation says no, with the vendor's statuses,
//! bodies, content types and request ids.

#[path = "flowglad_support.rs"]
mod support;

use reqwest::Method;
use sandbox::flowglad::error::{
    invalid_key_message, INVALID_JSON, MALFORMED_HEADER, MISSING_HEADER,
};
use sandbox::flowglad::seed;
use serde_json::{json, Value};
use support::{id_of, start, SESSIONS};

#[tokio::test]
async fn the_key_check_answers_plain_text_401s_without_a_request_id() {
    let sb = start().await;
    for (auth, text) in [
        (None, MISSING_HEADER.to_owned()),
        (Some(String::new()), MISSING_HEADER.to_owned()),
        (
            Some(format!("Basic {}", seed::API_KEY)),
            MALFORMED_HEADER.to_owned(),
        ),
        (
            Some("Bearer sk_test_PS3c_wrongwrongwrongwrong".to_owned()),
            invalid_key_message(),
        ),
        (Some("Bearer".to_owned()), invalid_key_message()),
    ] {
        let reply = sb
            .call_as(auth.as_deref(), Method::GET, SESSIONS, None)
            .await;
        reply.assert_text(401, &text);
        assert_eq!(reply.request_id, None, "{auth:?}");
    }
    // The key check runs before routing.
    let reply = sb.call_as(None, Method::GET, "/api/v1/nowhere", None).await;
    assert_eq!(reply.status, 401);
}

#[tokio::test]
async fn a_rate_limit_is_a_401_too() {
    let sb = start().await;
    let set = sb.control("/rate-limit", json!({"requests": 2})).await;
    assert_eq!(set.json(), json!({"remaining": 2}));
    // A bad key is refused as such, and uses up nothing.
    let bad = sb
        .call_as(Some("sk_test_nope"), Method::GET, SESSIONS, None)
        .await;
    bad.assert_text(401, &invalid_key_message());
    for _ in 0..2 {
        // Unkey's RATE_LIMITED gets the same text as an invalid key.
        sb.list("").await.assert_text(401, &invalid_key_message());
    }
    assert_eq!(sb.list("").await.status, 200);
    // A different text, for exercising clients that read it.
    sb.control(
        "/rate-limit",
        json!({"requests": 1, "message": "Rate limit exceeded. Try again in 60 seconds."}),
    )
    .await;
    sb.list("")
        .await
        .assert_text(401, "Rate limit exceeded. Try again in 60 seconds.");
    assert_eq!(sb.list("").await.status, 200);
}

#[tokio::test]
async fn unknown_routes_are_plain_text_404s_with_a_request_id() {
    let sb = start().await;
    for (method, path) in [
        (Method::GET, "/api/v1/checkout-session"),
        (Method::DELETE, SESSIONS),
        (
            Method::POST,
            "/api/v1/checkout-sessions/chckt_session_a1B2c3D4e5F6g7H8i9J0k",
        ),
        (Method::GET, "/api/v1/checkout-sessions/x/y"),
    ] {
        let reply = sb.call(method.clone(), path, None).await;
        reply.assert_text(404, "Not Found");
        assert!(reply.request_id.is_some(), "{method} {path}");
    }
}

#[tokio::test]
async fn bodies_that_are_not_json_or_fail_the_schema() {
    let sb = start().await;
    let auth = format!("Bearer {}", seed::API_KEY);
    for body in [&b"{"[..], b"", b"checkoutSession=1"] {
        let reply = sb
            .call_as(Some(&auth), Method::POST, SESSIONS, Some(body))
            .await;
        let error = reply.assert_server_error(400, None);
        assert_eq!(error, INVALID_JSON);
    }
    // The old docs' flat body.
    let reply = sb
        .call(
            Method::POST,
            SESSIONS,
            Some(
                json!({"customerExternalId": "acme", "priceId": seed::PRICE_PRO_MONTHLY_ID,
                        "successUrl": "https://a.example", "cancelUrl": "https://a.example"}),
            ),
        )
        .await;
    let issues = reply.assert_server_error(400, Some("BAD_REQUEST"));
    assert_eq!(issues[0]["path"], json!(["checkoutSession"]));
    assert_eq!(
        issues[0]["message"],
        "Invalid input: expected object, received undefined"
    );
    let reply = sb
        .create(json!({"type": "product", "customerExternalId": "acme",
                       "successUrl": "https://a.example", "cancelUrl": "https://a.example"}))
        .await;
    let issues = reply.assert_server_error(400, Some("BAD_REQUEST"));
    assert_eq!(
        issues,
        json!([{"code": "custom", "path": ["checkoutSession", "priceId"],
                "message": "Either priceId or priceSlug must be provided, but not both"}])
    );
    let reply = sb.create(json!({"type": "purchase"})).await;
    let issues = reply.assert_server_error(400, Some("BAD_REQUEST"));
    assert_eq!(issues[0]["note"], "No matching discriminator");
}

/// The create transaction's `ValidationError`s: 400 `Invalid <field>: …`.
#[tokio::test]
async fn create_refusals_use_the_vendor_messages() {
    let sb = start().await;
    let urls = json!({"successUrl": "https://a.example/ok", "cancelUrl": "https://a.example/no"});
    let with = |v: Value| {
        let mut v = v;
        if let (Some(o), Some(u)) = (v.as_object_mut(), urls.as_object()) {
            o.extend(u.clone());
        }
        v
    };
    let cases = [
        (
            json!({"type": "product", "customerExternalId": "nobody", "priceId": seed::PRICE_PRO_MONTHLY_ID}),
            format!(
                "Invalid checkoutSession: Required customer not found for Product checkout (anonymous=false). externalId='nobody', organization='{}'.",
                seed::ORGANIZATION_ID
            ),
        ),
        (
            json!({"type": "product", "customerExternalId": "nobody", "priceSlug": "pro_monthly"}),
            "Invalid customer: Customer is required to resolve price slug for identified checkout sessions".to_owned(),
        ),
        (
            json!({"type": "product", "customerExternalId": "acme", "priceId": "price_000000000000000000000"}),
            "Invalid priceId: Invalid or not-found price ID: no matching price found for id \"price_000000000000000000000\"".to_owned(),
        ),
        (
            json!({"type": "product", "customerExternalId": "acme", "priceSlug": "enterprise"}),
            "Invalid priceSlug: Price with slug \"enterprise\" not found for customer's pricing model".to_owned(),
        ),
        (
            json!({"type": "product", "anonymous": true, "priceSlug": "enterprise"}),
            "Invalid priceSlug: Price with slug \"enterprise\" not found in organization's default pricing model".to_owned(),
        ),
        (
            json!({"type": "product", "customerExternalId": "acme", "priceId": seed::PRICE_API_CALLS_ID}),
            "Invalid priceId: Checkout sessions are only supported for product prices (subscription/single payment), not usage prices".to_owned(),
        ),
        (
            json!({"type": "product", "customerExternalId": "acme", "priceSlug": seed::PRICE_FREE_SLUG}),
            "Invalid product: Checkout sessions cannot be created for default products. Default products are automatically assigned to customers and do not require manual checkout.".to_owned(),
        ),
        (
            json!({"type": "add_payment_method", "customerExternalId": "nobody"}),
            "Invalid checkoutSession: Customer is required for add payment method checkout sessions".to_owned(),
        ),
        (
            json!({"type": "activate_subscription", "customerExternalId": "acme", "targetSubscriptionId": "sub_000000000000000000000"}),
            "Invalid targetSubscriptionId: Target subscription sub_000000000000000000000 not found".to_owned(),
        ),
        (
            json!({"type": "activate_subscription", "customerExternalId": "nobody", "targetSubscriptionId": seed::SUBSCRIPTION_ACME_ID}),
            "Invalid customer: Customer is required for activate subscription checkout sessions".to_owned(),
        ),
        (
            json!({"type": "activate_subscription", "customerExternalId": "acme", "targetSubscriptionId": seed::SUBSCRIPTION_GLOBEX_ID}),
            format!(
                "Invalid targetSubscriptionId: Target subscription {} does not belong to customer {}",
                seed::SUBSCRIPTION_GLOBEX_ID,
                seed::CUSTOMER_ACME_ID
            ),
        ),
    ];
    for (session, message) in cases {
        let reply = sb.create(with(session)).await;
        let error = reply.assert_server_error(400, Some("BAD_REQUEST"));
        assert_eq!(error, message.as_str());
    }
    assert_eq!(sb.list("").await.json()["total"], 0, "nothing was stored");
}

#[tokio::test]
async fn get_of_an_unknown_id_is_the_vendors_500() {
    let sb = start().await;
    let id = "chckt_session_000000000000000000000";
    let reply = sb.get(id).await;
    let error = reply.assert_server_error(500, Some("INTERNAL_SERVER_ERROR"));
    assert_eq!(
        error,
        format!(
            "Unwrap called on Err: Panic: Unwrap called on Err: NotFoundError: No checkout sessions found with id: {id}"
        )
        .as_str()
    );
    let sentry = reply.json()["sentry_event_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(sentry.len() == 32 && sentry.bytes().all(|b| b.is_ascii_hexdigit()));
}

#[tokio::test]
async fn query_string_errors_carry_no_code() {
    let sb = start().await;
    let reply = sb.list("?limit=500").await;
    let error = reply.assert_server_error(400, None);
    let issues: Value = serde_json::from_str(error.as_str().unwrap_or_default()).expect("zod JSON");
    assert_eq!(issues[0]["message"], "Too big: expected number to be <=100");
    let reply = sb.list("?cursor=a&cursor=b").await;
    assert_eq!(
        reply.assert_server_error(400, None),
        "Multiple 'cursor' values are not allowed"
    );
    let reply = sb.list("?cursor=bm90LWpzb24").await;
    assert_eq!(reply.assert_server_error(400, None), "Invalid cursor");
    // The same check runs on get.
    let id = id_of(&sb.create_ok(json!({})).await.session());
    let reply = sb.get(&format!("{id}?limit=0")).await;
    reply.assert_server_error(400, None);
}

#[tokio::test]
async fn the_documented_error_form_on_request() {
    let sb = start().await;
    let set = sb
        .control("/error-form", json!({"form": "documented"}))
        .await;
    assert_eq!(set.json(), json!({"form": "documented"}));
    let reply = sb
        .create(json!({"type": "product", "customerExternalId": "acme",
                       "successUrl": "u", "cancelUrl": "u"}))
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.json(),
        json!({"message": "Input validation failed", "code": "BAD_REQUEST",
               "issues": [{"message": "Either priceId or priceSlug must be provided, but not both"}]})
    );
    let reply = sb.call_as(None, Method::GET, SESSIONS, None).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json()["code"], "UNAUTHORIZED");
    let reply = sb.call(Method::GET, "/api/v1/nowhere", None).await;
    assert_eq!(
        (reply.status, reply.json()),
        (
            404,
            json!({"message": "Not found", "code": "NOT_FOUND", "issues": []})
        )
    );
    sb.control("/error-form", json!({"form": "server"})).await;
    sb.call(Method::GET, "/api/v1/nowhere", None)
        .await
        .assert_text(404, "Not Found");
}
