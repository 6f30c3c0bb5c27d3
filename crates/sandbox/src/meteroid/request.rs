//! Meteroid's `CreateCheckoutSessionRequest`, read as strictly as the vendor
//! reads it: these types decide which bodies get axum's 422, so the field
//! types, tags and required fields follow the vendor's spec. Unknown fields
//! are ignored. Most of it is stored and never returned.

// Fields exist to be parsed (and so rejected) like the vendor's; few are read.
#![allow(dead_code)]

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

use super::ids::Product;
use super::ids::{self, AddOn, BillableMetric, Coupon, Id, PlanVersion, Price, PriceComponent};
use super::model::PaymentMethodsConfig;

#[derive(Debug, Clone, Deserialize)]
pub struct CreateCheckoutSessionRequest {
    /// An id (`cus_…`) or an alias.
    pub customer_id: String,
    pub plan_version_id: Id<PlanVersion>,
    pub coupon_code: Option<String>,
    pub billing_start_date: Option<NaiveDate>,
    pub billing_day_anchor: Option<i32>,
    pub net_terms: Option<i32>,
    pub trial_duration_days: Option<i32>,
    pub expires_in_hours: Option<u32>,
    pub end_date: Option<NaiveDate>,
    pub auto_advance_invoices: Option<bool>,
    pub charge_automatically: Option<bool>,
    pub invoice_memo: Option<String>,
    pub invoice_threshold: Option<Decimal>,
    pub purchase_order: Option<String>,
    pub components: Option<Components>,
    pub add_ons: Option<Vec<CreateAddOn>>,
    #[serde(default, deserialize_with = "ids::vec_of_strings::deserialize")]
    pub coupon_ids: Vec<Id<Coupon>>,
    pub metadata: Option<Value>,
    pub payment_methods_config: Option<PaymentMethodsConfig>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BillingPeriod {
    Monthly,
    Quarterly,
    Semiannual,
    Annual,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Components {
    pub parameterized_components: Option<Vec<ComponentParameterization>>,
    pub overridden_components: Option<Vec<ComponentOverride>>,
    pub extra_components: Option<Vec<ExtraComponent>>,
    #[serde(default)]
    pub remove_components: Option<Vec<Id<PriceComponent>>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ComponentParameterization {
    pub component_id: Id<PriceComponent>,
    pub parameters: ComponentParameters,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ComponentParameters {
    pub initial_slot_count: Option<u32>,
    pub billing_period: Option<BillingPeriod>,
    pub committed_capacity: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ComponentOverride {
    pub component_id: Id<PriceComponent>,
    pub name: String,
    pub price_entry: PriceEntry,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ExtraComponent {
    pub name: String,
    pub product_ref: ProductRef,
    pub price_entry: PriceEntry,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PriceEntry {
    Existing { id: Id<Price> },
    New(PriceInput),
}

#[derive(Debug, Clone, Deserialize)]
pub struct PriceInput {
    pub cadence: BillingPeriod,
    pub currency: String,
    pub pricing: Pricing,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Pricing {
    Rate {
        rate: Decimal,
    },
    Slot {
        unit_rate: Decimal,
        min_slots: Option<u32>,
        max_slots: Option<u32>,
    },
    Capacity {
        rate: Decimal,
        included: u64,
        overage_rate: Decimal,
    },
    Usage {
        model: UsagePricingModel,
    },
    ExtraRecurring {
        unit_price: Decimal,
        quantity: u32,
    },
    OneTime {
        unit_price: Decimal,
        quantity: u32,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UsagePricingModel {
    PerUnit {
        rate: Decimal,
    },
    Tiered {
        tiers: Vec<TierRow>,
        block_size: Option<u64>,
    },
    Volume {
        tiers: Vec<TierRow>,
        block_size: Option<u64>,
    },
    Package {
        block_size: u64,
        rate: Decimal,
    },
    Matrix {
        rates: Vec<MatrixRow>,
    },
}

#[derive(Debug, Clone, Deserialize)]
pub struct TierRow {
    pub first_unit: u64,
    pub rate: Decimal,
    pub flat_fee: Option<Decimal>,
    pub flat_cap: Option<Decimal>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MatrixRow {
    pub dimension1: MatrixDimension,
    pub dimension2: Option<MatrixDimension>,
    pub per_unit_price: Decimal,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MatrixDimension {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProductRef {
    Existing {
        id: Id<Product>,
    },
    New {
        name: String,
        fee_type: FeeType,
        fee_structure: FeeStructure,
    },
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FeeType {
    Rate,
    Slot,
    Capacity,
    Usage,
    ExtraRecurring,
    OneTime,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FeeStructure {
    Rate {},
    Slot {
        slot_unit_name: String,
        upgrade_policy: UpgradePolicy,
        downgrade_policy: DowngradePolicy,
    },
    Capacity {
        metric_id: Id<BillableMetric>,
    },
    Usage {
        metric_id: Id<BillableMetric>,
        model: UsageModel,
    },
    ExtraRecurring {
        billing_type: BillingType,
    },
    OneTime {},
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UpgradePolicy {
    Prorated,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DowngradePolicy {
    RemoveAtEndOfPeriod,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UsageModel {
    PerUnit,
    Tiered,
    Volume,
    Package,
    Matrix,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BillingType {
    Advance,
    Arrears,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CreateAddOn {
    pub add_on_id: Id<AddOn>,
    pub customization: Option<AddOnCustomization>,
    #[serde(default = "one")]
    pub quantity: u32,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AddOnCustomization {
    PriceOverride {
        name: Option<String>,
        price_entry: PriceEntry,
    },
    Parameterization {
        initial_slot_count: Option<u32>,
        billing_period: Option<BillingPeriod>,
        committed_capacity: Option<u64>,
    },
}
