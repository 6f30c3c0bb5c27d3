//! The checks every vendor passes, run for every demo account: the walks of
//! `checkout_gateway::examples::tours()` (one create per account) with the
//! account tables of `config/demo.toml`. A new vendor's accounts get every
//! check here without an edit to `tests/`; what only one vendor does is in
//! `quirks/<vendor>.rs`.
//!
//! Each account runs on its own sandbox and gateway (so call counts are the
//! account's own), all accounts at once (so the cache TTL waits overlap).
//! Beside the demo account `A`, the gateway has `e2e-twin` (the same
//! settings: a session it creates is one the gateway has never read as
//! `A`) and `e2e-badcreds` (every secret of `A` changed).

use std::time::Duration;

use checkout_gateway::examples::{tours, Tour};
use checkout_gateway_e2e::{cache, header, json_of, start_with, Stack, CLIENT_KEY};
use futures::future::join_all;
use serde_json::{json, Value};

const TWIN: &str = "e2e-twin";
const BADCREDS: &str = "e2e-badcreds";

/// One demo account behind its own sandbox and gateway.
struct Vendor {
    provider: &'static str,
    account: &'static str,
    create: Value,
    control: Value,
    /// The secrets `e2e-badcreds` holds instead of the demo's.
    wrong_secrets: Vec<String>,
    s: Stack,
}

/// The demo config's table for `provider:account`, as JSON.
pub(crate) fn demo_account(provider: &str, account: &str) -> Value {
    let demo: toml::Table =
        toml::from_str(checkout_gateway::cmd::demo::DEMO_TOML).expect("config/demo.toml parses");
    let table = demo
        .get("providers")
        .and_then(|p| p.get(provider))
        .and_then(|p| p.get("accounts"))
        .and_then(|a| a.get(account))
        .unwrap_or_else(|| {
            panic!("examples::tours() walks {provider}:{account}, which config/demo.toml lacks")
        });
    serde_json::to_value(table).expect("a TOML table is JSON")
}

/// The same string with its last characters moved on, so it keeps its
/// vendor's shape (prefix, length, alphabet) but is not the secret.
fn wrong(secret: &str) -> String {
    let keep = secret.len().saturating_sub(8);
    let (head, tail) = secret.split_at(keep);
    let tail: String = tail
        .chars()
        .map(|c| match c {
            'a'..='y' | 'A'..='Y' | '0'..='8' => char::from(c as u8 + 1),
            'z' => 'a',
            'Z' => 'A',
            '9' => '0',
            other => other,
        })
        .collect();
    format!("{head}{tail}")
}

/// `account`'s table with each secret (what the connector's redacted config
/// shows as `***`) changed; and the changed values.
fn with_wrong_secrets(provider: &str, account: &str, table: &Value) -> (Value, Vec<String>) {
    let connector = providers::by_name(provider)
        .unwrap_or_else(|| panic!("{provider} is not registered"))
        .build(account, table.clone())
        .unwrap_or_else(|e| panic!("{provider}:{account}: {e}"));
    let redacted = connector.redacted_config();
    let mut bad = table.clone();
    let mut secrets = Vec::new();
    for (key, shown) in redacted.as_object().into_iter().flatten() {
        if shown == "***" {
            if let Some(secret) = table[key.as_str()].as_str() {
                let changed = wrong(secret);
                bad[key.as_str()] = json!(changed);
                secrets.push(changed);
            }
        }
    }
    assert!(
        !secrets.is_empty(),
        "{provider}:{account}: no secret in {redacted} to get wrong"
    );
    (bad, secrets)
}

/// Every demo account, each on its own stack with `extra` config.
async fn vendors(extra: &str) -> Vec<Vendor> {
    let tours = tours();
    assert!(tours.len() >= providers::all().len(), "a walk per vendor");
    join_all(tours.into_iter().map(|tour| start(tour, extra))).await
}

async fn start(tour: Tour, extra: &str) -> Vendor {
    let (provider, account) = (tour.provider, tour.account);
    let mut table = demo_account(provider, account);
    let (mut bad, wrong_secrets) = with_wrong_secrets(provider, account, &table);
    for t in [&mut table, &mut bad] {
        t["base_url"] = json!(format!("{{sandbox}}/{provider}"));
    }
    let accounts = json!({account: table, TWIN: table, BADCREDS: bad});
    let config = json!({
        "providers": {provider: {"accounts": accounts}},
        "clients": {"main": {
            "key": CLIENT_KEY,
            "accounts": [format!("{provider}:{account}"), format!("{provider}:{TWIN}"),
                         format!("{provider}:{BADCREDS}")],
        }},
    });
    let toml = toml::to_string(&config).expect("the config is TOML");
    Vendor {
        provider,
        account,
        create: tour.create,
        control: tour.control,
        wrong_secrets,
        s: start_with(&format!("{toml}\n{extra}")).await,
    }
}

/// Run `check` for every demo account at once.
async fn for_each<F, Fut>(extra: &str, check: F)
where
    F: Fn(Vendor) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    join_all(vendors(extra).await.into_iter().map(check)).await;
}

impl Vendor {
    fn label(&self) -> String {
        format!("{}:{}", self.provider, self.account)
    }

    fn calls(&self, op: &str) -> u64 {
        self.s.calls(self.provider, op)
    }

    /// The demo's create, made through `account`: 201 and the session.
    async fn create_as(&self, account: &str) -> Value {
        let mut body = self.create.clone();
        body["account"] = json!(account);
        let (status, _, created) = json_of(self.s.create(body).send().await.unwrap()).await;
        assert_eq!(status, 201, "{}: {created}", self.label());
        created
    }

    /// The vendor reference of a session the gateway has never read as
    /// `account` (made through the twin).
    async fn unseen(&self) -> String {
        let created = self.create_as(TWIN).await;
        let id = created["id"].as_str().unwrap();
        id.strip_prefix(&format!("{}:{TWIN}:", self.provider))
            .unwrap_or_else(|| panic!("{}: {id}", self.label()))
            .to_owned()
    }

    fn id(&self, reference: &str) -> String {
        format!("{}:{}:{reference}", self.provider, self.account)
    }
}

/// The canonical error shape: every field present, the request id echoed.
/// Returns the code.
fn error_code(label: &str, body: &Value, headers: &reqwest::header::HeaderMap) -> String {
    let e = &body["error"];
    for field in ["type", "code", "message", "retryable"] {
        assert!(!e[field].is_null(), "{label}: error lacks {field}: {body}");
    }
    assert_eq!(
        e["request_id"],
        header(headers, "x-request-id"),
        "{label}: error carries the request id"
    );
    e["code"].as_str().unwrap_or_default().to_owned()
}

/// Whether `needle` is a string anywhere inside `v`.
fn holds_string(v: &Value, needle: &str) -> bool {
    match v {
        Value::String(s) => s == needle,
        Value::Array(items) => items.iter().any(|i| holds_string(i, needle)),
        Value::Object(map) => map.values().any(|i| holds_string(i, needle)),
        _ => false,
    }
}

#[test]
fn every_registered_provider_has_a_demo_walk() {
    let tours = tours();
    for provider in providers::all() {
        assert!(
            tours.iter().any(|t| t.provider == provider.name()),
            "{} has no walk in crates/gateway/src/examples.rs, so no end-to-end checks: \
             add one (and its account to config/demo.toml)",
            provider.name()
        );
    }
}

#[tokio::test]
async fn create_then_get_from_the_cache() {
    for_each("", |v| async move {
        let label = v.label();
        let (status, headers, created) =
            json_of(v.s.create(v.create.clone()).send().await.unwrap()).await;
        assert_eq!(status, 201, "{label}: {created}");
        assert_eq!(created["object"], "checkout_session", "{label}");
        assert_eq!(created["provider"], v.provider, "{label}");
        assert_eq!(created["status"], "open", "{label}");
        let id = created["id"].as_str().unwrap().to_owned();
        let reference = id
            .strip_prefix(&format!("{label}:"))
            .unwrap_or_else(|| panic!("{label}: {id}"));
        assert_eq!(created["provider_session_id"], reference, "{label}");
        assert_eq!(
            header(&headers, "location"),
            format!("/v1/checkout-sessions/{id}"),
            "{label}"
        );
        assert!(
            created["created_at"].as_str().unwrap().ends_with('Z'),
            "{label}: {created}"
        );
        assert_eq!(v.calls("create"), 1, "{label}");

        // Create filled the cache.
        let (status, headers, got) = json_of(v.s.session(&id).send().await.unwrap()).await;
        assert_eq!(status, 200, "{label}");
        assert_eq!(header(&headers, "x-cache"), "hit", "{label}");
        assert_eq!(got["id"], created["id"], "{label}");
        assert_eq!(got["status"], "open", "{label}");
        assert_eq!(v.calls("get"), 0, "{label}");

        // no-cache goes to the vendor.
        let r = v.s.fresh_session(&id).send().await.unwrap();
        assert_eq!(r.status(), 200, "{label}");
        assert_eq!(header(r.headers(), "x-cache"), "bypass", "{label}");
        assert_eq!(v.calls("get"), 1, "{label}");
    })
    .await;
}

#[tokio::test]
async fn an_unseen_session_misses_then_hits_and_misses_coalesce() {
    for_each("", |v| async move {
        let label = v.label();
        let id = v.id(&v.unseen().await);
        let (status, h, first) = json_of(v.s.session(&id).send().await.unwrap()).await;
        assert_eq!(status, 200, "{label}: {first}");
        assert_eq!(header(&h, "x-cache"), "miss", "{label}");
        assert_eq!(first["id"], id.as_str(), "{label}");
        let r = v.s.session(&id).send().await.unwrap();
        assert_eq!(header(r.headers(), "x-cache"), "hit", "{label}");
        assert_eq!(v.calls("get"), 1, "{label}");

        // A hundred callers at once for another unseen id: one vendor call.
        let id = v.id(&v.unseen().await);
        let requests = (0..100).map(|_| {
            let r = v.s.session(&id).send();
            async move { r.await.expect("answer").status().as_u16() }
        });
        let statuses = join_all(requests).await;
        assert!(statuses.iter().all(|&c| c == 200), "{label}: {statuses:?}");
        assert_eq!(v.calls("get"), 2, "{label}");
        let r = v.s.session(&id).send().await.unwrap();
        assert_eq!(header(r.headers(), "x-cache"), "hit", "{label}");
    })
    .await;
}

#[tokio::test]
async fn raw_is_the_vendor_payload() {
    for_each("", |v| async move {
        let label = v.label();
        let reference = v.unseen().await;
        let id = v.id(&reference);
        let (status, headers, body) = json_of(
            v.s.session(&format!("{id}?include=raw"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{label}: {body}");
        assert_eq!(header(&headers, "x-cache"), "miss", "{label}");
        assert!(body["raw"].is_object(), "{label}: {body}");
        // The vendor's own id for it (for a reference carrying its org, the
        // last part) is in the vendor's body.
        let vendor_id = reference.rsplit(':').next().unwrap();
        assert!(holds_string(&body["raw"], vendor_id), "{label}: {body}");
        let (_, _, plain) = json_of(v.s.session(&id).send().await.unwrap()).await;
        assert!(plain.get("raw").is_none(), "{label}: {plain}");
        assert_eq!(plain["id"], id.as_str(), "{label}");
    })
    .await;
}

#[tokio::test]
async fn status_follows_the_vendor_after_the_open_ttl() {
    for_each(&cache(1, 1000), |v| async move {
        let label = v.label();
        let created = v.create_as(v.account).await;
        let id = created["id"].as_str().unwrap().to_owned();
        // The sandbox's control routes take the vendor's own id.
        let vendor_id = id.rsplit(':').next().unwrap();
        v.s.sandbox_control(
            &format!("/{}/sessions/{vendor_id}", v.provider),
            v.control.clone(),
        )
        .await;
        let (_, h, cached) = json_of(v.s.session(&id).send().await.unwrap()).await;
        assert_eq!(
            (header(&h, "x-cache"), cached["status"].as_str()),
            ("hit", Some("open")),
            "{label}"
        );
        tokio::time::sleep(Duration::from_millis(1300)).await;
        let (_, h, fresh) = json_of(v.s.session(&id).send().await.unwrap()).await;
        assert_eq!(header(&h, "x-cache"), "miss", "{label}");
        assert_ne!(fresh["status"], "open", "{label}: {fresh}");
        assert_ne!(
            fresh["provider_status"], created["provider_status"],
            "{label}: the vendor's own status moved on"
        );
        // Terminal sessions stay cached.
        if matches!(fresh["status"].as_str(), Some("complete" | "expired")) {
            tokio::time::sleep(Duration::from_millis(1300)).await;
            let r = v.s.session(&id).send().await.unwrap();
            assert_eq!(header(r.headers(), "x-cache"), "hit", "{label}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_session_the_vendor_does_not_have_is_not_found() {
    for_each("", |v| async move {
        let label = v.label();
        // Made at another sandbox (ids are random): well-formed, unknown here.
        let elsewhere = start(
            tours()
                .into_iter()
                .find(|t| (t.provider, t.account) == (v.provider, v.account))
                .expect("the same walk"),
            "",
        )
        .await;
        let reference = elsewhere.unseen().await;
        let id = v.id(&reference);
        let (status, headers, body) = json_of(v.s.session(&id).send().await.unwrap()).await;
        assert_eq!(
            (status, error_code(&label, &body, &headers).as_str()),
            (404, "not_found"),
            "{label}: {body}"
        );
        assert_eq!(body["error"]["provider"], v.provider, "{label}: {body}");
        assert!(
            body["error"]["provider_http_status"].is_u64(),
            "{label}: {body}"
        );
        assert!(headers.get("x-cache").is_none(), "{label}");
        assert_eq!(v.calls("get"), 1, "{label}");
        // Not cached: the next read asks again.
        let r = v.s.session(&id).send().await.unwrap();
        assert_eq!(r.status(), 404, "{label}");
        assert!(v.calls("get") >= 2, "{label}");
    })
    .await;
}

#[tokio::test]
async fn refused_credentials_are_not_the_callers_fault() {
    for_each("", |v| async move {
        let label = v.label();
        let reference = v.unseen().await;
        let id = format!("{}:{BADCREDS}:{reference}", v.provider);
        let mut create = v.create.clone();
        create["account"] = json!(BADCREDS);
        for (what, request) in [
            ("get", v.s.session(&id)),
            ("create", v.s.create(create.clone())),
        ] {
            let (status, headers, body) = json_of(request.send().await.unwrap()).await;
            assert_eq!(
                (status, error_code(&label, &body, &headers).as_str()),
                (502, "provider_auth_failed"),
                "{label} {what}: {body}"
            );
            assert_eq!(body["error"]["provider"], v.provider, "{label} {what}");
            assert_eq!(body["error"]["retryable"], false, "{label} {what}");
            let vendor_status = body["error"]["provider_http_status"].as_u64();
            assert!(
                matches!(vendor_status, Some(401 | 403)),
                "{label} {what}: {body}"
            );
            let text = body.to_string();
            for secret in &v.wrong_secrets {
                assert!(
                    !text.contains(secret.as_str()),
                    "{label} {what}: a secret in {text}"
                );
            }
        }
    })
    .await;
}

#[tokio::test]
async fn malformed_ids_never_reach_the_vendor() {
    for_each("", |v| async move {
        let label = v.label();
        let reference = v.unseen().await;
        let (p, a) = (v.provider, v.account);
        for (id, want_status, want_code) in [
            (format!("{p}:{a}:{reference}.."), 400, "invalid_id"),
            (format!("{p}:{a}:{reference}%2Fcancel"), 400, "invalid_id"),
            (format!("{p}:{a}:{reference}:x"), 400, "invalid_id"),
            (format!("{p}:{a}:"), 400, "invalid_id"),
            (format!("{p}:{a}"), 400, "invalid_id"),
            (
                format!("{p}:{}:{reference}", a.to_uppercase()),
                400,
                "invalid_id",
            ),
            (format!("stripe:{a}:{reference}"), 400, "unknown_provider"),
            (format!("{p}:nosuchaccount:{reference}"), 404, "not_found"),
        ] {
            let (status, headers, body) = json_of(v.s.session(&id).send().await.unwrap()).await;
            assert_eq!(
                (status, error_code(&label, &body, &headers).as_str()),
                (want_status, want_code),
                "{id}: {body}"
            );
        }
        assert_eq!(v.calls("get"), 0, "{label}");
    })
    .await;
}

/// A value of each optional canonical create field, for trying one a
/// vendor does not take.
fn canonical_fields() -> [(&'static str, Value); 5] {
    [
        ("success_url", json!("https://shop.example/ok")),
        ("cancel_url", json!("https://shop.example/no")),
        ("expires_at", json!("2030-01-01T00:00:00Z")),
        ("quantity", json!(2)),
        ("metadata", json!({"order": "1"})),
    ]
}

/// `/v1/providers`' entry for this vendor.
async fn listed(v: &Vendor) -> Value {
    let (status, _, providers) = json_of(v.s.get("/v1/providers").send().await.unwrap()).await;
    assert_eq!(status, 200, "{providers}");
    providers["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["provider"] == v.provider)
        .cloned()
        .unwrap_or_else(|| panic!("{} not listed: {providers}", v.provider))
}

/// The field names of `capabilities.create_fields` (each entry is a name,
/// then maybe a note).
fn create_fields(entry: &Value) -> Vec<String> {
    entry["capabilities"]["create_fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f.as_str()?.split_whitespace().next().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn create_refuses_what_the_vendor_cannot_honour_before_calling_it() {
    for_each("", |v| async move {
        let label = v.label();
        let fields = create_fields(&listed(&v).await);
        let mut refused = 0;
        for (field, value) in canonical_fields() {
            if fields.iter().any(|f| f == field) {
                continue;
            }
            let mut body = v.create.clone();
            body[field] = value;
            let (status, headers, err) = json_of(v.s.create(body).send().await.unwrap()).await;
            assert_eq!(
                (status, error_code(&label, &err, &headers).as_str()),
                (422, "unsupported_field"),
                "{label} {field}: {err}"
            );
            let message = err["error"]["message"].as_str().unwrap();
            assert!(
                message.contains(field) && message.contains(v.provider),
                "{label}: {message}"
            );
            refused += 1;
        }
        let mut body = v.create.clone();
        body["provider_options"]["e2e_no_such_option"] = json!(3);
        let (status, headers, err) = json_of(v.s.create(body).send().await.unwrap()).await;
        assert_eq!(
            (status, error_code(&label, &err, &headers).as_str()),
            (422, "unsupported_field"),
            "{label}: {err}"
        );
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .contains("provider_options.e2e_no_such_option"),
            "{label}: {err}"
        );
        assert_eq!(v.calls("create"), 0, "{label} ({refused} fields refused)");
    })
    .await;
}

#[tokio::test]
async fn providers_lists_the_accounts_and_what_the_walk_uses() {
    for_each("", |v| async move {
        let label = v.label();
        let entry = listed(&v).await;
        let mut accounts = vec![v.account, TWIN, BADCREDS];
        accounts.sort_unstable();
        assert_eq!(entry["accounts"], json!(accounts), "{label}");
        assert_eq!(entry["capabilities"]["get"], true, "{label}");
        assert_eq!(entry["capabilities"]["create"], true, "{label}");
        // Every field and provider option the demo's create uses is one the
        // vendor says it takes.
        let fields = create_fields(&entry);
        for field in v.create.as_object().unwrap().keys() {
            if field != "provider" && field != "account" {
                assert!(fields.contains(field), "{label}: {field} not in {fields:?}");
            }
        }
        let options = entry["capabilities"]["provider_options"].clone();
        for option in v.create["provider_options"]
            .as_object()
            .into_iter()
            .flatten()
        {
            assert!(
                options.as_array().unwrap().contains(&json!(option.0)),
                "{label}: {} not in {options}",
                option.0
            );
        }
    })
    .await;
}
