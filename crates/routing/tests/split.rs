//! The sticky weighted split: its distribution, and that ramping a share up
//! or down moves only the customers the boundary passes.

mod support;

use proptest::prelude::*;
use routing::{Input, Routing, Target};
use serde_json::json;
use support::{build, target};

const NEW: &str = "flowglad:new";
const OLD: &str = "meteroid:default";

/// A default split giving `new_buckets` of 10,000 to [`NEW`], listed first
/// or second; a share of 0 stays listed (a ramp not begun, or rolled back).
fn ramp(salt: &str, new_buckets: u16, new_first: bool) -> Routing {
    let share = |t: &str, b: u16| json!({ "target": t, "percent": f64::from(b) / 100.0 });
    let mut shares = vec![(NEW, new_buckets), (OLD, 10_000 - new_buckets)];
    if !new_first {
        shares.reverse();
    }
    let split: Vec<_> = shares.into_iter().map(|(t, b)| share(t, b)).collect();
    build(json!({
        "catalog": { "plans": { "pro": {
            "flowglad": { "new": "price_slug:pro" }, "meteroid": { "default": "plv_pro" } } } },
        "routing": { "salt": salt, "default": { "split": split } },
    }))
}

fn customer(i: u32) -> String {
    format!("cust-{i}")
}

fn chosen(r: &Routing, customer: &str) -> Target {
    let input = Input {
        customer: Some(customer),
        plan: Some("pro"),
        ..Input::default()
    };
    r.decide(&input).expect("a route").target
}

#[test]
fn ten_percent_of_ten_thousand_customers_go_to_the_new_target() {
    let new = target(NEW);
    for new_first in [true, false] {
        let r = ramp("", 1000, new_first);
        let moved = (0..10_000)
            .filter(|i| chosen(&r, &customer(*i)) == new)
            .count();
        assert!(
            (900..=1100).contains(&moved),
            "{moved} of 10,000 (new first: {new_first})"
        );
    }
}

#[test]
fn a_customer_never_alternates() {
    let r = ramp("2026", 5000, true);
    for key in ["cust-1", "cust-2", "acme"] {
        let input = Input {
            customer: Some(key),
            ..Input::default()
        };
        let first = r.decide(&input).expect("a route");
        assert!(
            (0..1000).all(|_| r.decide(&input).as_ref() == Ok(&first)),
            "{key}"
        );
        // A rebuild of the same config answers the same.
        assert_eq!(ramp("2026", 5000, true).decide(&input), Ok(first));
    }
}

#[test]
fn the_bucket_is_the_documented_hash_of_salt_and_customer() {
    let r = ramp("s", 5000, true);
    let d = r
        .decide(&Input {
            customer: Some("ab"),
            ..Input::default()
        })
        .expect("a route");
    // bucket("s", "ab") = 5184, pinned in bucket.rs: at or above 5000, so OLD.
    assert_eq!((d.bucket, d.target), (Some(5184), target(OLD)));
}

/// Customers checked per generated config.
const CUSTOMERS: u32 = 2000;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Raising the new target's share keeps every customer it had.
    #[test]
    fn raising_a_share_keeps_its_customers(
        salt in "[a-z0-9]{0,12}",
        p in 0u16..=10_000,
        raise in 0u16..=10_000,
        new_first: bool,
    ) {
        let q = p + raise.min(10_000 - p);
        let (before, after) = (ramp(&salt, p, new_first), ramp(&salt, q, new_first));
        let new = target(NEW);
        for i in 0..CUSTOMERS {
            let c = customer(i);
            if chosen(&before, &c) == new {
                prop_assert_eq!(chosen(&after, &c), new.clone(), "{} left at {} -> {}", c, p, q);
            }
        }
    }

    /// Lowering the new target's share moves back only the customers past
    /// its new boundary: at or above it when the new target is first, below
    /// it when second.
    #[test]
    fn lowering_a_share_moves_only_customers_past_the_boundary(
        salt in "[a-z0-9]{0,12}",
        p in 0u16..=10_000,
        lower in 0u16..=10_000,
        new_first: bool,
    ) {
        let q = p - lower.min(p);
        let (before, after) = (ramp(&salt, p, new_first), ramp(&salt, q, new_first));
        let new = target(NEW);
        for i in 0..CUSTOMERS {
            let c = customer(i);
            let b = routing::bucket(&salt, &c);
            let past = if new_first { b >= q } else { b < 10_000 - q };
            let (was, is) = (chosen(&before, &c), chosen(&after, &c));
            if was != is {
                prop_assert_eq!(&was, &new, "{} moved to the new target at {} -> {}", c, p, q);
                prop_assert!(past, "{} (bucket {}) moved though before the boundary ({} -> {})", c, b, p, q);
            }
            if was == new && !past {
                prop_assert_eq!(is, new.clone());
            }
        }
    }
}
