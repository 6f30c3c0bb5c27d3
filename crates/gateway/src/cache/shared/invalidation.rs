//! Invalidation over Redis pub/sub: a replica that writes a session
//! publishes its id and the write's id; every other replica drops its
//! local copy, so its next read takes the new one from Redis. A
//! subscription that was lost may have missed messages: on subscribing
//! again, the replica drops every local copy.

use std::sync::{Arc, Weak};

use futures::StreamExt;
use moka::future::Cache;

use super::{within, SharedTier, CONNECT_TIMEOUT, RECONNECT_FIRST, RECONNECT_MAX};
use crate::cache::Entry;

/// `<write id, 16 hex digits> <session id>`.
pub fn message(write: u64, id: &str) -> String {
    format!("{write:016x} {id}")
}

fn parse(payload: &[u8]) -> Option<(u64, &str)> {
    let text = std::str::from_utf8(payload).ok()?;
    let (write, id) = text.split_once(' ')?;
    Some((u64::from_str_radix(write, 16).ok()?, id))
}

/// Subscribe, apply every message, subscribe again when the connection
/// goes; for as long as the tier lives.
pub async fn listen(tier: Weak<SharedTier>, local: Cache<String, Arc<Entry>>) {
    let mut pause = RECONNECT_FIRST;
    let mut lost = false;
    loop {
        let Some(t) = tier.upgrade() else {
            return;
        };
        let channel = t.channel();
        let subscribed = within(CONNECT_TIMEOUT, async {
            let mut pubsub = t.client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok(pubsub)
        })
        .await;
        let pubsub = match subscribed {
            Ok(pubsub) => pubsub,
            Err(why) => {
                t.health.failed("subscribe", &why);
                drop(t);
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(RECONNECT_MAX);
                continue;
            }
        };
        t.health.ok();
        if lost {
            local.invalidate_all();
        }
        let metrics = t.metrics.clone();
        // Hold no strong reference while waiting for messages.
        drop(t);
        pause = RECONNECT_FIRST;
        let mut messages = pubsub.into_on_message();
        while let Some(msg) = messages.next().await {
            let Some((write, id)) = parse(msg.get_payload_bytes()) else {
                continue;
            };
            // A copy from this very write (our own, or read back from
            // Redis) stays.
            if let Some(entry) = local.get(id).await {
                if entry.write != write {
                    local.invalidate(id).await;
                    metrics.redis_invalidations.inc();
                }
            }
        }
        lost = true;
        if let Some(t) = tier.upgrade() {
            t.health.failed("subscribe", "subscription lost");
        }
        tokio::time::sleep(pause).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_garbage_is_ignored() {
        let m = message(0xabc, "meteroid:default:che_1");
        assert_eq!(parse(m.as_bytes()), Some((0xabc, "meteroid:default:che_1")));
        assert_eq!(parse(b"zz meteroid:default:che_1"), None);
        assert_eq!(parse(b"no-space"), None);
        assert_eq!(parse(&[0xff, b' ', b'x']), None);
    }
}
