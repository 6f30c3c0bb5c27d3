//! Per-request fault injection, per vendor: what a sick vendor does to a
//! client. A fault comes from the `x-sandbox-fault` request header (JSON) or
//! from a queue filled through `POST /_sandbox/faults`; it sits inside the
//! call counter, so a faulted call is still counted.

use std::collections::VecDeque;
use std::sync::{Arc, MutexGuard};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use serde::Deserialize;

use crate::kit::control::ControlError;
use crate::kit::store::Locked;

/// Request header carrying a one-off fault as JSON.
pub const FAULT_HEADER: &str = "x-sandbox-fault";

/// What to do to one request. Steps apply in field order.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Wait this long before anything else.
    #[serde(default)]
    pub latency_ms: u64,
    /// Drop the connection without answering: `before_read` (the vendor
    /// never sees the request) or `after_read` (it handled it; the answer is lost).
    #[serde(default)]
    pub reset: Option<ResetPoint>,
    /// Answer this status instead of asking the vendor…
    #[serde(default)]
    pub status: Option<u16>,
    /// …with this body (default empty)…
    #[serde(default)]
    pub body: Option<String>,
    /// …of this content type (default `application/json` when a body is given).
    #[serde(default)]
    pub content_type: Option<String>,
    /// Add a `Retry-After` header with this value.
    #[serde(default)]
    pub retry_after: Option<String>,
    /// Replace the body with JSON that does not parse.
    #[serde(default)]
    pub malformed_json: bool,
    /// Replace the body with valid JSON of the wrong shape.
    #[serde(default)]
    pub wrong_shape: bool,
    /// Send only the first N bytes of the body, then drop the connection.
    #[serde(default)]
    pub truncate_at: Option<usize>,
    /// Send the body one byte every N milliseconds.
    #[serde(default)]
    pub trickle_ms: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResetPoint {
    BeforeRead,
    AfterRead,
}

/// A queued fault: for one vendor, optionally one operation, some number of times.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueuedFault {
    pub vendor: String,
    /// `create`, `get`, … (as counted by `/_sandbox/calls`); any when absent.
    #[serde(default)]
    pub op: Option<String>,
    /// How many requests it hits; `0` means every request until cleared.
    #[serde(default = "one")]
    pub times: u32,
    pub fault: Fault,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Default)]
pub(crate) struct FaultQueue {
    queue: Arc<Locked<VecDeque<QueuedFault>>>,
}

impl FaultQueue {
    fn lock(&self) -> MutexGuard<'_, VecDeque<QueuedFault>> {
        self.queue.lock()
    }

    pub(crate) fn push(&self, fault: QueuedFault) {
        self.lock().push_back(fault);
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    /// The first queued fault matching this request, used up by one.
    fn take(&self, vendor: &str, op: &str) -> Option<Fault> {
        let mut queue = self.lock();
        let at = queue
            .iter()
            .position(|q| q.vendor == vendor && q.op.as_deref().is_none_or(|o| o == op))?;
        let entry = queue.get_mut(at)?;
        let fault = entry.fault.clone();
        match entry.times {
            0 => {}
            1 => {
                queue.remove(at);
            }
            _ => entry.times -= 1,
        }
        Some(fault)
    }
}

/// Called by the tap (just inside the call counter) with the request's
/// operation: a fault from the header or the queue answers instead of, or
/// reshapes, the vendor's answer.
pub(crate) async fn inject(
    queue: &FaultQueue,
    vendor: &'static str,
    op: &str,
    request: Request,
    next: Next,
) -> Response {
    let fault = match request.headers().get(FAULT_HEADER) {
        Some(raw) => match raw.to_str().ok().map(serde_json::from_str::<Fault>) {
            Some(Ok(f)) => f,
            _ => {
                return ControlError::bad_request(format!("{FAULT_HEADER} is not a fault object"))
                    .into_response()
            }
        },
        None => match queue.take(vendor, op) {
            Some(f) => f,
            None => return next.run(request).await,
        },
    };
    tracing::debug!(vendor, ?fault, "injecting fault");
    if fault.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fault.latency_ms)).await;
    }
    if fault.reset == Some(ResetPoint::BeforeRead) {
        return aborted();
    }
    let response = match fault.status {
        Some(status) => canned(&fault, status),
        None => next.run(request).await,
    };
    if fault.reset == Some(ResetPoint::AfterRead) {
        return aborted();
    }
    reshape(response, &fault).await
}

/// A response whose body fails at once: the server drops the connection.
fn aborted() -> Response {
    let failing = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::ErrorKind::ConnectionReset.into())
    });
    Response::new(Body::from_stream(failing))
}

fn canned(fault: &Fault, status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = fault.body.clone().unwrap_or_default();
    let mut response = (status, body).into_response();
    let content_type = fault
        .content_type
        .clone()
        .or_else(|| fault.body.as_ref().map(|_| "application/json".to_owned()));
    if let Some(ct) = content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response
            .headers_mut()
            .insert(axum::http::header::CONTENT_TYPE, ct);
    }
    response
}

async fn reshape(response: Response, fault: &Fault) -> Response {
    let (mut parts, body) = response.into_parts();
    if let Some(v) = fault
        .retry_after
        .as_deref()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        parts
            .headers
            .insert(HeaderName::from_static("retry-after"), v);
    }
    let changes_body = fault.malformed_json
        || fault.wrong_shape
        || fault.truncate_at.is_some()
        || fault.trickle_ms.is_some();
    if !changes_body {
        return Response::from_parts(parts, body);
    }
    let mut bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b.to_vec(),
        Err(_) => return aborted(),
    };
    if fault.malformed_json {
        bytes = b"{\"session\": {\"id\": \"che_".to_vec();
    }
    if fault.wrong_shape {
        bytes = br#"{"data": [{"unexpected": true}], "version": 2}"#.to_vec();
    }
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    if let Some(n) = fault.truncate_at {
        // Promise the whole body, send part of it, then fail: the client
        // sees a connection closed mid-body.
        parts.headers.insert(
            axum::http::header::CONTENT_LENGTH,
            HeaderValue::from(bytes.len()),
        );
        let head = Bytes::from(bytes[..n.min(bytes.len())].to_vec());
        // The pause lets the head and the partial body leave before the drop.
        let fail_later = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Err(std::io::Error::from(std::io::ErrorKind::ConnectionReset))
        };
        let chunks =
            futures::stream::once(async { Ok(head) }).chain(futures::stream::once(fail_later));
        return Response::from_parts(parts, Body::from_stream(chunks));
    }
    if let Some(ms) = fault.trickle_ms {
        parts.headers.insert(
            axum::http::header::CONTENT_LENGTH,
            HeaderValue::from(bytes.len()),
        );
        let pause = Duration::from_millis(ms);
        let trickle = futures::stream::unfold(bytes.into_iter(), move |mut rest| async move {
            let byte = rest.next()?;
            tokio::time::sleep(pause).await;
            Some((Ok::<Bytes, std::io::Error>(Bytes::from(vec![byte])), rest))
        });
        return Response::from_parts(parts, Body::from_stream(trickle));
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// `POST /_sandbox/faults`: queue a fault.
pub(crate) async fn queue_fault(
    State(queue): State<FaultQueue>,
    Json(fault): Json<QueuedFault>,
) -> StatusCode {
    queue.push(fault);
    StatusCode::NO_CONTENT
}

/// `DELETE /_sandbox/faults`: forget every queued fault.
pub(crate) async fn clear_faults(State(queue): State<FaultQueue>) -> StatusCode {
    queue.clear();
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queued(op: Option<&str>, times: u32, status: u16) -> QueuedFault {
        QueuedFault {
            vendor: "meteroid".into(),
            op: op.map(str::to_owned),
            times,
            fault: Fault {
                status: Some(status),
                ..Fault::default()
            },
        }
    }

    #[test]
    fn queue_matches_vendor_and_op_and_counts_down() {
        let q = FaultQueue::default();
        q.push(queued(Some("create"), 2, 503));
        q.push(queued(None, 1, 500));
        assert_eq!(q.take("flowglad", "get"), None);
        assert_eq!(q.take("meteroid", "get").and_then(|f| f.status), Some(500));
        assert_eq!(q.take("meteroid", "get"), None);
        assert_eq!(
            q.take("meteroid", "create").and_then(|f| f.status),
            Some(503)
        );
        assert_eq!(
            q.take("meteroid", "create").and_then(|f| f.status),
            Some(503)
        );
        assert_eq!(q.take("meteroid", "create"), None);
        q.push(queued(None, 0, 502));
        for _ in 0..5 {
            assert!(
                q.take("meteroid", "list").is_some(),
                "times 0 means until cleared"
            );
        }
        q.clear();
        assert!(q.take("meteroid", "list").is_none());
    }
}
