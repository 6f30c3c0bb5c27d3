//! Every config check of `Routing::build`, each with its exact key path and
//! a word of its message.

mod support;

use serde_json::json;
use support::{catalog_everywhere, refused};

/// The error's path, and that its message holds `word`.
fn assert_refused(config: serde_json::Value, path: &str, word: &str) {
    let e = refused(config);
    assert_eq!(e.path, path, "{e}");
    assert!(e.message.contains(word), "`{word}` not in: {e}");
    assert!(
        e.to_string().starts_with(&format!("config key `{path}`: ")),
        "{e}"
    );
}

fn rules(rules: serde_json::Value) -> serde_json::Value {
    json!({ "catalog": catalog_everywhere(), "routing": { "rules": rules } })
}

#[test]
fn a_target_is_provider_colon_account() {
    assert_refused(
        rules(json!([{ "name": "a", "target": "flowglad" }])),
        "routing.rules[0].target",
        "provider:account",
    );
}

#[test]
fn a_default_split_target_must_be_configured() {
    let config = json!({ "catalog": catalog_everywhere(), "routing": { "default": { "split": [
        { "target": "flowglad:default", "percent": 50 },
        { "target": "flowglad:gone", "percent": 50 },
    ]}}});
    assert_refused(config, "routing.default.split[1].target", "flowglad:gone");
}

#[test]
fn a_fallback_must_be_configured() {
    let config = rules(json!([
        { "name": "a", "target": "flowglad:default" },
        { "name": "b", "target": "flowglad:default" },
        { "name": "c", "target": "flowglad:default", "fallback": ["stripe:default"] },
    ]));
    assert_refused(
        config,
        "routing.rules[2].fallback[0]",
        "no account stripe:default",
    );
}

#[test]
fn a_rule_has_exactly_one_of_target_and_split() {
    let both = json!([{ "name": "a", "target": "flowglad:default",
        "split": [{ "target": "flowglad:new", "percent": 100 }] }]);
    assert_refused(rules(both), "routing.rules[0]", "exactly one");
    assert_refused(
        rules(json!([{ "name": "a" }])),
        "routing.rules[0]",
        "exactly one",
    );
    assert_refused(
        json!({ "routing": { "default": { "fallback": ["flowglad:new"] } } }),
        "routing.default",
        "exactly one",
    );
}

#[test]
fn rule_names_are_short_lower_case_and_not_default() {
    for bad in ["Ramp", "", "a.b", &"x".repeat(65)] {
        assert_refused(
            rules(json!([{ "name": bad, "target": "flowglad:default" }])),
            "routing.rules[0].name",
            "a-z 0-9 _ -",
        );
    }
    assert_refused(
        rules(json!([{ "name": "default", "target": "flowglad:default" }])),
        "routing.rules[0].name",
        "routing.default",
    );
    support::build(rules(
        json!([{ "name": "ramp_2-b", "target": "flowglad:default" }]),
    ));
}

#[test]
fn rule_names_are_unique() {
    let config = rules(json!([
        { "name": "ramp", "target": "flowglad:default" },
        { "name": "ramp", "target": "flowglad:new" },
    ]));
    assert_refused(config, "routing.rules[1].name", "routing.rules[0]");
}

#[test]
fn fallbacks_are_distinct_and_not_the_target() {
    let repeated = json!([{ "name": "a", "target": "flowglad:default",
        "fallback": ["flowglad:new", "flowglad:new"] }]);
    assert_refused(rules(repeated), "routing.rules[0].fallback[1]", "already");
    let itself = json!([{ "name": "a", "target": "flowglad:default",
        "fallback": ["flowglad:default"] }]);
    assert_refused(rules(itself), "routing.rules[0].fallback[0]", "target");
}

#[test]
fn a_split_may_fall_back_to_one_of_its_own_shares() {
    support::build(rules(json!([{ "name": "a",
        "split": [{ "target": "flowglad:new", "percent": 10 }, { "target": "flowglad:default", "percent": 90 }],
        "fallback": ["flowglad:default"] }])));
}

fn split(shares: serde_json::Value) -> serde_json::Value {
    rules(json!([
        { "name": "first", "target": "flowglad:default", "match": { "customers": ["x"] } },
        { "name": "ramp", "split": shares },
    ]))
}

#[test]
fn a_share_is_from_0_to_100_with_at_most_two_decimals() {
    for bad in [-5.0, 100.5, 10.005] {
        let shares = json!([
            { "target": "flowglad:new", "percent": bad },
            { "target": "flowglad:default", "percent": 100.0 - bad },
        ]);
        let word = if bad == 10.005 {
            "2 decimals"
        } else {
            "from 0 to 100"
        };
        assert_refused(split(shares), "routing.rules[1].split[0].percent", word);
    }
    // A share of 0 keeps its target listed (a ramp not begun, or rolled back).
    support::build(split(json!([
        { "target": "flowglad:new", "percent": 0 },
        { "target": "flowglad:default", "percent": 100 },
    ])));
    // Two decimals that f64 cannot hold exactly still count as two.
    support::build(split(json!([
        { "target": "flowglad:new", "percent": 0.07 },
        { "target": "flowglad:default", "percent": 99.93 },
    ])));
}

#[test]
fn shares_add_up_to_exactly_one_hundred() {
    let short = json!([
        { "target": "flowglad:new", "percent": 10 },
        { "target": "flowglad:default", "percent": 89.99 },
    ]);
    assert_refused(split(short), "routing.rules[1].split", "99.99, not 100");
    let over = json!([
        { "target": "flowglad:new", "percent": 60 },
        { "target": "flowglad:default", "percent": 50 },
    ]);
    assert_refused(split(over), "routing.rules[1].split", "more than 100");
    assert_refused(
        split(json!([])),
        "routing.rules[1].split",
        "at least one share",
    );
}

#[test]
fn a_split_names_each_target_once() {
    let twice = json!([
        { "target": "flowglad:new", "percent": 50 },
        { "target": "flowglad:new", "percent": 50 },
    ]);
    assert_refused(
        split(twice),
        "routing.rules[1].split[1].target",
        "already has a share",
    );
}

#[test]
fn match_plans_are_catalog_aliases() {
    let config = rules(json!([{ "name": "a", "target": "flowglad:default",
        "match": { "plans": ["pro", "enterprise"] } }]));
    assert_refused(
        config,
        "routing.rules[0].match.plans[1]",
        "not a catalog alias",
    );
}

#[test]
fn alias_names_are_short_and_lower_case() {
    let config =
        json!({ "catalog": { "plans": { "Pro": { "flowglad": { "default": "price_1" } } } } });
    assert_refused(config, "catalog.plans.Pro", "a-z 0-9 _ . -");
    support::build(json!({ "catalog": { "plans": {
        "pro.monthly_v2-b": { "flowglad": { "default": "price_1" } } } } }));
}

#[test]
fn a_catalog_account_must_be_configured() {
    let config =
        json!({ "catalog": { "plans": { "pro": { "flowglad": { "nope": "price_1" } } } } });
    assert_refused(
        config,
        "catalog.plans.pro.flowglad.nope",
        "no account flowglad:nope",
    );
}

#[test]
fn plan_ids_are_non_empty_printable_and_bounded() {
    let path = "catalog.plans.pro.meteroid.default";
    for (bad, word) in [
        ("", "empty"),
        ("plv_\n1", "control"),
        (&"p".repeat(256) as &str, "255"),
    ] {
        let config =
            json!({ "catalog": { "plans": { "pro": { "meteroid": { "default": bad } } } } });
        assert_refused(config, path, word);
    }
}

#[test]
fn an_alias_shaped_like_a_plan_id_of_an_account_it_maps_is_refused() {
    let config =
        json!({ "catalog": { "plans": { "plv_pro": { "meteroid": { "default": "plv_1" } } } } });
    assert_refused(config, "catalog.plans.plv_pro", "meteroid:default");
}

#[test]
fn an_alias_shaped_like_a_plan_id_of_a_routed_account_is_refused() {
    // Mapped at Meteroid only, but a rule (for another alias) routes to
    // Flowglad: a create naming it there would be read as a price id.
    let config = json!({
        "catalog": { "plans": {
            "price_basic": { "meteroid": { "default": "plv_1" } },
            "pro": { "flowglad": { "default": "price_1" } },
        }},
        "routing": { "rules": [
            { "name": "pro", "target": "flowglad:default", "match": { "plans": ["pro"] } },
        ]},
    });
    assert_refused(config, "catalog.plans.price_basic", "flowglad:default");
}

#[test]
fn an_alias_equal_to_a_plan_id_of_the_catalog_is_refused() {
    // Frontier plans go by name too: no shape tells `basic` from an alias.
    let config = json!({ "catalog": { "plans": {
        "basic": { "frontier": { "default": "starter" } },
        "pro": { "frontier": { "default": "basic" } },
    }}});
    assert_refused(
        config,
        "catalog.plans.basic",
        "frontier:default in catalog.plans.pro",
    );
    // Its own plan id may be its name: both readings give that plan.
    support::build(
        json!({ "catalog": { "plans": { "basic": { "frontier": { "default": "basic" } } } } }),
    );
}

#[test]
fn an_alias_missing_at_a_routed_account_is_refused() {
    let config = json!({
        "catalog": { "plans": { "pro": { "meteroid": { "default": "plv_1" } } } },
        "routing": { "rules": [
            { "name": "vip", "target": "meteroid:default", "match": { "customers": ["acme"] } },
            { "name": "ramp", "split": [
                { "target": "flowglad:default", "percent": 10 },
                { "target": "meteroid:default", "percent": 90 },
            ]},
        ]},
    });
    let e = refused(config);
    assert_eq!(e.path, "catalog.plans.pro");
    assert_eq!(
        e.message,
        "no plan id for flowglad:default, which routing.rules[1] (`ramp`) can route to"
    );
}

#[test]
fn an_alias_missing_at_a_fallback_or_the_default_is_refused() {
    let fallback = json!({
        "catalog": { "plans": { "pro": { "meteroid": { "default": "plv_1" } } } },
        "routing": { "rules": [
            { "name": "a", "target": "meteroid:default", "fallback": ["zenskar:default"] },
        ]},
    });
    assert_refused(
        fallback,
        "catalog.plans.pro",
        "zenskar:default, which routing.rules[0] (`a`)",
    );
    let default = json!({
        "catalog": { "plans": { "pro": { "meteroid": { "default": "plv_1" } } } },
        "routing": { "default": { "target": "frontier:default" } },
    });
    assert_refused(
        default,
        "catalog.plans.pro",
        "frontier:default, which routing.default",
    );
}

#[test]
fn a_rule_with_plans_only_needs_those_aliases() {
    support::build(json!({
        "catalog": { "plans": {
            "pro": { "meteroid": { "default": "plv_1" }, "flowglad": { "default": "price_1" } },
            "legacy": { "meteroid": { "default": "plv_2" } },
        }},
        "routing": { "rules": [
            { "name": "pro", "match": { "plans": ["pro"] }, "split": [
                { "target": "flowglad:default", "percent": 10 },
                { "target": "meteroid:default", "percent": 90 },
            ]},
        ]},
    }));
}

#[test]
fn configured_customers_need_configured_accounts_and_references() {
    let unknown =
        json!({ "catalog": { "customers": { "acme": { "flowglad": { "nope": "cus_1" } } } } });
    assert_refused(
        unknown,
        "catalog.customers.acme.flowglad.nope",
        "no account",
    );
    let empty =
        json!({ "catalog": { "customers": { "acme": { "flowglad": { "default": "" } } } } });
    assert_refused(
        empty,
        "catalog.customers.acme.flowglad.default",
        "customer reference",
    );
}

#[test]
fn unknown_keys_are_refused_by_serde() {
    let e = serde_json::from_value::<routing::RoutingConfig>(json!({
        "rules": [{ "name": "a", "target": "flowglad:default", "weight": 3 }]
    }))
    .expect_err("unknown key");
    assert!(e.to_string().contains("weight"), "{e}");
}
