//! Every body the Flowglad emulation sends validates against the vendor's
//! own OpenAPI document: 2xx against the operation's response schema, and
//! JSON errors in the documented form against the `error.*` schemas. The
//! server's real error body is a different shape (`error`, not `message`):
//! that it does *not* match the documented schema is checked too.

#[path = "flowglad_support.rs"]
mod support;

use reqwest::Method;
use sandbox::flowglad::seed;
use serde_json::{json, Value};
use spec_check::Spec;
use support::{id_of, start, Reply, SESSIONS};

const ONE: &str = "/api/v1/checkout-sessions/{id}";

fn error_schema(status: u16) -> &'static str {
    match status {
        400 => "error.BAD_REQUEST",
        401 => "error.UNAUTHORIZED",
        403 => "error.FORBIDDEN",
        404 => "error.NOT_FOUND",
        _ => "error.INTERNAL_SERVER_ERROR",
    }
}

struct Checked {
    spec: Spec,
    count: usize,
}

impl Checked {
    fn success(&mut self, template: &str, method: &str, reply: &Reply) {
        assert_eq!(reply.status, 200, "{}", reply.text);
        let result = self
            .spec
            .validate_response(template, method, 200, &reply.json());
        if let Err(e) = result {
            panic!("{method} {template}: {e}\n{}", reply.text);
        }
        self.count += 1;
    }

    fn documented_error(&mut self, reply: &Reply) {
        assert!(reply.status >= 400, "{}", reply.text);
        let result = self
            .spec
            .validate_schema(error_schema(reply.status), &reply.json());
        if let Err(e) = result {
            panic!("{}: {e}\n{}", reply.status, reply.text);
        }
        self.count += 1;
    }
}

#[tokio::test]
async fn every_response_matches_the_vendor_spec() {
    let sb = start().await;
    let mut c = Checked {
        spec: Spec::load("flowglad/openapi.json"),
        count: 0,
    };
    let urls =
        json!({"successUrl": "https://shop.example/ok", "cancelUrl": "https://shop.example/no"});
    let with_urls = |v: Value| {
        let mut v = v;
        if let (Some(o), Some(u)) = (v.as_object_mut(), urls.as_object()) {
            o.extend(u.clone());
        }
        v
    };

    // Creates of every type, optional fields populated somewhere.
    let bodies = [
        json!({"type": "product", "customerExternalId": "acme", "priceId": seed::PRICE_PRO_MONTHLY_ID,
               "quantity": 2, "outputName": "Pro", "preserveBillingCycleAnchor": true,
               "outputMetadata": {"order": "1234", "n": 1.5, "gift": false}}),
        json!({"type": "product", "customerExternalId": "globex", "priceSlug": seed::PRICE_LIFETIME_SLUG,
               "outputMetadata": null}),
        json!({"type": "product", "anonymous": true, "priceSlug": seed::PRICE_PRO_MONTHLY_SLUG}),
        json!({"type": "add_payment_method", "customerExternalId": "acme",
               "targetSubscriptionId": seed::SUBSCRIPTION_ACME_ID}),
        json!({"type": "add_payment_method", "customerExternalId": "globex"}),
        json!({"type": "activate_subscription", "customerExternalId": "acme",
               "targetSubscriptionId": seed::SUBSCRIPTION_ACME_ID}),
    ];
    let mut ids = Vec::new();
    for body in bodies {
        let reply = sb.create(with_urls(body)).await;
        c.success(SESSIONS, "post", &reply);
        ids.push(id_of(&reply.session()));
    }

    // Every status, with what the hosted page fills in.
    let billing = json!({"name": "Ada Lovelace", "firstName": "Ada", "lastName": "Lovelace",
        "email": "ada@example.com", "phone": "+44 20 7946 0958",
        "address": {"name": "Ada Lovelace", "line1": "12 St James's Sq", "line2": null,
                    "city": "London", "state": null, "postal_code": "SW1Y 4JH", "country": "GB"}});
    sb.move_to(
        &ids[0],
        json!({"status": "pending", "payment_method_type": "sepa_debit",
                               "billing_address": billing}),
    )
    .await;
    sb.move_to(&ids[0], json!({"status": "succeeded"})).await;
    sb.move_to(
        &ids[1],
        json!({"status": "failed", "payment_method_type": "card"}),
    )
    .await;
    sb.move_to(&ids[2], json!({"status": "expired"})).await;
    sb.move_to(
        &ids[3],
        json!({"status": "succeeded", "payment_method_type": "link"}),
    )
    .await;
    sb.move_to(
        &ids[5],
        json!({"status": "pending", "payment_method_type": "us_bank_account"}),
    )
    .await;
    sb.move_to(&ids[4], json!({"expires_at": "2020-01-01T00:00:00Z"}))
        .await;
    for id in &ids {
        c.success(ONE, "get", &sb.get(id).await);
    }
    let first = sb.list("?limit=4").await;
    c.success(SESSIONS, "get", &first);
    let cursor = first.json()["nextCursor"]
        .as_str()
        .expect("next")
        .to_owned();
    c.success(
        SESSIONS,
        "get",
        &sb.list(&format!("?limit=4&cursor={cursor}")).await,
    );
    c.success(SESSIONS, "get", &sb.list("").await);

    // Errors: the server's real shape is not the documented one…
    let server_errors = [
        sb.create(json!({"type": "product"})).await,
        sb.get("chckt_session_000000000000000000000").await,
        sb.list("?limit=0").await,
    ];
    for reply in &server_errors {
        assert!(
            c.spec
                .validate_schema(error_schema(reply.status), &reply.json())
                .is_err(),
            "the server's error body matches the documented one now: {}",
            reply.text
        );
    }
    // …and the documented form is what the spec says.
    sb.control("/error-form", json!({"form": "documented"}))
        .await;
    let auth = format!("Bearer {}", seed::API_KEY);
    let documented = [
        sb.create(json!({"type": "product"})).await,
        sb.create(with_urls(
            json!({"type": "product", "customerExternalId": "nobody",
                                   "priceId": seed::PRICE_PRO_MONTHLY_ID}),
        ))
        .await,
        sb.call_as(Some(&auth), Method::POST, SESSIONS, Some(b"{"))
            .await,
        sb.get("chckt_session_000000000000000000000").await,
        sb.list("?limit=0").await,
        sb.list("?cursor=x").await,
        sb.call(Method::GET, "/api/v1/nowhere", None).await,
        sb.call_as(None, Method::GET, SESSIONS, None).await,
        sb.call_as(Some("Basic x"), Method::GET, SESSIONS, None)
            .await,
        sb.call_as(Some("sk_test_nope"), Method::GET, SESSIONS, None)
            .await,
    ];
    for reply in &documented {
        c.documented_error(reply);
    }

    assert!(c.count >= 25, "only {} responses checked", c.count);
}
