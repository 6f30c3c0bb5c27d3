//! Every legacy REST body the Frontier emulation sends validates against
//! the vendor's own swagger (2xx against the operation's response schema,
//! errors as `googlerpcStatus`), and the Connect bodies carry the same
//! protobuf messages, so they validate against the same definitions.

#[path = "frontier_support.rs"]
mod support;

use reqwest::Method;
use sandbox::frontier::seed;
use serde_json::{json, Value};
use spec_check::Spec;
use support::{acme, checkouts, id_of, start, Auth, Reply};

const GET: &str = "/v1beta1/organizations/{org_id}/billing/checkouts/{id}";
const CHECKOUTS: &str = "/v1beta1/organizations/{org_id}/billing/checkouts";

struct Checked {
    spec: Spec,
    count: usize,
}

/// protojson's `EmitUnpopulated` writes the unset `metadata` message as
/// `null`, which the generated swagger does not allow: set it aside (and
/// insist it is exactly that).
fn set_aside_null_metadata(body: &mut Value) {
    let sessions: Vec<&mut Value> = match body {
        Value::Object(top) if top.contains_key("checkout_sessions") => top
            .get_mut("checkout_sessions")
            .and_then(Value::as_array_mut)
            .map(|list| list.iter_mut().collect())
            .unwrap_or_default(),
        Value::Object(top) => top.get_mut("checkout_session").into_iter().collect(),
        _ => Vec::new(),
    };
    for s in sessions {
        if let Some(obj) = s.as_object_mut() {
            if obj.contains_key("metadata") {
                assert_eq!(obj.remove("metadata"), Some(Value::Null));
            }
        }
    }
}

impl Checked {
    fn check(&mut self, template: &str, method: &str, reply: &Reply) {
        self.count += 1;
        assert_eq!(reply.content_type, "application/json", "{reply:?}");
        let mut body = reply.json();
        let result = if (200..300).contains(&reply.status) {
            set_aside_null_metadata(&mut body);
            self.spec
                .validate_response(template, method, reply.status, &body)
        } else {
            self.spec.validate_schema("googlerpcStatus", &body)
        };
        if let Err(e) = result {
            panic!("{method} {template} {}: {e}\n{}", reply.status, reply.text);
        }
    }
}

#[tokio::test]
async fn every_legacy_response_matches_the_swagger() {
    let sb = start().await;
    let mut c = Checked {
        spec: Spec::load("frontier/legacy-rest.swagger.yaml"),
        count: 0,
    };
    let org = acme();
    let mut ids = Vec::new();
    for body in [
        json!({"subscription_body": {"plan": seed::PLAN_STARTER_NAME, "cancel_after_trial": true},
               "success_url": "https://app.example/{{.CheckoutID}}", "cancel_url": "https://app.example/"}),
        json!({"product_body": {"product": seed::PRODUCT_CREDITS_NAME, "quantity": 2}}),
        json!({"setup_body": {"payment_method": true}}),
        json!({"setup_body": {"customer_portal": true}}),
    ] {
        let r = sb
            .rest(Method::POST, &checkouts(&org), Auth::Basic, Some(&body))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        c.check(CHECKOUTS, "post", &r);
        ids.push(id_of(&r.session()));
    }
    sb.control(
        &format!("/sessions/{}", ids[0]),
        &json!({"state": "complete"}),
    )
    .await;
    sb.control(
        &format!("/sessions/{}", ids[1]),
        &json!({"state": "expired"}),
    )
    .await;
    for id in &ids[..3] {
        let r = sb
            .rest(
                Method::GET,
                &format!("{}/{id}", checkouts(&org)),
                Auth::Bearer,
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        c.check(GET, "get", &r);
    }
    let r = sb
        .rest(Method::GET, &checkouts(&org), Auth::Basic, None)
        .await;
    assert_eq!(
        r.json()["checkout_sessions"].as_array().map(Vec::len),
        Some(3)
    );
    c.check(CHECKOUTS, "get", &r);
    let empty = sb
        .rest(
            Method::GET,
            &checkouts(&seed::ORG_GLOBEX_ID.to_string()),
            Auth::Basic,
            None,
        )
        .await;
    c.check(CHECKOUTS, "get", &empty);

    // Errors: every status the emulation sends.
    let plan = json!({"subscription_body": {"plan": seed::PLAN_STARTER_NAME}});
    let replies = [
        sb.rest(Method::POST, &checkouts(&org), Auth::None, Some(&plan))
            .await,
        sb.rest(Method::POST, &checkouts(&org), Auth::Basic, Some(&plan))
            .await,
        sb.rest(
            Method::POST,
            &checkouts(&seed::ORG_GLOBEX_ID.to_string()),
            Auth::Bearer,
            Some(&plan),
        )
        .await,
        sb.rest(
            Method::GET,
            &checkouts(&seed::ORG_INITECH_ID.to_string()),
            Auth::Basic,
            None,
        )
        .await,
        sb.rest(
            Method::GET,
            &format!("{}/{}", checkouts(&org), uuid::Uuid::new_v4()),
            Auth::Basic,
            None,
        )
        .await,
    ];
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [401, 500, 403, 404, 500]);
    for r in &replies {
        c.check(CHECKOUTS, "post", r);
    }
    assert_eq!(c.count, 14, "bodies checked");
}

#[tokio::test]
async fn connect_bodies_are_the_same_messages() {
    let sb = start().await;
    let spec = Spec::load("frontier/legacy-rest.swagger.yaml");
    let created = sb
        .connect(
            "CreateCheckout",
            Auth::Basic,
            &json!({"org_id": acme(), "product_body": {"product": seed::PRODUCT_CREDITS_NAME}}),
        )
        .await;
    spec.validate_schema("v1beta1CreateCheckoutResponse", &created.json())
        .expect("create");
    let got = sb
        .connect(
            "GetCheckout",
            Auth::Basic,
            &json!({"id": id_of(&created.session())}),
        )
        .await;
    spec.validate_schema("v1beta1GetCheckoutResponse", &got.json())
        .expect("get");
    let list = sb
        .connect("ListCheckouts", Auth::Basic, &json!({"org_id": acme()}))
        .await;
    spec.validate_schema("v1beta1ListCheckoutsResponse", &list.json())
        .expect("list");
}
