//! A demo walk over one seeded vendor account: the gateway's `demo` runs
//! it, and its OpenAPI document shows each create as an example. Each
//! vendor module writes its own; the gateway only iterates over them.

use serde_json::{Map, Value};

/// One vendor account's walk: what to create through the gateway, and how
/// the sandbox then moves the session on.
#[derive(Debug, Clone, PartialEq)]
pub struct Tour {
    pub title: &'static str,
    /// The gateway's provider id (also the vendor's sandbox prefix).
    pub provider: &'static str,
    pub account: &'static str,
    /// The gateway's create body, `provider` and `account` first.
    pub create: Value,
    /// Body for `POST /_sandbox/<provider>/sessions/<vendor id>`.
    pub control: Value,
    /// What that control stands for, e.g. "the customer pays".
    pub control_says: &'static str,
}

/// A vendor's demo walks over its seeded accounts, written beside its seed
/// (`<vendor>/seed.rs`); every [`Vendor`](super::mount::Vendor) has them.
pub(crate) trait Tours {
    fn tours() -> Vec<Tour>;
}

impl Tour {
    /// A walk over `provider:account` creating with `fields` (an object)
    /// besides those two, moved on by `control`.
    pub(crate) fn new(
        title: &'static str,
        provider: &'static str,
        account: &'static str,
        fields: Value,
        control: Value,
        control_says: &'static str,
    ) -> Tour {
        let mut create = Map::new();
        create.insert("provider".into(), provider.into());
        create.insert("account".into(), account.into());
        if let Value::Object(fields) = fields {
            create.extend(fields);
        }
        Tour {
            title,
            provider,
            account,
            create: Value::Object(create),
            control,
            control_says,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_create_body_names_the_account() {
        let tour = Tour::new(
            "T",
            "v",
            "a",
            json!({"customer": "c"}),
            json!({"status": "paid"}),
            "it is paid",
        );
        assert_eq!(
            tour.create,
            json!({"provider": "v", "account": "a", "customer": "c"})
        );
        assert_eq!((tour.provider, tour.account), ("v", "a"));
    }
}
