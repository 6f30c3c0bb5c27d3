//! Unary Connect compression as connect-go (v1.19, Frontier's) negotiates
//! it: the request's `Content-Encoding` and `Accept-Encoding` (unary calls
//! do not use the streaming `Connect-Content-Encoding`), gzip being the only
//! compressor connect-go registers and Frontier adds none.

use std::borrow::Cow;
use std::io::{self, Read, Write};

use axum::http::{header, HeaderMap};
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

use super::error::ConnectError;

/// What the server sends as `Accept-Encoding` on every call it negotiates.
pub const SUPPORTED: &str = "gzip";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Identity,
    Gzip,
}

/// How the request body arrived and how the answer goes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    pub request: Compression,
    pub response: Compression,
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Cow<'_, str> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()))
        .unwrap_or_default()
}

/// `negotiateCompression`: an unknown `Content-Encoding` (names are
/// case-sensitive) is `unimplemented`; the answer is compressed like the
/// request, else with the first `Accept-Encoding` token the server has
/// (split on commas and spaces, no `q` weights: `gzip;q=0.5` is no match).
pub fn negotiate(headers: &HeaderMap) -> Result<Negotiated, ConnectError> {
    let request = match &*header_text(headers, header::CONTENT_ENCODING) {
        "" | "identity" => Compression::Identity,
        "gzip" => Compression::Gzip,
        other => {
            return Err(ConnectError::new(
                "unimplemented",
                format!("unknown compression {other:?}: supported encodings are {SUPPORTED}"),
            ))
        }
    };
    let accepts_gzip = header_text(headers, header::ACCEPT_ENCODING)
        .split([',', ' '])
        .any(|token| token == "gzip");
    let response = if request == Compression::Gzip || accepts_gzip {
        Compression::Gzip
    } else {
        Compression::Identity
    };
    Ok(Negotiated { request, response })
}

/// The request body as the codec gets it. An empty body is not inflated
/// (connect-go skips it too). `limit` bounds the inflated size: Frontier
/// sets no `ReadMaxBytes`, but the sandbox will not inflate without end.
pub fn decompress(
    body: &[u8],
    how: Compression,
    limit: usize,
) -> Result<Cow<'_, [u8]>, ConnectError> {
    if how == Compression::Identity || body.is_empty() {
        return Ok(Cow::Borrowed(body));
    }
    let invalid = |message: String| ConnectError::new("invalid_argument", message);
    // Go's `gzip.NewReader` reads the 10-byte header first.
    if body.len() < 10 {
        return Err(invalid("get decompressor: unexpected EOF".into()));
    }
    if body[..3] != [0x1f, 0x8b, 8] {
        return Err(invalid("get decompressor: gzip: invalid header".into()));
    }
    let cap = u64::try_from(limit).unwrap_or(u64::MAX);
    let mut inflated = Vec::new();
    let mut reader = MultiGzDecoder::new(body);
    let read = (&mut reader)
        .take(cap.saturating_add(1))
        .read_to_end(&mut inflated);
    match read {
        // Go's wording for truncation; flate2's for corrupt data (Go names
        // the byte offset, e.g. `flate: corrupt input before offset 5`).
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            Err(invalid("decompress: unexpected EOF".into()))
        }
        Err(e) => Err(invalid(format!("decompress: {e}"))),
        Ok(n) if n > limit => {
            let message = match io::copy(&mut reader, &mut io::sink()) {
                Ok(rest) => format!(
                    "message size {} is larger than configured max {limit}",
                    (n as u64).saturating_add(rest)
                ),
                Err(e) => format!(
                    "message is larger than configured max {limit} - unable to determine message size: {e}"
                ),
            };
            Err(ConnectError::new("resource_exhausted", message))
        }
        Ok(_) => Ok(Cow::Owned(inflated)),
    }
}

/// gzip at Go's default level (6), whatever the size: Frontier leaves
/// connect-go's `CompressMinBytes` at 0, so even an empty answer is
/// compressed when the client accepts gzip.
pub fn gzip(body: &[u8]) -> Result<Vec<u8>, ConnectError> {
    let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(body)
        .and_then(|()| encoder.finish())
        .map_err(|e| ConnectError::new("internal", format!("compress: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_static(value));
        }
        map
    }

    fn negotiated(pairs: &[(header::HeaderName, &'static str)]) -> (Compression, Compression) {
        let n = negotiate(&headers(pairs)).expect("negotiates");
        (n.request, n.response)
    }

    #[test]
    fn negotiation_follows_connect_go() {
        use Compression::{Gzip, Identity};
        let (ce, ae) = (header::CONTENT_ENCODING, header::ACCEPT_ENCODING);
        assert_eq!(negotiated(&[]), (Identity, Identity));
        assert_eq!(
            negotiated(&[(ce.clone(), "identity")]),
            (Identity, Identity)
        );
        assert_eq!(negotiated(&[(ce.clone(), "gzip")]), (Gzip, Gzip));
        assert_eq!(negotiated(&[(ae.clone(), "br, gzip")]), (Identity, Gzip));
        assert_eq!(
            negotiated(&[(ae.clone(), "gzip;q=1")]),
            (Identity, Identity)
        );
        assert_eq!(
            negotiated(&[(ae.clone(), "identity")]),
            (Identity, Identity)
        );
        let err = negotiate(&headers(&[(ce.clone(), "br")])).unwrap_err();
        assert_eq!(err.code, "unimplemented");
        assert_eq!(
            err.message,
            r#"unknown compression "br": supported encodings are gzip"#
        );
        assert!(
            negotiate(&headers(&[(ce, "GZIP")])).is_err(),
            "case-sensitive"
        );
    }

    #[test]
    fn gzip_round_trips_and_bad_bodies_are_invalid_arguments() {
        let packed = gzip(b"{\"id\":\"x\"}").expect("gzip");
        let back = decompress(&packed, Compression::Gzip, 100).expect("inflates");
        assert_eq!(&*back, b"{\"id\":\"x\"}");
        // Two members, as Go's multistream reader reads them.
        let mut two = gzip(b"ab").expect("gzip");
        two.extend(gzip(b"cd").expect("gzip"));
        assert_eq!(&*decompress(&two, Compression::Gzip, 100).unwrap(), b"abcd");
        let message = |body: &[u8]| {
            decompress(body, Compression::Gzip, 100)
                .map(|_| ())
                .unwrap_err()
                .message
        };
        assert_eq!(message(b"{}"), "get decompressor: unexpected EOF");
        assert_eq!(
            message(b"{\"id\": \"x1\"}"),
            "get decompressor: gzip: invalid header"
        );
        assert_eq!(
            message(&packed[..packed.len() - 4]),
            "decompress: unexpected EOF"
        );
        let big = gzip(&[b' '; 101]).expect("gzip");
        let err = decompress(&big, Compression::Gzip, 100)
            .map(|_| ())
            .unwrap_err();
        assert_eq!(err.code, "resource_exhausted");
        assert_eq!(
            err.message,
            "message size 101 is larger than configured max 100"
        );
        assert!(decompress(b"", Compression::Gzip, 100).is_ok_and(|b| b.is_empty()));
    }
}
