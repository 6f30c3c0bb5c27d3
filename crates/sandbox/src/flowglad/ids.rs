//! Flowglad's ids: `<prefix>_` + a 21-character nanoid over `[0-9A-Za-z]`;
//! request ids: 8 hex digits; Sentry event ids: 32.

use crate::kit::ids;

pub const NANOID_LEN: usize = 21;

pub fn nanoid() -> String {
    ids::base62(NANOID_LEN)
}

/// A new record id, e.g. `chckt_session_…`.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", nanoid())
}

/// The REST handler's per-request id (`X-Request-Id`, `request_id`).
pub fn request_id() -> String {
    ids::hex(8)
}

/// The id Sentry gives a captured 5xx (32 hex digits).
pub fn sentry_event_id() -> String {
    ids::hex(32)
}

/// Whether `id` is `<prefix>_` + a nanoid.
pub fn is_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|rest| {
            rest.len() == NANOID_LEN && rest.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let id = new_id("chckt_session");
        assert!(is_id(&id, "chckt_session"), "{id}");
        assert_ne!(new_id("chckt_session"), id);
        let r = request_id();
        assert!(r.len() == 8 && r.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(sentry_event_id().len(), 32);
        assert!(!is_id("chckt_session_short", "chckt_session"));
    }
}
