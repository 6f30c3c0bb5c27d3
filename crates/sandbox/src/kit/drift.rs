//! Drift on demand: `POST /_sandbox/<vendor>/drift` makes the vendor's
//! session answers (get, create, cancel, confirm, and each item of a list)
//! look like a newer vendor's: an extra field, a status value no client
//! knows, or both. `{}` or `DELETE` goes back to the vendor as it is.
//!
//! ```json
//! {"field": {"name": "risk_score", "value": 0.7}, "status": "on_hold"}
//! ```
//!
//! Each vendor says where its session objects are and what its status key
//! is ([`Shape`], beside its `classify`); the kit rewrites the answers in a
//! layer just inside the call counter and the fault injection, so a
//! drifted answer can still be faulted.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::control::{Body as ControlBody, ControlError};
use super::mount::Classify;
use super::store::Locked;

/// Where a vendor's session objects sit in its answers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    /// JSON pointers to the one session of a get, create, cancel or confirm
    /// answer (`""`: the whole body); the first that is an object is it.
    pub one: &'static [&'static str],
    /// JSON pointers to a list answer's array of sessions.
    pub many: &'static [&'static str],
    /// The session's status key: the first one present is replaced.
    pub status: &'static [&'static str],
}

/// Longest field name or status a drift may carry.
const MAX_TEXT: usize = 200;

/// Largest answer the layer rewrites (the gateway reads at most 16 MiB).
const MAX_BODY: usize = 32 * 1024 * 1024;

/// What a vendor's answers carry beyond the vendor's own.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Drift {
    /// An extra field on every session object.
    #[serde(default)]
    pub field: Option<ExtraField>,
    /// Every session's status, as this value.
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExtraField {
    pub name: String,
    pub value: Value,
}

impl Drift {
    fn checked(self) -> Result<Drift, ControlError> {
        let bad = |s: &str| s.is_empty() || s.len() > MAX_TEXT;
        if self.field.as_ref().is_some_and(|f| bad(&f.name)) {
            return Err(ControlError::bad_request(format!(
                "field.name: 1 to {MAX_TEXT} bytes"
            )));
        }
        if self.status.as_deref().is_some_and(bad) {
            return Err(ControlError::bad_request(format!(
                "status: 1 to {MAX_TEXT} bytes"
            )));
        }
        Ok(self)
    }

    fn is_none(&self) -> bool {
        self.field.is_none() && self.status.is_none()
    }

    /// Drift one session object.
    fn apply(&self, session: &mut Map<String, Value>, shape: &Shape) {
        if let Some(field) = &self.field {
            session.insert(field.name.clone(), field.value.clone());
        }
        if let Some(status) = &self.status {
            if let Some(key) = shape.status.iter().find(|k| session.contains_key(**k)) {
                session.insert((*key).to_owned(), Value::String(status.clone()));
            }
        }
    }

    /// Drift every session object of an answer to `op`; whether any was.
    fn rewrite(&self, op: &str, body: &mut Value, shape: &Shape) -> bool {
        let mut drifted = false;
        if op == "list" {
            for pointer in shape.many {
                if let Some(Value::Array(items)) = body.pointer_mut(pointer) {
                    for item in items.iter_mut().filter_map(Value::as_object_mut) {
                        self.apply(item, shape);
                        drifted = true;
                    }
                    break;
                }
            }
        } else if let Some(session) = shape
            .one
            .iter()
            .find(|p| body.pointer(p).is_some_and(Value::is_object))
            .and_then(|p| body.pointer_mut(p))
            .and_then(Value::as_object_mut)
        {
            self.apply(session, shape);
            drifted = true;
        }
        drifted
    }
}

/// Every vendor's drift, by vendor name; shared by the control routes and
/// the layers.
#[derive(Debug, Clone, Default)]
pub(crate) struct DriftTable(Arc<Locked<HashMap<&'static str, Drift>>>);

impl DriftTable {
    fn get(&self, vendor: &str) -> Option<Drift> {
        self.0.lock().get(vendor).cloned()
    }

    fn set(&self, vendor: &'static str, drift: Drift) {
        let mut table = self.0.lock();
        if drift.is_none() {
            table.remove(vendor);
        } else {
            table.insert(vendor, drift);
        }
    }
}

/// `POST|DELETE /drift` under one vendor's controls.
pub(crate) fn router(table: DriftTable, vendor: &'static str) -> Router {
    let set = {
        let table = table.clone();
        move |ControlBody(drift): ControlBody<Drift>| async move {
            table.set(vendor, drift.checked()?);
            Ok::<_, ControlError>(StatusCode::NO_CONTENT)
        }
    };
    let reset = move || async move {
        table.set(vendor, Drift::default());
        StatusCode::NO_CONTENT
    };
    Router::new().route("/drift", post(set).delete(reset))
}

/// The layer's state: one vendor's name, operations and shape.
#[derive(Clone)]
pub(crate) struct Rewrite {
    pub table: DriftTable,
    pub vendor: &'static str,
    pub classify: Classify,
    pub shape: Shape,
}

/// Middleware around a vendor's API: a 2xx JSON session answer leaves
/// drifted while a drift is set; anything else passes untouched.
pub(crate) async fn rewrite(State(r): State<Rewrite>, request: Request, next: Next) -> Response {
    let Some(drift) = r.table.get(r.vendor) else {
        return next.run(request).await;
    };
    let op = (r.classify)(request.method(), request.uri().path());
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    let session_op = matches!(op, "get" | "create" | "cancel" | "confirm" | "list");
    if !session_op || !is_json || !response.status().is_success() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return ControlError::new(StatusCode::BAD_GATEWAY, "sandbox drift: unreadable answer")
            .into_response();
    };
    let mut json = match serde_json::from_slice::<Value>(&bytes) {
        Ok(json) => json,
        Err(_) => return Response::from_parts(parts, Body::from(bytes)),
    };
    if !drift.rewrite(op, &mut json, &r.shape) {
        return Response::from_parts(parts, Body::from(bytes));
    }
    let Ok(out) = serde_json::to_vec(&json) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(out))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SHAPE: Shape = Shape {
        one: &["/session", ""],
        many: &["/sessions"],
        status: &["status", "state"],
    };

    fn drift(v: Value) -> Drift {
        serde_json::from_value::<Drift>(v)
            .expect("a drift")
            .checked()
            .expect("valid")
    }

    #[test]
    fn one_session_gets_the_field_and_the_status() {
        let d = drift(json!({"field": {"name": "risk", "value": 0.5}, "status": "on_hold"}));
        let mut body = json!({"session": {"id": "s", "status": "OPEN"}});
        assert!(d.rewrite("get", &mut body, &SHAPE));
        assert_eq!(
            body,
            json!({"session": {"id": "s", "status": "on_hold", "risk": 0.5}})
        );
        // The whole body is the session where no envelope is.
        let mut body = json!({"id": "s", "state": "open"});
        assert!(d.rewrite("create", &mut body, &SHAPE));
        assert_eq!(body["state"], "on_hold");
        assert_eq!(body["risk"], 0.5);
    }

    #[test]
    fn every_list_item_drifts_and_nothing_else() {
        let d = drift(json!({"field": {"name": "risk", "value": null}}));
        let mut body = json!({"sessions": [{"id": "a", "status": "X"}, {"id": "b"}], "total": 2});
        assert!(d.rewrite("list", &mut body, &SHAPE));
        assert_eq!(
            body["sessions"][0],
            json!({"id": "a", "status": "X", "risk": null})
        );
        assert_eq!(body["sessions"][1], json!({"id": "b", "risk": null}));
        assert_eq!(body["total"], 2);
        let mut other = json!({"sessions": "not a list"});
        assert!(!d.rewrite("list", &mut other, &SHAPE));
    }

    #[test]
    fn bad_drifts_name_the_field() {
        let e = serde_json::from_value::<Drift>(json!({"field": {"name": "", "value": 1}}))
            .expect("shape")
            .checked()
            .expect_err("empty name");
        assert!(format!("{e:?}").contains("field.name"));
        let e = serde_json::from_value::<Drift>(json!({"status": "x".repeat(201)}))
            .expect("shape")
            .checked()
            .expect_err("long status");
        assert!(format!("{e:?}").contains("status"));
        assert!(serde_json::from_value::<Drift>(json!({"colour": "red"})).is_err());
        assert!(drift(json!({})).is_none());
    }
}
