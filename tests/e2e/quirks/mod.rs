//! What only one vendor does, a module per vendor. The checks every vendor
//! passes run for every demo account in `vendors.rs`; a new vendor needs a
//! module here only for its own quirks.

mod flowglad;
mod frontier;
mod meteroid;
mod zenskar;
