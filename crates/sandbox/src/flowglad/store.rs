//! The emulated organization's data and the create rules of
//! `createCheckoutSessionTransaction`, with the vendor's error messages.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::ids;
use super::model::{BillingAddress, JsonbObject, PaymentMethodType, Record, SessionType, Status};
use super::request::{CreateInput, Kind};
use super::seed::{self, PriceKind};
use crate::kit::fill::{self, Fill};
use crate::kit::lifecycle::{Lifecycle, MoveError};
use crate::kit::store::{session_by_id, Locked, Sessions};

/// Sessions stop being usable 24 h after creation (the column default).
pub const EXPIRY_MS: i64 = 24 * 60 * 60 * 1000;
/// Default page size of list.
pub const DEFAULT_LIMIT: usize = 10;

/// A `ValidationError` from the create transaction: 400 `Invalid <field>: <reason>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: &'static str,
    pub reason: String,
}

impl Invalid {
    fn new(field: &'static str, reason: impl Into<String>) -> Invalid {
        Invalid {
            field,
            reason: reason.into(),
        }
    }

    pub fn message(&self) -> String {
        format!("Invalid {}: {}", self.field, self.reason)
    }
}

struct Customer {
    id: &'static str,
    name: &'static str,
    email: &'static str,
}

fn customer_by_external_id(external_id: &str) -> Option<Customer> {
    seed::CUSTOMERS
        .iter()
        .find(|c| c.1 == external_id)
        .map(|&(id, _, name, email)| Customer { id, name, email })
}

struct Price {
    id: &'static str,
    kind: PriceKind,
    default_product: bool,
}

fn price(matches: impl Fn(&str, &str) -> bool) -> Option<Price> {
    seed::PRICES
        .iter()
        .find(|(id, slug, _, _)| matches(id, slug))
        .map(|&(id, _, kind, default_product)| Price {
            id,
            kind,
            default_product,
        })
}

/// The keyset position a list cursor carries (base64 JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cursor {
    #[serde(default)]
    pub parameters: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub created_at: Option<i64>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub direction: Option<Direction>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Forward,
    Backward,
}

impl Cursor {
    /// What the vendor accepts: `{id, createdAt?, direction?, parameters?}`,
    /// or the legacy `{createdAt, direction, parameters?}` without an id.
    pub fn decode(text: &str) -> Option<Cursor> {
        let bytes = STANDARD
            .decode(text.trim_end_matches('='))
            .or_else(|_| STANDARD.decode(text))
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
            .ok()?;
        let cursor: Cursor = serde_json::from_slice(&bytes).ok()?;
        let with_id = cursor.id.as_deref().is_some_and(|id| !id.is_empty());
        let legacy =
            cursor.id.is_none() && cursor.created_at.is_some() && cursor.direction.is_some();
        (with_id || legacy).then_some(cursor)
    }

    fn encode(&self) -> String {
        STANDARD.encode(serde_json::to_vec(self).unwrap_or_default())
    }
}

pub struct Page {
    pub data: Vec<Record>,
    pub next_cursor: Option<String>,
    pub has_more: bool,
    pub total: usize,
}

/// A control-route change at `at` (epoch ms); `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct Move {
    pub status: Option<Status>,
    pub expires: Option<i64>,
    pub billing_address: Option<Option<BillingAddress>>,
    pub payment_method_type: Option<Option<PaymentMethodType>>,
    pub at: i64,
}

session_by_id!(Record, str);

/// What the hosted page and Stripe's webhooks do to a session.
impl Lifecycle for Record {
    type Status = Status;
    type Move = Move;

    fn transition(&self, change: &Move) -> Option<(Status, Status)> {
        change.status.map(|to| (self.status, to))
    }

    /// The vendor refuses to move a session out of a terminal state.
    /// Same-status moves change other fields only.
    fn allowed(from: &Status, to: &Status) -> bool {
        use Status::*;
        matches!(
            (from, to),
            (Open, Open | Pending | Succeeded | Failed | Expired)
                | (Pending, Pending | Succeeded | Failed)
        )
    }

    fn apply(&mut self, change: Move) {
        if let Some(to) = change.status {
            self.status = to;
            if to == Status::Succeeded && self.session_type == SessionType::Product {
                // Completing a product checkout creates its purchase.
                self.purchase_id.get_or_insert_with(|| ids::new_id("prch"));
            }
        }
        if let Some(expires) = change.expires {
            self.expires = expires;
        }
        if let Some(address) = change.billing_address {
            self.billing_address = address;
        }
        if let Some(kind) = change.payment_method_type {
            self.payment_method_type = kind;
        }
        self.updated_at = change.at;
    }
}

#[derive(Debug, Default)]
pub struct Store {
    sessions: Locked<Sessions<Record>>,
}

impl Store {
    /// The create transaction: customer by external id, price by id or
    /// slug (checked to be sellable), or the target subscription's price.
    pub fn create(&self, input: CreateInput, now: i64, livemode: bool) -> Result<Record, Invalid> {
        let customer = input
            .customer_external_id
            .as_deref()
            .filter(|e| !e.is_empty())
            .and_then(customer_by_external_id);
        let external = input.customer_external_id.clone().unwrap_or_default();
        let (session_type, price_id, quantity, preserve, target, automatically_update) = match input
            .kind
        {
            Kind::Product {
                price_id,
                price_slug,
                quantity,
                anonymous,
                preserve_billing_cycle_anchor,
            } => {
                let resolved = match price_slug.filter(|s| !s.is_empty()) {
                        Some(slug) if anonymous => price(|_, s| s == slug).map(|p| p.id.to_owned()).ok_or_else(|| {
                            Invalid::new(
                                "priceSlug",
                                format!("Price with slug \"{slug}\" not found in organization's default pricing model"),
                            )
                        })?,
                        Some(slug) => {
                            if customer.is_none() {
                                return Err(Invalid::new(
                                    "customer",
                                    "Customer is required to resolve price slug for identified checkout sessions",
                                ));
                            }
                            price(|_, s| s == slug).map(|p| p.id.to_owned()).ok_or_else(|| {
                                Invalid::new(
                                    "priceSlug",
                                    format!("Price with slug \"{slug}\" not found for customer's pricing model"),
                                )
                            })?
                        }
                        None => price_id.unwrap_or_default(),
                    };
                let found = price(|id, _| id == resolved).ok_or_else(|| {
                        Invalid::new(
                            "priceId",
                            format!("Invalid or not-found price ID: no matching price found for id \"{resolved}\""),
                        )
                    })?;
                if found.kind == PriceKind::Usage {
                    return Err(Invalid::new(
                            "priceId",
                            "Checkout sessions are only supported for product prices (subscription/single payment), not usage prices",
                        ));
                }
                if found.default_product {
                    return Err(Invalid::new(
                            "product",
                            "Checkout sessions cannot be created for default products. Default products are automatically assigned to customers and do not require manual checkout.",
                        ));
                }
                if !anonymous && customer.is_none() {
                    return Err(Invalid::new(
                            "checkoutSession",
                            format!(
                                "Required customer not found for Product checkout (anonymous=false). externalId='{external}', organization='{}'.",
                                seed::ORGANIZATION_ID
                            ),
                        ));
                }
                (
                    SessionType::Product,
                    Some(found.id.to_owned()),
                    quantity.unwrap_or(1),
                    preserve_billing_cycle_anchor.unwrap_or(false),
                    None,
                    None,
                )
            }
            Kind::AddPaymentMethod {
                target_subscription_id,
            } => {
                if customer.is_none() {
                    return Err(Invalid::new(
                        "checkoutSession",
                        "Customer is required for add payment method checkout sessions",
                    ));
                }
                (
                    SessionType::AddPaymentMethod,
                    None,
                    1,
                    false,
                    target_subscription_id,
                    Some(false),
                )
            }
            Kind::ActivateSubscription {
                target_subscription_id,
                preserve_billing_cycle_anchor,
            } => {
                let Some(&(sub_id, sub_customer, sub_price)) = seed::SUBSCRIPTIONS
                    .iter()
                    .find(|s| s.0 == target_subscription_id)
                else {
                    return Err(Invalid::new(
                        "targetSubscriptionId",
                        format!("Target subscription {target_subscription_id} not found"),
                    ));
                };
                let Some(c) = &customer else {
                    return Err(Invalid::new(
                        "customer",
                        "Customer is required for activate subscription checkout sessions",
                    ));
                };
                if sub_customer != c.id {
                    return Err(Invalid::new(
                        "targetSubscriptionId",
                        format!(
                            "Target subscription {sub_id} does not belong to customer {}",
                            c.id
                        ),
                    ));
                }
                (
                    SessionType::ActivateSubscription,
                    Some(sub_price.to_owned()),
                    1,
                    preserve_billing_cycle_anchor.unwrap_or(false),
                    Some(sub_id.to_owned()),
                    None,
                )
            }
        };
        let record = Record {
            id: ids::new_id("chckt_session"),
            created_at: now,
            updated_at: now,
            livemode,
            pricing_model_id: seed::PRICING_MODEL_ID.to_owned(),
            status: Status::Open,
            billing_address: None,
            price_id,
            purchase_id: None,
            invoice_id: None,
            quantity,
            organization_id: seed::ORGANIZATION_ID.to_owned(),
            customer_name: customer.as_ref().map(|c| c.name.to_owned()),
            customer_email: customer.as_ref().map(|c| c.email.to_owned()),
            customer_id: customer.as_ref().map(|c| c.id.to_owned()),
            payment_method_type: None,
            discount_id: None,
            success_url: Some(input.success_url),
            cancel_url: Some(input.cancel_url),
            session_type,
            preserve_billing_cycle_anchor: preserve,
            output_metadata: input.output_metadata.map(JsonbObject::new),
            output_name: input.output_name,
            target_subscription_id: target,
            automatically_update_subscriptions: automatically_update,
            expires: now + EXPIRY_MS,
        };
        Ok(self.sessions.lock().insert(record))
    }

    /// `fill.count` product checkouts of the seeded customers, for the two
    /// sellable prices: 60 % open, 8 % pending, 17 % succeeded (with their
    /// purchase), 7 % failed, 8 % expired. `expires` is 24 h after creation,
    /// and, as the vendor never expires a session itself, an open one past
    /// it stays open; an expired one is only made once its day is over.
    pub fn fill(&self, fill: &Fill, livemode: bool) -> usize {
        let sellable: Vec<&str> = seed::PRICES
            .iter()
            .filter(|p| p.2 != PriceKind::Usage && !p.3)
            .map(|p| p.0)
            .collect();
        let now = fill.now.timestamp_millis();
        let made: Vec<Record> = (0..fill.count)
            .map(|i| {
                let created_at = fill.created_at(i).timestamp_millis();
                let expires = created_at + EXPIRY_MS;
                let status = match fill::slot(i) {
                    0..60 => Status::Open,
                    60..68 => Status::Pending,
                    68..85 => Status::Succeeded,
                    85..92 => Status::Failed,
                    _ if expires < now => Status::Expired,
                    _ => Status::Open,
                };
                let updated_at = match status {
                    Status::Open => created_at,
                    Status::Expired => expires,
                    _ => (created_at + 5 * 60 * 1000).min(now),
                };
                let (customer_id, _, name, email) = seed::CUSTOMERS[i % seed::CUSTOMERS.len()];
                let paid = matches!(status, Status::Succeeded | Status::Pending);
                Record {
                    id: ids::new_id("chckt_session"),
                    created_at,
                    updated_at,
                    livemode,
                    pricing_model_id: seed::PRICING_MODEL_ID.to_owned(),
                    status,
                    billing_address: None,
                    price_id: sellable
                        .get((i / 2) % sellable.len().max(1))
                        .map(|p| (*p).to_owned()),
                    purchase_id: (status == Status::Succeeded).then(|| ids::new_id("prch")),
                    invoice_id: None,
                    quantity: 1,
                    organization_id: seed::ORGANIZATION_ID.to_owned(),
                    customer_name: Some(name.to_owned()),
                    customer_email: Some(email.to_owned()),
                    customer_id: Some(customer_id.to_owned()),
                    payment_method_type: paid.then_some(PaymentMethodType::Card),
                    discount_id: None,
                    success_url: Some("https://shop.example/success".to_owned()),
                    cancel_url: Some("https://shop.example/cancel".to_owned()),
                    session_type: SessionType::Product,
                    preserve_billing_cycle_anchor: false,
                    output_metadata: None,
                    output_name: None,
                    target_subscription_id: None,
                    automatically_update_subscriptions: None,
                    expires,
                }
            })
            .collect();
        let count = made.len();
        self.sessions.lock().extend(made);
        count
    }

    pub fn get(&self, id: &str) -> Option<Record> {
        self.sessions.get_cloned(id)
    }

    /// Keyset pagination on `(createdAt, id)`: ascending going forward
    /// (the vendor's default), descending going backward.
    pub fn list(&self, limit: usize, cursor: Option<&Cursor>) -> Page {
        let sessions = self.sessions.lock();
        let total = sessions.len();
        let direction = cursor
            .and_then(|c| c.direction)
            .unwrap_or(Direction::Forward);
        let mut found: Vec<&Record> = sessions
            .iter()
            .filter(|s| match cursor.and_then(|c| c.created_at) {
                None => true,
                Some(at) => {
                    let key = (s.created_at, s.id.as_str());
                    match (direction, cursor.and_then(|c| c.id.as_deref())) {
                        (Direction::Forward, Some(id)) => key > (at, id),
                        (Direction::Backward, Some(id)) => key < (at, id),
                        (Direction::Forward, None) => s.created_at > at,
                        (Direction::Backward, None) => s.created_at < at,
                    }
                }
            })
            .collect();
        found.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        if direction == Direction::Backward {
            found.reverse();
        }
        let has_more = found.len() > limit;
        let data: Vec<Record> = found.into_iter().take(limit).cloned().collect();
        let next_cursor = has_more.then(|| data.last()).flatten().map(|last| {
            Cursor {
                parameters: serde_json::Map::new(),
                created_at: Some(last.created_at),
                id: Some(last.id.clone()),
                direction: Some(direction),
            }
            .encode()
        });
        Page {
            data,
            next_cursor,
            has_more,
            total,
        }
    }

    /// A control-route move, if the lifecycle allows it.
    pub fn apply(&self, id: &str, change: Move) -> Result<Record, MoveError<Status>> {
        self.sessions.advance_cloned(id, change)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_sessions_never_move() {
        for terminal in [Status::Succeeded, Status::Failed, Status::Expired] {
            for to in [Status::Open, Status::Pending, Status::Succeeded] {
                assert!(!Record::allowed(&terminal, &to), "{terminal:?} -> {to:?}");
            }
        }
        assert!(Record::allowed(&Status::Open, &Status::Pending));
        assert!(Record::allowed(&Status::Pending, &Status::Succeeded));
        assert!(!Record::allowed(&Status::Pending, &Status::Open));
    }

    #[test]
    fn cursors_round_trip_and_bad_ones_are_refused() {
        let cursor = Cursor {
            parameters: serde_json::Map::new(),
            created_at: Some(1_773_136_800_000),
            id: Some("chckt_session_a1B2c3D4e5F6g7H8i9J0k".to_owned()),
            direction: Some(Direction::Forward),
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        let legacy = STANDARD.encode(br#"{"createdAt":1,"direction":"backward"}"#);
        assert!(Cursor::decode(&legacy).is_some());
        for bad in [
            "",
            "!!",
            &STANDARD.encode(b"[]"),
            &STANDARD.encode(br#"{"id":""}"#),
        ] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
    }
}
