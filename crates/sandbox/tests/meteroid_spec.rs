//! Every body the Meteroid emulation sends validates against the vendor's
//! own OpenAPI document: 2xx against the operation's response schema, JSON
//! errors against `RestErrorResponse`.

mod support;

use chrono::{Duration, Utc};
use reqwest::Method;
use sandbox::meteroid::seed;
use serde_json::{json, Value};
use spec_check::Spec;
use support::{id_of, start, Reply, SESSIONS};

const ONE: &str = "/api/v1/checkout-sessions/{id}";
const CANCEL: &str = "/api/v1/checkout-sessions/{id}/cancel";

struct Checked {
    spec: Spec,
    count: usize,
}

impl Checked {
    /// `template`/`method` name the spec operation the reply answers.
    fn check(&mut self, template: &str, method: &str, reply: &Reply) {
        self.count += 1;
        if reply.content_type != "application/json" {
            // axum's plain-text rejections: the vendor sends them too, and
            // its spec does not describe them.
            assert!(reply.content_type.starts_with("text/plain"), "{reply:?}");
            assert!(reply.status == 400 || reply.status >= 413, "{reply:?}");
            return;
        }
        let body = reply.json();
        let result = if (200..300).contains(&reply.status) {
            self.spec
                .validate_response(template, method, reply.status, &body)
        } else {
            self.spec.validate_schema("RestErrorResponse", &body)
        };
        if let Err(e) = result {
            panic!("{method} {template} {}: {e}\n{}", reply.status, reply.text);
        }
    }
}

#[tokio::test]
async fn every_response_matches_the_vendor_spec() {
    let sb = start().await;
    let mut c = Checked {
        spec: Spec::load("meteroid/openapi.json"),
        count: 0,
    };

    // Successes, with every optional field populated somewhere.
    let configs = [
        Value::Null,
        json!({"type": "online"}),
        json!({"type": "online", "config": {"card": {"enabled": true}, "direct_debit": {"enabled": false}}}),
        json!({"type": "bank_transfer"}),
        json!({"type": "bank_transfer", "account_id": "ba_7n42DGM5Tflk9n8mt7Fhc7"}),
        json!({"type": "external"}),
    ];
    let mut ids = Vec::new();
    for (i, config) in configs.iter().enumerate() {
        let reply = sb
            .create(json!({
                "customer_id": if i % 2 == 0 { "acme" } else { seed::CUSTOMER_GLOBEX_ID },
                "plan_version_id": seed::PLAN_VERSION_PRO_ID,
                "coupon_code": "WELCOME10",
                "billing_start_date": "2026-03-01",
                "billing_day_anchor": 1,
                "net_terms": 30,
                "trial_duration_days": 7,
                "expires_in_hours": i,
                "payment_methods_config": config,
                "metadata": {"i": i},
                // Newer than the spec, which admits the extra keys.
                "success_url": "https://shop.example/ok",
                "cancel_url": "https://shop.example/no"
            }))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        c.check(SESSIONS, "post", &reply);
        ids.push(id_of(&reply.session()));
    }
    let minimal = sb.create_ok(json!({})).await;
    ids.push(id_of(&minimal));

    sb.control_move(&ids[1], json!({"status": "AWAITING_PAYMENT"}))
        .await;
    sb.control_move(&ids[2], json!({"status": "COMPLETED"}))
        .await;
    let past = (Utc::now() - Duration::minutes(1)).to_rfc3339();
    sb.control_move(&ids[3], json!({"expires_at": past})).await;
    sb.expire_overdue().await;
    let cancelled = sb.cancel(&ids[4]).await;
    assert_eq!(cancelled.status, 200);
    c.check(CANCEL, "post", &cancelled);

    for id in &ids {
        c.check(ONE, "get", &sb.get(id).await);
    }
    for query in [
        "",
        "?status=COMPLETED",
        "?status=EXPIRED",
        &format!("?customer_id={}", seed::CUSTOMER_ACME_ID),
    ] {
        let reply = sb.list(query).await;
        assert_eq!(reply.status, 200);
        c.check(SESSIONS, "get", &reply);
    }

    // Errors.
    c.check(
        ONE,
        "get",
        &sb.get(&sandbox::meteroid::ids::encode(
            "che_",
            uuid::Uuid::now_v7(),
        ))
        .await,
    );
    c.check(ONE, "get", &sb.get("che_!").await);
    c.check(CANCEL, "post", &sb.cancel(&ids[4]).await);
    c.check(
        SESSIONS,
        "post",
        &sb.create(json!({"customer_id": "nobody", "plan_version_id": seed::PLAN_VERSION_PRO_ID}))
            .await,
    );
    let ghost_plan = sandbox::meteroid::ids::encode("plv_", uuid::Uuid::now_v7());
    c.check(
        SESSIONS,
        "post",
        &sb.create(json!({"customer_id": "acme", "plan_version_id": ghost_plan}))
            .await,
    );
    c.check(SESSIONS, "post", &sb.create(json!({"customer_id": "acme", "plan_version_id": seed::PLAN_VERSION_PRO_ID, "expires_in_hours": u32::MAX})).await);
    c.check(SESSIONS, "post", &sb.create(json!({})).await);
    c.check(SESSIONS, "get", &sb.list("?status=nope").await);
    c.check(
        SESSIONS,
        "get",
        &sb.call(Method::GET, "/api/v1/elsewhere", None).await,
    );
    let unauthorized = Reply::read(
        sb.client
            .get(sb.meteroid(SESSIONS))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(unauthorized.status, 401);
    c.check(SESSIONS, "get", &unauthorized);

    assert!(c.count >= 25, "only {} responses checked", c.count);
}
