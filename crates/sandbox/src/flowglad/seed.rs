//! The seeded Flowglad organization: one test-mode secret key, one pricing
//! model, two customers, four prices (two sellable, one usage price and one
//! of a default product, which checkout refuses) and two subscriptions.
//!
//! Ids are in the vendor's format: `<prefix>_` + a 21-character nanoid.

use serde_json::json;

use crate::kit::tour::Walk;

/// The organization every seeded record belongs to.
pub const ORGANIZATION_ID: &str = "org_wRFHUG1xeJ6PA7IynXsUD";

/// The (default) pricing model the key is scoped to.
pub const PRICING_MODEL_ID: &str = "pricing_model_PS3clMat0mc1bOYbtboJW";

/// A test-mode secret key in the vendor's format:
/// `sk_test_<first 4 characters of the pricing model id>_<Unkey random part>`.
pub const API_KEY: &str = "sk_test_PS3c_2ckF7rJo5wtSAZKNoejQVg";

pub const CUSTOMER_ACME_EXTERNAL_ID: &str = "acme";
pub const CUSTOMER_ACME_ID: &str = "cust_ROc4auIhBqQglx2sYoBuj";
pub const CUSTOMER_ACME_NAME: &str = "Acme Corp";
pub const CUSTOMER_ACME_EMAIL: &str = "billing@acme.example";

pub const CUSTOMER_GLOBEX_EXTERNAL_ID: &str = "globex";
pub const CUSTOMER_GLOBEX_ID: &str = "cust_uicH6h7ubv9QabqfHtL9N";
pub const CUSTOMER_GLOBEX_NAME: &str = "Globex";
pub const CUSTOMER_GLOBEX_EMAIL: &str = "ap@globex.example";

/// A monthly subscription price (slug `pro_monthly`).
pub const PRICE_PRO_MONTHLY_ID: &str = "price_EY4sthb9KB99ZWUimUu2x";
pub const PRICE_PRO_MONTHLY_SLUG: &str = "pro_monthly";

/// A single-payment price (slug `lifetime`).
pub const PRICE_LIFETIME_ID: &str = "price_hCKezc2rYCZVknJ2JYbgU";
pub const PRICE_LIFETIME_SLUG: &str = "lifetime";

/// A usage price: checkout refuses it.
pub const PRICE_API_CALLS_ID: &str = "price_hh4eTNMVmFKsazPCwz5sz";
pub const PRICE_API_CALLS_SLUG: &str = "api_calls";

/// The price of the pricing model's default (free) product: checkout refuses it.
pub const PRICE_FREE_ID: &str = "price_PA8qdnM33WUB9X2sGf3u4";
pub const PRICE_FREE_SLUG: &str = "free";

/// Acme's subscription to the pro price (for `activate_subscription`).
pub const SUBSCRIPTION_ACME_ID: &str = "sub_z7ZzUKZVFZtWW9kcaBHzw";
/// Globex's subscription to the pro price.
pub const SUBSCRIPTION_GLOBEX_ID: &str = "sub_ESYwNYChT7BhZzrxsqQyp";

/// What kind of price a seeded price is, as the vendor's `PriceType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceKind {
    Subscription,
    SinglePayment,
    Usage,
}

/// `(id, slug, kind, belongs to the default product)`.
pub const PRICES: [(&str, &str, PriceKind, bool); 4] = [
    (
        PRICE_PRO_MONTHLY_ID,
        PRICE_PRO_MONTHLY_SLUG,
        PriceKind::Subscription,
        false,
    ),
    (
        PRICE_LIFETIME_ID,
        PRICE_LIFETIME_SLUG,
        PriceKind::SinglePayment,
        false,
    ),
    (
        PRICE_API_CALLS_ID,
        PRICE_API_CALLS_SLUG,
        PriceKind::Usage,
        false,
    ),
    (
        PRICE_FREE_ID,
        PRICE_FREE_SLUG,
        PriceKind::Subscription,
        true,
    ),
];

/// `(id, external id, name, email)`.
pub const CUSTOMERS: [(&str, &str, &str, &str); 2] = [
    (
        CUSTOMER_ACME_ID,
        CUSTOMER_ACME_EXTERNAL_ID,
        CUSTOMER_ACME_NAME,
        CUSTOMER_ACME_EMAIL,
    ),
    (
        CUSTOMER_GLOBEX_ID,
        CUSTOMER_GLOBEX_EXTERNAL_ID,
        CUSTOMER_GLOBEX_NAME,
        CUSTOMER_GLOBEX_EMAIL,
    ),
];

/// `(id, customer id, price id)`.
pub const SUBSCRIPTIONS: [(&str, &str, &str); 2] = [
    (SUBSCRIPTION_ACME_ID, CUSTOMER_ACME_ID, PRICE_PRO_MONTHLY_ID),
    (
        SUBSCRIPTION_GLOBEX_ID,
        CUSTOMER_GLOBEX_ID,
        PRICE_PRO_MONTHLY_ID,
    ),
];

/// The demo's walk: Acme buys the monthly pro price, and the payment
/// succeeds.
pub(crate) fn walks() -> Vec<Walk> {
    vec![Walk {
        title: "Flowglad",
        account: "default",
        create: json!({"customer": CUSTOMER_ACME_EXTERNAL_ID, "plan": PRICE_PRO_MONTHLY_ID,
            "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no",
            "metadata": {"order": "1234"}}),
        control: json!({"status": "succeeded"}),
        control_says: "the payment succeeds",
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nanoid_after(id: &str, prefix: &str) -> bool {
        id.strip_prefix(prefix)
            .is_some_and(|rest| rest.len() == 21 && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
    }

    #[test]
    fn ids_have_the_vendor_shape() {
        assert!(nanoid_after(ORGANIZATION_ID, "org_"));
        assert!(nanoid_after(PRICING_MODEL_ID, "pricing_model_"));
        for (id, _, _, _) in CUSTOMERS {
            assert!(nanoid_after(id, "cust_"), "{id}");
        }
        for (id, _, _, _) in PRICES {
            assert!(nanoid_after(id, "price_"), "{id}");
        }
        for (id, customer, price) in SUBSCRIPTIONS {
            assert!(nanoid_after(id, "sub_"), "{id}");
            assert!(CUSTOMERS.iter().any(|c| c.0 == customer));
            assert!(PRICES.iter().any(|p| p.0 == price));
        }
    }

    #[test]
    fn the_key_names_its_pricing_model() {
        let pm4 = &PRICING_MODEL_ID["pricing_model_".len()..][..4];
        let rest = API_KEY
            .strip_prefix(&format!("sk_test_{pm4}_"))
            .unwrap_or_default();
        assert_eq!(rest.len(), 22, "Unkey's random part");
        assert!(rest.bytes().all(|b| b.is_ascii_alphanumeric()));
    }
}
