//! The change feed (PRODUCT §11): no vendor reports checkout changes, so
//! the gateway tracks every session it creates, reads or lists, polls the
//! open ones, and turns each change into an event kept in the store (in
//! the same transaction as the new state). The pure rules (which events,
//! when to poll, signatures, retries) are the `feed` crate's; this module
//! does the I/O.

pub mod endpoints;
pub mod tracker;
pub mod vendor_secrets;

use std::sync::Arc;
use std::time::Duration;

use checkout_core::Error;
use store::Store;
use tokio::sync::watch;

use crate::config::FeedConfig;
use crate::idempotency::Idempotency;
use tracker::Tracker;

/// What every part of the feed shares; kept across reloads (its settings
/// take effect at the next start, like the store's).
pub struct Feed {
    /// The store is opened once, through the idempotency records' handle.
    store: Arc<Idempotency>,
    config: FeedConfig,
    /// This process, as it holds leases (an account's polling, an
    /// endpoint's deliveries): a dead replica's leases run out and move.
    replica: String,
    /// The newest event sequence this replica wrote: wakes its streams and
    /// deliverers at once (other replicas' events are found by reading
    /// the store again after a short wait).
    head: watch::Sender<i64>,
    /// Records what the gateway sees of sessions (creates, reads, lists,
    /// cancels, polls).
    tracker: Tracker,
}

impl Feed {
    pub fn new(config: &FeedConfig, store: Arc<Idempotency>) -> Feed {
        let head = watch::channel(0).0;
        let policy = feed::PollPolicy {
            terminal_grace: Duration::from_secs(config.terminal_grace_secs),
            ..feed::PollPolicy::default()
        };
        Feed {
            tracker: Tracker::new(config.enabled, store.clone(), head.clone(), policy),
            store,
            config: config.clone(),
            replica: uuid::Uuid::new_v4().simple().to_string(),
            head,
        }
    }

    /// Where sightings of sessions go.
    pub fn tracker(&self) -> &Tracker {
        &self.tracker
    }

    pub fn config(&self) -> &FeedConfig {
        &self.config
    }

    pub fn replica(&self) -> &str {
        &self.replica
    }

    /// The store, opened at first use (a failure is `503`-like and retryable).
    pub async fn store(&self) -> Result<&Store, Error> {
        self.store.store().await
    }

    /// Events up to `seq` are in the store: wake whoever waits for them.
    pub fn written(&self, seq: i64) {
        advance(&self.head, seq);
    }

    /// Changes each time this replica writes events.
    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.head.subscribe()
    }
}

/// Move `head` on to `seq` (never back), waking its subscribers.
pub(crate) fn advance(head: &watch::Sender<i64>, seq: i64) {
    head.send_if_modified(|head| {
        let newer = seq > *head;
        if newer {
            *head = seq;
        }
        newer
    });
}
