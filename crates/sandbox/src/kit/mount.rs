//! What a vendor hands the core: its name, its API and controls, how its
//! requests are named for the call counter and fault queue, any background
//! job, and its demo walks. Each vendor module
//! implements [`Vendor`]; the core keeps the list as [`Mounted`] and never
//! names a vendor.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::http::Method;
use axum::Router;

use super::drift::Shape;
use super::fill::{self, Fill};
use super::tour::{Tour, Walk};

/// Names the operation of a request on one vendor's paths (`other` if none).
pub(crate) type Classify = fn(&Method, &str) -> &'static str;

/// A background job, run while the sandbox serves.
pub(crate) type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

/// One emulated vendor, as the core mounts it.
pub(crate) struct VendorMount {
    /// Path prefix of its API and of its controls under `/_sandbox`.
    pub name: &'static str,
    /// Its API, paths relative to the prefix.
    pub api: Router,
    /// Its control routes, paths relative to `/_sandbox/<name>`.
    pub control: Router,
    /// Names the operation of a request, for the call counter.
    pub classify: Classify,
    /// Where its answers hold sessions, for `POST /_sandbox/<name>/drift`.
    pub shape: Shape,
    pub worker: Option<Job>,
}

/// One emulated vendor: its shared state, built once per `Sandbox` and
/// mounted again for every router and for the workers.
pub(crate) trait Vendor: Send + Sync + Sized + 'static {
    /// Path prefix of its API and of its controls under `/_sandbox`; also
    /// the gateway's provider id, which the tours' create bodies name.
    const NAME: &'static str;

    /// Its demo walks, written beside its seed (`<vendor>/seed.rs`).
    const WALKS: fn() -> Vec<Walk>;

    /// Where its answers hold sessions and their status (`kit::drift`).
    const SHAPE: Shape;

    /// Its API, paths relative to the prefix.
    fn api(self: Arc<Self>) -> Router;

    /// Its control routes, paths relative to `/_sandbox/<NAME>`.
    fn control(self: Arc<Self>) -> Router;

    /// Which operation a request is (`create`, `get`, `list`, `cancel`…,
    /// `other` if none), for the call counter and the fault queue.
    fn classify(method: &Method, path: &str) -> &'static str;

    /// Stores `fill.count` sessions made over the past days, as its own
    /// create and lifecycle would have left them (its statuses, its expiry
    /// rule, what its workers would have done since); says how many.
    fn fill(&self, fill: &Fill) -> usize;

    /// A background job (e.g. an expiry worker) run while serving.
    fn worker(self: Arc<Self>) -> Option<Job> {
        None
    }
}

/// A vendor as the core's list holds it (`dyn`-safe).
pub(crate) trait Mounted: Send + Sync {
    fn mount(self: Arc<Self>) -> VendorMount;
    fn tours(&self) -> Vec<Tour>;
    fn fill(&self, fill: &Fill) -> usize;
}

impl<V: Vendor> Mounted for V {
    fn mount(self: Arc<Self>) -> VendorMount {
        VendorMount {
            name: V::NAME,
            api: Arc::clone(&self).api(),
            // Every vendor's controls take `POST /fill`.
            control: Arc::clone(&self)
                .control()
                .merge(fill::router(Arc::clone(&self))),
            classify: V::classify,
            shape: V::SHAPE,
            worker: self.worker(),
        }
    }

    /// The demo's walks (also the OpenAPI document's create examples).
    fn tours(&self) -> Vec<Tour> {
        (V::WALKS)().into_iter().map(|w| w.of(V::NAME)).collect()
    }

    fn fill(&self, fill: &Fill) -> usize {
        Vendor::fill(self, fill)
    }
}

/// A job that runs `tick` at once, then again after each pause `tick`
/// returns (a vendor's periodic worker, jitter included).
pub(crate) fn every(mut tick: impl FnMut() -> Duration + Send + 'static) -> Option<Job> {
    Some(Box::pin(async move {
        loop {
            let pause = tick();
            tokio::time::sleep(pause).await;
        }
    }))
}
