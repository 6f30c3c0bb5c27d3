//! One exchange with a vendor, as data: the request an adapter builds and
//! the answer it reads. Adapters never send anything; `vendor-http` does,
//! for every vendor alike (pooled connections, timeouts, size caps,
//! credential scrubbing, spans).

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};

/// The operations a vendor may offer; each is one exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Get,
    Create,
    List,
    Cancel,
}

impl Operation {
    /// The name in spans, metrics and the sandbox's call counts.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Get => "get",
            Operation::Create => "create",
            Operation::List => "list",
            Operation::Cancel => "cancel",
        }
    }
}

/// A request to a vendor, relative to the account's base URL. The
/// account's credentials are not in it: the client adds them.
#[derive(Debug, Clone, PartialEq)]
pub struct VendorRequest {
    pub operation: Operation,
    pub method: Method,
    /// Path below the base URL, starting with `/`, every segment already
    /// checked or encoded by the adapter.
    pub path: String,
    /// Query pairs, encoded by the client.
    pub query: Vec<(String, String)>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// A JSON body.
    pub body: Option<Bytes>,
}

impl VendorRequest {
    pub fn new(operation: Operation, method: Method, path: impl Into<String>) -> VendorRequest {
        VendorRequest {
            operation,
            method,
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// With a JSON body (and its content type).
    pub fn json(mut self, body: Vec<u8>) -> VendorRequest {
        self.headers.push((
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ));
        self.body = Some(Bytes::from(body));
        self
    }

    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> VendorRequest {
        self.headers.push((name, value));
        self
    }

    pub fn query(mut self, name: &str, value: impl Into<String>) -> VendorRequest {
        self.query.push((name.to_owned(), value.into()));
        self
    }
}

/// A vendor's answer, read whole, credentials already scrubbed.
#[derive(Debug, Clone, Default)]
pub struct VendorAnswer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl VendorAnswer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Whether the body is declared JSON.
    pub fn is_json(&self) -> bool {
        self.header(http::header::CONTENT_TYPE.as_str())
            .is_some_and(|v| v.starts_with("application/json"))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `Retry-After`, in seconds or as a date.
    pub fn retry_after(&self) -> Option<Duration> {
        self.header(http::header::RETRY_AFTER.as_str())
            .and_then(parse_retry_after)
    }
}

/// Where an account's requests go and how they are authenticated: what the
/// one HTTP client needs, prepared once per account.
#[derive(Clone)]
pub struct Endpoint {
    /// Checked absolute `http(s)` URL, without a trailing `/`.
    pub base_url: String,
    /// Headers carrying the account's credential, marked sensitive; added
    /// to every request and scrubbed from every answer.
    pub credentials: Vec<(HeaderName, HeaderValue)>,
    pub connect_timeout_ms: u64,
    pub timeout_ms: u64,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("base_url", &self.base_url)
            .field("credentials", &"***")
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

/// `Retry-After`: delay-seconds or an HTTP date.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    if let Ok(secs) = v.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v.trim()).ok()?;
    let secs = (at.timestamp() - chrono::Utc::now().timestamp()).max(0);
    Some(Duration::from_secs(secs.unsigned_abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_built_as_data() {
        let r = VendorRequest::new(Operation::Create, Method::POST, "/v1/x")
            .json(b"{}".to_vec())
            .query("limit", "10");
        assert_eq!(r.operation.as_str(), "create");
        assert_eq!(r.headers[0].1, "application/json");
        assert_eq!(r.query, vec![("limit".to_owned(), "10".to_owned())]);
    }

    #[test]
    fn endpoints_never_print_credentials() {
        let mut secret = HeaderValue::from_static("Bearer sk_live_secret");
        secret.set_sensitive(true);
        let e = Endpoint {
            base_url: "https://x".into(),
            credentials: vec![(http::header::AUTHORIZATION, secret)],
            connect_timeout_ms: 1,
            timeout_ms: 1,
        };
        assert!(!format!("{e:?}").contains("sk_live"));
    }

    #[test]
    fn answers_read_their_headers() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("3"));
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        let a = VendorAnswer {
            status: 429,
            headers,
            body: Bytes::new(),
        };
        assert!(!a.is_success() && a.is_json());
        assert_eq!(a.retry_after(), Some(Duration::from_secs(3)));
    }
}
