//! What the vendors' credential checks share: reading the `Authorization`
//! header in its `Bearer` and `Basic` forms, and one middleware that runs
//! a vendor's check on the paths it guards. What a key looks like and what
//! a refusal says stay with each vendor.

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// The `Authorization` value, if it is text.
pub(crate) fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers.get("authorization")?.to_str().ok()
}

/// The token of `Bearer <token>` (that exact case), untrimmed.
pub(crate) fn bearer(value: &str) -> Option<&str> {
    value.strip_prefix("Bearer ")
}

/// `(user, password)` of `Basic base64(user:password)`; the password may
/// hold colons.
pub(crate) fn basic(value: &str) -> Option<(String, String)> {
    let decoded = STANDARD.decode(value.strip_prefix("Basic ")?.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// A vendor's credential check, run before its routes' extractors (as the
/// vendors' own auth layers do).
pub(crate) trait Gate: Clone + Send + Sync + 'static {
    /// The path prefix the check covers; other paths pass unchecked.
    const SCOPE: &'static str;

    /// The vendor's answer to credentials it refuses; `None` lets the
    /// request through.
    fn refusal(&self, headers: &HeaderMap) -> Option<Response>;
}

/// Middleware: `from_fn_with_state(gate, guard::<G>)`.
pub(crate) async fn guard<G: Gate>(
    State(gate): State<G>,
    request: Request,
    next: Next,
) -> Response {
    if !request.uri().path().starts_with(G::SCOPE) {
        return next.run(request).await;
    }
    match gate.refusal(request.headers()) {
        None => next.run(request).await,
        Some(refusal) => refusal,
    }
}

/// Headers with one `authorization` value, for the vendors' auth tests.
#[cfg(test)]
pub(crate) fn authorization_header(value: &str) -> HeaderMap {
    let mut map = HeaderMap::new();
    if let Ok(v) = axum::http::HeaderValue::from_str(value) {
        map.insert("authorization", v);
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_and_basic_forms() {
        assert_eq!(bearer("Bearer t "), Some("t "));
        assert_eq!(bearer("bearer t"), None);
        let basic_value = format!("Basic {}", STANDARD.encode("id:s:e:c"));
        assert_eq!(basic(&basic_value), Some(("id".into(), "s:e:c".into())));
        assert_eq!(basic("Basic !!!"), None);
        assert_eq!(basic("Bearer x"), None);
        let headers = authorization_header("Bearer t");
        assert_eq!(authorization(&headers), Some("Bearer t"));
    }
}
