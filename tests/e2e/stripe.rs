//! The Stripe-compatible facade over real sockets (PRODUCT §13): Stripe's
//! form bodies in, Stripe's objects and errors out, ids that carry the
//! canonical id, id-based pages, expire as the canonical cancel, and
//! Stripe's idempotency. The official SDKs run the same against the demo
//! in `.ci/stripe-sdk`.

use std::collections::BTreeSet;

use checkout_gateway_e2e::{header, meteroid_and_flowglad_config, start_with, Stack, CLIENT_KEY};
use serde_json::{json, Value};

const METEROID_PRO: &str = "plv_1XBG3KSpeVSfEQiMN1TtL2";

/// Meteroid and Flowglad, `pro` at both, routing `pro` to Meteroid.
fn config() -> String {
    meteroid_and_flowglad_config(&format!(
        r#"
        [catalog.plans.pro]
        meteroid.default = "{METEROID_PRO}"
        flowglad.default = "price_EY4sthb9KB99ZWUimUu2x"
        [catalog.customers.acme]
        meteroid.default = "acme"
        flowglad.default = "acme"
        [routing]
        [[routing.rules]]
        name = "all-to-meteroid"
        target = "meteroid:default"
        "#
    ))
}

const BASE: &str = "/stripe/v1/checkout/sessions";
/// Acme's Meteroid customer id (a list filter takes the id, not the alias).
const ACME: &str = sandbox::meteroid::seed::CUSTOMER_ACME_ID;

async fn send(r: reqwest::RequestBuilder) -> (u16, reqwest::header::HeaderMap, Value) {
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

fn post(s: &Stack, path: &str, form: &str) -> reqwest::RequestBuilder {
    s.http
        .post(format!("{}{path}", s.gateway))
        .bearer_auth(CLIENT_KEY)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_owned())
}

fn get(s: &Stack, path: &str) -> reqwest::RequestBuilder {
    s.http
        .get(format!("{}{path}", s.gateway))
        .bearer_auth(CLIENT_KEY)
}

/// A create at Meteroid as stripe-python encodes it.
const METEROID_CREATE: &str = "customer=acme&line_items[0][price]=pro&line_items[0][quantity]=1\
    &mode=subscription&success_url=https%3A%2F%2Fshop.example%2Fok&metadata[order]=1234";

#[tokio::test]
async fn create_retrieve_and_expire_in_stripes_shape() {
    let s = start_with(&config()).await;
    let (status, headers, session) =
        send(post(&s, BASE, METEROID_CREATE).header("stripe-account", "meteroid:default")).await;
    assert_eq!(status, 200, "{session}");
    assert!(!header(&headers, "request-id").is_empty());
    assert_eq!(session["object"], "checkout.session");
    let id = session["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("cs_"), "{id}");
    assert_eq!(session["status"], "open");
    assert_eq!(session["payment_status"], "unpaid");
    assert_eq!(session["mode"], "subscription");
    // Meteroid keeps no metadata on its sessions: the object has none.
    assert!(session["metadata"].is_object(), "{session}");
    assert_eq!(session["livemode"], false);
    assert!(session["created"].is_i64(), "{session}");
    assert!(
        session.get("provider").is_none(),
        "no canonical fields leak in"
    );

    // Retrieve by the cs_ id: no lookup, the canonical id is in it.
    let (status, _, again) = send(get(&s, &format!("{BASE}/{id}"))).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["id"], id.as_str());
    // The second mount (stripe-node has no base path) is the same facade.
    let (status, _, same) = send(get(&s, &format!("/v1/checkout/sessions/{id}"))).await;
    assert_eq!((status, same["id"].as_str()), (200, Some(id.as_str())));

    // Expire: the canonical cancel.
    let (status, _, expired) = send(post(&s, &format!("{BASE}/{id}/expire"), "")).await;
    assert_eq!(status, 200, "{expired}");
    assert_eq!(expired["status"], "expired");
    // Again: it is not open any more, in Stripe's words and shape.
    let (status, headers, error) = send(post(&s, &format!("{BASE}/{id}/expire"), "")).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"]["type"], "invalid_request_error");
    assert_eq!(header(&headers, "stripe-should-retry"), "false");

    // An id this facade never made.
    let (status, _, error) = send(get(&s, &format!("{BASE}/cs_nothing"))).await;
    assert_eq!(status, 404, "{error}");
    assert_eq!(error["error"]["code"], "resource_missing");
}

#[tokio::test]
async fn a_routed_create_and_every_refusal_names_its_param() {
    let s = start_with(&config()).await;
    let (status, _, session) = send(post(&s, BASE, METEROID_CREATE)).await;
    assert_eq!(status, 200, "routed by the rules: {session}");
    let calls = s.calls("meteroid", "create");
    for (form, param) in [
        (
            format!("{METEROID_CREATE}&payment_method_types[0]=card"),
            "payment_method_types",
        ),
        (
            format!("{METEROID_CREATE}&line_items[1][price]=pro"),
            "line_items[1]",
        ),
        (format!("{METEROID_CREATE}&expand[0]=customer"), "expand[0]"),
        (
            METEROID_CREATE.replace("mode=subscription", "mode=payment"),
            "mode",
        ),
    ] {
        let (status, headers, error) = send(post(&s, BASE, &form)).await;
        assert_eq!(status, 400, "{form}: {error}");
        assert_eq!(error["error"]["type"], "invalid_request_error", "{error}");
        assert!(
            error["error"]["param"]
                .as_str()
                .unwrap_or_default()
                .starts_with(param),
            "{form}: {error}"
        );
        assert_eq!(header(&headers, "stripe-should-retry"), "false");
    }
    assert_eq!(
        s.calls("meteroid", "create"),
        calls,
        "nothing refused reached a vendor"
    );
    // A JSON body is refused, as Stripe does.
    let (status, _, error) = send(
        s.http
            .post(format!("{}{BASE}", s.gateway))
            .bearer_auth(CLIENT_KEY)
            .json(&json!({"customer": "acme"})),
    )
    .await;
    assert_eq!(
        (status, error["error"]["type"].as_str()),
        (400, Some("invalid_request_error"))
    );
    // A wrong key: Stripe's authentication error; Basic auth with the key as user works.
    let (status, _, error) = send(
        s.http
            .get(format!("{}{BASE}", s.gateway))
            .bearer_auth("sk_wrong_wrong_wrong_wrong"),
    )
    .await;
    assert_eq!(
        (status, error["error"]["type"].as_str()),
        (401, Some("authentication_error"))
    );
    let (status, _, _) = send(
        s.http
            .get(format!("{}{BASE}?limit=1", s.gateway))
            .basic_auth(CLIENT_KEY, Some("")),
    )
    .await;
    assert_eq!(status, 200);
    // A wrong route under the facade still answers in Stripe's shape.
    let (status, _, error) = send(get(&s, "/stripe/v1/checkout/sessions/x/y")).await;
    assert_eq!(status, 404);
    assert!(error["error"]["type"].is_string(), "{error}");
}

#[tokio::test]
async fn idempotency_keys_replay_refuse_other_params_and_never_make_two() {
    let s = start_with(&config()).await;
    let create = |form: &str| post(&s, BASE, form).header("idempotency-key", "stripe-key-1");
    let (status, _, first) = send(create(METEROID_CREATE)).await;
    assert_eq!(status, 200, "{first}");
    let (status, headers, replay) = send(create(METEROID_CREATE)).await;
    assert_eq!(status, 200);
    assert_eq!(replay["id"], first["id"]);
    assert_eq!(header(&headers, "idempotent-replayed"), "true");
    assert_eq!(s.calls("meteroid", "create"), 1);
    let (status, _, error) =
        send(create(&METEROID_CREATE.replace("order]=1234", "order]=9"))).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"]["type"], "idempotency_error");
    assert_eq!(s.calls("meteroid", "create"), 1);
}

#[tokio::test]
async fn lists_page_by_id_both_ways_without_loss_or_repeat() {
    let s = start_with(&config()).await;
    let mut made = Vec::new();
    for i in 0..7 {
        let form = METEROID_CREATE.replace("order]=1234", &format!("order]={i}"));
        let (status, _, session) =
            send(post(&s, BASE, &form).header("stripe-account", "meteroid:default")).await;
        assert_eq!(status, 200, "{session}");
        made.push(session["id"].as_str().unwrap().to_owned());
    }
    // Forward, two at a time, as the SDKs' auto-pagination does.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut path = format!("{BASE}?limit=2&customer={ACME}");
        if let Some(a) = &after {
            path.push_str(&format!("&starting_after={a}"));
        }
        let (status, _, page) =
            send(get(&s, &path).header("stripe-account", "meteroid:default")).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["object"], "list");
        assert_eq!(page["url"], "/v1/checkout/sessions");
        let ids: Vec<String> = page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect();
        seen.extend(ids.clone());
        if page["has_more"] != true {
            break;
        }
        after = ids.last().cloned();
        assert!(seen.len() <= 20, "no end: {seen:?}");
    }
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no repeats: {seen:?}");
    for id in &made {
        assert!(seen.contains(id), "{id} missing from {seen:?}");
    }
    let created: Vec<i64> = {
        let mut out = Vec::new();
        for id in &seen {
            let (_, _, s1) = send(get(&s, &format!("{BASE}/{id}"))).await;
            out.push(s1["created"].as_i64().unwrap());
        }
        out
    };
    assert!(
        created.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {created:?}"
    );
    // Backward from the last one: the two just before it, newest first.
    let last = seen.last().unwrap();
    let (status, _, page) = send(
        get(
            &s,
            &format!("{BASE}?limit=2&customer={ACME}&ending_before={last}"),
        )
        .header("stripe-account", "meteroid:default"),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let ids: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [seen[seen.len() - 3].as_str(), seen[seen.len() - 2].as_str()]
    );
    assert_eq!(page["has_more"], true);
    // Status filter and a foreign cursor id.
    let (status, _, page) = send(
        get(&s, &format!("{BASE}?status=expired&customer={ACME}"))
            .header("stripe-account", "meteroid:default"),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(page["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["status"] == "expired"));
    let (status, _, error) = send(get(&s, &format!("{BASE}?starting_after=cs_nope"))).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"]["param"], "starting_after");
}

#[tokio::test]
async fn a_key_still_in_use_is_a_409_and_the_first_create_is_the_only_one() {
    let s = start_with(&format!("{}\n[idempotency]\nwait_ms = 200\n", config())).await;
    s.fault(json!({"vendor": "meteroid", "op": "create", "fault": {"latency_ms": 1500}}))
        .await;
    let create = || {
        post(&s, BASE, METEROID_CREATE)
            .header("stripe-account", "meteroid:default")
            .header("idempotency-key", "stripe-busy-key")
    };
    let first = tokio::spawn(create().send());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (status, headers, error) = send(create()).await;
    assert_eq!(status, 409, "{error}");
    assert_eq!(error["error"]["code"], "idempotency_key_in_use", "{error}");
    assert_eq!(header(&headers, "stripe-should-retry"), "true");
    let first = first.await.unwrap().unwrap();
    assert_eq!(first.status(), 200);
    let (status, headers, replay) = send(create()).await;
    assert_eq!(status, 200, "{replay}");
    assert_eq!(header(&headers, "idempotent-replayed"), "true");
    assert_eq!(s.calls("meteroid", "create"), 1);
}
