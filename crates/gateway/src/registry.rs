//! The vendors this gateway speaks to: the `providers` crate's registry.

use checkout_core::Provider;

/// Every supported provider.
pub fn providers() -> &'static [&'static dyn Provider] {
    providers::all()
}

/// The provider with this name, if supported.
pub fn provider(name: &str) -> Option<&'static dyn Provider> {
    providers::by_name(name)
}

/// Names of the supported providers, for error messages.
pub fn provider_names() -> String {
    providers::names()
}
