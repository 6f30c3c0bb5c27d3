//! What `record` does to a live vendor answer before it becomes a fixture:
//! the account's credentials (the scrubber the vendor client uses, in any
//! position and any encoding it knows), emails (by key, and wherever one
//! is written in a text), personal names (`first_name`, `customerName`, …
//! everywhere; a plain `name` in an object about a person: a customer, an
//! address, one with an email), phone numbers, address lines and postal
//! codes, secrets by their key, JWTs, and the tokens in URLs (userinfo,
//! token-like path segments, query values and fragments) become
//! placeholders. Ids, statuses, amounts and times stay: they are what a
//! fixture is for. A path segment equal to an id of the answer (an `id` or
//! `…_id` field) is an id, not a token.
//!
//! Pure, and faithful to the vendor's bytes where nothing is redacted:
//! keys keep their order and every number its text (a fixture of `29.990`
//! stays `29.990`); the output is pretty-printed.

use std::collections::HashSet;

use bytes::Bytes;
use vendor_http::Scrubber;

/// Why an answer could not be made into a fixture.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RedactError {
    #[error("the answer holds a credential that could not be masked in place")]
    Unmaskable,
    #[error("the answer is not JSON (at byte {0})")]
    NotJson(usize),
    #[error("the answer nests deeper than {MAX_DEPTH} levels")]
    TooDeep,
}

pub const NAME: &str = "Redacted Name";
pub const EMAIL: &str = "redacted@example.com";
pub const REDACTED: &str = "redacted";

/// Deeper than any vendor answer (serde_json, which read it first, stops at 128).
const MAX_DEPTH: usize = 128;

/// Shortest opaque text taken for a token (ids of the vendors are shorter
/// or are ids of the answer).
const MIN_TOKEN_LEN: usize = 32;

/// `raw` (a vendor's JSON answer) redacted and pretty-printed.
pub fn redact(raw: &str, scrubber: &Scrubber) -> Result<String, RedactError> {
    let scrubbed = scrubber.scrub(Bytes::copy_from_slice(raw.as_bytes()));
    let text = std::str::from_utf8(&scrubbed).map_err(|_| RedactError::Unmaskable)?;
    let mut parser = Parser { s: text, at: 0 };
    let tree = parser.value(0)?;
    parser.skip_ws();
    if parser.at != text.len() {
        return Err(RedactError::NotJson(parser.at));
    }
    let mut ids = HashSet::new();
    collect_ids(&tree, None, &mut ids);
    let mut out = String::with_capacity(text.len() * 2);
    let context = Context {
        ids: &ids,
        personal: false,
    };
    write(&tree, None, context, 0, &mut out);
    out.push('\n');
    Ok(out)
}

/// A JSON value, each scalar kept as its text.
enum Node<'a> {
    Object(Vec<(Str<'a>, Node<'a>)>),
    Array(Vec<Node<'a>>),
    String(Str<'a>),
    /// A number, `true`, `false` or `null`, verbatim.
    Scalar(&'a str),
}

struct Str<'a> {
    /// The token as written, quotes and escapes included.
    raw: &'a str,
    /// What it says.
    text: String,
}

struct Parser<'a> {
    s: &'a str,
    at: usize,
}

impl<'a> Parser<'a> {
    fn skip_ws(&mut self) {
        while self
            .s
            .as_bytes()
            .get(self.at)
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.at += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.at).copied()
    }

    fn expect(&mut self, byte: u8) -> Result<(), RedactError> {
        self.skip_ws();
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(RedactError::NotJson(self.at))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node<'a>, RedactError> {
        if depth > MAX_DEPTH {
            return Err(RedactError::TooDeep);
        }
        self.skip_ws();
        match self.peek() {
            Some(b'{') => {
                self.at += 1;
                let mut members = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b'}') {
                    self.at += 1;
                    return Ok(Node::Object(members));
                }
                loop {
                    self.skip_ws();
                    let key = self.string()?;
                    self.expect(b':')?;
                    members.push((key, self.value(depth + 1)?));
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.at += 1,
                        Some(b'}') => {
                            self.at += 1;
                            return Ok(Node::Object(members));
                        }
                        _ => return Err(RedactError::NotJson(self.at)),
                    }
                }
            }
            Some(b'[') => {
                self.at += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.at += 1;
                    return Ok(Node::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.at += 1,
                        Some(b']') => {
                            self.at += 1;
                            return Ok(Node::Array(items));
                        }
                        _ => return Err(RedactError::NotJson(self.at)),
                    }
                }
            }
            Some(b'"') => self.string().map(Node::String),
            Some(_) => {
                let start = self.at;
                while self.peek().is_some_and(|b| {
                    !matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')
                }) {
                    self.at += 1;
                }
                let token = &self.s[start..self.at];
                // Checked, not trusted: a number or a literal, as JSON writes them.
                serde_json::from_str::<serde_json::Value>(token)
                    .ok()
                    .filter(|v| !v.is_string() && !v.is_array() && !v.is_object())
                    .map(|_| Node::Scalar(token))
                    .ok_or(RedactError::NotJson(start))
            }
            None => Err(RedactError::NotJson(self.at)),
        }
    }

    fn string(&mut self) -> Result<Str<'a>, RedactError> {
        let start = self.at;
        if self.peek() != Some(b'"') {
            return Err(RedactError::NotJson(start));
        }
        self.at += 1;
        loop {
            match self.peek() {
                Some(b'\\') => self.at += 2,
                Some(b'"') => {
                    self.at += 1;
                    break;
                }
                Some(_) => self.at += 1,
                None => return Err(RedactError::NotJson(start)),
            }
        }
        let raw = self
            .s
            .get(start..self.at)
            .ok_or(RedactError::NotJson(start))?;
        let text = serde_json::from_str::<String>(raw).map_err(|_| RedactError::NotJson(start))?;
        Ok(Str { raw, text })
    }
}

/// A key, lower case, without `_` and `-` (`customer_name`, `customerName`
/// and `customer-name` alike).
fn folded(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// `id`, `customer_id`, `customerId`, `customer-id`.
fn is_id_key(key: &str) -> bool {
    key.eq_ignore_ascii_case("id")
        || key.ends_with("_id")
        || key.ends_with("-id")
        || key.ends_with("Id")
}

fn collect_ids(node: &Node<'_>, key: Option<&str>, ids: &mut HashSet<String>) {
    match node {
        Node::Object(members) => {
            for (k, v) in members {
                collect_ids(v, Some(&k.text), ids);
            }
        }
        Node::Array(items) => items.iter().for_each(|i| collect_ids(i, key, ids)),
        Node::String(s) if key.is_some_and(is_id_key) && !s.text.is_empty() => {
            ids.insert(s.text.clone());
        }
        _ => {}
    }
}

/// What a value's place says about it.
#[derive(Clone, Copy)]
struct Context<'a> {
    /// The answer's ids: never a token.
    ids: &'a HashSet<String>,
    /// Inside an object about a person (a customer, a billing address…, or
    /// one with an email): its plain `name` is theirs, not a product's.
    personal: bool,
}

/// Keys whose object is about a person.
const PERSONAL: [&str; 11] = [
    "customer",
    "billing",
    "shipping",
    "address",
    "contact",
    "owner",
    "user",
    "person",
    "cardholder",
    "payer",
    "buyer",
];

fn write(node: &Node<'_>, key: Option<&str>, cx: Context<'_>, depth: usize, out: &mut String) {
    let indent = |out: &mut String, depth: usize| out.extend(std::iter::repeat_n("  ", depth));
    match node {
        Node::Object(members) if members.is_empty() => out.push_str("{}"),
        Node::Array(items) if items.is_empty() => out.push_str("[]"),
        Node::Object(members) => {
            let key = key.map(folded).unwrap_or_default();
            let personal = cx.personal
                || PERSONAL.iter().any(|p| key.contains(p))
                || members
                    .iter()
                    .any(|(k, _)| folded(&k.text).ends_with("email"));
            let cx = Context { personal, ..cx };
            out.push_str("{\n");
            for (i, (k, v)) in members.iter().enumerate() {
                indent(out, depth + 1);
                out.push_str(k.raw);
                out.push_str(": ");
                write(v, Some(&k.text), cx, depth + 1, out);
                out.push_str(if i + 1 < members.len() { ",\n" } else { "\n" });
            }
            indent(out, depth);
            out.push('}');
        }
        Node::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                indent(out, depth + 1);
                write(item, key, cx, depth + 1, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            indent(out, depth);
            out.push(']');
        }
        Node::String(s) => match replacement(key, &s.text, cx) {
            Some(new) => out.push_str(&serde_json::Value::String(new).to_string()),
            None => out.push_str(s.raw),
        },
        Node::Scalar(token) => out.push_str(token),
    }
}

/// What a string under `key` becomes, if it changes.
fn replacement(key: Option<&str>, text: &str, cx: Context<'_>) -> Option<String> {
    if text.is_empty() {
        return None;
    }
    let ids = cx.ids;
    let k = key.map(folded).unwrap_or_default();
    const NAMES: [&str; 11] = [
        "firstname",
        "lastname",
        "fullname",
        "middlename",
        "givenname",
        "familyname",
        "displayname",
        "customername",
        "billingname",
        "contactname",
        "cardholdername",
    ];
    const ADDRESS: [&str; 11] = [
        "line1",
        "line2",
        "line3",
        "addressline1",
        "addressline2",
        "street",
        "streetaddress",
        "postalcode",
        "postcode",
        "zipcode",
        "zip",
    ];
    if NAMES.contains(&k.as_str()) || (k == "name" && cx.personal) {
        return Some(NAME.to_owned());
    }
    if k.ends_with("email") {
        return Some(EMAIL.to_owned());
    }
    if k.contains("phone") || ADDRESS.contains(&k.as_str()) || is_secret_key(&k) || is_jwt(text) {
        return Some(REDACTED.to_owned());
    }
    let lower = text.to_ascii_lowercase();
    let redacted = if lower.starts_with("https://") || lower.starts_with("http://") {
        redact_url(text, ids)
    } else {
        redact_emails(text)
    };
    (redacted != text).then_some(redacted)
}

fn is_secret_key(folded: &str) -> bool {
    const SECRETS: [&str; 7] = [
        "token",
        "secret",
        "password",
        "apikey",
        "jwt",
        "signature",
        "authorization",
    ];
    SECRETS.contains(&folded)
        || ["token", "secret", "password"]
            .iter()
            .any(|s| folded.ends_with(s))
}

fn is_jwt(text: &str) -> bool {
    text.starts_with("eyJ") && text.matches('.').count() == 2 && text.len() > 20
}

fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Opaque text long enough to be a credential, that is not an id of the answer.
fn is_token(text: &str, ids: &HashSet<String>) -> bool {
    if text.is_empty() || ids.contains(text) {
        return false;
    }
    if is_jwt(text) {
        return true;
    }
    text.len() >= MIN_TOKEN_LEN
        && !is_uuid(text)
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~+/=%".contains(&b))
        && text.bytes().any(|b| b.is_ascii_digit())
        && text.bytes().any(|b| b.is_ascii_alphabetic())
}

/// `k=v&…` with each secret value replaced.
fn redact_pairs(query: &str, ids: &HashSet<String>) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => {
                let secret = is_secret_key(&folded(k))
                    || is_token(v, ids)
                    || v.contains('@')
                    || v.to_ascii_lowercase().contains("%40");
                if secret && !v.is_empty() {
                    format!("{k}={REDACTED}")
                } else {
                    pair.to_owned()
                }
            }
            None if is_token(pair, ids) => REDACTED.to_owned(),
            None => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// An absolute URL with its credentials and tokens replaced.
fn redact_url(url: &str, ids: &HashSet<String>) -> String {
    let (rest, fragment) = match url.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (url, None),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let Some((scheme, after)) = rest.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = match after.find('/') {
        Some(at) => after.split_at(at),
        None => (after, ""),
    };
    let mut out = format!("{scheme}://");
    match authority.rsplit_once('@') {
        Some((_, host)) => {
            out.push_str(REDACTED);
            out.push('@');
            out.push_str(host);
        }
        None => out.push_str(authority),
    }
    let path = path
        .split('/')
        .map(|segment| {
            if is_token(segment, ids) {
                REDACTED.to_owned()
            } else {
                redact_emails(segment)
            }
        })
        .collect::<Vec<_>>()
        .join("/");
    out.push_str(&path);
    if let Some(query) = query {
        out.push('?');
        out.push_str(&redact_pairs(query, ids));
    }
    if let Some(fragment) = fragment {
        out.push('#');
        if fragment.contains('=') {
            out.push_str(&redact_pairs(fragment, ids));
        } else if is_token(fragment, ids) || fragment.len() >= MIN_TOKEN_LEN {
            out.push_str(REDACTED);
        } else {
            out.push_str(fragment);
        }
    }
    out
}

/// Every `local@domain.tld` in `text` replaced.
fn redact_emails(text: &str) -> String {
    if !text.contains('@') {
        return text.to_owned();
    }
    let is_local = |c: char| c.is_alphanumeric() || "._%+-!#$&'*/=?^`{|}~".contains(c);
    let is_domain = |c: char| c.is_alphanumeric() || c == '.' || c == '-';
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '@' {
            let mut start = i;
            while start > 0 && is_local(chars[start - 1]) {
                start -= 1;
            }
            let mut end = i + 1;
            while end < chars.len() && is_domain(chars[end]) {
                end += 1;
            }
            let domain: String = chars[i + 1..end].iter().collect();
            let domain = domain.trim_end_matches('.');
            let local_len = i - start;
            if local_len > 0 && domain.contains('.') && !domain.starts_with('.') {
                // Drop the local part already copied, write the placeholder.
                for _ in 0..local_len {
                    out.pop();
                }
                out.push_str(EMAIL);
                // Keep a sentence's closing dot.
                i = i + 1 + domain.chars().count();
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> Scrubber {
        Scrubber::new(std::iter::empty::<&[u8]>())
    }

    fn redacted(raw: &str) -> serde_json::Value {
        let out = redact(raw, &none()).expect("redacts");
        serde_json::from_str(&out).expect("still JSON")
    }

    #[test]
    fn keeps_order_numbers_ids_statuses_and_times() {
        let raw = r#"{"session":{"id":"che_1","status":"CREATED","total":29.990,"big":12345678901234567890,
                     "created_at":"2026-11-17T10:14:52.260718Z","ok":true,"none":null,"list":[],"obj":{}}}"#;
        let out = redact(raw, &none()).unwrap();
        assert_eq!(
            out,
            "{\n  \"session\": {\n    \"id\": \"che_1\",\n    \"status\": \"CREATED\",\n    \"total\": 29.990,\n    \"big\": 12345678901234567890,\n    \"created_at\": \"2026-11-17T10:14:52.260718Z\",\n    \"ok\": true,\n    \"none\": null,\n    \"list\": [],\n    \"obj\": {}\n  }\n}\n"
        );
    }

    #[test]
    fn emails_anywhere_even_nested_in_arrays() {
        let v = redacted(
            r#"{"customerEmail":"ada@example.org","contacts":[["ops@acme.io",{"note":"write to bob.s@x.co.uk."}]],
                "billingAddress":{"email":"kai.ng@example.com"},"not":"a @ sign","at":"@handle"}"#,
        );
        assert_eq!(v["customerEmail"], EMAIL);
        assert_eq!(v["contacts"][0][0], EMAIL);
        assert_eq!(v["contacts"][0][1]["note"], format!("write to {EMAIL}."));
        assert_eq!(v["billingAddress"]["email"], EMAIL);
        assert_eq!(
            (v["not"].as_str(), v["at"].as_str()),
            (Some("a @ sign"), Some("@handle"))
        );
    }

    #[test]
    fn personal_names_phones_and_addresses_by_key() {
        let v = redacted(
            r#"{"customer_name":"Fjord Studio AS","customerName":"Ada","billingAddress":{"firstName":"Kai",
                "lastName":"Ng","address":{"name":"Kai Ng","line1":"88 Queen St","city":"Auckland",
                "postal_code":"1010","country":"NZ"}},"phone":"+47 55 00 00 00","name":"","status":"open"}"#,
        );
        assert_eq!(v["customer_name"], NAME);
        assert_eq!(v["customerName"], NAME);
        assert_eq!(v["billingAddress"]["firstName"], NAME);
        assert_eq!(v["billingAddress"]["lastName"], NAME);
        let address = &v["billingAddress"]["address"];
        assert_eq!(
            (address["name"].as_str(), address["line1"].as_str()),
            (Some(NAME), Some(REDACTED))
        );
        assert_eq!(
            (address["postal_code"].as_str(), address["city"].as_str()),
            (Some(REDACTED), Some("Auckland"))
        );
        assert_eq!(v["phone"], REDACTED);
        assert_eq!(v["name"], "", "an empty value stays empty");
        assert_eq!(v["status"], "open");
        // A plain `name` is a person's only where the object is about one.
        let v = redacted(
            r#"{"line_items":[{"name":"Team Monthly"}],"customer":{"name":"Ada"},
                "contact":[{"name":"Bob"}],"payer":{"email":"","name":"Eve"},"x":{"name":"Widget","e_mail":"z@z.io"}}"#,
        );
        assert_eq!(v["line_items"][0]["name"], "Team Monthly");
        assert_eq!(v["customer"]["name"], NAME);
        assert_eq!(v["contact"][0]["name"], NAME);
        assert_eq!(v["payer"]["name"], NAME);
        assert_eq!(v["x"]["name"], NAME, "beside an email");
    }

    #[test]
    fn url_tokens_go_ids_stay() {
        let v = redacted(
            r#"{"id":"chckt_session_BSr5TRk8jK4x58f6FE8du","url":"https://app.flowglad.com/checkout/chckt_session_BSr5TRk8jK4x58f6FE8du",
                "checkout_url":"https://app.meteroid.com/checkout?token=eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpYXQiOjE3OTV9.Y5QfShdXOI7MCsDkoXuTd9X1APms91zuv29",
                "stripe":"https://checkout.stripe.com/c/pay/cs_test_a1zz63FfkCzJr4i0B3JrTAwR4y9ojfljoQoaF1Lls#fidkdWxOYHwnPyd1blpxYHZxWjA0SGJdfUBhY2hr",
                "success_url":"https://shop.example/return?checkout_id=be037d6c-6284-4a81-acd3-cead659d9022&lang=en",
                "basic":"https://user:pw@host.example/cb?email=a%40b.example&api_key=abc#access_token=xyz&state=1",
                "jwt":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefghijklmnop"}"#,
        );
        assert_eq!(
            v["url"],
            "https://app.flowglad.com/checkout/chckt_session_BSr5TRk8jK4x58f6FE8du"
        );
        assert_eq!(
            v["checkout_url"],
            "https://app.meteroid.com/checkout?token=redacted"
        );
        assert_eq!(
            v["stripe"],
            "https://checkout.stripe.com/c/pay/redacted#redacted"
        );
        assert_eq!(
            v["success_url"],
            "https://shop.example/return?checkout_id=be037d6c-6284-4a81-acd3-cead659d9022&lang=en"
        );
        assert_eq!(
            v["basic"],
            "https://redacted@host.example/cb?email=redacted&api_key=redacted#access_token=redacted&state=1"
        );
        assert_eq!(v["jwt"], REDACTED);
    }

    #[test]
    fn credentials_in_any_position() {
        let key = "pv_sand_SECRETSECRETSECRETSECRET/tok";
        let header = format!("Bearer {key}");
        let scrubber = Scrubber::new([header.as_bytes()]);
        let raw = format!(
            r#"{{"echo":"{key}","nested":[{{"deep":"prefix {key} suffix"}}],"url":"https://h.example/?k={}","{key}":1}}"#,
            key.replace('/', "%2F")
        );
        let out = redact(&raw, &scrubber).expect("redacts");
        assert!(!out.contains("SECRETSECRET"), "{out}");
        let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
        assert_eq!(v["echo"], "***");
        assert_eq!(v["nested"][0]["deep"], "prefix *** suffix");
        assert_eq!(v["***"], 1);
    }

    #[test]
    fn refuses_what_is_not_json() {
        assert!(matches!(
            redact("{\"a\":", &none()),
            Err(RedactError::NotJson(_))
        ));
        assert!(matches!(
            redact("{\"a\":1} x", &none()),
            Err(RedactError::NotJson(_))
        ));
        assert!(matches!(
            redact("[nope]", &none()),
            Err(RedactError::NotJson(_))
        ));
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert_eq!(redact(&deep, &none()), Err(RedactError::TooDeep));
    }
}
