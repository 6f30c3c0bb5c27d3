//! Vendor drift as an operator sees it: every field or enum value of a
//! vendor answer that the wire types do not know (`checkout_core::drift`)
//! is counted in `checkout_gateway_vendor_unknown_total{provider,kind,name}`
//! and logged once at `warn`. The names come from the vendor (or from
//! whoever sits between it and the gateway), so the series are bounded: a
//! provider's first [`MAX_NAMES_PER_PROVIDER`] distinct names are labels,
//! any later one is counted as `name="_other"` (logged once, when it starts).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use checkout_core::drift::{Kind, Unknown, OTHER};

/// Distinct names a provider may add as label values.
pub const MAX_NAMES_PER_PROVIDER: usize = 100;

/// The names seen so far, per provider: which are labels, which were logged.
#[derive(Default)]
pub struct DriftNames {
    seen: Mutex<HashMap<&'static str, Seen>>,
}

#[derive(Default)]
struct Seen {
    /// Every (kind, name) counted so far, `_other` included.
    names: HashSet<(Kind, String)>,
    /// How many of them are a vendor's own (not `_other`).
    own: usize,
}

/// How one unknown is counted.
#[derive(Debug, PartialEq, Eq)]
pub struct Admitted {
    /// Its own name, or `_other` past the bound.
    pub name: String,
    /// The first time this (provider, kind, name) is seen: log it.
    pub first: bool,
}

impl DriftNames {
    pub fn admit(&self, provider: &'static str, unknown: &Unknown) -> Admitted {
        // A poisoned lock only means a panic elsewhere; the set is still sound.
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let seen = seen.entry(provider).or_default();
        let key = (unknown.kind, unknown.name.clone());
        if seen.names.contains(&key) {
            return Admitted {
                name: key.1,
                first: false,
            };
        }
        let name = if unknown.name == OTHER {
            key.1
        } else if seen.own < MAX_NAMES_PER_PROVIDER {
            seen.own += 1;
            key.1
        } else {
            OTHER.to_owned()
        };
        let first = seen.names.insert((unknown.kind, name.clone()));
        Admitted { name, first }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str) -> Unknown {
        Unknown {
            kind: Kind::Field,
            name: name.to_owned(),
        }
    }

    #[test]
    fn each_name_is_first_once_per_provider() {
        let names = DriftNames::default();
        assert!(names.admit("meteroid", &field("session.risk")).first);
        assert!(!names.admit("meteroid", &field("session.risk")).first);
        assert!(names.admit("flowglad", &field("session.risk")).first);
        let value = Unknown {
            kind: Kind::Value,
            name: "session.risk".to_owned(),
        };
        assert!(names.admit("meteroid", &value).first, "kinds are apart");
    }

    #[test]
    fn past_the_bound_every_new_name_is_other() {
        let names = DriftNames::default();
        for i in 0..MAX_NAMES_PER_PROVIDER {
            let a = names.admit("meteroid", &field(&format!("f{i}")));
            assert_eq!((a.name, a.first), (format!("f{i}"), true));
        }
        let a = names.admit("meteroid", &field("one_more"));
        assert_eq!((a.name.as_str(), a.first), (OTHER, true));
        let a = names.admit("meteroid", &field("and_another"));
        assert_eq!((a.name.as_str(), a.first), (OTHER, false));
        // Names admitted before keep their own label.
        assert_eq!(names.admit("meteroid", &field("f7")).name, "f7");
        // Another provider has its own bound.
        assert_eq!(names.admit("zenskar", &field("one_more")).name, "one_more");
    }
}
