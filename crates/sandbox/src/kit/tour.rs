//! A demo walk over one seeded vendor account: the gateway's `demo` runs
//! it, and its OpenAPI document shows each create as an example. Each
//! vendor's `seed.rs` writes its own walks; the kit names them after the
//! vendor, and the gateway only iterates over them.

use serde_json::{Map, Value};

/// A walk as a vendor's seed writes it: everything but the vendor's name.
pub(crate) struct Walk {
    pub title: &'static str,
    pub account: &'static str,
    /// The gateway's create body, without `provider` and `account`.
    pub create: Value,
    /// Body for `POST /_sandbox/<vendor>/sessions/<vendor id>`.
    pub control: Value,
    pub control_says: &'static str,
}

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

impl Walk {
    /// The walk over `provider:account`.
    pub(crate) fn of(self, provider: &'static str) -> Tour {
        let mut create = Map::new();
        create.insert("provider".into(), provider.into());
        create.insert("account".into(), self.account.into());
        if let Value::Object(fields) = self.create {
            create.extend(fields);
        }
        Tour {
            title: self.title,
            provider,
            account: self.account,
            create: Value::Object(create),
            control: self.control,
            control_says: self.control_says,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_create_body_names_the_account() {
        let walk = Walk {
            title: "T",
            account: "a",
            create: json!({"customer": "c"}),
            control: json!({"status": "paid"}),
            control_says: "it is paid",
        };
        let tour = walk.of("v");
        assert_eq!(
            tour.create,
            json!({"provider": "v", "account": "a", "customer": "c"})
        );
        assert_eq!((tour.provider, tour.account), ("v", "a"));
    }
}
