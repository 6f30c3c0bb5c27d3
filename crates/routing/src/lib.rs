//! Migration routing's pure rules (PRODUCT §12): the plan catalog, the
//! customer map as configured, the routing rules, and the sticky weighted
//! split.
//!
//! [`Routing::build`] checks `[catalog]` and `[routing]` against the
//! configured accounts and refuses a bad config with its exact key path;
//! [`Routing::decide`] then says which rule and target a create that names
//! no provider and account goes to. Nothing here performs I/O: the gateway
//! holds the accounts, the store's customer map, the counts and the
//! reloads.

pub mod bucket;
pub mod config;
pub mod target;

mod catalog;
mod check;
mod coverage;
mod rules;

use serde::Serialize;
use serde_json::{json, Value};

pub use bucket::bucket;
pub use config::{ActionConfig, CatalogConfig, MatchConfig, RoutingConfig, RuleConfig, Share};
pub use target::{Accounts, Target};

use catalog::Catalog;
use rules::{Action, Rule, DEFAULT_RULE};

/// A `[catalog]` or `[routing]` value the routing cannot take.
#[derive(Debug, thiserror::Error)]
#[error("config key `{path}`: {message}")]
pub struct ConfigError {
    /// The key, e.g. `routing.rules[1].split[0].percent`, `catalog.plans.pro`.
    pub path: String,
    pub message: String,
}

/// The checked catalog and rules: cheap to share behind an `Arc`, swapped
/// whole on reload.
pub struct Routing {
    catalog: Catalog,
    rules: Vec<Rule>,
    default: Option<Action>,
    salt: String,
}

/// `plan` as one target knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanFor<'a> {
    /// The plan is an alias, and this is its plan id at the target.
    Alias(&'a str),
    /// The plan is an alias with no plan id at the target.
    Unmapped,
    /// The plan is no alias: it goes to the vendor as given.
    NotAlias,
}

/// What of a create the routing reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct Input<'a> {
    /// The caller's own customer id (routed creates): what rules match and
    /// what the bucket hashes.
    pub customer: Option<&'a str>,
    pub plan: Option<&'a str>,
    /// Only string values can match a metadata condition.
    pub metadata: Option<&'a checkout_core::Metadata>,
    /// Hashed instead of the customer when there is none (the
    /// Idempotency-Key): retries stay on one target.
    pub sticky_key: Option<&'a str>,
}

/// Where a create goes, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// The rule's name, or "default".
    pub rule: String,
    /// 0..10000; `Some` only when a split chose.
    pub bucket: Option<u16>,
    /// The chosen target.
    pub target: Target,
    /// The rule's fallbacks, in order (never containing `target`).
    pub fallback: Vec<Target>,
}

/// Why a create has no route.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RouteError {
    /// No rule matches and there is no default.
    #[error("no routing rule matches this create and routing.default is not set")]
    NoRoute,
    /// A split needs something to hash.
    #[error("the rule `{rule}` splits by customer: give `customer` (or an Idempotency-Key)")]
    NeedsCustomer { rule: String },
}

impl Routing {
    /// Check `[catalog]` and `[routing]` against the configured accounts;
    /// the first fault found is the error.
    pub fn build(
        catalog: &CatalogConfig,
        routing: &RoutingConfig,
        accounts: &dyn Accounts,
    ) -> Result<Routing, ConfigError> {
        let catalog = Catalog::build(catalog, accounts)?;
        let mut rules: Vec<Rule> = Vec::with_capacity(routing.rules.len());
        for (i, config) in routing.rules.iter().enumerate() {
            let rule = Rule::build(i, config, &catalog, accounts)?;
            if let Some(first) = rules.iter().find(|r| r.name == rule.name) {
                return Err(check::error(
                    format!("{}.name", rule.path),
                    format!("`{}` already names {}", rule.name, first.path),
                ));
            }
            rules.push(rule);
        }
        let default = routing
            .default
            .as_ref()
            .map(|d| {
                Action::build(
                    "routing.default",
                    d.target.as_deref(),
                    d.split.as_deref(),
                    &d.fallback,
                    accounts,
                )
            })
            .transpose()?;
        coverage::unambiguous(&catalog, &rules, default.as_ref(), accounts)?;
        coverage::covered(&catalog, &rules, default.as_ref())?;
        Ok(Routing {
            catalog,
            rules,
            default,
            salt: routing.salt.clone(),
        })
    }

    /// Whether any rule or a default is configured (without: a create must
    /// name provider and account).
    pub fn is_configured(&self) -> bool {
        !self.rules.is_empty() || self.default.is_some()
    }

    /// Which rule and target(s) a create goes to: the first rule whose
    /// conditions hold, else the default.
    pub fn decide(&self, input: &Input<'_>) -> Result<Decision, RouteError> {
        if let Some(rule) = self.rules.iter().find(|r| r.when.hold(input)) {
            return rule.action.decide(&rule.name, &self.salt, input);
        }
        match &self.default {
            Some(action) => action.decide(DEFAULT_RULE, &self.salt, input),
            None => Err(RouteError::NoRoute),
        }
    }

    /// `plan` as `target` knows it: an alias becomes that account's plan id
    /// (`PlanFor::Alias(id)`), an alias with no id there is `Unmapped`,
    /// anything else `NotAlias`.
    pub fn plan_for(&self, plan: &str, target: &Target) -> PlanFor<'_> {
        match self.catalog.plans.get(plan) {
            Some(ids) => ids
                .get(target)
                .map_or(PlanFor::Unmapped, |id| PlanFor::Alias(id)),
            None => PlanFor::NotAlias,
        }
    }

    pub fn is_alias(&self, plan: &str) -> bool {
        self.catalog.plans.contains_key(plan)
    }

    /// The customer's reference at `target` from `catalog.customers` (the
    /// store's map is the gateway's business).
    pub fn configured_customer(&self, customer: &str, target: &Target) -> Option<&str> {
        self.catalog
            .customers
            .get(customer)
            .and_then(|refs| refs.get(target))
            .map(String::as_str)
    }

    /// Every customer `catalog.customers` names, in id order.
    pub fn configured_customers(&self) -> impl Iterator<Item = &String> {
        self.catalog.customers.keys()
    }

    /// A configured customer's references, keyed `provider:account`.
    pub fn configured_customer_references(
        &self,
        customer: &str,
    ) -> Option<std::collections::BTreeMap<String, String>> {
        let refs = self.catalog.customers.get(customer)?;
        Some(
            refs.iter()
                .map(|(target, reference)| (target.to_string(), reference.clone()))
                .collect(),
        )
    }

    /// Whether `catalog.customers` names this customer at all (then the
    /// store may not also hold it).
    pub fn customer_is_configured(&self, customer: &str) -> bool {
        self.catalog.customers.contains_key(customer)
    }

    /// The rules in force, as `GET /v1/routing` shows them: each rule's
    /// name, match, target or split (percent and the buckets `[from, to)`
    /// each share takes) and fallback; the default; and whether a salt is
    /// set (never the salt itself: it would let anyone place customers).
    pub fn describe(&self) -> Value {
        let rules: Vec<Value> = self.rules.iter().map(Rule::describe).collect();
        json!({
            "rules": rules,
            "default": self.default.as_ref().map(Action::describe),
            "salt_set": !self.salt.is_empty(),
        })
    }

    /// Every (rule name, target) pair a create can end at, fallbacks and
    /// "default" included, each once (for metrics pre-registration).
    pub fn pairs(&self) -> Vec<(String, Target)> {
        let named = self
            .rules
            .iter()
            .map(|r| (r.name.as_str(), &r.action))
            .chain(self.default.as_ref().map(|a| (DEFAULT_RULE, a)));
        let mut out: Vec<(String, Target)> = Vec::new();
        for (name, action) in named {
            for t in action.targets() {
                out.push((name.to_owned(), t.clone()));
            }
        }
        out
    }
}

impl std::fmt::Debug for Routing {
    // The salt stays out, as in `describe`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Routing")
            .field("catalog", &self.catalog)
            .field("rules", &self.rules)
            .field("default", &self.default)
            .field("salt_set", &!self.salt.is_empty())
            .finish()
    }
}
