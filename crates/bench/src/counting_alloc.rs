//! A global allocator that counts.
//!
//! Timings move with the machine, its load and its caches; the number of
//! allocations (and bytes requested) one conversion makes does not. Counting
//! them gives a repeatable figure to compare across changes and machines,
//! beside criterion's timings.
//!
//! [`CountingAlloc`] wraps [`System`] and counts every `alloc`,
//! `alloc_zeroed` and `realloc` call and the bytes each one asks for, in
//! relaxed atomics. It counts only where a binary installs it:
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOC: checkout_bench::counting_alloc::CountingAlloc =
//!     checkout_bench::counting_alloc::CountingAlloc::new();
//! ```
//!
//! [`snapshot`] and [`measure`] read the installed allocator's counters.
//! They are global to the process: measure on one thread, with no other
//! thread allocating.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

/// Allocation calls and bytes requested, since start or between two
/// snapshots.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Calls to `alloc`, `alloc_zeroed` and `realloc`.
    pub allocs: u64,
    /// Bytes those calls asked for (a `realloc` counts its new size).
    pub bytes: u64,
}

impl Counts {
    /// What happened between `earlier` and `self`.
    pub fn since(self, earlier: Counts) -> Counts {
        Counts {
            allocs: self.allocs.wrapping_sub(earlier.allocs),
            bytes: self.bytes.wrapping_sub(earlier.bytes),
        }
    }
}

/// The counters the global instance writes to: statics, so [`snapshot`]
/// reads them without knowing where the allocator is installed.
static GLOBAL_ALLOCS: AtomicU64 = AtomicU64::new(0);
static GLOBAL_BYTES: AtomicU64 = AtomicU64::new(0);

/// A [`System`] allocator that counts allocation calls and bytes.
///
/// [`CountingAlloc::new`] counts into the process-wide counters that
/// [`snapshot`] reads (the one to install with `#[global_allocator]`).
/// [`CountingAlloc::local`] keeps its own counters, for tests.
#[derive(Debug)]
pub struct CountingAlloc {
    local: Option<(AtomicU64, AtomicU64)>,
}

impl CountingAlloc {
    /// The allocator to install: counts into the process-wide counters.
    pub const fn new() -> Self {
        CountingAlloc { local: None }
    }

    /// An allocator with counters of its own (read with [`CountingAlloc::counts`]).
    pub const fn local() -> Self {
        CountingAlloc {
            local: Some((AtomicU64::new(0), AtomicU64::new(0))),
        }
    }

    fn counters(&self) -> (&AtomicU64, &AtomicU64) {
        match &self.local {
            Some((allocs, bytes)) => (allocs, bytes),
            None => (&GLOBAL_ALLOCS, &GLOBAL_BYTES),
        }
    }

    /// What this allocator has counted so far.
    pub fn counts(&self) -> Counts {
        let (allocs, bytes) = self.counters();
        Counts {
            allocs: allocs.load(Ordering::Relaxed),
            bytes: bytes.load(Ordering::Relaxed),
        }
    }

    #[inline]
    fn record(&self, size: usize) {
        let (allocs, bytes) = self.counters();
        allocs.fetch_add(1, Ordering::Relaxed);
        bytes.fetch_add(size as u64, Ordering::Relaxed);
    }
}

impl Default for CountingAlloc {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: every call is forwarded unchanged to `System`; counting touches
// only atomics and never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.record(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.record(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.record(new_size);
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// The process-wide counts so far (zero unless a [`CountingAlloc::new`] is
/// installed as the global allocator).
pub fn snapshot() -> Counts {
    Counts {
        allocs: GLOBAL_ALLOCS.load(Ordering::Relaxed),
        bytes: GLOBAL_BYTES.load(Ordering::Relaxed),
    }
}

/// Runs `f` and returns its result with the allocations made meanwhile.
/// Single-threaded use: another thread's allocations would count too.
pub fn measure<R>(f: impl FnOnce() -> R) -> (R, Counts) {
    let before = snapshot();
    let result = f();
    let after = snapshot();
    (result, after.since(before))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The lib tests run without this allocator installed, so these call the
    // `GlobalAlloc` methods of an instance directly.

    #[test]
    fn counts_alloc_realloc_and_zeroed_calls_and_their_bytes() {
        let a = CountingAlloc::local();
        assert_eq!(a.counts(), Counts::default());
        let layout = Layout::array::<u64>(4).unwrap(); // what Vec::<u64>::with_capacity(4) asks for
        unsafe {
            let p = a.alloc(layout);
            assert!(!p.is_null());
            assert_eq!(
                a.counts(),
                Counts {
                    allocs: 1,
                    bytes: 32
                }
            );
            let p = a.realloc(p, layout, 64);
            assert!(!p.is_null());
            a.dealloc(p, Layout::from_size_align(64, layout.align()).unwrap());
            let z = a.alloc_zeroed(layout);
            assert!(!z.is_null());
            assert!(std::slice::from_raw_parts(z, 32).iter().all(|&b| b == 0));
            a.dealloc(z, layout);
        }
        assert_eq!(
            a.counts(),
            Counts {
                allocs: 3,
                bytes: 32 + 64 + 32
            }
        );
    }

    #[test]
    fn dealloc_is_not_counted() {
        let a = CountingAlloc::local();
        let layout = Layout::new::<[u8; 100]>();
        unsafe {
            let p = a.alloc(layout);
            a.dealloc(p, layout);
        }
        assert_eq!(
            a.counts(),
            Counts {
                allocs: 1,
                bytes: 100
            }
        );
    }

    #[test]
    fn measure_without_the_global_allocator_installed_sees_nothing() {
        // Not installed in this test binary: the global counters stay put
        // while a Vec is allocated, and `measure` still returns `f`'s value.
        let (v, counts) = measure(|| vec![1u8; 1024]);
        assert_eq!(v.len(), 1024);
        assert_eq!(counts, Counts::default());
    }

    #[test]
    fn since_subtracts() {
        let a = Counts {
            allocs: 5,
            bytes: 500,
        };
        let b = Counts {
            allocs: 2,
            bytes: 120,
        };
        assert_eq!(
            a.since(b),
            Counts {
                allocs: 3,
                bytes: 380
            }
        );
    }
}
