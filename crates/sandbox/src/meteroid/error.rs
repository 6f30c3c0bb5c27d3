//! Meteroid's JSON error body `{"code", "message"}` and the statuses and
//! messages its REST layer uses (`api_rest/error.rs`, `src/errors.rs`).

use std::any::Any;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

pub const NOT_FOUND_MESSAGE: &str = "Resource not found";
/// Every 500 from a handler's error path carries this instead of details.
pub const INTERNAL_MESSAGE: &str = "Internal server error. Please refer to logs or support.";
/// A panic caught by the outermost layer says this instead.
pub const PANIC_MESSAGE: &str = "Internal Server Error";

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    BadRequest,
    NotFound,
    Unauthorized,
    InternalServerError,
}

#[derive(Debug, Serialize)]
pub struct RestErrorResponse {
    pub code: ErrorCode,
    pub message: String,
}

#[derive(Debug, Clone)]
pub enum RestError {
    /// 400 `Invalid input: {detail}`.
    InvalidInput(String),
    /// 404 `Resource not found`.
    NotFound,
    /// 401 with the auth layer's own message.
    Unauthorized(&'static str),
    /// 500 from a store failure (e.g. a foreign-key violation).
    Store,
    /// 500 as the panic-catching layer answers.
    Panicked,
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            RestError::InvalidInput(detail) => (
                StatusCode::BAD_REQUEST,
                ErrorCode::BadRequest,
                format!("Invalid input: {detail}"),
            ),
            RestError::NotFound => (
                StatusCode::NOT_FOUND,
                ErrorCode::NotFound,
                NOT_FOUND_MESSAGE.to_owned(),
            ),
            RestError::Unauthorized(message) => (
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                message.to_owned(),
            ),
            RestError::Store => (
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::InternalServerError,
                INTERNAL_MESSAGE.to_owned(),
            ),
            RestError::Panicked => (
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::InternalServerError,
                PANIC_MESSAGE.to_owned(),
            ),
        };
        (status, Json(RestErrorResponse { code, message })).into_response()
    }
}

/// Unknown routes: 404 with the JSON body, not axum's empty one.
pub async fn not_found() -> RestError {
    RestError::NotFound
}

/// For `CatchPanicLayer`: a handler panic becomes the vendor's 500 body.
pub fn panic_response(_panic: Box<dyn Any + Send + 'static>) -> Response {
    RestError::Panicked.into_response()
}
