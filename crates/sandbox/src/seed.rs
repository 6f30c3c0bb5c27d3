//! Demo data every sandbox starts with, so a demo or a test needs no setup.
//! Each vendor's full seed is in its submodule; the flat names below are
//! the one customer and plan a demo picks by default.

pub mod meteroid;

/// Meteroid: the demo customer's alias (create accepts id or alias).
pub const METEROID_CUSTOMER_ALIAS: &str = meteroid::CUSTOMER_ACME_ALIAS;
/// Meteroid: the same customer's id.
pub const METEROID_CUSTOMER_ID: &str = meteroid::CUSTOMER_ACME_ID;
/// Meteroid: the demo plan version's id.
pub const METEROID_PLAN_VERSION_ID: &str = meteroid::PLAN_VERSION_STARTER_ID;
