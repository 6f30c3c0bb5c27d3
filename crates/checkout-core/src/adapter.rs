//! What an adapter crate provides: a `Provider` (pure, per vendor) that
//! builds one `Adapter` (the HTTP client) per configured account.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use crate::create::CreateSession;
use crate::error::Error;
use crate::model::CheckoutSession;

/// Per-request facts an adapter may forward upstream.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    /// The gateway's `x-request-id`, for vendors that accept one.
    pub request_id: String,
    /// The caller's `Idempotency-Key` on create, for vendors that honour one.
    pub idempotency_key: Option<String>,
}

/// A session read from (or created at) a vendor.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// Canonical form; `status` is the vendor-mapped status, before derived expiry.
    pub session: CheckoutSession,
    /// The vendor's response body, byte for byte.
    pub raw: Box<RawValue>,
}

/// What a provider can do, for `GET /v1/providers`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Capabilities {
    pub get: bool,
    pub create: bool,
    /// Canonical create fields this vendor honours.
    pub create_fields: Vec<&'static str>,
    /// Keys accepted in `provider_options`.
    pub provider_options: Vec<&'static str>,
}

/// A configuration problem, with the key path it was found at (relative to
/// the account's table; the gateway adds the prefix).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

/// One vendor: id format, pure normalisation, and a factory for accounts.
pub trait Provider: Send + Sync {
    /// Lower-case name used in ids, config and requests.
    fn name(&self) -> &'static str;

    fn capabilities(&self) -> Capabilities;

    /// Check the vendor part of a canonical id before anything goes upstream.
    fn validate_reference(&self, reference: &str) -> Result<(), String>;

    /// Turn a vendor get/create response body into the canonical session.
    fn normalize(&self, account: &str, body: &[u8]) -> Result<CheckoutSession, Error>;

    /// Build the client for one account from its config table.
    fn build(
        &self,
        account: &str,
        config: serde_json::Value,
    ) -> Result<Arc<dyn Adapter>, ConfigError>;
}

/// One configured vendor account.
#[async_trait]
pub trait Adapter: Send + Sync {
    async fn get(&self, reference: &str, ctx: &RequestContext) -> Result<Fetched, Error>;

    async fn create(&self, request: &CreateSession, ctx: &RequestContext)
        -> Result<Fetched, Error>;

    /// Whether repeating this create can never make a second session (the
    /// vendor honours an idempotency key carried in `ctx`). Only then does
    /// the gateway retry a create whose outcome is unknown.
    fn create_is_idempotent(&self, _ctx: &RequestContext) -> bool {
        false
    }

    /// The account's effective configuration with every secret shown as `***`.
    fn redacted_config(&self) -> serde_json::Value;
}
