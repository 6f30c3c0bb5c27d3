//! The unpaginated vendors' (Meteroid, Frontier) full answers, kept for the
//! next page of the list that fetched them: bounded by the number of
//! sessions over all answers, and by time. An answer no longer here is
//! fetched again; the cursor's position makes that safe.

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;

use super::merge::Item;

#[derive(Clone)]
pub struct Snapshots {
    answers: Cache<u64, Arc<Vec<Item>>>,
}

impl Snapshots {
    pub fn new(max_sessions: u64, ttl: Duration) -> Snapshots {
        Snapshots {
            answers: Cache::builder()
                .max_capacity(max_sessions)
                // Weighed by sessions; an empty answer still takes a slot.
                .weigher(|_, items: &Arc<Vec<Item>>| {
                    u32::try_from(items.len().max(1)).unwrap_or(u32::MAX)
                })
                .time_to_live(ttl)
                .build(),
        }
    }

    pub fn get(&self, id: u64) -> Option<Arc<Vec<Item>>> {
        self.answers.get(&id)
    }

    /// Keep `items` (filtered, in the merged order); its id for the cursor.
    pub fn keep(&self, items: Arc<Vec<Item>>) -> u64 {
        let id = rand::random();
        self.answers.insert(id, items);
        id
    }
}
