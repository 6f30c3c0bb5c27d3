//! The emulated tenant's data: customers, plan versions, checkout sessions,
//! and the session lifecycle (CREATED → AWAITING_PAYMENT → COMPLETED;
//! EXPIRED; CANCELLED).

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use uuid::Uuid;

use super::ids::{CheckoutSession as SessionKind, Customer, Id, PlanVersion};
use super::model::{CheckoutSession, CheckoutType, Status};
use super::request::CreateCheckoutSessionRequest;
use crate::kit::fill::{self, Fill};
use crate::kit::lifecycle::{Lifecycle, MoveError};
use crate::kit::store::{session_by_id, Locked, Sessions};

/// The vendor hard-deletes EXPIRED sessions this long after creation.
const EXPIRED_RETENTION_DAYS: i64 = 3;

/// A UUIDv7 minted at `at`, as the vendor's database would have then.
fn v7_at(at: DateTime<Utc>) -> Uuid {
    let secs = u64::try_from(at.timestamp()).unwrap_or_default();
    Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        secs,
        at.timestamp_subsec_nanos(),
    ))
}

/// The stored session is the one the API shows; `checkout_url` is only
/// set on the copies answered (see `render`).
impl CheckoutSession {
    fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.status == Status::Expired || self.expires_at.is_some_and(|at| now > at)
    }

    /// Whether the hosted page can still be used (and so a URL is shown).
    pub fn can_complete(&self, now: DateTime<Utc>) -> bool {
        self.status.is_open() && !self.is_expired(now)
    }

    /// The session as an answer shows it, with its URL if it has one now.
    pub fn render(&self, checkout_url: Option<String>) -> CheckoutSession {
        CheckoutSession {
            checkout_url,
            ..self.clone()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateError {
    /// Unknown customer or plan version id: a foreign-key violation upstream.
    ForeignKey,
    /// `expires_in_hours` past chrono's range: the vendor's handler panics.
    Overflow,
}

/// What the control route asks for, at `at`; `expires_at: Some(None)` = never.
#[derive(Debug, Clone)]
pub struct Move {
    pub status: Option<Status>,
    pub expires_at: Option<Option<DateTime<Utc>>>,
    pub at: DateTime<Utc>,
}

session_by_id!(CheckoutSession, Id<SessionKind>);

impl Lifecycle for CheckoutSession {
    type Status = Status;
    type Move = Move;

    fn transition(&self, change: &Move) -> Option<(Status, Status)> {
        change.status.map(|to| (self.status, to))
    }

    /// The lifecycle the vendor's flows can produce.
    fn allowed(from: &Status, to: &Status) -> bool {
        use Status::*;
        matches!(
            (from, to),
            (Created, AwaitingPayment | Completed | Expired | Cancelled)
                | (AwaitingPayment, Completed | Expired | Cancelled)
        )
    }

    fn apply(&mut self, change: Move) {
        if let Some(to) = change.status {
            self.status = to;
            if to == Status::Completed {
                self.completed_at = Some(change.at);
                self.subscription_id.get_or_insert_with(Id::new_v7);
            }
        }
        if let Some(expires_at) = change.expires_at {
            self.expires_at = expires_at.map(|at| at.trunc_subsecs(6));
        }
    }
}

/// The seeded customers and plan versions never change; the sessions do.
#[derive(Debug)]
pub struct Store {
    customers: Vec<(Id<Customer>, Option<String>)>,
    plan_versions: Vec<Id<PlanVersion>>,
    sessions: Locked<Sessions<CheckoutSession>>,
}

impl Store {
    pub fn new(
        customers: impl IntoIterator<Item = (Uuid, Option<String>)>,
        plan_versions: impl IntoIterator<Item = Uuid>,
    ) -> Store {
        Store {
            customers: customers
                .into_iter()
                .map(|(id, alias)| (Id::from_uuid(id), alias))
                .collect(),
            plan_versions: plan_versions.into_iter().map(Id::from_uuid).collect(),
            sessions: Locked::default(),
        }
    }

    pub fn customer_by_alias(&self, alias: &str) -> Option<Id<Customer>> {
        self.customers
            .iter()
            .find(|(_, a)| a.as_deref() == Some(alias))
            .map(|(id, _)| *id)
    }

    pub fn create(
        &self,
        customer_id: Id<Customer>,
        request: CreateCheckoutSessionRequest,
        now: DateTime<Utc>,
    ) -> Result<CheckoutSession, CreateError> {
        let expires_at = match request.expires_in_hours.unwrap_or(1) {
            0 => None,
            hours => Some(
                TimeDelta::try_hours(i64::from(hours))
                    .and_then(|d| now.checked_add_signed(d))
                    .ok_or(CreateError::Overflow)?,
            ),
        };
        let known_customer = self.customers.iter().any(|(id, _)| *id == customer_id);
        let known_plan = self.plan_versions.contains(&request.plan_version_id);
        if !known_customer || !known_plan {
            return Err(CreateError::ForeignKey);
        }
        let session = CheckoutSession {
            id: Id::new_v7(),
            customer_id,
            plan_version_id: request.plan_version_id,
            coupon_code: request.coupon_code,
            billing_start_date: request.billing_start_date,
            // Wrapping on purpose: the vendor stores `anchor as i16` (a
            // SMALLINT column) and answers with what it stored.
            billing_day_anchor: request.billing_day_anchor.map(|a| i32::from(a as i16)),
            net_terms: request.net_terms,
            trial_duration_days: request.trial_duration_days,
            status: Status::Created,
            checkout_type: CheckoutType::SelfServe,
            created_at: now,
            expires_at,
            completed_at: None,
            subscription_id: None,
            checkout_url: None,
            payment_methods_config: request.payment_methods_config,
            success_url: request.success_url,
            cancel_url: request.cancel_url,
            metadata: request.metadata,
        };
        Ok(self.sessions.lock().insert(session))
    }

    pub fn get(&self, id: Id<SessionKind>) -> Option<CheckoutSession> {
        self.sessions.get_cloned(&id)
    }

    /// Newest first, no pagination, like the vendor.
    pub fn list(
        &self,
        customer: Option<Id<Customer>>,
        status: Option<Status>,
    ) -> Vec<CheckoutSession> {
        let mut found: Vec<CheckoutSession> = self
            .sessions
            .lock()
            .iter()
            .filter(|s| customer.is_none_or(|c| s.customer_id == c))
            .filter(|s| status.is_none_or(|st| s.status == st))
            .cloned()
            .collect();
        // UUIDv7 order breaks created_at ties the way insertion did.
        found.sort_by_key(|s| std::cmp::Reverse((s.created_at, s.id.uuid())));
        found
    }

    /// Only CREATED or AWAITING_PAYMENT sessions can be cancelled, even
    /// when already past `expires_at`.
    pub fn cancel(&self, id: Id<SessionKind>) -> Option<CheckoutSession> {
        let mut sessions = self.sessions.lock();
        let session = sessions.get_mut(&id).filter(|s| s.status.is_open())?;
        session.status = Status::Cancelled;
        Some(session.clone())
    }

    /// Moves a session along the lifecycle (the control route's job).
    pub fn apply(
        &self,
        id: Id<SessionKind>,
        change: Move,
    ) -> Result<CheckoutSession, MoveError<Status>> {
        self.sessions.advance_cloned(&id, change)
    }

    /// `fill.count` sessions for the seeded customers and plan versions, as
    /// the tenant would hold them now: 60 % CREATED and 8 % AWAITING_PAYMENT
    /// (half never expire, half in a week), 17 % COMPLETED, 8 % EXPIRED,
    /// 7 % CANCELLED. The hourly worker would have turned an overdue CREATED
    /// one EXPIRED and deleted EXPIRED ones older than 3 days, so a would-be
    /// expired session is still CREATED within its first hour, and one past
    /// the retention is left COMPLETED instead.
    pub fn fill(&self, fill: &Fill) -> usize {
        let kept_from = fill.now - TimeDelta::days(EXPIRED_RETENTION_DAYS);
        let made: Vec<CheckoutSession> = (0..fill.count)
            .map(|i| {
                let created_at = fill.created_at(i).trunc_subsecs(6);
                let default_expiry = created_at + TimeDelta::hours(1);
                let slot = fill::slot(i);
                let status = match slot {
                    0..60 => Status::Created,
                    60..68 => Status::AwaitingPayment,
                    68..85 => Status::Completed,
                    85..93 if default_expiry >= fill.now => Status::Created,
                    85..93 if created_at < kept_from => Status::Completed,
                    85..93 => Status::Expired,
                    _ => Status::Cancelled,
                };
                let expires_at = match status {
                    // `expires_in_hours` long enough to be still open now.
                    Status::Created | Status::AwaitingPayment if slot.is_multiple_of(2) => {
                        let age = (fill.now - created_at).num_hours();
                        Some(created_at + TimeDelta::hours(age + 24 * 7))
                    }
                    Status::Created | Status::AwaitingPayment => None,
                    _ => Some(default_expiry),
                };
                let completed_at = (status == Status::Completed)
                    .then(|| fill.past(created_at + TimeDelta::minutes(10)));
                let (customer, _) = self.customers[i % self.customers.len()];
                CheckoutSession {
                    id: Id::from_uuid(v7_at(created_at)),
                    customer_id: customer,
                    plan_version_id: self.plan_versions[(i / 2) % self.plan_versions.len()],
                    coupon_code: None,
                    billing_start_date: None,
                    billing_day_anchor: None,
                    net_terms: None,
                    trial_duration_days: None,
                    status,
                    checkout_type: CheckoutType::SelfServe,
                    created_at,
                    expires_at,
                    completed_at,
                    subscription_id: completed_at.map(|at| Id::from_uuid(v7_at(at))),
                    checkout_url: None,
                    payment_methods_config: None,
                    success_url: None,
                    cancel_url: None,
                    metadata: None,
                }
            })
            .collect();
        let count = made.len();
        self.sessions.lock().extend(made);
        count
    }

    /// The vendor's hourly batch: only CREATED sessions past `expires_at`.
    pub fn expire_overdue(&self, now: DateTime<Utc>) -> usize {
        let mut sessions = self.sessions.lock();
        let mut expired = 0;
        for session in sessions.iter_mut() {
            let overdue = session.expires_at.is_some_and(|at| at < now);
            if session.status == Status::Created && overdue {
                session.status = Status::Expired;
                expired += 1;
            }
        }
        expired
    }

    /// The same worker's cleanup: EXPIRED sessions older than 3 days vanish.
    pub fn delete_old_expired(&self, now: DateTime<Utc>) -> usize {
        let cutoff = now - TimeDelta::days(EXPIRED_RETENTION_DAYS);
        self.sessions
            .lock()
            .retain(|s| !(s.status == Status::Expired && s.created_at < cutoff))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::clock::now_micros as now;

    fn request(plan: Uuid, hours: Option<u32>) -> CreateCheckoutSessionRequest {
        let body = serde_json::json!({
            "customer_id": "acme",
            "plan_version_id": plan.to_string(),
            "expires_in_hours": hours,
        });
        serde_json::from_value(body).expect("valid request")
    }

    fn store() -> (Store, Id<Customer>, Uuid) {
        let customer = Uuid::now_v7();
        let plan = Uuid::now_v7();
        let store = Store::new([(customer, Some("acme".into()))], [plan]);
        (store, Id::from_uuid(customer), plan)
    }

    #[test]
    fn unknown_references_are_foreign_key_errors() {
        let (store, customer, plan) = store();
        let other = Id::from_uuid(Uuid::now_v7());
        assert_eq!(
            store.create(other, request(plan, None), now()).err(),
            Some(CreateError::ForeignKey)
        );
        assert_eq!(
            store
                .create(customer, request(Uuid::now_v7(), None), now())
                .err(),
            Some(CreateError::ForeignKey)
        );
    }

    #[test]
    fn expiry_defaults_to_one_hour_and_zero_means_never() {
        let (store, customer, plan) = store();
        let t = now();
        let s = store
            .create(customer, request(plan, None), t)
            .expect("created");
        assert_eq!(s.expires_at, Some(t + TimeDelta::hours(1)));
        let s = store
            .create(customer, request(plan, Some(0)), t)
            .expect("created");
        assert_eq!(s.expires_at, None);
        let s = store.create(customer, request(plan, Some(u32::MAX)), t);
        assert_eq!(s.err(), Some(CreateError::Overflow));
    }

    #[test]
    fn worker_expires_only_overdue_created_sessions() {
        let (store, customer, plan) = store();
        let t = now();
        let overdue = store
            .create(customer, request(plan, Some(1)), t)
            .expect("a");
        let waiting = store
            .create(customer, request(plan, Some(1)), t)
            .expect("b");
        let forever = store
            .create(customer, request(plan, Some(0)), t)
            .expect("c");
        let to_awaiting = Move {
            status: Some(Status::AwaitingPayment),
            expires_at: None,
            at: t,
        };
        store.apply(waiting.id, to_awaiting).expect("moved");
        let later = t + TimeDelta::hours(2);
        assert!(!overdue.can_complete(later));
        assert_eq!(store.expire_overdue(later), 1);
        assert_eq!(
            store.get(overdue.id).map(|s| s.status),
            Some(Status::Expired)
        );
        assert_eq!(
            store.get(waiting.id).map(|s| s.status),
            Some(Status::AwaitingPayment)
        );
        assert_eq!(
            store.get(forever.id).map(|s| s.status),
            Some(Status::Created)
        );
        assert_eq!(store.delete_old_expired(t + TimeDelta::days(4)), 1);
        assert!(store.get(overdue.id).is_none());
    }

    #[test]
    fn terminal_sessions_do_not_move() {
        let (store, customer, plan) = store();
        let s = store
            .create(customer, request(plan, None), now())
            .expect("created");
        assert!(store.cancel(s.id).is_some());
        assert!(store.cancel(s.id).is_none());
        let back = Move {
            status: Some(Status::Created),
            expires_at: None,
            at: now(),
        };
        assert_eq!(
            store.apply(s.id, back).err(),
            Some(MoveError::Illegal {
                from: Status::Cancelled,
                to: Status::Created
            })
        );
    }
}
