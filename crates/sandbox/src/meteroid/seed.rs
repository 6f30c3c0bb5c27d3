//! The seeded Meteroid tenant: one API key, two customers, two plan versions.
//!
//! Ids are in the vendor's real format (see `crate::meteroid::ids`); the
//! UUID beside each is what the id decodes to (UUIDv7, like the vendor's).

use serde_json::json;
use uuid::Uuid;

use crate::kit::tour::Walk;

/// The tenant the seeded key belongs to (appears in checkout-url tokens).
pub const TENANT_ID: Uuid = Uuid::from_u128(0x019b7a02_7de8_74b7_97a1_0a4e832861a2);

/// A sandbox API key in the vendor's format:
/// `pv_<env>_<28 base62 secret>/<base62 of the token's UUID>`.
pub const API_KEY: &str = "pv_sand_sfLPedfA3PcVxe91EP48suEoMZD8/325iPXhYKOOez0bJwnd0H";

/// Signs the checkout-url tokens (HS256), like the server's `jwt_secret`.
pub const JWT_SECRET: &str = "sandbox-meteroid-portal-jwt-secret";

pub const CUSTOMER_ACME_ID: &str = "cus_5g8x6qqZUyjuNWTs8msARg";
pub const CUSTOMER_ACME_UUID: Uuid = Uuid::from_u128(0x019b7db5_3ccc_7305_9753_cc35c0e79905);
pub const CUSTOMER_ACME_ALIAS: &str = "acme";

pub const CUSTOMER_GLOBEX_ID: &str = "cus_BnJm5gVNSO5xqdGDAfeEW";
pub const CUSTOMER_GLOBEX_UUID: Uuid = Uuid::from_u128(0x019b84b2_3696_736b_80c8_082fd57a70af);
pub const CUSTOMER_GLOBEX_ALIAS: &str = "globex";

pub const PLAN_VERSION_STARTER_ID: &str = "plv_54AOvkF89j9ys99Pfl2DxN";
pub const PLAN_VERSION_STARTER_UUID: Uuid = Uuid::from_u128(0x019b884b_3af1_7102_b4cf_c68f3c9d0c64);

pub const PLAN_VERSION_PRO_ID: &str = "plv_1XBG3KSpeVSfEQiMN1TtL2";
pub const PLAN_VERSION_PRO_UUID: Uuid = Uuid::from_u128(0x019b8f86_2230_7ef7_864e_2019c305088b);

/// `(customer UUID, alias)` pairs.
pub const CUSTOMERS: [(Uuid, &str); 2] = [
    (CUSTOMER_ACME_UUID, CUSTOMER_ACME_ALIAS),
    (CUSTOMER_GLOBEX_UUID, CUSTOMER_GLOBEX_ALIAS),
];

pub const PLAN_VERSIONS: [Uuid; 2] = [PLAN_VERSION_STARTER_UUID, PLAN_VERSION_PRO_UUID];

/// The demo's walk: Acme subscribes to the starter plan, then pays.
pub(crate) fn walks() -> Vec<Walk> {
    vec![Walk {
        title: "Meteroid",
        account: "default",
        create: json!({"customer": CUSTOMER_ACME_ALIAS, "plan": PLAN_VERSION_STARTER_ID}),
        control: json!({"status": "COMPLETED"}),
        control_says: "the customer pays",
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meteroid::ids::encode;

    #[test]
    fn ids_encode_their_uuids() {
        assert_eq!(encode("cus_", CUSTOMER_ACME_UUID), CUSTOMER_ACME_ID);
        assert_eq!(encode("cus_", CUSTOMER_GLOBEX_UUID), CUSTOMER_GLOBEX_ID);
        assert_eq!(
            encode("plv_", PLAN_VERSION_STARTER_UUID),
            PLAN_VERSION_STARTER_ID
        );
        assert_eq!(encode("plv_", PLAN_VERSION_PRO_UUID), PLAN_VERSION_PRO_ID);
    }

    #[test]
    fn api_key_has_the_vendor_shape() {
        let (secret, token) = API_KEY.rsplit_once('/').unwrap_or_default();
        let secret = secret.strip_prefix("pv_sand_").unwrap_or_default();
        assert_eq!(secret.len(), 28);
        assert!(secret.chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(base62::decode(token).is_ok());
    }
}
