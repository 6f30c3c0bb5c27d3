//! The create and cancel bodies, checked before anything else happens:
//! every mistake is a 400 naming the field, and nothing half-valid goes on
//! to a vendor.

use checkout_core::cancel::MAX_REASON_CHARS;
use checkout_core::id::is_valid_account_name;
use checkout_core::resolve;
use checkout_core::{CancelSession, CreateSession, Error, Metadata, MetadataValue};

/// Longest customer or plan reference accepted.
const MAX_REFERENCE_LEN: usize = 255;
/// Most units one checkout may ask for.
const MAX_QUANTITY: u64 = 1_000_000;
/// Longest URL browsers and vendors agree on.
const MAX_URL_LEN: usize = 2083;
const MAX_METADATA_KEYS: usize = 50;
const MAX_METADATA_KEY_LEN: usize = 40;
const MAX_METADATA_VALUE_LEN: usize = 500;

/// Parse and check the create body. `allow_http_localhost` admits
/// `http://localhost` redirect URLs (the demo); everything else is https.
pub fn parse_create(bytes: &[u8], allow_http_localhost: bool) -> Result<CreateSession, Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let request: CreateSession = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            Error::invalid_request(format!("body is not valid JSON: {inner}"))
        } else if path == "." {
            Error::invalid_request(format!("body: {inner}"))
        } else {
            Error::invalid_request(format!("{path}: {inner}"))
        }
    })?;
    // Bytes after the value are read by nobody here, but a proxy or a log
    // reader may take the body differently: refuse them, as in vendor answers.
    de.end().map_err(|e| {
        Error::invalid_request(format!(
            "body: trailing data after the JSON body at line {} column {}",
            e.line(),
            e.column()
        ))
    })?;
    validate(&request, allow_http_localhost)?;
    Ok(request)
}

/// The optional body of a cancel.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    /// Why (1 to 500 characters); vendors that record a reason get it.
    #[serde(default)]
    pub reason: Option<String>,
    /// Vendor-specific fields (Zenskar: `reason_type`, one of
    /// `customer_requested`, `payment_failed`, `expired`, `duplicate`,
    /// `fraudulent`, `other`).
    #[serde(default)]
    pub provider_options: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Parse and check a cancel body; an empty body cancels without a reason.
pub fn parse_cancel(bytes: &[u8]) -> Result<CancelSession, Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(CancelSession::default());
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let body: CancelBody = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() || path == "." {
            Error::invalid_request(format!("body: {inner}"))
        } else {
            Error::invalid_request(format!("{path}: {inner}"))
        }
    })?;
    de.end()
        .map_err(|_| Error::invalid_request("body: trailing data after the JSON body"))?;
    if let Some(reason) = &body.reason {
        let chars = reason.chars().count();
        if chars == 0 || chars > MAX_REASON_CHARS || reason.chars().any(char::is_control) {
            return Err(field(
                "reason",
                format!("1 to {MAX_REASON_CHARS} characters, no control characters"),
            ));
        }
    }
    Ok(CancelSession {
        reason: body.reason,
        provider_options: body.provider_options.unwrap_or_default(),
    })
}

fn field(name: &str, why: impl std::fmt::Display) -> Error {
    Error::invalid_request(format!("{name}: {why}"))
}

/// The checks every create body passes (also a Stripe facade create's).
pub fn validate(r: &CreateSession, allow_http_localhost: bool) -> Result<(), Error> {
    match (r.provider.is_empty(), r.account.is_empty()) {
        // Routed: the rules choose both.
        (true, true) => {}
        (false, true) => {
            return Err(field(
                "account",
                "required with `provider` (give both, or neither to let routing choose)",
            ))
        }
        (true, false) => {
            return Err(field(
                "provider",
                "required with `account` (give both, or neither to let routing choose)",
            ))
        }
        (false, false) if !is_valid_account_name(&r.account) => {
            return Err(field(
                "account",
                "lower-case letters, digits, '_' and '-', at most 64",
            ))
        }
        (false, false) => {}
    }
    for (name, value) in [("customer", &r.customer), ("plan", &r.plan)] {
        if let Some(v) = value {
            if v.is_empty()
                || v.chars().count() > MAX_REFERENCE_LEN
                || v.chars().any(char::is_control)
            {
                return Err(field(
                    name,
                    format!("1 to {MAX_REFERENCE_LEN} characters, no control characters"),
                ));
            }
        }
    }
    if let Some(q) = r.quantity {
        if !(1..=MAX_QUANTITY).contains(&q) {
            return Err(field("quantity", format!("between 1 and {MAX_QUANTITY}")));
        }
    }
    for (name, value) in [
        ("success_url", &r.success_url),
        ("cancel_url", &r.cancel_url),
    ] {
        if let Some(url) = value {
            check_url(name, url, allow_http_localhost)?;
        }
    }
    for (key, value) in r.provider_options.iter().flatten() {
        // A non-string is the adapter's to refuse, with its own type message.
        if let (true, Some(url)) = (is_url_option(key), value.as_str()) {
            check_url(
                &format!("provider_options.{key}"),
                url,
                allow_http_localhost,
            )?;
        }
    }
    if let Some(at) = r.expires_at {
        if at <= chrono::Utc::now() {
            return Err(field("expires_at", "must be in the future"));
        }
    }
    if let Some(m) = &r.metadata {
        check_metadata(m)?;
    }
    Ok(())
}

/// Absolute https URLs (or `http://localhost` where allowed), no credentials
/// in them, given in the canonical form already. The URL parser repairs
/// `https:host`, `https:///x` and `\`, and vendors read the string we pass
/// on, not our parse of it: so the string itself must be what the parse says.
pub(crate) fn check_url(name: &str, url: &str, allow_http_localhost: bool) -> Result<(), Error> {
    if url.len() > MAX_URL_LEN {
        return Err(field(name, format!("at most {MAX_URL_LEN} characters")));
    }
    if url
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return Err(field(name, "no spaces, backslashes or control characters"));
    }
    let allowed = if allow_http_localhost {
        "https (or http://localhost)"
    } else {
        "https"
    };
    let absolute = || {
        field(
            name,
            format!("must be an absolute {allowed} URL: scheme://host/…"),
        )
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(absolute)?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    if authority.contains('@') {
        return Err(field(name, "must not carry credentials"));
    }
    let parsed = reqwest::Url::parse(url).map_err(|_| absolute())?;
    let host = parsed.host_str().unwrap_or_default();
    if host.is_empty() || !scheme.eq_ignore_ascii_case(parsed.scheme()) {
        return Err(absolute());
    }
    // The host and port as given must be what the parser read: no
    // percent-encoding, IP shorthands or Unicode the parser would rewrite.
    let (given_host, given_port) = split_authority(authority);
    let port_ok = match given_port {
        None => true,
        Some(p) => {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u16>().ok() == parsed.port_or_known_default()
        }
    };
    if !given_host.eq_ignore_ascii_case(host) || !port_ok {
        return Err(field(
            name,
            "host must be written in canonical form (ASCII, no percent-encoding)",
        ));
    }
    let local = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
    let scheme_ok = match parsed.scheme() {
        "https" => true,
        "http" => allow_http_localhost && local,
        _ => false,
    };
    if !scheme_ok {
        return Err(field(name, format!("must use {allowed}")));
    }
    Ok(())
}

/// `host[:port]` of an authority, IPv6 brackets kept with the host.
fn split_authority(authority: &str) -> (&str, Option<&str>) {
    let host_end = if authority.starts_with('[') {
        authority.find(']').map_or(authority.len(), |i| i + 1)
    } else {
        authority.find(':').unwrap_or(authority.len())
    };
    let (host, rest) = authority.split_at(host_end);
    match rest.strip_prefix(':') {
        Some(port) => (host, Some(port)),
        // Anything else after `]` is not a port: make the host compare fail.
        None if !rest.is_empty() => (authority, None),
        None => (host, None),
    }
}

/// `provider_options` keys that hold a URL the vendor will redirect to or
/// call: every vendor names them `…_url` (today Zenskar's `pending_url`).
fn is_url_option(key: &str) -> bool {
    key.ends_with("_url") || key.ends_with("Url")
}

/// Metadata rules shared by every vendor: bounded count and sizes,
/// printable keys.
fn check_metadata(m: &Metadata) -> Result<(), Error> {
    if m.len() > MAX_METADATA_KEYS {
        return Err(field(
            "metadata",
            format!("at most {MAX_METADATA_KEYS} keys"),
        ));
    }
    if m.contains_key(resolve::MARK_KEY) {
        return Err(field(
            &format!("metadata.{}", resolve::MARK_KEY),
            "this key is the gateway's own (it marks creates to find them at the vendor)",
        ));
    }
    for (key, value) in m {
        let key_ok = !key.is_empty()
            && key.chars().count() <= MAX_METADATA_KEY_LEN
            && !key.chars().any(|c| c.is_control() || c == '[' || c == ']');
        if !key_ok {
            return Err(field(
                "metadata",
                format!(
                    "keys are 1 to {MAX_METADATA_KEY_LEN} printable characters without brackets"
                ),
            ));
        }
        if let MetadataValue::String(s) = value {
            if s.chars().count() > MAX_METADATA_VALUE_LEN {
                return Err(field(
                    &format!("metadata.{key}"),
                    format!("string values are at most {MAX_METADATA_VALUE_LEN} characters"),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(body: &str) -> String {
        parse_create(body.as_bytes(), false).unwrap_err().message
    }

    #[test]
    fn errors_name_the_field() {
        let base = r#""provider":"meteroid","account":"default""#;
        for (body, starts) in [
            (format!(r#"{{{base},"quantity":"two"}}"#), "quantity:"),
            (format!(r#"{{{base},"quantity":0}}"#), "quantity:"),
            (format!(r#"{{{base},"quantity":2000000}}"#), "quantity:"),
            (format!(r#"{{{base},"quantity":-1}}"#), "quantity:"),
            (
                format!(r#"{{{base},"metadata":{{"a":{{"b":1}}}}}}"#),
                "metadata",
            ),
            (
                format!(r#"{{{base},"metadata":{{"k":"{}"}}}}"#, "x".repeat(501)),
                "metadata.k:",
            ),
            (format!(r#"{{{base},"metadata":{{"":"x"}}}}"#), "metadata:"),
            (
                format!(r#"{{{base},"metadata":{{"checkout_gateway_attempt":"x"}}}}"#),
                "metadata.checkout_gateway_attempt:",
            ),
            (format!(r#"{{{base},"customer":""}}"#), "customer:"),
            (
                format!(r#"{{{base},"plan":"{}"}}"#, "p".repeat(300)),
                "plan:",
            ),
            (
                format!(r#"{{{base},"success_url":"http://shop.example/ok"}}"#),
                "success_url:",
            ),
            (
                format!(r#"{{{base},"cancel_url":"javascript:alert(1)"}}"#),
                "cancel_url:",
            ),
            (
                format!(r#"{{{base},"cancel_url":"/relative"}}"#),
                "cancel_url:",
            ),
            (
                format!(r#"{{{base},"success_url":"https://user:pw@shop.example/"}}"#),
                "success_url:",
            ),
            (
                format!(
                    r#"{{{base},"success_url":"https://x/{}"}}"#,
                    "a".repeat(2100)
                ),
                "success_url:",
            ),
            (
                format!(r#"{{{base},"expires_at":"2001-01-01T00:00:00Z"}}"#),
                "expires_at:",
            ),
            (
                format!(r#"{{{base},"expires_at":"tomorrow"}}"#),
                "expires_at:",
            ),
            (
                format!(r#"{{{base},"provider_options":[1]}}"#),
                "provider_options:",
            ),
            (
                format!(r#"{{{base},"colour":"red"}}"#),
                "colour: unknown field",
            ),
            (
                r#"{"provider":"meteroid","account":"Default"}"#.to_owned(),
                "account:",
            ),
            (r#"{"account":"default"}"#.to_owned(), "provider:"),
            (r#"{"provider":"meteroid"}"#.to_owned(), "account:"),
            (
                r#"{"provider":"meteroid""#.to_owned(),
                "body is not valid JSON",
            ),
        ] {
            let message = err(&body);
            assert!(message.starts_with(starts), "{body}\n→ {message}");
        }
        let nested = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(err(&format!(
            r#"{{{base},"provider_options":{{"x":{nested}}}}}"#
        ))
        .contains("recursion limit"));
    }

    const BASE: &str = r#""provider":"zenskar","account":"default""#;

    #[test]
    fn trailing_data_after_the_body_is_refused() {
        let body = format!("{{{BASE}}}");
        for tail in [" trailing garbage {{{", "{}", " 1", "x", "\u{0}", "]"] {
            let message = err(&format!("{body}{tail}"));
            assert!(
                message.starts_with("body: trailing data after the JSON body"),
                "{tail:?} → {message}"
            );
        }
        // Whitespace after the value is not data.
        assert!(parse_create(format!("{body} \n\t\r\n").as_bytes(), false).is_ok());
    }

    #[test]
    fn redirect_urls_must_be_canonical_absolute_https() {
        let bad = [
            "https:evil.example/ok",
            "https:/evil.example/ok",
            "https:///ok",
            "https://",
            "https://?x=1",
            "https://#f",
            r"https://a\@evil.com/x",
            r"https://evil.example\ok",
            r"https:\\evil.example/ok",
            "https://shop.example/o\rk",
            "https://shop.example/o\nk",
            "https://shop.example/\u{0}",
            "https://shop.example/\u{85}",
            "https://shop.example/a b",
            " https://shop.example/",
            "https://shop.example\t/",
            "https://user@shop.example/",
            "https://user:pass@shop.example/",
            "https://:pass@shop.example/",
            "https://a@b@shop.example/",
            "https://%65vil.example/",
            "https://0x7f.1/",
            "https://shop.example:/",
            "https://shop.example:99999/",
            "https://shop.example:8x/",
            "https://bücher.example/",
            "ftp://shop.example/",
            "//shop.example/",
        ];
        for url in bad {
            for field in ["success_url", "cancel_url"] {
                let body =
                    serde_json::json!({"provider": "zenskar", "account": "default", field: url});
                let message = err(&body.to_string());
                assert!(
                    message.starts_with(&format!("{field}:")),
                    "{url:?} → {message}"
                );
            }
            let body = serde_json::json!({"provider": "zenskar", "account": "default",
                "provider_options": {"pending_url": url}});
            let message = err(&body.to_string());
            assert!(
                message.starts_with("provider_options.pending_url:"),
                "{url:?} → {message}"
            );
        }
        let body = serde_json::json!({"provider": "zenskar", "account": "default",
            "provider_options": {"pending_url": "http://user:pass@evil.example/x"}});
        assert!(err(&body.to_string()).starts_with("provider_options.pending_url:"));
        for good in [
            "https://shop.example/ok",
            "https://shop.example",
            "HTTPS://Shop.Example/ok",
            "https://shop.example:8443/ok?x=1&y=%20#frag",
            "https://shop.example:443/",
            "https://127.0.0.1/ok",
            "https://[2001:db8::1]:8443/ok",
            "https://xn--bcher-kva.example/ok",
            "https://shop.example/ok?checkout={{.CheckoutID}}",
        ] {
            let body = serde_json::json!({"provider": "zenskar", "account": "default",
                "success_url": good, "cancel_url": good, "provider_options": {"pending_url": good}});
            let r = parse_create(body.to_string().as_bytes(), false);
            assert!(r.is_ok(), "{good}: {:?}", r.err());
        }
        // Only the demo admits http, and only to localhost, still without credentials.
        for (url, demo_ok) in [
            ("http://localhost:3000/ok", true),
            ("http://127.0.0.1/ok", true),
            ("http://user:pw@localhost/ok", false),
            ("http:localhost/ok", false),
            ("http://shop.example/ok", false),
        ] {
            let body = serde_json::json!({"provider": "zenskar", "account": "default",
                "provider_options": {"pending_url": url}});
            assert_eq!(
                parse_create(body.to_string().as_bytes(), true).is_ok(),
                demo_ok,
                "{url}"
            );
            assert!(parse_create(body.to_string().as_bytes(), false).is_err());
        }
    }

    #[test]
    fn duplicate_keys_are_refused_at_every_depth() {
        for (inner, expected) in [
            (
                r#""metadata":{"x":"1","x":"2"}"#,
                r#"metadata: duplicate key "x""#,
            ),
            (
                r#""metadata":{"x":"1","\u0078":"2"}"#,
                r#"metadata: duplicate key "x""#,
            ),
            (
                r#""provider_options":{"currency":"USD","currency":"EUR"}"#,
                r#"provider_options: duplicate key "currency""#,
            ),
            (
                r#""provider_options":{"contract":{"a":{"b":1,"b":2}}}"#,
                r#"provider_options.contract.a: duplicate key "b""#,
            ),
            (
                r#""provider_options":{"product_overrides":[{"id":1},{"id":1,"id":2}]}"#,
                r#"provider_options.product_overrides[1]: duplicate key "id""#,
            ),
            (r#""account":"default""#, "body: duplicate field `account`"),
        ] {
            let message = err(&format!("{{{BASE},{inner}}}"));
            assert!(
                message.starts_with(expected) && message.contains(" at line 1 column "),
                "{inner} → {message}"
            );
        }
        let distinct = format!(
            r#"{{{BASE},"metadata":{{"x":"1","X":"2"}},"provider_options":{{"a":{{"x":1}},"b":{{"x":1}}}}}}"#
        );
        assert!(parse_create(distinct.as_bytes(), false).is_ok());
    }

    #[test]
    fn good_bodies_pass_and_localhost_only_in_the_demo() {
        let ok = r#"{"provider":"frontier","account":"default","customer":"org","plan":"p","quantity":1,
            "success_url":"https://shop.example/ok?checkout={{.CheckoutID}}","metadata":{"order":"1","n":2,"paid":false}}"#;
        assert!(parse_create(ok.as_bytes(), false).is_ok());
        let local = r#"{"provider":"meteroid","account":"default","success_url":"http://localhost:3000/ok"}"#;
        assert!(parse_create(local.as_bytes(), false).is_err());
        assert!(parse_create(local.as_bytes(), true).is_ok());
    }
}
