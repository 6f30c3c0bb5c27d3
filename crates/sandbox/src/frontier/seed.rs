//! The seeded Frontier instance: two credentials, three organizations (two
//! with a billing account), three plans (one retired) and one product.
//!
//! Every id is a UUID, as Frontier's are; plans and products can also be
//! named, as Frontier accepts either.

use serde_json::json;
use uuid::Uuid;

use crate::kit::tour::Walk;

/// A service user's client credentials (`Authorization: Basic id:secret`).
/// It administers every seeded organization.
pub const CLIENT_ID: &str = "275ef377-9d47-485a-8e02-f68bb06289f9";
pub const CLIENT_SECRET: &str = "C3J27XDCG2LmlZGEONYlgCtjfIZ4SOcMz9CPVNPk";

/// A personal access token (`Authorization: Bearer fpt_…`) of a user who
/// administers Acme only.
pub const BEARER_TOKEN: &str = "fpt_Na1Hedcm4pMbXDuCL1mHoOsFaQfDPrAJ71fTquWo";

/// Acme: has a billing account; both credentials administer it.
pub const ORG_ACME_ID: Uuid = Uuid::from_u128(0xe9760ba0_2587_4630_a97e_3f0d634d5d9f);
/// Globex: has a billing account; only the service user administers it.
pub const ORG_GLOBEX_ID: Uuid = Uuid::from_u128(0xdf0133c7_2ca6_41fc_a899_38c9b7645d92);
/// Initech: no billing account yet ("customer doesn't exist").
pub const ORG_INITECH_ID: Uuid = Uuid::from_u128(0x5d1cc123_9e0c_440d_ac29_485476ebf0c4);

pub const PLAN_STARTER_ID: Uuid = Uuid::from_u128(0x74d6592b_c0ce_4a49_b30e_418eddb39ec7);
pub const PLAN_STARTER_NAME: &str = "starter_monthly";
pub const PLAN_PRO_ID: Uuid = Uuid::from_u128(0x3235c01d_1dcc_4478_9f08_7c7d0031679c);
pub const PLAN_PRO_NAME: &str = "pro_annual";
/// Retired: subscribing is a `failed_precondition`.
pub const PLAN_RETIRED_ID: Uuid = Uuid::from_u128(0x247d227a_247b_455b_8618_7aba581ee8ea);
pub const PLAN_RETIRED_NAME: &str = "legacy_2023";

pub const PRODUCT_CREDITS_ID: Uuid = Uuid::from_u128(0x6fcb3b97_4c53_4b5b_8954_8995fc69fe08);
pub const PRODUCT_CREDITS_NAME: &str = "credits_1000";

/// `(org, has a billing account)`.
pub const ORGS: [(Uuid, bool); 3] = [
    (ORG_ACME_ID, true),
    (ORG_GLOBEX_ID, true),
    (ORG_INITECH_ID, false),
];

/// `(plan, name, active)`.
pub const PLANS: [(Uuid, &str, bool); 3] = [
    (PLAN_STARTER_ID, PLAN_STARTER_NAME, true),
    (PLAN_PRO_ID, PLAN_PRO_NAME, true),
    (PLAN_RETIRED_ID, PLAN_RETIRED_NAME, false),
];

pub const PRODUCTS: [(Uuid, &str); 1] = [(PRODUCT_CREDITS_ID, PRODUCT_CREDITS_NAME)];

/// Acme, the starter plan and the credits product as text, for configs and
/// create bodies (`customer`, `plan`, `product_body.product`).
pub const ORG_ACME_ID_TEXT: &str = "e9760ba0-2587-4630-a97e-3f0d634d5d9f";
pub const PLAN_STARTER_ID_TEXT: &str = "74d6592b-c0ce-4a49-b30e-418eddb39ec7";
pub const PRODUCT_CREDITS_ID_TEXT: &str = "6fcb3b97-4c53-4b5b-8954-8995fc69fe08";

/// The demo's walks, one per API: Acme subscribes to the starter plan over
/// ConnectRPC and completes; over legacy REST it buys credits and the
/// Stripe session expires.
pub(crate) fn walks() -> Vec<Walk> {
    vec![
        Walk {
            title: "Frontier (ConnectRPC)",
            account: "default",
            create: json!({"customer": ORG_ACME_ID_TEXT, "plan": PLAN_STARTER_ID_TEXT,
                "success_url": "https://shop.example/ok?checkout={{.CheckoutID}}",
                "cancel_url": "https://shop.example/no"}),
            control: json!({"state": "complete"}),
            control_says: "Stripe reports the checkout complete",
        },
        Walk {
            title: "Frontier (legacy REST)",
            account: "legacy",
            create: json!({"customer": ORG_ACME_ID_TEXT,
                "provider_options": {"product_body": {"product": PRODUCT_CREDITS_ID_TEXT, "quantity": 2}},
                "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no"}),
            control: json!({"state": "expired"}),
            control_says: "the Stripe session expires",
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_version_4_uuids_like_frontier_makes() {
        for id in [
            ORG_ACME_ID,
            ORG_GLOBEX_ID,
            ORG_INITECH_ID,
            PLAN_STARTER_ID,
            PLAN_PRO_ID,
            PLAN_RETIRED_ID,
            PRODUCT_CREDITS_ID,
        ] {
            assert_eq!(id.get_version_num(), 4, "{id}");
        }
        assert_eq!(
            Uuid::parse_str(CLIENT_ID).map(|u| u.get_version_num()),
            Ok(4)
        );
        assert!(BEARER_TOKEN.starts_with("fpt_"));
    }

    #[test]
    fn the_text_ids_match() {
        assert_eq!(ORG_ACME_ID_TEXT, ORG_ACME_ID.to_string());
        assert_eq!(PLAN_STARTER_ID_TEXT, PLAN_STARTER_ID.to_string());
        assert_eq!(PRODUCT_CREDITS_ID_TEXT, PRODUCT_CREDITS_ID.to_string());
    }
}
