//! Webhook delivery (PRODUCT §11), per Standard Webhooks: each configured
//! endpoint gets every event its filter takes, signed, at least once, in
//! event order per session.
//!
//! One task per endpoint, on every replica; the one holding the store lease
//! `deliver:<name>` delivers (a dead replica's lease runs out after
//! `feed.lease_secs` and moves). It fans new events out into deliveries,
//! then attempts the due ones, up to [`PARALLEL`] at a time (the store
//! offers one per session at a time, so a session's events stay in order).
//! Everything is in the store, so a restart or a replica taking over
//! resumes where the last one stopped; an attempt whose outcome was not
//! recorded is made again (receivers deduplicate on `webhook-id`).
//!
//! Outcomes: 2xx delivered; `410 Gone` disables the endpoint until a
//! reload gives it another URL or secret (its deliveries wait, and the
//! events recorded meanwhile are fanned out then); anything else (another
//! status, a redirect, a timeout, no connection) is retried on
//! `webhooks.retry_schedule_secs`, no sooner than the receiver's
//! `Retry-After`, and fails for good after the last retry.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ::feed::Next;
use chrono::{DateTime, Utc};
use http::header::{CONTENT_TYPE, RETRY_AFTER};
use store::{AttemptOutcome, AttemptRecord, Delivery, Store, StoreError};
use tokio::task::{JoinHandle, JoinSet};
use tracing::Instrument;

use crate::feed::endpoints::Endpoint;
use crate::feed::Feed;
use crate::state::live::Gateway;
use crate::telemetry::metrics::Metrics;

/// Sent with every delivery.
pub const USER_AGENT: &str = concat!("checkout-gateway/", env!("CARGO_PKG_VERSION"));
/// Attempts in flight per endpoint (each of another session).
pub const PARALLEL: usize = 8;
/// How often the store is read again without a wake-up: events other
/// replicas wrote, retries coming due, configuration changes.
const POLL_EVERY: Duration = Duration::from_secs(1);
/// Events read per fan-out transaction, and such batches per pass at most.
const FAN_OUT_BATCH: i64 = 500;
const FAN_OUT_BATCHES: usize = 20;
/// Longest failure description kept with an attempt.
const MAX_ERROR_LEN: usize = 200;

/// Deliver events to the configured endpoints for as long as the runtime
/// runs, following reloads (endpoints added, removed, changed). Nothing
/// when `feed.enabled` is off.
pub fn start(gateway: Arc<Gateway>) {
    if !gateway.current().feed.config().enabled {
        tracing::info!("feed.enabled is off: no webhook deliveries");
        return;
    }
    let http = reqwest::Client::builder()
        // A redirect is a failure to retry, not somewhere else to send events.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(USER_AGENT)
        .build();
    match http {
        Ok(http) => {
            tokio::spawn(supervise(gateway, http));
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot build the webhook HTTP client: no webhook deliveries")
        }
    }
}

/// One worker per configured endpoint: started when it appears, and (the
/// worker's own doing) ended when it goes.
async fn supervise(gateway: Arc<Gateway>, http: reqwest::Client) {
    let mut workers: BTreeMap<String, JoinHandle<()>> = BTreeMap::new();
    let mut ticks = tokio::time::interval(POLL_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        workers.retain(|_, worker| !worker.is_finished());
        let state = gateway.current();
        for name in state.webhooks.names() {
            if !workers.contains_key(name) {
                let worker = Worker::new(gateway.clone(), http.clone(), name);
                workers.insert(name.to_owned(), tokio::spawn(worker.run()));
            }
        }
    }
}

/// Why a pass stopped early (it is tried again at the next one).
#[derive(Debug, thiserror::Error)]
enum PassError {
    #[error("the store is not open: {0}")]
    Closed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Delivers one endpoint's events.
struct Worker {
    gateway: Arc<Gateway>,
    feed: Arc<Feed>,
    metrics: Arc<Metrics>,
    http: reqwest::Client,
    name: String,
    lease: String,
    held: bool,
    /// When the lease was last taken or renewed.
    renewed: Option<Instant>,
    in_flight: JoinSet<()>,
    /// The delivery each attempt in flight is at.
    attempting: HashMap<tokio::task::Id, i64>,
    busy: HashSet<i64>,
    /// The last pass failed (logged once, not every second).
    failing: bool,
}

impl Worker {
    fn new(gateway: Arc<Gateway>, http: reqwest::Client, name: &str) -> Worker {
        let state = gateway.current();
        Worker {
            feed: state.feed.clone(),
            metrics: state.metrics.clone(),
            gateway,
            http,
            name: name.to_owned(),
            lease: format!("deliver:{name}"),
            held: false,
            renewed: None,
            in_flight: JoinSet::new(),
            attempting: HashMap::new(),
            busy: HashSet::new(),
            failing: false,
        }
    }

    async fn run(mut self) {
        let mut wake = self.feed.subscribe();
        loop {
            let state = self.gateway.current();
            let Some(endpoint) = state.webhooks.get(&self.name).cloned() else {
                break;
            };
            let schedule = state.webhooks.retry_schedule();
            drop(state);
            match self.pass(&endpoint, &schedule).await {
                Ok(()) if self.failing => {
                    self.failing = false;
                    tracing::info!(endpoint = %self.name, "webhook deliveries resumed");
                }
                Ok(()) => {}
                Err(e) if !self.failing => {
                    self.failing = true;
                    tracing::warn!(endpoint = %self.name, error = %e, "webhook deliveries paused (tried again every second)");
                }
                Err(_) => {}
            }
            // Until an attempt ends, this replica writes events, or the poll.
            tokio::select! {
                Some(done) = self.in_flight.join_next_with_id(), if !self.in_flight.is_empty() => {
                    self.finished(done);
                    while let Some(done) = self.in_flight.try_join_next_with_id() {
                        self.finished(done);
                    }
                }
                () = changed(&mut wake) => {}
                () = tokio::time::sleep(POLL_EVERY) => {}
            }
        }
        // No longer configured: the attempts under way end and are
        // recorded, then the lease is given up at once.
        while let Some(done) = self.in_flight.join_next_with_id().await {
            self.finished(done);
        }
        if self.held {
            if let Ok(store) = self.feed.store().await {
                if let Err(e) = store.release_lease(&self.lease, self.feed.replica()).await {
                    tracing::debug!(endpoint = %self.name, error = %e, "releasing the delivery lease failed (it runs out)");
                }
            }
        }
        self.metrics.webhooks.forget(&self.name);
        tracing::info!(endpoint = %self.name, "webhook endpoint no longer configured: its deliveries stop");
    }

    fn finished(&mut self, done: Result<(tokio::task::Id, ()), tokio::task::JoinError>) {
        let id = match done {
            Ok((id, ())) => id,
            Err(e) => {
                tracing::error!(endpoint = %self.name, error = %e, "a webhook attempt task failed");
                e.id()
            }
        };
        if let Some(delivery) = self.attempting.remove(&id) {
            self.busy.remove(&delivery);
        }
    }

    /// Hold the lease; while held, fan out and start the due attempts.
    async fn pass(
        &mut self,
        endpoint: &Arc<Endpoint>,
        schedule: &Arc<[Duration]>,
    ) -> Result<(), PassError> {
        let feed = self.feed.clone();
        let store = feed
            .store()
            .await
            .map_err(|e| PassError::Closed(e.message))?;
        self.renew(store).await?;
        if self.held {
            self.deliver(store, endpoint, schedule).await?;
        }
        // Every replica keeps the gauge, whichever delivers.
        let pending = store.pending_deliveries(Some(&self.name)).await?;
        self.metrics.webhooks.set_pending(&self.name, pending);
        Ok(())
    }

    /// Take or renew the lease every third of its length.
    async fn renew(&mut self, store: &Store) -> Result<(), PassError> {
        let ttl = Duration::from_secs(self.feed.config().lease_secs);
        if self.renewed.is_some_and(|at| at.elapsed() < ttl / 3) {
            return Ok(());
        }
        let held = match store.lease(&self.lease, self.feed.replica(), ttl).await {
            Ok(held) => held,
            Err(e) => {
                // Unknown: stop starting attempts until it is known again.
                self.held = false;
                self.renewed = None;
                return Err(e.into());
            }
        };
        self.renewed = Some(Instant::now());
        if held != self.held {
            tracing::info!(endpoint = %self.name, held, "webhook delivery lease");
        }
        self.held = held;
        Ok(())
    }

    async fn deliver(
        &mut self,
        store: &Store,
        endpoint: &Arc<Endpoint>,
        schedule: &Arc<[Duration]>,
    ) -> Result<(), PassError> {
        let mut state = store.webhook_endpoint(&self.name).await?;
        if state.disabled_ms.is_some() {
            if !endpoint.changed_since(state.disabled_reason.as_deref()) {
                return Ok(());
            }
            store.enable_endpoint(&self.name).await?;
            tracing::info!(endpoint = %self.name, "webhook endpoint enabled again: its url or secret changed since its receiver answered 410");
        }
        // Fan out what is new (a backlog in batches, each one transaction).
        let head = store.last_event_seq().await?;
        for _ in 0..FAN_OUT_BATCHES {
            if state.cursor >= head {
                break;
            }
            store
                .fan_out(&self.name, &endpoint.filter(), now_ms(), FAN_OUT_BATCH)
                .await?;
            state = store.webhook_endpoint(&self.name).await?;
        }
        let free = PARALLEL.saturating_sub(self.in_flight.len());
        if free == 0 {
            return Ok(());
        }
        // Those in flight are still pending (and due): ask for enough more.
        let limit = i64::try_from(PARALLEL + self.busy.len()).unwrap_or(i64::MAX);
        let due = store.due_deliveries(&self.name, now_ms(), limit).await?;
        let fresh: Vec<Delivery> = due
            .into_iter()
            .filter(|d| !self.busy.contains(&d.id))
            .take(free)
            .collect();
        for delivery in fresh {
            let id = delivery.id;
            let attempt = Attempt {
                store: store.clone(),
                http: self.http.clone(),
                endpoint: endpoint.clone(),
                schedule: schedule.clone(),
                metrics: self.metrics.clone(),
            };
            let task = self.in_flight.spawn(attempt.run(delivery));
            self.attempting.insert(task.id(), id);
            self.busy.insert(id);
        }
        Ok(())
    }
}

/// Resolves when this replica writes events; never, once nobody can.
async fn changed(wake: &mut tokio::sync::watch::Receiver<i64>) {
    if wake.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// One attempt at one delivery, recorded in the store.
struct Attempt {
    store: Store,
    http: reqwest::Client,
    endpoint: Arc<Endpoint>,
    schedule: Arc<[Duration]>,
    metrics: Arc<Metrics>,
}

/// What the receiver's answer (or its absence) means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Delivered,
    /// `410 Gone`: the receiver wants no more.
    Gone,
    /// Try again, no sooner than the receiver asked.
    Failed(Option<Duration>),
}

/// How the receiver answered: its status, or why there was none.
struct Answer {
    status: Option<u16>,
    retry_after: Option<Duration>,
    error: Option<String>,
}

impl Attempt {
    async fn run(self, delivery: Delivery) {
        let number = delivery.attempts.saturating_add(1);
        let span = tracing::info_span!(
            "webhook_attempt",
            endpoint = %self.endpoint.name,
            event_id = %delivery.event_id,
            delivery_id = delivery.id,
            attempt = number,
            status = tracing::field::Empty,
            outcome = tracing::field::Empty,
        );
        self.attempt(delivery, number).instrument(span).await;
    }

    async fn attempt(self, delivery: Delivery, number: i64) {
        let name = &self.endpoint.name;
        let at = Utc::now();
        let started = Instant::now();
        let answer = self.send(&delivery, at.timestamp()).await;
        let took = started.elapsed();
        let answered = Utc::now();
        let span = tracing::Span::current();
        if let Some(status) = answer.status {
            span.record("status", status);
        }
        let error = answer.error.as_deref().unwrap_or("");
        let (outcome, label) = match verdict(answer.status, answer.retry_after) {
            Verdict::Delivered => {
                tracing::debug!("webhook delivered");
                if let Some(since) = event_age(&delivery.body, answered) {
                    self.metrics.webhooks.delivered_after(name, since);
                }
                (AttemptOutcome::Delivered, "delivered")
            }
            Verdict::Gone => {
                let disabled = self
                    .store
                    .disable_endpoint(
                        name,
                        &self.endpoint.gone_reason(),
                        answered.timestamp_millis(),
                    )
                    .await;
                match disabled {
                    Ok(()) => tracing::warn!(
                        endpoint = %name,
                        "webhook endpoint disabled: its receiver answered 410 Gone \
                         (give it another url or secret and reload to enable it)"
                    ),
                    Err(e) => {
                        tracing::error!(endpoint = %name, error = %e, "disabling the webhook endpoint failed")
                    }
                }
                // Waits, due at once, for the endpoint to be enabled again.
                (
                    AttemptOutcome::RetryAt(answered.timestamp_millis()),
                    "disabled",
                )
            }
            Verdict::Failed(retry_after) => {
                let attempt = u32::try_from(number).unwrap_or(u32::MAX);
                match ::feed::next_attempt_on(
                    &self.schedule,
                    attempt,
                    answered,
                    retry_after,
                    rand::random(),
                ) {
                    Next::RetryAt(next) => {
                        tracing::info!(
                            error,
                            retry_in_ms = (next - answered).num_milliseconds(),
                            "webhook attempt failed; retried later"
                        );
                        (AttemptOutcome::RetryAt(next.timestamp_millis()), "retry")
                    }
                    Next::GiveUp => {
                        tracing::warn!(
                            error,
                            "webhook delivery failed for good: its last retry failed"
                        );
                        (AttemptOutcome::GiveUp, "gave_up")
                    }
                }
            }
        };
        span.record("outcome", label);
        self.metrics.webhooks.attempt(name, label, took);
        let record = AttemptRecord {
            at_ms: at.timestamp_millis(),
            status: answer.status,
            error: answer.error.as_deref(),
            duration_ms: i64::try_from(took.as_millis()).unwrap_or(i64::MAX),
        };
        if let Err(e) = self
            .store
            .record_attempt(delivery.id, &record, outcome)
            .await
        {
            // The delivery stays pending: it is made again (a duplicate
            // the receiver drops by its webhook-id).
            tracing::error!(error = %e, "recording a webhook attempt failed");
        }
    }

    /// POST the event body, signed, within the endpoint's timeout.
    async fn send(&self, delivery: &Delivery, timestamp: i64) -> Answer {
        let body = delivery.body.as_bytes();
        let signature = self.endpoint.signature(&delivery.event_id, timestamp, body);
        let sent = self
            .http
            .post(self.endpoint.url.clone())
            .timeout(self.endpoint.timeout)
            .header(CONTENT_TYPE, "application/json")
            .header("webhook-id", &delivery.event_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(delivery.body.clone())
            .send()
            .await;
        match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(checkout_core::vendor::parse_retry_after);
                let error = match status {
                    300..=399 => Some("redirects are not followed".to_owned()),
                    410 => Some("gone: the endpoint is disabled".to_owned()),
                    _ => None,
                };
                Answer {
                    status: Some(status),
                    retry_after,
                    error,
                }
            }
            Err(e) => Answer {
                status: None,
                retry_after: None,
                error: Some(describe(e)),
            },
        }
    }
}

fn verdict(status: Option<u16>, retry_after: Option<Duration>) -> Verdict {
    match status {
        Some(200..=299) => Verdict::Delivered,
        Some(410) => Verdict::Gone,
        _ => Verdict::Failed(retry_after),
    }
}

/// Why no answer came, without the URL (it may carry a receiver's token).
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    if error.is_timeout() {
        return "timed out".to_owned();
    }
    let kind = if error.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    // The innermost cause says what happened ("Connection refused").
    let mut cause: &dyn std::error::Error = &error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let text = format!("{kind}: {cause}");
    text.chars().take(MAX_ERROR_LEN).collect()
}

/// How long ago the event in `body` was created.
fn event_age(body: &str, now: DateTime<Utc>) -> Option<Duration> {
    #[derive(serde::Deserialize)]
    struct Created {
        created_at: DateTime<Utc>,
    }
    let created: Created = serde_json::from_str(body).ok()?;
    (now - created.created_at).to_std().ok()
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_2xx_delivers_and_only_410_disables() {
        for status in [200, 201, 202, 204, 299] {
            assert_eq!(verdict(Some(status), None), Verdict::Delivered, "{status}");
        }
        assert_eq!(verdict(Some(410), None), Verdict::Gone);
        let asked = Some(Duration::from_secs(3));
        for status in [100, 301, 302, 304, 400, 404, 409, 429, 500, 503] {
            assert_eq!(
                verdict(Some(status), asked),
                Verdict::Failed(asked),
                "{status}"
            );
        }
        assert_eq!(verdict(None, None), Verdict::Failed(None));
    }

    #[test]
    fn an_event_age_is_read_from_its_body() {
        let now = DateTime::parse_from_rfc3339("2026-03-04T13:20:05Z")
            .unwrap()
            .to_utc();
        let body =
            r#"{"object":"event","id":"evt_1","created_at":"2026-03-04T13:20:00.000Z","data":{}}"#;
        assert_eq!(event_age(body, now), Some(Duration::from_secs(5)));
        assert_eq!(event_age("{}", now), None);
        assert_eq!(event_age("not json", now), None);
    }

    #[tokio::test]
    async fn a_failure_description_names_no_url() {
        let http = reqwest::Client::new();
        // A port just given back: nothing listens on it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let error = http
            .post(format!("http://127.0.0.1:{port}/hooks?token=hunter2"))
            .send()
            .await
            .unwrap_err();
        let text = describe(error);
        assert!(text.starts_with("cannot connect: "), "{text}");
        assert!(
            !text.contains("hunter2") && !text.contains("127.0.0.1"),
            "{text}"
        );
    }
}
