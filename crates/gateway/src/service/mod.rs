//! The flows behind the routes, without HTTP types: reading a session
//! (cache, coalescing, the vendor) and creating one (input checks,
//! idempotency, the vendor).

pub mod create;
pub mod input;
pub mod read;
