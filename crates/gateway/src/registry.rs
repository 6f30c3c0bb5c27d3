//! The vendors this gateway speaks to. Adding a vendor is one line here.

use checkout_core::Provider;

/// Every supported provider, by name.
pub fn providers() -> Vec<&'static dyn Provider> {
    vec![
        &adapter_meteroid::Meteroid,
        &adapter_zenskar::Zenskar,
        &adapter_frontier::Frontier,
        &adapter_flowglad::Flowglad,
    ]
}

/// The provider with this name, if supported.
pub fn provider(name: &str) -> Option<&'static dyn Provider> {
    providers().into_iter().find(|p| p.name() == name)
}

/// Names of the supported providers, for error messages.
pub fn provider_names() -> String {
    providers()
        .iter()
        .map(|p| p.name())
        .collect::<Vec<_>>()
        .join(", ")
}
