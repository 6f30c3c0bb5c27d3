//! Idempotent create at the gateway, with Stripe's semantics: the same
//! `Idempotency-Key` and the same body replay the first response; the same
//! key with another body is refused; concurrent requests with one key make
//! one upstream create, the later ones waiting for the first.
//!
//! Storage sits behind [`IdempotencyStore`] so a shared store can replace
//! the in-process one.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use moka::future::Cache;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

/// A finished create response, as replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: Bytes,
    pub location: Option<String>,
    pub retry_after: Option<u64>,
}

/// What the store says about a key.
pub enum Claim {
    /// First use: perform the create, then `complete` or `release`.
    New,
    /// Seen before with the same request: here is the response.
    Replay(StoredResponse),
    /// Seen before with a different request.
    Mismatch,
}

/// Where keys and responses live.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claim `key` for a request with `fingerprint`; waits while another
    /// request holding the same key is still running.
    async fn claim(&self, key: &str, fingerprint: [u8; 32]) -> Claim;
    /// Record the response of the request that claimed `key`.
    async fn complete(&self, key: &str, response: StoredResponse);
    /// Give `key` up without a response (the request never reached the
    /// vendor), so that a retry with the same key performs the create.
    async fn release(&self, key: &str);
}

/// The request's identity: its JSON with keys sorted, hashed. Whitespace
/// and key order do not make two bodies different.
pub fn fingerprint(request: &serde_json::Value) -> [u8; 32] {
    Sha256::digest(request.to_string().as_bytes()).into()
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum SlotState {
    Running,
    Done(StoredResponse),
    Released,
}

struct Slot {
    fingerprint: [u8; 32],
    state: watch::Sender<SlotState>,
}

/// In-process store: moka, each key kept `ttl` after its first use.
pub struct MemoryStore {
    slots: Cache<String, Arc<Slot>>,
}

impl MemoryStore {
    pub fn new(ttl: Duration, max_keys: u64) -> MemoryStore {
        MemoryStore {
            slots: Cache::builder()
                .max_capacity(max_keys)
                .time_to_live(ttl)
                .build(),
        }
    }
}

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn claim(&self, key: &str, fingerprint: [u8; 32]) -> Claim {
        loop {
            let entry = self
                .slots
                .entry_by_ref(key)
                .or_insert_with(async {
                    Arc::new(Slot {
                        fingerprint,
                        state: watch::Sender::new(SlotState::Running),
                    })
                })
                .await;
            if entry.is_fresh() {
                return Claim::New;
            }
            let slot = entry.into_value();
            if slot.fingerprint != fingerprint {
                return Claim::Mismatch;
            }
            let mut state = slot.state.subscribe();
            let settled = state
                .wait_for(|s| *s != SlotState::Running)
                .await
                .map(|s| s.clone());
            match settled {
                Ok(SlotState::Done(response)) => return Claim::Replay(response),
                // Released (or its owner vanished): try to claim it ourselves.
                _ => {
                    self.slots.remove(key).await;
                    continue;
                }
            }
        }
    }

    async fn complete(&self, key: &str, response: StoredResponse) {
        if let Some(slot) = self.slots.get(key).await {
            slot.state.send_replace(SlotState::Done(response));
        }
    }

    async fn release(&self, key: &str) {
        if let Some(slot) = self.slots.remove(key).await {
            slot.state.send_replace(SlotState::Released);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn response(status: u16) -> StoredResponse {
        StoredResponse {
            status,
            body: Bytes::from_static(b"{}"),
            location: None,
            retry_after: None,
        }
    }

    #[test]
    fn fingerprints_ignore_key_order_and_whitespace() {
        let a: serde_json::Value = serde_json::from_str(r#"{"a":1,"b":{"c":2}}"#).unwrap();
        let b: serde_json::Value =
            serde_json::from_str("{ \"b\": {\"c\": 2},\n \"a\": 1 }").unwrap();
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_ne!(
            fingerprint(&a),
            fingerprint(&json!({"a": 2, "b": {"c": 2}}))
        );
    }

    #[tokio::test]
    async fn first_claim_then_replay_then_mismatch() {
        let store = MemoryStore::new(Duration::from_secs(60), 100);
        assert!(matches!(store.claim("k", [1; 32]).await, Claim::New));
        store.complete("k", response(201)).await;
        assert!(matches!(store.claim("k", [1; 32]).await, Claim::Replay(r) if r.status == 201));
        assert!(matches!(store.claim("k", [2; 32]).await, Claim::Mismatch));
    }

    // The sleeps only let the waiter run: paused time skips them.
    #[tokio::test(start_paused = true)]
    async fn a_second_request_waits_for_the_first() {
        let store = Arc::new(MemoryStore::new(Duration::from_secs(60), 100));
        assert!(matches!(store.claim("k", [1; 32]).await, Claim::New));
        let waiter = {
            let store = store.clone();
            tokio::spawn(async move { store.claim("k", [1; 32]).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished(), "waits while the first runs");
        store.complete("k", response(201)).await;
        assert!(matches!(waiter.await.unwrap(), Claim::Replay(r) if r.status == 201));
    }

    #[tokio::test(start_paused = true)]
    async fn a_released_key_can_be_claimed_again() {
        let store = Arc::new(MemoryStore::new(Duration::from_secs(60), 100));
        assert!(matches!(store.claim("k", [1; 32]).await, Claim::New));
        let waiter = {
            let store = store.clone();
            tokio::spawn(async move { store.claim("k", [1; 32]).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        store.release("k").await;
        assert!(
            matches!(waiter.await.unwrap(), Claim::New),
            "the waiter performs the create"
        );
    }

    // Real time: the TTL is moka's, on its own clock.
    #[tokio::test]
    async fn keys_expire() {
        let store = MemoryStore::new(Duration::from_millis(50), 100);
        assert!(matches!(store.claim("k", [1; 32]).await, Claim::New));
        store.complete("k", response(201)).await;
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert!(matches!(store.claim("k", [2; 32]).await, Claim::New));
    }
}
