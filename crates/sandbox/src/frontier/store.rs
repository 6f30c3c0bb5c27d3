//! The emulated Frontier instance's data: organizations and their billing
//! accounts, plans, products, subscriptions and checkout sessions, with the
//! checkout service's rules (`billing/checkout/service.go`). Errors are
//! domain errors; each API renders them its own way.

use chrono::{DateTime, SubsecRound, TimeDelta, TimeZone, Utc};
use uuid::Uuid;

use crate::kit::clock::now_micros;
use crate::kit::fill::{self, Fill};
use crate::kit::ids;
use crate::kit::lifecycle::{Lifecycle, MoveError};
use crate::kit::store::{session_by_id, Locked, Sessions};

/// Stripe sessions Frontier creates expire after this (`SessionValidity`).
pub const SESSION_VALIDITY: TimeDelta = TimeDelta::hours(24);

/// What a checkout buys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purchase {
    Plan {
        plan: Uuid,
        skip_trial: bool,
        cancel_after_trial: bool,
    },
    Product {
        product: Uuid,
        quantity: i64,
    },
    /// Stripe setup mode: collect a payment method.
    Setup,
}

#[derive(Debug, Clone)]
pub struct StoredCheckout {
    pub id: Uuid,
    pub org: Uuid,
    /// Stripe's `cs_…` id: stored, never exposed.
    pub provider_id: String,
    pub purchase: Purchase,
    pub success_url: String,
    pub cancel_url: String,
    pub checkout_url: String,
    /// Stripe's status, copied verbatim (`open | complete | expired`).
    pub state: String,
    /// Stripe's payment status: kept, never exposed.
    pub payment_status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Stripe's `expires_at`: whole seconds.
    pub expire_at: DateTime<Utc>,
}

impl StoredCheckout {
    pub fn plan(&self) -> Option<Uuid> {
        match self.purchase {
            Purchase::Plan { plan, .. } => Some(plan),
            _ => None,
        }
    }

    pub fn product(&self) -> Option<Uuid> {
        match self.purchase {
            Purchase::Product { product, .. } => Some(product),
            _ => None,
        }
    }

    fn is_settled(&self) -> bool {
        self.state == "expired" || (self.state == "complete" && self.payment_status != "unpaid")
    }
}

/// A create request once its API has parsed it.
#[derive(Debug, Clone, Default)]
pub struct CreateCheckout {
    pub success_url: String,
    pub cancel_url: String,
    /// Plan id or name.
    pub plan: Option<String>,
    pub skip_trial: bool,
    pub cancel_after_trial: bool,
    /// Product id or name, with its quantity (0 = let the customer choose).
    pub product: Option<(String, i64)>,
    pub setup_payment_method: bool,
    pub setup_customer_portal: bool,
}

/// What `create` gives back: a stored checkout, or a customer-portal
/// session Frontier returns but never stores.
#[derive(Debug, Clone)]
pub enum Created {
    Stored(StoredCheckout),
    Portal(StoredCheckout),
}

/// The checkout service's failures, before an API renders them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The org has no billing account (`customer.ErrNotFound`).
    CustomerNotFound,
    /// Neither a plan nor a product (`invalid checkout request`).
    NothingToBuy,
    /// An unknown plan id or name (`plan.ErrNotFound`, unmapped).
    PlanNotFound,
    PlanInactive,
    AlreadySubscribed,
    ProductNotFound,
    /// Stripe refused with 429/5xx (`ErrProviderUnavailable`).
    ProviderUnavailable,
    /// A checkout id that is not a UUID (`checkout.ErrInvalidUUID`).
    InvalidUuid,
    /// No such checkout (`checkout.ErrNotFound`).
    NotFound,
}

/// What the control route asks for.
#[derive(Debug, Clone, Default)]
pub struct Move {
    pub state: Option<String>,
    pub payment_status: Option<String>,
    pub expire_at: Option<DateTime<Utc>>,
}

session_by_id!(StoredCheckout, Uuid);

impl StoredCheckout {
    /// Where `change` takes `(state, payment_status)`: `complete` defaults
    /// to `paid`.
    fn destination(&self, change: &Move) -> (String, String) {
        let to_state = change.state.clone().unwrap_or_else(|| self.state.clone());
        let to_payment = change.payment_status.clone().unwrap_or_else(|| {
            if to_state == "complete" && self.state != "complete" {
                "paid".to_owned()
            } else {
                self.payment_status.clone()
            }
        });
        (to_state, to_payment)
    }
}

/// What Stripe's webhooks or the sync would write; the status is
/// `(state, payment_status)`.
impl Lifecycle for StoredCheckout {
    type Status = (String, String);
    type Move = Move;

    /// Every change is checked: `destination` fills what it leaves out.
    fn transition(&self, change: &Move) -> Option<(Self::Status, Self::Status)> {
        let from = (self.state.clone(), self.payment_status.clone());
        Some((from, self.destination(change)))
    }

    /// The states Stripe can move a session through; a finished one stays.
    fn allowed((state, payment): &(String, String), to: &(String, String)) -> bool {
        let states = ["open", "pending", "complete", "expired"];
        let payments = ["paid", "unpaid", "no_payment_required"];
        let (to_state, to_payment) = (to.0.as_str(), to.1.as_str());
        if !states.contains(&to_state) || !payments.contains(&to_payment) {
            return false;
        }
        match state.as_str() {
            "open" | "pending" => true,
            // An async payment can still succeed after completion.
            "complete" if payment == "unpaid" => to_state == "complete",
            _ => to_state == state && to_payment == payment,
        }
    }

    fn apply(&mut self, change: Move) {
        (self.state, self.payment_status) = self.destination(&change);
        if let Some(at) = change.expire_at {
            self.expire_at = at.trunc_subsecs(0);
        }
        self.updated_at = now_micros();
    }
}

#[derive(Debug)]
struct Plan {
    id: Uuid,
    name: String,
    active: bool,
}

#[derive(Debug)]
struct State {
    /// `(org, plan)` of active subscriptions.
    subscriptions: Vec<(Uuid, Uuid)>,
    checkouts: Sessions<StoredCheckout>,
    /// Whether Stripe answers: a control route can take it down.
    provider_available: bool,
}

/// The seeded orgs, plans and products never change; the rest does.
#[derive(Debug)]
pub struct Store {
    /// `(org, has a billing account)`.
    orgs: Vec<(Uuid, bool)>,
    plans: Vec<Plan>,
    products: Vec<(Uuid, String)>,
    state: Locked<State>,
}

/// A lower-case hyphenated UUID, or an error as the repository reports it.
pub fn parse_uuid(s: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(s).map_err(|_| StoreError::InvalidUuid)
}

impl Store {
    pub fn new(
        orgs: impl IntoIterator<Item = (Uuid, bool)>,
        plans: impl IntoIterator<Item = (Uuid, &'static str, bool)>,
        products: impl IntoIterator<Item = (Uuid, &'static str)>,
    ) -> Store {
        Store {
            orgs: orgs.into_iter().collect(),
            plans: plans
                .into_iter()
                .map(|(id, name, active)| Plan {
                    id,
                    name: name.to_owned(),
                    active,
                })
                .collect(),
            products: products
                .into_iter()
                .map(|(id, name)| (id, name.to_owned()))
                .collect(),
            state: Locked::new(State {
                subscriptions: Vec::new(),
                checkouts: Sessions::default(),
                provider_available: true,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock()
    }

    /// `Some(has a billing account)` for a known org.
    pub fn org(&self, org: Uuid) -> Option<bool> {
        self.orgs
            .iter()
            .find(|(id, _)| *id == org)
            .map(|(_, billing)| *billing)
    }

    pub fn set_provider_available(&self, available: bool) {
        self.lock().provider_available = available;
    }

    /// The checkout service's `Create`, `CreateSessionForPaymentMethod` and
    /// `CreateSessionForCustomerPortal`, in the handler's order of precedence.
    pub fn create(&self, org: Uuid, req: CreateCheckout) -> Result<Created, StoreError> {
        let mut state = self.lock();
        if !self.orgs.iter().any(|(id, billing)| *id == org && *billing) {
            return Err(StoreError::CustomerNotFound);
        }
        let checkout_id = Uuid::new_v4();
        let templated = |url: &str| url.replace("{{.CheckoutID}}", &checkout_id.to_string());
        let purchase = if req.setup_payment_method {
            Purchase::Setup
        } else if req.setup_customer_portal {
            if !state.provider_available {
                return Err(StoreError::ProviderUnavailable);
            }
            // Not templated, not stored, no state, zero timestamps.
            let zero = Utc
                .timestamp_opt(-62_135_596_800, 0)
                .single()
                .unwrap_or_default();
            return Ok(Created::Portal(StoredCheckout {
                id: checkout_id,
                org,
                provider_id: format!("bps_{}", ids::base62(24)),
                purchase: Purchase::Setup,
                success_url: req.success_url,
                cancel_url: req.cancel_url,
                checkout_url: format!(
                    "https://billing.stripe.com/p/session/test_{}",
                    ids::base62(64)
                ),
                state: String::new(),
                payment_status: String::new(),
                created_at: zero,
                updated_at: zero,
                expire_at: zero,
            }));
        } else if let Some(plan) = req.plan.as_deref().filter(|p| !p.is_empty()) {
            // The plan wins when both are given.
            let plan = self
                .plans
                .iter()
                .find(|p| p.id.to_string() == plan || p.name == plan)
                .ok_or(StoreError::PlanNotFound)?;
            if !plan.active {
                return Err(StoreError::PlanInactive);
            }
            if state.subscriptions.contains(&(org, plan.id)) {
                return Err(StoreError::AlreadySubscribed);
            }
            Purchase::Plan {
                plan: plan.id,
                skip_trial: req.skip_trial,
                cancel_after_trial: req.cancel_after_trial,
            }
        } else if let Some((product, quantity)) = req.product.filter(|(p, _)| !p.is_empty()) {
            let product = self
                .products
                .iter()
                .find(|(id, name)| id.to_string() == product || *name == product)
                .map(|(id, _)| *id)
                .ok_or(StoreError::ProductNotFound)?;
            Purchase::Product { product, quantity }
        } else {
            return Err(StoreError::NothingToBuy);
        };
        if !state.provider_available {
            return Err(StoreError::ProviderUnavailable);
        }
        // Stripe's expiry is asked for just before the row is inserted.
        let expire_at = (Utc::now() + SESSION_VALIDITY).trunc_subsecs(0);
        let created_at = now_micros();
        let provider_id = format!("cs_test_a1{}", ids::base62(56));
        let checkout = StoredCheckout {
            id: checkout_id,
            org,
            checkout_url: format!("https://checkout.stripe.com/c/pay/{provider_id}"),
            provider_id,
            purchase,
            success_url: templated(&req.success_url),
            cancel_url: templated(&req.cancel_url),
            state: "open".to_owned(),
            payment_status: "unpaid".to_owned(),
            created_at,
            updated_at: created_at,
            expire_at,
        };
        Ok(Created::Stored(state.checkouts.insert(checkout)))
    }

    /// `fill.count` checkouts of `org`, as Stripe and the once-a-minute sync
    /// would have left them: 20 % complete (credits bought, or a card saved;
    /// never a plan, which would subscribe the org and refuse its next plan
    /// checkout), 20 % expired early, and the rest subscribing to an active
    /// plan, still open within their 24 h, expired by the sync after.
    pub fn fill(&self, org: Uuid, fill: &Fill) -> usize {
        let plans: Vec<Uuid> = self
            .plans
            .iter()
            .filter(|p| p.active)
            .map(|p| p.id)
            .collect();
        let product = self.products.first().map(|(id, _)| *id);
        let made: Vec<StoredCheckout> = (0..fill.count)
            .map(|i| {
                let created_at = fill.created_at(i).trunc_subsecs(6);
                let expire_at = (created_at + SESSION_VALIDITY).trunc_subsecs(0);
                let slot = fill::slot(i);
                let purchase = match (slot, product) {
                    (0..10, Some(product)) => Purchase::Product {
                        product,
                        quantity: 1,
                    },
                    (0..20, _) => Purchase::Setup,
                    _ => match plans.get(i % plans.len().max(1)) {
                        Some(&plan) => Purchase::Plan {
                            plan,
                            skip_trial: false,
                            cancel_after_trial: false,
                        },
                        None => Purchase::Setup,
                    },
                };
                let (state, updated_at) = match slot {
                    0..20 => ("complete", fill.past(created_at + TimeDelta::minutes(5))),
                    20..40 => ("expired", fill.past(created_at + TimeDelta::hours(1))),
                    _ if expire_at < fill.now => ("expired", expire_at),
                    _ => ("open", created_at),
                };
                let payment_status = match (&purchase, state) {
                    (Purchase::Setup, _) => "no_payment_required",
                    (_, "complete") => "paid",
                    _ => "unpaid",
                };
                let id = Uuid::new_v4();
                let provider_id = format!("cs_test_a1{}", ids::base62(56));
                StoredCheckout {
                    id,
                    org,
                    checkout_url: format!("https://checkout.stripe.com/c/pay/{provider_id}"),
                    provider_id,
                    purchase,
                    success_url: format!("https://shop.example/ok?checkout={id}"),
                    cancel_url: "https://shop.example/no".to_owned(),
                    state: state.to_owned(),
                    payment_status: payment_status.to_owned(),
                    created_at,
                    updated_at,
                    expire_at,
                }
            })
            .collect();
        let count = made.len();
        self.lock().checkouts.extend(made);
        count
    }

    /// By the id as an API gives it.
    pub fn get(&self, id: &str) -> Result<StoredCheckout, StoreError> {
        self.checkout(parse_uuid(id)?)
    }

    pub fn checkout(&self, id: Uuid) -> Result<StoredCheckout, StoreError> {
        self.lock()
            .checkouts
            .get(&id)
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    /// Every checkout of the org, newest first, no pagination.
    pub fn list(&self, org: Uuid) -> Vec<StoredCheckout> {
        let mut found: Vec<StoredCheckout> = self
            .lock()
            .checkouts
            .iter()
            .filter(|c| c.org == org)
            .cloned()
            .collect();
        found.sort_by_key(|c| std::cmp::Reverse(c.created_at));
        found
    }

    /// What Stripe's webhooks or the sync would write (the control route's job).
    pub fn apply(
        &self,
        id: Uuid,
        change: Move,
    ) -> Result<StoredCheckout, MoveError<(String, String)>> {
        let mut state = self.lock();
        let State {
            checkouts,
            subscriptions,
            ..
        } = &mut *state;
        let checkout = checkouts.advance(&id, change)?;
        // Completed and paid: the subscription exists from now on.
        let paid = matches!(
            checkout.payment_status.as_str(),
            "paid" | "no_payment_required"
        );
        if let (true, true, Some(plan)) = (checkout.state == "complete", paid, checkout.plan()) {
            if !subscriptions.contains(&(checkout.org, plan)) {
                subscriptions.push((checkout.org, plan));
            }
        }
        Ok(checkout.clone())
    }

    /// The once-a-minute sync: open sessions past `expire_at` become expired.
    pub fn sync(&self, now: DateTime<Utc>) -> usize {
        let mut state = self.lock();
        let mut expired = 0;
        for c in state.checkouts.iter_mut() {
            // As upstream: even a completed but unpaid session is expired.
            if !c.is_settled() && c.expire_at < now {
                c.state = "expired".to_owned();
                c.updated_at = now;
                expired += 1;
            }
        }
        expired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: Uuid = Uuid::from_u128(1);
    const NO_BILLING: Uuid = Uuid::from_u128(2);
    const PLAN: Uuid = Uuid::from_u128(10);
    const RETIRED: Uuid = Uuid::from_u128(11);
    const PRODUCT: Uuid = Uuid::from_u128(20);

    fn store() -> Store {
        Store::new(
            [(ORG, true), (NO_BILLING, false)],
            [(PLAN, "starter", true), (RETIRED, "old", false)],
            [(PRODUCT, "credits")],
        )
    }

    fn plan(p: &str) -> CreateCheckout {
        CreateCheckout {
            plan: Some(p.to_owned()),
            success_url: "https://x.example/ok?c={{.CheckoutID}}".to_owned(),
            ..CreateCheckout::default()
        }
    }

    fn stored(c: Result<Created, StoreError>) -> StoredCheckout {
        match c {
            Ok(Created::Stored(c)) => c,
            other => panic!("not stored: {other:?}"),
        }
    }

    #[test]
    fn create_follows_the_checkout_service() {
        let s = store();
        let c = stored(s.create(ORG, plan("starter")));
        assert_eq!(c.plan(), Some(PLAN));
        assert_eq!(c.state, "open");
        assert_eq!(c.success_url, format!("https://x.example/ok?c={}", c.id));
        assert_eq!(c.expire_at.timestamp_subsec_nanos(), 0);
        let lag = c.created_at + SESSION_VALIDITY - c.expire_at;
        assert!(
            lag >= TimeDelta::zero() && lag < TimeDelta::seconds(2),
            "{lag}"
        );
        assert!(c
            .checkout_url
            .starts_with("https://checkout.stripe.com/c/pay/cs_test_a1"));
        assert_eq!(
            s.create(NO_BILLING, plan("starter")).err(),
            Some(StoreError::CustomerNotFound)
        );
        assert_eq!(
            s.create(ORG, plan("nope")).err(),
            Some(StoreError::PlanNotFound)
        );
        assert_eq!(
            s.create(ORG, plan("old")).err(),
            Some(StoreError::PlanInactive)
        );
        assert_eq!(
            s.create(ORG, CreateCheckout::default()).err(),
            Some(StoreError::NothingToBuy)
        );
        let product = CreateCheckout {
            product: Some(("credits".into(), 3)),
            ..CreateCheckout::default()
        };
        assert_eq!(stored(s.create(ORG, product)).product(), Some(PRODUCT));
        let missing = CreateCheckout {
            product: Some(("x".into(), 0)),
            ..CreateCheckout::default()
        };
        assert_eq!(
            s.create(ORG, missing).err(),
            Some(StoreError::ProductNotFound)
        );
        s.set_provider_available(false);
        assert_eq!(
            s.create(ORG, plan("starter")).err(),
            Some(StoreError::ProviderUnavailable)
        );
    }

    #[test]
    fn portal_sessions_are_answered_but_never_stored() {
        let s = store();
        let portal = CreateCheckout {
            setup_customer_portal: true,
            success_url: "https://x.example/{{.CheckoutID}}".into(),
            ..CreateCheckout::default()
        };
        let Ok(Created::Portal(p)) = s.create(ORG, portal) else {
            panic!("not a portal session")
        };
        assert_eq!(p.state, "");
        assert_eq!(p.success_url, "https://x.example/{{.CheckoutID}}");
        assert_eq!(s.get(&p.id.to_string()).err(), Some(StoreError::NotFound));
        assert!(s.list(ORG).is_empty());
    }

    #[test]
    fn completing_a_plan_checkout_subscribes_the_org() {
        let s = store();
        let c = stored(s.create(ORG, plan("starter")));
        let unpaid = Move {
            state: Some("complete".into()),
            payment_status: Some("unpaid".into()),
            ..Move::default()
        };
        s.apply(c.id, unpaid).expect("complete, unpaid");
        assert!(s.create(ORG, plan("starter")).is_ok(), "not paid yet");
        let paid = Move {
            payment_status: Some("paid".into()),
            ..Move::default()
        };
        s.apply(c.id, paid).expect("paid");
        assert_eq!(
            s.create(ORG, plan(&PLAN.to_string())).err(),
            Some(StoreError::AlreadySubscribed)
        );
        let back = Move {
            state: Some("open".into()),
            ..Move::default()
        };
        assert!(matches!(
            s.apply(c.id, back),
            Err(MoveError::Illegal { .. })
        ));
    }

    #[test]
    fn the_sync_expires_overdue_open_sessions() {
        let s = store();
        let c = stored(s.create(ORG, plan("starter")));
        let later = c.expire_at + TimeDelta::seconds(1);
        assert_eq!(s.sync(c.expire_at), 0, "at expire_at it is still open");
        assert_eq!(s.sync(later), 1);
        assert_eq!(
            s.get(&c.id.to_string()).map(|c| c.state),
            Ok("expired".into())
        );
        assert_eq!(s.get("not-a-uuid").err(), Some(StoreError::InvalidUuid));
    }
}
