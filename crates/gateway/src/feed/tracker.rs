//! Recording what the gateway saw of a session: the tracked row's last
//! state is compared with the new sighting (`feed::changes`), and the new
//! state and the events it makes go into the store in one transaction,
//! guarded by the row's version (a writer that lost the race re-reads and
//! recomputes, so a change makes its events once).
//!
//! Reads and lists must stay cheap: their sightings go into a bounded
//! queue drained by one writer task, and a session whose statuses were
//! recorded moments ago is not queued again. A create awaits its record
//! (bounded): a session the client heard about is tracked. The poller
//! records directly and gets the events back.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use checkout_core::{CheckoutSession, Status};
use chrono::{DateTime, Utc};
use feed::event::{changes, event, new_event_id, Seen, Sighting};
use feed::schedule::{next_poll, PollPolicy};
use store::{NewEvent, Observation, Recorded, StoredEvent, Tracked};
use tokio::sync::{mpsc, watch};

use crate::idempotency::Idempotency;
use crate::telemetry::metrics::Metrics;

/// Sightings waiting for the writer; past this, sightings are dropped (and
/// counted): the session is seen again at its next read, list or create.
pub const QUEUE_CAPACITY: usize = 10_000;

/// A session whose statuses were recorded this recently is not queued again
/// for an unchanged read or list item.
pub const RECENT: Duration = Duration::from_secs(30);

/// Sessions remembered as recently recorded (per replica).
const RECENT_CAPACITY: u64 = 10_000;

/// Tries of one record when other writers keep moving the row.
const MAX_TRIES: u32 = 5;

/// How much of the session a sighting carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Everything a get answers.
    Full,
    /// A list item with fewer fields than a get (Flowglad, Zenskar): it
    /// never replaces the state recorded from a get, and a change it shows
    /// is not made an event from it but polled (a get) at once.
    Partial,
}

/// One sighting of a session.
#[derive(Debug, Clone)]
pub struct Sight {
    /// As the vendor answered it (the vendor-mapped status; expiry is
    /// derived at `at`).
    pub session: CheckoutSession,
    /// The vendor's link key (`Connector::feed_hint`).
    pub hint: Option<String>,
    pub sighting: Sighting,
    pub detail: Detail,
    pub at: DateTime<Utc>,
}

impl Sight {
    /// A sighting of everything a get answers, now.
    pub fn new(session: &CheckoutSession, hint: Option<String>, sighting: Sighting) -> Sight {
        Sight::at(session, hint, sighting, Utc::now())
    }

    pub fn at(
        session: &CheckoutSession,
        hint: Option<String>,
        sighting: Sighting,
        at: DateTime<Utc>,
    ) -> Sight {
        Sight {
            session: session.clone(),
            hint,
            sighting,
            detail: Detail::Full,
            at,
        }
    }

    /// The same sighting, of a list item with fewer fields than a get.
    pub fn partial(self) -> Sight {
        Sight {
            detail: Detail::Partial,
            ..self
        }
    }

    /// The statuses as of the sighting (expiry derived).
    pub fn seen(&self) -> Seen {
        seen_at(&self.session, self.at)
    }
}

/// `Seen::of(&session.as_of(at))`, without copying the session.
fn seen_at(session: &CheckoutSession, at: DateTime<Utc>) -> Seen {
    Seen {
        status: session.status.derived(session.expires_at, at),
        payment_status: session.payment_status,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TrackError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("the tracked session kept changing: {MAX_TRIES} tries lost to other writers")]
    Contended,
}

impl TrackError {
    /// The `reason` label of `checkout_gateway_feed_dropped_total`.
    pub fn reason(&self) -> &'static str {
        match self {
            TrackError::Store(_) => "store_error",
            TrackError::Contended => "contended",
        }
    }
}

/// What one sighting made.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recording {
    /// Events recorded, in seq order.
    pub events: Vec<StoredEvent>,
    /// Nothing was written (a stale sighting of a finished session, or a
    /// partial one of a session already terminal).
    pub ignored: bool,
}

/// Records sightings; the feed holds one.
pub struct Tracker {
    recorder: Arc<Recorder>,
    queue: OnceLock<mpsc::Sender<Queued>>,
}

struct Queued {
    sight: Sight,
    metrics: Arc<Metrics>,
}

/// What a record needs, shared with the writer task.
struct Recorder {
    enabled: bool,
    store: Arc<Idempotency>,
    head: watch::Sender<i64>,
    policy: PollPolicy,
    /// Session id → statuses last recorded by this replica, for a short while.
    recent: moka::sync::Cache<String, Seen>,
}

impl Tracker {
    pub fn new(
        enabled: bool,
        store: Arc<Idempotency>,
        head: watch::Sender<i64>,
        policy: PollPolicy,
    ) -> Tracker {
        Tracker {
            recorder: Arc::new(Recorder {
                enabled,
                store,
                head,
                policy,
                recent: moka::sync::Cache::builder()
                    .max_capacity(RECENT_CAPACITY)
                    .time_to_live(RECENT)
                    .build(),
            }),
            queue: OnceLock::new(),
        }
    }

    /// The poll schedule records use.
    pub fn policy(&self) -> &PollPolicy {
        &self.recorder.policy
    }

    /// Queue a sighting of `session` now (reads, list items, cancels):
    /// never waits. An unchanged session recorded moments ago is skipped
    /// before anything is copied (or `hint` asked); a full queue drops the
    /// sighting (counted).
    pub fn observe(
        &self,
        metrics: &Arc<Metrics>,
        session: &CheckoutSession,
        sighting: Sighting,
        detail: Detail,
        hint: impl FnOnce() -> Option<String>,
    ) {
        let at = Utc::now();
        if !self.recorder.enabled
            || self.recorder.recent.get(&session.id) == Some(seen_at(session, at))
        {
            return;
        }
        let sight = Sight {
            session: session.clone(),
            hint: hint(),
            sighting,
            detail,
            at,
        };
        let Some(queue) = self.queue() else {
            metrics.feed_dropped("no_runtime");
            return;
        };
        let queued = Queued {
            sight,
            metrics: metrics.clone(),
        };
        match queue.try_send(queued) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => metrics.feed_dropped("queue_full"),
            Err(mpsc::error::TrySendError::Closed(_)) => metrics.feed_dropped("closed"),
        }
    }

    /// Record a sighting now, waiting at most `within` (creates: the client
    /// hears of the session once it is tracked). A failure is logged and
    /// counted, never the caller's error; false when it was not recorded.
    pub async fn observe_now(&self, metrics: &Metrics, sight: Sight, within: Duration) -> bool {
        if !self.recorder.enabled {
            return false;
        }
        let id = sight.session.id.clone();
        match tokio::time::timeout(within, self.record(metrics, &sight, None)).await {
            Ok(Ok(_)) => true,
            Ok(Err(e)) => {
                tracing::warn!(session = %id, error = %e, "a created session was not tracked");
                metrics.feed_dropped(e.reason());
                false
            }
            Err(_) => {
                tracing::warn!(session = %id, within_ms = within.as_millis() as u64, "tracking a created session timed out; answering anyway");
                metrics.feed_dropped("timeout");
                false
            }
        }
    }

    /// Record a sighting and return the events it made. `known` is the
    /// tracked row when the caller just read it (the poller): one read
    /// less unless another writer was first.
    pub async fn record(
        &self,
        metrics: &Metrics,
        sight: &Sight,
        known: Option<Tracked>,
    ) -> Result<Recording, TrackError> {
        self.recorder.record(metrics, sight, known).await
    }

    /// The writer's queue, its task started at the first sighting (a
    /// runtime is needed; the state may be built outside one).
    fn queue(&self) -> Option<&mpsc::Sender<Queued>> {
        if let Some(queue) = self.queue.get() {
            return Some(queue);
        }
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        Some(self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
            runtime.spawn(write(self.recorder.clone(), receiver));
            sender
        }))
    }
}

/// The writer: one record at a time, until the tracker is dropped.
async fn write(recorder: Arc<Recorder>, mut queue: mpsc::Receiver<Queued>) {
    while let Some(Queued { sight, metrics }) = queue.recv().await {
        if let Err(e) = recorder.record(&metrics, &sight, None).await {
            tracing::warn!(session = %sight.session.id, error = %e, "a sighting was not recorded");
            metrics.feed_dropped(e.reason());
        }
    }
}

/// What to write for one sighting, given the row as it stands.
struct Plan {
    state: String,
    seen: Seen,
    kinds: Vec<feed::EventType>,
    next_poll_ms: Option<i64>,
}

impl Recorder {
    async fn record(
        &self,
        metrics: &Metrics,
        sight: &Sight,
        mut known: Option<Tracked>,
    ) -> Result<Recording, TrackError> {
        let store = self.store.open().await?;
        let session = sight.session.as_of(sight.at);
        let account = format!("{}:{}", session.provider, session.account);
        for _ in 0..MAX_TRIES {
            let row = match known.take() {
                Some(row) => Some(row),
                None => store.tracked(&session.id).await?,
            };
            let Some(plan) = plan(&self.policy, sight, &session, row.as_ref()) else {
                return Ok(Recording {
                    events: Vec::new(),
                    ignored: true,
                });
            };
            let previous = row
                .as_ref()
                .and_then(|r| Seen::from_stored(&r.status, r.payment_status.as_deref()));
            let events: Vec<feed::Event> = plan
                .kinds
                .iter()
                .map(|kind| {
                    let id = new_event_id(&uuid::Uuid::now_v7().simple().to_string());
                    event(*kind, &session, previous, sight.at, id)
                })
                .collect();
            let new_events: Vec<NewEvent> = events
                .iter()
                .map(|e| NewEvent {
                    id: &e.id,
                    kind: e.kind.as_str(),
                    created_ms: e.created_at.timestamp_millis(),
                    body: &e.body,
                })
                .collect();
            let (status, payment_status) = plan.seen.stored();
            let observation = Observation {
                session_id: &session.id,
                account: &account,
                status,
                payment_status,
                state: &plan.state,
                hint: sight.hint.as_deref(),
                created_ms: session.created_at.timestamp_millis(),
                expires_ms: session.expires_at.map(|at| at.timestamp_millis()),
                next_poll_ms: plan.next_poll_ms,
                // Done with: not polled again, purged after the grace.
                terminal: plan.next_poll_ms.is_none(),
                seen_ms: sight.at.timestamp_millis(),
            };
            let expected = row.as_ref().map(|r| r.version);
            match store.record(&observation, expected, &new_events).await? {
                Recorded::Conflict => continue,
                Recorded::Done(stored) => {
                    for e in &stored {
                        metrics.event_recorded(&e.kind);
                        if e.kind == feed::EventType::Completed.as_str() {
                            count_routed_completion(store, metrics, &e.session_id).await;
                        }
                    }
                    if let Some(last) = stored.last() {
                        self.written(last.seq);
                    }
                    self.recent.insert(session.id.clone(), plan.seen);
                    return Ok(Recording {
                        events: stored,
                        ignored: false,
                    });
                }
            }
        }
        Err(TrackError::Contended)
    }

    fn written(&self, seq: i64) {
        super::advance(&self.head, seq);
    }
}

/// A completed session that routing made counts for its rule and target
/// (`GET /v1/routing`, `routed_completions`).
async fn count_routed_completion(store: &store::Store, metrics: &Metrics, session_id: &str) {
    match store.route_of(session_id).await {
        Ok(Some(route)) => metrics.routing.completed(&route.rule, &route.target),
        Ok(None) => {}
        Err(error) => tracing::warn!(%error, "reading a completed session's route failed"),
    }
}

/// What `sight` writes over `row` (`session` is its session as of the
/// sighting); `None` when it writes nothing.
fn plan(
    policy: &PollPolicy,
    sight: &Sight,
    session: &CheckoutSession,
    row: Option<&Tracked>,
) -> Option<Plan> {
    let now_seen = Seen::of(session);
    let previous = row.and_then(|r| Seen::from_stored(&r.status, r.payment_status.as_deref()));
    // Polled while it may still change: past `expires_at` a session reads
    // expired, but one the vendor still has in payment may yet complete.
    let vendor_status = sight.session.status;
    let scheduled = |seen: &Seen| {
        let settled = seen.status.is_terminal()
            && !(seen.status == Status::Expired && vendor_status == Status::Processing);
        (!settled).then(|| {
            next_poll(policy, session.created_at, session.expires_at, sight.at).timestamp_millis()
        })
    };
    if let Some(row) = row {
        // An older sighting (queued behind a newer one, or another
        // replica's) writes nothing: it would undo the newer state, and the
        // change would make its event again when seen once more.
        if sight.at.timestamp_millis() < row.seen_ms {
            return None;
        }
    }
    if let Some(previous) = previous {
        // A terminal session never changes again: an older sighting queued
        // behind a newer one must not undo it (and make its event twice
        // when it is seen again).
        if previous.status.is_terminal() && !now_seen.status.is_terminal() {
            return None;
        }
    }
    match (sight.detail, row, previous) {
        (Detail::Partial, Some(row), Some(previous)) => {
            // Terminal already: nothing a summary says changes it.
            row.next_poll_ms?;
            // Keep the fuller state; a change is for a get to confirm.
            let next_poll_ms = if previous == now_seen {
                scheduled(&previous)
            } else {
                Some(sight.at.timestamp_millis())
            };
            Some(Plan {
                state: row.state.clone(),
                seen: previous,
                kinds: Vec::new(),
                next_poll_ms,
            })
        }
        _ => Some(Plan {
            // Plain data into memory: serialising cannot fail.
            state: serde_json::to_string(session).unwrap_or_default(),
            seen: now_seen,
            kinds: changes(previous, &now_seen, sight.sighting),
            next_poll_ms: scheduled(&now_seen),
        }),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use feed::EventType;

    use super::*;

    fn session(status: &str, expires_at: Option<&str>) -> CheckoutSession {
        let expires = expires_at.map_or(String::new(), |at| format!(r#","expires_at":"{at}""#));
        let body = format!(
            r#"{{"session":{{"id":"che_1","customer_id":"cus_1","plan_version_id":"plv_1","status":"{status}","checkout_type":"SELF_SERVE","created_at":"2026-01-19T10:00:00Z"{expires}}}}}"#
        );
        adapter_meteroid::read::session_body("default", body.as_bytes()).unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn sight(session: &CheckoutSession, sighting: Sighting, detail: Detail) -> Sight {
        Sight {
            detail,
            ..Sight::at(session, None, sighting, at("2026-01-19T10:00:05Z"))
        }
    }

    /// The row recording `session` (its statuses as given), polled next at
    /// `next_poll_ms`.
    fn row(session: &CheckoutSession, next_poll_ms: Option<i64>) -> Tracked {
        let (status, payment_status) = Seen::of(session).stored();
        Tracked {
            session_id: session.id.clone(),
            account: "meteroid:default".into(),
            status: status.into(),
            payment_status: payment_status.map(str::to_owned),
            state: "the state a get recorded".into(),
            hint: None,
            created_ms: session.created_at.timestamp_millis(),
            expires_ms: None,
            next_poll_ms,
            failures: 0,
            terminal_ms: None,
            version: 3,
            seen_ms: 0,
        }
    }

    fn plan_of(sight: &Sight, row: Option<&Tracked>) -> Option<Plan> {
        plan(
            &PollPolicy::default(),
            sight,
            &sight.session.as_of(sight.at),
            row,
        )
    }

    #[test]
    fn a_create_is_news_and_polled_ten_seconds_later() {
        let open = session("CREATED", None);
        let sight = sight(&open, Sighting::Created, Detail::Full);
        let plan = plan_of(&sight, None).unwrap();
        assert_eq!(plan.kinds, [EventType::Created]);
        assert_eq!(
            plan.next_poll_ms,
            Some((sight.at + TimeDelta::seconds(10)).timestamp_millis())
        );
        assert!(plan.state.contains(r#""status":"open""#), "{}", plan.state);
    }

    #[test]
    fn a_change_makes_its_event_and_a_terminal_session_is_not_polled() {
        let open = session("CREATED", None);
        let complete = session("COMPLETED", None);
        let plan = plan_of(
            &sight(&complete, Sighting::Polled, Detail::Full),
            Some(&row(&open, Some(1))),
        )
        .unwrap();
        assert_eq!(plan.kinds, [EventType::Completed]);
        assert_eq!(plan.next_poll_ms, None);
    }

    #[test]
    fn expiry_is_derived_at_the_sighting() {
        let open = session("CREATED", Some("2026-01-19T10:00:04Z"));
        let plan = plan_of(
            &sight(&open, Sighting::Polled, Detail::Full),
            Some(&row(&open, Some(1))),
        )
        .unwrap();
        assert_eq!(plan.kinds, [EventType::Expired]);
        assert_eq!(plan.next_poll_ms, None);
    }

    #[test]
    fn a_session_still_in_payment_at_its_expiry_reads_expired_and_is_still_polled() {
        let expires = Some("2026-01-19T10:00:04Z");
        let open = session("CREATED", expires);
        let paying = session("AWAITING_PAYMENT", expires);
        let plan = plan_of(
            &sight(&paying, Sighting::Polled, Detail::Full),
            Some(&row(&open, Some(1))),
        )
        .unwrap();
        assert_eq!(plan.kinds, [EventType::Expired]);
        assert!(
            plan.next_poll_ms.is_some(),
            "the vendor may yet complete it"
        );
        // It completes at the vendor after all: that is an event too, and
        // the end of polling.
        let mut expired = row(&paying, Some(1));
        expired.status = "expired".into();
        let complete = session("COMPLETED", expires);
        let plan = plan_of(
            &sight(&complete, Sighting::Polled, Detail::Full),
            Some(&expired),
        )
        .unwrap();
        assert_eq!(plan.kinds, [EventType::Completed]);
        assert_eq!(plan.next_poll_ms, None);
    }

    #[test]
    fn a_sighting_older_than_the_recorded_one_writes_nothing() {
        let open = session("CREATED", None);
        let paying = session("AWAITING_PAYMENT", None);
        let late = sight(&open, Sighting::Read, Detail::Full);
        let mut recorded = row(&paying, Some(1));
        recorded.seen_ms = (late.at + TimeDelta::seconds(1)).timestamp_millis();
        assert!(plan_of(&late, Some(&recorded)).is_none());
        // As new as the recorded one: applied.
        recorded.seen_ms = late.at.timestamp_millis();
        assert!(plan_of(&late, Some(&recorded)).is_some());
    }

    #[test]
    fn a_stale_sighting_never_reopens_a_finished_session() {
        let open = session("CREATED", None);
        let complete = session("COMPLETED", None);
        for detail in [Detail::Full, Detail::Partial] {
            let stale = sight(&open, Sighting::Read, detail);
            assert!(plan_of(&stale, Some(&row(&complete, None))).is_none());
        }
    }

    #[test]
    fn a_summary_keeps_the_full_state_and_sends_a_change_to_a_get() {
        let open = session("CREATED", None);
        let complete = session("COMPLETED", None);
        let tracked = row(&open, Some(1));
        // Unchanged: rescheduled, the state a get recorded kept.
        let same = sight(&open, Sighting::Listed, Detail::Partial);
        let plan = plan_of(&same, Some(&tracked)).unwrap();
        assert!(plan.kinds.is_empty());
        assert_eq!(plan.state, tracked.state);
        assert_eq!(
            plan.next_poll_ms,
            Some((same.at + TimeDelta::seconds(10)).timestamp_millis())
        );
        // Changed: no event from a summary; polled at once, the old
        // statuses kept until the get.
        let changed = sight(&complete, Sighting::Listed, Detail::Partial);
        let plan = plan_of(&changed, Some(&tracked)).unwrap();
        assert!(plan.kinds.is_empty());
        assert_eq!(plan.seen, Seen::of(&open));
        assert_eq!(plan.next_poll_ms, Some(changed.at.timestamp_millis()));
        // A first sight from a summary is a baseline like any other.
        let plan = plan_of(&changed, None).unwrap();
        assert!(plan.kinds.is_empty());
        assert_eq!(plan.next_poll_ms, None);
    }
}
