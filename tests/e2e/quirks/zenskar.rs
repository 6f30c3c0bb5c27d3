//! What only Zenskar does, behind the gateway: two API families (`checkout`
//! = family A, `checkouts` = family B), amounts, the organisation header,
//! idempotency, its lifecycle and errors. The checks every vendor passes
//! are in `vendors.rs`.

use checkout_gateway_e2e::{header, json_of, start_with, Stack, CLIENT_KEY};
use sandbox::zenskar::seed;
use serde_json::{json, Value};

const OTHER_ORGANISATION: &str = "0c5b8d2e-9f41-4a7c-b6e3-2d18f0a97c54";
/// No session, customer or anything else has this id.
const UNKNOWN: &str = "6f0e3a2b-1c4d-4e5f-8a9b-0c1d2e3f4a5b";

/// A lower-case hyphenated UUID, as Zenskar writes its ids.
fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_digit() || ('a'..='f').contains(&c),
        })
}

async fn stack() -> Stack {
    let key = seed::API_KEY;
    let org = seed::ORGANISATION_ID;
    start_with(&format!(
        r#"
        [providers.zenskar.accounts.checkout]
        base_url = "{{sandbox}}/zenskar"
        api_key = "{key}"
        organisation = "{org}"
        [providers.zenskar.accounts.checkouts]
        base_url = "{{sandbox}}/zenskar"
        family = "checkouts"
        api_key = "{key}"
        organisation = "{org}"
        api_version = "20230501"
        [providers.zenskar.accounts.wrongorg]
        base_url = "{{sandbox}}/zenskar"
        api_key = "{key}"
        organisation = "{OTHER_ORGANISATION}"
        [providers.zenskar.accounts.wrongkey]
        base_url = "{{sandbox}}/zenskar"
        api_key = "zsk_not_the_key"
        organisation = "{org}"
        [clients.main]
        key = "{CLIENT_KEY}"
        accounts = ["zenskar:checkout", "zenskar:checkouts", "zenskar:wrongorg", "zenskar:wrongkey"]
        "#
    ))
    .await
}

/// A family A create body for the seeded customer and plan.
fn body_a() -> Value {
    json!({
        "provider": "zenskar", "account": "checkout",
        "customer": seed::CUSTOMER_NORTHWIND_ID, "plan": seed::PLAN_STARTER_ID,
        "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no",
        "metadata": {"order": "1234"},
        "provider_options": {"currency": "USD", "start_date": "2026-03-01"}
    })
}

fn body_b() -> Value {
    json!({"provider": "zenskar", "account": "checkouts",
           "customer": seed::CUSTOMER_KAITO_ID, "plan": seed::PLAN_TEAM_ID})
}

/// A session made at the sandbox directly, unseen by the gateway.
async fn vendor_session(s: &Stack, path: &str, body: Value) -> String {
    let v: Value = s
        .http
        .post(format!("{}/zenskar{path}", s.sandbox))
        .header("organisation", seed::ORGANISATION_ID)
        .header("x-api-key", seed::API_KEY)
        .json(&body)
        .send()
        .await
        .expect("sandbox create")
        .json()
        .await
        .expect("sandbox body");
    v["id"].as_str().expect("id").to_owned()
}

async fn control(s: &Stack, reference: &str, body: Value) {
    s.sandbox_control(&format!("/zenskar/sessions/{reference}"), body)
        .await;
}

async fn fresh(s: &Stack, id: &str) -> Value {
    let r = s
        .session(id)
        .header("cache-control", "no-cache")
        .send()
        .await
        .unwrap();
    let (status, _, body) = json_of(r).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn family_a_create_reads_back_canonical() {
    let s = stack().await;
    let (status, _, created) = json_of(s.create(body_a()).send().await.unwrap()).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let reference = id.strip_prefix("zenskar:checkout:").expect("canonical id");
    assert!(is_uuid(reference), "{reference}");
    assert_eq!(
        (
            created["status"].as_str(),
            created["payment_status"].as_str()
        ),
        (Some("open"), Some("unpaid"))
    );
    assert_eq!(
        created["amount_total"],
        json!({"amount_minor": 2999, "currency": "USD"})
    );
    assert_eq!(created["url"], Value::Null);
    assert_eq!(created["metadata"], json!({"order": "1234"}));
    assert_eq!(created["success_url"], "https://shop.example/ok");
    assert_eq!(
        created["plan"],
        json!({"id": seed::PLAN_STARTER_ID, "kind": "plan"})
    );
    assert_eq!(created["customer"]["name"], "Northwind Traders");
    assert_eq!(
        created["provider_status"],
        json!({"status": "open", "payment_status": "not_started"})
    );

    // The vendor payload (naive timestamps) is kept raw.
    let (_, _, raw) = json_of(
        s.session(&format!("{id}?include=raw"))
            .header("cache-control", "no-cache")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(raw["raw"]["custom_data"], json!({"order": "1234"}));
    assert!(!raw["raw"]["created_at"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn a_retried_create_with_one_idempotency_key_makes_one_session() {
    let s = stack().await;
    // The vendor creates the session but its answer is lost: because family A
    // deduplicates on the body idempotency_key, the gateway may try again,
    // and the vendor answers with the same session.
    s.http
        .post(format!("{}/_sandbox/faults", s.sandbox))
        .json(&json!({"vendor": "zenskar", "op": "create", "fault": {"reset": "after_read"}}))
        .send()
        .await
        .unwrap();
    let send = || {
        s.create(body_a())
            .header("idempotency-key", "order-1234-try")
            .send()
    };
    let (first_status, _, first) = json_of(send().await.unwrap()).await;
    assert_eq!(first_status, 201, "{first}");
    assert_eq!(
        s.calls("zenskar", "create"),
        2,
        "the lost answer was retried"
    );
    // The caller's own retry is answered by the gateway's idempotency store.
    let (again_status, again_headers, again) = json_of(send().await.unwrap()).await;
    assert_eq!(again_status, 201);
    assert_eq!(header(&again_headers, "idempotent-replayed"), "true");
    assert_eq!(first["id"], again["id"]);
    assert_eq!(s.calls("zenskar", "create"), 2);
    let list: Value = s
        .http
        .get(format!("{}/zenskar/checkout", s.sandbox))
        .header("organisation", seed::ORGANISATION_ID)
        .header("x-api-key", seed::API_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1, "the vendor made one session: {list}");
    let (_, _, other) = json_of(
        s.create(body_a())
            .header("idempotency-key", "order-1235")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_ne!(other["id"], first["id"]);
}

#[tokio::test]
async fn family_a_amounts_and_state_changes() {
    let s = stack().await;
    let reference = vendor_session(&s, "/checkout", json!({
        "contract": {"is_plan_based": true, "plan_id": seed::PLAN_TEAM_ID, "currency": "KWD", "start_date": "2026-03-01T00:00:00"},
        "customer_id": seed::CUSTOMER_GULF_ID})).await;
    let id = format!("zenskar:checkout:{reference}");
    let (status, _, first) = json_of(s.session(&id).send().await.unwrap()).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        first["amount_total"],
        json!({"amount_minor": 21295, "currency": "KWD"})
    );

    // Confirmed without payment yet: complete, and not paid.
    control(
        &s,
        &reference,
        json!({"action": "confirm", "confirmation": "charge_immediately"}),
    )
    .await;
    let confirmed = fresh(&s, &id).await;
    assert_eq!(
        (
            confirmed["status"].as_str(),
            confirmed["payment_status"].as_str()
        ),
        (Some("complete"), Some("unpaid"))
    );
    assert!(confirmed["subscription_id"].is_string() && confirmed["completed_at"].is_string());
    control(
        &s,
        &reference,
        json!({"action": "payment", "payment_status": "paid"}),
    )
    .await;
    assert_eq!(fresh(&s, &id).await["payment_status"], "paid");

    // A cancel for expiry reads as an expiry; closed is an expiry too.
    let other = vendor_session(&s, "/checkout", json!({
        "contract": {"is_plan_based": true, "plan_id": seed::PLAN_STARTER_ID, "currency": "USD", "start_date": "2026-03-01T00:00:00"},
        "customer_id": seed::CUSTOMER_NORTHWIND_ID})).await;
    control(
        &s,
        &other,
        json!({"action": "cancel", "reason_type": "expired"}),
    )
    .await;
    let expired = fresh(&s, &format!("zenskar:checkout:{other}")).await;
    assert_eq!(
        (
            expired["status"].as_str(),
            expired["provider_status"]["status"].as_str()
        ),
        (Some("expired"), Some("cancelled"))
    );
}

#[tokio::test]
async fn family_b_create_get_and_state_changes() {
    let s = stack().await;
    let (status, _, created) = json_of(s.create(body_b()).send().await.unwrap()).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("zenskar:checkouts:"), "{id}");
    assert_eq!(created["status"], "open");
    assert_eq!(created["payment_status"], Value::Null);
    assert_eq!(
        created["amount_total"],
        json!({"amount_minor": 15000, "currency": "JPY"})
    );
    let reference = id.rsplit(':').next().unwrap().to_owned();

    // A family B session is not visible through the family A account.
    let r = s
        .session(&format!("zenskar:checkout:{reference}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    let fresh_id = vendor_session(
        &s,
        "/checkouts",
        json!({"plan_id": seed::PLAN_STARTER_ID, "customer_id": seed::CUSTOMER_BRAMBLE_ID}),
    )
    .await;
    let fid = format!("zenskar:checkouts:{fresh_id}");
    let r = s.session(&fid).send().await.unwrap();
    assert_eq!(header(r.headers(), "x-cache"), "miss");
    let r = s.session(&fid).send().await.unwrap();
    assert_eq!(header(r.headers(), "x-cache"), "hit");

    control(&s, &reference, json!({"action": "pay"})).await;
    let paid = fresh(&s, &id).await;
    assert_eq!(
        (paid["status"].as_str(), paid["payment_status"].as_str()),
        (Some("processing"), Some("paid"))
    );
    control(&s, &reference, json!({"action": "confirm"})).await;
    let done = fresh(&s, &id).await;
    assert_eq!(done["status"], "complete");
    assert!(done["subscription_id"].is_string());
    control(
        &s,
        &reference,
        json!({"action": "status", "checkout_status": "under_review"}),
    )
    .await;
    let odd = fresh(&s, &id).await;
    assert_eq!(
        (
            odd["status"].as_str(),
            odd["provider_status"]["status"].as_str()
        ),
        (Some("processing"), Some("under_review"))
    );
}

#[tokio::test]
async fn family_b_refuses_what_it_cannot_honour_before_any_call() {
    let s = stack().await;
    let (status, _, body) = json_of(
        s.create(body_b())
            .header("idempotency-key", "k-1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("unsupported_field")),
        "{body}"
    );
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Idempotency-Key") && message.contains("zenskar"),
        "{message}"
    );
    let mut with_metadata = body_b();
    with_metadata["metadata"] = json!({"order": "1"});
    let (status, _, body) = json_of(s.create(with_metadata).send().await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("unsupported_field")),
        "{body}"
    );
    let mut long_url = body_a();
    long_url["cancel_url"] = json!(format!("https://shop.example/{}", "x".repeat(2100)));
    let (status, _, body) = json_of(s.create(long_url).send().await.unwrap()).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("cancel_url"),
        "{body}"
    );
    assert_eq!(s.calls("zenskar", "create"), 0);
}

#[tokio::test]
async fn vendor_errors_map_to_the_canonical_model() {
    let s = stack().await;
    // A wrong organisation header: the vendor's 403 is our credentials' fault.
    let mut wrong = body_a();
    wrong["account"] = json!("wrongorg");
    let (status, _, body) = json_of(s.create(wrong).send().await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (502, Some("provider_auth_failed")),
        "{body}"
    );
    assert_eq!(body["error"]["provider_http_status"], 403);
    let id = format!("zenskar:wrongkey:{UNKNOWN}");
    let (status, _, body) = json_of(s.session(&id).send().await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["provider_http_status"].as_u64()),
        (502, Some(401)),
        "{body}"
    );

    // The vendor's 422 names the field.
    let mut incomplete = body_a();
    incomplete.as_object_mut().unwrap().remove("plan");
    incomplete["provider_options"] =
        json!({"contract": {"is_plan_based": true, "currency": "USD"}});
    let (status, _, body) = json_of(s.create(incomplete).send().await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("provider_invalid_request")),
        "{body}"
    );
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("contract.plan_id (canonical `plan`): field required"),
        "{message}"
    );

    // 400 with the vendor's detail, 404, 5xx.
    let mut stranger = body_a();
    stranger["customer"] = json!(UNKNOWN);
    let (status, _, body) = json_of(s.create(stranger).send().await.unwrap()).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not found"),
        "{body}"
    );
    let missing = format!("zenskar:checkout:{UNKNOWN}");
    let (status, _, body) = json_of(s.session(&missing).send().await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    s.http
        .post(format!("{}/_sandbox/zenskar/fail-next", s.sandbox))
        // One more than the gateway's read retries (max_retries 2).
        .json(&json!({"count": 3}))
        .send()
        .await
        .unwrap();
    let (status, _, body) = json_of(
        s.session(&missing)
            .header("cache-control", "no-cache")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (502, Some("provider_error")),
        "{body}"
    );
    assert!(body["error"]["provider_request_id"].is_string(), "{body}");

    // Ids that are not lower-case UUIDs never reach the vendor.
    let gets = s.calls("zenskar", "get");
    for bad in [
        "zenskar:checkout:not-a-uuid",
        &missing
            .to_uppercase()
            .replace("ZENSKAR:CHECKOUT", "zenskar:checkout"),
    ] {
        let (status, _, body) = json_of(s.session(bad).send().await.unwrap()).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("invalid_id")),
            "{bad}: {body}"
        );
    }
    assert_eq!(s.calls("zenskar", "get"), gets);
}
