//! Per-request fault injection, per vendor: what a sick vendor does to a
//! client. A fault comes from the `x-sandbox-fault` request header (JSON) or
//! from a queue filled through `POST /_sandbox/faults`; it sits inside the
//! call counter, so a faulted call is still counted. A queued rule gives
//! every matching request one fault, or (`random`) faults each matching
//! request independently with a probability, drawing from a list: the sick
//! vendor of a soak.

use std::collections::VecDeque;
use std::sync::{Arc, MutexGuard};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;

use crate::kit::control::{self, ControlError};
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

/// A queued rule: for one vendor, optionally one operation, some number of
/// times, either `fault` (every matching request) or `random` (each
/// matching request independently). Exactly one of the two.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "QueuedFaultBody")]
pub struct QueuedFault {
    pub vendor: String,
    /// `create`, `get`, … (as counted by `/_sandbox/calls`); any when absent.
    pub op: Option<String>,
    /// How many requests it faults; `0` means every one until cleared.
    pub times: u32,
    pub rule: Rule,
}

/// What a queued rule does to a request it matches.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// This fault, to every matching request.
    Fault(Fault),
    /// Maybe a fault: see [`RandomFaults`].
    Random(RandomFaults),
}

/// Independent random faults: each matching request is faulted with
/// probability `p`, with one of `faults` chosen uniformly. A request the
/// draw spares goes on to the next queued rule, then to the vendor.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomFaults {
    /// Chance of a fault per matching request, 0 to 1.
    pub p: f64,
    /// The faults drawn from; at least one.
    pub faults: Vec<Fault>,
    /// Seeds the draws, for a run that can be repeated: the same seed and
    /// the same order of requests give the same faults. Random when absent.
    #[serde(default)]
    pub seed: Option<u64>,
}

/// `POST /_sandbox/faults` as sent, before the one-of check.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueuedFaultBody {
    vendor: String,
    #[serde(default)]
    op: Option<String>,
    #[serde(default = "one")]
    times: u32,
    #[serde(default)]
    fault: Option<Fault>,
    #[serde(default)]
    random: Option<RandomFaults>,
}

fn one() -> u32 {
    1
}

impl TryFrom<QueuedFaultBody> for QueuedFault {
    type Error = String;

    fn try_from(body: QueuedFaultBody) -> Result<QueuedFault, String> {
        let rule = match (body.fault, body.random) {
            (Some(fault), None) => Rule::Fault(fault),
            (None, Some(random)) => {
                if !(0.0..=1.0).contains(&random.p) {
                    return Err(format!("random.p: {} is not between 0 and 1", random.p));
                }
                if random.faults.is_empty() {
                    return Err("random.faults: give at least one fault".to_owned());
                }
                Rule::Random(random)
            }
            _ => return Err("give exactly one of `fault` and `random`".to_owned()),
        };
        Ok(QueuedFault {
            vendor: body.vendor,
            op: body.op,
            times: body.times,
            rule,
        })
    }
}

/// A rule as the queue holds it: a random one keeps its generator, so a
/// seeded rule goes on drawing where it stopped.
#[derive(Debug)]
struct Entry {
    vendor: String,
    op: Option<String>,
    times: u32,
    pick: Pick,
}

#[derive(Debug)]
enum Pick {
    Always(Fault),
    Random {
        p: f64,
        faults: Vec<Fault>,
        rng: Box<StdRng>,
    },
}

impl Entry {
    fn new(queued: QueuedFault) -> Entry {
        let pick = match queued.rule {
            Rule::Fault(fault) => Pick::Always(fault),
            Rule::Random(RandomFaults { p, faults, seed }) => Pick::Random {
                p,
                faults,
                rng: Box::new(match seed {
                    Some(seed) => StdRng::seed_from_u64(seed),
                    None => StdRng::from_rng(&mut rand::rng()),
                }),
            },
        };
        Entry {
            vendor: queued.vendor,
            op: queued.op,
            times: queued.times,
            pick,
        }
    }

    fn matches(&self, vendor: &str, op: &str) -> bool {
        self.vendor == vendor && self.op.as_deref().is_none_or(|o| o == op)
    }

    /// The fault this request gets from this rule, if any.
    fn draw(&mut self) -> Option<Fault> {
        match &mut self.pick {
            Pick::Always(fault) => Some(fault.clone()),
            Pick::Random { p, faults, rng } => {
                if !rng.random_bool(*p) {
                    return None;
                }
                let at = rng.random_range(0..faults.len());
                faults.get(at).cloned()
            }
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct FaultQueue {
    queue: Arc<Locked<VecDeque<Entry>>>,
}

impl FaultQueue {
    fn lock(&self) -> MutexGuard<'_, VecDeque<Entry>> {
        self.queue.lock()
    }

    pub(crate) fn push(&self, fault: QueuedFault) {
        self.lock().push_back(Entry::new(fault));
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    /// The fault of the first queued rule that matches this request and
    /// faults it; that rule is used up by one.
    fn take(&self, vendor: &str, op: &str) -> Option<Fault> {
        let mut queue = self.lock();
        let (at, fault) = queue
            .iter_mut()
            .enumerate()
            .filter(|(_, entry)| entry.matches(vendor, op))
            .find_map(|(at, entry)| entry.draw().map(|fault| (at, fault)))?;
        match queue.get(at).map(|entry| entry.times) {
            Some(1) => {
                queue.remove(at);
            }
            Some(0) | None => {}
            Some(_) => {
                if let Some(entry) = queue.get_mut(at) {
                    entry.times -= 1;
                }
            }
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

/// `POST /_sandbox/faults`: queue a rule (a bad one is a 400 saying why).
pub(crate) async fn queue_fault(
    State(queue): State<FaultQueue>,
    control::Body(fault): control::Body<QueuedFault>,
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

    fn status(status: u16) -> Fault {
        Fault {
            status: Some(status),
            ..Fault::default()
        }
    }

    fn queued(op: Option<&str>, times: u32, code: u16) -> QueuedFault {
        QueuedFault {
            vendor: "meteroid".into(),
            op: op.map(str::to_owned),
            times,
            rule: Rule::Fault(status(code)),
        }
    }

    fn random(p: f64, codes: &[u16], seed: u64, times: u32) -> QueuedFault {
        QueuedFault {
            vendor: "meteroid".into(),
            op: None,
            times,
            rule: Rule::Random(RandomFaults {
                p,
                faults: codes.iter().map(|c| status(*c)).collect(),
                seed: Some(seed),
            }),
        }
    }

    /// The statuses `n` requests get from a queue holding `rule`.
    fn draws(rule: QueuedFault, n: usize) -> Vec<Option<u16>> {
        let q = FaultQueue::default();
        q.push(rule);
        (0..n)
            .map(|_| q.take("meteroid", "create").and_then(|f| f.status))
            .collect()
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

    #[test]
    fn random_faults_hit_about_p_of_the_requests_from_the_whole_list() {
        let got = draws(random(0.1, &[500, 503, 504], 7, 0), 10_000);
        let hits: Vec<u16> = got.iter().flatten().copied().collect();
        // 10,000 draws at p = 0.1: 1,000 expected, σ = 30.
        assert!((880..=1120).contains(&hits.len()), "{} hits", hits.len());
        for code in [500, 503, 504] {
            let n = hits.iter().filter(|c| **c == code).count();
            // About a third each (333 expected, σ ≈ 15).
            assert!((250..=420).contains(&n), "{code}: {n} of {}", hits.len());
        }
    }

    #[test]
    fn a_seed_repeats_the_same_faults_and_another_seed_does_not() {
        let once = draws(random(0.5, &[500, 503], 42, 0), 200);
        assert_eq!(once, draws(random(0.5, &[500, 503], 42, 0), 200));
        assert_ne!(once, draws(random(0.5, &[500, 503], 43, 0), 200));
    }

    #[test]
    fn random_rules_count_the_faults_they_inject_and_let_spared_requests_pass_on() {
        // p = 0 never faults, so the rule behind it decides.
        let q = FaultQueue::default();
        q.push(random(0.0, &[500], 1, 0));
        q.push(queued(None, 1, 429));
        assert_eq!(q.take("meteroid", "get").and_then(|f| f.status), Some(429));
        assert_eq!(q.take("meteroid", "get"), None);
        // p = 1 with times = 3: three faults, then gone.
        let got = draws(random(1.0, &[503], 1, 3), 5);
        assert_eq!(got, [Some(503), Some(503), Some(503), None, None]);
    }

    #[test]
    fn a_rule_is_one_fault_or_random_faults_with_a_p_and_a_list() {
        let parse = |v: serde_json::Value| serde_json::from_value::<QueuedFault>(v);
        let ok = parse(serde_json::json!({"vendor": "flowglad", "times": 0,
            "random": {"p": 0.1, "seed": 9, "faults": [{"status": 500}, {"reset": "after_read"}]}}))
        .expect("a random rule");
        assert_eq!(ok.times, 0);
        assert!(matches!(
            ok.rule,
            Rule::Random(RandomFaults { seed: Some(9), .. })
        ));
        for (bad, says) in [
            (serde_json::json!({"vendor": "flowglad"}), "exactly one"),
            (
                serde_json::json!({"vendor": "flowglad", "fault": {}, "random": {"p": 0.1, "faults": [{}]}}),
                "exactly one",
            ),
            (
                serde_json::json!({"vendor": "flowglad", "random": {"p": 1.5, "faults": [{}]}}),
                "random.p",
            ),
            (
                serde_json::json!({"vendor": "flowglad", "random": {"p": 0.5, "faults": []}}),
                "random.faults",
            ),
            (
                serde_json::json!({"vendor": "flowglad", "random": {"p": 0.5, "faults": [{}], "odds": 1}}),
                "odds",
            ),
        ] {
            let err = parse(bad.clone()).expect_err("refused");
            assert!(err.to_string().contains(says), "{bad}: {err}");
        }
    }
}
