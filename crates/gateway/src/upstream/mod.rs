//! Every call to a vendor goes through here: the caller's deadline, the
//! account's circuit breaker and in-flight limit, and retries — for reads,
//! and for creates only when a retry cannot make a second checkout — out
//! of the account's retry budget.

pub mod breaker;
mod retry_budget;
mod window;

use std::future::Future;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use checkout_core::drift::Unknowns;
use checkout_core::resolve;
use checkout_core::vendor::with_vendor_status;
use checkout_core::{
    CancelSession, Connector, CreateSession, Error, ErrorCode, Fetched, ListPage, ListQuery,
    Operation, RequestContext, VendorAnswer, VendorRequest,
};
use rand::Rng;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use vendor_http::VendorClient;

use crate::config::ResilienceConfig;
use crate::telemetry::metrics::Metrics;
use crate::upstream::breaker::{Breaker, BreakerPolicy, Change, Verdict};
use crate::upstream::retry_budget::RetryBudget;

enum Failure {
    /// Refused by the gateway (breaker open, too many in flight): never sent.
    Refused(Error),
    /// The vendor call failed.
    Upstream(Error),
}

/// The snake_case code of an error, as in the error body.
pub fn error_code_name(e: &Error) -> String {
    serde_json::to_value(e.code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// One account's protections; shared by every request to that account.
pub struct Guard {
    provider: &'static str,
    account: String,
    metrics: Arc<Metrics>,
    policy: ResilienceConfig,
    pub breaker: Breaker,
    retry_budget: RetryBudget,
    in_flight: Arc<Semaphore>,
    /// How the last call went (for readiness).
    last: AtomicU8,
}

/// How an account's last vendor call went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastCall {
    None,
    Ok,
    Failed,
}

impl Guard {
    pub fn new(
        provider: &'static str,
        account: &str,
        policy: &ResilienceConfig,
        metrics: Arc<Metrics>,
    ) -> Guard {
        Guard {
            provider,
            account: account.to_owned(),
            metrics,
            policy: policy.clone(),
            breaker: Breaker::new(BreakerPolicy::of(policy)),
            retry_budget: RetryBudget::new(
                policy.retry_budget_ratio,
                policy.retry_budget_min_per_sec,
            ),
            in_flight: Arc::new(Semaphore::new(policy.max_in_flight)),
            last: AtomicU8::new(0),
        }
    }

    pub fn last_call(&self) -> LastCall {
        match self.last.load(Ordering::Relaxed) {
            1 => LastCall::Ok,
            2 => LastCall::Failed,
            _ => LastCall::None,
        }
    }

    /// The longest any call through this guard takes, retries included.
    pub fn deadline(&self) -> Duration {
        Duration::from_millis(self.policy.deadline_ms)
    }

    /// Calls to this account in flight right now.
    pub fn in_flight(&self) -> usize {
        self.policy.max_in_flight - self.in_flight.available_permits()
    }

    /// Whether a call now would be refused before reaching the vendor (its
    /// breaker open, its in-flight bound full); takes nothing. Routing
    /// falls back only on this, so a routed create never reaches two vendors.
    pub fn refuses_now(&self) -> bool {
        self.in_flight.available_permits() == 0 || self.breaker.would_refuse()
    }

    /// The most calls to this account in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.policy.max_in_flight
    }

    /// Read a session. `seen` says whether the gateway has handled this
    /// session before: failures on ids nobody has seen are weighed by
    /// [`Verdict::of`], so that invented ids cannot open the breaker.
    pub async fn get(
        &self,
        connector: &dyn Connector,
        client: &VendorClient,
        reference: &str,
        seen: bool,
        ctx: &RequestContext,
    ) -> Result<Fetched, Error> {
        let request = connector.get(reference, ctx)?;
        self.read_with(seen, || {
            exchange(client, &request, |answer| {
                connector.read_get(reference, answer)
            })
        })
        .await
        .inspect(|f| self.drifted(Operation::Get, &f.unknown))
        .map(unmarked)
    }

    pub async fn create(
        &self,
        connector: &dyn Connector,
        client: &VendorClient,
        create: &CreateSession,
        ctx: &RequestContext,
    ) -> Result<Fetched, Error> {
        let request = connector.create(create, ctx)?;
        self.create_with(connector.create_is_idempotent(ctx), || {
            exchange(client, &request, |answer| {
                connector.read_create(create, answer)
            })
        })
        .await
        .inspect(|f| self.drifted(Operation::Create, &f.unknown))
        .map(unmarked)
    }

    /// One page of the account's list. A list is a read: retried like one,
    /// and its failures count for the breaker (the request is ours, not
    /// a caller's invented id).
    pub async fn list(
        &self,
        connector: &dyn Connector,
        client: &VendorClient,
        query: &ListQuery,
        ctx: &RequestContext,
    ) -> Result<ListPage, Error> {
        let mut page = self.list_marked(connector, client, query, ctx).await?;
        for fetched in &mut page.sessions {
            resolve::unmark(&mut fetched.session);
        }
        Ok(page)
    }

    /// The list as the vendor keeps it, the gateway's marks on creates
    /// included: what finding a create whose answer was lost reads.
    pub async fn list_marked(
        &self,
        connector: &dyn Connector,
        client: &VendorClient,
        query: &ListQuery,
        ctx: &RequestContext,
    ) -> Result<ListPage, Error> {
        let request = connector.list(query, ctx)?;
        self.run(
            Operation::List,
            true,
            || {
                exchange(client, &request, |answer| {
                    connector.read_list(query, answer)
                })
            },
            |_| true,
        )
        .await
        .inspect(|page| self.drifted(Operation::List, &page.unknown))
    }

    /// Cancel a session. Repeating a cancel cannot do harm (a second one is
    /// refused by the vendor, and the gateway then reads the session), so
    /// it is retried like a read.
    pub async fn cancel(
        &self,
        connector: &dyn Connector,
        client: &VendorClient,
        reference: &str,
        cancel: &CancelSession,
        ctx: &RequestContext,
    ) -> Result<Fetched, Error> {
        let request = connector.cancel(reference, cancel, ctx)?;
        self.run(
            Operation::Cancel,
            true,
            || {
                exchange(client, &request, |answer| {
                    connector.read_cancel(reference, answer)
                })
            },
            |_| true,
        )
        .await
        .inspect(|f| self.drifted(Operation::Cancel, &f.unknown))
        .map(unmarked)
    }

    /// What a read answer held that the wire types do not know: counted
    /// and logged (`telemetry::drift`), never a failure.
    fn drifted(&self, operation: Operation, unknown: &Unknowns) {
        if !unknown.is_empty() {
            self.metrics
                .observe_drift(self.provider, &self.account, operation.as_str(), unknown);
        }
    }

    /// A read's attempts: every retryable failure is tried again.
    async fn read_with<T, F, Fut>(&self, trusted: bool, call: F) -> Result<T, Error>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        self.run(Operation::Get, trusted, call, |_| true).await
    }

    /// A create's attempts: repeated only if the vendor never saw it, or
    /// the vendor itself makes repeats harmless (`idempotent`).
    async fn create_with<T, F, Fut>(&self, idempotent: bool, call: F) -> Result<T, Error>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        self.run(Operation::Create, true, call, |e| e.not_sent || idempotent)
            .await
    }

    async fn run<T, F, Fut>(
        &self,
        operation: Operation,
        trusted: bool,
        call: F,
        may_retry: impl Fn(&Error) -> bool,
    ) -> Result<T, Error>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let deadline = Instant::now() + Duration::from_millis(self.policy.deadline_ms);
        let mut attempt = 0;
        loop {
            let err = match self
                .attempt(operation, trusted, &call, deadline, attempt)
                .await
            {
                Ok(fetched) => return Ok(fetched),
                // The gateway's own refusals are answered at once, not retried.
                Err(Failure::Refused(err)) => return Err(err),
                Err(Failure::Upstream(err)) => err,
            };
            if attempt >= self.policy.max_retries || !err.retryable || !may_retry(&err) {
                return Err(err);
            }
            let wait = self
                .backoff(attempt)
                .max(err.retry_after.unwrap_or_default());
            if Instant::now() + wait >= deadline {
                return Err(err);
            }
            // Past the budget the vendor is likely sick: another attempt
            // would add to its load, not to the caller's chances.
            if !self.retry_budget.spend() {
                self.metrics
                    .retry_budget_exhausted(self.provider, &self.account);
                tracing::debug!(provider = self.provider, account = %self.account, attempt, code = ?err.code, "retry budget spent; answering the last error");
                return Err(err);
            }
            tracing::info!(provider = self.provider, attempt, wait_ms = wait.as_millis() as u64, code = ?err.code, "retrying upstream call");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn attempt<T, F, Fut>(
        &self,
        operation: Operation,
        trusted: bool,
        call: &F,
        deadline: Instant,
        attempt: u32,
    ) -> Result<T, Failure>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        // Bounded, not queued: excess calls are refused at once.
        let Ok(_permit) = self.in_flight.clone().try_acquire_owned() else {
            let err = Error::new(
                ErrorCode::ProviderUnavailable,
                format!("too many calls to this {} account in flight", self.provider),
            )
            .with_provider(self.provider)
            .with_retry_after(Some(Duration::from_secs(1)));
            return Err(Failure::Refused(Error {
                not_sent: true,
                ..err
            }));
        };
        let admission = self.breaker.admit(self.provider).map_err(|e| {
            Failure::Refused(Error {
                not_sent: true,
                ..e
            })
        })?;
        if attempt == 0 {
            self.retry_budget.first_attempt();
        }
        let span = tracing::info_span!(
            "upstream_attempt",
            provider = self.provider,
            account = %self.account,
            operation = operation.as_str(),
            attempt,
        );
        let started = Instant::now();
        let result =
            match tokio::time::timeout_at(deadline, tracing::Instrument::instrument(call(), span))
                .await
            {
                Ok(result) => result,
                Err(_) => Err(Error::new(
                    ErrorCode::ProviderTimeout,
                    format!(
                        "{} did not answer within the gateway's deadline",
                        self.provider
                    ),
                )
                .with_provider(self.provider)),
            };
        let verdict = Verdict::of(result.as_ref().map(|_| ()), trusted);
        if let Some(change) = self.breaker.record(admission, verdict) {
            self.breaker_changed(change);
        }
        let outcome = match &result {
            Ok(_) => "ok".to_owned(),
            Err(e) => error_code_name(e),
        };
        // A vendor that answers, even "no", is up; failures are the breaker's kind.
        match verdict {
            Verdict::Healthy => self.last.store(1, Ordering::Relaxed),
            Verdict::Failed => self.last.store(2, Ordering::Relaxed),
            Verdict::Neutral => {}
        }
        self.metrics.observe_upstream(
            self.provider,
            &self.account,
            operation.as_str(),
            &outcome,
            started.elapsed(),
        );
        result.map_err(Failure::Upstream)
    }

    /// Say so when the breaker opens or closes: the state itself is a gauge
    /// read at scrape time, which misses what happens between scrapes.
    fn breaker_changed(&self, change: Change) {
        let (provider, account) = (self.provider, self.account.as_str());
        match change {
            Change::Opened(window) => {
                self.metrics.breaker_opened(provider, account);
                tracing::warn!(
                    provider,
                    account,
                    failed = window.failed,
                    calls = window.failed.saturating_add(window.healthy),
                    open_secs = self.policy.breaker_open_secs,
                    "circuit breaker opened: calls to this account fail fast"
                );
            }
            Change::Reopened => {
                self.metrics.breaker_opened(provider, account);
                tracing::warn!(
                    provider,
                    account,
                    open_secs = self.policy.breaker_open_secs,
                    "circuit breaker probe failed: open again"
                );
            }
            Change::Closed => {
                tracing::info!(
                    provider,
                    account,
                    "circuit breaker closed: every probe was healthy"
                );
            }
        }
    }

    /// Exponential backoff, jittered between half and the whole step so
    /// that callers retrying together spread out.
    fn backoff(&self, attempt: u32) -> Duration {
        let cap = self
            .policy
            .backoff_base_ms
            .saturating_mul(1 << attempt.min(16))
            .min(self.policy.backoff_max_ms);
        Duration::from_millis(rand::rng().random_range(cap / 2..=cap))
    }
}

/// A session as the caller sees it: without the gateway's mark.
fn unmarked(mut fetched: Fetched) -> Fetched {
    resolve::unmark(&mut fetched.session);
    fetched
}

/// One exchange: send what the connector built, and let it read the
/// answer. Whatever reading raises carries the vendor's status.
async fn exchange<T>(
    client: &VendorClient,
    request: &VendorRequest,
    read: impl FnOnce(&VendorAnswer) -> Result<T, Error>,
) -> Result<T, Error> {
    let answer = client.send(request).await?;
    read(&answer).map_err(|e| with_vendor_status(e, answer.status))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    use checkout_core::vendor::TransportFailure;

    /// Fails `failures` times with `error`, then answers.
    struct Flaky {
        calls: AtomicU32,
        failures: u32,
        error: Error,
    }

    impl Flaky {
        async fn call(&self) -> Result<Fetched, Error> {
            if self.calls.fetch_add(1, Ordering::SeqCst) < self.failures {
                Err(self.error.clone())
            } else {
                Ok(session())
            }
        }
    }

    fn session() -> Fetched {
        let body = r#"{"session":{"id":"che_1","customer_id":"cus_1","plan_version_id":"plv_1","status":"CREATED","checkout_type":"SELF_SERVE","created_at":"2026-01-19T10:00:00Z"}}"#;
        Fetched {
            session: adapter_meteroid::read::session_body("default", body.as_bytes()).unwrap(),
            raw: serde_json::value::RawValue::from_string(body.to_owned()).unwrap(),
            unknown: Default::default(),
        }
    }

    fn guard() -> Guard {
        let policy = ResilienceConfig {
            backoff_base_ms: 1,
            backoff_max_ms: 2,
            ..ResilienceConfig::default()
        };
        Guard::new("meteroid", "default", &policy, Arc::new(Metrics::new()))
    }

    fn flaky(error: Error) -> Flaky {
        Flaky {
            calls: AtomicU32::new(0),
            failures: 1,
            error,
        }
    }

    // Backoffs and deadlines are tokio timers: paused time skips the waits.
    #[tokio::test(start_paused = true)]
    async fn creates_retry_only_when_provably_safe() {
        let cases = [
            (TransportFailure::Connect.error("meteroid"), false, true, 2),
            (TransportFailure::Timeout.error("meteroid"), false, false, 1),
            (
                Error::from_vendor_status("meteroid", 503, "down"),
                false,
                false,
                1,
            ),
            (TransportFailure::Timeout.error("meteroid"), true, true, 2),
            (
                Error::from_vendor_status("meteroid", 400, "bad"),
                true,
                false,
                1,
            ),
        ];
        for (error, idempotent, succeeds, calls) in cases {
            let vendor = flaky(error.clone());
            let result = guard().create_with(idempotent, || vendor.call()).await;
            assert_eq!(
                result.is_ok(),
                succeeds,
                "{error:?} idempotent={idempotent}"
            );
            assert_eq!(
                vendor.calls.load(Ordering::SeqCst),
                calls,
                "{error:?} idempotent={idempotent}"
            );
        }
    }

    /// 100 concurrent reads of a vendor that always answers 503, each
    /// allowed three retries: without a budget that is 400 vendor calls.
    #[tokio::test(start_paused = true)]
    async fn retries_of_many_failing_reads_stay_within_the_budget() {
        let policy = ResilienceConfig {
            max_retries: 3,
            backoff_base_ms: 1,
            backoff_max_ms: 2,
            retry_budget_ratio: 0.2,
            retry_budget_min_per_sec: 1,
            // Neither the breaker nor the in-flight bound refuses a call
            // here: only the budget limits them.
            breaker_min_calls: u32::MAX,
            max_in_flight: 1000,
            ..ResilienceConfig::default()
        };
        let metrics = Arc::new(Metrics::new());
        let guard = Guard::new("meteroid", "default", &policy, metrics.clone());
        let vendor = Flaky {
            calls: AtomicU32::new(0),
            failures: u32::MAX,
            error: Error::from_vendor_status("meteroid", 503, "down"),
        };
        let reads = (0..100).map(|_| guard.read_with(true, || vendor.call()));
        let answers = futures::future::join_all(reads).await;
        assert!(answers.iter().all(|a| a
            .as_ref()
            .is_err_and(|e| e.code == ErrorCode::ProviderUnavailable)));
        let calls = vendor.calls.load(Ordering::SeqCst);
        let floor = retry_budget::RETRY_BUDGET_WINDOW.as_secs() as u32;
        assert!(
            calls <= 100 + 100 / 5 + floor,
            "{calls} vendor calls for 100 reads"
        );
        assert!(
            calls >= 100 + floor,
            "the floor's retries were made: {calls}"
        );
        let denied = metrics
            .retry_budget_exhausted
            .get_or_create(&crate::telemetry::metrics::AccountLabels {
                provider: "meteroid".into(),
                account: "default".into(),
            })
            .get();
        assert!(
            denied >= 100,
            "each read was refused a retry at last: {denied}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn reads_retry_what_is_retryable_only() {
        let vendor = flaky(TransportFailure::Timeout.error("meteroid"));
        assert!(guard().read_with(true, || vendor.call()).await.is_ok());
        let vendor = flaky(Error::from_vendor_status("meteroid", 404, "nope"));
        assert_eq!(
            guard()
                .read_with(true, || vendor.call())
                .await
                .unwrap_err()
                .http_status,
            404
        );
        assert_eq!(vendor.calls.load(Ordering::SeqCst), 1);
    }
}
