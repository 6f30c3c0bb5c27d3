//! The built `[[routing.rules]]` and `[routing.default]`: which creates a
//! rule holds for, and where it sends them.

use std::collections::{BTreeMap, BTreeSet};

use checkout_core::MetadataValue;
use serde_json::{json, Value};

use crate::bucket::{bucket, Slice, Split, BUCKETS};
use crate::catalog::Catalog;
use crate::check::{self, error};
use crate::config::{MatchConfig, RuleConfig, Share};
use crate::{Accounts, ConfigError, Decision, Input, RouteError, Target};

/// The name a create no rule matches is counted and answered under.
pub(crate) const DEFAULT_RULE: &str = "default";

/// Basis points per percent: a share's percent has at most 2 decimals.
const BUCKETS_PER_PERCENT: f64 = 100.0;

#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub(crate) name: String,
    pub(crate) when: Conditions,
    pub(crate) action: Action,
    /// `routing.rules[i]`, for the messages of later checks.
    pub(crate) path: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Conditions {
    customers: BTreeSet<String>,
    customer_prefix: Option<String>,
    pub(crate) plans: BTreeSet<String>,
    metadata: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Action {
    pub(crate) choice: Choice,
    pub(crate) fallback: Vec<Target>,
}

#[derive(Debug, Clone)]
pub(crate) enum Choice {
    Target(Target),
    Split(Split),
}

impl Rule {
    pub(crate) fn build(
        index: usize,
        config: &RuleConfig,
        catalog: &Catalog,
        accounts: &dyn Accounts,
    ) -> Result<Rule, ConfigError> {
        let path = format!("routing.rules[{index}]");
        check::name(
            &format!("{path}.name"),
            "the rule name",
            &config.name,
            &['_', '-'],
        )?;
        if config.name == DEFAULT_RULE {
            return Err(error(
                format!("{path}.name"),
                "`default` names routing.default; give the rule another name",
            ));
        }
        let when = Conditions::build(&format!("{path}.match"), &config.when, catalog)?;
        let action = Action::build(
            &path,
            config.target.as_deref(),
            config.split.as_deref(),
            &config.fallback,
            accounts,
        )?;
        Ok(Rule {
            name: config.name.clone(),
            when,
            action,
            path,
        })
    }

    pub(crate) fn describe(&self) -> Value {
        let mut out = json!({ "name": self.name, "match": self.when.describe() });
        if let (Value::Object(out), Value::Object(action)) = (&mut out, self.action.describe()) {
            out.extend(action);
        }
        out
    }
}

impl Conditions {
    fn build(
        path: &str,
        config: &MatchConfig,
        catalog: &Catalog,
    ) -> Result<Conditions, ConfigError> {
        for (i, alias) in config.plans.iter().enumerate() {
            if !catalog.plans.contains_key(alias) {
                return Err(error(
                    format!("{path}.plans[{i}]"),
                    format!("`{alias}` is not a catalog alias (catalog.plans.{alias})"),
                ));
            }
        }
        Ok(Conditions {
            customers: config.customers.iter().cloned().collect(),
            customer_prefix: config.customer_prefix.clone(),
            plans: config.plans.iter().cloned().collect(),
            metadata: config.metadata.clone(),
        })
    }

    /// Every condition given holds for this create.
    pub(crate) fn hold(&self, input: &Input<'_>) -> bool {
        let customer_ok = |customer: Option<&str>| {
            if self.customers.is_empty() && self.customer_prefix.is_none() {
                return true;
            }
            // A customer condition needs a customer to hold.
            customer.is_some_and(|c| {
                (self.customers.is_empty() || self.customers.contains(c))
                    && self
                        .customer_prefix
                        .as_deref()
                        .is_none_or(|prefix| c.starts_with(prefix))
            })
        };
        let plan_ok = self.plans.is_empty() || input.plan.is_some_and(|p| self.plans.contains(p));
        let metadata_ok = self.metadata.iter().all(|(key, want)| {
            input
                .metadata
                .and_then(|m| m.get(key))
                .is_some_and(|v| matches!(v, MetadataValue::String(s) if s == want))
        });
        customer_ok(input.customer) && plan_ok && metadata_ok
    }

    /// Only the conditions given.
    fn describe(&self) -> Value {
        let mut out = serde_json::Map::new();
        if !self.customers.is_empty() {
            out.insert("customers".into(), json!(self.customers));
        }
        if let Some(prefix) = &self.customer_prefix {
            out.insert("customer_prefix".into(), json!(prefix));
        }
        if !self.plans.is_empty() {
            out.insert("plans".into(), json!(self.plans));
        }
        if !self.metadata.is_empty() {
            out.insert("metadata".into(), json!(self.metadata));
        }
        Value::Object(out)
    }
}

impl Action {
    /// `path` is `routing.rules[i]` or `routing.default`.
    pub(crate) fn build(
        path: &str,
        target: Option<&str>,
        split: Option<&[Share]>,
        fallback: &[String],
        accounts: &dyn Accounts,
    ) -> Result<Action, ConfigError> {
        let choice = match (target, split) {
            (Some(t), None) => {
                Choice::Target(check::target(&format!("{path}.target"), t, accounts)?)
            }
            (None, Some(shares)) => {
                Choice::Split(build_split(&format!("{path}.split"), shares, accounts)?)
            }
            (Some(_), Some(_)) | (None, None) => {
                return Err(error(path, "give exactly one of `target` and `split`"))
            }
        };
        let mut built: Vec<Target> = Vec::with_capacity(fallback.len());
        for (i, value) in fallback.iter().enumerate() {
            let path = format!("{path}.fallback[{i}]");
            let t = check::target(&path, value, accounts)?;
            if built.contains(&t) {
                return Err(error(
                    path,
                    format!("{t} is already a fallback of this rule"),
                ));
            }
            if matches!(&choice, Choice::Target(first) if *first == t) {
                return Err(error(
                    path,
                    format!("{t} is this rule's target; a fallback must be another account"),
                ));
            }
            built.push(t);
        }
        Ok(Action {
            choice,
            fallback: built,
        })
    }

    /// Every target this action can end at: its target or shares, then its
    /// fallbacks (each once).
    pub(crate) fn targets(&self) -> Vec<&Target> {
        let mut out: Vec<&Target> = match &self.choice {
            Choice::Target(t) => vec![t],
            Choice::Split(split) => split.slices().map(|s| &s.target).collect(),
        };
        for t in &self.fallback {
            if !out.contains(&t) {
                out.push(t);
            }
        }
        out
    }

    pub(crate) fn decide(
        &self,
        rule: &str,
        salt: &str,
        input: &Input<'_>,
    ) -> Result<Decision, RouteError> {
        let (bucket, target) = match &self.choice {
            Choice::Target(t) => (None, t),
            Choice::Split(split) => {
                let key = input.customer.or(input.sticky_key).ok_or_else(|| {
                    RouteError::NeedsCustomer {
                        rule: rule.to_owned(),
                    }
                })?;
                let b = bucket(salt, key);
                (Some(b), &split.choose(b).target)
            }
        };
        Ok(Decision {
            rule: rule.to_owned(),
            bucket,
            target: target.clone(),
            // A split's fallback may name a share's target: useful when
            // another share's target refuses, never as its own fallback.
            fallback: self
                .fallback
                .iter()
                .filter(|t| *t != target)
                .cloned()
                .collect(),
        })
    }

    pub(crate) fn describe(&self) -> Value {
        let mut out = serde_json::Map::new();
        match &self.choice {
            Choice::Target(t) => {
                out.insert("target".into(), json!(t.to_string()));
            }
            Choice::Split(split) => {
                let shares: Vec<Value> = split
                    .slices()
                    .map(|s| json!({ "target": s.target.to_string(), "percent": s.percent, "buckets": [s.from, s.to] }))
                    .collect();
                out.insert("split".into(), Value::Array(shares));
            }
        }
        let fallback: Vec<String> = self.fallback.iter().map(Target::to_string).collect();
        out.insert("fallback".into(), json!(fallback));
        Value::Object(out)
    }
}

/// Shares in order take consecutive bucket ranges from 0; each > 0 with at
/// most 2 decimals, together exactly 100, each target once.
fn build_split(
    path: &str,
    shares: &[Share],
    accounts: &dyn Accounts,
) -> Result<Split, ConfigError> {
    let mut slices: Vec<Slice> = Vec::with_capacity(shares.len());
    let mut from: u32 = 0;
    for (i, share) in shares.iter().enumerate() {
        let target_path = format!("{path}[{i}].target");
        let target = check::target(&target_path, &share.target, accounts)?;
        if slices.iter().any(|s| s.target == target) {
            return Err(error(
                target_path,
                format!("{target} already has a share of this split"),
            ));
        }
        let buckets = share_buckets(&format!("{path}[{i}].percent"), share.percent)?;
        let to = from + buckets;
        if to > u32::from(BUCKETS) {
            return Err(error(
                path,
                format!("the shares add up to more than 100 (by share {i})"),
            ));
        }
        slices.push(Slice {
            target,
            percent: share.percent,
            from: from as u16,
            to: to as u16,
        });
        from = to;
    }
    let Some(last) = slices.pop() else {
        return Err(error(path, "a split needs at least one share"));
    };
    if from != u32::from(BUCKETS) {
        return Err(error(
            path,
            format!(
                "the shares add up to {}, not 100",
                f64::from(from) / BUCKETS_PER_PERCENT
            ),
        ));
    }
    Ok(Split {
        leading: slices,
        last,
    })
}

/// A share's percent as a count of buckets (0.01 % each).
fn share_buckets(path: &str, percent: f64) -> Result<u32, ConfigError> {
    // 0 is a share too: a ramp rolled back (or not yet begun) keeps its
    // target listed, and the boundary stays where the docs say.
    if !percent.is_finite() || !(0.0..=100.0).contains(&percent) {
        return Err(error(
            path,
            format!("a share's percent must be from 0 to 100, not {percent}"),
        ));
    }
    let buckets = (percent * BUCKETS_PER_PERCENT).round();
    // f64 cannot hold 0.07 exactly: allow the representation's error, not a
    // third decimal.
    if (percent * BUCKETS_PER_PERCENT - buckets).abs() > 1e-6 {
        return Err(error(
            path,
            format!(
                "a share's percent has at most 2 decimals (one bucket is 0.01 %), not {percent}"
            ),
        ));
    }
    // Between 0 and 10,000 by the checks above.
    Ok(buckets as u32)
}
