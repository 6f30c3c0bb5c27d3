//! The end-to-end tests: the real gateway in front of the real sandbox,
//! each on its own loopback socket. One binary, a module per concern: every
//! test binary links the whole gateway, so one binary builds and links once.

mod flowglad;
mod frontier;
mod hardening;
mod meteroid;
mod operability;
mod reload;
mod resilience;
mod security;
mod zenskar;
