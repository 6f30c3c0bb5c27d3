//! What every HTTP answer shares: the canonical error shape and the
//! request id.

pub mod errors;
pub mod request_id;
/// The Stripe facade's answers (mounts, error responses, `Request-Id`).
pub mod stripe;
