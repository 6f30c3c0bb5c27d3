//! `POST /_sandbox/<vendor>/fill`: thousands of sessions that each vendor's
//! own list pages through exactly once, in its order, with its status mix,
//! and whose list and get bodies still match the vendor's spec.

mod support;

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sandbox::{flowglad, frontier, zenskar};
use serde_json::{json, Value};
use spec_check::Spec;
use support::{start, Running, SESSIONS};

const COUNT: usize = 2_500;

impl Running {
    async fn fill(&self, vendor: &str, body: Value) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}/_sandbox/{vendor}/fill", self.base))
            .json(&body)
            .send()
            .await
            .expect("fill");
        (
            response.status().as_u16(),
            response.json().await.expect("JSON"),
        )
    }

    async fn filled(&self, vendor: &str, count: usize) {
        let (status, body) = self.fill(vendor, json!({ "count": count })).await;
        assert_eq!((status, body), (201, json!({ "created": count })));
    }

    async fn vendor_get(&self, url: String, headers: &[(&str, &str)]) -> Value {
        let mut request = self.client.get(url);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = request.send().await.expect("send");
        assert_eq!(response.status().as_u16(), 200);
        response.json().await.expect("JSON")
    }
}

fn time(v: &Value) -> DateTime<Utc> {
    let text = v.as_str().expect("a timestamp");
    // Zenskar writes naive UTC times.
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_rfc3339(&format!("{text}Z")))
        .expect("RFC 3339")
        .to_utc()
}

/// Each id once, `key` strictly monotonic the given way; the statuses seen.
fn check_order(items: &[Value], key: impl Fn(&Value) -> i64, newest_first: bool) {
    let mut seen = HashSet::new();
    for item in items {
        let id = item["id"].as_str().expect("id");
        assert!(seen.insert(id.to_owned()), "{id} listed twice");
    }
    for pair in items.windows(2) {
        let (a, b) = (key(&pair[0]), key(&pair[1]));
        assert!(if newest_first { a > b } else { a < b }, "{a} then {b}");
    }
}

fn statuses(items: &[Value], field: &str) -> HashSet<String> {
    items
        .iter()
        .map(|s| s[field].as_str().expect("status").to_owned())
        .collect()
}

fn set(names: &[&str]) -> HashSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn meteroid_lists_every_filled_session_newest_first() {
    let sb = start().await;
    sb.filled("meteroid", COUNT).await;
    let list = sb.list("").await;
    let spec = Spec::load("meteroid/openapi.json");
    spec.validate_response(SESSIONS, "get", 200, &list.json())
        .expect("list body");
    let sessions = list.json()["sessions"]
        .as_array()
        .expect("sessions")
        .clone();
    assert_eq!(sessions.len(), COUNT);
    check_order(
        &sessions,
        |s| time(&s["created_at"]).timestamp_micros(),
        true,
    );
    let all = [
        "CREATED",
        "AWAITING_PAYMENT",
        "COMPLETED",
        "EXPIRED",
        "CANCELLED",
    ];
    assert_eq!(statuses(&sessions, "status"), set(&all));
    let now = Utc::now();
    for s in &sessions {
        let created = time(&s["created_at"]);
        assert!(created < now);
        if let Some(expires) = s["expires_at"].as_str() {
            assert!(time(&json!(expires)) > created);
        }
        let open = matches!(s["status"].as_str(), Some("CREATED" | "AWAITING_PAYMENT"));
        // An open session is still payable: it has its URL, and no overdue expiry.
        assert_eq!(open, s["checkout_url"].is_string(), "{s}");
        if open {
            assert!(s["expires_at"]
                .as_str()
                .is_none_or(|e| time(&json!(e)) > now));
        }
        if s["status"] == "COMPLETED" {
            assert!(time(&s["completed_at"]) > created && s["subscription_id"].is_string());
        }
    }
    // A get answers each the same way (one of every status).
    for status in all {
        let s = sessions
            .iter()
            .find(|s| s["status"] == status)
            .expect(status);
        let got = sb.get(s["id"].as_str().expect("id")).await;
        spec.validate_response("/api/v1/checkout-sessions/{id}", "get", 200, &got.json())
            .expect("get body");
        assert_eq!(got.session()["created_at"], s["created_at"]);
    }
}

#[tokio::test]
async fn flowglad_pages_of_100_give_every_session_oldest_first() {
    let sb = start().await;
    sb.filled("flowglad", COUNT).await;
    let spec = Spec::load("flowglad/openapi.json");
    let auth = format!("Bearer {}", flowglad::seed::API_KEY);
    let mut records = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{}/flowglad/api/v1/checkout-sessions?limit=100", sb.base);
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={}", urlencode(c)));
        }
        let page = sb.vendor_get(url, &[("authorization", &auth)]).await;
        spec.validate_response(SESSIONS, "get", 200, &page)
            .expect("page body");
        assert_eq!(page["total"], COUNT);
        records.extend(page["data"].as_array().expect("data").iter().cloned());
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(records.len(), COUNT);
    check_order(&records, |r| r["createdAt"].as_i64().expect("ms"), false);
    let all = ["open", "pending", "succeeded", "failed", "expired"];
    assert_eq!(statuses(&records, "status"), set(&all));
    let now = Utc::now().timestamp_millis();
    for r in &records {
        let created = r["createdAt"].as_i64().expect("ms");
        assert_eq!(r["expires"].as_i64(), Some(created + 24 * 3600 * 1000));
        assert!(r["updatedAt"].as_i64().expect("ms") >= created && created < now);
        if r["status"] == "expired" {
            assert!(r["expires"].as_i64().expect("ms") < now);
        }
    }
    for status in all {
        let r = records
            .iter()
            .find(|r| r["status"] == status)
            .expect(status);
        let url = format!(
            "{}/flowglad/api/v1/checkout-sessions/{}",
            sb.base,
            r["id"].as_str().expect("id")
        );
        let got = sb.vendor_get(url, &[("authorization", &auth)]).await;
        spec.validate_response("/api/v1/checkout-sessions/{id}", "get", 200, &got)
            .expect("get body");
        assert_eq!(&got["checkoutSession"], r);
    }
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

#[tokio::test]
async fn frontier_lists_the_demo_org_whole_newest_first() {
    let sb = start().await;
    sb.filled("frontier", COUNT).await;
    let spec = Spec::load("frontier/legacy-rest.swagger.yaml");
    let org = frontier::seed::ORG_ACME_ID.to_string();
    let list = connect(&sb, "ListCheckouts", json!({ "org_id": org })).await;
    spec.validate_schema("v1beta1ListCheckoutsResponse", &list)
        .expect("list body");
    let checkouts = list["checkout_sessions"].as_array().expect("list").clone();
    assert_eq!(checkouts.len(), COUNT);
    check_order(
        &checkouts,
        |c| time(&c["created_at"]).timestamp_micros(),
        true,
    );
    assert_eq!(
        statuses(&checkouts, "state"),
        set(&["open", "complete", "expired"])
    );
    let now = Utc::now();
    for c in &checkouts {
        let expire_at = time(&c["expire_at"]);
        assert!(expire_at > time(&c["created_at"]));
        // The sync would have expired an open one past its 24 h.
        if c["state"] == "open" {
            assert!(expire_at > now, "{c}");
        }
    }
    let got = connect(&sb, "GetCheckout", json!({ "id": checkouts[0]["id"] })).await;
    spec.validate_schema("v1beta1GetCheckoutResponse", &got)
        .expect("get body");
    assert_eq!(got["checkout_session"], checkouts[0]);
}

/// A Connect unary call as the seeded service user.
async fn connect(sb: &Running, rpc: &str, body: Value) -> Value {
    let response = sb
        .client
        .post(format!("{}/frontier/{}/{rpc}", sb.base, frontier::SERVICE))
        .basic_auth(
            frontier::seed::CLIENT_ID,
            Some(frontier::seed::CLIENT_SECRET),
        )
        .header("connect-protocol-version", "1")
        .json(&body)
        .send()
        .await
        .expect("connect");
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.expect("JSON")
}

#[tokio::test]
async fn zenskar_pages_family_a_newest_first_and_keeps_a_tenth_in_family_b() {
    let sb = start().await;
    sb.filled("zenskar", COUNT).await;
    let spec = Spec::load("zenskar/openapi.json");
    let headers = [
        ("organisation", zenskar::seed::ORGANISATION_ID),
        ("x-api-key", zenskar::seed::API_KEY),
    ];
    // Every tenth filled session is a family B checkout, which has no list.
    let expected = COUNT - COUNT / 10;
    let mut sessions = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{}/zenskar/checkout?limit=100", sb.base);
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={}", urlencode(c)));
        }
        let page = sb.vendor_get(url, &headers).await;
        spec.validate_schema("CheckoutSessionListResponse", &page)
            .expect("page body");
        assert_eq!(page["total"], expected);
        sessions.extend(page["data"].as_array().expect("data").iter().cloned());
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(sessions.len(), expected);
    check_order(
        &sessions,
        |s| time(&s["created_at"]).timestamp_micros(),
        true,
    );
    let all = ["open", "processing", "completed", "closed", "cancelled"];
    assert_eq!(statuses(&sessions, "checkout_session_status"), set(&all));
    let now = Utc::now();
    for status in all {
        let s = sessions
            .iter()
            .find(|s| s["checkout_session_status"] == status)
            .expect(status);
        let url = format!(
            "{}/zenskar/checkout/{}",
            sb.base,
            s["id"].as_str().expect("id")
        );
        let got = sb.vendor_get(url, &headers).await;
        spec.validate_schema("CheckoutSessionResponse", &got)
            .expect("get body");
        let expires = time(&got["expires_at"]);
        assert!(expires > time(&got["created_at"]));
        // Past its expiry a session is closed, never still open.
        assert_eq!(status == "closed", expires < now, "{got}");
    }
}

#[tokio::test]
async fn bad_fill_bodies_are_400s_naming_the_field() {
    let sb = start().await;
    let cases = [
        (json!({}), "count"),
        (json!({"count": 0}), "count"),
        (json!({"count": -3}), "count"),
        (json!({"count": 100_001}), "count"),
        (json!({"count": "ten"}), "count"),
        (json!({"count": 1.5}), "count"),
        (json!({"count": 5, "days": 0}), "days"),
        (json!({"count": 5, "days": 3651}), "days"),
        (json!({"count": 5, "days": "a week"}), "days"),
        (json!({"count": 5, "weeks": 2}), "weeks"),
    ];
    for vendor in ["meteroid", "flowglad", "frontier", "zenskar"] {
        for (body, field) in &cases {
            let (status, answer) = sb.fill(vendor, body.clone()).await;
            let message = answer["error"].as_str().unwrap_or_default();
            assert_eq!(status, 400, "{vendor} {body}: {answer}");
            assert!(message.contains(field), "{vendor} {body}: {message}");
        }
        let not_json = sb
            .client
            .post(format!("{}/_sandbox/{vendor}/fill", sb.base))
            .header("content-type", "application/json")
            .body("{")
            .send()
            .await
            .expect("send");
        assert_eq!(not_json.status().as_u16(), 400);
        // Nothing was stored by any of them.
        let (status, body) = sb.fill(vendor, json!({"count": 1, "days": 3650})).await;
        assert_eq!((status, body), (201, json!({"created": 1})));
    }
    assert_eq!(
        sb.list("").await.json()["sessions"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn the_library_fills_every_vendor_and_checks_bounds() {
    let sb = start().await;
    assert_eq!(sb.sandbox.fill(10, 1), Ok(40));
    assert!(sb.sandbox.fill(0, 1).is_err_and(|e| e.contains("count")));
    assert!(sb.sandbox.fill(1, 0).is_err_and(|e| e.contains("days")));
}
