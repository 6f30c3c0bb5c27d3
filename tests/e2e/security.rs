//! Nobody reads a session they are not entitled to; no credential leaves the
//! gateway; forged ids never reach a vendor.

use checkout_gateway_e2e::{captured_logs, header, json_of, start_with, Stack};
use serde_json::{json, Value};

const SHOP_A: &str = "CLIENTKEY-shop-a-zq7x-0001";
const SHOP_B: &str = "CLIENTKEY-shop-b-zq7x-0002";
const READER: &str = "CLIENTKEY-reader-zq7x-0003";
const OPS: &str = "CLIENTKEY-ops-zq7x-0004";
const BAD_VENDOR_KEY: &str = "pv_sand_VENDORSECRETzq7xVENDORSECRETzq/x";

fn config() -> String {
    format!(
        r#"
        [providers.meteroid.accounts.a]
        base_url = "{{sandbox}}/meteroid"
        api_key = "{meteroid}"
        [providers.meteroid.accounts.b]
        base_url = "{{sandbox}}/meteroid"
        api_key = "{meteroid}"
        [providers.meteroid.accounts.broken]
        base_url = "{{sandbox}}/meteroid"
        api_key = "{BAD_VENDOR_KEY}"
        [providers.flowglad.accounts.default]
        base_url = "{{sandbox}}/flowglad"
        api_key = "{flowglad}"
        [clients.shop-a]
        key = "{SHOP_A}"
        accounts = ["meteroid:a", "meteroid:broken"]
        [clients.shop-b]
        key = "{SHOP_B}"
        accounts = ["meteroid:b"]
        [clients.reader]
        key = "{READER}"
        accounts = ["meteroid:*", "flowglad:*"]
        scopes = ["sessions:read"]
        [clients.ops]
        key = "{OPS}"
        scopes = ["admin"]
        "#,
        meteroid = sandbox::DEMO_METEROID_API_KEY,
        flowglad = sandbox::flowglad::seed::API_KEY,
    )
}

fn create_in(account: &str) -> Value {
    json!({"provider": "meteroid", "account": account,
        "customer": sandbox::meteroid::seed::CUSTOMER_ACME_ALIAS, "plan": sandbox::meteroid::seed::PLAN_VERSION_STARTER_ID})
}

#[tokio::test]
async fn sessions_cached_for_one_client_are_invisible_to_another() {
    let s = start_with(&config()).await;
    let r = s
        .http
        .post(format!("{}/v1/checkout-sessions", s.gateway))
        .bearer_auth(SHOP_A)
        .json(&create_in("a"));
    let (status, _, created) = json_of(r.send().await.unwrap()).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let reference = id.rsplit(':').next().unwrap().to_owned();

    // Shop A reads it from the cache; shop B cannot, under either account.
    let (status, headers, _) = json_of(
        s.get_as(SHOP_A, &format!("/v1/checkout-sessions/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, header(&headers, "x-cache")), (200, "hit"));
    let (status, headers, body) = json_of(
        s.get_as(SHOP_B, &format!("/v1/checkout-sessions/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        header(&headers, "x-cache"),
        "",
        "no cache header leaks existence"
    );
    assert_eq!(
        body["error"]["message"],
        "no such checkout session or account"
    );
    let (unknown_status, _, unknown) = json_of(
        s.get_as(SHOP_B, "/v1/checkout-sessions/meteroid:nosuch:che_1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (unknown_status, &unknown["error"]["message"]),
        (404, &body["error"]["message"]),
        "absent and forbidden look alike"
    );
    assert_eq!(
        s.calls("meteroid", "get"),
        0,
        "refused before the cache and the vendor"
    );
    // The same vendor id under shop B's own account is a different canonical
    // id: never served from account a's cache entry (here both accounts share
    // one sandbox tenant, so the vendor has it).
    let (status, headers, _) = json_of(
        s.get_as(
            SHOP_B,
            &format!("/v1/checkout-sessions/meteroid:b:{reference}"),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!((status, header(&headers, "x-cache")), (200, "miss"));
    assert_eq!(s.calls("meteroid", "get"), 1);

    // A reader may read but not create, and sees only its grants in /v1/providers.
    let r = s
        .http
        .post(format!("{}/v1/checkout-sessions", s.gateway))
        .bearer_auth(READER)
        .json(&create_in("a"));
    let (status, _, body) = json_of(r.send().await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden")),
        "{body}"
    );
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("sessions:write"));
    let (_, _, providers) = json_of(s.get_as(SHOP_B, "/v1/providers").send().await.unwrap()).await;
    assert_eq!(
        providers["data"],
        json!([{"provider": "meteroid", "accounts": ["b"],
        "capabilities": providers["data"][0]["capabilities"].clone(),
        "list_filters": {"vendor": ["customer", "status"], "gateway": ["created"]},
        "account_capabilities": {}}])
    );
    let (_, _, providers) = json_of(s.get_as(READER, "/v1/providers").send().await.unwrap()).await;
    let names: Vec<&str> = providers["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["provider"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["flowglad", "meteroid"],
        "wildcards expand to the configured accounts, providers by name"
    );
    assert_eq!(
        providers["data"][1]["accounts"],
        json!(["a", "b", "broken"])
    );
    // An admin-only key reads nothing.
    let (status, _, _) = json_of(
        s.get_as(OPS, &format!("/v1/checkout-sessions/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn forged_ids_are_refused_before_any_vendor_call() {
    let s = start_with(&config()).await;
    let long = format!("meteroid:a:che_{}", "1".repeat(300));
    let forged = [
        "meteroid:a:..",
        "meteroid:a:che_1%2F..%2Fcancel",
        "meteroid:a:che_1%2Fcancel",
        "meteroid%3Aa%3Ache_1",
        "meteroid:a%3Ache_1",
        "meteroid:a:che_1%3Acancel",
        "meteroid:a:%2e%2e",
        "meteroid:a:che_ü",
        "meteroid:a:che_%00",
        "meteroid:a:chckt_session_000000000000000000000",
        "flowglad:default:che_7n42DGM5Tflk9n8mt7Fhc7",
        "frontier:a:00000000-0000-0000-0000-000000000000",
        "meteroid:a:che_1?x=1",
        long.as_str(),
    ];
    for id in forged {
        let r = s
            .get_as(SHOP_A, &format!("/v1/checkout-sessions/{id}"))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        assert!(matches!(status, 400 | 404), "{id}: {status}");
    }
    for op in ["get", "create", "list", "cancel", "other"] {
        assert_eq!(
            s.calls("meteroid", op) + s.calls("flowglad", op) + s.calls("frontier", op),
            0,
            "{op}"
        );
    }
}

#[tokio::test]
async fn no_credential_appears_in_any_answer_or_log_line() {
    let logs = captured_logs();
    let s = start_with(&config()).await;
    let reference = s.vendor_session().await;
    let mut answers = Vec::new();
    let keep = |r: reqwest::Response| async {
        let headers = format!("{:?}", r.headers());
        let body = r.text().await.unwrap_or_default();
        format!("{headers}\n{body}")
    };
    // Every route, as every kind of caller, and the error paths.
    for key in [SHOP_A, SHOP_B, READER, OPS, "CLIENTKEY-unknown-zq7x-9999"] {
        for path in [
            format!("/v1/checkout-sessions/meteroid:a:{reference}?include=raw"),
            format!("/v1/checkout-sessions/meteroid:broken:{reference}"),
            "/v1/checkout-sessions/meteroid:a:che_1".to_owned(),
            "/v1/providers".to_owned(),
            "/metrics".to_owned(),
            "/readyz".to_owned(),
            "/healthz".to_owned(),
            "/openapi.json".to_owned(),
        ] {
            answers.push(keep(s.get_as(key, &path).send().await.unwrap()).await);
        }
        let create = s
            .http
            .post(format!("{}/v1/checkout-sessions", s.gateway))
            .bearer_auth(key)
            .json(&create_in("broken"));
        answers.push(keep(create.send().await.unwrap()).await);
        let reload = s
            .http
            .post(format!("{}/admin/reload", s.gateway))
            .bearer_auth(key);
        answers.push(keep(reload.send().await.unwrap()).await);
    }
    // A vendor whose error echoes the request's Authorization header.
    let echo = json!({"vendor": "meteroid", "op": "get", "fault": {"status": 400,
        "body": format!("{{\"code\":\"BAD_REQUEST\",\"message\":\"bad header: Bearer {BAD_VENDOR_KEY}\"}}")}});
    s.http
        .post(format!("{}/_sandbox/faults", s.sandbox))
        .json(&echo)
        .send()
        .await
        .unwrap();
    let echoed = s
        .get_as(
            SHOP_A,
            &format!("/v1/checkout-sessions/meteroid:broken:{reference}"),
        )
        .header("cache-control", "no-cache");
    let echoed = keep(echoed.send().await.unwrap()).await;
    assert!(
        echoed.contains("bad header: ***"),
        "the vendor's message is relayed, scrubbed: {echoed}"
    );
    answers.push(echoed);

    // The gateway's lines; the sandbox plays the vendor in this process and
    // its own lines (which show the fault bodies we planted) are not ours.
    let logs: String = logs
        .text()
        .lines()
        .filter(|line| !line.contains("\"target\":\"sandbox"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        logs.contains("\"route\":\"/v1/checkout-sessions/{id}\""),
        "trace logs were captured"
    );
    let secrets = [
        SHOP_A,
        SHOP_B,
        READER,
        OPS,
        "CLIENTKEY-unknown-zq7x-9999",
        BAD_VENDOR_KEY,
        "VENDORSECRETzq7x",
        sandbox::DEMO_METEROID_API_KEY,
        sandbox::flowglad::seed::API_KEY,
    ];
    for secret in secrets {
        for answer in &answers {
            assert!(!answer.contains(secret), "{secret} in an answer: {answer}");
        }
        if let Some(at) = logs.find(secret) {
            let from = logs[..at].rfind('\n').map_or(0, |i| i + 1);
            let to = logs[at..].find('\n').map_or(logs.len(), |i| at + i);
            panic!("{secret} in the logs: {}", &logs[from..to]);
        }
    }
}

/// Caller mistakes are 400s naming the field, whatever the vendor.
#[tokio::test]
async fn create_bodies_are_checked_field_by_field_before_any_vendor() {
    let s = start_with(&config()).await;
    for (field, value) in [
        ("cancel_url", json!("not a url")),
        ("success_url", json!("http://shop.example/ok")),
        ("quantity", json!(0)),
        ("customer", json!("")),
        ("expires_at", json!("2001-01-01T00:00:00Z")),
        ("metadata", json!({"k": "v".repeat(501)})),
    ] {
        let mut body = create_in("a");
        body[field] = value;
        let r = s
            .http
            .post(format!("{}/v1/checkout-sessions", s.gateway))
            .bearer_auth(SHOP_A)
            .json(&body);
        let (status, _, err) = json_of(r.send().await.unwrap()).await;
        assert_eq!(status, 400, "{field}: {err}");
        assert!(
            err["error"]["message"].as_str().unwrap().starts_with(field),
            "{err}"
        );
    }
    assert_eq!(s.calls("meteroid", "create"), 0);
}

/// Meteroid, Flowglad and Zenskar (family A) accounts for one shop.
fn three_vendor_config() -> String {
    let zenskar = sandbox::zenskar::seed::API_KEY;
    let org = sandbox::zenskar::seed::ORGANISATION_ID;
    format!(
        r#"
        [providers.meteroid.accounts.a]
        base_url = "{{sandbox}}/meteroid"
        api_key = "{meteroid}"
        [providers.flowglad.accounts.default]
        base_url = "{{sandbox}}/flowglad"
        api_key = "{flowglad}"
        [providers.zenskar.accounts.checkout]
        base_url = "{{sandbox}}/zenskar"
        api_key = "{zenskar}"
        organisation = "{org}"
        [clients.shop-a]
        key = "{SHOP_A}"
        accounts = ["meteroid:a", "flowglad:default", "zenskar:checkout"]
        "#,
        meteroid = sandbox::DEMO_METEROID_API_KEY,
        flowglad = sandbox::flowglad::seed::API_KEY,
    )
}

/// A Zenskar family A create body the sandbox accepts.
fn zenskar_create() -> Value {
    json!({
        "provider": "zenskar", "account": "checkout",
        "customer": sandbox::zenskar::seed::CUSTOMER_NORTHWIND_ID,
        "plan": sandbox::zenskar::seed::PLAN_STARTER_ID,
        "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no",
        "provider_options": {"currency": "USD", "start_date": "2026-03-01",
            "pending_url": "https://shop.example/wait"}
    })
}

/// A Flowglad create body the sandbox accepts.
fn flowglad_create() -> Value {
    json!({
        "provider": "flowglad", "account": "default",
        "customer": sandbox::flowglad::seed::CUSTOMER_ACME_EXTERNAL_ID,
        "plan": sandbox::flowglad::seed::PRICE_PRO_MONTHLY_ID,
        "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no"
    })
}

fn creates(s: &Stack) -> u64 {
    ["meteroid", "flowglad", "zenskar"]
        .iter()
        .map(|v| s.calls(v, "create"))
        .sum()
}

async fn post_raw(s: &Stack, body: String) -> (u16, Value) {
    let r = s
        .http
        .post(format!("{}/v1/checkout-sessions", s.gateway))
        .bearer_auth(SHOP_A)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let (status, _, body) = json_of(r).await;
    (status, body)
}

/// Bytes after the JSON body are refused, as they are in vendor answers.
#[tokio::test]
async fn trailing_data_after_a_create_body_is_refused_before_any_vendor() {
    let s = start_with(&three_vendor_config()).await;
    for valid in [create_in("a"), flowglad_create(), zenskar_create()] {
        for tail in [" trailing garbage {{{", "{}", "\n1", "]", "\0"] {
            let (status, err) = post_raw(&s, format!("{valid}{tail}")).await;
            assert_eq!(status, 400, "{tail:?}: {err}");
            let message = err["error"]["message"].as_str().unwrap();
            assert!(
                message.starts_with("body: trailing data after the JSON body"),
                "{message}"
            );
        }
    }
    assert_eq!(creates(&s), 0, "refused before any vendor call");
    // Trailing whitespace is not data: the same body creates.
    let (status, created) = post_raw(&s, format!("{}\r\n", zenskar_create())).await;
    assert_eq!(status, 201, "{created}");
}

/// Every caller-given URL, canonical fields and URL-valued
/// `provider_options` alike, is an absolute https URL as written.
#[tokio::test]
async fn loose_redirect_urls_are_refused_before_any_vendor() {
    let s = start_with(&three_vendor_config()).await;
    let loose = [
        "https:evil.example/ok",
        "https:///ok",
        r"https://a\@evil.com/x",
        "https://shop.example/ok\r\nSet-Cookie: x=1",
        "https://shop.example/\0",
        "https://user:pass@evil.example/x",
        "http://user:pass@evil.example/x",
        "https://%65vil.example/",
    ];
    for url in loose {
        for (body, field) in [
            (flowglad_create(), "success_url"),
            (flowglad_create(), "cancel_url"),
            (zenskar_create(), "success_url"),
            (zenskar_create(), "cancel_url"),
            (zenskar_create(), "provider_options.pending_url"),
        ] {
            let mut body = body;
            match field.strip_prefix("provider_options.") {
                Some(key) => body["provider_options"][key] = json!(url),
                None => body[field] = json!(url),
            }
            let (status, err) = post_raw(&s, body.to_string()).await;
            assert_eq!(status, 400, "{field} = {url:?}: {err}");
            let message = err["error"]["message"].as_str().unwrap();
            assert!(
                message.starts_with(&format!("{field}:")),
                "{field} = {url:?}: {message}"
            );
        }
    }
    assert_eq!(creates(&s), 0, "refused before any vendor call");
    // The same bodies with canonical URLs reach the vendors.
    for body in [flowglad_create(), zenskar_create()] {
        let (status, created) = post_raw(&s, body.to_string()).await;
        assert_eq!(status, 201, "{created}");
    }
}

/// A repeated key is refused at any depth, naming where it is.
#[tokio::test]
async fn duplicate_keys_are_refused_at_every_depth_before_any_vendor() {
    let s = start_with(&three_vendor_config()).await;
    let meteroid = create_in("a").to_string();
    let meteroid = meteroid.trim_start_matches('{').trim_end_matches('}');
    let zenskar = zenskar_create().to_string();
    let zenskar = zenskar.trim_end_matches('}');
    for (body, named) in [
        (
            format!(r#"{{{meteroid},"metadata":{{"order":"1","order":"2"}}}}"#),
            r#"metadata: duplicate key "order""#,
        ),
        (
            format!(r#"{{{meteroid},"provider_options":{{"coupon_code":"A","coupon_code":"B"}}}}"#),
            r#"provider_options: duplicate key "coupon_code""#,
        ),
        (
            format!(
                r#"{{{meteroid},"provider_options":{{"payment_methods_config":{{"type":"online","type":"external"}}}}}}"#
            ),
            r#"provider_options.payment_methods_config: duplicate key "type""#,
        ),
        (
            format!(r#"{zenskar},"metadata":{{"a":"1","a":"1"}}}}"#),
            r#"metadata: duplicate key "a""#,
        ),
        (
            format!(r#"{zenskar},"account":"checkout"}}"#),
            "body: duplicate field `account`",
        ),
    ] {
        let (status, err) = post_raw(&s, body.clone()).await;
        assert_eq!(status, 400, "{body}: {err}");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(named), "{body}: {message}");
    }
    assert_eq!(creates(&s), 0, "refused before any vendor call");
}
