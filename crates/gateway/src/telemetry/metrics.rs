//! Prometheus metrics (`GET /metrics`), with prometheus-client: one
//! registry per gateway, so several gateways in one process (tests) never
//! mix their numbers. Gauges that mirror live state (cache size, in-flight,
//! breakers) are read at scrape time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use checkout_core::drift::Unknowns;

use crate::telemetry::drift::{Admitted, DriftNames};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: Label,
    /// The route template (`/v1/checkout-sessions/{id}`), never the raw path.
    pub route: Label,
}

/// A label value: a static string on the hot paths, owned otherwise.
pub type Label = std::borrow::Cow<'static, str>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: Label,
    pub route: Label,
    /// From [`status_label`]'s closed set.
    pub status: &'static str,
}

/// A status as a label: the ones the gateway answers by name, any other
/// as `other`, so that no caller can grow the number of series.
pub fn status_label(status: u16) -> &'static str {
    match status {
        200 => "200",
        201 => "201",
        204 => "204",
        304 => "304",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        408 => "408",
        409 => "409",
        413 => "413",
        414 => "414",
        415 => "415",
        422 => "422",
        429 => "429",
        431 => "431",
        500 => "500",
        501 => "501",
        502 => "502",
        503 => "503",
        504 => "504",
        _ => "other",
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AccountLabels {
    pub provider: String,
    pub account: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResolutionLabels {
    pub provider: &'static str,
    /// `made`, `nothing`, `unknown` or `ambiguous`.
    pub found: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabels {
    pub provider: String,
    pub account: String,
    pub operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub provider: String,
    pub account: String,
    pub operation: String,
    /// `ok`, or the canonical error code of the attempt.
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RateLimitLabels {
    /// A configured client's name (a closed set).
    pub client: String,
    /// `requests` or `vendor_calls`.
    pub budget: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UnknownLabels {
    pub provider: &'static str,
    /// `field` or `value`.
    pub kind: &'static str,
    /// Bounded per provider: see `telemetry::drift`.
    pub name: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CacheLabels {
    /// `hit`, `miss`, `stale`, `bypass`, or `evicted_<cause>`.
    pub event: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VendorWebhookLabels {
    /// A supported provider, or `unknown`.
    pub provider: &'static str,
    /// `refreshed`, `partial`, `unmatched`, `ignored`, `unauthorized`,
    /// `not_found`, `too_large` or `failed`.
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RedisLabels {
    /// `connect`, `subscribe`, `read`, `write`, `lock` or `unlock`.
    pub op: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventLabels {
    /// `checkout_session.completed`, … (a closed set).
    pub r#type: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DroppedLabels {
    /// `queue_full`, `store_error`, `contended`, `timeout`, `no_runtime` or `closed`.
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PollLabels {
    pub provider: String,
    pub account: String,
    /// `ok`, `error`, `skipped_busy` or `list`.
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StreamDropLabels {
    /// `lagging`, `stalled` or `store_error`.
    pub reason: &'static str,
}

/// Provider and account labels: configured names, a closed set.
fn account_labels(provider: &str, account: &str) -> AccountLabels {
    AccountLabels {
        provider: provider.to_owned(),
        account: account.to_owned(),
    }
}

fn latency_histogram() -> Histogram {
    // 0.5 ms … ~16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub request_duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    pub upstream_calls: Family<OutcomeLabels, Counter>,
    pub upstream_duration: Family<OperationLabels, Histogram, fn() -> Histogram>,
    pub cache_events: Family<CacheLabels, Counter>,
    pub cache_entries: Gauge,
    pub cache_bytes: Gauge,
    pub in_flight: Family<AccountLabels, Gauge>,
    pub breaker_state: Family<AccountLabels, Gauge>,
    pub breaker_opened: Family<AccountLabels, Counter>,
    pub retry_budget_exhausted: Family<AccountLabels, Counter>,
    pub idempotency_replays: Counter,
    /// Creates whose outcome at the vendor was unknown, by what looking
    /// for them found.
    pub create_resolutions: Family<ResolutionLabels, Counter>,
    pub rate_limited: Family<RateLimitLabels, Counter>,
    pub vendor_unknown: Family<UnknownLabels, Counter>,
    pub redis_errors: Family<RedisLabels, Counter>,
    pub redis_invalidations: Counter,
    /// Change-feed events recorded by this replica, by type.
    pub events: Family<EventLabels, Counter>,
    /// Sightings of sessions that were not recorded, by reason.
    pub feed_dropped: Family<DroppedLabels, Counter>,
    /// The poller's vendor calls and skipped rounds, by outcome.
    pub polls: Family<PollLabels, Counter>,
    /// Open sessions tracked per account (set by the poller each round).
    pub tracked_sessions: Family<AccountLabels, Gauge>,
    /// Vendors' own webhooks received, by what came of each.
    pub vendor_webhooks: Family<VendorWebhookLabels, Counter>,
    /// The drift names seen, which bound `vendor_unknown`'s series.
    drift_names: DriftNames,
    /// Bytes held by the cache, kept by the cache itself.
    pub cache_bytes_held: AtomicU64,
    /// Webhook deliveries (`service::webhooks`).
    pub webhooks: WebhookMetrics,
    /// Event streams (`GET /v1/events/stream`) open now.
    pub event_streams_open: Gauge,
    /// Event streams the gateway ended, by why.
    pub event_streams_dropped: Family<StreamDropLabels, Counter>,
    /// Routed creates and completions per rule and target.
    pub routing: super::routing::RoutingMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("checkout_gateway");
        let m = Metrics {
            requests: Family::default(),
            request_duration: Family::new_with_constructor(latency_histogram),
            upstream_calls: Family::default(),
            upstream_duration: Family::new_with_constructor(latency_histogram),
            cache_events: Family::default(),
            cache_entries: Gauge::default(),
            cache_bytes: Gauge::default(),
            in_flight: Family::default(),
            breaker_state: Family::default(),
            breaker_opened: Family::default(),
            retry_budget_exhausted: Family::default(),
            idempotency_replays: Counter::default(),
            create_resolutions: Family::default(),
            rate_limited: Family::default(),
            vendor_unknown: Family::default(),
            redis_errors: Family::default(),
            redis_invalidations: Counter::default(),
            events: Family::default(),
            feed_dropped: Family::default(),
            polls: Family::default(),
            tracked_sessions: Family::default(),
            vendor_webhooks: Family::default(),
            drift_names: DriftNames::default(),
            cache_bytes_held: AtomicU64::new(0),
            webhooks: WebhookMetrics::default(),
            registry: Registry::default(),
            event_streams_open: Gauge::default(),
            event_streams_dropped: Family::default(),
            routing: super::routing::RoutingMetrics::default(),
        };
        registry.register(
            "http_requests",
            "Requests answered, by route template, method and status",
            m.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request, by route template and method",
            m.request_duration.clone(),
        );
        registry.register(
            "upstream_calls",
            "Vendor call attempts, by provider, account, operation and outcome",
            m.upstream_calls.clone(),
        );
        registry.register(
            "upstream_call_duration_seconds",
            "Time of one vendor call attempt, by provider, account and operation",
            m.upstream_duration.clone(),
        );
        registry.register(
            "cache_events",
            "Cache reads by outcome, and evictions by cause",
            m.cache_events.clone(),
        );
        registry.register(
            "cache_entries",
            "Sessions in the cache",
            m.cache_entries.clone(),
        );
        registry.register(
            "cache_bytes",
            "Bytes of canonical session JSON held by the cache",
            m.cache_bytes.clone(),
        );
        registry.register(
            "upstream_in_flight",
            "Vendor calls in flight, per account",
            m.in_flight.clone(),
        );
        registry.register(
            "breaker_state",
            "Circuit breaker per account: 0 closed, 1 half-open, 2 open",
            m.breaker_state.clone(),
        );
        registry.register(
            "breaker_opened",
            "Times an account's circuit breaker opened: on its failure rate, or again after a failed probe",
            m.breaker_opened.clone(),
        );
        registry.register(
            "retry_budget_exhausted",
            "Retries not made because the account's retry budget was spent (the caller got the last error)",
            m.retry_budget_exhausted.clone(),
        );
        registry.register(
            "idempotency_replays",
            "Creates answered from the idempotency store",
            m.idempotency_replays.clone(),
        );
        registry.register(
            "create_resolutions",
            "Creates with an unknown outcome looked for at the vendor, by provider and what was found (made, nothing, unknown, ambiguous)",
            m.create_resolutions.clone(),
        );
        registry.register(
            "rate_limited",
            "Requests refused for a client key's budget, by client and budget",
            m.rate_limited.clone(),
        );
        registry.register(
            "vendor_unknown",
            "Fields and enum values in vendor answers that the gateway's wire types do not know, \
             by provider, kind (field or value) and name (a provider's first 100 names, then _other)",
            m.vendor_unknown.clone(),
        );
        registry.register(
            "redis_errors",
            "Redis operations that failed or timed out (the read went on without Redis), by operation",
            m.redis_errors.clone(),
        );
        registry.register(
            "redis_invalidations",
            "Local copies dropped because another replica wrote the session (Redis pub/sub)",
            m.redis_invalidations.clone(),
        );
        registry.register(
            "events",
            "Change-feed events recorded by this replica, by type",
            m.events.clone(),
        );
        registry.register(
            "feed_dropped",
            "Sightings of sessions not recorded in the change feed, by reason (the session is seen again at its next read, list or poll)",
            m.feed_dropped.clone(),
        );
        registry.register(
            "polls",
            "The change-feed poller's vendor calls by provider, account and outcome (ok, error, list), and rounds skipped while the account was busy (skipped_busy)",
            m.polls.clone(),
        );
        registry.register(
            "tracked_sessions",
            "Open sessions the change feed tracks, per account (updated each poll round)",
            m.tracked_sessions.clone(),
        );
        registry.register(
            "vendor_webhooks",
            "Vendors' own webhooks received, by provider and outcome (refreshed, partial, unmatched, ignored, unauthorized, not_found, too_large, failed)",
            m.vendor_webhooks.clone(),
        );
        registry.register(
            "event_streams_open",
            "Event streams (GET /v1/events/stream) open now",
            m.event_streams_open.clone(),
        );
        registry.register(
            "event_streams_dropped",
            "Event streams the gateway ended before the reader did: lagging (further than feed.stream_max_lag \
             events behind), stalled (not read for 30 s) or store_error",
            m.event_streams_dropped.clone(),
        );
        m.webhooks.register(&mut registry);
        m.routing.register(&mut registry);
        Metrics { registry, ..m }
    }

    /// An event was recorded (`kind` is its wire type).
    pub fn event_recorded(&self, kind: &str) {
        let kind = feed::EventType::parse(kind).map_or("other", feed::EventType::as_str);
        self.events
            .get_or_create(&EventLabels { r#type: kind })
            .inc();
    }

    /// A sighting was not recorded.
    pub fn feed_dropped(&self, reason: &'static str) {
        self.feed_dropped
            .get_or_create(&DroppedLabels { reason })
            .inc();
    }

    pub fn poll(&self, provider: &str, account: &str, outcome: &'static str) {
        self.polls
            .get_or_create(&PollLabels {
                provider: provider.to_owned(),
                account: account.to_owned(),
                outcome,
            })
            .inc();
    }

    pub fn tracked_sessions(&self, provider: &str, account: &str, open: i64) {
        self.tracked_sessions
            .get_or_create(&account_labels(provider, account))
            .set(open);
    }

    /// Count what one vendor answer held that the wire types do not know,
    /// and log each (provider, kind, name) the first time; never fails.
    pub fn observe_drift(
        &self,
        provider: &'static str,
        account: &str,
        operation: &str,
        unknowns: &Unknowns,
    ) {
        for unknown in unknowns {
            let Admitted { name, first } = self.drift_names.admit(provider, unknown);
            let kind = unknown.kind.as_str();
            if first {
                tracing::warn!(
                    provider,
                    account,
                    operation,
                    kind,
                    name = %name,
                    "vendor answer holds what the gateway does not know (vendor drift; \
                     counted in checkout_gateway_vendor_unknown_total)"
                );
            }
            self.vendor_unknown
                .get_or_create(&UnknownLabels {
                    provider,
                    kind,
                    name,
                })
                .inc();
        }
    }

    /// Count a request. Labels are usually static strings, so the request
    /// path allocates nothing here (bench/run.sh measures it).
    pub fn observe_request(&self, method: Label, route: Label, status: u16, took: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.clone(),
                route: route.clone(),
                status: status_label(status),
            })
            .inc();
        self.request_duration
            .get_or_create(&RouteLabels { method, route })
            .observe(took.as_secs_f64());
    }

    pub fn observe_upstream(
        &self,
        provider: &str,
        account: &str,
        operation: &str,
        outcome: &str,
        took: Duration,
    ) {
        let labels = OperationLabels {
            provider: provider.to_owned(),
            account: account.to_owned(),
            operation: operation.to_owned(),
        };
        self.upstream_duration
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
        let OperationLabels {
            provider,
            account,
            operation,
        } = labels;
        self.upstream_calls
            .get_or_create(&OutcomeLabels {
                provider,
                account,
                operation,
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    pub fn rate_limited(&self, client: &str, budget: crate::auth::rate_limit::Budget) {
        self.rate_limited
            .get_or_create(&RateLimitLabels {
                client: client.to_owned(),
                budget: budget.label(),
            })
            .inc();
    }

    pub fn breaker_opened(&self, provider: &str, account: &str) {
        self.breaker_opened
            .get_or_create(&account_labels(provider, account))
            .inc();
    }

    pub fn retry_budget_exhausted(&self, provider: &str, account: &str) {
        self.retry_budget_exhausted
            .get_or_create(&account_labels(provider, account))
            .inc();
    }

    pub fn cache_event(&self, event: &'static str) {
        self.cache_events
            .get_or_create(&CacheLabels { event })
            .inc();
    }

    pub fn vendor_webhook(&self, provider: &'static str, outcome: &'static str) {
        self.vendor_webhooks
            .get_or_create(&VendorWebhookLabels { provider, outcome })
            .inc();
    }

    pub fn redis_error(&self, op: &'static str) {
        self.redis_errors.get_or_create(&RedisLabels { op }).inc();
    }

    pub fn cache_bytes_added(&self, bytes: u64) {
        self.cache_bytes_held.fetch_add(bytes, Ordering::Relaxed);
    }

    pub fn cache_bytes_removed(&self, bytes: u64) {
        // Saturating: an entry is only ever removed once, but never go below zero.
        let _ = self
            .cache_bytes_held
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
                Some(held.saturating_sub(bytes))
            });
    }

    pub fn event_stream_dropped(&self, reason: &'static str) {
        self.event_streams_dropped
            .get_or_create(&StreamDropLabels { reason })
            .inc();
    }

    /// The text exposition, after the caller has set the live gauges.
    pub fn render(&self) -> String {
        self.cache_bytes
            .set(i64::try_from(self.cache_bytes_held.load(Ordering::Relaxed)).unwrap_or(i64::MAX));
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EndpointLabels {
    /// A configured webhook endpoint's name (a closed set).
    pub endpoint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WebhookAttemptLabels {
    pub endpoint: String,
    /// `delivered`, `retry`, `gave_up` or `disabled`.
    pub outcome: &'static str,
}

/// Webhook delivery: attempts by outcome, deliveries waiting, and how long
/// attempts and whole deliveries take.
#[derive(Clone)]
pub struct WebhookMetrics {
    pub attempts: Family<WebhookAttemptLabels, Counter>,
    pub pending: Family<EndpointLabels, Gauge>,
    pub attempt_duration: Family<EndpointLabels, Histogram, fn() -> Histogram>,
    pub delivery_latency: Family<EndpointLabels, Histogram, fn() -> Histogram>,
}

impl Default for WebhookMetrics {
    fn default() -> Self {
        WebhookMetrics {
            attempts: Family::default(),
            pending: Family::default(),
            attempt_duration: Family::new_with_constructor(latency_histogram),
            delivery_latency: Family::new_with_constructor(delivery_latency_histogram),
        }
    }
}

/// 0.1 s … ~44 h: a delivery may wait through every retry.
fn delivery_latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.1, 3.0, 14))
}

impl WebhookMetrics {
    fn register(&self, registry: &mut Registry) {
        registry.register(
            "webhook_attempts",
            "Webhook delivery attempts, by endpoint and outcome (delivered, retry, gave_up, disabled)",
            self.attempts.clone(),
        );
        registry.register(
            "webhook_pending",
            "Webhook deliveries waiting for their first attempt or a retry, by endpoint",
            self.pending.clone(),
        );
        registry.register(
            "webhook_attempt_duration_seconds",
            "Time of one webhook delivery attempt (until the receiver's status or the failure), by endpoint",
            self.attempt_duration.clone(),
        );
        registry.register(
            "webhook_delivery_latency_seconds",
            "Time from an event's creation to its delivery (retries included), by endpoint",
            self.delivery_latency.clone(),
        );
    }

    pub fn attempt(&self, endpoint: &str, outcome: &'static str, took: Duration) {
        self.attempts
            .get_or_create(&WebhookAttemptLabels {
                endpoint: endpoint.to_owned(),
                outcome,
            })
            .inc();
        self.attempt_duration
            .get_or_create(&EndpointLabels {
                endpoint: endpoint.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    pub fn delivered_after(&self, endpoint: &str, since_event: Duration) {
        self.delivery_latency
            .get_or_create(&EndpointLabels {
                endpoint: endpoint.to_owned(),
            })
            .observe(since_event.as_secs_f64());
    }

    pub fn set_pending(&self, endpoint: &str, pending: i64) {
        self.pending
            .get_or_create(&EndpointLabels {
                endpoint: endpoint.to_owned(),
            })
            .set(pending);
    }

    /// An endpoint no longer configured: its gauge goes.
    pub fn forget(&self, endpoint: &str) {
        self.pending.remove(&EndpointLabels {
            endpoint: endpoint.to_owned(),
        });
    }
}
