//! The canonical checkout-session model shared by every adapter and the gateway.
//!
//! Nothing here performs I/O: adapters translate vendor payloads into these
//! types, the gateway serves them.

pub mod adapter;
pub mod cancel;
pub mod create;
pub mod drift;
pub mod error;
pub mod exchange;
pub mod id;
pub mod list;
pub mod model;
pub mod money;
pub mod resolve;
pub mod secret;
pub mod status;
pub mod timestamp;
pub mod vendor;

pub use adapter::{Capabilities, Connector, Provider, RequestContext};
pub use cancel::CancelSession;
pub use create::CreateSession;
pub use error::{Error, ErrorCode};
pub use exchange::{Endpoint, Operation, VendorAnswer, VendorRequest};
pub use id::SessionId;
pub use list::{ListPage, ListQuery};
pub use model::{
    CheckoutSession, Customer, Fetched, Metadata, MetadataValue, PlanRef, ProviderStatus, Purpose,
};
pub use money::Money;
pub use secret::Secret;
pub use status::{PaymentStatus, Status};
