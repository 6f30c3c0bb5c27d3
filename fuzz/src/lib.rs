//! How one fuzz input is split into a vendor (from the `providers`
//! registry) and the pieces of that vendor's answer, and the checks made on
//! what the adapter returns. The property under test is only "never panics"
//! (plus a few invariants that the gateway relies on when it renders the
//! result).

use checkout_core::{CheckoutSession, Error, Provider};

/// A non-2xx vendor answer, read from the first bytes of a fuzz input:
/// bytes 0..2 the status (big endian, folded into 100..=999, the range an
/// HTTP status can take), byte 2 flags (bit 0: the content type is JSON;
/// bit 1: a request-id header is present, its length in byte 3 and its bytes
/// right after), the rest the body.
#[derive(Debug, Clone, Copy)]
pub struct VendorAnswer<'a> {
    pub status: u16,
    pub is_json: bool,
    pub request_id_header: Option<&'a str>,
    pub body: &'a [u8],
}

impl<'a> VendorAnswer<'a> {
    pub fn from_prefix(data: &'a [u8]) -> VendorAnswer<'a> {
        let (head, rest) = data.split_at(data.len().min(3));
        let status = match head {
            [hi, lo, ..] => 100 + u16::from_be_bytes([*hi, *lo]) % 900,
            _ => 500,
        };
        let flags = head.get(2).copied().unwrap_or(0);
        let (request_id_header, body) = match rest.split_first() {
            Some((&len, after)) if flags & 2 != 0 => {
                let (id, body) = after.split_at(after.len().min(usize::from(len)));
                // A header value as an HTTP client hands it over: text.
                (std::str::from_utf8(id).ok(), body)
            }
            _ => (None, rest),
        };
        VendorAnswer {
            status,
            is_json: flags & 1 != 0,
            request_id_header,
            body,
        }
    }

    /// The whole input as a JSON error body, under a status picked from the
    /// ones vendors really send (so fixtures seed the error parsers as they
    /// are, without a prefix).
    pub fn whole(data: &'a [u8]) -> VendorAnswer<'a> {
        const STATUSES: [u16; 10] = [400, 401, 403, 404, 409, 412, 422, 429, 500, 503];
        VendorAnswer {
            status: STATUSES[data.len() % STATUSES.len()],
            is_json: true,
            request_id_header: None,
            body: data,
        }
    }
}

/// The vendor an input is for, and the rest of the input. Seeds start with
/// `<vendor>\0` (`fuzz/seed-corpus`); any other input picks a vendor by its
/// first byte, so every registered vendor is fuzzed from the same corpus.
pub fn vendor_of(data: &[u8]) -> (&'static dyn Provider, &[u8]) {
    let all = providers::all();
    if let Some(at) = data.iter().take(32).position(|b| *b == 0) {
        let named = std::str::from_utf8(&data[..at])
            .ok()
            .and_then(providers::by_name);
        if let Some(provider) = named {
            return (provider, &data[at + 1..]);
        }
    }
    match data.split_first() {
        Some((first, rest)) => (all[usize::from(*first) % all.len()], rest),
        None => (all[0], data),
    }
}

impl VendorAnswer<'_> {
    /// The answer as the gateway's client hands it to an adapter.
    pub fn to_exchange(&self) -> checkout_core::VendorAnswer {
        let mut headers = http::HeaderMap::new();
        if self.is_json {
            headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
        }
        // A header value a client could have received: visible text.
        if let Some(id) = self
            .request_id_header
            .and_then(|id| http::HeaderValue::from_str(id).ok())
        {
            headers.insert("x-request-id", id);
        }
        checkout_core::VendorAnswer {
            status: self.status,
            headers,
            body: self.body.to_vec().into(),
        }
    }
}

/// What a vendor error must look like whatever the vendor sent.
pub fn check_vendor_error(answer: &VendorAnswer<'_>, err: &Error) {
    assert!(
        (400..=599).contains(&err.http_status),
        "a vendor answer {} became HTTP {}",
        answer.status,
        err.http_status
    );
    // The message goes to the caller: bounded, whatever the body's size.
    assert!(
        err.message.chars().count() <= 4 * checkout_core::vendor::MAX_MESSAGE_LEN,
        "unbounded error message ({} chars)",
        err.message.chars().count()
    );
    // The gateway renders every error as JSON.
    serde_json::to_vec(&err.body(answer.request_id_header)).expect("an error body serialises");
}

/// The rest of a 2xx read, as every adapter client does it after
/// `normalize`'s conversion: the body kept verbatim for `?include=raw`, then
/// the canonical output path: the session as stored, as derived at a few
/// instants (expiry), its id parsed back, and both serialised.
pub fn check_read(provider: &str, body: &[u8], result: &Result<CheckoutSession, Error>) {
    let session = match result {
        Ok(session) => session,
        Err(err) => {
            serde_json::to_vec(&err.body(None)).expect("an error body serialises");
            return;
        }
    };
    if let Ok(raw) = checkout_core::vendor::raw_json(provider, body) {
        serde_json::to_vec(&raw).expect("the raw body serialises");
    }
    let json = serde_json::to_vec(session).expect("a normalized session serialises");
    serde_json::from_slice::<serde_json::Value>(&json).expect("its JSON reads back");
    let _ = session.session_id();
    for now in [
        chrono::DateTime::<chrono::Utc>::MIN_UTC,
        chrono::DateTime::UNIX_EPOCH,
        chrono::DateTime::<chrono::Utc>::MAX_UTC,
    ] {
        let seen = session.as_of(now);
        serde_json::to_vec(&seen).expect("a derived session serialises");
    }
}
