//! What a vendor hands the core to be served: its API, its controls, how
//! its requests are named for the call counter and fault queue, and any
//! background job.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::http::Method;
use axum::Router;

/// Names the operation of a request on one vendor's paths (`other` if none).
pub(crate) type Classify = fn(&Method, &str) -> &'static str;

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
    /// A background job (e.g. an expiry worker) run while serving.
    pub worker: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl VendorMount {
    /// A vendor without a background job: its API and controls built
    /// over its shared state `vendor`.
    pub(crate) fn new<V>(
        name: &'static str,
        vendor: &Arc<V>,
        api: fn(Arc<V>) -> Router,
        control: fn(Arc<V>) -> Router,
        classify: Classify,
    ) -> VendorMount {
        VendorMount {
            name,
            api: api(Arc::clone(vendor)),
            control: control(Arc::clone(vendor)),
            classify,
            worker: None,
        }
    }

    /// Also runs `job` while the sandbox serves.
    pub(crate) fn with_worker(self, job: impl Future<Output = ()> + Send + 'static) -> VendorMount {
        VendorMount {
            worker: Some(Box::pin(job)),
            ..self
        }
    }
}

/// A vendor's shared state, as the core keeps it: one list entry in
/// `lib.rs`, mounted again for every router and for the workers.
pub(crate) trait Vendor: Send + Sync + 'static {
    fn mount(self: Arc<Self>) -> VendorMount;
}
