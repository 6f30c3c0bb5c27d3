//! Benchmark tools. The binaries are driven by `bench/run.sh`; the
//! criterion benches live in `benches/`.

pub mod counting_alloc;
