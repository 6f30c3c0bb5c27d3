//! What operators see: one span and one log line per request (method,
//! route template, status, latency, request id, client name — never the
//! key), the metrics, and the log format.

pub mod drift;
pub mod metrics;
pub mod routing;

use std::borrow::Cow;
use std::time::Instant;

use http::{Method, StatusCode};

use crate::config::LogConfig;
use crate::telemetry::metrics::{Label, Metrics};

/// One request from arrival to its closing log line and metrics: used by
/// the routed path's middleware (`http::track`) and by the cache-hit fast path, so both look alike.
pub struct Tracked {
    pub span: tracing::Span,
    started: Instant,
    method: Label,
    route: Label,
}

impl Tracked {
    pub fn start(method: &Method, route: Label, request_id: &str) -> Tracked {
        Tracked::started_at(Instant::now(), method, route, request_id)
    }

    /// For a request that arrived at `started` (the fast path opens its span
    /// only once it knows it answers, so a miss leaves no second span).
    pub fn started_at(
        started: Instant,
        method: &Method,
        route: Label,
        request_id: &str,
    ) -> Tracked {
        let method = method_label(method);
        let span = tracing::info_span!(
            "request",
            method = %method,
            route = %route,
            request_id = %request_id,
            client = tracing::field::Empty,
            status = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        Tracked {
            span,
            started,
            method,
            route,
        }
    }

    pub fn finish(self, metrics: &Metrics, status: StatusCode) {
        let took = self.started.elapsed();
        self.span.record("status", status.as_u16());
        self.span.record("latency_ms", took.as_secs_f64() * 1000.0);
        self.span.in_scope(|| tracing::info!("answered"));
        metrics.observe_request(self.method, self.route, status.as_u16(), took);
    }
}

/// The method as a label, from a closed set: anyone can invent methods,
/// and each new label value would be a new series held forever.
fn method_label(method: &Method) -> Label {
    let name = match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    };
    Cow::Borrowed(name)
}

/// Name the authenticated client on the request span (the key never).
pub fn record_client(name: &str) {
    tracing::Span::current().record("client", name);
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Pretty,
    /// One JSON object per line, with span fields.
    Json,
}

type BoxedLayer = Box<dyn tracing_subscriber::Layer<tracing_subscriber::Registry> + Send + Sync>;

/// Install the global subscriber: `RUST_LOG` wins over the config's filter;
/// spans are also exported over OTLP when an endpoint is configured (and the
/// `otlp` feature is built in).
pub fn init_logging(format: LogFormat, config: &LogConfig) -> Result<(), String> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;

    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&config.filter))
        .map_err(|e| format!("log.filter: {e}"))?;
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(colour);
    let fmt: BoxedLayer = match format {
        LogFormat::Pretty => fmt.boxed(),
        LogFormat::Json => fmt
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .boxed(),
    };
    let mut layers = vec![fmt];
    if let Some(endpoint) = &config.otlp_endpoint {
        layers.push(otlp::layer(endpoint)?);
    }
    // A second init (tests) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(layers)
        .with(filter)
        .try_init();
    Ok(())
}

/// Flush exported spans before the process exits.
pub fn shutdown_telemetry() {
    otlp::shutdown();
}

#[cfg(feature = "otlp")]
mod otlp {
    use std::sync::OnceLock;

    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_otlp::WithExportConfig;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use tracing_subscriber::Layer;

    use super::BoxedLayer;

    static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

    /// Spans to an OTLP/HTTP collector (`http://collector:4318/v1/traces`).
    pub fn layer(endpoint: &str) -> Result<BoxedLayer, String> {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(endpoint)
            .build()
            .map_err(|e| format!("log.otlp_endpoint: {e}"))?;
        let resource = opentelemetry_sdk::Resource::builder()
            .with_service_name("checkout-gateway")
            .build();
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build();
        let tracer = provider.tracer("checkout-gateway");
        let _ = PROVIDER.set(provider);
        Ok(tracing_opentelemetry::layer().with_tracer(tracer).boxed())
    }

    pub fn shutdown() {
        if let Some(provider) = PROVIDER.get() {
            let _ = provider.shutdown();
        }
    }
}

#[cfg(not(feature = "otlp"))]
mod otlp {
    use super::BoxedLayer;

    pub fn layer(_endpoint: &str) -> Result<BoxedLayer, String> {
        Err(
            "log.otlp_endpoint is set, but this binary was built without the `otlp` feature \
             (cargo build --features otlp)"
                .to_owned(),
        )
    }

    pub fn shutdown() {}
}
