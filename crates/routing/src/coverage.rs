//! The catalog checked against the rules: no alias a vendor could read as
//! its own plan id, and no alias a rule can carry to an account that has no
//! plan id for it.

use std::collections::BTreeSet;

use crate::catalog::Catalog;
use crate::check::error;
use crate::rules::{Action, Rule};
use crate::{Accounts, ConfigError, Target};

/// An alias must not be mistaken for a plan id: not by the shape of any
/// vendor a rule routes to or the alias maps to, and not by equality with
/// another alias's plan id (which covers names, e.g. Frontier's, that no
/// shape tells from an alias).
pub(crate) fn unambiguous(
    catalog: &Catalog,
    rules: &[Rule],
    default: Option<&Action>,
    accounts: &dyn Accounts,
) -> Result<(), ConfigError> {
    let routed: BTreeSet<&Target> = rules
        .iter()
        .map(|r| &r.action)
        .chain(default)
        .flat_map(Action::targets)
        .collect();
    for (alias, ids) in &catalog.plans {
        let path = format!("catalog.plans.{alias}");
        let mut targets = routed.clone();
        targets.extend(ids.keys());
        if let Some(t) = targets.iter().find(|t| accounts.could_be_plan_id(t, alias)) {
            return Err(error(
                path,
                format!("`{alias}` could be read as a plan id of {t}; give the alias another name"),
            ));
        }
        // Its own plan id may equal it (a Frontier plan named like the
        // alias): both readings give that id there.
        let clash = catalog
            .plan_ids()
            .find(|(other, _, id)| id == alias && other != alias);
        if let Some((other, t, _)) = clash {
            return Err(error(
                path,
                format!(
                    "`{alias}` is also the plan id of {t} in catalog.plans.{other}; give the alias another name"
                ),
            ));
        }
    }
    Ok(())
}

/// Each alias a rule can carry (its `match.plans`, else every alias) has a
/// plan id at every account the rule can route to, fallbacks included.
pub(crate) fn covered(
    catalog: &Catalog,
    rules: &[Rule],
    default: Option<&Action>,
) -> Result<(), ConfigError> {
    let every: BTreeSet<String> = catalog.plans.keys().cloned().collect();
    let routes = rules
        .iter()
        .map(|r| {
            (
                format!("{} (`{}`)", r.path, r.name),
                &r.when.plans,
                &r.action,
            )
        })
        .chain(default.map(|a| ("routing.default".to_owned(), &every, a)));
    for (which, plans, action) in routes {
        let aliases = if plans.is_empty() { &every } else { plans };
        for alias in aliases {
            let Some(ids) = catalog.plans.get(alias) else {
                continue;
            };
            if let Some(t) = action.targets().into_iter().find(|t| !ids.contains_key(*t)) {
                return Err(error(
                    format!("catalog.plans.{alias}"),
                    format!("no plan id for {t}, which {which} can route to"),
                ));
            }
        }
    }
    Ok(())
}
