//! The Stripe-compatible facade's pure rules (PRODUCT §13): what a Stripe
//! SDK sends and expects, in canonical terms.
//!
//! - [`form`]: Stripe's form encoding (request bodies and query strings),
//!   decoded to a JSON object of strings, objects and arrays.
//! - [`id`]: `cs_…` ids that carry the canonical id, so a retrieve or an
//!   expire needs no lookup.
//! - [`object`]: the `checkout.session` and list objects.
//! - [`create`], [`list`]: Stripe's create and list parameters as a
//!   canonical create and list query; every parameter the gateway cannot
//!   honour is a [`ParamError`] naming it, never ignored.
//! - [`error`]: Stripe's error object, HTTP status and `Stripe-Should-Retry`.
//!
//! Nothing here performs I/O or reads the clock: the gateway holds the
//! routes, the accounts and the time.

// `json!` of the whole `checkout.session` object nests deeper than the
// default limit allows.
#![recursion_limit = "256"]

pub mod create;
pub mod error;
pub mod form;
pub mod id;
pub mod list;
pub mod object;

mod value;

pub use create::{Mode, StripeCreate};
pub use error::StripeError;
pub use list::StripeList;

/// A Stripe parameter problem: always `400 invalid_request_error` with
/// `param` (Stripe's bracketed name, e.g. `line_items[0][price]`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ParamError {
    pub param: Option<String>,
    pub message: String,
}

impl ParamError {
    /// A problem with the parameter `param`.
    pub fn new(param: impl Into<String>, message: impl Into<String>) -> ParamError {
        ParamError {
            param: Some(param.into()),
            message: message.into(),
        }
    }

    /// A problem with the request as a whole (e.g. a malformed body).
    pub fn request(message: impl Into<String>) -> ParamError {
        ParamError {
            param: None,
            message: message.into(),
        }
    }

    /// A parameter this endpoint does not know, in Stripe's words.
    pub fn unknown(param: &str) -> ParamError {
        ParamError::new(param, format!("Received unknown parameter: {param}"))
    }

    /// A Stripe parameter the gateway cannot honour at any vendor: refused
    /// rather than dropped, since money is involved.
    pub fn unsupported(param: &str, why: &str) -> ParamError {
        ParamError::new(
            param,
            format!("`{param}` is not supported by this gateway: {why}"),
        )
    }
}
