//! Faithful local emulations of the vendors' checkout-session APIs, for the
//! demo, the tests and the benchmarks.
//!
//! Each vendor lives in its own module and is mounted under its own path
//! prefix (`/meteroid/api/v1/…`), so a gateway account whose base URL is
//! `http://127.0.0.1:PORT/meteroid` talks to it exactly as to the vendor.
//! Around each vendor's router sits one `tap`: it counts the call, then
//! hands it to per-request fault injection (`faults`), so a faulted call
//! is still counted. Control routes (`/_sandbox/…`) move sessions
//! along their lifecycle, read the call counts, and make a vendor's
//! answers drift (`kit::drift`: an unknown field or status).
//!
//! What the vendors share (store, lifecycle checks, ids, auth, control
//! routes, the mount, demo tours) is in `kit`; each vendor module keeps
//! only its own shapes, rules, error bodies and quirks, and its seed and
//! demo walks (`<vendor>/seed.rs`).
//!
//! This crate never imports an adapter: if both shared code, a misreading
//! of a vendor would pass every test.

mod calls;
mod control;
pub mod faults;
mod kit;
mod tap;

// The vendors: a module each.
pub mod flowglad;
pub mod frontier;
pub mod meteroid;
pub mod zenskar;

use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use calls::CallCounts;
pub use flowglad::FlowgladConfig;
pub use frontier::FrontierConfig;
use kit::mount::{Mounted, VendorMount};
pub use kit::tour::Tour;
pub use meteroid::MeteroidConfig;

/// The seeded Meteroid key, in the vendor's `pv_sand_<secret>/<id>` form.
pub const DEMO_METEROID_API_KEY: &str = meteroid::seed::API_KEY;

/// Per-vendor settings; `Default` gives the demo values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SandboxConfig {
    pub meteroid: MeteroidConfig,
    pub flowglad: FlowgladConfig,
    pub frontier: FrontierConfig,
}

struct Inner {
    calls: calls::CallCounter,
    faults: faults::FaultQueue,
    drift: kit::drift::DriftTable,
    vendors: Vec<Arc<dyn Mounted>>,
}

/// The emulated vendors' state. Clones share it, as do all routers built
/// from it.
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

impl Sandbox {
    pub fn new(config: SandboxConfig) -> Sandbox {
        // Registration: one line per vendor (its state implements
        // `kit::mount::Vendor`), and nowhere else in the core.
        let vendors: Vec<Arc<dyn Mounted>> = vec![
            Arc::new(meteroid::Meteroid::new(&config.meteroid)),
            Arc::new(zenskar::Zenskar::new()),
            Arc::new(flowglad::Flowglad::new(&config.flowglad)),
            Arc::new(frontier::Frontier::new(&config.frontier)),
        ];
        Sandbox {
            inner: Arc::new(Inner {
                calls: calls::CallCounter::default(),
                faults: faults::FaultQueue::default(),
                drift: kit::drift::DriftTable::default(),
                vendors,
            }),
        }
    }

    fn mounts(&self) -> impl Iterator<Item = VendorMount> + '_ {
        self.inner.vendors.iter().map(|v| Arc::clone(v).mount())
    }

    /// The whole app: every vendor under its prefix, plus `/_sandbox`.
    /// Background workers run only under [`serve`]; without it, use the
    /// control routes (e.g. `POST /_sandbox/meteroid/expire-overdue`).
    pub fn router(&self) -> Router {
        let mut app = Router::new();
        let mut controls = control::router(self.inner.calls.clone(), self.inner.faults.clone());
        for mount in self.mounts() {
            let tap = tap::Tap {
                calls: self.inner.calls.clone(),
                faults: self.inner.faults.clone(),
                vendor: mount.name,
                classify: mount.classify,
            };
            // Drift rewrites the vendor's answer; the tap (calls, faults) sits outside it.
            let drift = kit::drift::Rewrite {
                table: self.inner.drift.clone(),
                vendor: mount.name,
                classify: mount.classify,
                shape: mount.shape,
            };
            let api = mount
                .api
                .layer(axum::middleware::from_fn_with_state(
                    drift,
                    kit::drift::rewrite,
                ))
                .layer(axum::middleware::from_fn_with_state(tap, tap::tap));
            app = app.nest(&format!("/{}", mount.name), api);
            let control = mount
                .control
                .merge(kit::drift::router(self.inner.drift.clone(), mount.name));
            controls = controls.nest(&format!("/{}", mount.name), control);
        }
        app.nest("/_sandbox", controls).fallback(control::not_found)
    }

    /// Every vendor's demo walks, in the order of the vendor list: the
    /// gateway's demo and its OpenAPI create examples iterate over these.
    pub fn tours(&self) -> Vec<Tour> {
        self.inner.vendors.iter().flat_map(|v| v.tours()).collect()
    }

    /// Fills every vendor with `count` sessions made over the last `days`,
    /// as `POST /_sandbox/<vendor>/fill` does for one; says how many in all.
    pub fn fill(&self, count: usize, days: u32) -> Result<usize, String> {
        let (count, days) = kit::fill::checked(count, days)?;
        let plan = kit::fill::Fill::new(count, days, kit::clock::now_micros());
        Ok(self.inner.vendors.iter().map(|v| v.fill(&plan)).sum())
    }

    /// Vendor API calls received for `vendor` and `op` (`create`, `get`,
    /// `list`, `cancel`, or `other`), counted even when auth fails.
    pub fn calls(&self, vendor: &str, op: &str) -> u64 {
        self.inner.calls.get(vendor, op)
    }

    /// Every count, vendor → operation → calls.
    pub fn call_counts(&self) -> CallCounts {
        self.inner.calls.snapshot()
    }

    pub fn reset_calls(&self) {
        self.inner.calls.reset();
    }

    fn spawn_workers(&self) -> Workers {
        let handles = self
            .mounts()
            .filter_map(|m| m.worker)
            .map(tokio::spawn)
            .collect();
        Workers(handles)
    }
}

/// Background jobs stop with `serve`, however it ends.
struct Workers(Vec<JoinHandle<()>>);

impl Drop for Workers {
    fn drop(&mut self) {
        for handle in &self.0 {
            handle.abort();
        }
    }
}

/// Serves the sandbox on `listener` (and runs the vendors' background
/// workers, e.g. Meteroid's hourly expiry) until the server stops.
pub async fn serve(listener: TcpListener, sandbox: Sandbox) -> std::io::Result<()> {
    let _workers = sandbox.spawn_workers();
    axum::serve(listener, sandbox.router()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vendor_has_a_tour_and_every_tour_a_vendor() {
        let sandbox = Sandbox::new(SandboxConfig::default());
        let names: Vec<&str> = sandbox.mounts().map(|m| m.name).collect();
        let tours = sandbox.tours();
        for name in &names {
            assert!(tours.iter().any(|t| t.provider == *name), "{name}: no tour");
        }
        for tour in &tours {
            assert!(names.contains(&tour.provider), "{}", tour.title);
            assert_eq!(tour.create["provider"], tour.provider);
            assert_eq!(tour.create["account"], tour.account);
            assert!(tour.control.is_object() && !tour.control_says.is_empty());
        }
    }
}
