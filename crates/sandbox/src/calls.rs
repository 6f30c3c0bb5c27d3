//! Counts the vendor API calls the sandbox receives, per vendor and
//! operation, before anything (auth included) can reject them: tests use it
//! to prove a cache hit made no upstream call.

use std::collections::BTreeMap;
use std::sync::{Arc, MutexGuard};

use crate::kit::store::Locked;

/// vendor → operation → count.
pub type CallCounts = BTreeMap<String, BTreeMap<String, u64>>;

#[derive(Debug, Clone, Default)]
pub(crate) struct CallCounter {
    counts: Arc<Locked<CallCounts>>,
}

impl CallCounter {
    fn lock(&self) -> MutexGuard<'_, CallCounts> {
        self.counts.lock()
    }

    pub(crate) fn record(&self, vendor: &str, op: &str) {
        *self
            .lock()
            .entry(vendor.to_owned())
            .or_default()
            .entry(op.to_owned())
            .or_default() += 1;
    }

    pub(crate) fn get(&self, vendor: &str, op: &str) -> u64 {
        self.lock()
            .get(vendor)
            .and_then(|ops| ops.get(op))
            .copied()
            .unwrap_or(0)
    }

    pub(crate) fn snapshot(&self) -> CallCounts {
        self.lock().clone()
    }

    pub(crate) fn reset(&self) {
        self.lock().clear();
    }
}
