//! Demo data every sandbox starts with, so a demo or a test needs no setup.
//! Each vendor's full seed is in its submodule; the flat names below are
//! the one customer and plan a demo picks by default.

pub mod flowglad;
pub mod frontier;
pub mod meteroid;
pub mod zenskar;

/// Meteroid: the demo customer's alias (create accepts id or alias).
pub const METEROID_CUSTOMER_ALIAS: &str = meteroid::CUSTOMER_ACME_ALIAS;
/// Meteroid: the same customer's id.
pub const METEROID_CUSTOMER_ID: &str = meteroid::CUSTOMER_ACME_ID;
/// Meteroid: the demo plan version's id.
pub const METEROID_PLAN_VERSION_ID: &str = meteroid::PLAN_VERSION_STARTER_ID;

/// Flowglad: the seeded secret key (`Authorization: Bearer <key>`).
pub const FLOWGLAD_API_KEY: &str = flowglad::API_KEY;
/// Flowglad: the demo customer's external id (create's `customerExternalId`).
pub const FLOWGLAD_CUSTOMER_EXTERNAL_ID: &str = flowglad::CUSTOMER_ACME_EXTERNAL_ID;
/// Flowglad: the demo price's id (a monthly subscription price).
pub const FLOWGLAD_PRICE_ID: &str = flowglad::PRICE_PRO_MONTHLY_ID;
/// Flowglad: the same price's slug.
pub const FLOWGLAD_PRICE_SLUG: &str = flowglad::PRICE_PRO_MONTHLY_SLUG;

/// Frontier: the seeded service user's client id (Basic auth).
pub const FRONTIER_CLIENT_ID: &str = frontier::CLIENT_ID;
/// Frontier: that service user's client secret.
pub const FRONTIER_CLIENT_SECRET: &str = frontier::CLIENT_SECRET;
/// Frontier: a seeded personal access token (bearer auth; Acme only).
pub const FRONTIER_BEARER_TOKEN: &str = frontier::BEARER_TOKEN;
/// Frontier: the demo organization (create's `customer`).
pub const FRONTIER_ORG_ID: &str = "e9760ba0-2587-4630-a97e-3f0d634d5d9f";
/// Frontier: the demo plan's id (its name `starter_monthly` works too).
pub const FRONTIER_PLAN_ID: &str = "74d6592b-c0ce-4a49-b30e-418eddb39ec7";
/// Frontier: a product (`provider_options.product_body.product`).
pub const FRONTIER_PRODUCT_ID: &str = "6fcb3b97-4c53-4b5b-8954-8995fc69fe08";

/// Zenskar: the seeded `x-api-key`.
pub const ZENSKAR_API_KEY: &str = zenskar::API_KEY;
/// Zenskar: the organisation UUID (the `organisation` header).
pub const ZENSKAR_ORGANISATION: &str = zenskar::ORGANISATION_ID;
/// Zenskar: the demo customer (create's `customer`; bills in USD).
pub const ZENSKAR_CUSTOMER_ID: &str = zenskar::CUSTOMER_NORTHWIND_ID;
/// Zenskar: the demo plan (create's `plan`; Starter Monthly, 29.99 USD).
pub const ZENSKAR_PLAN_ID: &str = zenskar::PLAN_STARTER_ID;
