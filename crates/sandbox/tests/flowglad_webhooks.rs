//! Flowglad's webhooks from the sandbox: a product checkout that succeeds
//! sends `purchase.completed` (the thin payload, signed the Svix way) to
//! the endpoint set with `POST /_sandbox/flowglad/webhooks`, and nothing
//! else does.

#[path = "flowglad_support.rs"]
mod support;

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sandbox::flowglad::seed;
use serde_json::{json, Value};
use sha2::Sha256;
use support::{id_of, start, Running};
use tokio::sync::mpsc;

const SECRET: &str = "whsec_c2FuZGJveC13ZWJob29rLXNlY3JldC0wMDAx";

/// A message as the endpoint got it.
struct Received {
    headers: HeaderMap,
    body: String,
}

/// An endpoint on loopback that answers 200 and hands over each message.
async fn endpoint() -> (String, mpsc::UnboundedReceiver<Received>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = Router::new()
        .route(
            "/hook",
            post(
                |State(tx): State<mpsc::UnboundedSender<Received>>,
                 headers: HeaderMap,
                 body: Bytes| async move {
                    let body = String::from_utf8_lossy(&body).into_owned();
                    let _ = tx.send(Received { headers, body });
                    "{\"ok\":true}"
                },
            ),
        )
        .with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rx)
}

async fn deliveries(sb: &Running) -> Vec<Value> {
    let body: Value = sb
        .client
        .get(format!("{}/_sandbox/flowglad/webhooks", sb.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["deliveries"].as_array().cloned().unwrap()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_succeeded_product_checkout_sends_a_signed_purchase_completed() {
    let sb = start().await;
    let (url, mut received) = endpoint().await;
    let bad = sb
        .control(
            "/webhooks",
            json!({"url": url, "secret": "not-a-svix-secret"}),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    let set = sb
        .control("/webhooks", json!({"url": url, "secret": SECRET}))
        .await;
    assert_eq!(set.status, 200, "{}", set.text);

    let id = id_of(&sb.create_ok(json!({})).await.session());
    sb.move_to(&id, json!({"status": "pending"})).await;
    assert!(deliveries(&sb).await.is_empty(), "pending sends nothing");
    let session = sb.move_to(&id, json!({"status": "succeeded"})).await;
    let purchase = session["purchaseId"]
        .as_str()
        .expect("a purchase")
        .to_owned();

    let message = tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("delivered in time")
        .expect("a message");
    let (msg_id, timestamp, signature) = (
        header(&message.headers, "svix-id"),
        header(&message.headers, "svix-timestamp"),
        header(&message.headers, "svix-signature"),
    );
    assert!(msg_id.starts_with("msg_"), "{msg_id}");
    let at: i64 = timestamp.parse().expect("unix seconds");
    assert!((chrono::Utc::now().timestamp() - at).abs() < 60);
    let key = STANDARD
        .decode(SECRET.trim_start_matches("whsec_"))
        .unwrap();
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
    mac.update(format!("{msg_id}.{timestamp}.{}", message.body).as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    assert_eq!(signature, expected);
    let body: Value = serde_json::from_str(&message.body).unwrap();
    assert_eq!(
        body,
        json!({
            "id": purchase, "object": "purchase",
            "customer": {"id": seed::CUSTOMER_ACME_ID, "externalId": seed::CUSTOMER_ACME_EXTERNAL_ID},
            "pricingModelId": seed::PRICING_MODEL_ID,
        })
    );

    // The sandbox keeps what it sent and what came back.
    let deadline = Instant::now() + Duration::from_secs(10);
    let delivery = loop {
        let all = deliveries(&sb).await;
        assert_eq!(all.len(), 1, "{all:?}");
        if !all[0]["status"].is_null() || Instant::now() > deadline {
            break all[0].clone();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(delivery["status"], 200, "{delivery}");
    assert_eq!(delivery["answer"], "{\"ok\":true}");
    assert_eq!(delivery["event_type"], "purchase.completed");
    assert_eq!(delivery["id"], msg_id);
    assert_eq!(delivery["signature"], signature);
}

#[tokio::test]
async fn only_a_purchase_makes_a_message_and_only_while_an_endpoint_is_set() {
    let sb = start().await;
    let (url, _received) = endpoint().await;
    // No endpoint yet: completing sends nothing.
    let first = id_of(&sb.create_ok(json!({})).await.session());
    sb.move_to(&first, json!({"status": "succeeded"})).await;
    assert!(deliveries(&sb).await.is_empty());

    sb.control("/webhooks", json!({"url": url, "secret": SECRET}))
        .await;
    // A failed checkout and an add-payment-method session make no purchase.
    let failed = id_of(&sb.create_ok(json!({})).await.session());
    sb.move_to(&failed, json!({"status": "failed"})).await;
    let setup = sb
        .create(json!({
            "type": "add_payment_method",
            "customerExternalId": seed::CUSTOMER_ACME_EXTERNAL_ID,
            "successUrl": "https://shop.example/ok",
            "cancelUrl": "https://shop.example/no",
        }))
        .await;
    assert_eq!(setup.status, 200, "{}", setup.text);
    sb.move_to(&id_of(&setup.session()), json!({"status": "succeeded"}))
        .await;
    assert!(deliveries(&sb).await.is_empty());

    let cleared = sb
        .client
        .delete(format!("{}/_sandbox/flowglad/webhooks", sb.base))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), 200);
    let after = id_of(&sb.create_ok(json!({})).await.session());
    sb.move_to(&after, json!({"status": "succeeded"})).await;
    assert!(deliveries(&sb).await.is_empty());
}
