//! The vendors this project speaks to. Adding a vendor is its adapter crate
//! plus one line here (and its dependency in this crate's Cargo.toml): the
//! gateway (ids, config, `/v1/providers`, `config schema`, `normalize`),
//! the fuzz target and the conversion benches all read this list.

use checkout_core::Provider;

/// Every supported provider, by name order.
static ALL: [&'static dyn Provider; 4] = [
    &adapter_flowglad::Flowglad,
    &adapter_frontier::Frontier,
    &adapter_meteroid::Meteroid,
    &adapter_zenskar::Zenskar,
];

/// Every supported provider.
pub fn all() -> &'static [&'static dyn Provider] {
    &ALL
}

/// The provider with this name, if supported.
pub fn by_name(name: &str) -> Option<&'static dyn Provider> {
    ALL.iter().copied().find(|p| p.name() == name)
}

/// Names of the supported providers, for error messages.
pub fn names() -> String {
    ALL.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        let mut names: Vec<_> = all().iter().map(|p| p.name()).collect();
        names.dedup();
        assert_eq!(names.len(), all().len(), "sorted and unique");
        for name in &names {
            assert_eq!(by_name(name).map(|p| p.name()), Some(*name));
        }
        assert!(by_name("stripe").is_none());
        assert_eq!(super::names(), "flowglad, frontier, meteroid, zenskar");
    }
}
