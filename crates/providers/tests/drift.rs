//! Every registered vendor's wire types know every field of its fixtures:
//! a read of a get, create, cancel or confirm body reports no drift
//! (`checkout_core::drift`), except in the fixtures that show a future
//! vendor (`*future*`, `*unknown*`), which must name what is new. A field
//! added to a vendor's spec and fixtures without its wire type fails here.

use std::path::Path;

use checkout_core::drift;

fn is_single_session(file: &str) -> bool {
    file.ends_with(".json")
        && ["get_", "create_", "cancel_", "confirm_", "recorded_"]
            .iter()
            .any(|p| file.starts_with(p))
}

#[test]
fn fixtures_read_without_drift_but_the_future_ones() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let mut read = 0;
    let mut futures = 0;
    for provider in providers::all() {
        let dir = root.join(provider.name());
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|f| is_single_session(f))
            .collect();
        files.sort();
        for file in files {
            let body = std::fs::read(dir.join(&file)).expect("a fixture");
            let (session, unknown) = drift::collect(|| provider.normalize("default", &body));
            // Bodies that do not read alone (a cancel answer without its id)
            // are the fixture tests' business.
            if session.is_err() {
                continue;
            }
            read += 1;
            let names: Vec<String> = unknown.iter().map(ToString::to_string).collect();
            if file.contains("future") || file.contains("unknown") {
                futures += 1;
                assert!(
                    !names.is_empty(),
                    "{}/{file}: no drift named",
                    provider.name()
                );
            } else {
                assert!(names.is_empty(), "{}/{file}: {names:?}", provider.name());
            }
        }
    }
    assert!(read >= 60 && futures >= 5, "read {read}, futures {futures}");
}

#[test]
fn the_future_fixtures_name_their_fields_and_values() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let cases = [
        (
            "meteroid",
            "get_future_unknown_values.json",
            &[
                "field session.quote_id",
                "field session.locale",
                "value status=PAYMENT_FAILED",
                "value checkout_type=QUOTE",
            ][..],
        ),
        (
            "zenskar",
            "get_checkout_future_values.json",
            &[
                "field contract.billing_anchor",
                "field risk_score",
                "field locale",
                "value checkout_session_status=on_hold",
                "value payment_status=partially_refunded",
            ][..],
        ),
    ];
    for (vendor, file, want) in cases {
        let provider = providers::by_name(vendor).expect("registered");
        let body = std::fs::read(root.join(vendor).join(file)).expect("a fixture");
        let (session, unknown) = drift::collect(|| provider.normalize("default", &body));
        assert!(session.is_ok(), "{vendor}/{file}");
        let mut names: Vec<String> = unknown.iter().map(ToString::to_string).collect();
        names.sort();
        let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(names, want, "{vendor}/{file}");
    }
}
