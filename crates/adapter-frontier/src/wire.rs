//! Frontier's wire types (vendor notes F1, F3, F4, F6).
//!
//! Both APIs write protojson with proto field names. Connect omits empty
//! fields; the legacy gateway writes them (`""`, `null` for the unset
//! `metadata` message, `[]` for an empty list). Reads accept both, plus
//! protojson's lowerCamelCase names, and never fail on an unknown field or
//! state. Writes are strict: every create option the gateway forwards is
//! typed, so a caller's mistake is named before anything is sent.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// `{"checkout_session": CheckoutSession}`: get and create responses.
#[derive(Debug, Clone, Deserialize)]
pub struct SessionEnvelope {
    #[serde(alias = "checkoutSession")]
    pub checkout_session: CheckoutSession,
}

/// `{"checkout_sessions": [...]}`; Connect sends `{}` when there are none.
#[derive(Debug, Clone, Deserialize)]
pub struct SessionList {
    #[serde(
        default,
        alias = "checkoutSessions",
        deserialize_with = "null_as_default"
    )]
    pub checkout_sessions: Vec<CheckoutSession>,
}

/// The list response with each session kept verbatim (for `raw`);
/// `{}` (Connect's empty message) and `null` are an empty list.
#[derive(Debug, Deserialize)]
pub struct RawSessionList {
    #[serde(
        default,
        alias = "checkoutSessions",
        deserialize_with = "null_as_default"
    )]
    pub checkout_sessions: Vec<Box<serde_json::value::RawValue>>,
}

/// One checkout session. proto3 strings: absent, `null` and `""` all mean empty.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CheckoutSession {
    #[serde(deserialize_with = "null_as_default")]
    pub id: String,
    #[serde(alias = "checkoutUrl", deserialize_with = "null_as_default")]
    pub checkout_url: String,
    #[serde(alias = "successUrl", deserialize_with = "null_as_default")]
    pub success_url: String,
    #[serde(alias = "cancelUrl", deserialize_with = "null_as_default")]
    pub cancel_url: String,
    /// Stripe's session status copied verbatim (`open | complete | expired`),
    /// Frontier's DB default `pending`, `""` for customer-portal sessions, or a
    /// future value.
    #[serde(deserialize_with = "null_as_default")]
    pub state: String,
    /// Plan UUID for subscription checkouts.
    #[serde(deserialize_with = "null_as_default")]
    pub plan: String,
    /// Product UUID for product purchases.
    #[serde(deserialize_with = "null_as_default")]
    pub product: String,
    /// Never populated by Frontier; kept only so a future value is not an error.
    pub metadata: Option<Value>,
    /// protobuf `Timestamp`s: RFC 3339, `Z`, 0/3/6/9 fractional digits.
    #[serde(alias = "createdAt")]
    pub created_at: Option<String>,
    #[serde(alias = "updatedAt")]
    pub updated_at: Option<String>,
    #[serde(alias = "expireAt")]
    pub expire_at: Option<String>,
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}

/// A non-2xx body. Connect: `{"code": "not_found", "message", "details"}`;
/// legacy REST (a `google.rpc.Status`): `{"code": 5, "message", "details"}`.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorBody {
    pub code: CodeValue,
    #[serde(default, deserialize_with = "null_as_default")]
    pub message: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum CodeValue {
    Name(String),
    Number(i64),
}

impl CodeValue {
    pub fn code(&self) -> Option<Code> {
        match self {
            CodeValue::Name(name) => Code::from_name(name),
            CodeValue::Number(n) => Code::from_number(*n),
        }
    }
}

/// The gRPC status codes, as Connect names them and gRPC numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Canceled,
    Unknown,
    InvalidArgument,
    DeadlineExceeded,
    NotFound,
    AlreadyExists,
    PermissionDenied,
    ResourceExhausted,
    FailedPrecondition,
    Aborted,
    OutOfRange,
    Unimplemented,
    Internal,
    Unavailable,
    DataLoss,
    Unauthenticated,
}

/// `(code, Connect name, gRPC number, HTTP status)`: the HTTP column is
/// connect-go's table (and grpc-gateway's, which agrees).
const CODES: [(Code, &str, i64, u16); 16] = [
    (Code::Canceled, "canceled", 1, 499),
    (Code::Unknown, "unknown", 2, 500),
    (Code::InvalidArgument, "invalid_argument", 3, 400),
    (Code::DeadlineExceeded, "deadline_exceeded", 4, 504),
    (Code::NotFound, "not_found", 5, 404),
    (Code::AlreadyExists, "already_exists", 6, 409),
    (Code::PermissionDenied, "permission_denied", 7, 403),
    (Code::ResourceExhausted, "resource_exhausted", 8, 429),
    (Code::FailedPrecondition, "failed_precondition", 9, 400),
    (Code::Aborted, "aborted", 10, 409),
    (Code::OutOfRange, "out_of_range", 11, 400),
    (Code::Unimplemented, "unimplemented", 12, 501),
    (Code::Internal, "internal", 13, 500),
    (Code::Unavailable, "unavailable", 14, 503),
    (Code::DataLoss, "data_loss", 15, 500),
    (Code::Unauthenticated, "unauthenticated", 16, 401),
];

impl Code {
    fn row(self) -> (Code, &'static str, i64, u16) {
        CODES
            .iter()
            .copied()
            .find(|row| row.0 == self)
            .unwrap_or((self, "unknown", 2, 500))
    }

    pub fn from_name(name: &str) -> Option<Code> {
        CODES.iter().find(|row| row.1 == name).map(|row| row.0)
    }

    pub fn from_number(n: i64) -> Option<Code> {
        CODES.iter().find(|row| row.2 == n).map(|row| row.0)
    }

    /// The Connect (snake_case) name.
    pub fn name(self) -> &'static str {
        self.row().1
    }

    /// The HTTP status current Connect sends for it. (Older connect-go sent
    /// 412 for `failed_precondition`: the code, not the status, is the truth.)
    pub fn http_status(self) -> u16 {
        self.row().3
    }
}

/// `CreateCheckoutRequest`. The legacy REST API takes the org in the path,
/// so `org_id` is only in the Connect body.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CreateRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// Sent verbatim: Frontier replaces `{{.CheckoutID}}` with the new id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_body: Option<SubscriptionBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_body: Option<ProductBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup_body: Option<SetupBody>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SubscriptionBody {
    /// Plan UUID or name.
    pub plan: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub skip_trial: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cancel_after_trial: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProductBody {
    /// Product UUID or name.
    pub product: String,
    /// int64: protojson's canonical form is a JSON string.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "int64_as_string"
    )]
    pub quantity: Option<Int64>,
}

/// Only the payment-method setup is sent: a customer-portal session is never
/// stored by Frontier, so the gateway refuses it before calling.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SetupBody {
    pub payment_method: bool,
}

fn int64_as_string<S: Serializer>(v: &Option<Int64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(n) => s.serialize_str(&n.0.to_string()),
        None => s.serialize_none(),
    }
}

/// Every create field reachable through the canonical `provider_options`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOptions {
    /// A product purchase instead of a plan subscription.
    #[serde(default)]
    pub product_body: Option<ProductOption>,
    /// A payment-method setup session instead of a purchase.
    #[serde(default)]
    pub setup_body: Option<SetupOption>,
    /// Plan subscriptions only.
    #[serde(default)]
    pub skip_trial: Option<bool>,
    /// Plan subscriptions only.
    #[serde(default)]
    pub cancel_after_trial: Option<bool>,
}

/// Names of the fields of [`CreateOptions`].
pub const CREATE_OPTION_FIELDS: &[&str] = &[
    "product_body",
    "setup_body",
    "skip_trial",
    "cancel_after_trial",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductOption {
    pub product: String,
    #[serde(default)]
    pub quantity: Option<Int64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupOption {
    #[serde(default)]
    pub payment_method: bool,
    #[serde(default)]
    pub customer_portal: bool,
}

/// A non-negative protobuf int64, read as a JSON number or a decimal string
/// (both are protojson).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Int64(pub u64);

impl<'de> Deserialize<'de> for Int64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        let n = match Raw::deserialize(d) {
            Ok(Raw::Number(n)) => Some(n),
            Ok(Raw::Text(s)) => s.parse::<u64>().ok(),
            Err(_) => None,
        };
        match n {
            Some(n) if i64::try_from(n).is_ok() => Ok(Int64(n)),
            _ => Err(serde::de::Error::custom(
                "expected a non-negative int64, as a number or a decimal string",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn codes_round_trip_names_numbers_and_statuses() {
        for (code, name, number, http) in CODES {
            assert_eq!(Code::from_name(name), Some(code));
            assert_eq!(Code::from_number(number), Some(code));
            assert_eq!((code.name(), code.http_status()), (name, http));
        }
        assert_eq!(Code::from_name("ok"), None);
        assert_eq!(Code::from_number(0), None);
        assert_eq!(Code::from_number(17), None);
    }

    #[test]
    fn sessions_read_omitted_empty_and_camel_case_fields_alike() {
        let omitted: SessionEnvelope =
            serde_json::from_value(json!({"checkout_session": {"id": "x"}})).unwrap();
        let empty: SessionEnvelope = serde_json::from_value(json!({"checkout_session": {
            "id": "x", "state": "", "plan": null, "metadata": null, "checkout_url": ""}}))
        .unwrap();
        assert_eq!(omitted.checkout_session.state, empty.checkout_session.state);
        assert_eq!(omitted.checkout_session.plan, "");
        let camel: SessionEnvelope = serde_json::from_value(json!({"checkoutSession": {
            "id": "x", "checkoutUrl": "u", "expireAt": "2026-01-01T00:00:00Z"}}))
        .unwrap();
        assert_eq!(camel.checkout_session.checkout_url, "u");
        assert!(camel.checkout_session.expire_at.is_some());
        let list: SessionList = serde_json::from_value(json!({})).unwrap();
        assert!(list.checkout_sessions.is_empty());
    }

    #[test]
    fn int64_is_written_as_a_string_and_read_either_way() {
        let body = ProductBody {
            product: "p".into(),
            quantity: Some(Int64(3)),
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"product": "p", "quantity": "3"})
        );
        let read = |v| serde_json::from_value::<Int64>(v);
        assert_eq!(read(json!(7)).unwrap(), Int64(7));
        assert_eq!(read(json!("7")).unwrap(), Int64(7));
        assert!(read(json!(-1)).is_err());
        assert!(read(json!("7.5")).is_err());
        assert!(read(json!(u64::MAX)).is_err());
    }

    #[test]
    fn create_requests_leave_out_what_is_unset() {
        let req = CreateRequest {
            org_id: Some("o".into()),
            subscription_body: Some(SubscriptionBody {
                plan: "p".into(),
                skip_trial: true,
                cancel_after_trial: false,
            }),
            ..CreateRequest::default()
        };
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            json!({"org_id": "o", "subscription_body": {"plan": "p", "skip_trial": true}})
        );
    }
}
