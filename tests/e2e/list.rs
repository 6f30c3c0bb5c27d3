//! The list across vendors and cancel (PRODUCT §8, §9), over the demo's
//! six accounts on the sandbox: paging, ordering, filters, failing and
//! unsupported sources, cursors, the cache, and cancel's answers.

use std::collections::HashSet;

use checkout_gateway::examples::tours;
use checkout_gateway_e2e::{code, json_of, start_with, Stack};
use futures::stream::{self, StreamExt};
use serde_json::{json, Value};

const KEY: &str = "demo-client-key-0000000000000001";
const READER: &str = "demo-reader-key-0000000000000001";

/// The demo config on this stack's sandbox, its main client free of budgets
/// (the tests make thousands of calls) and cursors short-lived where asked.
async fn demo_stack(extra: &str) -> Stack {
    let demo = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/demo.toml"))
        .expect("config/demo.toml");
    let toml = demo.replace("http://127.0.0.1:9100", "{sandbox}").replace(
        "[clients.demo]\n",
        "[clients.demo]\nrequests_per_sec = 1000000\nvendor_calls_per_sec = 1000000\n",
    );
    start_with(&format!("{toml}\n{extra}")).await
}

async fn list(s: &Stack, key: &str, query: &str) -> (u16, Value) {
    let r = s
        .http
        .get(format!("{}/v1/checkout-sessions?{query}", s.gateway))
        .bearer_auth(key)
        .send()
        .await
        .expect("list");
    let (status, _, body) = json_of(r).await;
    (status, body)
}

/// Create `per_account` sessions on every demo account through the gateway;
/// their ids, by account.
async fn create_many(s: &Stack, per_account: usize) -> Vec<(String, String)> {
    let bodies: Vec<(String, Value)> = tours()
        .into_iter()
        .flat_map(|t| {
            let account = format!("{}:{}", t.provider, t.account);
            std::iter::repeat_n((account, t.create), per_account)
        })
        .collect();
    stream::iter(bodies)
        .map(|(account, body)| async move {
            let r = s
                .http
                .post(format!("{}/v1/checkout-sessions", s.gateway))
                .bearer_auth(KEY)
                .json(&body)
                .send()
                .await
                .expect("create");
            let (status, _, created) = json_of(r).await;
            assert_eq!(status, 201, "{created}");
            (account, created["id"].as_str().unwrap().to_owned())
        })
        .buffer_unordered(16)
        .collect()
        .await
}

/// Page through `query` with `limit`; every session, and the pages' sources.
async fn page_all(s: &Stack, query: &str, limit: u32) -> (Vec<Value>, Vec<Value>) {
    let mut all = Vec::new();
    let mut sources;
    let mut cursor: Option<String> = None;
    for _ in 0..10_000 {
        let q = match &cursor {
            Some(c) => format!("{query}&limit={limit}&cursor={c}"),
            None => format!("{query}&limit={limit}"),
        };
        let (status, page) = list(s, KEY, &q).await;
        assert_eq!(status, 200, "{page}");
        let data = page["data"].as_array().unwrap();
        assert!(data.len() <= limit as usize);
        all.extend(data.iter().cloned());
        sources = page["sources"].as_array().unwrap().clone();
        match page["next_cursor"].as_str() {
            Some(c) => {
                assert_eq!(page["has_more"], true);
                cursor = Some(c.to_owned());
            }
            None => {
                assert_eq!(page["has_more"], false);
                return (all, sources);
            }
        }
    }
    panic!("paging did not end");
}

/// Move a session on at its vendor the way its demo walk does.
async fn move_on(s: &Stack, tour: &sandbox::Tour, id: &str) {
    let reference = id.rsplit(':').next().unwrap();
    s.sandbox_control(
        &format!("/{}/sessions/{reference}", tour.provider),
        tour.control.clone(),
    )
    .await;
}

fn key_of(session: &Value) -> (String, String) {
    (
        session["created_at"].as_str().unwrap().to_owned(),
        session["id"].as_str().unwrap().to_owned(),
    )
}

/// Strictly `created_at` then id descending (RFC 3339 in UTC with a fixed
/// precision sorts as text), so no session twice.
fn assert_ordered(sessions: &[Value]) {
    for pair in sessions.windows(2) {
        let (a, b) = (key_of(&pair[0]), key_of(&pair[1]));
        let (ta, tb) = (
            chrono::DateTime::parse_from_rfc3339(&a.0).unwrap(),
            chrono::DateTime::parse_from_rfc3339(&b.0).unwrap(),
        );
        assert!((ta, &a.1) > (tb, &b.1), "out of order: {a:?} then {b:?}");
    }
}

fn state_of<'a>(sources: &'a [Value], account: &str) -> &'a str {
    sources
        .iter()
        .find(|x| x["account"] == account)
        .and_then(|x| x["state"].as_str())
        .unwrap_or_else(|| panic!("no source {account} in {sources:?}"))
}

/// The accounts whose sessions a list shows (every demo account but those
/// whose vendor cannot list).
async fn listable(s: &Stack) -> HashSet<String> {
    let (_, page) = list(s, KEY, "limit=1").await;
    page["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["state"] == "ok")
        .map(|x| x["account"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn paging_1200_sessions_over_six_accounts_gives_each_once_in_order() {
    let s = demo_stack("").await;
    let created = create_many(&s, 200).await;
    assert_eq!(created.len(), 1200);
    let listable = listable(&s).await;
    assert!(listable.len() >= 5, "{listable:?}");
    let (all, sources) = page_all(&s, "", 7).await;
    assert_ordered(&all);
    let ids: Vec<&str> = all.iter().map(|x| x["id"].as_str().unwrap()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "a session came twice");
    for (account, id) in &created {
        if listable.contains(account) {
            assert!(unique.contains(id.as_str()), "{id} never came");
        }
    }
    assert_eq!(state_of(&sources, "zenskar:checkouts"), "unsupported");
}

#[tokio::test]
async fn sessions_created_while_paging_never_repeat_or_hide_an_older_one() {
    let s = demo_stack("").await;
    create_many(&s, 30).await;
    let (before, _) = page_all(&s, "", 100).await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("limit=7&cursor={c}"),
            None => "limit=7".to_owned(),
        };
        let (status, page) = list(&s, KEY, &q).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(page["data"].as_array().unwrap().iter().cloned());
        // New sessions on every account between pages.
        create_many(&s, 1).await;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_ordered(&seen);
    let seen_ids: Vec<&Value> = seen.iter().map(|x| &x["id"]).collect();
    let before_ids: Vec<&Value> = before.iter().map(|x| &x["id"]).collect();
    assert_eq!(
        seen_ids, before_ids,
        "exactly the sessions there when paging began"
    );
}

#[tokio::test]
async fn filters_give_the_same_sessions_whoever_applies_them() {
    let s = demo_stack("").await;
    let created = create_many(&s, 12).await;
    // Move some along: complete a third of them at the vendor.
    for tour in tours() {
        let account = format!("{}:{}", tour.provider, tour.account);
        for (_, id) in created.iter().filter(|(a, _)| *a == account).take(4) {
            move_on(&s, &tour, id).await;
        }
    }
    let (everything, _) = page_all(&s, "", 100).await;
    let middle = &everything[everything.len() / 2]["created_at"];
    let customer = everything
        .iter()
        .find_map(|x| x["customer"]["id"].as_str())
        .expect("a session with a customer id")
        .to_owned();
    for (query, keep) in [
        (
            "status=complete".to_owned(),
            Box::new(|x: &Value| x["status"] == "complete") as Box<dyn Fn(&Value) -> bool>,
        ),
        (
            "status=open,processing".to_owned(),
            Box::new(|x: &Value| x["status"] == "open" || x["status"] == "processing"),
        ),
        (
            format!("customer={customer}"),
            Box::new({
                let c = customer.clone();
                move |x: &Value| {
                    x["customer"]["id"] == c.as_str() || x["customer"]["external_id"] == c.as_str()
                }
            }),
        ),
        (
            format!(
                "created_lt={}",
                middle.as_str().unwrap().replace('+', "%2B")
            ),
            Box::new({
                let m = chrono::DateTime::parse_from_rfc3339(middle.as_str().unwrap()).unwrap();
                move |x: &Value| {
                    chrono::DateTime::parse_from_rfc3339(x["created_at"].as_str().unwrap()).unwrap()
                        < m
                }
            }),
        ),
    ] {
        let (filtered, _) = page_all(&s, &query, 9).await;
        let expected: Vec<&Value> = everything
            .iter()
            .filter(|x| keep(x))
            .map(|x| &x["id"])
            .collect();
        let got: Vec<&Value> = filtered.iter().map(|x| &x["id"]).collect();
        // Frontier lists per organization: with `customer` it is asked for
        // that one only, which the unfiltered list also covers.
        assert_eq!(got, expected, "{query}");
        assert!(
            !got.is_empty(),
            "{query} matched nothing: the test proves nothing"
        );
    }
}

#[tokio::test]
async fn a_source_failing_mid_paging_is_reported_then_resumed() {
    let s = demo_stack("[resilience]\nmax_retries = 0\n").await;
    create_many(&s, 20).await;
    let (everything, _) = page_all(&s, "", 100).await;
    let (first, page1) = {
        let (status, page) = list(&s, KEY, "limit=7").await;
        assert_eq!(status, 200);
        (page["data"].as_array().unwrap().clone(), page)
    };
    // Flowglad fails its next list call.
    s.fault(json!({"vendor": "flowglad", "op": "list", "times": 1, "fault": {"status": 500}}))
        .await;
    let cursor = page1["next_cursor"].as_str().unwrap();
    let (status, page2) = list(&s, KEY, &format!("limit=7&cursor={cursor}")).await;
    assert_eq!(status, 200, "one sick vendor is no 5xx: {page2}");
    let sources = page2["sources"].as_array().unwrap();
    assert_eq!(state_of(sources, "flowglad:default"), "failed");
    let failed = sources
        .iter()
        .find(|x| x["account"] == "flowglad:default")
        .unwrap();
    assert_eq!(failed["error"]["code"], "provider_error");
    assert!(page2["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["provider"] != "flowglad"));
    assert_eq!(page2["has_more"], true);
    let mut seen = first;
    seen.extend(page2["data"].as_array().unwrap().iter().cloned());
    let mut cursor = page2["next_cursor"].as_str().map(str::to_owned);
    while let Some(c) = cursor {
        let (status, page) = list(&s, KEY, &format!("limit=7&cursor={c}")).await;
        assert_eq!(status, 200);
        assert_eq!(
            state_of(page["sources"].as_array().unwrap(), "flowglad:default"),
            "ok"
        );
        seen.extend(page["data"].as_array().unwrap().iter().cloned());
        cursor = page["next_cursor"].as_str().map(str::to_owned);
    }
    // Nothing lost, nothing twice: Flowglad's sessions come later than their
    // place, since its source was asked again from where it stood.
    let mut got: Vec<&str> = seen.iter().map(|x| x["id"].as_str().unwrap()).collect();
    let mut want: Vec<&str> = everything
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want);
}

#[tokio::test]
async fn cursors_that_were_altered_or_refiltered_are_refused() {
    let s = demo_stack("").await;
    create_many(&s, 3).await;
    let (_, page) = list(&s, KEY, "limit=2&status=open").await;
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    // Altered: one character of the payload.
    let mut altered = cursor.clone().into_bytes();
    altered[5] = if altered[5] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    for (query, why) in [
        (format!("limit=2&status=open&cursor={altered}"), "signature"),
        (
            format!("limit=2&status=complete&cursor={cursor}"),
            "other filters",
        ),
        (format!("limit=2&cursor={cursor}"), "other filters"),
        (
            format!("limit=2&status=open&accounts=meteroid:default&cursor={cursor}"),
            "other filters",
        ),
        (
            "limit=2&status=open&cursor=v1.e30.AAAA".to_owned(),
            "signature",
        ),
        (
            "limit=2&status=open&cursor=hello".to_owned(),
            "not a cursor",
        ),
    ] {
        let (status, body) = list(&s, KEY, &query).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(code(&body), "invalid_cursor");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(why),
            "{body}"
        );
    }
    // The untouched cursor still works, with another page size too.
    let (status, _) = list(&s, KEY, &format!("limit=5&status=open&cursor={cursor}")).await;
    assert_eq!(status, 200);
}

/// A key sees only its own accounts in a list: by default, and when it
/// names another (404, as for a read); a cursor does not widen that.
#[tokio::test]
async fn a_list_shows_only_the_keys_accounts() {
    const NARROW: &str = "narrow-client-key-00000000000000001";
    let s = demo_stack(&format!(
        "[clients.narrow]\nkey = \"{NARROW}\"\naccounts = [\"meteroid:default\"]\nscopes = [\"sessions:read\"]\n"
    ))
    .await;
    create_many(&s, 3).await;
    let (status, page) = list(&s, NARROW, "limit=100").await;
    assert_eq!(status, 200, "{page}");
    let sources = page["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 1, "{sources:?}");
    assert_eq!(sources[0]["account"], "meteroid:default");
    assert!(page["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["provider"] == "meteroid" && x["account"] == "default"));
    let (status, body) = list(&s, NARROW, "accounts=meteroid:default,flowglad:default").await;
    assert_eq!((status, code(&body)), (404, "not_found"), "{body}");
    // The full key's cursor, used by the narrow key: its accounts differ,
    // so the cursor is refused rather than read.
    let (_, full) = list(&s, KEY, "limit=2").await;
    let cursor = full["next_cursor"].as_str().unwrap();
    let (status, body) = list(&s, NARROW, &format!("limit=2&cursor={cursor}")).await;
    assert_eq!((status, code(&body)), (400, "invalid_cursor"), "{body}");
}

#[tokio::test]
async fn bad_queries_name_the_parameter_and_accounts_are_checked() {
    let s = demo_stack("").await;
    for (query, status, field) in [
        ("limit=0", 400, "limit"),
        ("limit=101", 400, "limit"),
        ("status=done", 400, "status"),
        ("created_gte=monday", 400, "created_gte"),
        ("accounts=meteroid", 400, "accounts"),
        ("sort=asc", 400, "sort"),
        ("accounts=meteroid:nope", 404, "meteroid:nope"),
    ] {
        let (got, body) = list(&s, KEY, query).await;
        assert_eq!(got, status, "{query}: {body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(field),
            "{body}"
        );
    }
    // No key, or a key without read scope.
    let r = s
        .http
        .get(format!("{}/v1/checkout-sessions", s.gateway))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

/// The create cached each session as open; the vendor then moves it on.
/// A list refreshes the cache where the vendor lists whole sessions (the
/// next read is a hit showing the new status), and drops a contradicted
/// copy where it lists fewer fields (the next read asks the vendor).
#[tokio::test]
async fn a_list_refreshes_the_cache() {
    let s = demo_stack("").await;
    let created = create_many(&s, 1).await;
    let (_, _, providers) = {
        let r = s
            .http
            .get(format!("{}/v1/providers", s.gateway))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap();
        json_of(r).await
    };
    let listable = listable(&s).await;
    let mut checked = (0, 0);
    for tour in tours() {
        let account = format!("{}:{}", tour.provider, tour.account);
        if !listable.contains(&account) {
            continue;
        }
        let (_, id) = created.iter().find(|(a, _)| *a == account).unwrap();
        move_on(&s, &tour, id).await;
        let (_, page) = list(&s, KEY, &format!("accounts={account}&limit=100")).await;
        let listed = page["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == id.as_str())
            .unwrap_or_else(|| panic!("{id} not listed: {page}"))
            .clone();
        assert_ne!(listed["status"], "open", "{account}: the control moved it");
        let complete_items = providers["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["provider"] == tour.provider)
            .and_then(|p| p["capabilities"]["list"]["items_complete"].as_bool())
            .unwrap();
        let r = s
            .http
            .get(format!("{}/v1/checkout-sessions/{id}", s.gateway))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap();
        let cache = r.headers()["x-cache"].to_str().unwrap().to_owned();
        let (_, _, read) = json_of(r).await;
        assert_eq!(read["status"], listed["status"], "{account}");
        if complete_items {
            assert_eq!(
                cache, "hit",
                "{account}: the list refreshed the cached copy"
            );
            assert_eq!(
                read, listed,
                "{account}: the cached copy is the listed session"
            );
            checked.0 += 1;
        } else {
            assert_eq!(
                cache, "miss",
                "{account}: the contradicted copy was dropped"
            );
            checked.1 += 1;
        }
    }
    assert!(
        checked.0 > 0 && checked.1 > 0,
        "both kinds seen: {checked:?}"
    );
}

/// Frontier lists per organization: the account's `orgs` when the list
/// names no `customer`; without either its source is unsupported, saying
/// what to configure.
#[tokio::test]
async fn frontier_lists_the_configured_orgs_or_the_customer() {
    let s = demo_stack("").await;
    create_many(&s, 2).await;
    let (_, page) = list(&s, KEY, "accounts=frontier:default&limit=50").await;
    let sources = page["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 1, "{sources:?}");
    assert_eq!(sources[0]["state"], "ok");
    let org = sources[0]["customer"]
        .as_str()
        .expect("the configured org")
        .to_owned();
    let listed = page["data"].as_array().unwrap().len();
    assert!(listed >= 2, "{page}");

    let demo =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/demo.toml")).unwrap();
    assert!(
        demo.contains("orgs = "),
        "the demo config names Frontier's orgs"
    );
    let without: String = demo
        .lines()
        .filter(|l| !l.starts_with("orgs = "))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("http://127.0.0.1:9100", "{sandbox}");
    let s = start_with(&without).await;
    create_many(&s, 2).await;
    let (status, page) = list(
        &s,
        KEY,
        "accounts=frontier:default,meteroid:default&limit=50",
    )
    .await;
    assert_eq!(status, 200, "one unsupported source is no error: {page}");
    let sources = page["sources"].as_array().unwrap();
    assert_eq!(state_of(sources, "frontier:default"), "unsupported");
    let frontier = sources
        .iter()
        .find(|x| x["account"] == "frontier:default")
        .unwrap();
    let message = frontier["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("customer")
            && message.contains("providers.frontier.accounts.default.orgs"),
        "{message}"
    );
    assert!(page["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["provider"] == "meteroid"));
    // With `customer`, the org is asked directly.
    let (_, page) = list(
        &s,
        KEY,
        &format!("accounts=frontier:default&customer={org}&limit=50"),
    )
    .await;
    assert_eq!(
        state_of(page["sources"].as_array().unwrap(), "frontier:default"),
        "ok"
    );
    assert!(page["data"].as_array().unwrap().len() >= 2, "{page}");
}

#[tokio::test]
async fn cancel_answers_by_the_session_state() {
    let s = demo_stack("").await;
    let created = create_many(&s, 2).await;
    let (_, _, providers) = json_of(
        s.http
            .get(format!("{}/v1/providers", s.gateway))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let can_cancel = |provider: &str| {
        providers["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["provider"] == provider)
            .and_then(|p| p["capabilities"]["cancel"].as_bool())
            .unwrap()
    };
    let cancel = |id: String, key: &'static str| {
        let s = &s;
        async move {
            let r = s
                .http
                .post(format!("{}/v1/checkout-sessions/{id}/cancel", s.gateway))
                .bearer_auth(key)
                .send()
                .await
                .unwrap();
            let (status, _, body) = json_of(r).await;
            (status, body)
        }
    };
    let mut cancelled_some = false;
    for tour in tours() {
        let account = format!("{}:{}", tour.provider, tour.account);
        let ids: Vec<&String> = created
            .iter()
            .filter(|(a, _)| *a == account)
            .map(|(_, i)| i)
            .collect();
        let calls_before = s.calls(tour.provider, "cancel");
        let (status, body) = cancel(ids[0].clone(), KEY).await;
        if !can_cancel(tour.provider) || body["error"]["code"] == "unsupported_operation" {
            assert_eq!(status, 422, "{account}: {body}");
            assert_eq!(code(&body), "unsupported_operation");
            assert!(body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(tour.provider));
            assert_eq!(
                s.calls(tour.provider, "cancel"),
                calls_before,
                "no vendor call"
            );
            continue;
        }
        cancelled_some = true;
        assert_eq!(status, 200, "{account}: {body}");
        assert_eq!(body["status"], "canceled");
        // Again: still 200, the session as it stands.
        let (status, body) = cancel(ids[0].clone(), KEY).await;
        assert_eq!(
            (status, &body["status"]),
            (200, &json!("canceled")),
            "{body}"
        );
        // The cache holds the canceled session.
        let r = s
            .http
            .get(format!("{}/v1/checkout-sessions/{}", s.gateway, ids[0]))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap();
        let (_, _, read) = json_of(r).await;
        assert_eq!(read["status"], "canceled");
        // A complete session: 409 invalid_state.
        move_on(&s, &tour, ids[1]).await;
        let (status, body) = cancel(ids[1].clone(), KEY).await;
        assert_eq!(status, 409, "{account}: {body}");
        assert_eq!(code(&body), "invalid_state");
        // No such session: 404.
        let missing = ids[0].replace(&ids[0][ids[0].len() - 4..], "0000");
        let (status, body) = cancel(missing, KEY).await;
        assert_eq!(status, 404, "{account}: {body}");
        // The read-only key may not cancel.
        let (status, body) = cancel(ids[0].clone(), READER).await;
        assert_eq!(status, 403, "{body}");
    }
    assert!(
        cancelled_some,
        "no demo account could cancel: the test proves nothing"
    );
}

/// The sandbox's fill (1,000 per vendor, over 30 days) seen through the
/// gateway: each listed session once, in order, from every listable
/// account, with filled sessions of several statuses.
#[tokio::test]
async fn paging_filled_vendors_gives_each_session_once_in_order() {
    let s = demo_stack("").await;
    for vendor in ["meteroid", "flowglad", "frontier", "zenskar"] {
        let r = s
            .http
            .post(format!("{}/_sandbox/{vendor}/fill", s.sandbox))
            .json(&json!({"count": 1000}))
            .send()
            .await
            .expect("fill");
        let (status, _, body) = json_of(r).await;
        assert_eq!((status, body), (201, json!({"created": 1000})), "{vendor}");
    }
    let (all, sources) = page_all(&s, "", 100).await;
    assert_ordered(&all);
    let unique: HashSet<&str> = all.iter().map(|x| x["id"].as_str().unwrap()).collect();
    assert_eq!(unique.len(), all.len(), "a session came twice");
    // Meteroid and Flowglad 1,000 each; both Frontier accounts list Acme's
    // 1,000; Zenskar /checkout the 900 not put in /checkouts.
    assert_eq!(all.len(), 1000 + 1000 + 2 * 1000 + 900);
    assert_eq!(state_of(&sources, "zenskar:checkouts"), "unsupported");
    let statuses: HashSet<&str> = all.iter().filter_map(|x| x["status"].as_str()).collect();
    assert!(statuses.len() >= 3, "{statuses:?}");
}

/// An unpaginated vendor's whole answer is kept for the next pages: paging
/// through it asks the vendor once.
#[tokio::test]
async fn a_whole_list_is_fetched_once_for_all_its_pages() {
    let s = demo_stack("").await;
    create_many(&s, 10).await;
    let before = s.calls("meteroid", "list");
    let (all, _) = page_all(&s, "accounts=meteroid:default", 3).await;
    assert!(all.len() >= 10, "{} sessions", all.len());
    assert_eq!(
        s.calls("meteroid", "list") - before,
        1,
        "one vendor call for {} pages",
        all.len().div_ceil(3)
    );
}
