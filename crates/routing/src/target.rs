//! Where a create can go: a `provider:account` pair, and what the routing
//! needs to know of the configured accounts.

use serde::Serialize;

/// `"provider:account"` as a pair.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Target {
    pub provider: String,
    pub account: String,
}

impl Target {
    /// `provider:account`: exactly one `:`, both sides non-empty.
    pub fn parse(s: &str) -> Option<Target> {
        let (provider, account) = s.split_once(':')?;
        if provider.is_empty() || account.is_empty() || account.contains(':') {
            return None;
        }
        Some(Target {
            provider: provider.to_owned(),
            account: account.to_owned(),
        })
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.provider, self.account)
    }
}

/// What the routing needs to know of the configured accounts.
pub trait Accounts {
    /// Whether this account is configured.
    fn exists(&self, target: &Target) -> bool;
    /// Whether `plan` could be a plan id of this target's vendor
    /// (`Provider::could_be_plan_id`).
    fn could_be_plan_id(&self, target: &Target, plan: &str) -> bool;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exactly_one_colon_with_both_sides() {
        let t = Target::parse("flowglad:default").expect("a target");
        assert_eq!(
            (t.provider.as_str(), t.account.as_str()),
            ("flowglad", "default")
        );
        assert_eq!(t.to_string(), "flowglad:default");
        for bad in ["flowglad", ":default", "flowglad:", "a:b:c", ""] {
            assert_eq!(Target::parse(bad), None, "{bad}");
        }
    }
}
