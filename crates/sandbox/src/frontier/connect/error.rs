//! A Connect error as connect-go writes it for a unary call: always
//! `application/json` (whatever the request's codec), never compressed,
//! `{"code", "message", "details"?}` with the HTTP status for the code.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::compression::SUPPORTED;

#[derive(Debug, Clone)]
pub struct ConnectError {
    pub(super) code: &'static str,
    pub(super) message: String,
    pub(super) details: Vec<Value>,
}

impl ConnectError {
    pub fn new(code: &'static str, message: impl Into<String>) -> ConnectError {
        ConnectError {
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// `connectCodeToHTTP`.
    pub(super) fn status(&self) -> StatusCode {
        let status = match self.code {
            "canceled" => 499,
            "invalid_argument" | "failed_precondition" | "out_of_range" => 400,
            "unauthenticated" => 401,
            "permission_denied" => 403,
            "not_found" => 404,
            "already_exists" | "aborted" => 409,
            "resource_exhausted" => 429,
            "unimplemented" => 501,
            "unavailable" => 503,
            "deadline_exceeded" => 504,
            _ => 500,
        };
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for ConnectError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut body = json!({"code": self.code, "message": self.message});
        if !self.details.is_empty() {
            body["details"] = Value::Array(self.details);
        }
        let mut response = (status, Json(body)).into_response();
        // Set before anything can fail, so every Connect error carries it.
        response
            .headers_mut()
            .insert(header::ACCEPT_ENCODING, HeaderValue::from_static(SUPPORTED));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_connect_go() {
        for (code, status) in [
            ("invalid_argument", 400),
            ("failed_precondition", 400),
            ("unauthenticated", 401),
            ("permission_denied", 403),
            ("not_found", 404),
            ("already_exists", 409),
            ("resource_exhausted", 429),
            ("unimplemented", 501),
            ("unavailable", 503),
            ("internal", 500),
        ] {
            assert_eq!(ConnectError::new(code, "m").status().as_u16(), status);
        }
    }
}
