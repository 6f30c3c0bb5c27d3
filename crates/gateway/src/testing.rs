//! For tests (this crate's, the end-to-end ones): the Redis named by
//! `CHECKOUT_GATEWAY_TEST_REDIS`, shared by tests running at once, so each
//! test keeps to a key prefix of its own.

/// The variable naming the Redis tests may use, e.g. `redis://127.0.0.1:6379`.
pub const REDIS_VAR: &str = "CHECKOUT_GATEWAY_TEST_REDIS";

/// The Redis `CHECKOUT_GATEWAY_TEST_REDIS` names, if set.
pub fn redis_url() -> Option<String> {
    std::env::var(REDIS_VAR).ok().filter(|v| !v.is_empty())
}

/// The line a test prints when it skips Redis.
pub fn redis_skip_line() -> String {
    format!("skipped: set {REDIS_VAR}=redis://127.0.0.1:6379 to run against Redis")
}

/// Print [`redis_skip_line`] once per test binary, straight to stderr (the
/// harness captures `println!` of passing tests, and a skip nobody sees
/// looks like a pass against Redis).
pub fn announce_redis_skip() {
    use std::io::Write;
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = writeln!(std::io::stderr().lock(), "{}", redis_skip_line());
    });
}

/// A `cache.redis_prefix` no other test uses.
pub fn unique_redis_prefix() -> String {
    format!("cgtest-{}", uuid::Uuid::new_v4().simple())
}
