//! What an adapter crate provides: a `Provider` (per vendor) that builds
//! one `Connector` per configured account. Neither does I/O: a connector
//! builds each request ([`VendorRequest`]) and reads each answer
//! ([`VendorAnswer`]); `vendor-http` sends them, the same way for every
//! vendor (the Hyperswitch connector split).

use std::sync::Arc;

use serde::Serialize;
use utoipa::ToSchema;

use crate::cancel::CancelSession;
use crate::create::CreateSession;
use crate::error::{Error, ErrorCode};
use crate::exchange::{Endpoint, Operation, VendorAnswer, VendorRequest};
use crate::list::{ListPage, ListQuery, ListSupport};
use crate::model::{CheckoutSession, Fetched, Purpose};
use crate::resolve;

/// Per-request facts an adapter may forward upstream.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    /// The gateway's `x-request-id`, for vendors that accept one.
    pub request_id: String,
    /// The caller's `Idempotency-Key` on create, for vendors that honour one.
    pub idempotency_key: Option<String>,
}

/// What a provider can do, for `GET /v1/providers`: which operations it
/// offers (a connector answers the others `unsupported_operation` before
/// any call), and how.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Capabilities {
    pub get: bool,
    pub create: bool,
    /// Canonical create fields this vendor honours.
    pub create_fields: Vec<&'static str>,
    /// Keys accepted in `provider_options`.
    pub provider_options: Vec<&'static str>,
    /// How the vendor lists sessions; `null` when it cannot.
    pub list: Option<ListSupport>,
    /// Whether the vendor can cancel an open session.
    pub cancel: bool,
}

/// A configuration problem, with the key path it was found at (relative to
/// the account's table; the gateway adds the prefix).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

/// A vendor webhook's news, read by [`Connector::webhook_hint`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookHint {
    /// The key tracked sessions hold ([`Connector::feed_hint`]).
    pub key: String,
    /// The vendor's id of the customer the event names, if any: a vendor
    /// may set the key on a session only as it completes (Flowglad's
    /// purchase), so the gateway, which saw the session before, also looks
    /// among the open sessions of this customer (and the anonymous ones).
    pub customer_id: Option<String>,
}

/// One vendor: id format, pure normalisation, and a factory for accounts.
pub trait Provider: Send + Sync {
    /// Lower-case name used in ids, config and requests.
    fn name(&self) -> &'static str;

    fn capabilities(&self) -> Capabilities;

    /// Check the vendor part of a canonical id before anything goes upstream.
    fn validate_reference(&self, reference: &str) -> Result<(), String>;

    /// Whether `plan` has the shape of this vendor's plan reference, so that
    /// a catalog alias of that shape would be ambiguous. No default: a
    /// vendor whose references have no shape answers `false` and says why.
    fn could_be_plan_id(&self, plan: &str) -> bool;

    /// The purposes a create through this vendor can make (whatever its
    /// `provider_options` choose). No default: the Stripe facade refuses a
    /// `mode` the target cannot make before any call, so each vendor says.
    fn create_purposes(&self) -> &'static [Purpose];

    /// Turn a vendor get/create response body into the canonical session.
    fn normalize(&self, account: &str, body: &[u8]) -> Result<CheckoutSession, Error>;

    /// Turn a vendor's non-2xx answer to a read into the canonical error
    /// (pure: what the fuzz target feeds every vendor).
    fn read_error(&self, answer: &VendorAnswer) -> Error;

    /// JSON Schema of one account's config table (`checkout-gateway config
    /// schema`), from the same serde type [`Provider::build`] reads.
    fn account_schema(&self) -> serde_json::Value;

    /// Build the connector for one account from its config table.
    fn build(
        &self,
        account: &str,
        config: serde_json::Value,
    ) -> Result<Arc<dyn Connector>, ConfigError>;
}

/// One configured vendor account, without I/O: where its requests go, how
/// to build each request, and how to read each answer (a session, a page,
/// or a canonical error). An operation the vendor does not offer answers
/// `unsupported_operation` from its request builder.
pub trait Connector: Send + Sync {
    /// Base URL, credentials and timeouts, for the HTTP client.
    fn endpoint(&self) -> &Endpoint;

    /// Read one session by its vendor reference (checked by the gateway
    /// against the vendor's id format).
    fn get(&self, reference: &str, ctx: &RequestContext) -> Result<VendorRequest, Error>;

    /// The answer to [`Connector::get`] for `reference`.
    fn read_get(&self, reference: &str, answer: &VendorAnswer) -> Result<Fetched, Error>;

    fn create(&self, request: &CreateSession, ctx: &RequestContext)
        -> Result<VendorRequest, Error>;

    /// The answer to [`Connector::create`] for `request`.
    fn read_create(&self, request: &CreateSession, answer: &VendorAnswer)
        -> Result<Fetched, Error>;

    /// One page of this account's sessions.
    fn list(&self, _query: &ListQuery, _ctx: &RequestContext) -> Result<VendorRequest, Error> {
        Err(unsupported(self.provider(), Operation::List))
    }

    /// The answer to [`Connector::list`] for `query`.
    fn read_list(&self, _query: &ListQuery, _answer: &VendorAnswer) -> Result<ListPage, Error> {
        Err(unsupported(self.provider(), Operation::List))
    }

    /// Customers to list when a list names none, for vendors that list per
    /// customer only (Frontier: the account's configured organizations).
    fn list_customers(&self) -> &[String] {
        &[]
    }

    /// Cancel an open session.
    fn cancel(
        &self,
        _reference: &str,
        _request: &CancelSession,
        _ctx: &RequestContext,
    ) -> Result<VendorRequest, Error> {
        Err(unsupported(self.provider(), Operation::Cancel))
    }

    /// The answer to [`Connector::cancel`] for `reference`.
    fn read_cancel(&self, _reference: &str, _answer: &VendorAnswer) -> Result<Fetched, Error> {
        Err(unsupported(self.provider(), Operation::Cancel))
    }

    /// The vendor's name, as in [`Provider::name`].
    fn provider(&self) -> &'static str;

    /// This account's capabilities where they differ from its provider's
    /// (Zenskar `/checkouts` accounts cannot list or cancel); `None` means
    /// [`Provider::capabilities`] holds for it.
    fn capabilities(&self) -> Option<Capabilities> {
        None
    }

    /// Whether repeating this create can never make a second session (the
    /// vendor honours an idempotency key carried in `ctx`). Only then does
    /// the gateway retry a create whose outcome is unknown.
    fn create_is_idempotent(&self, _ctx: &RequestContext) -> bool {
        false
    }

    /// Whether list items carry the metadata given at create, so that the
    /// gateway can mark each create and find it by its mark when its answer
    /// is lost ([`crate::resolve`]).
    fn lists_create_metadata(&self) -> bool {
        false
    }

    /// Whether `listed` could be the session `request` made, as far as what
    /// this vendor lists can tell: `false` only when it provably is not
    /// (used to find a create whose answer was lost).
    fn could_be_created_by(&self, request: &CreateSession, listed: &CheckoutSession) -> bool {
        !resolve::other_customer(request, listed) && !resolve::other_plan(request, listed)
    }

    /// The key this vendor's own webhooks name the session by, read from
    /// its payload ([`Fetched::raw`]): when a vendor webhook arrives, the
    /// change feed refreshes the tracked sessions holding that key. `None`
    /// where the vendor sends no webhook related to checkouts.
    fn feed_hint(&self, _raw: &serde_json::value::RawValue) -> Option<String> {
        None
    }

    /// What one of the vendor's own webhooks (its body, signature already
    /// checked) says changed: the key of [`Connector::feed_hint`] and the
    /// customer it concerns. `None` for events that say nothing about a
    /// checkout, and where the vendor sends no such webhook.
    fn webhook_hint(&self, _body: &[u8]) -> Option<WebhookHint> {
        None
    }

    /// The account's effective configuration with every secret shown as `***`.
    fn redacted_config(&self) -> serde_json::Value;
}

/// The JSON Schema of an account config type, self-contained (no `$defs`),
/// for [`Provider::account_schema`].
pub fn account_schema<T: schemars::JsonSchema>() -> serde_json::Value {
    let settings = schemars::generate::SchemaSettings::draft2020_12().with(|s| {
        s.inline_subschemas = true;
    });
    let mut schema = settings
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value();
    // Embedded in the gateway's schema, which names the dialect once.
    if let Some(object) = schema.as_object_mut() {
        object.remove("$schema");
    }
    schema
}

/// `unsupported_operation` for `operation` at `provider`, before any call.
pub fn unsupported(provider: &str, operation: Operation) -> Error {
    Error::new(
        ErrorCode::UnsupportedOperation,
        format!("{provider} does not offer {}", operation.as_str()),
    )
    .with_provider(provider)
}
