//! checkout-gateway: one HTTP API for checkout sessions, whichever billing
//! vendor holds them.
//!
//! Grouped by concern, each using only those listed before it: `config`
//! and `telemetry` (what everything reads and reports to), `auth` (client
//! keys, scopes, budgets), `upstream` (every vendor call: deadline, breaker,
//! in-flight bound), `cache`, `idempotency` and `feed` (the change feed's
//! store side: tracked sessions and their events), `state` (all of the above,
//! built from one config, swapped live on reload), `service` (read and
//! create flows, no HTTP types), `http` (the error shape and request ids),
//! `routes` (the handlers and their middleware), `server` (connections, the
//! fast cache-hit path, the OpenAPI document), `cmd` (the command line).
//! `testing` serves tests only (this crate's and the end-to-end ones).

pub mod auth;
pub mod cache;
pub mod cmd;
pub mod config;
pub mod examples;
pub mod feed;
pub mod http;
pub mod idempotency;
pub mod registry;
pub mod routes;
pub mod server;
pub mod service;
pub mod state;
pub mod telemetry;
pub mod testing;
pub mod upstream;
