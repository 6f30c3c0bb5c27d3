//! What the routing tests share: accounts, and configs written as JSON (the
//! shape TOML gives serde).

#![allow(dead_code)] // each test binary uses its own part

use routing::{Accounts, CatalogConfig, ConfigError, Routing, RoutingConfig, Target};
use serde_json::Value;

/// The demo's accounts plus a second Flowglad one, each vendor recognising
/// its own plan ids by shape.
pub struct TestAccounts;

pub const ACCOUNTS: [&str; 5] = [
    "meteroid:default",
    "flowglad:default",
    "flowglad:new",
    "frontier:default",
    "zenskar:default",
];

impl Accounts for TestAccounts {
    fn exists(&self, target: &Target) -> bool {
        ACCOUNTS.contains(&target.to_string().as_str())
    }

    fn could_be_plan_id(&self, target: &Target, plan: &str) -> bool {
        match target.provider.as_str() {
            "meteroid" => plan.starts_with("plv_"),
            "flowglad" => plan.starts_with("price_"),
            _ => plan.len() == 36 && plan.matches('-').count() == 4,
        }
    }
}

pub fn target(s: &str) -> Target {
    Target::parse(s).expect("a test target")
}

/// `{"catalog": .., "routing": ..}` built against [`TestAccounts`].
pub fn try_build(config: Value) -> Result<Routing, ConfigError> {
    let catalog: CatalogConfig = serde_json::from_value(
        config
            .get("catalog")
            .cloned()
            .unwrap_or(Value::Null)
            .or_empty(),
    )
    .expect("a catalog table");
    let routing: RoutingConfig = serde_json::from_value(
        config
            .get("routing")
            .cloned()
            .unwrap_or(Value::Null)
            .or_empty(),
    )
    .expect("a routing table");
    Routing::build(&catalog, &routing, &TestAccounts)
}

pub fn build(config: Value) -> Routing {
    match try_build(config) {
        Ok(r) => r,
        Err(e) => panic!("the config builds: {e}"),
    }
}

/// The error of a config that must not build.
pub fn refused(config: Value) -> ConfigError {
    match try_build(config) {
        Ok(r) => panic!("the config was taken: {r:?}"),
        Err(e) => e,
    }
}

/// A `pro` alias mapped at every test account.
pub fn catalog_everywhere() -> Value {
    serde_json::json!({ "plans": { "pro": {
        "meteroid": { "default": "plv_pro" },
        "flowglad": { "default": "price_pro", "new": "price_slug:pro" },
        "frontier": { "default": "pro-plan" },
        "zenskar": { "default": "0199b896-0135-7e6b-b52a-050aa7f8c874" },
    }}})
}

trait OrEmpty {
    fn or_empty(self) -> Value;
}

impl OrEmpty for Value {
    fn or_empty(self) -> Value {
        if self.is_null() {
            Value::Object(Default::default())
        } else {
            self
        }
    }
}
