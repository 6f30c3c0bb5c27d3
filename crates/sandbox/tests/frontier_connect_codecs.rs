//! Frontier's Connect API over a real socket with every codec and
//! compression connect-go serves: binary protobuf, both JSON codecs, gzip
//! request and response bodies, and the protocol's refusals.

#[path = "frontier_support.rs"]
mod support;

use std::io::{Read, Write};

use chrono::{DateTime, TimeDelta, Utc};
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use prost::Message;
use reqwest::header::HeaderMap;
use sandbox::frontier::proto;
use sandbox::frontier::seed;
use serde_json::{json, Value};
use support::{acme, authorize, start, Auth, Running, SERVICE};

const PROTO: &str = "application/proto";
const JSON: &str = "application/json";

/// A response read whole, as bytes.
struct Raw {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body, inflated when the server says it is gzip.
    fn message(&self) -> Vec<u8> {
        match self.header("content-encoding") {
            Some("gzip") => gunzip(&self.body),
            None => self.body.clone(),
            Some(other) => panic!("unexpected content-encoding {other}"),
        }
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.message()).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {} {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// A Connect error: JSON whatever the request's codec, never compressed.
    fn assert_connect_error(&self, status: u16, code: &str, message: &str) {
        let text = String::from_utf8_lossy(&self.body);
        assert_eq!(self.status, status, "{text}");
        assert_eq!(self.header("content-type"), Some(JSON), "{text}");
        assert_eq!(self.header("content-encoding"), None, "{text}");
        assert_eq!(self.header("accept-encoding"), Some("gzip"), "{text}");
        let body: Value = serde_json::from_slice(&self.body).expect("error JSON");
        assert_eq!(body["code"], code, "{text}");
        assert_eq!(body["message"], message, "{text}");
    }

    fn proto<M: Message + Default>(&self) -> M {
        assert_eq!(self.status, 200, "{}", String::from_utf8_lossy(&self.body));
        assert_eq!(self.header("content-type"), Some(PROTO));
        M::decode(self.message().as_slice()).expect("a protobuf answer")
    }
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(body).expect("gzip");
    encoder.finish().expect("gzip")
}

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    MultiGzDecoder::new(body)
        .read_to_end(&mut out)
        .expect("gzip body");
    out
}

/// A unary call: `headers` beside Content-Type and authentication.
async fn call(
    sb: &Running,
    rpc: &str,
    content_type: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Raw {
    let mut request = sb
        .client
        .post(format!("{}{SERVICE}/{rpc}", sb.base))
        .header("content-type", content_type)
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = authorize(request, Auth::Basic).send().await.expect("send");
    Raw {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.bytes().await.expect("body").to_vec(),
    }
}

fn time(t: Option<prost_types::Timestamp>) -> DateTime<Utc> {
    let t = t.expect("timestamps are always set");
    let nanos = u32::try_from(t.nanos).expect("nanos");
    DateTime::from_timestamp(t.seconds, nanos).expect("in range")
}

fn subscribe() -> proto::CreateCheckoutRequest {
    proto::CreateCheckoutRequest {
        org_id: acme(),
        success_url: "https://app.example/ok?checkout={{.CheckoutID}}".into(),
        cancel_url: "https://app.example/billing".into(),
        subscription_body: Some(proto::CheckoutSubscriptionBody {
            plan: seed::PLAN_STARTER_NAME.into(),
            skip_trial: true,
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[tokio::test]
async fn binary_protobuf_create_get_and_list() {
    let sb = start().await;
    let created = call(
        &sb,
        "CreateCheckout",
        PROTO,
        &[("connect-protocol-version", "1")],
        subscribe().encode_to_vec(),
    )
    .await;
    assert_eq!(created.header("accept-encoding"), Some("gzip"));
    assert_eq!(created.header("content-encoding"), None, "none asked for");
    let session = created
        .proto::<proto::CreateCheckoutResponse>()
        .checkout_session
        .expect("a session");
    let id = session.id.clone();
    assert!(uuid::Uuid::parse_str(&id).is_ok_and(|u| u.get_version_num() == 4));
    assert_eq!(session.plan, seed::PLAN_STARTER_ID.to_string());
    assert_eq!(session.product, "");
    assert_eq!(session.state, "open");
    assert_eq!(
        session.success_url,
        format!("https://app.example/ok?checkout={id}")
    );
    assert!(session
        .checkout_url
        .starts_with("https://checkout.stripe.com/c/pay/cs_test_a1"));
    assert_eq!(session.metadata, None);
    let created_at = time(session.created_at);
    let short = created_at + TimeDelta::hours(24) - time(session.expire_at);
    assert!(short >= TimeDelta::zero() && short < TimeDelta::seconds(2));
    assert_eq!(sb.inspect(&id).await["skip_trial"], true);

    // proton's GetCheckoutRequest still sends org_id (1) and billing_id (2).
    let mut get = vec![0x0a, 3, b'o', b'r', b'g', 0x12, 1, b'b'];
    get.extend(proto::GetCheckoutRequest { id: id.clone() }.encode_to_vec());
    let got = call(&sb, "GetCheckout", PROTO, &[], get).await;
    let got = got.proto::<proto::GetCheckoutResponse>().checkout_session;
    assert_eq!(got.as_ref(), Some(&session));

    let list = proto::ListCheckoutsRequest { org_id: acme() }.encode_to_vec();
    let listed = call(&sb, "ListCheckouts", PROTO, &[], list).await;
    let listed = listed.proto::<proto::ListCheckoutsResponse>();
    assert_eq!(listed.checkout_sessions, [session]);

    // The JSON codec reads the same store and writes the same values.
    let json = call(
        &sb,
        "GetCheckout",
        JSON,
        &[],
        json!({"id": id}).to_string().into(),
    )
    .await;
    let s = json.json()["checkout_session"].clone();
    assert_eq!(s["id"], id.as_str());
    let json_created = s["created_at"].as_str().expect("created_at");
    assert_eq!(
        DateTime::parse_from_rfc3339(json_created).map(|t| t.to_utc()),
        Ok(created_at)
    );
    assert_eq!(sb.sandbox.calls("frontier", "get"), 2);
}

#[tokio::test]
async fn gzip_request_bodies_are_read_and_answered_in_gzip() {
    let sb = start().await;
    let body = json!({"org_id": acme(), "product_body": {"product": seed::PRODUCT_CREDITS_NAME, "quantity": "2"}});
    let reply = call(
        &sb,
        "CreateCheckout",
        JSON,
        &[("content-encoding", "gzip")],
        gzip(body.to_string().as_bytes()),
    )
    .await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.message())
    );
    // The answer is compressed like the request, asked or not.
    assert_eq!(reply.header("content-encoding"), Some("gzip"));
    assert_eq!(reply.header("content-type"), Some(JSON));
    assert_eq!(
        reply.json()["checkout_session"]["product"],
        seed::PRODUCT_CREDITS_ID.to_string()
    );

    let reply = call(
        &sb,
        "CreateCheckout",
        PROTO,
        &[("content-encoding", "gzip")],
        gzip(&subscribe().encode_to_vec()),
    )
    .await;
    assert_eq!(reply.header("content-encoding"), Some("gzip"));
    let session = reply
        .proto::<proto::CreateCheckoutResponse>()
        .checkout_session;
    assert_eq!(
        session.map(|s| s.plan),
        Some(seed::PLAN_STARTER_ID.to_string())
    );

    // `identity` is no compression at all.
    let list = json!({"org_id": acme()}).to_string().into_bytes();
    let reply = call(
        &sb,
        "ListCheckouts",
        JSON,
        &[("content-encoding", "identity")],
        list,
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-encoding"), None);
    assert_eq!(
        reply.json()["checkout_sessions"].as_array().map(Vec::len),
        Some(2)
    );
}

#[tokio::test]
async fn answers_are_gzip_when_the_client_accepts_it() {
    let sb = start().await;
    let list = json!({"org_id": acme()}).to_string().into_bytes();
    let plain = call(&sb, "ListCheckouts", JSON, &[], list.clone()).await;
    assert_eq!(
        (plain.status, plain.body.as_slice()),
        (200, b"{}".as_slice())
    );
    // Any size, even an empty message: Frontier's CompressMinBytes is 0.
    let packed = call(
        &sb,
        "ListCheckouts",
        JSON,
        &[("accept-encoding", "br, gzip")],
        list,
    )
    .await;
    assert_eq!(packed.header("content-encoding"), Some("gzip"));
    assert_eq!(packed.body[..2], [0x1f, 0x8b]);
    assert_eq!(packed.message(), b"{}");

    let empty = proto::ListCheckoutsRequest {
        org_id: seed::ORG_GLOBEX_ID.to_string(),
    };
    let packed = call(
        &sb,
        "ListCheckouts",
        PROTO,
        &[("accept-encoding", "gzip")],
        empty.encode_to_vec(),
    )
    .await;
    assert_eq!(packed.header("content-encoding"), Some("gzip"));
    assert!(!packed.body.is_empty());
    assert!(packed.message().is_empty(), "an empty message, gzipped");
    assert_eq!(
        packed.proto::<proto::ListCheckoutsResponse>(),
        proto::ListCheckoutsResponse::default()
    );

    // No q-values in connect-go's reading: `gzip;q=1` is not `gzip`.
    let one = json!({"org_id": acme()}).to_string().into_bytes();
    let unweighted = call(
        &sb,
        "ListCheckouts",
        JSON,
        &[("accept-encoding", "gzip;q=1")],
        one,
    )
    .await;
    assert_eq!(unweighted.header("content-encoding"), None);
}

#[tokio::test]
async fn stock_json_codec_writes_camel_case_names() {
    let sb = start().await;
    let body = json!({"orgId": acme(), "subscriptionBody": {"plan": seed::PLAN_PRO_NAME}});
    let reply = call(
        &sb,
        "CreateCheckout",
        "application/json;charset=UTF-8",
        &[],
        body.to_string().into(),
    )
    .await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(
        reply.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    let s = reply.json()["checkoutSession"].clone();
    assert_eq!(s["plan"], seed::PLAN_PRO_ID.to_string());
    for key in ["checkoutUrl", "createdAt", "updatedAt", "expireAt"] {
        assert!(s.get(key).is_some(), "{key} in {s}");
    }
    assert!(s.get("checkout_url").is_none());
}

#[tokio::test]
async fn unsupported_media_types_are_415_with_accept_post() {
    let sb = start().await;
    for content_type in [
        "text/plain",
        "application/x-protobuf",
        "application/grpc",
        "application/json; charset=latin1",
    ] {
        let r = call(&sb, "GetCheckout", content_type, &[], b"{}".to_vec()).await;
        assert_eq!(r.status, 415, "{content_type}");
        assert_eq!(
            r.header("accept-post"),
            Some("application/json, application/json; charset=utf-8, application/proto")
        );
        // connect-go writes the status and headers only.
        assert!(r.body.is_empty(), "{content_type}");
        assert_eq!(r.header("accept-encoding"), None);
    }
}

#[tokio::test]
async fn unknown_compression_is_unimplemented() {
    let sb = start().await;
    let get = proto::GetCheckoutRequest { id: "x".into() }.encode_to_vec();
    let r = call(
        &sb,
        "GetCheckout",
        PROTO,
        &[("content-encoding", "br")],
        get,
    )
    .await;
    r.assert_connect_error(
        501,
        "unimplemented",
        r#"unknown compression "br": supported encodings are gzip"#,
    );
    let r = call(
        &sb,
        "GetCheckout",
        JSON,
        &[("content-encoding", "deflate")],
        b"{}".to_vec(),
    )
    .await;
    r.assert_connect_error(
        501,
        "unimplemented",
        r#"unknown compression "deflate": supported encodings are gzip"#,
    );
}

#[tokio::test]
async fn malformed_bodies_are_invalid_arguments() {
    let sb = start().await;
    // A length-delimited field 3 claiming 9 bytes and carrying one.
    let r = call(&sb, "GetCheckout", PROTO, &[], vec![0x1a, 9, b'c']).await;
    r.assert_connect_error(
        400,
        "invalid_argument",
        "unmarshal message: unmarshal into *frontierv1beta1.GetCheckoutRequest: proto: cannot parse invalid wire-format data",
    );
    let r = call(&sb, "CreateCheckout", PROTO, &[], vec![0xff]).await;
    r.assert_connect_error(
        400,
        "invalid_argument",
        "unmarshal message: unmarshal into *frontierv1beta1.CreateCheckoutRequest: proto: cannot parse invalid wire-format data",
    );
    // A plain body declared gzip: the gzip header is checked first.
    let r = call(
        &sb,
        "GetCheckout",
        JSON,
        &[("content-encoding", "gzip")],
        br#"{"id": "0c2b5f3e"}"#.to_vec(),
    )
    .await;
    r.assert_connect_error(
        400,
        "invalid_argument",
        "get decompressor: gzip: invalid header",
    );
    let mut cut = gzip(br#"{"id": "0c2b5f3e"}"#);
    cut.truncate(cut.len() - 6);
    let r = call(
        &sb,
        "GetCheckout",
        PROTO,
        &[("content-encoding", "gzip")],
        cut,
    )
    .await;
    r.assert_connect_error(400, "invalid_argument", "decompress: unexpected EOF");
    let r = call(
        &sb,
        "GetCheckout",
        PROTO,
        &[("connect-protocol-version", "2")],
        Vec::new(),
    )
    .await;
    r.assert_connect_error(
        400,
        "invalid_argument",
        r#"Connect-Protocol-Version must be "1": got "2""#,
    );
    assert_eq!(sb.sandbox.calls("frontier", "get"), 4);
}

#[tokio::test]
async fn proto_requests_get_the_same_checks_and_json_errors() {
    let sb = start().await;
    // An empty protobuf body is a valid, empty message.
    let r = call(&sb, "GetCheckout", PROTO, &[], Vec::new()).await;
    r.assert_connect_error(400, "invalid_argument", "invalid checkout id");
    let short = proto::CreateCheckoutRequest {
        org_id: "ab".into(),
        ..subscribe()
    };
    let r = call(&sb, "CreateCheckout", PROTO, &[], short.encode_to_vec()).await;
    r.assert_connect_error(
        400,
        "invalid_argument",
        "validation error:\n - org_id: value length must be at least 3 characters [string.min_len]",
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&r.body).expect("JSON")["details"][0]["type"],
        "buf.validate.Violations"
    );
    let retired = proto::CreateCheckoutRequest {
        subscription_body: Some(proto::CheckoutSubscriptionBody {
            plan: seed::PLAN_RETIRED_NAME.into(),
            ..Default::default()
        }),
        ..subscribe()
    };
    let r = call(
        &sb,
        "CreateCheckout",
        PROTO,
        &[("accept-encoding", "gzip")],
        retired.encode_to_vec(),
    )
    .await;
    r.assert_connect_error(
        400,
        "failed_precondition",
        "plan is inactive and cannot be subscribed to",
    );
    let no_auth = sb
        .client
        .post(format!("{}{SERVICE}/ListCheckouts", sb.base))
        .header("content-type", PROTO)
        .body(proto::ListCheckoutsRequest { org_id: acme() }.encode_to_vec())
        .send()
        .await
        .expect("send");
    assert_eq!(no_auth.status(), 401);
    assert_eq!(
        no_auth
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some(JSON)
    );
}
