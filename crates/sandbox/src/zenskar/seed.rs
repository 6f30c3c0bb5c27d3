//! The seeded Zenskar organisation: one API key, four customers, one
//! business entity, two plans priced in four currencies, one contract to
//! amend. The same cast as `fixtures/zenskar/README.md`.
//!
//! Each id is given as text (for configs and requests) and as a `Uuid`
//! (for the store); a test keeps the two equal.

use serde_json::json;
use uuid::Uuid;

use crate::kit::tour::Walk;

/// Sent as the `organisation` header.
pub const ORGANISATION_ID: &str = "aa92a968-3677-4eef-a4b3-c34c686c61c4";
pub const ORGANISATION_UUID: Uuid = Uuid::from_u128(0xaa92a968_3677_4eef_a4b3_c34c686c61c4);

/// Sent as `x-api-key`. Zenskar's key format is not documented: invented.
pub const API_KEY: &str = "zsk_sandbox_5b9e0c7d41a24f36a8d2e1f07c6b3a95";

pub const BUSINESS_ENTITY_ID: &str = "28559ec1-32d3-4ecf-9efa-f20f60211a71";
pub const BUSINESS_ENTITY_UUID: Uuid = Uuid::from_u128(0x28559ec1_32d3_4ecf_9efa_f20f60211a71);
/// The entity's currency, used for guest checkouts of family B.
pub const BUSINESS_ENTITY_CURRENCY: &str = "USD";

pub const CUSTOMER_NORTHWIND_ID: &str = "2e2b4910-61c8-407d-b343-d74c3e4271ac";
pub const CUSTOMER_KAITO_ID: &str = "5d58e137-0e0d-4807-939b-0c4d351daac6";
pub const CUSTOMER_GULF_ID: &str = "a716fabe-18a0-46fb-91cd-d9189735a1db";
pub const CUSTOMER_BRAMBLE_ID: &str = "f256cd8b-cf64-4e2f-acbc-ee28a29fdd52";

pub const PLAN_STARTER_ID: &str = "7592c477-cd81-4288-8d30-c542f11f635b";
pub const PLAN_TEAM_ID: &str = "b816fef6-b709-4fa5-bf4b-964cf53c4d45";

pub const PRODUCT_PLATFORM_ID: &str = "e1b90a81-7f36-4691-9ca8-594ae419858c";
pub const PRODUCT_SEATS_ID: &str = "25cb0a1d-7e11-44a7-896c-5a11a833abf8";

/// Northwind's contract on the Team plan (USD), for family B amendments.
pub const CONTRACT_NORTHWIND_TEAM_ID: &str = "a0021e7b-4b0d-425e-81d2-bd4562d6494a";

#[derive(Debug, Clone, Copy)]
pub struct Customer {
    pub id: Uuid,
    pub name: &'static str,
    pub email: &'static str,
    /// Family B has no currency input: a checkout bills in the customer's.
    pub currency: &'static str,
    /// `charge_when_due` needs a saved payment method.
    pub has_payment_method: bool,
}

pub const CUSTOMERS: [Customer; 4] = [
    Customer {
        id: Uuid::from_u128(0x2e2b4910_61c8_407d_b343_d74c3e4271ac),
        name: "Northwind Traders",
        email: "ap@northwind.example",
        currency: "USD",
        has_payment_method: true,
    },
    Customer {
        id: Uuid::from_u128(0x5d58e137_0e0d_4807_939b_0c4d351daac6),
        name: "Kaito Robotics K.K.",
        email: "keiri@kaito.example",
        currency: "JPY",
        has_payment_method: false,
    },
    Customer {
        id: Uuid::from_u128(0xa716fabe_18a0_46fb_91cd_d9189735a1db),
        name: "Gulf Ledger Co.",
        email: "finance@gulfledger.example",
        currency: "KWD",
        has_payment_method: true,
    },
    Customer {
        id: Uuid::from_u128(0xf256cd8b_cf64_4e2f_acbc_ee28a29fdd52),
        name: "Bramble GmbH",
        email: "rechnung@bramble.example",
        currency: "EUR",
        has_payment_method: false,
    },
];

/// A price: the decimal `mantissa × 10^-scale` in `currency` (major units).
#[derive(Debug, Clone, Copy)]
pub struct Price {
    pub currency: &'static str,
    pub mantissa: i64,
    pub scale: u32,
}

const fn price(currency: &'static str, mantissa: i64, scale: u32) -> Price {
    Price {
        currency,
        mantissa,
        scale,
    }
}

#[derive(Debug, Clone, Copy)]
pub struct PlanLine {
    pub product: Uuid,
    pub product_name: &'static str,
    pub quantity: u32,
    pub prices: &'static [Price],
}

#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub id: Uuid,
    pub name: &'static str,
    pub lines: &'static [PlanLine],
}

const PLATFORM: Uuid = Uuid::from_u128(0xe1b90a81_7f36_4691_9ca8_594ae419858c);
const SEATS: Uuid = Uuid::from_u128(0x25cb0a1d_7e11_44a7_896c_5a11a833abf8);

pub const PLANS: [Plan; 2] = [
    Plan {
        id: Uuid::from_u128(0x7592c477_cd81_4288_8d30_c542f11f635b),
        name: "Starter Monthly",
        lines: &[PlanLine {
            product: PLATFORM,
            product_name: "Platform access",
            quantity: 1,
            prices: &[
                price("USD", 2999, 2),
                price("EUR", 2750, 2),
                price("JPY", 4500, 0),
                price("KWD", 9250, 3),
            ],
        }],
    },
    Plan {
        id: Uuid::from_u128(0xb816fef6_b709_4fa5_bf4b_964cf53c4d45),
        name: "Team Monthly",
        lines: &[
            PlanLine {
                product: PLATFORM,
                product_name: "Platform access",
                quantity: 1,
                prices: &[
                    price("USD", 4900, 2),
                    price("EUR", 4500, 2),
                    price("JPY", 7500, 0),
                    price("KWD", 15125, 3),
                ],
            },
            PlanLine {
                product: SEATS,
                product_name: "Additional seats",
                quantity: 5,
                prices: &[
                    price("USD", 1000, 2),
                    price("EUR", 925, 2),
                    price("JPY", 1500, 0),
                    price("KWD", 1234, 3),
                ],
            },
        ],
    },
];

#[derive(Debug, Clone, Copy)]
pub struct Contract {
    pub id: Uuid,
    pub customer: Uuid,
    pub plan: Uuid,
    pub currency: &'static str,
}

pub const CONTRACTS: [Contract; 1] = [Contract {
    id: Uuid::from_u128(0xa0021e7b_4b0d_425e_81d2_bd4562d6494a),
    customer: Uuid::from_u128(0x2e2b4910_61c8_407d_b343_d74c3e4271ac),
    plan: Uuid::from_u128(0xb816fef6_b709_4fa5_bf4b_964cf53c4d45),
    currency: "USD",
}];

/// The demo's walks, one per API family: Northwind takes the starter plan
/// through `/checkout` (confirmed, not yet paid) and through `/checkouts`
/// (paid).
pub(crate) fn walks() -> Vec<Walk> {
    vec![
        Walk {
            title: "Zenskar (/checkout)",
            account: "default",
            create: json!({"customer": CUSTOMER_NORTHWIND_ID, "plan": PLAN_STARTER_ID,
                "success_url": "https://shop.example/ok",
                "provider_options": {"currency": "USD", "start_date": "2026-12-01"}}),
            control: json!({"action": "confirm", "confirmation": "charge_immediately"}),
            control_says: "the checkout is confirmed (complete, not yet paid)",
        },
        Walk {
            title: "Zenskar (/checkouts)",
            account: "checkouts",
            create: json!({"customer": CUSTOMER_NORTHWIND_ID, "plan": PLAN_STARTER_ID}),
            control: json!({"action": "pay"}),
            control_says: "the payment succeeds",
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Uuid {
        Uuid::parse_str(s).expect("seed ids are UUIDs")
    }

    #[test]
    fn text_and_uuid_forms_agree() {
        assert_eq!(parse(ORGANISATION_ID), ORGANISATION_UUID);
        assert_eq!(parse(BUSINESS_ENTITY_ID), BUSINESS_ENTITY_UUID);
        let customers = [
            CUSTOMER_NORTHWIND_ID,
            CUSTOMER_KAITO_ID,
            CUSTOMER_GULF_ID,
            CUSTOMER_BRAMBLE_ID,
        ];
        for (text, c) in customers.iter().zip(CUSTOMERS.iter()) {
            assert_eq!(parse(text), c.id);
        }
        assert_eq!(parse(PLAN_STARTER_ID), PLANS[0].id);
        assert_eq!(parse(PLAN_TEAM_ID), PLANS[1].id);
        assert_eq!(parse(PRODUCT_PLATFORM_ID), PLATFORM);
        assert_eq!(parse(PRODUCT_SEATS_ID), SEATS);
        assert_eq!(parse(CONTRACT_NORTHWIND_TEAM_ID), CONTRACTS[0].id);
        assert_eq!(CONTRACTS[0].customer, CUSTOMERS[0].id);
        assert_eq!(CONTRACTS[0].plan, PLANS[1].id);
    }

    #[test]
    fn every_plan_line_is_priced_in_every_customer_currency() {
        for plan in PLANS {
            for line in plan.lines {
                for c in CUSTOMERS {
                    assert!(line.prices.iter().any(|p| p.currency == c.currency));
                }
            }
        }
    }
}
