//! The checkout messages in binary protobuf (`application/proto`), as the
//! server's generated code declares them (`proto/v1beta1/{frontier,
//! models}.pb.go` at `670a8fe6`), and their conversions to and from the
//! JSON model, so one request type and one store serve every codec.
//!
//! Field numbers are the contract. `@raystack/proton`'s clients (e.g.
//! `0.1.0-881c92a…`, pinned by `@raystack/frontier` 0.72) still send two
//! fields the server has since dropped: `billing_id = 2` on the create and
//! list requests and `org_id = 1` on `GetCheckoutRequest`. Like unknown
//! fields anywhere, they are skipped.

use chrono::{DateTime, Utc};

use super::model;
use super::store::StoredCheckout;

#[derive(Clone, PartialEq, prost::Message)]
pub struct CreateCheckoutRequest {
    #[prost(string, tag = "1")]
    pub org_id: String,
    #[prost(string, tag = "3")]
    pub success_url: String,
    #[prost(string, tag = "4")]
    pub cancel_url: String,
    #[prost(message, optional, tag = "10")]
    pub subscription_body: Option<CheckoutSubscriptionBody>,
    #[prost(message, optional, tag = "11")]
    pub product_body: Option<CheckoutProductBody>,
    #[prost(message, optional, tag = "12")]
    pub setup_body: Option<CheckoutSetupBody>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CheckoutSubscriptionBody {
    #[prost(string, tag = "1")]
    pub plan: String,
    #[prost(bool, tag = "2")]
    pub skip_trial: bool,
    #[prost(bool, tag = "3")]
    pub cancel_after_trial: bool,
    /// Read and ignored, as the checkout service does.
    #[prost(string, tag = "4")]
    pub provider_coupon_id: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CheckoutProductBody {
    #[prost(string, tag = "1")]
    pub product: String,
    #[prost(int64, tag = "2")]
    pub quantity: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CheckoutSetupBody {
    #[prost(bool, tag = "1")]
    pub payment_method: bool,
    #[prost(bool, tag = "2")]
    pub customer_portal: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CreateCheckoutResponse {
    #[prost(message, optional, tag = "1")]
    pub checkout_session: Option<CheckoutSession>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct GetCheckoutRequest {
    #[prost(string, tag = "3")]
    pub id: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct GetCheckoutResponse {
    #[prost(message, optional, tag = "1")]
    pub checkout_session: Option<CheckoutSession>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ListCheckoutsRequest {
    #[prost(string, tag = "1")]
    pub org_id: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ListCheckoutsResponse {
    #[prost(message, repeated, tag = "1")]
    pub checkout_sessions: Vec<CheckoutSession>,
}

/// `CheckoutSession` as `transformCheckoutToPB` fills it: `metadata` is
/// never set; the three timestamps always are (Go's zero time included).
#[derive(Clone, PartialEq, prost::Message)]
pub struct CheckoutSession {
    #[prost(string, tag = "1")]
    pub id: String,
    #[prost(string, tag = "2")]
    pub checkout_url: String,
    #[prost(string, tag = "3")]
    pub success_url: String,
    #[prost(string, tag = "4")]
    pub cancel_url: String,
    #[prost(string, tag = "5")]
    pub state: String,
    #[prost(string, tag = "6")]
    pub plan: String,
    #[prost(string, tag = "7")]
    pub product: String,
    #[prost(message, optional, tag = "10")]
    pub metadata: Option<prost_types::Struct>,
    #[prost(message, optional, tag = "11")]
    pub created_at: Option<prost_types::Timestamp>,
    #[prost(message, optional, tag = "12")]
    pub updated_at: Option<prost_types::Timestamp>,
    #[prost(message, optional, tag = "13")]
    pub expire_at: Option<prost_types::Timestamp>,
}

/// `timestamppb.New`: seconds since the epoch (negative before it) and the
/// nanoseconds within that second.
pub fn timestamp(t: &DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        // Below 10^9 unless a leap second is represented, which chrono
        // never produces from Frontier's times.
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(999_999_999),
    }
}

impl From<&StoredCheckout> for CheckoutSession {
    fn from(c: &StoredCheckout) -> CheckoutSession {
        let text = |id: Option<uuid::Uuid>| id.map(|id| id.to_string()).unwrap_or_default();
        CheckoutSession {
            id: c.id.to_string(),
            checkout_url: c.checkout_url.clone(),
            success_url: c.success_url.clone(),
            cancel_url: c.cancel_url.clone(),
            state: c.state.clone(),
            plan: text(c.plan()),
            product: text(c.product()),
            metadata: None,
            created_at: Some(timestamp(&c.created_at)),
            updated_at: Some(timestamp(&c.updated_at)),
            expire_at: Some(timestamp(&c.expire_at)),
        }
    }
}

impl From<CreateCheckoutRequest> for model::CreateCheckoutRequest {
    fn from(r: CreateCheckoutRequest) -> model::CreateCheckoutRequest {
        model::CreateCheckoutRequest {
            org_id: r.org_id,
            success_url: r.success_url,
            cancel_url: r.cancel_url,
            subscription_body: r.subscription_body.map(|s| model::SubscriptionBody {
                plan: s.plan,
                skip_trial: s.skip_trial,
                cancel_after_trial: s.cancel_after_trial,
            }),
            product_body: r.product_body.map(|p| model::ProductBody {
                product: p.product,
                quantity: model::Int64(p.quantity),
            }),
            setup_body: r.setup_body.map(|s| model::SetupBody {
                payment_method: s.payment_method,
                customer_portal: s.customer_portal,
            }),
        }
    }
}

impl From<GetCheckoutRequest> for model::GetCheckoutRequest {
    fn from(r: GetCheckoutRequest) -> model::GetCheckoutRequest {
        model::GetCheckoutRequest { id: r.id }
    }
}

impl From<ListCheckoutsRequest> for model::ListCheckoutsRequest {
    fn from(r: ListCheckoutsRequest) -> model::ListCheckoutsRequest {
        model::ListCheckoutsRequest { org_id: r.org_id }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frontier::store::Purchase;
    use prost::Message;
    use uuid::Uuid;

    fn checkout() -> StoredCheckout {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        StoredCheckout {
            id: Uuid::from_u128(1),
            org: Uuid::from_u128(2),
            provider_id: "cs_test_a1x".into(),
            purchase: Purchase::Product {
                product: Uuid::from_u128(3),
                quantity: 2,
            },
            success_url: String::new(),
            cancel_url: "https://x.example/no".into(),
            checkout_url: "https://checkout.stripe.com/c/pay/cs_test_a1x".into(),
            state: "open".into(),
            payment_status: "unpaid".into(),
            created_at: t("2026-11-18T10:15:42.318204Z"),
            updated_at: t("0001-01-01T00:00:00Z"),
            expire_at: t("2026-11-19T10:15:41Z"),
        }
    }

    /// The keys of a message whose fields are all short and length-delimited.
    fn keys(bytes: &[u8]) -> Vec<u8> {
        let mut keys = Vec::new();
        let mut rest = bytes;
        while let Some((&key, tail)) = rest.split_first() {
            keys.push(key);
            rest = &tail[1 + usize::from(tail[0])..];
        }
        keys
    }

    #[test]
    fn sessions_carry_the_field_numbers_of_the_pb_go() {
        let bytes = CheckoutSession::from(&checkout()).encode_to_vec();
        // (field << 3) | 2, in field-number order; the empty success_url
        // (3) and plan (6) and the unset metadata (10) are not on the wire.
        assert_eq!(
            keys(&bytes),
            [0x0a, 0x12, 0x22, 0x2a, 0x3a, 0x5a, 0x62, 0x6a]
        );
        let plan = StoredCheckout {
            purchase: Purchase::Plan {
                plan: Uuid::from_u128(4),
                skip_trial: false,
                cancel_after_trial: false,
            },
            success_url: "https://x.example/ok".into(),
            ..checkout()
        };
        let with_plan = CheckoutSession::from(&plan).encode_to_vec();
        assert_eq!(
            keys(&with_plan),
            [0x0a, 0x12, 0x1a, 0x22, 0x2a, 0x32, 0x5a, 0x62, 0x6a]
        );
        let back = CheckoutSession::decode(bytes.as_slice()).expect("decodes");
        assert_eq!(back.product, Uuid::from_u128(3).to_string());
        assert_eq!(
            back.created_at,
            Some(prost_types::Timestamp {
                seconds: 1_794_996_942,
                nanos: 318_204_000
            })
        );
        // Go's zero time, as `timestamppb.New(time.Time{})` writes it.
        assert_eq!(
            back.updated_at.map(|t| (t.seconds, t.nanos)),
            Some((-62_135_596_800, 0))
        );
    }

    #[test]
    fn requests_convert_to_the_json_model() {
        let wire = CreateCheckoutRequest {
            org_id: "o".into(),
            product_body: Some(CheckoutProductBody {
                product: "p".into(),
                quantity: 3,
            }),
            setup_body: Some(CheckoutSetupBody {
                payment_method: false,
                customer_portal: true,
            }),
            ..CreateCheckoutRequest::default()
        };
        let r = model::CreateCheckoutRequest::from(wire);
        assert_eq!(r.org_id, "o");
        assert_eq!(
            r.product_body.as_ref().map(|p| p.quantity),
            Some(model::Int64(3))
        );
        assert!(r.setup_body.as_ref().is_some_and(|s| s.customer_portal));
        assert!(r.subscription_body.is_none());
    }

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    /// What the client writes: bytes from `@bufbuild/protobuf`'s `toBinary`
    /// with `@raystack/proton` 0.1.0-881c92a…'s schemas, every field set
    /// to a one-letter value (`billing_id` "b", quantity 7, bools true).
    #[test]
    fn the_clients_bytes_read_as_the_server_reads_them() {
        let create = hex(concat!(
            "0a036f72671201621a0173220163520a0a0170100118012201785a050a0171",
            "1007620408011001"
        ));
        let r = model::CreateCheckoutRequest::from(
            CreateCheckoutRequest::decode(create.as_slice()).expect("decodes"),
        )
        .into_create();
        assert_eq!((r.success_url.as_str(), r.cancel_url.as_str()), ("s", "c"));
        assert_eq!(r.plan.as_deref(), Some("p"));
        assert!(r.skip_trial && r.cancel_after_trial);
        assert_eq!(r.product, Some(("q".to_owned(), 7)));
        assert!(r.setup_payment_method && r.setup_customer_portal);
        let org = CreateCheckoutRequest::decode(create.as_slice()).map(|r| r.org_id);
        assert_eq!(org.as_deref(), Ok("org"));

        // org_id and billing_id, which the server no longer declares, skipped.
        let get = GetCheckoutRequest::decode(hex("0a036f72671201621a026331").as_slice());
        assert_eq!(get.map(|r| r.id).as_deref(), Ok("c1"));
        let list = ListCheckoutsRequest::decode(hex("0a036f7267120162").as_slice());
        assert_eq!(list.map(|r| r.org_id).as_deref(), Ok("org"));
    }
}
