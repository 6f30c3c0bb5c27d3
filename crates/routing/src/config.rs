//! The `[catalog]` and `[routing]` config tables as written: plain serde
//! types whose doc comments become the config JSON Schema. Nothing here is
//! checked; [`crate::Routing::build`] checks it all and names the key.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `[catalog]`: plan aliases and customer references per account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogConfig {
    /// `catalog.plans.<alias>.<provider>.<account> = "<that account's plan id>"`:
    /// a create may give the alias where `plan` goes, and each account gets
    /// its own plan id (a Meteroid plan version, a Flowglad price id or
    /// `price_slug:<slug>`, a Frontier plan, a Zenskar plan). Aliases are
    /// 1 to 64 of `a-z 0-9 _ . -`.
    #[serde(default)]
    pub plans: BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>,
    /// `catalog.customers.<customer>.<provider>.<account> = "<that vendor's customer reference>"`:
    /// the caller's own customer id to each vendor's customer. A customer
    /// named here cannot also be mapped in the store.
    #[serde(default)]
    pub customers: BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>,
}

/// `[routing]`: where a create that names no provider and account goes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoutingConfig {
    /// Mixed into every bucket hash: changing it reshuffles every customer
    /// (default "").
    #[serde(default)]
    pub salt: String,
    /// `[[routing.rules]]`, tried in order: the first whose `match` holds
    /// decides.
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
    /// `[routing.default]`: where a create no rule matches goes (none: such
    /// a create is refused).
    #[serde(default)]
    pub default: Option<ActionConfig>,
}

/// One `[[routing.rules]]` entry: a condition and where a create it holds
/// for goes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// Unique; 1 to 64 of `a-z 0-9 _ -`; not "default". Names the rule in
    /// answers and metrics.
    pub name: String,
    /// `[routing.rules.match]`: every condition given must hold; none given
    /// matches every create.
    #[serde(rename = "match", default)]
    pub when: MatchConfig,
    /// `"provider:account"`: every create this rule matches goes there.
    /// Exactly one of `target` and `split`.
    #[serde(default)]
    pub target: Option<String>,
    /// A sticky weighted split: the customer (or the Idempotency-Key) hashes
    /// to a bucket in 0..10000 and the shares, in the order given, take
    /// consecutive bucket ranges from 0. Exactly one of `target` and `split`.
    #[serde(default)]
    pub split: Option<Vec<Share>>,
    /// `"provider:account"` targets tried in order only when the chosen
    /// target refused before any vendor call (breaker open, in-flight
    /// bound), so a create never makes checkouts at two vendors.
    #[serde(default)]
    pub fallback: Vec<String>,
}

/// `[routing.default]`: the action of a rule, without name or condition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionConfig {
    /// `"provider:account"`. Exactly one of `target` and `split`.
    #[serde(default)]
    pub target: Option<String>,
    /// A sticky weighted split, as in a rule. Exactly one of `target` and
    /// `split`.
    #[serde(default)]
    pub split: Option<Vec<Share>>,
    /// `"provider:account"` targets tried in order only when the chosen
    /// target refused before any vendor call.
    #[serde(default)]
    pub fallback: Vec<String>,
}

/// `[routing.rules.match]`: conditions on the create, all of which must
/// hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchConfig {
    /// The create's `customer` (the caller's own id) is one of these.
    #[serde(default)]
    pub customers: Vec<String>,
    /// The create's `customer` starts with this. A create without a
    /// customer does not match a rule with a customer condition.
    #[serde(default)]
    pub customer_prefix: Option<String>,
    /// The create's `plan` is one of these catalog aliases.
    #[serde(default)]
    pub plans: Vec<String>,
    /// Each key is in the create's metadata with this string value (a
    /// number or boolean never matches).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

/// One share of a split, in the order given: shares take consecutive bucket
/// ranges from 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Share {
    /// `"provider:account"`; each target once per split.
    pub target: String,
    /// Greater than 0, at most 2 decimals (0.01 % is one bucket); the
    /// split's shares add up to exactly 100.
    pub percent: f64,
}
