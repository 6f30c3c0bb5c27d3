//! Frontier's protojson, both ways. Responses use proto field names in
//! field-number order (lowerCamelCase JSON names from connect-go's stock
//! codec); Connect leaves out empty fields, the legacy gateway
//! (`EmitUnpopulated`) writes them all, `null` for the unset `metadata`
//! message and `[]` for an empty list. Requests are read like protojson
//! with `DiscardUnknown`: proto or JSON names, unknown fields ignored,
//! `null` as the default, int64 as a number or a string.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Deserializer, Serialize};

use super::store::StoredCheckout;

/// A protobuf `Timestamp` in JSON: `Z`, and 0, 3, 6 or 9 fractional digits.
pub fn proto_time(t: &DateTime<Utc>) -> String {
    let full = t.to_rfc3339_opts(SecondsFormat::Nanos, true);
    let Some((head, fraction)) = full.trim_end_matches('Z').split_once('.') else {
        return full;
    };
    let mut digits = fraction;
    while let Some(shorter) = digits.strip_suffix("000") {
        digits = shorter;
    }
    if digits.is_empty() {
        format!("{head}Z")
    } else {
        format!("{head}.{digits}Z")
    }
}

/// Which API renders: Connect omits empties, legacy REST emits them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Frontier's own `json` codec (`UseProtoNames`): `application/json`.
    Connect,
    /// connect-go's stock codec, which Frontier left registered under
    /// `json; charset=utf-8`: lowerCamelCase JSON names.
    ConnectCamel,
    Legacy,
}

impl Style {
    /// A field's name: the proto name, or its JSON name for `ConnectCamel`.
    fn name(self, proto: &'static str, json: &'static str) -> &'static str {
        if self == Style::ConnectCamel {
            json
        } else {
            proto
        }
    }
}

/// `CheckoutSession` as `transformCheckoutToPB` fills it.
pub struct Session<'a> {
    pub checkout: &'a StoredCheckout,
    pub style: Style,
}

impl Serialize for Session<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.checkout;
        let emit_all = self.style == Style::Legacy;
        let plan = c.plan().map(|p| p.to_string()).unwrap_or_default();
        let product = c.product().map(|p| p.to_string()).unwrap_or_default();
        let id = c.id.to_string();
        let named = |proto, json| self.style.name(proto, json);
        let mut map = s.serialize_map(None)?;
        for (name, value) in [
            ("id", id.as_str()),
            (
                named("checkout_url", "checkoutUrl"),
                c.checkout_url.as_str(),
            ),
            (named("success_url", "successUrl"), c.success_url.as_str()),
            (named("cancel_url", "cancelUrl"), c.cancel_url.as_str()),
            ("state", c.state.as_str()),
            ("plan", plan.as_str()),
            ("product", product.as_str()),
        ] {
            if emit_all || !value.is_empty() {
                map.serialize_entry(name, value)?;
            }
        }
        if emit_all {
            map.serialize_entry("metadata", &())?;
        }
        // Timestamps are messages Frontier always sets (even to Go's zero time).
        for (proto, json, t) in [
            ("created_at", "createdAt", &c.created_at),
            ("updated_at", "updatedAt", &c.updated_at),
            ("expire_at", "expireAt", &c.expire_at),
        ] {
            map.serialize_entry(named(proto, json), &proto_time(t))?;
        }
        map.end()
    }
}

/// `{"checkout_session": …}`: create and get.
pub struct SessionResponse<'a> {
    pub checkout_session: Session<'a>,
}

impl Serialize for SessionResponse<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let name = self
            .checkout_session
            .style
            .name("checkout_session", "checkoutSession");
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry(name, &self.checkout_session)?;
        map.end()
    }
}

/// `{"checkout_sessions": […]}`: list. Connect writes `{}` for none.
pub struct SessionsResponse<'a> {
    pub checkout_sessions: Vec<Session<'a>>,
    pub style: Style,
}

impl<'a> SessionsResponse<'a> {
    /// The list both APIs answer, each in its own style.
    pub fn new(checkouts: &'a [StoredCheckout], style: Style) -> SessionsResponse<'a> {
        SessionsResponse {
            checkout_sessions: checkouts
                .iter()
                .map(|checkout| Session { checkout, style })
                .collect(),
            style,
        }
    }
}

impl Serialize for SessionsResponse<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        if self.style == Style::Legacy || !self.checkout_sessions.is_empty() {
            let name = self.style.name("checkout_sessions", "checkoutSessions");
            map.serialize_entry(name, &self.checkout_sessions)?;
        }
        map.end()
    }
}

fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}

/// protojson int64: a JSON number or a decimal string.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Int64(pub i64);

impl<'de> Deserialize<'de> for Int64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(i64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(n) => Ok(Int64(n)),
            Raw::Text(s) => s
                .parse()
                .map(Int64)
                .map_err(|_| serde::de::Error::custom("invalid value for int64 field")),
        }
    }
}

/// `CreateCheckoutRequest` (the legacy body is the same, the org in the path).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CreateCheckoutRequest {
    #[serde(alias = "orgId", deserialize_with = "null_default")]
    pub org_id: String,
    #[serde(alias = "successUrl", deserialize_with = "null_default")]
    pub success_url: String,
    #[serde(alias = "cancelUrl", deserialize_with = "null_default")]
    pub cancel_url: String,
    #[serde(alias = "subscriptionBody")]
    pub subscription_body: Option<SubscriptionBody>,
    #[serde(alias = "productBody")]
    pub product_body: Option<ProductBody>,
    #[serde(alias = "setupBody")]
    pub setup_body: Option<SetupBody>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SubscriptionBody {
    #[serde(deserialize_with = "null_default")]
    pub plan: String,
    #[serde(alias = "skipTrial", deserialize_with = "null_default")]
    pub skip_trial: bool,
    #[serde(alias = "cancelAfterTrial", deserialize_with = "null_default")]
    pub cancel_after_trial: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ProductBody {
    #[serde(deserialize_with = "null_default")]
    pub product: String,
    #[serde(deserialize_with = "null_default")]
    pub quantity: Int64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SetupBody {
    #[serde(alias = "paymentMethod", deserialize_with = "null_default")]
    pub payment_method: bool,
    #[serde(alias = "customerPortal", deserialize_with = "null_default")]
    pub customer_portal: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GetCheckoutRequest {
    #[serde(deserialize_with = "null_default")]
    pub id: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ListCheckoutsRequest {
    #[serde(alias = "orgId", deserialize_with = "null_default")]
    pub org_id: String,
}

impl CreateCheckoutRequest {
    /// The service's view of the request.
    pub fn into_create(self) -> super::store::CreateCheckout {
        let setup = self.setup_body.unwrap_or_default();
        let subscription = self.subscription_body;
        super::store::CreateCheckout {
            success_url: self.success_url,
            cancel_url: self.cancel_url,
            plan: subscription.as_ref().map(|s| s.plan.clone()),
            skip_trial: subscription.as_ref().is_some_and(|s| s.skip_trial),
            cancel_after_trial: subscription.as_ref().is_some_and(|s| s.cancel_after_trial),
            product: self.product_body.map(|p| (p.product, p.quantity.0)),
            setup_payment_method: setup.payment_method,
            setup_customer_portal: setup.customer_portal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frontier::store::Purchase;
    use serde_json::json;
    use uuid::Uuid;

    fn checkout() -> StoredCheckout {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        StoredCheckout {
            id: Uuid::from_u128(1),
            org: Uuid::from_u128(2),
            provider_id: "cs_test_a1x".into(),
            purchase: Purchase::Setup,
            success_url: String::new(),
            cancel_url: "https://x.example/no".into(),
            checkout_url: "https://checkout.stripe.com/c/pay/cs_test_a1x".into(),
            state: "open".into(),
            payment_status: "unpaid".into(),
            created_at: t("2026-11-18T10:15:42.318204Z"),
            updated_at: t("2026-11-18T10:15:42.5Z"),
            expire_at: t("2026-11-19T10:15:41Z"),
        }
    }

    #[test]
    fn timestamps_use_0_3_6_or_9_digits() {
        for s in [
            "2026-11-18T10:15:42Z",
            "2026-11-18T10:15:42.500Z",
            "2026-11-18T10:15:42.318204Z",
            "2026-11-18T10:15:42.000000001Z",
            "0001-01-01T00:00:00Z",
        ] {
            let t = DateTime::parse_from_rfc3339(s).unwrap().to_utc();
            assert_eq!(proto_time(&t), s);
        }
    }

    #[test]
    fn connect_omits_empties_and_legacy_emits_them_in_field_order() {
        let c = checkout();
        let connect = serde_json::to_string(&Session {
            checkout: &c,
            style: Style::Connect,
        })
        .unwrap();
        assert_eq!(
            connect,
            r#"{"id":"00000000-0000-0000-0000-000000000001","checkout_url":"https://checkout.stripe.com/c/pay/cs_test_a1x","cancel_url":"https://x.example/no","state":"open","created_at":"2026-11-18T10:15:42.318204Z","updated_at":"2026-11-18T10:15:42.500Z","expire_at":"2026-11-19T10:15:41Z"}"#
        );
        let legacy = serde_json::to_value(Session {
            checkout: &c,
            style: Style::Legacy,
        })
        .unwrap();
        assert_eq!(legacy["success_url"], "");
        assert_eq!(legacy["plan"], "");
        assert!(legacy["metadata"].is_null() && legacy.get("metadata").is_some());
        let empty = |style| {
            serde_json::to_string(&SessionsResponse {
                checkout_sessions: vec![],
                style,
            })
            .unwrap()
        };
        let camel = serde_json::to_string(&SessionResponse {
            checkout_session: Session {
                checkout: &c,
                style: Style::ConnectCamel,
            },
        })
        .unwrap();
        assert_eq!(
            camel,
            r#"{"checkoutSession":{"id":"00000000-0000-0000-0000-000000000001","checkoutUrl":"https://checkout.stripe.com/c/pay/cs_test_a1x","cancelUrl":"https://x.example/no","state":"open","createdAt":"2026-11-18T10:15:42.318204Z","updatedAt":"2026-11-18T10:15:42.500Z","expireAt":"2026-11-19T10:15:41Z"}}"#
        );
        assert_eq!(empty(Style::Connect), "{}");
        assert_eq!(empty(Style::ConnectCamel), "{}");
        assert_eq!(empty(Style::Legacy), r#"{"checkout_sessions":[]}"#);
    }

    #[test]
    fn requests_read_like_protojson() {
        let r: CreateCheckoutRequest = serde_json::from_value(json!({
            "orgId": "o", "success_url": null, "unknown": 1,
            "productBody": {"product": "p", "quantity": "3"},
            "setup_body": {"customerPortal": true}
        }))
        .unwrap();
        assert_eq!(r.org_id, "o");
        assert_eq!(r.product_body.as_ref().map(|p| p.quantity), Some(Int64(3)));
        assert!(r.setup_body.as_ref().is_some_and(|s| s.customer_portal));
        assert!(serde_json::from_value::<CreateCheckoutRequest>(
            json!({"subscription_body": {"skip_trial": "yes"}})
        )
        .is_err());
        assert!(serde_json::from_value::<CreateCheckoutRequest>(
            json!({"product_body": {"quantity": "many"}})
        )
        .is_err());
    }
}
