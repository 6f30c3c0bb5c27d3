//! Meteroid's checkout-session response shapes (`CheckoutSession`, its
//! enums, `PaymentMethodsConfig`). Field order and null handling follow the
//! vendor: every optional field is present, `null` when unset. The redirect
//! URLs follow SDK `meteroid` 0.30.1 (the server source we have predates them).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ids::{self, BankAccount, CheckoutSession as CheckoutSessionKind, Customer, Id};
use super::ids::{PlanVersion, Subscription};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Created,
    AwaitingPayment,
    Completed,
    Expired,
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "CREATED",
            Status::AwaitingPayment => "AWAITING_PAYMENT",
            Status::Completed => "COMPLETED",
            Status::Expired => "EXPIRED",
            Status::Cancelled => "CANCELLED",
        }
    }

    /// The statuses from which a session can still be paid or cancelled.
    pub fn is_open(self) -> bool {
        matches!(self, Status::Created | Status::AwaitingPayment)
    }
}

/// REST create always makes `SELF_SERVE`; the others come from other flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(dead_code)] // The other types are part of the wire enum.
pub enum CheckoutType {
    SelfServe,
    SubscriptionActivation,
    PlanChange,
    AddonPurchase,
}

/// Tagged on `type`; also read from the create request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PaymentMethodsConfig {
    Online(OnlinePaymentMethodConfig),
    BankTransfer(BankTransferPaymentMethodConfig),
    External(ExternalPaymentMethodConfig),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnlinePaymentMethodConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<OnlineMethodsConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnlineMethodsConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<OnlineMethodConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_debit: Option<OnlineMethodConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnlineMethodConfig {
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankTransferPaymentMethodConfig {
    // The vendor echoes this id back as a bare UUID, not `ba_…`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ids::uuid_form::serialize"
    )]
    pub account_id: Option<Id<BankAccount>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalPaymentMethodConfig {}

/// The session as every endpoint returns it, and as the store keeps it.
#[derive(Debug, Clone, Serialize)]
pub struct CheckoutSession {
    pub id: Id<CheckoutSessionKind>,
    pub customer_id: Id<Customer>,
    pub plan_version_id: Id<PlanVersion>,
    pub coupon_code: Option<String>,
    pub billing_start_date: Option<NaiveDate>,
    pub billing_day_anchor: Option<i32>,
    pub net_terms: Option<i32>,
    pub trial_duration_days: Option<i32>,
    pub status: Status,
    pub checkout_type: CheckoutType,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub subscription_id: Option<Id<Subscription>>,
    pub checkout_url: Option<String>,
    pub payment_methods_config: Option<PaymentMethodsConfig>,
    /// As given on create: the `checkout_session_id` Meteroid appends to the
    /// success URL belongs to the redirect, not to the object. Where a current
    /// server puts these two keys is unknown; they come last here.
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    /// Stored, never returned by the API (the control route shows it).
    #[serde(skip)]
    pub metadata: Option<Value>,
}

/// `{"session": …}` for create, get and cancel.
#[derive(Debug, Serialize)]
pub struct SessionResponse {
    pub session: CheckoutSession,
}

/// `{"sessions": […]}` for list.
#[derive(Debug, Serialize)]
pub struct SessionsResponse {
    pub sessions: Vec<CheckoutSession>,
}
