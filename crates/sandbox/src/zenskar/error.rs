//! Zenskar's error answers (vendor notes §2.8): FastAPI's `{"detail": …}`
//! (a message, or a list of `{loc, msg, type}` for 422), the organisation
//! check's `{"Message": …}` 403, and Starlette's plain-text 500.

use std::any::Any;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::validate::{Issue, Issues, Loc};

/// The 403 body of a missing or wrong `organisation` header (capital `M`).
pub const DENIED_MESSAGE: &str =
    "User is not authorized to access this resource with an explicit deny";
/// Starlette's body for an unhandled error.
pub const INTERNAL_TEXT: &str = "Internal Server Error";

#[derive(Debug)]
pub enum ApiError {
    /// 403 `{"Message": …}`.
    Denied,
    /// 401 `{"detail": …}`.
    Unauthenticated(&'static str),
    /// 400 `{"detail": …}`: a rule the handler enforces (state, references).
    BadRequest(String),
    /// 404 `{"detail": …}`.
    NotFound(&'static str),
    /// 405 `{"detail": "Method Not Allowed"}`.
    MethodNotAllowed,
    /// 422 `{"detail": [{loc, msg, type}]}`.
    Invalid(Vec<Issue>),
    /// 500, plain text.
    Internal,
}

impl ApiError {
    pub fn invalid(issues: Issues) -> ApiError {
        ApiError::Invalid(issues.0)
    }

    /// A single 422 issue.
    pub fn invalid_at(loc: &[&str], msg: &str, kind: &str) -> ApiError {
        ApiError::Invalid(vec![Issue {
            loc: loc.iter().map(|s| Loc::from(*s)).collect(),
            msg: msg.to_owned(),
            kind: kind.to_owned(),
            ctx: None,
        }])
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Denied => (
                StatusCode::FORBIDDEN,
                Json(json!({ "Message": DENIED_MESSAGE })),
            )
                .into_response(),
            ApiError::Unauthenticated(detail) => {
                (StatusCode::UNAUTHORIZED, Json(json!({ "detail": detail }))).into_response()
            }
            ApiError::BadRequest(detail) => {
                (StatusCode::BAD_REQUEST, Json(json!({ "detail": detail }))).into_response()
            }
            ApiError::NotFound(detail) => {
                (StatusCode::NOT_FOUND, Json(json!({ "detail": detail }))).into_response()
            }
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                Json(json!({ "detail": "Method Not Allowed" })),
            )
                .into_response(),
            ApiError::Invalid(issues) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({ "detail": issues })),
            )
                .into_response(),
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                INTERNAL_TEXT,
            )
                .into_response(),
        }
    }
}

/// Unknown routes: FastAPI's JSON 404.
pub async fn not_found() -> ApiError {
    ApiError::NotFound("Not Found")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// For `CatchPanicLayer`: a handler panic is Starlette's plain-text 500.
pub fn panic_response(_panic: Box<dyn Any + Send + 'static>) -> Response {
    ApiError::Internal.into_response()
}
