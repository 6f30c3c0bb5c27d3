//! Migration routing over real sockets (PRODUCT §12): a create without
//! `provider`/`account` goes where the rules say, its plan alias and
//! customer translated for that vendor; what cannot be translated is a 422
//! before any vendor call; a fallback is used only when the first target
//! refuses before any call; explain creates nothing; the customer map
//! lives in the store; a reload swaps routing whole.

use std::time::Duration;

use checkout_gateway_e2e::{
    header, json_of, meteroid_and_flowglad_config, start_from_file, start_with, Stack, CLIENT_KEY,
};
use serde_json::{json, Value};

const ADMIN_KEY: &str = "routing-admin-key-00000000001";
const SALT: &str = "e2e-salt";
const METEROID_PRO: &str = "plv_1XBG3KSpeVSfEQiMN1TtL2";
const FLOWGLAD_PRO: &str = "price_EY4sthb9KB99ZWUimUu2x";

/// Meteroid and Flowglad (the sandbox's seeds), the alias `pro` at both,
/// `acme` mapped at both, `globex` at Meteroid only; then `routing`.
fn config(routing: &str, extra: &str) -> String {
    meteroid_and_flowglad_config(&format!(
        r#"
        [clients.ops]
        key = "{ADMIN_KEY}"
        accounts = ["*"]
        scopes = ["sessions:read", "sessions:write", "admin"]
        [catalog.plans.pro]
        meteroid.default = "{METEROID_PRO}"
        flowglad.default = "{FLOWGLAD_PRO}"
        [catalog.customers.acme]
        meteroid.default = "acme"
        flowglad.default = "acme"
        [catalog.customers.globex]
        meteroid.default = "globex"
        {extra}
        {routing}
        "#
    ))
}

/// A `percent` split of `pro` to Flowglad, the rest to Meteroid, with a fallback.
fn split(percent: u32, fallback: &str) -> String {
    format!(
        r#"
        [routing]
        salt = "{SALT}"
        [[routing.rules]]
        name = "ramp"
        match.plans = ["pro"]
        split = [{{ target = "flowglad:default", percent = {percent} }}, {{ target = "meteroid:default", percent = {} }}]
        fallback = [{fallback}]
        "#,
        100 - percent
    )
}

fn body(customer: &str) -> Value {
    json!({"customer": customer, "plan": "pro",
        "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no"})
}

/// A customer id whose bucket is below (`true`) or at/above (`false`) `boundary`.
fn customer_in(below: bool, boundary: u16) -> String {
    (0..)
        .map(|i| format!("cust-{i}"))
        .find(|c| (routing::bucket(SALT, c) < boundary) == below)
        .unwrap_or_default()
}

async fn explain(s: &Stack, key: &str, body: &Value) -> (u16, Value) {
    let r = s
        .http
        .post(format!("{}/v1/routing/explain", s.gateway))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap();
    let (status, _, body) = json_of(r).await;
    (status, body)
}

async fn admin(
    s: &Stack,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut r = s
        .http
        .request(method, format!("{}{path}", s.gateway))
        .bearer_auth(ADMIN_KEY);
    if let Some(body) = body {
        r = r.json(&body);
    }
    let (status, _, body) = json_of(r.send().await.unwrap()).await;
    (status, body)
}

fn creates(s: &Stack) -> u64 {
    s.calls("meteroid", "create") + s.calls("flowglad", "create")
}

#[tokio::test]
async fn a_routed_create_goes_where_its_bucket_says_with_the_plan_and_customer_of_that_vendor() {
    let s = start_with(&config(&split(50, ""), "")).await;
    // acme is mapped at both; its bucket picks the side.
    let acme_bucket = routing::bucket(SALT, "acme");
    let (expected, plan) = if acme_bucket < 5000 {
        ("flowglad:default", FLOWGLAD_PRO)
    } else {
        ("meteroid:default", METEROID_PRO)
    };
    let (status, explained) = explain(&s, CLIENT_KEY, &body("acme")).await;
    assert_eq!(status, 200, "{explained}");
    assert_eq!(explained["target"], expected);
    assert_eq!(explained["rule"], "ramp");
    assert_eq!(explained["bucket"], acme_bucket);
    assert_eq!(explained["plan"], plan, "the alias resolves per target");
    assert_eq!(explained["customer"], "acme");
    assert_eq!(explained["routed"], true);
    assert_eq!(creates(&s), 0, "explain creates nothing");

    let (status, headers, session) = json_of(s.create(body("acme")).send().await.unwrap()).await;
    assert_eq!(status, 201, "{session}");
    assert_eq!(header(&headers, "x-routing-rule"), "ramp");
    assert_eq!(header(&headers, "x-routing-target"), expected);
    assert_eq!(
        header(&headers, "x-routing-bucket"),
        acme_bucket.to_string()
    );
    assert!(session["id"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{expected}:")));
    assert_eq!(session["plan"]["id"], plan, "{session}");
    assert_eq!(creates(&s), 1);

    // Both sides, each with its own plan id.
    for (below, target, plan) in [
        (true, "flowglad:default", FLOWGLAD_PRO),
        (false, "meteroid:default", METEROID_PRO),
    ] {
        let customer = customer_in(below, 5000);
        let (status, _) = admin(
            &s,
            reqwest::Method::PUT,
            &format!("/v1/customers/{customer}"),
            Some(json!({"references": {"meteroid:default": "acme", "flowglad:default": "acme"}})),
        )
        .await;
        assert_eq!(status, 201);
        let (status, headers, session) =
            json_of(s.create(body(&customer)).send().await.unwrap()).await;
        assert_eq!(status, 201, "{session}");
        assert_eq!(header(&headers, "x-routing-target"), target);
        assert_eq!(session["plan"]["id"], plan, "{session}");
    }
}

#[tokio::test]
async fn what_cannot_be_translated_is_a_422_before_any_vendor_call() {
    let routing = format!(
        "{}\n[routing.default]\ntarget = \"meteroid:default\"\n",
        split(100, "")
    );
    let s = start_with(&config(&routing, "")).await;
    // globex is mapped at Meteroid only; the split sends everyone to Flowglad.
    let (status, headers, error) = json_of(s.create(body("globex")).send().await.unwrap()).await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["error"]["code"], "not_mapped");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("globex") && message.contains("flowglad:default"),
        "{message}"
    );
    assert!(headers.get("x-routing-target").is_none());
    // A customer nobody mapped, and a plan that is not an alias (which the
    // default takes: a routed create's plan id would mean nothing elsewhere).
    let (status, _, error) = json_of(s.create(body("nobody")).send().await.unwrap()).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (422, Some("not_mapped"))
    );
    let mut raw_plan = body("acme");
    raw_plan["plan"] = json!(FLOWGLAD_PRO);
    let (status, _, error) = json_of(s.create(raw_plan).send().await.unwrap()).await;
    assert_eq!(status, 422, "{error}");
    assert!(error["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("plan:"));
    // Explain answers the same.
    let (status, error) = explain(&s, CLIENT_KEY, &body("globex")).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (422, Some("not_mapped"))
    );
    assert_eq!(creates(&s), 0, "nothing reached a vendor");

    // A direct create may use the alias too: it resolves for its account.
    let mut direct = body("acme");
    direct["provider"] = json!("meteroid");
    direct["account"] = json!("default");
    let (status, headers, session) = json_of(s.create(direct).send().await.unwrap()).await;
    assert_eq!(status, 201, "{session}");
    assert_eq!(session["plan"]["id"], METEROID_PRO);
    assert!(headers.get("x-routing-rule").is_none(), "not routed");
    // Half a target is a 400 naming the missing field.
    let mut half = body("acme");
    half["provider"] = json!("meteroid");
    let (status, _, error) = json_of(s.create(half).send().await.unwrap()).await;
    assert_eq!(status, 400);
    assert!(error["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("account:"));
}

#[tokio::test]
async fn no_rule_and_no_default_is_no_route_and_a_gateway_without_routing_asks_for_provider() {
    let s = start_with(&config(&split(50, ""), "")).await;
    let mut other = body("acme");
    other.as_object_mut().unwrap().remove("plan");
    let (status, _, error) = json_of(s.create(other).send().await.unwrap()).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (422, Some("no_route")),
        "{error}"
    );
    let plain = start_with(&config("", "")).await;
    let (status, _, error) = json_of(plain.create(body("acme")).send().await.unwrap()).await;
    assert_eq!(status, 400, "{error}");
    assert!(error["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("provider:"));
}

#[tokio::test]
async fn a_fallback_is_used_only_when_the_target_refuses_before_any_call() {
    // One call in flight per account: a slow Flowglad read holds it.
    let resilience = "[resilience]\nmax_in_flight = 1\n";
    let s = start_with(&config(&split(100, "\"meteroid:default\""), resilience)).await;
    let (status, _, held) = json_of(s.create(body("acme")).send().await.unwrap()).await;
    assert_eq!(status, 201, "{held}");
    let held = held["id"].as_str().unwrap().to_owned();
    s.fault(json!({"vendor": "flowglad", "op": "get", "fault": {"latency_ms": 1500}}))
        .await;
    let slow = tokio::spawn(s.fresh_session(&held).send());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = s.calls("flowglad", "create");
    let (status, headers, session) = json_of(s.create(body("acme")).send().await.unwrap()).await;
    assert_eq!(status, 201, "{session}");
    assert_eq!(header(&headers, "x-routing-target"), "meteroid:default");
    assert_eq!(
        header(&headers, "x-routing-fallback-from"),
        "flowglad:default"
    );
    assert_eq!(session["plan"]["id"], METEROID_PRO);
    assert_eq!(
        s.calls("flowglad", "create"),
        before,
        "Flowglad was never called"
    );
    assert_eq!(slow.await.unwrap().unwrap().status(), 200);

    // Without a fallback the refusal is the answer, and nothing is made.
    let s = start_with(&config(&split(100, ""), resilience)).await;
    let (_, _, held) = json_of(s.create(body("acme")).send().await.unwrap()).await;
    let held = held["id"].as_str().unwrap().to_owned();
    s.fault(json!({"vendor": "flowglad", "op": "get", "fault": {"latency_ms": 1500}}))
        .await;
    let slow = tokio::spawn(s.fresh_session(&held).send());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let made = creates(&s);
    let (status, _, error) = json_of(s.create(body("acme")).send().await.unwrap()).await;
    assert_eq!(status, 503, "{error}");
    assert_eq!(creates(&s), made);
    slow.await.unwrap().unwrap();

    // A vendor that fails after the call was sent is not retried elsewhere.
    let s = start_with(&config(&split(100, "\"meteroid:default\""), "")).await;
    s.fault(json!({"vendor": "flowglad", "op": "create", "fault": {"status": 500}}))
        .await;
    let (status, _, error) = json_of(s.create(body("acme")).send().await.unwrap()).await;
    assert!(status >= 500, "{status} {error}");
    assert_eq!(s.calls("meteroid", "create"), 0, "never a second vendor");
}

#[tokio::test]
async fn the_customer_map_lives_in_the_store_and_routed_creates_follow_it() {
    let s = start_with(&config(&split(100, ""), "")).await;
    let path = "/v1/customers/cust-store-1";
    // Only admin keys.
    let r = s
        .http
        .put(format!("{}{path}", s.gateway))
        .bearer_auth(CLIENT_KEY)
        .json(&json!({"references": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let (status, error) = admin(
        &s,
        reqwest::Method::PUT,
        path,
        Some(json!({"references": {"stripe:default": "x"}})),
    )
    .await;
    assert_eq!(status, 400);
    assert!(error["error"]["message"]
        .as_str()
        .unwrap()
        .contains("stripe:default"));
    let (status, _, before) = json_of(s.create(body("cust-store-1")).send().await.unwrap()).await;
    assert_eq!(
        (status, before["error"]["code"].as_str()),
        (422, Some("not_mapped"))
    );

    let (status, saved) = admin(
        &s,
        reqwest::Method::PUT,
        path,
        Some(json!({"references": {"flowglad:default": "globex"}})),
    )
    .await;
    assert_eq!(status, 201, "{saved}");
    assert_eq!(saved["source"], "store");
    let (status, session) = {
        let (status, _, session) =
            json_of(s.create(body("cust-store-1")).send().await.unwrap()).await;
        (status, session)
    };
    assert_eq!(status, 201, "{session}");
    assert_eq!(
        session["customer"]["id"],
        sandbox::flowglad::seed::CUSTOMER_GLOBEX_ID,
        "the store's reference was sent: {session}"
    );
    let (status, again) = admin(
        &s,
        reqwest::Method::PUT,
        path,
        Some(json!({"references": {"flowglad:default": "acme"}})),
    )
    .await;
    assert_eq!(
        (status, again["references"]["flowglad:default"].as_str()),
        (200, Some("acme"))
    );

    // Config customers are listed too, and cannot be changed here.
    let (status, list) = admin(&s, reqwest::Method::GET, "/v1/customers?limit=2", None).await;
    assert_eq!(status, 200, "{list}");
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["acme", "cust-store-1"]);
    assert_eq!(list["has_more"], true);
    let (_, rest) = admin(
        &s,
        reqwest::Method::GET,
        "/v1/customers?limit=2&starting_after=cust-store-1",
        None,
    )
    .await;
    assert_eq!(rest["data"][0]["id"], "globex");
    assert_eq!(rest["has_more"], false);
    let (status, _) = admin(&s, reqwest::Method::DELETE, "/v1/customers/acme", None).await;
    assert_eq!(status, 409);

    let (status, _) = admin(&s, reqwest::Method::DELETE, path, None).await;
    assert_eq!(status, 200);
    let (status, _) = admin(&s, reqwest::Method::GET, path, None).await;
    assert_eq!(status, 404);
    let (status, _, after) = json_of(s.create(body("cust-store-1")).send().await.unwrap()).await;
    assert_eq!(
        (status, after["error"]["code"].as_str()),
        (422, Some("not_mapped"))
    );
}

#[tokio::test]
async fn a_replay_says_what_made_its_session_and_routing_counts_creates_and_completions() {
    let s = start_with(&config(&split(100, ""), "")).await;
    let send = || {
        s.create(body("acme"))
            .header("idempotency-key", "routed-replay-1")
            .send()
    };
    let (status, _, first) = json_of(send().await.unwrap()).await;
    assert_eq!(status, 201, "{first}");
    let (status, headers, replay) = json_of(send().await.unwrap()).await;
    assert_eq!(status, 201);
    assert_eq!(header(&headers, "idempotent-replayed"), "true");
    assert_eq!(replay["id"], first["id"]);
    assert_eq!(header(&headers, "x-routing-rule"), "ramp");
    assert_eq!(header(&headers, "x-routing-target"), "flowglad:default");
    assert_eq!(creates(&s), 1);

    // The vendor completes it; a read past the cache lets the feed see it.
    let id = first["id"].as_str().unwrap();
    let reference = id.rsplit(':').next().unwrap();
    s.sandbox_control(
        &format!("/flowglad/sessions/{reference}"),
        json!({"status": "succeeded"}),
    )
    .await;
    let mut counts = Value::Null;
    for _ in 0..50 {
        assert_eq!(s.fresh_session(id).send().await.unwrap().status(), 200);
        let (status, routing) = admin(&s, reqwest::Method::GET, "/v1/routing", None).await;
        assert_eq!(status, 200, "{routing}");
        counts = routing["counts"]["ramp"]["flowglad:default"].clone();
        if counts["completed"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(counts["created"], 1, "{counts}");
    assert_eq!(counts["completed"], 1, "{counts}");
    let (_, routing) = admin(&s, reqwest::Method::GET, "/v1/routing", None).await;
    assert_eq!(routing["rules"][0]["name"], "ramp", "{routing}");
    assert!(
        !routing.to_string().contains(SALT),
        "the salt is never shown"
    );
    let (_, metrics) = s.metrics(ADMIN_KEY).await;
    assert!(
        metrics.contains(
            r#"routed_creates_total{rule="ramp",target="flowglad:default",outcome="created"} 1"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"routed_completions_total{rule="ramp",target="flowglad:default"} 1"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_reload_swaps_routing_whole_under_load_and_refuses_a_bad_one() {
    let file = std::env::temp_dir().join(format!("cg-routing-{}.toml", std::process::id()));
    let fixed = |name: &str, target: &str| {
        format!("[routing]\n[[routing.rules]]\nname = \"{name}\"\ntarget = \"{target}\"\n")
    };
    let s = start_from_file(
        &config(&fixed("to-meteroid", "meteroid:default"), ""),
        file.clone(),
    )
    .await;
    let write = |routing: &str| {
        let text = config(routing, "").replace("{sandbox}", &s.sandbox);
        std::fs::write(&file, checkout_gateway_e2e::with_hashed_keys(&text)).unwrap();
    };
    let reload = || {
        s.http
            .post(format!("{}/admin/reload", s.gateway))
            .bearer_auth(ADMIN_KEY)
            .send()
    };
    // Explains run without pause while the routing flips ten times.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for _ in 0..4 {
        let (http, url, stop) = (
            s.http.clone(),
            format!("{}/v1/routing/explain", s.gateway),
            stop.clone(),
        );
        load.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let r = http
                    .post(&url)
                    .bearer_auth(CLIENT_KEY)
                    .json(&body("acme"))
                    .send()
                    .await
                    .unwrap();
                let (status, _, answer) = json_of(r).await;
                assert_eq!(status, 200, "{answer}");
                seen.push((
                    answer["rule"].as_str().unwrap().to_owned(),
                    answer["target"].as_str().unwrap().to_owned(),
                ));
            }
            seen
        }));
    }
    for i in 0..10 {
        if i % 2 == 0 {
            write(&fixed("to-flowglad", "flowglad:default"));
        } else {
            write(&fixed("to-meteroid", "meteroid:default"));
        }
        assert_eq!(reload().await.unwrap().status(), 200);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut seen = std::collections::BTreeSet::new();
    let mut answers = 0;
    for task in load {
        for pair in task.await.unwrap() {
            answers += 1;
            seen.insert(pair);
        }
    }
    let expected: std::collections::BTreeSet<(String, String)> = [
        ("to-flowglad".to_owned(), "flowglad:default".to_owned()),
        ("to-meteroid".to_owned(), "meteroid:default".to_owned()),
    ]
    .into();
    assert_eq!(
        seen, expected,
        "never a rule of one config with a target of another ({answers} answers)"
    );

    // A bad routing is refused with its key path; the routing in force stays.
    write("[routing]\n[[routing.rules]]\nname = \"bad\"\ntarget = \"stripe:default\"\n");
    let r = reload().await.unwrap();
    assert_eq!(r.status(), 422);
    let error: Value = r.json().await.unwrap();
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("routing.rules[0].target"),
        "{error}"
    );
    let (_, explained) = explain(&s, CLIENT_KEY, &body("acme")).await;
    assert_eq!(explained["rule"], "to-meteroid");
    let _ = std::fs::remove_file(&file);
}
