//! How the Flowglad REST handler says no: plain text from the key check
//! and for unknown routes; JSON `{"error", "code"?, "request_id",
//! "sentry_event_id"?}` from the handler itself, where `error` is a message
//! or zod's issue list. A switch renders every error in the form the
//! vendor's OpenAPI documents instead (`{"message", "code", "issues"}`).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{json, Value};

use super::ids;

/// Appended to the key-check messages.
pub const SDK_API_KEY_MESSAGE: &str = "Please check that you are providing a valid API key. \
     If requesting via SDK, ensure the FLOWGLAD_SECRET_KEY is set in your server's environment variables.";
pub const MISSING_HEADER: &str = "Unauthorized. Authorization header is required, and must include api key in format Authorization: \"Bearer <key>\", or Authorization: \"<key>\"";
pub const MALFORMED_HEADER: &str = "Either the API key was missing, or it was in an invalid format. Authorization header is required, and must include api key in format Authorization: \"Bearer <key>\", or Authorization: \"<key>\"";
pub const NOT_FOUND_TEXT: &str = "Not Found";
pub const INVALID_JSON: &str = "Invalid JSON in request body";
pub const INTERNAL: &str = "Internal server error";

/// The key check's answer for an unknown, expired or rate-limited key
/// (Unkey's `RATE_LIMITED` gets the same text).
pub fn invalid_key_message() -> String {
    format!("API key invalid. {SDK_API_KEY_MESSAGE}")
}

/// Which body shape JSON errors take.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ErrorForm {
    /// What the server really sends.
    #[default]
    Server,
    /// What the vendor's OpenAPI documents.
    Documented,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// 401 plain text from the key check; no request id yet.
    Unauthorized(String),
    /// 404 `Not Found` for a path or method the REST handler does not route.
    RouteNotFound,
    /// 400: the body is not JSON.
    InvalidJson,
    /// 400 from the query-string check: `{"error": message}` without a code.
    Query(String),
    /// 400 `BAD_REQUEST` with zod's issues: the body failed validation.
    Validation(Vec<Value>),
    /// A tRPC error: status, code and message (a 5xx also gets a Sentry id).
    Trpc {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
}

impl ApiError {
    pub fn bad_request(message: String) -> ApiError {
        ApiError::Trpc {
            status: StatusCode::BAD_REQUEST,
            code: "BAD_REQUEST",
            message,
        }
    }

    pub fn internal(message: String) -> ApiError {
        ApiError::Trpc {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "INTERNAL_SERVER_ERROR",
            message,
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::RouteNotFound => StatusCode::NOT_FOUND,
            ApiError::InvalidJson | ApiError::Query(_) | ApiError::Validation(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::Trpc { status, .. } => *status,
        }
    }

    /// The response, in `form`, carrying `request_id` where the vendor does.
    pub fn render(self, form: ErrorForm, request_id: Option<&str>) -> Response {
        let status = self.status();
        let mut response = match form {
            ErrorForm::Server => self.server_body(request_id),
            ErrorForm::Documented => (status, axum::Json(self.documented_body())).into_response(),
        };
        *response.status_mut() = status;
        response
    }

    fn server_body(self, request_id: Option<&str>) -> Response {
        #[derive(Serialize)]
        struct Body<'a> {
            error: Value,
            #[serde(skip_serializing_if = "Option::is_none")]
            code: Option<&'static str>,
            request_id: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            sentry_event_id: Option<String>,
        }
        let (error, code, sentry_event_id) = match self {
            ApiError::Unauthorized(text) => return text_response(StatusCode::UNAUTHORIZED, text),
            ApiError::RouteNotFound => {
                return text_response(StatusCode::NOT_FOUND, NOT_FOUND_TEXT.to_owned())
            }
            ApiError::InvalidJson => (json!(INVALID_JSON), None, None),
            ApiError::Query(message) => (json!(message), None, None),
            ApiError::Validation(issues) => (Value::Array(issues), Some("BAD_REQUEST"), None),
            ApiError::Trpc {
                status,
                code,
                message,
            } => {
                let sentry = status.is_server_error().then(ids::sentry_event_id);
                (json!(message), Some(code), sentry)
            }
        };
        axum::Json(Body {
            error,
            code,
            request_id,
            sentry_event_id,
        })
        .into_response()
    }

    fn documented_body(self) -> Value {
        let (code, message, issues) = match self {
            ApiError::Unauthorized(text) => ("UNAUTHORIZED", text, Vec::new()),
            ApiError::RouteNotFound => ("NOT_FOUND", "Not found".to_owned(), Vec::new()),
            ApiError::InvalidJson => ("BAD_REQUEST", INVALID_JSON.to_owned(), Vec::new()),
            ApiError::Query(message) => ("BAD_REQUEST", message, Vec::new()),
            ApiError::Validation(issues) => (
                "BAD_REQUEST",
                "Input validation failed".to_owned(),
                issues
                    .iter()
                    .map(|i| json!({"message": i.get("message").cloned().unwrap_or(Value::Null)}))
                    .collect(),
            ),
            ApiError::Trpc { code, message, .. } => (code, message, Vec::new()),
        };
        json!({"message": message, "code": code, "issues": issues})
    }
}

/// A plain-text body, as `new Response(text)` sends it.
pub fn text_response(status: StatusCode, text: String) -> Response {
    let mut response = (status, text).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain;charset=UTF-8"),
    );
    response
}

/// zod 4's `invalid_type` issue.
pub fn invalid_type(path: &[&str], expected: &str, received: &str) -> Value {
    json!({
        "expected": expected,
        "code": "invalid_type",
        "path": path,
        "message": format!("Invalid input: expected {expected}, received {received}")
    })
}

/// zod 4's name for the type of a JSON value (`undefined` when absent).
pub fn received(v: Option<&Value>) -> &'static str {
    match v {
        None => "undefined",
        Some(Value::Null) => "null",
        Some(Value::Bool(_)) => "boolean",
        Some(Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Array(_)) => "array",
        Some(Value::Object(_)) => "object",
    }
}
