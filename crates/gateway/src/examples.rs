//! The demo's walks, one per demo account, and the OpenAPI document's
//! create examples: each vendor's sandbox module writes its own, so nothing
//! here names a vendor. A leaf, so that the HTTP layer need not reach into
//! the command line for them.

pub use sandbox::Tour;

/// Every sandbox vendor's walks, in the sandbox's vendor order.
pub fn tours() -> Vec<Tour> {
    sandbox::Sandbox::new(sandbox::SandboxConfig::default()).tours()
}
