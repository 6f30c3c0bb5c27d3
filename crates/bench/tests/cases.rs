//! Every registered provider has conversion bench cases, and every case
//! reads: a vendor without `fixtures/<vendor>/bench/cases.toml` fails here
//! with what to add.

#[path = "../benches/support/cases.rs"]
mod cases;

#[test]
fn every_registered_provider_has_bench_cases_that_convert() {
    let mut missing = Vec::new();
    for provider in providers::all() {
        match cases::load_provider(*provider) {
            Ok(cases) => {
                for case in cases {
                    let session = case.convert();
                    assert_eq!(session.provider, case.provider, "{}", case.fixture);
                    assert!(
                        case.group.starts_with(case.provider),
                        "{}: group {} is not named after its vendor",
                        case.fixture,
                        case.group
                    );
                    assert!(
                        !serde_json::to_vec(&session).unwrap().is_empty(),
                        "{}",
                        case.fixture
                    );
                }
            }
            Err(e) => missing.push(e),
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// The cases docs/performance.md reports stay (so runs stay comparable);
/// a new vendor only adds to them.
#[test]
fn the_cases_of_docs_performance_md_are_all_there() {
    let cases = cases::load_all().unwrap_or_else(|e| panic!("{e}"));
    for want in [
        ("meteroid", "get_created_open"),
        ("flowglad", "get_open"),
        ("frontier_connect", "get_connect_open"),
        ("frontier_rest", "get_legacy_open_product"),
        ("zenskar_checkout", "get_checkout_open_jpy"),
        ("zenskar_checkout", "get_checkout_processing_pending"),
        ("zenskar_checkouts", "get_checkouts_guest"),
    ] {
        assert!(
            cases
                .iter()
                .any(|c| (c.group.as_str(), c.name.as_str()) == want),
            "{want:?} is no longer benched"
        );
    }
}
