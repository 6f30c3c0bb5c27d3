//! Vendor body → canonical session, and canonical session → JSON, per
//! adapter (and per protocol or API family where a vendor has two).
//!
//! Each case gets a criterion group named after it with two benches:
//! `convert/<fixture>` (the adapter's pure `convert::session_body`, as its
//! client calls it on a get answer) and `serialise/<fixture>`
//! (`serde_json::to_vec` of the canonical session). Before criterion runs,
//! one table gives the allocations a single conversion and a single
//! serialisation make, counted by [`CountingAlloc`]; with `ALLOC_REPORT`
//! set it is also written there as Markdown.
//!
//! `cargo bench -p checkout-bench --bench conversion`

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;

use adapter_frontier::read::Origin;
use adapter_zenskar::Family;
use checkout_bench::counting_alloc::{self, CountingAlloc, Counts};
use checkout_core::CheckoutSession;
use criterion::{Criterion, Throughput};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::new();

/// The account name the fixture tests use.
const ACCOUNT: &str = "default";

/// The legacy REST organization of the Frontier fixtures (their README's
/// "Origin"): a legacy get is read with the org of its request path.
const FRONTIER_LEGACY_ORG: &str = "5f40a5bd-b26e-46ed-971e-c88d68cc2bed";

type Convert = fn(&[u8]) -> CheckoutSession;

/// One benchmarked case: criterion group name, fixture (under
/// `fixtures/`), and the conversion the adapter's client runs on it.
struct Case {
    group: &'static str,
    fixture: &'static str,
    convert: Convert,
}

/// The typical open-session get answer of each vendor, protocol and family
/// (see the fixture READMEs).
const CASES: &[Case] = &[
    Case {
        group: "meteroid",
        fixture: "meteroid/get_created_open.json",
        convert: |body| adapter_meteroid::read::session_body(ACCOUNT, body).unwrap(),
    },
    Case {
        group: "flowglad",
        fixture: "flowglad/get_open.json",
        convert: |body| adapter_flowglad::read::session_body(ACCOUNT, body).unwrap(),
    },
    Case {
        group: "frontier_connect",
        fixture: "frontier/get_connect_open.json",
        convert: |body| {
            adapter_frontier::read::session_body(ACCOUNT, Origin::UNKNOWN, body).unwrap()
        },
    },
    Case {
        group: "frontier_rest",
        fixture: "frontier/get_legacy_open_product.json",
        convert: |body| {
            let origin = Origin {
                org_id: Some(FRONTIER_LEGACY_ORG),
                org_in_reference: true,
            };
            adapter_frontier::read::session_body(ACCOUNT, origin, body).unwrap()
        },
    },
    Case {
        group: "zenskar_checkout",
        fixture: "zenskar/get_checkout_open_jpy.json",
        convert: |body| {
            adapter_zenskar::read::session_body(ACCOUNT, Family::Checkout, body).unwrap()
        },
    },
    // Family A bodies run from 1.0 to 1.9 KB (estimates, line items): the
    // largest is above, this one is of the median size.
    Case {
        group: "zenskar_checkout",
        fixture: "zenskar/get_checkout_processing_pending.json",
        convert: |body| {
            adapter_zenskar::read::session_body(ACCOUNT, Family::Checkout, body).unwrap()
        },
    },
    Case {
        group: "zenskar_checkouts",
        fixture: "zenskar/get_checkouts_guest.json",
        convert: |body| {
            adapter_zenskar::read::session_body(ACCOUNT, Family::Checkouts, body).unwrap()
        },
    },
];

/// A case with its fixture read.
struct Loaded {
    case: &'static Case,
    /// The fixture's file stem: the bench id's last part.
    name: &'static str,
    body: Vec<u8>,
}

fn load(case: &'static Case) -> Loaded {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(case.fixture);
    let body = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = case
        .fixture
        .rsplit('/')
        .next()
        .and_then(|f| f.strip_suffix(".json"))
        .unwrap_or(case.fixture);
    Loaded { case, name, body }
}

fn serialise(session: &CheckoutSession) -> Vec<u8> {
    serde_json::to_vec(session).expect("a canonical session serialises")
}

/// Allocations of one conversion and one serialisation of a case.
struct AllocRow {
    convert: Counts,
    serialise: Counts,
    canonical_len: usize,
}

/// Counts one call of each, after one warm-up call.
fn count_allocs(l: &Loaded) -> AllocRow {
    let convert = l.case.convert;
    let session = convert(&l.body);
    let (session2, convert_counts) = counting_alloc::measure(|| convert(black_box(&l.body)));
    assert_eq!(
        session, session2,
        "{}: conversion is not deterministic",
        l.case.fixture
    );
    let canonical = serialise(&session);
    let (out, serialise_counts) = counting_alloc::measure(|| serialise(black_box(&session)));
    assert_eq!(canonical, out);
    AllocRow {
        convert: convert_counts,
        serialise: serialise_counts,
        canonical_len: out.len(),
    }
}

fn alloc_table(loaded: &[Loaded]) -> String {
    let mut t = String::from(
        "| Group | Fixture | Body bytes | Convert allocs | Convert bytes allocated \
         | Canonical JSON bytes | Serialise allocs | Serialise bytes allocated |\n\
         |---|---|--:|--:|--:|--:|--:|--:|\n",
    );
    for l in loaded {
        let r = count_allocs(l);
        writeln!(
            t,
            "| {} | `{}` | {} | {} | {} | {} | {} | {} |",
            l.case.group,
            l.name,
            l.body.len(),
            r.convert.allocs,
            r.convert.bytes,
            r.canonical_len,
            r.serialise.allocs,
            r.serialise.bytes,
        )
        .unwrap();
    }
    t
}

/// `<group>/convert/<fixture>` and `<group>/serialise/<fixture>`.
fn bench_case(c: &mut Criterion, l: &Loaded) {
    let convert = l.case.convert;
    let session = convert(&l.body);
    let canonical_len = serialise(&session).len();
    let mut group = c.benchmark_group(l.case.group);
    group.throughput(Throughput::Bytes(l.body.len() as u64));
    group.bench_function(format!("convert/{}", l.name), |b| {
        b.iter(|| convert(black_box(&l.body)))
    });
    // Serialisation produces the canonical JSON: its throughput is in
    // output bytes.
    group.throughput(Throughput::Bytes(canonical_len as u64));
    group.bench_function(format!("serialise/{}", l.name), |b| {
        b.iter(|| serialise(black_box(&session)))
    });
    group.finish();
}

fn main() {
    let loaded: Vec<Loaded> = CASES.iter().map(load).collect();

    let table = alloc_table(&loaded);
    println!("Allocations per call (counting allocator, after one warm-up call):\n\n{table}");
    if let Some(path) = std::env::var_os("ALLOC_REPORT") {
        std::fs::write(&path, &table)
            .unwrap_or_else(|e| panic!("ALLOC_REPORT={}: {e}", PathBuf::from(&path).display()));
    }

    let mut c = Criterion::default().configure_from_args();
    for l in &loaded {
        bench_case(&mut c, l);
    }
    c.final_summary();
}
