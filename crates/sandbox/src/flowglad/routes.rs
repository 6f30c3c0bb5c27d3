//! The three checkout-session operations as the vendor's REST handler
//! serves them (`/api/v1/[...path]` → tRPC). The key check has run; every
//! response here carries the request id.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{json, Value};

use super::error::ApiError;
use super::model::{ListResponse, Record, SessionResponse, SessionType};
use super::request;
use super::store::{self, Cursor};
use super::{Ctx, Flowglad};
use crate::kit::clock::now_ms;

fn reply(ctx: &Ctx, result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(|e| e.render(ctx.form, Some(&ctx.request_id)))
}

/// `{app}/checkout/{id}`; create answers `{app}/add-payment-method/{id}`
/// for add-payment-method sessions, get never does.
pub fn url(base: &str, record: &Record, from_create: bool) -> String {
    let page = if from_create && record.session_type == SessionType::AddPaymentMethod {
        "add-payment-method"
    } else {
        "checkout"
    };
    format!("{base}/{page}/{}", record.id)
}

pub async fn create(
    State(fg): State<Arc<Flowglad>>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = (|| {
        let value: Value = serde_json::from_slice(&body).map_err(|_| ApiError::InvalidJson)?;
        let input = request::parse(&value).map_err(ApiError::Validation)?;
        let record = fg
            .store
            .create(input, now_ms(), fg.livemode)
            .map_err(|e| ApiError::bad_request(e.message()))?;
        let url = url(&fg.app_url(&headers), &record, true);
        Ok(Json(SessionResponse {
            checkout_session: record,
            url,
        })
        .into_response())
    })();
    reply(&ctx, result)
}

pub async fn get(
    State(fg): State<Arc<Flowglad>>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let result = pagination(query.as_deref()).and_then(|_| {
        let record = fg.store.get(&id).ok_or_else(|| {
            // The router unwraps the not-found Result twice: a Panic, so a 500.
            ApiError::internal(format!(
                "Unwrap called on Err: Panic: Unwrap called on Err: NotFoundError: No checkout sessions found with id: {id}"
            ))
        })?;
        let url = url(&fg.app_url(&headers), &record, false);
        Ok(Json(SessionResponse {
            checkout_session: record,
            url,
        })
        .into_response())
    });
    reply(&ctx, result)
}

pub async fn list(
    State(fg): State<Arc<Flowglad>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> Response {
    let result = pagination(query.as_deref()).map(|p| {
        let page = fg
            .store
            .list(p.limit.unwrap_or(store::DEFAULT_LIMIT), p.cursor.as_ref());
        Json(ListResponse {
            data: page.data,
            current_cursor: p.raw_cursor,
            next_cursor: page.next_cursor,
            has_more: page.has_more,
            total: page.total,
        })
        .into_response()
    });
    reply(&ctx, result)
}

/// Any path or method the handler does not route.
pub async fn not_found(Extension(ctx): Extension<Ctx>) -> Response {
    ApiError::RouteNotFound.render(ctx.form, Some(&ctx.request_id))
}

#[derive(Debug, Default)]
pub struct Pagination {
    pub limit: Option<usize>,
    pub cursor: Option<Cursor>,
    pub raw_cursor: Option<String>,
}

/// The handler checks `limit` (1–100) and `cursor` on every GET, before
/// the operation runs; a failure is 400 `{"error": <zod's message>}`.
pub fn pagination(query: Option<&str>) -> Result<Pagination, ApiError> {
    let pairs: Vec<(String, String)> =
        serde_html_form::from_str(query.unwrap_or_default()).unwrap_or_default();
    let values = |name: &str| -> Vec<&str> {
        pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let (limits, cursors) = (values("limit"), values("cursor"));
    for (name, found) in [("limit", &limits), ("cursor", &cursors)] {
        if found.len() > 1 {
            return Err(ApiError::Query(format!(
                "Multiple '{name}' values are not allowed"
            )));
        }
    }
    let mut issues = Vec::new();
    let limit = limits.first().and_then(|raw| {
        let trimmed = raw.trim();
        // JavaScript's Number(): an empty string is 0.
        let n = if trimmed.is_empty() {
            0.0
        } else {
            trimmed.parse::<f64>().unwrap_or(f64::NAN)
        };
        let issue = if !n.is_finite() {
            Some(
                json!({"expected": "number", "code": "invalid_type", "received": "NaN",
                "path": ["limit"], "message": "Invalid input: expected number, received NaN"}),
            )
        } else if n.fract() != 0.0 {
            Some(
                json!({"expected": "int", "format": "safeint", "code": "invalid_type",
                "path": ["limit"], "message": "Invalid input: expected int, received number"}),
            )
        } else if n < 1.0 {
            Some(
                json!({"origin": "number", "code": "too_small", "minimum": 1, "inclusive": true,
                "path": ["limit"], "message": "Too small: expected number to be >=1"}),
            )
        } else if n > 100.0 {
            Some(
                json!({"origin": "number", "code": "too_big", "maximum": 100, "inclusive": true,
                "path": ["limit"], "message": "Too big: expected number to be <=100"}),
            )
        } else {
            None
        };
        match issue {
            Some(issue) => {
                issues.push(issue);
                None
            }
            // Between 1 and 100 and integral: exact.
            None => Some(n as usize),
        }
    });
    let raw_cursor = cursors.first().map(|c| (*c).to_owned());
    if raw_cursor.as_deref() == Some("") {
        issues.push(
            json!({"origin": "string", "code": "too_small", "minimum": 1,
            "inclusive": true, "path": ["cursor"],
            "message": "Too small: expected string to have >=1 characters"}),
        );
    }
    if !issues.is_empty() {
        return Err(ApiError::Query(
            serde_json::to_string_pretty(&issues).unwrap_or_default(),
        ));
    }
    let cursor = match raw_cursor.as_deref() {
        Some(text) => {
            Some(Cursor::decode(text).ok_or_else(|| ApiError::Query("Invalid cursor".to_owned()))?)
        }
        None => None,
    };
    Ok(Pagination {
        limit,
        cursor,
        raw_cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query_error(q: &str) -> String {
        match pagination(Some(q)) {
            Err(ApiError::Query(m)) => m,
            other => panic!("{q}: {other:?}"),
        }
    }

    #[test]
    fn pagination_rules() {
        assert_eq!(pagination(None).unwrap().limit, None);
        assert_eq!(pagination(Some("limit=100")).unwrap().limit, Some(100));
        assert_eq!(pagination(Some("limit=%205")).unwrap().limit, Some(5));
        assert!(query_error("limit=0").contains("Too small"));
        assert!(query_error("limit=").contains("Too small"));
        assert!(query_error("limit=101").contains("Too big"));
        assert!(query_error("limit=2.5").contains("expected int"));
        assert!(query_error("limit=ten").contains("received NaN"));
        assert_eq!(
            query_error("limit=1&limit=2"),
            "Multiple 'limit' values are not allowed"
        );
        assert_eq!(query_error("cursor=nope"), "Invalid cursor");
        assert!(query_error("cursor=").contains("Too small"));
        // Both issues are reported together.
        let both: Vec<Value> = serde_json::from_str(&query_error("limit=0&cursor=")).unwrap();
        assert_eq!(both.len(), 2);
    }
}
