//! checkout-gateway: one HTTP API for checkout sessions, whichever billing
//! vendor holds them.

pub mod auth;
pub mod breaker;
pub mod cache;
pub mod cli;
pub mod config;
pub mod connections;
pub mod demo;
pub mod errors;
pub mod health;
pub mod idempotency;
pub mod input;
pub mod metrics;
pub mod observe;
pub mod openapi;
pub mod providers;
pub mod rate_limit;
pub mod registry;
pub mod reload;
pub mod request_id;
pub mod server;
pub mod sessions;
pub mod state;
pub mod upstream;
