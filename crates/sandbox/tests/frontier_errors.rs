//! The Frontier emulation's refusals, on both APIs: auth, organizations,
//! the checkout service's rules, protocol-level rejections.

#[path = "frontier_support.rs"]
mod support;

use reqwest::Method;
use sandbox::frontier::seed;
use serde_json::json;
use support::{acme, checkouts, id_of, start, Auth, SERVICE};

#[tokio::test]
async fn connect_auth_and_organization_errors() {
    let sb = start().await;
    let create =
        |org: String| json!({"org_id": org, "subscription_body": {"plan": seed::PLAN_PRO_NAME}});
    for auth in [Auth::None, Auth::Wrong] {
        sb.connect("CreateCheckout", auth, &create(acme()))
            .await
            .assert_connect_error(401, "unauthenticated", "not authenticated");
    }
    let globex = seed::ORG_GLOBEX_ID.to_string();
    sb.connect("CreateCheckout", Auth::Bearer, &create(globex.clone()))
        .await
        .assert_connect_error(403, "permission_denied", "not authorized");
    sb.connect("ListCheckouts", Auth::Bearer, &json!({"org_id": globex}))
        .await
        .assert_connect_error(403, "permission_denied", "not authorized");
    sb.connect(
        "CreateCheckout",
        Auth::Basic,
        &create(uuid::Uuid::new_v4().to_string()),
    )
    .await
    .assert_connect_error(404, "not_found", "not found");
    sb.connect(
        "CreateCheckout",
        Auth::Basic,
        &create(seed::ORG_INITECH_ID.to_string()),
    )
    .await
    .assert_connect_error(404, "not_found", "customer doesn't exist");
    let short = sb
        .connect("CreateCheckout", Auth::Basic, &create("ab".into()))
        .await;
    short.assert_connect_error(
        400,
        "invalid_argument",
        "validation error:\n - org_id: value length must be at least 3 characters [string.min_len]",
    );
    assert_eq!(
        short.json()["details"][0]["type"],
        "buf.validate.Violations"
    );

    // A Globex checkout is invisible to the Acme-only token.
    let s = sb
        .connect(
            "CreateCheckout",
            Auth::Basic,
            &create(seed::ORG_GLOBEX_ID.to_string()),
        )
        .await
        .session();
    sb.connect("GetCheckout", Auth::Bearer, &json!({"id": id_of(&s)}))
        .await
        .assert_connect_error(403, "permission_denied", "not authorized");
}

#[tokio::test]
async fn connect_checkout_service_errors() {
    let sb = start().await;
    let with = |extra: serde_json::Value| {
        let mut v = json!({"org_id": acme()});
        for (k, val) in extra.as_object().unwrap() {
            v[k] = val.clone();
        }
        v
    };
    for (body, status, code, message) in [
        (
            with(json!({})),
            400,
            "invalid_argument",
            "invalid syntax in body",
        ),
        (
            with(json!({"subscription_body": {"plan": seed::PLAN_RETIRED_NAME}})),
            400,
            "failed_precondition",
            "plan is inactive and cannot be subscribed to",
        ),
        (
            with(json!({"subscription_body": {"plan": "no_such_plan"}})),
            500,
            "internal",
            "internal server error",
        ),
        (
            with(json!({"product_body": {"product": "no_such_product"}})),
            404,
            "not_found",
            "product not found",
        ),
        (
            with(json!({"subscription_body": {"plan": "p", "skip_trial": "yes"}})),
            400,
            "invalid_argument",
            "unmarshal message: error not proto",
        ),
    ] {
        sb.connect("CreateCheckout", Auth::Basic, &body)
            .await
            .assert_connect_error(status, code, message);
    }
    for (body, status, code, message) in [
        (
            json!({"id": uuid::Uuid::new_v4().to_string()}),
            404,
            "not_found",
            "not found",
        ),
        (
            json!({"id": "cs_test_a1B2c3"}),
            400,
            "invalid_argument",
            "invalid syntax of uuid",
        ),
        (json!({}), 400, "invalid_argument", "invalid checkout id"),
    ] {
        sb.connect("GetCheckout", Auth::Basic, &body)
            .await
            .assert_connect_error(status, code, message);
    }
    sb.connect_raw(
        "GetCheckout",
        Auth::Basic,
        "application/json",
        String::new(),
    )
    .await
    .assert_connect_error(
        400,
        "invalid_argument",
        "unmarshal message: zero-length payload is not a valid JSON object",
    );
}

#[tokio::test]
async fn connect_protocol_rejections() {
    let sb = start().await;
    let r = sb
        .connect_raw("GetCheckout", Auth::Basic, "text/plain", "{}".into())
        .await;
    assert_eq!(r.status, 415);
    assert!(r.headers.get("accept-post").is_some());
    let r = sb
        .client
        .get(format!("{}{SERVICE}/GetCheckout", sb.base))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 405);
    assert_eq!(
        r.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some("POST")
    );
    let r = sb
        .connect("DelegatedCheckout", Auth::Basic, &json!({}))
        .await;
    assert_eq!((r.status, r.text.as_str()), (404, "404 page not found\n"));
    assert!(r.content_type.starts_with("text/plain"));
    let r = sb
        .connect_raw(
            "GetCheckout",
            Auth::Basic,
            "application/json; charset=utf-8",
            "{\"id\":\"x\"}".into(),
        )
        .await;
    assert_eq!(r.status, 400, "charset is fine, the id is not");
}

#[tokio::test]
async fn legacy_errors_are_grpc_statuses() {
    let sb = start().await;
    let plan = json!({"subscription_body": {"plan": seed::PLAN_STARTER_NAME}});
    sb.rest(Method::POST, &checkouts(&acme()), Auth::None, Some(&plan))
        .await
        .assert_status(401, 16, "not authenticated");
    sb.rest(
        Method::GET,
        &checkouts(&uuid::Uuid::new_v4().to_string()),
        Auth::Basic,
        None,
    )
    .await
    .assert_status(404, 5, "customer doesn't exist");
    sb.rest(
        Method::GET,
        &checkouts(&seed::ORG_INITECH_ID.to_string()),
        Auth::Basic,
        None,
    )
    .await
    .assert_status(404, 5, "customer doesn't exist");
    let globex = seed::ORG_GLOBEX_ID.to_string();
    sb.rest(Method::POST, &checkouts(&globex), Auth::Bearer, Some(&plan))
        .await
        .assert_status(403, 7, "not authorized");
    // Service errors were plain Go errors in the legacy handlers.
    for body in [
        json!({}),
        json!({"subscription_body": {"plan": seed::PLAN_RETIRED_NAME}}),
        json!({"product_body": {"product": "nope"}}),
    ] {
        sb.rest(Method::POST, &checkouts(&acme()), Auth::Basic, Some(&body))
            .await
            .assert_status(500, 13, "internal server error");
    }
    let bad = sb
        .client
        .post(format!("{}/frontier{}", sb.base, checkouts(&acme())))
        .header("content-type", "application/json")
        .body("{\"subscription_body\": }")
        .send()
        .await
        .expect("send");
    let bad = support::Reply::read(bad).await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert_eq!(bad.json()["code"], 3);

    // A checkout read under another org, or one that does not exist.
    let s = sb
        .rest(Method::POST, &checkouts(&globex), Auth::Basic, Some(&plan))
        .await
        .session();
    sb.rest(
        Method::GET,
        &format!("{}/{}", checkouts(&acme()), id_of(&s)),
        Auth::Basic,
        None,
    )
    .await
    .assert_status(403, 7, "invalid arguments");
    sb.rest(
        Method::GET,
        &format!("{}/{}", checkouts(&acme()), uuid::Uuid::new_v4()),
        Auth::Basic,
        None,
    )
    .await
    .assert_status(500, 13, "internal server error");

    sb.rest(
        Method::GET,
        "/v1beta1/organizations/x/billing/nothing",
        Auth::Basic,
        None,
    )
    .await
    .assert_status(404, 5, "Not Found");
    sb.rest(Method::DELETE, &checkouts(&acme()), Auth::Basic, None)
        .await
        .assert_status(501, 12, "Method Not Allowed");
}
