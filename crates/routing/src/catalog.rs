//! The built `[catalog]`: plan aliases and configured customer references,
//! each per account, checked on their own (the checks against the rules are
//! in `coverage.rs`).

use std::collections::BTreeMap;

use crate::check;
use crate::config::CatalogConfig;
use crate::{Accounts, ConfigError, Target};

/// Per account, what one name stands for there.
pub(crate) type PerTarget = BTreeMap<Target, String>;

#[derive(Debug, Clone, Default)]
pub(crate) struct Catalog {
    /// alias → account → that account's plan id.
    pub(crate) plans: BTreeMap<String, PerTarget>,
    /// caller's customer id → account → that vendor's customer reference.
    pub(crate) customers: BTreeMap<String, PerTarget>,
}

impl Catalog {
    pub(crate) fn build(
        config: &CatalogConfig,
        accounts: &dyn Accounts,
    ) -> Result<Catalog, ConfigError> {
        let mut plans = BTreeMap::new();
        for (alias, providers) in &config.plans {
            let path = format!("catalog.plans.{alias}");
            check::name(&path, "the alias", alias, &['_', '.', '-'])?;
            plans.insert(
                alias.clone(),
                per_target(&path, "plan id", providers, accounts)?,
            );
        }
        let mut customers = BTreeMap::new();
        for (customer, providers) in &config.customers {
            let path = format!("catalog.customers.{customer}");
            check::reference(&path, "customer id", customer)?;
            customers.insert(
                customer.clone(),
                per_target(&path, "customer reference", providers, accounts)?,
            );
        }
        Ok(Catalog { plans, customers })
    }

    /// Every (alias, account, plan id) of the catalog.
    pub(crate) fn plan_ids(&self) -> impl Iterator<Item = (&str, &Target, &str)> {
        self.plans.iter().flat_map(|(alias, ids)| {
            ids.iter()
                .map(move |(target, id)| (alias.as_str(), target, id.as_str()))
        })
    }
}

/// `<path>.<provider>.<account> = "<value>"`: each account configured, each
/// value a reference a vendor could take.
fn per_target(
    path: &str,
    what: &str,
    providers: &BTreeMap<String, BTreeMap<String, String>>,
    accounts: &dyn Accounts,
) -> Result<PerTarget, ConfigError> {
    let mut out = PerTarget::new();
    for (provider, by_account) in providers {
        for (account, value) in by_account {
            let path = format!("{path}.{provider}.{account}");
            let target = Target {
                provider: provider.clone(),
                account: account.clone(),
            };
            check::account(&path, &target, accounts)?;
            check::reference(&path, what, value)?;
            out.insert(target, value.clone());
        }
    }
    Ok(out)
}
