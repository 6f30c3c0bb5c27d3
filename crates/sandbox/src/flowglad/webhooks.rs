//! Flowglad's webhooks as Svix delivers them (vendor notes §1.9). Once an
//! endpoint is set (`FlowgladConfig::webhook`, or `POST
//! /_sandbox/flowglad/webhooks` with `{"url", "secret"}`), a product
//! checkout that succeeds sends `purchase.completed`: Flowglad's thin
//! payload (`{"id": "prch_…", "object": "purchase", "customer"?: {"id",
//! "externalId"}, "pricingModelId"}`, and the event type in neither body
//! nor header), signed the Svix way (`svix-id`, `svix-timestamp` in unix
//! seconds, `svix-signature`: `v1,<base64 HMAC-SHA256 of
//! "{id}.{timestamp}.{body}">` keyed by the secret's base64 after
//! `whsec_`).
//!
//! Best effort, like a vendor: one attempt from a spawned task, with Svix's
//! 10 s timeout. The sandbox keeps every delivery with the answer it got,
//! for tests and the demo (`GET /_sandbox/flowglad/webhooks`). Svix would
//! retry a failed one later; the sandbox does not.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::json;
use sha2::Sha256;

use super::model::Record;
use super::seed;
use crate::kit::ids;
use crate::kit::store::Locked;

/// Svix gives up on an endpoint's answer after this.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Deliveries kept, newest last.
const KEPT: usize = 100;
/// What is kept of an answer's body.
const KEPT_ANSWER: usize = 1024;

/// Where Flowglad sends its webhooks, and the endpoint's signing secret
/// (`whsec_<base64>`, as Svix shows it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookTarget {
    pub url: String,
    pub secret: String,
}

/// One message sent, and what came of it.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    /// `svix-id`.
    pub id: String,
    pub event_type: &'static str,
    pub url: String,
    /// `svix-timestamp`.
    pub timestamp: i64,
    /// `svix-signature`.
    pub signature: String,
    pub body: String,
    /// The endpoint's status; `None` while under way or when it failed.
    pub status: Option<u16>,
    /// The start of the endpoint's answer.
    pub answer: Option<String>,
    pub error: Option<String>,
}

/// An endpoint ready to sign for.
#[derive(Clone)]
struct Endpoint {
    url: String,
    key: Vec<u8>,
}

#[derive(Default)]
pub(crate) struct Webhooks {
    endpoint: Locked<Option<Endpoint>>,
    deliveries: Arc<Locked<VecDeque<Delivery>>>,
}

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The signing key stays out of any debug output.
        f.debug_struct("Webhooks").finish_non_exhaustive()
    }
}

/// The key a `whsec_<base64>` secret stands for.
pub(crate) fn signing_key(secret: &str) -> Result<Vec<u8>, String> {
    let encoded = secret
        .trim()
        .strip_prefix("whsec_")
        .ok_or("a Svix secret starts with whsec_")?;
    let key = STANDARD
        .decode(encoded)
        .or_else(|_| STANDARD_NO_PAD.decode(encoded))
        .map_err(|_| "a Svix secret is whsec_ then base64")?;
    if key.is_empty() {
        return Err("a Svix secret may not be empty".to_owned());
    }
    Ok(key)
}

/// `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.
fn sign(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// Flowglad's `purchase.completed` payload for the purchase `record` made.
fn purchase_completed(record: &Record, purchase_id: &str) -> String {
    let mut payload = json!({
        "id": purchase_id,
        "object": "purchase",
        "pricingModelId": record.pricing_model_id,
    });
    if let Some(customer) = &record.customer_id {
        let external = seed::CUSTOMERS
            .iter()
            .find(|c| c.0 == customer)
            .map(|c| c.1);
        payload["customer"] = json!({"id": customer, "externalId": external});
    }
    payload.to_string()
}

impl Webhooks {
    pub(crate) fn new(target: Option<&WebhookTarget>) -> Webhooks {
        let webhooks = Webhooks::default();
        if let Some(target) = target {
            // Not fatal (the API works without it), but said.
            if let Err(why) = webhooks.set(target) {
                tracing::warn!(error = %why, "flowglad webhook not set");
            }
        }
        webhooks
    }

    pub(crate) fn set(&self, target: &WebhookTarget) -> Result<(), String> {
        let key = signing_key(&target.secret)?;
        if !(target.url.starts_with("http://") || target.url.starts_with("https://")) {
            return Err("the webhook url is http:// or https://".to_owned());
        }
        *self.endpoint.lock() = Some(Endpoint {
            url: target.url.clone(),
            key,
        });
        Ok(())
    }

    pub(crate) fn clear(&self) {
        *self.endpoint.lock() = None;
    }

    pub(crate) fn deliveries(&self) -> Vec<Delivery> {
        self.deliveries.lock().iter().cloned().collect()
    }

    /// `record` just succeeded: tell the endpoint, if there is one.
    pub(crate) fn completed(&self, record: &Record) {
        let Some(purchase_id) = &record.purchase_id else {
            return;
        };
        let Some(endpoint) = self.endpoint.lock().clone() else {
            return;
        };
        let body = purchase_completed(record, purchase_id);
        let id = format!("msg_{}", ids::base62(27));
        let timestamp = chrono::Utc::now().timestamp();
        let delivery = Delivery {
            signature: sign(&endpoint.key, &id, timestamp, &body),
            id,
            event_type: "purchase.completed",
            url: endpoint.url,
            timestamp,
            body,
            status: None,
            answer: None,
            error: None,
        };
        {
            let mut kept = self.deliveries.lock();
            if kept.len() == KEPT {
                kept.pop_front();
            }
            kept.push_back(delivery.clone());
        }
        let deliveries = Arc::clone(&self.deliveries);
        tokio::spawn(async move {
            let (status, answer, error) = match send(&delivery).await {
                Ok((status, answer)) => (Some(status), Some(answer), None),
                Err(e) => (None, None, Some(e)),
            };
            if let Some(kept) = deliveries.lock().iter_mut().find(|d| d.id == delivery.id) {
                kept.status = status;
                kept.answer = answer;
                kept.error = error;
            }
        });
    }
}

/// One attempt: the endpoint's status and the start of its answer.
async fn send(delivery: &Delivery) -> Result<(u16, String), String> {
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .user_agent("Svix-Webhooks/1.0 (sandbox)")
        .build()
        .map_err(|e| e.to_string())?;
    let response = client
        .post(&delivery.url)
        .header("content-type", "application/json")
        .header("svix-id", &delivery.id)
        .header("svix-timestamp", delivery.timestamp.to_string())
        .header("svix-signature", &delivery.signature)
        .body(delivery.body.clone())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let cut = (0..=KEPT_ANSWER.min(text.len()))
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    Ok((status, text[..cut].to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_svix_ones() {
        // The Standard Webhooks test vector, which Svix's libraries share.
        let key = signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                r#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        for bad in ["", "whsec_", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_!!"] {
            assert!(signing_key(bad).is_err(), "{bad}");
        }
    }
}
