//! The toolkit every emulated vendor stands on: how state is kept and
//! sessions found, how moves along a lifecycle are checked, how random ids
//! and timestamps are made, how credentials are read and a check guards a
//! router, what the `/_sandbox` control routes share (the fill and drift routes included), what a vendor
//! hands the core to be mounted, and the demo tours it offers.
//!
//! Nothing here knows a vendor: each vendor module brings its own shapes,
//! rules, error bodies and quirks, and plugs them in through the traits
//! below.

pub(crate) mod auth;
pub(crate) mod clock;
pub(crate) mod control;
pub(crate) mod drift;
pub(crate) mod fill;
pub(crate) mod ids;
pub(crate) mod lifecycle;
pub(crate) mod mount;
pub(crate) mod paths;
pub(crate) mod store;
pub(crate) mod tour;
