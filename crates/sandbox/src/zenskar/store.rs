//! The emulated organisation's data and both families' lifecycles.
//!
//! Family A (`/checkout`): `open` → confirm → `completed` with a payment
//! status that depends on the confirmation mode; `open` → `processing`
//! while a payment is in flight; `open` → `cancelled` (with a reason) or
//! `closed` (expiry). Family B (`/checkouts`): `open` → `pending` →
//! `payment_succeeded` → confirm → `contract_created`; or `expired`.
//!
//! Neither family is on the kit's `Lifecycle` (a from → to table with one
//! refusal message): whether a Zenskar move is allowed depends on the
//! action (a payment outcome, an expiry, a free-form family B status), not
//! only on the target status, and each refusal has its own wording that
//! the control route returns verbatim. The families share their storage
//! instead: one `get` and one `with` over `Family`, and `parties`.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::MutexGuard;

use chrono::{DateTime, Months, TimeDelta, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::model::{self, naive, zulu, Id, Num};
use super::seed;
use crate::kit::fill::{self, Fill};
use crate::kit::ids;
use crate::kit::store::{session_by_id, Locked, Session, Sessions};

/// Unconfirmed sessions of either family expire after this long by default.
const DEFAULT_EXPIRY_HOURS: i64 = 24;

pub const REASON_TYPES: &[&str] = &[
    "customer_requested",
    "payment_failed",
    "expired",
    "duplicate",
    "fraudulent",
    "other",
];
pub const CONFIRMATIONS: &[&str] = &["charge_immediately", "charge_when_due", "no_payment"];
pub const PAYMENT_OUTCOMES: &[&str] = &["pending", "paid", "failed"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusA {
    Open,
    Processing,
    Completed,
    Closed,
    Cancelled,
}

impl StatusA {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusA::Open => "open",
            StatusA::Processing => "processing",
            StatusA::Completed => "completed",
            StatusA::Closed => "closed",
            StatusA::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentA {
    NotStarted,
    Pending,
    Paid,
    Failed,
    NoPaymentRequired,
}

impl PaymentA {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentA::NotStarted => "not_started",
            PaymentA::Pending => "pending",
            PaymentA::Paid => "paid",
            PaymentA::Failed => "failed",
            PaymentA::NoPaymentRequired => "no_payment_required",
        }
    }
}

/// Why the vendor refuses an operation (the API answers 400, the control
/// routes 409), or that there is no such session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NotFound,
    Rule(String),
}

fn rule(message: impl Into<String>) -> Refusal {
    Refusal::Rule(message.into())
}

/// The family A contract of a create request.
#[derive(Debug, Clone)]
pub enum ContractInput {
    Plan {
        plan_id: Uuid,
        currency: String,
        start: DateTime<Utc>,
    },
    Product {
        currency: String,
        start: DateTime<Utc>,
        /// As given: echoed back, and its first phase's pricings are estimated.
        given: Map<String, Value>,
    },
}

impl ContractInput {
    pub fn currency(&self) -> &str {
        match self {
            ContractInput::Plan { currency, .. } | ContractInput::Product { currency, .. } => {
                currency
            }
        }
    }
}

/// A validated family A create request.
#[derive(Debug, Clone)]
pub struct NewSessionA {
    pub contract: ContractInput,
    pub customer_id: Option<Uuid>,
    pub guest_checkout: bool,
    pub customer_data: Option<Map<String, Value>>,
    pub business_entity_id: Option<Uuid>,
    pub expires_at: Option<DateTime<Utc>>,
    pub idempotency_key: Option<String>,
    pub correlation_id: Option<String>,
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    pub pending_url: Option<String>,
    pub attribution: Option<Map<String, Value>>,
    pub custom_data: Option<Map<String, Value>>,
}

#[derive(Debug, Clone)]
pub struct Cancellation {
    pub reason_type: Option<&'static str>,
    pub reason: Option<String>,
    pub reference_id: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct SessionA {
    pub id: Uuid,
    pub status: StatusA,
    pub payment: PaymentA,
    pub contract: Value,
    pub guest_checkout: bool,
    pub contract_id: Option<Uuid>,
    pub execution_id: Option<String>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub external_payment_intent_id: Option<String>,
    pub estimates: model::Estimation,
    pub customer_id: Option<Uuid>,
    pub business_entity_id: Option<Uuid>,
    pub customer_data: Option<Map<String, Value>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_activity_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub idempotency_key: Option<String>,
    pub correlation_id: Option<String>,
    pub currency: String,
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    pub pending_url: Option<String>,
    pub attribution: Option<Map<String, Value>>,
    pub custom_data: Option<Map<String, Value>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub cancellation: Option<Cancellation>,
}

session_by_id!(SessionA, Uuid);

impl SessionA {
    fn touch(&mut self, now: DateTime<Utc>) {
        self.updated_at = now;
        self.last_activity_at = now;
    }

    fn details(&self) -> Option<model::CancellationDetails> {
        self.cancellation
            .as_ref()
            .map(|c| model::CancellationDetails {
                reason_type: c.reason_type,
                reason: c.reason.clone(),
                reference_id: c.reference_id.clone(),
                cancelled_at: naive(&c.at),
            })
    }

    pub fn render(&self) -> model::CheckoutSession {
        let t = |v: &Option<DateTime<Utc>>| v.as_ref().map(naive);
        model::CheckoutSession {
            id: Id(self.id),
            checkout_session_status: self.status.as_str(),
            payment_status: self.payment.as_str(),
            contract: self.contract.clone(),
            guest_checkout: self.guest_checkout,
            contract_id: self.contract_id.map(Id),
            execution_id: self.execution_id.clone(),
            confirmed_at: t(&self.confirmed_at),
            paid_at: t(&self.paid_at),
            external_payment_intent_id: self.external_payment_intent_id.clone(),
            estimates: self.estimates.clone(),
            customer_id: self.customer_id.map(Id),
            business_entity_id: self.business_entity_id.map(Id),
            customer_data: self.customer_data.clone(),
            expires_at: t(&self.expires_at),
            last_activity_at: naive(&self.last_activity_at),
            completed_at: t(&self.completed_at),
            idempotency_key: self.idempotency_key.clone(),
            correlation_id: self.correlation_id.clone(),
            currency: self.currency.clone(),
            success_url: self.success_url.clone(),
            cancel_url: self.cancel_url.clone(),
            pending_url: self.pending_url.clone(),
            attribution: self.attribution.clone(),
            custom_data: self.custom_data.clone(),
            created_at: naive(&self.created_at),
            updated_at: naive(&self.updated_at),
            cancelled_at: self.cancellation.as_ref().map(|c| naive(&c.at)),
            cancellation_details: self.details(),
        }
    }

    pub fn summary(&self) -> model::CheckoutSessionSummary {
        model::CheckoutSessionSummary {
            id: Id(self.id),
            checkout_session_status: self.status.as_str(),
            payment_status: self.payment.as_str(),
            created_at: naive(&self.created_at),
            last_activity_at: naive(&self.last_activity_at),
            confirmed_at: self.confirmed_at.as_ref().map(naive),
            paid_at: self.paid_at.as_ref().map(naive),
            customer_id: self.customer_id.map(Id),
            guest_checkout: self.guest_checkout,
            currency: self.currency.clone(),
        }
    }

    pub fn cancel_response(&self) -> Option<model::CancelResponse> {
        let details = self.details()?;
        Some(model::CancelResponse {
            checkout_session_status: self.status.as_str(),
            payment_status: self.payment.as_str(),
            cancelled_at: details.cancelled_at.clone(),
            cancellation_details: details,
            estimates: self.estimates.clone(),
        })
    }
}

/// Family B product override, as stored.
#[derive(Debug, Clone)]
pub struct Override {
    pub product_id: Uuid,
    pub quantity: Option<u64>,
    pub is_enabled: Option<bool>,
}

/// A validated family B create request.
#[derive(Debug, Clone)]
pub struct NewCheckout {
    pub plan_id: Option<Uuid>,
    pub contract_id: Option<Uuid>,
    pub start_date: Option<DateTime<Utc>>,
    pub end_date: Option<DateTime<Utc>>,
    pub customer_id: Option<Uuid>,
    pub business_entity_id: Option<Uuid>,
    pub guest_checkout: bool,
    pub customer_data: Option<Map<String, Value>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    pub product_overrides: Option<Vec<Override>>,
}

#[derive(Debug, Clone)]
pub struct SessionB {
    pub id: Uuid,
    pub status: String,
    pub request: NewCheckout,
    pub start_date: DateTime<Utc>,
    /// Set at creation for amendments, on confirm for new contracts.
    pub contract_id: Option<Uuid>,
    pub currency: String,
    pub total: Decimal,
    pub contract_name: String,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

session_by_id!(SessionB, Uuid);

impl SessionB {
    fn expired(&self, now: DateTime<Utc>) -> bool {
        self.status == "expired" || now > self.expires_at
    }

    pub fn render(&self) -> model::Checkout {
        let r = &self.request;
        let estimate = || model::InvoiceEstimate {
            total: Num(self.total),
            currency: self.currency.clone(),
        };
        model::Checkout {
            id: Id(self.id),
            organisation_id: Id(seed::ORGANISATION_UUID),
            checkout_status: self.status.clone(),
            plan_id: r.plan_id.map(Id),
            contract_id: self.contract_id.map(Id),
            start_date: Some(zulu(&self.start_date)),
            end_date: r.end_date.as_ref().map(zulu),
            customer_id: r.customer_id.map(Id),
            business_entity_id: r.business_entity_id.map(Id),
            guest_checkout: r.guest_checkout,
            customer_data: r.customer_data.clone(),
            estimates: model::CheckoutEstimates {
                current_invoice: estimate(),
                next_invoice: Some(estimate()),
            },
            expires_at: zulu(&self.expires_at),
            success_url: r.success_url.clone(),
            cancel_url: r.cancel_url.clone(),
            product_overrides: r.product_overrides.as_ref().map(|o| {
                o.iter()
                    .map(|o| model::ProductOverride {
                        product_id: Id(o.product_id),
                        quantity: o.quantity,
                        is_enabled: o.is_enabled,
                    })
                    .collect()
            }),
            created_at: zulu(&self.created_at),
            updated_at: zulu(&self.updated_at),
            contract: model::ContractPreview {
                name: self.contract_name.clone(),
                phases: Vec::new(),
            },
        }
    }

    pub fn confirmed(&self) -> model::CheckoutConfirmed {
        model::CheckoutConfirmed {
            id: Id(self.id),
            checkout_status: self.status.clone(),
            contract_id: self.contract_id.map(Id),
            message: "Checkout confirmed successfully",
            created_at: zulu(&self.created_at),
            updated_at: zulu(&self.updated_at),
        }
    }
}

/// Family A list filters (`GET /checkout`).
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub ids: Option<Vec<Uuid>>,
    pub status: Option<&'static str>,
    pub payment_status: Option<&'static str>,
    pub customer_id: Option<Uuid>,
    pub contract_id: Option<Uuid>,
    pub guest_checkout: Option<bool>,
    pub currency: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    CreatedAt { descending: bool },
    LastActivityAt { descending: bool },
}

/// A family A state change made outside the API (the control route).
#[derive(Debug, Clone)]
pub enum MoveA {
    /// `open` → `processing` with the payment `pending`.
    Process,
    /// The payment gateway's outcome.
    Payment(&'static str),
    /// The expiry job: → `closed`.
    Expire,
    SetExpiry(Option<DateTime<Utc>>),
}

/// A family B state change made outside the API.
#[derive(Debug, Clone)]
pub enum MoveB {
    /// The customer filled in the checkout: `open` → `pending`.
    Submit,
    /// The payment went through: → `payment_succeeded`.
    Pay,
    Expire,
    /// Any free-form status (family B publishes no enum).
    Status(String),
    SetExpiry(DateTime<Utc>),
}

#[derive(Debug, Default)]
pub struct State {
    a: Sessions<SessionA>,
    b: Sessions<SessionB>,
    idempotency: HashMap<String, Uuid>,
    estimates_made: u32,
}

/// A family's sessions, found by UUID in their own list: lets one `get`
/// and one `with` serve both families.
pub trait Family: Session<Id = Uuid> {
    fn all(state: &mut State) -> &mut Sessions<Self>;
}

impl Family for SessionA {
    fn all(state: &mut State) -> &mut Sessions<SessionA> {
        &mut state.a
    }
}

impl Family for SessionB {
    fn all(state: &mut State) -> &mut Sessions<SessionB> {
        &mut state.b
    }
}

#[derive(Debug, Default)]
pub struct Store {
    state: Locked<State>,
}

/// What both families' creates check first, in this order: the customer,
/// the business entity, then that the expiry lies ahead.
fn parties(
    customer_id: Option<Uuid>,
    business_entity_id: Option<Uuid>,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Option<&'static seed::Customer>, Refusal> {
    let registered = match customer_id {
        Some(id) => Some(customer(id).ok_or_else(|| rule(format!("Customer {id} not found")))?),
        None => None,
    };
    if let Some(id) = business_entity_id {
        if id != seed::BUSINESS_ENTITY_UUID {
            return Err(rule(format!("Business entity {id} not found")));
        }
    }
    if expires_at.is_some_and(|t| t <= now) {
        return Err(rule("expires_at must be in the future"));
    }
    Ok(registered)
}

fn customer(id: Uuid) -> Option<&'static seed::Customer> {
    seed::CUSTOMERS.iter().find(|c| c.id == id)
}

fn plan(id: Uuid) -> Option<&'static seed::Plan> {
    seed::PLANS.iter().find(|p| p.id == id)
}

fn price_of(line: &seed::PlanLine, currency: &str) -> Option<Decimal> {
    line.prices
        .iter()
        .find(|p| p.currency == currency)
        .map(|p| Decimal::new(p.mantissa, p.scale))
}

fn string_at(map: Option<&Map<String, Value>>, keys: &[&str]) -> Option<String> {
    let map = map?;
    keys.iter()
        .find_map(|k| map.get(*k).and_then(Value::as_str))
        .map(str::to_owned)
}

/// One billing month: `start` to a second before the same day next month.
fn period(start: DateTime<Utc>) -> model::Period {
    let end = start
        .checked_add_months(Months::new(1))
        .map(|t| t - TimeDelta::seconds(1))
        .unwrap_or(start);
    model::Period {
        start_date: naive(&start),
        end_date: naive(&end),
    }
}

/// An estimate line: `(product, product name, quantity, unit price)`.
type Line = (Option<Uuid>, String, u64, Decimal);

fn plan_lines(
    plan: &seed::Plan,
    currency: &str,
    overrides: Option<&[Override]>,
) -> Result<Vec<Line>, Refusal> {
    let mut lines = Vec::new();
    for line in plan.lines {
        let o = overrides.and_then(|o| o.iter().find(|o| o.product_id == line.product));
        if o.and_then(|o| o.is_enabled) == Some(false) {
            continue;
        }
        let unit = price_of(line, currency)
            .ok_or_else(|| rule(format!("Plan {} has no pricing in {currency}", plan.id)))?;
        let quantity = o
            .and_then(|o| o.quantity)
            .unwrap_or(u64::from(line.quantity));
        lines.push((
            Some(line.product),
            format!("{} - {}", plan.name, line.product_name),
            quantity,
            unit,
        ));
    }
    Ok(lines)
}

/// The first phase's pricings of a product-based contract.
fn product_lines(given: &Map<String, Value>) -> Vec<Line> {
    let pricings = given
        .get("phases")
        .and_then(Value::as_array)
        .and_then(|p| p.first())
        .and_then(|phase| phase.get("pricings"))
        .and_then(Value::as_array);
    pricings
        .into_iter()
        .flatten()
        .map(|p| {
            let product = p
                .get("product_id")
                .and_then(Value::as_str)
                .and_then(|s| Uuid::parse_str(s).ok());
            let name = product
                .and_then(|id| {
                    seed::PLANS
                        .iter()
                        .flat_map(|p| p.lines.iter())
                        .find(|l| l.product == id)
                        .map(|l| l.product_name.to_owned())
                })
                .unwrap_or_else(|| "Custom product".to_owned());
            let quantity = p.get("quantity").and_then(Value::as_u64).unwrap_or(1);
            // JSON numbers of the request are read the way Python reads them.
            let price = p
                .get("price")
                .and_then(Value::as_number)
                .and_then(|n| Decimal::from_str(&n.to_string()).ok())
                .unwrap_or_default();
            (product, name, quantity, price)
        })
        .collect()
}

impl Store {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }

    fn estimation(
        state: &mut State,
        lines: Vec<Line>,
        currency: &str,
        start: DateTime<Utc>,
        customer: model::InvoiceCustomer,
    ) -> model::Estimation {
        state.estimates_made += 1;
        let mut total = Decimal::ZERO;
        let line_items = lines
            .into_iter()
            .map(|(_, name, quantity, unit)| {
                let amount = unit * Decimal::from(quantity);
                total += amount;
                let description = name.rsplit(" - ").next().unwrap_or(&name).to_owned();
                model::LineItem {
                    id: Id(Uuid::new_v4()),
                    name,
                    quantity,
                    unit_price: Num(unit),
                    amount: Num(amount),
                    currency: currency.to_owned(),
                    description,
                    period: period(start),
                }
            })
            .collect();
        model::Estimation {
            estimation_id: Id(Uuid::new_v4()),
            current_invoice: model::EstimatedInvoice {
                id: Id(Uuid::new_v4()),
                invoice_number: format!("EST-{:04}", 1000 + state.estimates_made),
                status: "estimated",
                customer,
                line_items,
                features: Vec::new(),
                subtotal: Num(total),
                total: Num(total),
            },
            future_invoices: Vec::new(),
            amount_due: Num(total),
            credit_notes: Vec::new(),
        }
    }

    // ------------------------------------------------------------ family A

    /// Create, or, for an `idempotency_key` seen before, the session it made
    /// (`false`: nothing new was created).
    pub fn create_a(
        &self,
        new: NewSessionA,
        now: DateTime<Utc>,
    ) -> Result<(SessionA, bool), Refusal> {
        let mut state = self.lock();
        if let Some(key) = &new.idempotency_key {
            let existing = state.idempotency.get(key).and_then(|id| state.a.get(id));
            if let Some(s) = existing {
                return Ok((s.clone(), false));
            }
        }
        let registered = parties(new.customer_id, new.business_entity_id, new.expires_at, now)?;
        let currency = new.contract.currency().to_owned();
        let (lines, start, contract) = match &new.contract {
            ContractInput::Plan {
                plan_id,
                currency,
                start,
            } => {
                let p = plan(*plan_id).ok_or_else(|| rule(format!("Plan {plan_id} not found")))?;
                let echo = json!({"is_plan_based": true, "plan_id": plan_id.to_string(),
                                  "currency": currency, "start_date": naive(start)});
                (plan_lines(p, currency, None)?, *start, echo)
            }
            ContractInput::Product { start, given, .. } => {
                let mut echo = given.clone();
                echo.insert("start_date".to_owned(), Value::String(naive(start)));
                (product_lines(given), *start, Value::Object(echo))
            }
        };
        let billed = match registered {
            Some(c) => model::InvoiceCustomer {
                customer_id: Some(Id(c.id)),
                customer_name: Some(c.name.to_owned()),
                email: Some(c.email.to_owned()),
            },
            None => model::InvoiceCustomer {
                customer_id: None,
                customer_name: string_at(new.customer_data.as_ref(), &["customer_name", "name"]),
                email: string_at(new.customer_data.as_ref(), &["email"]),
            },
        };
        let estimates = Store::estimation(&mut state, lines, &currency, start, billed);
        let session = SessionA {
            id: Uuid::new_v4(),
            status: StatusA::Open,
            payment: PaymentA::NotStarted,
            contract,
            guest_checkout: new.guest_checkout,
            contract_id: None,
            execution_id: None,
            confirmed_at: None,
            paid_at: None,
            external_payment_intent_id: None,
            estimates,
            customer_id: new.customer_id,
            business_entity_id: new.business_entity_id,
            customer_data: new.customer_data,
            expires_at: Some(
                new.expires_at
                    .unwrap_or(now + TimeDelta::hours(DEFAULT_EXPIRY_HOURS)),
            ),
            last_activity_at: now,
            completed_at: None,
            idempotency_key: new.idempotency_key.clone(),
            correlation_id: new.correlation_id,
            currency,
            success_url: new.success_url,
            cancel_url: new.cancel_url,
            pending_url: new.pending_url,
            attribution: new.attribution,
            custom_data: new.custom_data,
            created_at: now,
            updated_at: now,
            cancellation: None,
        };
        if let Some(key) = new.idempotency_key {
            state.idempotency.insert(key, session.id);
        }
        Ok((state.a.insert(session), true))
    }

    pub fn get<S: Family>(&self, id: Uuid) -> Option<S> {
        S::all(&mut self.lock()).get(&id).cloned()
    }

    /// Runs `f` on the session `id` of family `S`, under the lock.
    fn with<S: Family, T>(
        &self,
        id: Uuid,
        f: impl FnOnce(&mut S) -> Result<T, Refusal>,
    ) -> Result<T, Refusal> {
        f(S::all(&mut self.lock())
            .get_mut(&id)
            .ok_or(Refusal::NotFound)?)
    }

    /// Sessions matching `filter`, ordered, and how many match in all.
    pub fn list_a(
        &self,
        filter: &ListFilter,
        order: Order,
        offset: usize,
        limit: usize,
    ) -> (Vec<SessionA>, usize) {
        let state = self.lock();
        let mut found: Vec<&SessionA> = state
            .a
            .iter()
            .filter(|s| filter.ids.as_ref().is_none_or(|ids| ids.contains(&s.id)))
            .filter(|s| filter.status.is_none_or(|st| s.status.as_str() == st))
            .filter(|s| {
                filter
                    .payment_status
                    .is_none_or(|p| s.payment.as_str() == p)
            })
            .filter(|s| filter.customer_id.is_none_or(|c| s.customer_id == Some(c)))
            .filter(|s| filter.contract_id.is_none_or(|c| s.contract_id == Some(c)))
            .filter(|s| filter.guest_checkout.is_none_or(|g| s.guest_checkout == g))
            .filter(|s| filter.currency.as_ref().is_none_or(|c| &s.currency == c))
            .collect();
        found.sort_by_key(|s| match order {
            Order::CreatedAt { .. } => (s.created_at, s.id),
            Order::LastActivityAt { .. } => (s.last_activity_at, s.id),
        });
        if matches!(
            order,
            Order::CreatedAt { descending: true } | Order::LastActivityAt { descending: true }
        ) {
            found.reverse();
        }
        let total = found.len();
        let page = found
            .into_iter()
            .skip(offset)
            .take(limit)
            .cloned()
            .collect();
        (page, total)
    }

    /// Only `open` sessions, and not while a payment is pending or paid.
    pub fn cancel_a(
        &self,
        id: Uuid,
        reason_type: Option<&'static str>,
        reason: Option<String>,
        reference_id: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<SessionA, Refusal> {
        self.with(id, |s: &mut SessionA| {
            if s.status != StatusA::Open {
                return Err(rule(format!(
                    "Checkout session cannot be cancelled in status '{}'",
                    s.status.as_str()
                )));
            }
            if matches!(s.payment, PaymentA::Pending | PaymentA::Paid) {
                return Err(rule(format!(
                    "Checkout session cannot be cancelled with payment status '{}'",
                    s.payment.as_str()
                )));
            }
            s.status = StatusA::Cancelled;
            s.cancellation = Some(Cancellation {
                reason_type,
                reason,
                reference_id,
                at: now,
            });
            s.touch(now);
            Ok(s.clone())
        })
    }

    /// Confirm an `open` session: the contract is created, and the payment
    /// status follows the confirmation mode.
    pub fn confirm_a(
        &self,
        id: Uuid,
        confirmation: &str,
        now: DateTime<Utc>,
    ) -> Result<SessionA, Refusal> {
        self.with(id, |session: &mut SessionA| {
            if !matches!(session.status, StatusA::Open | StatusA::Processing) {
                return Err(rule(format!(
                    "Checkout session cannot be confirmed in status '{}'",
                    session.status.as_str()
                )));
            }
            if session.expires_at.is_some_and(|t| now > t) {
                return Err(rule("Checkout session has expired"));
            }
            let payment = match confirmation {
                "charge_immediately" => PaymentA::NotStarted,
                "charge_when_due" => {
                    let saved = session
                        .customer_id
                        .and_then(customer)
                        .is_some_and(|c| c.has_payment_method);
                    if !saved {
                        return Err(rule(
                            "charge_when_due requires a saved payment method for the customer",
                        ));
                    }
                    PaymentA::Pending
                }
                _ => PaymentA::NoPaymentRequired,
            };
            // Confirming a guest checkout creates the customer profile.
            session.customer_id.get_or_insert_with(Uuid::new_v4);
            session.status = StatusA::Completed;
            session.payment = payment;
            session.contract_id = Some(Uuid::new_v4());
            session.execution_id = Some(format!("exec_{}", ids::hex(8)));
            session.confirmed_at = Some(now);
            session.completed_at = Some(now);
            session.touch(now);
            Ok(session.clone())
        })
    }

    pub fn move_a(&self, id: Uuid, change: MoveA, now: DateTime<Utc>) -> Result<SessionA, Refusal> {
        self.with(id, |s: &mut SessionA| {
            match change {
                MoveA::Process => {
                    if s.status != StatusA::Open {
                        return Err(rule(format!(
                            "cannot start processing a {} session",
                            s.status.as_str()
                        )));
                    }
                    s.status = StatusA::Processing;
                    s.payment = PaymentA::Pending;
                    s.execution_id = Some(format!("exec_{}", ids::hex(8)));
                    s.external_payment_intent_id = Some(format!("pi_{}", ids::hex(32)));
                }
                MoveA::Payment(outcome) => {
                    let open_payment =
                        matches!(s.payment, PaymentA::NotStarted | PaymentA::Pending);
                    if !matches!(s.status, StatusA::Processing | StatusA::Completed)
                        || !open_payment
                    {
                        return Err(rule(format!(
                            "no payment can happen on a {} session with payment status {}",
                            s.status.as_str(),
                            s.payment.as_str()
                        )));
                    }
                    s.payment = match outcome {
                        "paid" => PaymentA::Paid,
                        "failed" => PaymentA::Failed,
                        _ => PaymentA::Pending,
                    };
                    if s.payment == PaymentA::Paid {
                        s.paid_at = Some(now);
                    }
                    s.external_payment_intent_id
                        .get_or_insert_with(|| format!("pi_{}", ids::hex(32)));
                    if s.status == StatusA::Processing && s.payment != PaymentA::Pending {
                        // The payment settled the confirmation in flight.
                        s.status = StatusA::Completed;
                        s.contract_id.get_or_insert_with(Uuid::new_v4);
                        s.confirmed_at.get_or_insert(now);
                        s.completed_at = Some(now);
                    }
                }
                MoveA::Expire => {
                    if !matches!(s.status, StatusA::Open | StatusA::Processing) {
                        return Err(rule(format!(
                            "a {} session cannot expire",
                            s.status.as_str()
                        )));
                    }
                    s.status = StatusA::Closed;
                }
                MoveA::SetExpiry(at) => s.expires_at = at,
            }
            s.touch(now);
            Ok(s.clone())
        })
    }

    // ------------------------------------------------------------ fill

    /// `fill.count` sessions of the seeded customers on the seeded plans, in
    /// the customer's currency. Both families share this store: every tenth
    /// session is a family B checkout (`/checkouts`, which has no list), the
    /// rest family A (`/checkout`). Family A: 55 % open, 7 % processing (both
    /// with an expiry still ahead, as a create may ask), 18 % completed
    /// (paid, free, or charged when due), 10 % closed by the expiry job once
    /// their 24 h are over, 10 % cancelled by the customer. Family B: open,
    /// pending, paid or contract created, and expired past its 24 h.
    pub fn fill(&self, fill: &Fill) -> usize {
        let mut state = self.lock();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for i in 0..fill.count {
            let created_at = fill.created_at(i);
            let customer = &seed::CUSTOMERS[i % seed::CUSTOMERS.len()];
            let plan = &seed::PLANS[(i / 4) % seed::PLANS.len()];
            if i % 10 == 9 {
                b.push(Store::filled_b(fill, i, created_at, customer, plan));
            } else {
                let session = Store::filled_a(&mut state, fill, i, created_at, customer, plan);
                a.push(session);
            }
        }
        let count = a.len() + b.len();
        state.a.extend(a);
        state.b.extend(b);
        count
    }

    fn filled_a(
        state: &mut State,
        fill: &Fill,
        i: usize,
        created_at: DateTime<Utc>,
        customer: &seed::Customer,
        plan: &seed::Plan,
    ) -> SessionA {
        let currency = customer.currency;
        let default_expiry = created_at + TimeDelta::hours(DEFAULT_EXPIRY_HOURS);
        let slot = fill::slot(i);
        let status = match slot {
            0..55 => StatusA::Open,
            55..62 => StatusA::Processing,
            62..80 => StatusA::Completed,
            80..90 if default_expiry < fill.now => StatusA::Closed,
            80..90 => StatusA::Open,
            _ => StatusA::Cancelled,
        };
        // Open sessions were created with an expiry far enough ahead.
        let expires_at = match status {
            StatusA::Open | StatusA::Processing => {
                default_expiry.max(fill.now + TimeDelta::days(1))
            }
            _ => default_expiry,
        };
        let acted = fill.past(created_at + TimeDelta::minutes(5));
        let mut payment = PaymentA::NotStarted;
        let (mut confirmed_at, mut paid_at, mut contract_id) = (None, None, None);
        let (mut execution_id, mut intent) = (None, None);
        let mut cancellation = None;
        let mut last_activity_at = created_at;
        match status {
            StatusA::Processing => {
                payment = PaymentA::Pending;
                execution_id = Some(format!("exec_{}", ids::hex(8)));
                intent = Some(format!("pi_{}", ids::hex(32)));
                last_activity_at = acted;
            }
            StatusA::Completed => {
                payment = match slot % 3 {
                    0 => PaymentA::Paid,
                    1 => PaymentA::NoPaymentRequired,
                    _ if customer.has_payment_method => PaymentA::Pending,
                    _ => PaymentA::Paid,
                };
                if payment == PaymentA::Paid {
                    paid_at = Some(acted);
                    intent = Some(format!("pi_{}", ids::hex(32)));
                }
                confirmed_at = Some(acted);
                contract_id = Some(Uuid::new_v4());
                execution_id = Some(format!("exec_{}", ids::hex(8)));
                last_activity_at = acted;
            }
            StatusA::Closed => last_activity_at = default_expiry,
            StatusA::Cancelled => {
                cancellation = Some(Cancellation {
                    reason_type: Some("customer_requested"),
                    reason: None,
                    reference_id: None,
                    at: acted,
                });
                last_activity_at = acted;
            }
            StatusA::Open => {}
        }
        let start = created_at;
        let lines = plan_lines(plan, currency, None).unwrap_or_default();
        let billed = model::InvoiceCustomer {
            customer_id: Some(Id(customer.id)),
            customer_name: Some(customer.name.to_owned()),
            email: Some(customer.email.to_owned()),
        };
        let estimates = Store::estimation(state, lines, currency, start, billed);
        SessionA {
            id: Uuid::new_v4(),
            status,
            payment,
            contract: json!({"is_plan_based": true, "plan_id": plan.id.to_string(),
                             "currency": currency, "start_date": naive(&start)}),
            guest_checkout: false,
            contract_id,
            execution_id,
            confirmed_at,
            paid_at,
            external_payment_intent_id: intent,
            estimates,
            customer_id: Some(customer.id),
            business_entity_id: None,
            customer_data: None,
            expires_at: Some(expires_at),
            last_activity_at,
            completed_at: confirmed_at,
            idempotency_key: None,
            correlation_id: None,
            currency: currency.to_owned(),
            success_url: Some("https://shop.example/success".to_owned()),
            cancel_url: Some("https://shop.example/cancel".to_owned()),
            pending_url: None,
            attribution: None,
            custom_data: None,
            created_at,
            updated_at: last_activity_at,
            cancellation,
        }
    }

    fn filled_b(
        fill: &Fill,
        i: usize,
        created_at: DateTime<Utc>,
        customer: &seed::Customer,
        plan: &seed::Plan,
    ) -> SessionB {
        let expires_at = created_at + TimeDelta::hours(DEFAULT_EXPIRY_HOURS);
        let status = match fill::slot(i) {
            0..60 if expires_at < fill.now => "expired",
            0..60 => "open",
            60..70 => "pending",
            70..80 => "payment_succeeded",
            _ => "contract_created",
        };
        let updated_at = match status {
            "open" => created_at,
            "expired" => expires_at,
            _ => fill.past(created_at + TimeDelta::minutes(5)),
        };
        let total = plan_lines(plan, customer.currency, None)
            .unwrap_or_default()
            .iter()
            .map(|(_, _, q, unit)| *unit * Decimal::from(*q))
            .sum();
        let start_date = created_at
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .map(|d| d.and_utc())
            .unwrap_or(created_at);
        SessionB {
            id: Uuid::new_v4(),
            status: status.to_owned(),
            request: NewCheckout {
                plan_id: Some(plan.id),
                contract_id: None,
                start_date: None,
                end_date: None,
                customer_id: Some(customer.id),
                business_entity_id: None,
                guest_checkout: false,
                customer_data: None,
                expires_at: None,
                success_url: Some("https://shop.example/success".to_owned()),
                cancel_url: Some("https://shop.example/cancel".to_owned()),
                product_overrides: None,
            },
            start_date,
            contract_id: (status == "contract_created").then(Uuid::new_v4),
            currency: customer.currency.to_owned(),
            total,
            contract_name: plan.name.to_owned(),
            expires_at,
            created_at,
            updated_at,
        }
    }

    // ------------------------------------------------------------ family B

    pub fn create_b(&self, new: NewCheckout, now: DateTime<Utc>) -> Result<SessionB, Refusal> {
        let mut state = self.lock();
        let registered = parties(new.customer_id, new.business_entity_id, new.expires_at, now)?;
        let contract = match new.contract_id {
            Some(id) => {
                let c = seed::CONTRACTS
                    .iter()
                    .find(|c| c.id == id)
                    .ok_or_else(|| rule(format!("Contract {id} not found")))?;
                if new.customer_id.is_some_and(|cust| cust != c.customer) {
                    return Err(rule(format!(
                        "Contract {id} does not belong to this customer"
                    )));
                }
                Some(c)
            }
            None => None,
        };
        let plan_id = new
            .plan_id
            .or(contract.map(|c| c.plan))
            .ok_or_else(|| rule("plan_id is required for new contracts"))?;
        let p = plan(plan_id).ok_or_else(|| rule(format!("Plan {plan_id} not found")))?;
        let currency = match (contract, registered) {
            (Some(c), _) => c.currency,
            (None, Some(c)) => c.currency,
            (None, None) => seed::BUSINESS_ENTITY_CURRENCY,
        };
        let overrides = new.product_overrides.as_deref();
        for o in overrides.unwrap_or_default() {
            if !p.lines.iter().any(|l| l.product == o.product_id) {
                return Err(rule(format!(
                    "Product {} is not part of the plan",
                    o.product_id
                )));
            }
        }
        let total = plan_lines(p, currency, overrides)?
            .iter()
            .map(|(_, _, q, unit)| *unit * Decimal::from(*q))
            .sum();
        state.estimates_made += 1;
        let start_date = new.start_date.unwrap_or_else(|| {
            now.date_naive()
                .and_hms_opt(0, 0, 0)
                .map(|d| d.and_utc())
                .unwrap_or(now)
        });
        let session = SessionB {
            id: Uuid::new_v4(),
            status: "open".to_owned(),
            start_date,
            contract_id: contract.map(|c| c.id),
            currency: currency.to_owned(),
            total,
            contract_name: p.name.to_owned(),
            expires_at: new
                .expires_at
                .unwrap_or(now + TimeDelta::hours(DEFAULT_EXPIRY_HOURS)),
            created_at: now,
            updated_at: now,
            request: new,
        };
        Ok(state.b.insert(session))
    }

    /// From `pending` or `payment_succeeded`, not expired: the contract is
    /// made. (A `payment_method_id` is validated by the route, then kept
    /// with the contract, which this emulation does not model.)
    pub fn confirm_b(&self, id: Uuid, now: DateTime<Utc>) -> Result<SessionB, Refusal> {
        self.with(id, |s: &mut SessionB| {
            if s.expired(now) {
                return Err(rule("Checkout has expired"));
            }
            if !matches!(s.status.as_str(), "pending" | "payment_succeeded") {
                return Err(rule(format!(
                    "Checkout must be in 'pending' or 'payment_succeeded' status to be confirmed, not '{}'",
                    s.status
                )));
            }
            s.status = "contract_created".to_owned();
            s.contract_id.get_or_insert_with(Uuid::new_v4);
            s.updated_at = now;
            Ok(s.clone())
        })
    }

    pub fn move_b(&self, id: Uuid, change: MoveB, now: DateTime<Utc>) -> Result<SessionB, Refusal> {
        self.with(id, |s: &mut SessionB| {
            let terminal = matches!(s.status.as_str(), "contract_created" | "expired");
            match change {
                MoveB::Submit if s.status == "open" => s.status = "pending".to_owned(),
                MoveB::Pay if matches!(s.status.as_str(), "open" | "pending") => {
                    s.status = "payment_succeeded".to_owned()
                }
                MoveB::Expire if !terminal => s.status = "expired".to_owned(),
                MoveB::Status(status) => s.status = status,
                MoveB::SetExpiry(at) => s.expires_at = at,
                other => {
                    return Err(rule(format!(
                        "{other:?} is not possible from status '{}'",
                        s.status
                    )))
                }
            }
            s.updated_at = now;
            Ok(s.clone())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::clock::now_micros as now;

    fn plan_request(currency: &str, key: Option<&str>) -> NewSessionA {
        NewSessionA {
            contract: ContractInput::Plan {
                plan_id: seed::PLANS[1].id,
                currency: currency.to_owned(),
                start: now(),
            },
            customer_id: Some(seed::CUSTOMERS[0].id),
            guest_checkout: false,
            customer_data: None,
            business_entity_id: None,
            expires_at: None,
            idempotency_key: key.map(str::to_owned),
            correlation_id: None,
            success_url: None,
            cancel_url: None,
            pending_url: None,
            attribution: None,
            custom_data: None,
        }
    }

    #[test]
    fn estimates_are_exact_decimals() {
        let store = Store::default();
        for (currency, text) in [("USD", "99.0"), ("JPY", "15000"), ("KWD", "21.295")] {
            let (s, _) = store
                .create_a(plan_request(currency, None), now())
                .expect("created");
            assert_eq!(s.estimates.amount_due.text(), text, "{currency}");
        }
        let err = store.create_a(plan_request("GBP", None), now()).err();
        assert!(matches!(err, Some(Refusal::Rule(m)) if m.contains("no pricing in GBP")));
    }

    #[test]
    fn idempotency_key_returns_the_first_session() {
        let store = Store::default();
        let (first, created) = store
            .create_a(plan_request("USD", Some("k1")), now())
            .expect("a");
        assert!(created);
        let (again, created) = store
            .create_a(plan_request("EUR", Some("k1")), now())
            .expect("b");
        assert!(!created);
        assert_eq!(again.id, first.id);
        assert_eq!(again.currency, "USD");
        let (other, _) = store
            .create_a(plan_request("USD", Some("k2")), now())
            .expect("c");
        assert_ne!(other.id, first.id);
    }

    #[test]
    fn family_a_lifecycle_rules() {
        let store = Store::default();
        let t = now();
        let (s, _) = store
            .create_a(plan_request("USD", None), t)
            .expect("created");
        let done = store
            .confirm_a(s.id, "charge_immediately", t)
            .expect("confirmed");
        assert_eq!(
            (done.status, done.payment),
            (StatusA::Completed, PaymentA::NotStarted)
        );
        assert!(store.cancel_a(s.id, Some("other"), None, None, t).is_err());
        let paid = store.move_a(s.id, MoveA::Payment("paid"), t).expect("paid");
        assert_eq!(paid.payment, PaymentA::Paid);
        assert!(paid.paid_at.is_some());

        let (s, _) = store
            .create_a(plan_request("USD", None), t)
            .expect("created");
        let moved = store.move_a(s.id, MoveA::Process, t).expect("processing");
        assert_eq!(moved.payment, PaymentA::Pending);
        assert!(
            store.cancel_a(s.id, None, None, None, t).is_err(),
            "pending payment"
        );
        let failed = store
            .move_a(s.id, MoveA::Payment("failed"), t)
            .expect("failed");
        assert_eq!(
            (failed.status, failed.payment),
            (StatusA::Completed, PaymentA::Failed)
        );

        let (s, _) = store
            .create_a(plan_request("USD", None), t)
            .expect("created");
        let c = store
            .cancel_a(s.id, Some("expired"), None, Some("T-1".into()), t)
            .expect("cancelled");
        assert_eq!(c.status, StatusA::Cancelled);
        assert_eq!(
            c.cancel_response().map(|r| r.checkout_session_status),
            Some("cancelled")
        );
        assert_eq!(
            store.move_a(Uuid::new_v4(), MoveA::Expire, t).err(),
            Some(Refusal::NotFound)
        );
    }

    #[test]
    fn charge_when_due_needs_a_saved_payment_method() {
        let store = Store::default();
        let mut request = plan_request("JPY", None);
        request.customer_id = Some(seed::CUSTOMERS[1].id);
        let (s, _) = store.create_a(request, now()).expect("created");
        assert!(store.confirm_a(s.id, "charge_when_due", now()).is_err());
        let ok = store
            .confirm_a(s.id, "no_payment", now())
            .expect("confirmed");
        assert_eq!(ok.payment, PaymentA::NoPaymentRequired);
    }

    fn checkout(plan: Option<Uuid>, contract: Option<Uuid>) -> NewCheckout {
        NewCheckout {
            plan_id: plan,
            contract_id: contract,
            start_date: None,
            end_date: None,
            customer_id: Some(seed::CUSTOMERS[0].id),
            business_entity_id: None,
            guest_checkout: false,
            customer_data: None,
            expires_at: None,
            success_url: None,
            cancel_url: None,
            product_overrides: contract.map(|_| {
                vec![Override {
                    product_id: seed::PLANS[1].lines[1].product,
                    quantity: Some(8),
                    is_enabled: Some(true),
                }]
            }),
        }
    }

    #[test]
    fn family_b_lifecycle_and_amendments() {
        let store = Store::default();
        let t = now();
        let s = store
            .create_b(checkout(Some(seed::PLANS[0].id), None), t)
            .expect("new");
        assert_eq!(
            (s.status.as_str(), Num(s.total).text()),
            ("open", "29.99".to_owned())
        );
        assert!(
            store.confirm_b(s.id, t).is_err(),
            "open cannot be confirmed"
        );
        store.move_b(s.id, MoveB::Pay, t).expect("paid");
        let done = store.confirm_b(s.id, t).expect("confirmed");
        assert_eq!(done.status, "contract_created");
        assert!(done.contract_id.is_some());

        let a = store
            .create_b(checkout(None, Some(seed::CONTRACTS[0].id)), t)
            .expect("amendment");
        assert_eq!(Num(a.total).text(), "129.0");
        assert_eq!(a.contract_id, Some(seed::CONTRACTS[0].id));
        store.move_b(a.id, MoveB::Submit, t).expect("pending");
        store
            .move_b(a.id, MoveB::SetExpiry(t - TimeDelta::seconds(1)), t)
            .expect("moved");
        assert_eq!(
            store.confirm_b(a.id, t).err(),
            Some(rule("Checkout has expired"))
        );
    }
}
