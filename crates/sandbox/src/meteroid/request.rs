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
    /// Absolute http(s); see [`CreateCheckoutSessionRequest::redirect_url_error`].
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
}

impl CreateCheckoutSessionRequest {
    /// SDK `meteroid` 0.30.1 documents both redirect URLs as absolute
    /// http(s) URLs; the first that is not one, as the `Invalid input`
    /// detail (the server's own wording is not known).
    pub fn redirect_url_error(&self) -> Option<String> {
        [
            ("success_url", &self.success_url),
            ("cancel_url", &self.cancel_url),
        ]
        .into_iter()
        .find_map(|(field, url)| {
            let url = url.as_deref()?;
            (!is_absolute_http_url(url)).then(|| format!("{field} must be an absolute http(s) URL"))
        })
    }
}

/// `http(s)://host[:port][/…]`, any case in the scheme, nothing blank or
/// control in it.
fn is_absolute_http_url(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    // An IPv6 literal is bracketed, so its colons are not the port's.
    let port_at = match host_port.rfind(']') {
        Some(end) if host_port.starts_with('[') => host_port[end..].find(':').map(|i| end + i),
        Some(_) => return false,
        None => host_port.rfind(':'),
    };
    let (host, port) = match port_at {
        Some(i) => (&host_port[..i], Some(&host_port[i + 1..])),
        None => (host_port, None),
    };
    let host_ok = match host.strip_prefix('[') {
        Some(v6) => v6.len() > 1 && v6.ends_with(']'),
        None => !host.is_empty(),
    };
    matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https")
        && host_ok
        && port.is_none_or(|p| p.parse::<u16>().is_ok())
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_urls_are_absolute_http_or_https() {
        for good in [
            "https://shop.example/ok?order=1",
            "HTTP://localhost:3000/ok",
            "https://user@shop.example",
            "https://[2001:db8::1]:8443/ok",
            "https://[::1]",
        ] {
            assert!(is_absolute_http_url(good), "{good}");
        }
        for bad in [
            "",
            "/ok",
            "shop.example/ok",
            "ftp://shop.example/",
            "javascript://alert(1)",
            "https://",
            "https:///ok",
            "https://:443/ok",
            "https://shop.example:99999/",
            "https://shop.example:x/",
            "https://shop example/",
            "https://shop.example/\n",
            "https://[::1/",
            "https://[]/",
            "https://x]/",
        ] {
            assert!(!is_absolute_http_url(bad), "{bad:?}");
        }
        let request: CreateCheckoutSessionRequest = serde_json::from_value(serde_json::json!({
            "customer_id": "acme", "plan_version_id": "plv_1",
            "success_url": "https://shop.example/ok", "cancel_url": "/cart"
        }))
        .expect("parses");
        assert_eq!(
            request.redirect_url_error().as_deref(),
            Some("cancel_url must be an absolute http(s) URL")
        );
    }
}
