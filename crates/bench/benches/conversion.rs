//! Vendor body → canonical session, and canonical session → JSON, for every
//! registered provider (and per protocol or API family where a vendor has
//! two): the cases are each vendor's `fixtures/<vendor>/bench/cases.toml`
//! (see `support/cases.rs`).
//!
//! Each case gets a criterion group named after it with two benches:
//! `convert/<fixture>` (the connector's `read_get` on a 200 answer, as the
//! HTTP client calls it; it also keeps the body as the raw payload) and
//! `serialise/<fixture>` (`serde_json::to_vec` of the canonical session).
//! Before criterion runs, one table gives the allocations a single
//! conversion and a single serialisation make, counted by
//! [`CountingAlloc`]; with `ALLOC_REPORT` set it is also written there as
//! Markdown.
//!
//! `cargo bench -p checkout-bench --bench conversion`

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;

use checkout_bench::counting_alloc::{self, CountingAlloc, Counts};
use checkout_core::CheckoutSession;
use criterion::{Criterion, Throughput};

#[path = "support/cases.rs"]
mod cases;

use cases::Case;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::new();

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
fn count_allocs(case: &Case) -> AllocRow {
    let session = case.convert();
    let (session2, convert_counts) = counting_alloc::measure(|| black_box(case).convert());
    assert_eq!(
        session, session2,
        "{}: conversion is not deterministic",
        case.fixture
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

fn alloc_table(cases: &[Case]) -> String {
    let mut t = String::from(
        "| Group | Fixture | Body bytes | Convert allocs | Convert bytes allocated \
         | Canonical JSON bytes | Serialise allocs | Serialise bytes allocated |\n\
         |---|---|--:|--:|--:|--:|--:|--:|\n",
    );
    for case in cases {
        let r = count_allocs(case);
        writeln!(
            t,
            "| {} | `{}` | {} | {} | {} | {} | {} | {} |",
            case.group,
            case.name,
            case.answer.body.len(),
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
fn bench_case(c: &mut Criterion, case: &Case) {
    let session = case.convert();
    assert_eq!(session.provider, case.provider, "{}", case.fixture);
    let canonical_len = serialise(&session).len();
    let mut group = c.benchmark_group(&case.group);
    group.throughput(Throughput::Bytes(case.answer.body.len() as u64));
    group.bench_function(format!("convert/{}", case.name), |b| {
        b.iter(|| black_box(case).convert())
    });
    // Serialisation produces the canonical JSON: its throughput is in
    // output bytes.
    group.throughput(Throughput::Bytes(canonical_len as u64));
    group.bench_function(format!("serialise/{}", case.name), |b| {
        b.iter(|| serialise(black_box(&session)))
    });
    group.finish();
}

fn main() {
    let cases = cases::load_all().unwrap_or_else(|e| panic!("{e}"));

    let table = alloc_table(&cases);
    println!("Allocations per call (counting allocator, after one warm-up call):\n\n{table}");
    if let Some(path) = std::env::var_os("ALLOC_REPORT") {
        std::fs::write(&path, &table)
            .unwrap_or_else(|e| panic!("ALLOC_REPORT={}: {e}", PathBuf::from(&path).display()));
    }

    let mut c = Criterion::default().configure_from_args();
    for case in &cases {
        bench_case(&mut c, case);
    }
    c.final_summary();
}
