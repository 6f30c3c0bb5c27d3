//! The legacy REST API (grpc-gateway in front of Frontier's gRPC server,
//! before 2026-02). The gateway decodes the body, then the gRPC
//! interceptors run: authentication, the org checks of the authorization
//! interceptor (`ensureBillingAccountBelongToOrg`,
//! `ensureCheckoutBelongToOrg`), the handler. Errors are a
//! `google.rpc.Status` (`{"code": <int>, "message", "details": []}`) with
//! grpc-gateway's HTTP status for the code. The legacy handlers returned
//! most service errors as plain Go errors, which the error interceptor
//! turned into `internal`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use uuid::Uuid;

use super::auth::Principal;
use super::model::{CreateCheckoutRequest, Session, SessionResponse, SessionsResponse, Style};
use super::store::Created;
use super::Frontier;

/// A gRPC status on the wire.
#[derive(Debug, Clone)]
pub struct Status {
    code: i32,
    message: String,
}

impl Status {
    fn new(code: i32, message: impl Into<String>) -> Status {
        Status {
            code,
            message: message.into(),
        }
    }

    fn internal() -> Status {
        Status::new(13, "internal server error")
    }

    /// grpc-gateway's `HTTPStatusFromCode`.
    fn http_status(&self) -> StatusCode {
        let status = match self.code {
            1 => 499,
            3 | 9 | 11 => 400,
            4 => 504,
            5 => 404,
            6 | 10 => 409,
            7 => 403,
            8 => 429,
            12 => 501,
            14 => 503,
            16 => 401,
            _ => 500,
        };
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Status {
    fn into_response(self) -> Response {
        let body = json!({"code": self.code, "message": self.message, "details": []});
        (self.http_status(), Json(body)).into_response()
    }
}

/// grpc-gateway's routing answer for a path it does not serve.
pub fn not_found() -> Response {
    Status::new(5, "Not Found").into_response()
}

/// grpc-gateway's routing answer for a known path with another method.
pub async fn method_not_allowed() -> Response {
    Status::new(12, "Method Not Allowed").into_response()
}

fn authenticate(f: &Frontier, headers: &HeaderMap) -> Result<Principal, Status> {
    f.credentials
        .principal(headers)
        .ok_or_else(|| Status::new(16, "not authenticated"))
}

/// The org must exist with a billing account, and the caller administer it.
fn authorize_org(f: &Frontier, who: &Principal, org_id: &str) -> Result<Uuid, Status> {
    let org = Uuid::parse_str(org_id)
        .ok()
        .filter(|org| f.store.org(*org) == Some(true))
        .ok_or_else(|| Status::new(5, "customer doesn't exist"))?;
    if who.administers(org) {
        Ok(org)
    } else {
        Err(Status::new(7, "not authorized"))
    }
}

/// protojson's parse errors, relayed as `InvalidArgument`.
fn decode(body: &[u8]) -> Result<CreateCheckoutRequest, Status> {
    serde_json::from_slice(body).map_err(|e| {
        let message = if e.is_syntax() || e.is_eof() {
            format!(
                "proto: syntax error (line {}:{}): unexpected token",
                e.line(),
                e.column()
            )
        } else {
            format!("proto: (line {}:{}): invalid value", e.line(), e.column())
        };
        Status::new(3, message)
    })
}

pub async fn create(
    State(f): State<Arc<Frontier>>,
    Path(org_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Status> {
    let request = decode(&body)?;
    let who = authenticate(&f, &headers)?;
    let org = authorize_org(&f, &who, &org_id)?;
    // Every service error was a plain Go error here: `internal`.
    let created = f
        .store
        .create(org, request.into_create())
        .map_err(|_| Status::internal())?;
    let (Created::Stored(checkout) | Created::Portal(checkout)) = &created;
    Ok(Json(SessionResponse {
        checkout_session: Session {
            checkout,
            style: Style::Legacy,
        },
    })
    .into_response())
}

pub async fn get(
    State(f): State<Arc<Frontier>>,
    Path((org_id, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, Status> {
    let who = authenticate(&f, &headers)?;
    let org = Uuid::parse_str(&org_id)
        .ok()
        .filter(|org| f.store.org(*org) == Some(true))
        .ok_or_else(|| Status::new(5, "customer doesn't exist"))?;
    // `checkout.ErrNotFound` / `ErrInvalidUUID` were not gRPC statuses.
    let checkout = f.store.get(&id).map_err(|_| Status::internal())?;
    if checkout.org != org {
        return Err(Status::new(7, "invalid arguments"));
    }
    if !who.administers(org) {
        return Err(Status::new(7, "not authorized"));
    }
    Ok(Json(SessionResponse {
        checkout_session: Session {
            checkout: &checkout,
            style: Style::Legacy,
        },
    })
    .into_response())
}

pub async fn list(
    State(f): State<Arc<Frontier>>,
    Path(org_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Status> {
    let who = authenticate(&f, &headers)?;
    let org = authorize_org(&f, &who, &org_id)?;
    let checkouts = f.store.list(org);
    Ok(Json(SessionsResponse::new(&checkouts, Style::Legacy)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_grpc_gateway() {
        for (code, status) in [
            (3, 400),
            (5, 404),
            (7, 403),
            (9, 400),
            (12, 501),
            (13, 500),
            (14, 503),
            (16, 401),
        ] {
            assert_eq!(Status::new(code, "m").http_status().as_u16(), status);
        }
    }

    #[test]
    fn parse_errors_say_where() {
        let e = decode(br#"{"subscription_body": {"plan": "p",}}"#).unwrap_err();
        assert_eq!(e.code, 3);
        assert!(
            e.message.starts_with("proto: syntax error (line 1:"),
            "{}",
            e.message
        );
        let e = decode(br#"{"setup_body": {"payment_method": "yes"}}"#).unwrap_err();
        assert!(e.message.contains("invalid value"), "{}", e.message);
    }
}
