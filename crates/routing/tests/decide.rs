//! Deciding creates: rule order and conditions, the default, the split's
//! key, and what the built routing answers about plans and customers.

mod support;

use checkout_core::{Metadata, MetadataValue};
use routing::{Input, PlanFor, RouteError};
use serde_json::json;
use support::{build, catalog_everywhere, target};

fn routed() -> routing::Routing {
    build(json!({
        "catalog": {
            "plans": {
                "pro": {
                    "meteroid": { "default": "plv_pro" },
                    "flowglad": { "default": "price_pro", "new": "price_slug:pro" },
                },
                // Every rule without a plan condition can carry it: mapped
                // wherever they route, and nowhere else.
                "legacy": {
                    "meteroid": { "default": "plv_legacy" },
                    "flowglad": { "default": "price_legacy", "new": "price_legacy_new" },
                },
            },
            "customers": { "acme": { "flowglad": { "new": "cus_acme" } } },
        },
        "routing": {
            "salt": "s1",
            "rules": [
                { "name": "vip", "match": { "customers": ["acme", "globex"] }, "target": "flowglad:new",
                  "fallback": ["flowglad:default"] },
                { "name": "legacy", "match": { "plans": ["legacy"] }, "target": "meteroid:default" },
                { "name": "eu", "match": { "metadata": { "region": "eu" }, "plans": ["pro"] },
                  "target": "flowglad:default" },
                { "name": "ramp", "match": { "customer_prefix": "org_" }, "split": [
                    { "target": "flowglad:new", "percent": 10 },
                    { "target": "meteroid:default", "percent": 90 },
                ], "fallback": ["meteroid:default", "flowglad:default"] },
            ],
            "default": { "target": "meteroid:default" },
        },
    }))
}

fn input<'a>(customer: Option<&'a str>, plan: Option<&'a str>) -> Input<'a> {
    Input {
        customer,
        plan,
        ..Input::default()
    }
}

#[test]
fn the_first_matching_rule_wins() {
    let r = routed();
    // `acme` with the legacy plan matches `vip` and `legacy`: `vip` is first.
    let d = r
        .decide(&input(Some("acme"), Some("legacy")))
        .expect("a route");
    assert_eq!(
        (d.rule.as_str(), d.target.clone()),
        ("vip", target("flowglad:new"))
    );
    assert_eq!(d.bucket, None);
    assert_eq!(d.fallback, [target("flowglad:default")]);
    let d = r
        .decide(&input(Some("initech"), Some("legacy")))
        .expect("a route");
    assert_eq!(d.rule, "legacy");
}

#[test]
fn metadata_matches_string_values_only() {
    let r = routed();
    let mut metadata = Metadata::new();
    metadata.insert("region".into(), MetadataValue::String("eu".into()));
    let eu = Input {
        customer: Some("initech"),
        plan: Some("pro"),
        metadata: Some(&metadata),
        sticky_key: None,
    };
    assert_eq!(r.decide(&eu).expect("a route").rule, "eu");
    // Every condition must hold: the plan too.
    let other_plan = Input {
        plan: Some("legacy"),
        ..eu
    };
    assert_eq!(r.decide(&other_plan).expect("a route").rule, "legacy");
    for not_a_string in [MetadataValue::Bool(true), MetadataValue::Number(7.into())] {
        let mut metadata = Metadata::new();
        metadata.insert("region".into(), not_a_string);
        let i = Input {
            metadata: Some(&metadata),
            ..eu
        };
        assert_eq!(r.decide(&i).expect("a route").rule, "default");
    }
    let none = Input {
        metadata: None,
        ..eu
    };
    assert_eq!(r.decide(&none).expect("a route").rule, "default");
}

#[test]
fn a_customer_condition_needs_a_customer() {
    let r = routed();
    let d = r
        .decide(&Input {
            sticky_key: Some("org_1"),
            ..Input::default()
        })
        .expect("a route");
    assert_eq!(d.rule, "default");
    assert_eq!(d.target, target("meteroid:default"));
    assert_eq!(
        r.decide(&input(Some("org_7"), None)).expect("a route").rule,
        "ramp"
    );
}

#[test]
fn without_a_match_or_default_there_is_no_route() {
    let r = build(
        json!({ "catalog": catalog_everywhere(), "routing": { "rules": [
            { "name": "vip", "match": { "customers": ["acme"] }, "target": "flowglad:default" },
        ]}}),
    );
    assert!(r.is_configured());
    assert_eq!(
        r.decide(&input(Some("globex"), None)),
        Err(RouteError::NoRoute)
    );
    let empty = build(json!({ "catalog": catalog_everywhere() }));
    assert!(!empty.is_configured());
    assert_eq!(
        empty.decide(&input(Some("acme"), None)),
        Err(RouteError::NoRoute)
    );
}

#[test]
fn a_split_needs_a_customer_or_a_sticky_key() {
    let r = build(
        json!({ "catalog": catalog_everywhere(), "routing": { "default": { "split": [
            { "target": "flowglad:new", "percent": 50 },
            { "target": "flowglad:default", "percent": 50 },
        ]}}}),
    );
    let e = r.decide(&Input::default()).expect_err("nothing to hash");
    assert_eq!(
        e,
        RouteError::NeedsCustomer {
            rule: "default".into()
        }
    );
    assert!(e.to_string().contains("Idempotency-Key"), "{e}");
    // The key hashes like a customer of that id would.
    let by_key = r
        .decide(&Input {
            sticky_key: Some("idem-1"),
            ..Input::default()
        })
        .expect("a route");
    let by_customer = r.decide(&input(Some("idem-1"), None)).expect("a route");
    assert_eq!(by_key, by_customer);
    assert_eq!(by_key.bucket, Some(routing::bucket("", "idem-1")));
    // A customer, when given, is what hashes.
    let both = Input {
        customer: Some("acme"),
        sticky_key: Some("idem-1"),
        ..Input::default()
    };
    assert_eq!(
        r.decide(&both).expect("a route").bucket,
        Some(routing::bucket("", "acme"))
    );
}

#[test]
fn a_split_never_falls_back_to_the_chosen_target() {
    let r = routed();
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..200 {
        let customer = format!("org_{i}");
        let d = r.decide(&input(Some(&customer), None)).expect("a route");
        assert!(!d.fallback.contains(&d.target), "{d:?}");
        let expected: Vec<_> = [target("meteroid:default"), target("flowglad:default")]
            .into_iter()
            .filter(|t| *t != d.target)
            .collect();
        assert_eq!(d.fallback, expected);
        seen.insert(d.target);
    }
    assert_eq!(seen.len(), 2, "both shares chose some of 200 customers");
}

#[test]
fn aliases_resolve_per_target() {
    let r = routed();
    assert_eq!(
        r.plan_for("pro", &target("meteroid:default")),
        PlanFor::Alias("plv_pro")
    );
    assert_eq!(
        r.plan_for("pro", &target("flowglad:default")),
        PlanFor::Alias("price_pro")
    );
    assert_eq!(
        r.plan_for("pro", &target("flowglad:new")),
        PlanFor::Alias("price_slug:pro")
    );
    assert_eq!(
        r.plan_for("legacy", &target("zenskar:default")),
        PlanFor::Unmapped
    );
    assert_eq!(
        r.plan_for("plv_other", &target("meteroid:default")),
        PlanFor::NotAlias
    );
    assert!(r.is_alias("legacy"));
    assert!(!r.is_alias("plv_pro"));
}

#[test]
fn configured_customers_resolve_per_target() {
    let r = routed();
    assert_eq!(
        r.configured_customer("acme", &target("flowglad:new")),
        Some("cus_acme")
    );
    assert_eq!(
        r.configured_customer("acme", &target("flowglad:default")),
        None
    );
    assert!(r.customer_is_configured("acme"));
    assert!(!r.customer_is_configured("globex"));
}

#[test]
fn describe_shows_rules_buckets_and_no_salt() {
    let d = routed().describe();
    assert_eq!(d["salt_set"], true);
    assert!(!d.to_string().contains("s1"), "{d}");
    assert_eq!(
        d["rules"][0],
        json!({
            "name": "vip", "match": { "customers": ["acme", "globex"] },
            "target": "flowglad:new", "fallback": ["flowglad:default"],
        })
    );
    assert_eq!(
        d["rules"][3]["split"],
        json!([
            { "target": "flowglad:new", "percent": 10.0, "buckets": [0, 1000] },
            { "target": "meteroid:default", "percent": 90.0, "buckets": [1000, 10000] },
        ])
    );
    assert_eq!(
        d["rules"][2]["match"],
        json!({ "plans": ["pro"], "metadata": { "region": "eu" } })
    );
    assert_eq!(
        d["default"],
        json!({ "target": "meteroid:default", "fallback": [] })
    );
    assert!(!format!("{:?}", routed()).contains("s1"));
}

#[test]
fn pairs_name_every_end_of_every_rule_once() {
    let pairs: Vec<(String, String)> = routed()
        .pairs()
        .into_iter()
        .map(|(rule, t)| (rule, t.to_string()))
        .collect();
    let expected = [
        ("vip", "flowglad:new"),
        ("vip", "flowglad:default"),
        ("legacy", "meteroid:default"),
        ("eu", "flowglad:default"),
        ("ramp", "flowglad:new"),
        ("ramp", "meteroid:default"),
        ("ramp", "flowglad:default"),
        ("default", "meteroid:default"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(r, t)| (r.to_string(), t.to_string()))
        .collect();
    assert_eq!(pairs, expected);
}

#[test]
fn the_config_schema_documents_every_field() {
    let schema =
        serde_json::to_value(schemars::schema_for!(routing::RoutingConfig)).expect("a schema");
    let text = schema.to_string();
    for word in ["salt", "fallback", "customer_prefix", "percent", "match"] {
        assert!(text.contains(word), "{word}");
    }
}
