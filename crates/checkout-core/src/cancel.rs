//! Cancelling an open session (PRODUCT §9): what the caller may say about it.

use serde_json::{Map, Value};

/// A cancel request, checked by the gateway before any vendor call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CancelSession {
    /// Why, in the caller's words (at most 500 characters); vendors that
    /// record a reason (Zenskar) get it.
    pub reason: Option<String>,
    /// Vendor-specific fields (Zenskar: `reason_type`), passed through.
    pub provider_options: Map<String, Value>,
}

/// The longest `reason` a cancel may carry (Zenskar's own bound).
pub const MAX_REASON_CHARS: usize = 500;
