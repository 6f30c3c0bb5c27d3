//! Flowglad's own webhooks, as far as the change feed needs them (vendor
//! notes §1.9). They come through Svix: `svix-id`, `svix-timestamp`,
//! `svix-signature`, signed as Standard Webhooks (the gateway checks them).
//! No Flowglad event is about a checkout session. The closest one,
//! `purchase.completed`, names the purchase that a product checkout made,
//! and the session holds it as `purchaseId` once the purchase exists. So
//! sessions are tracked by their purchase id.
//!
//! The body is Flowglad's thin event payload, `{"id": <object id>,
//! "object": "purchase" | "payment" | "customer" | "subscription" | …,
//! "customer"?: {"id", "externalId"}, "pricingModelId"?}`. The event type
//! (Svix's `eventType`) is in neither the body nor a header, so `object`
//! decides: only `purchase.completed` carries a purchase.
//! `payment.succeeded` and `payment.failed` name a payment (`pym_…`),
//! which does not lead to the session, so they give no hint.

use checkout_core::adapter::WebhookHint;
use serde::Deserialize;
use serde_json::value::RawValue;

/// Every Flowglad purchase id starts with this (vendor notes §1.4).
const PURCHASE_PREFIX: &str = "prch_";

/// What a session holds of its purchase: a get or create body wraps the
/// session (`{"checkoutSession": {…}, "url"}`), while a list item is the
/// session itself.
#[derive(Deserialize)]
struct Held {
    #[serde(rename = "checkoutSession", default)]
    checkout_session: Option<Purchase>,
    #[serde(rename = "purchaseId", default)]
    purchase_id: Option<String>,
}

#[derive(Deserialize)]
struct Purchase {
    #[serde(rename = "purchaseId", default)]
    purchase_id: Option<String>,
}

/// The purchase id a session's raw JSON holds (get, create or list item),
/// if it has one yet.
pub fn feed_hint(raw: &RawValue) -> Option<String> {
    let held: Held = serde_json::from_str(raw.get()).ok()?;
    let id = match held.checkout_session {
        Some(session) => session.purchase_id,
        None => held.purchase_id,
    };
    purchase_id(id?)
}

fn purchase_id(id: String) -> Option<String> {
    let id = id.trim();
    (id.len() > PURCHASE_PREFIX.len() && id.starts_with(PURCHASE_PREFIX)).then(|| id.to_owned())
}

/// The thin payload every Flowglad event carries.
#[derive(Deserialize)]
struct Payload {
    id: String,
    object: String,
    #[serde(default)]
    customer: Option<EventCustomer>,
}

#[derive(Deserialize)]
struct EventCustomer {
    #[serde(default)]
    id: Option<String>,
}

/// `purchase.completed`'s body → its purchase id and customer; any other
/// event, or a body that is not Flowglad's payload, → `None`.
pub fn webhook_hint(body: &[u8]) -> Option<WebhookHint> {
    let payload: Payload = serde_json::from_slice(body).ok()?;
    if payload.object != "purchase" {
        return None;
    }
    let customer_id = payload
        .customer
        .and_then(|c| c.id)
        .map(|id| id.trim().to_owned())
        .filter(|id| !id.is_empty());
    Some(WebhookHint {
        key: purchase_id(payload.id)?,
        customer_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn a_purchase_is_read_from_either_shape_and_only_a_real_id_counts() {
        let wrapped =
            r#"{"checkoutSession":{"id":"chckt_session_1","purchaseId":"prch_1"},"url":"u"}"#;
        assert_eq!(feed_hint(&raw(wrapped)).as_deref(), Some("prch_1"));
        let item = r#"{"id":"chckt_session_1","purchaseId":" prch_2 "}"#;
        assert_eq!(feed_hint(&raw(item)).as_deref(), Some("prch_2"));
        for none in [
            r#"{"checkoutSession":{"id":"chckt_session_1","purchaseId":null}}"#,
            r#"{"checkoutSession":{"id":"chckt_session_1"}}"#,
            r#"{"id":"chckt_session_1","purchaseId":""}"#,
            r#"{"id":"chckt_session_1","purchaseId":"prch_"}"#,
            r#"{"id":"chckt_session_1","purchaseId":"inv_1"}"#,
            r#"{"id":"chckt_session_1","purchaseId":7}"#,
            r#"[1,2]"#,
        ] {
            assert_eq!(feed_hint(&raw(none)), None, "{none}");
        }
    }

    #[test]
    fn only_a_purchase_event_is_a_hint() {
        let completed = br#"{"id":"prch_9","object":"purchase","customer":{"id":"cust_1","externalId":"ext-1"},"pricingModelId":"pricing_model_1"}"#;
        assert_eq!(
            webhook_hint(completed),
            Some(WebhookHint {
                key: "prch_9".into(),
                customer_id: Some("cust_1".into())
            })
        );
        let anonymous = br#"{"id":"prch_9","object":"purchase"}"#;
        assert_eq!(webhook_hint(anonymous).unwrap().customer_id, None);
        for other in [
            &br#"{"id":"pym_1","object":"payment","customer":{"id":"cust_1"}}"#[..],
            br#"{"id":"cust_1","object":"customer"}"#,
            br#"{"id":"sub_1","object":"subscription"}"#,
            br#"{"id":"","object":"purchase"}"#,
            br#"{"id":"chckt_session_1","object":"purchase"}"#,
            br#"{"object":"purchase"}"#,
            br#"not json"#,
            b"",
        ] {
            assert_eq!(
                webhook_hint(other),
                None,
                "{}",
                String::from_utf8_lossy(other)
            );
        }
    }
}
