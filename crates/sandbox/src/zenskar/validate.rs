//! Request validation the way Zenskar's FastAPI/pydantic layer reports it:
//! every problem collected, each as `{loc, msg, type[, ctx]}`, answered
//! together as one 422 (vendor notes §2.8; the messages are pydantic v1's).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// One step of a `loc`: a key or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Loc {
    Key(String),
    Index(usize),
}

impl From<&str> for Loc {
    fn from(s: &str) -> Loc {
        Loc::Key(s.to_owned())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Issue {
    pub loc: Vec<Loc>,
    pub msg: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ctx: Option<Value>,
}

/// Collected problems; empty means valid.
#[derive(Debug, Default)]
pub struct Issues(pub Vec<Issue>);

impl Issues {
    pub fn push(&mut self, loc: &[Loc], msg: impl Into<String>, kind: &str, ctx: Option<Value>) {
        self.0.push(Issue {
            loc: loc.to_vec(),
            msg: msg.into(),
            kind: kind.to_owned(),
            ctx,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `loc` plus one key.
pub fn at(loc: &[Loc], key: &str) -> Vec<Loc> {
    let mut out = loc.to_vec();
    out.push(Loc::Key(key.to_owned()));
    out
}

/// An object's fields, read one by one with pydantic's messages.
pub struct Fields<'a> {
    map: &'a Map<String, Value>,
    loc: Vec<Loc>,
}

impl<'a> Fields<'a> {
    /// `value` must be an object (`type_error.dict` otherwise).
    pub fn of(value: &'a Value, loc: &[Loc], issues: &mut Issues) -> Option<Fields<'a>> {
        match value.as_object() {
            Some(map) => Some(Fields {
                map,
                loc: loc.to_vec(),
            }),
            None => {
                issues.push(loc, "value is not a valid dict", "type_error.dict", None);
                None
            }
        }
    }

    pub fn loc(&self, key: &str) -> Vec<Loc> {
        at(&self.loc, key)
    }

    /// Present and not null.
    pub fn opt(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// Required: missing is `value_error.missing`, null `type_error.none.not_allowed`.
    pub fn req(&self, key: &str, issues: &mut Issues) -> Option<&'a Value> {
        match self.map.get(key) {
            None => {
                issues.push(
                    &self.loc(key),
                    "field required",
                    "value_error.missing",
                    None,
                );
                None
            }
            Some(Value::Null) => {
                issues.push(
                    &self.loc(key),
                    "none is not an allowed value",
                    "type_error.none.not_allowed",
                    None,
                );
                None
            }
            Some(v) => Some(v),
        }
    }

    pub fn opt_with<T>(
        &self,
        key: &str,
        issues: &mut Issues,
        read: impl Fn(&Value, &[Loc], &mut Issues) -> Option<T>,
    ) -> Option<T> {
        let v = self.opt(key)?;
        read(v, &self.loc(key), issues)
    }

    pub fn req_with<T>(
        &self,
        key: &str,
        issues: &mut Issues,
        read: impl Fn(&Value, &[Loc], &mut Issues) -> Option<T>,
    ) -> Option<T> {
        let v = self.req(key, issues)?;
        read(v, &self.loc(key), issues)
    }
}

pub fn uuid(v: &Value, loc: &[Loc], issues: &mut Issues) -> Option<Uuid> {
    let parsed = v.as_str().and_then(|s| Uuid::parse_str(s).ok());
    if parsed.is_none() {
        issues.push(loc, "value is not a valid uuid", "type_error.uuid", None);
    }
    parsed
}

pub fn string(v: &Value, loc: &[Loc], issues: &mut Issues) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        _ => {
            issues.push(loc, "str type expected", "type_error.str", None);
            None
        }
    }
}

/// A string of at most `max` characters.
pub fn bounded(max: usize) -> impl Fn(&Value, &[Loc], &mut Issues) -> Option<String> {
    move |v, loc, issues| {
        let s = string(v, loc, issues)?;
        if s.chars().count() > max {
            issues.push(
                loc,
                format!("ensure this value has at most {max} characters"),
                "value_error.any_str.max_length",
                Some(json!({ "limit_value": max })),
            );
            return None;
        }
        Some(s)
    }
}

pub fn boolean(v: &Value, loc: &[Loc], issues: &mut Issues) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        _ => {
            issues.push(
                loc,
                "value could not be parsed to a boolean",
                "type_error.bool",
                None,
            );
            None
        }
    }
}

pub fn dict(v: &Value, loc: &[Loc], issues: &mut Issues) -> Option<Map<String, Value>> {
    match v {
        Value::Object(m) => Some(m.clone()),
        _ => {
            issues.push(loc, "value is not a valid dict", "type_error.dict", None);
            None
        }
    }
}

pub fn list<'a>(v: &'a Value, loc: &[Loc], issues: &mut Issues) -> Option<&'a Vec<Value>> {
    match v {
        Value::Array(a) => Some(a),
        _ => {
            issues.push(loc, "value is not a valid list", "type_error.list", None);
            None
        }
    }
}

pub fn non_negative_int(v: &Value, loc: &[Loc], issues: &mut Issues) -> Option<u64> {
    match v.as_i64() {
        Some(n) if n >= 0 => u64::try_from(n).ok(),
        Some(_) => {
            issues.push(
                loc,
                "ensure this value is greater than or equal to 0",
                "value_error.number.not_ge",
                Some(json!({"limit_value": 0})),
            );
            None
        }
        None => {
            issues.push(
                loc,
                "value is not a valid integer",
                "type_error.integer",
                None,
            );
            None
        }
    }
}

/// ISO 8601, naive (taken as UTC) or zoned.
pub fn datetime(v: &Value, loc: &[Loc], issues: &mut Issues) -> Option<DateTime<Utc>> {
    let parsed = v.as_str().and_then(parse_datetime);
    if parsed.is_none() {
        issues.push(loc, "invalid datetime format", "value_error.datetime", None);
    }
    parsed
}

/// A date, or a datetime (the docs' own samples send datetimes for dates).
pub fn date_or_datetime(v: &Value, loc: &[Loc], issues: &mut Issues) -> Option<DateTime<Utc>> {
    let parsed = v.as_str().and_then(|s| {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|n| n.and_utc())
            .or_else(|| parse_datetime(s))
    });
    if parsed.is_none() {
        issues.push(loc, "invalid date format", "value_error.date", None);
    }
    parsed
}

fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.to_utc());
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|n| n.and_utc())
}

/// pydantic's `AnyHttpUrl` with the documented 1–2083 length.
pub fn http_url(v: &Value, loc: &[Loc], issues: &mut Issues) -> Option<String> {
    let s = string(v, loc, issues)?;
    let len = s.chars().count();
    if len < 1 {
        issues.push(
            loc,
            "ensure this value has at least 1 characters",
            "value_error.any_str.min_length",
            Some(json!({"limit_value": 1})),
        );
        return None;
    }
    if len > 2083 {
        issues.push(
            loc,
            "ensure this value has at most 2083 characters",
            "value_error.any_str.max_length",
            Some(json!({"limit_value": 2083})),
        );
        return None;
    }
    let Some((scheme, rest)) = s.split_once("://") else {
        issues.push(
            loc,
            "invalid or missing URL scheme",
            "value_error.url.scheme",
            None,
        );
        return None;
    };
    if !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https") {
        issues.push(
            loc,
            "URL scheme not permitted",
            "value_error.url.scheme",
            Some(json!({"allowed_schemes": ["http", "https"]})),
        );
        return None;
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit('@').next().unwrap_or_default();
    let valid_host = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    if !valid_host {
        issues.push(loc, "URL host invalid", "value_error.url.host", None);
        return None;
    }
    Some(s)
}

/// One of `allowed` (`type_error.enum` otherwise).
pub fn one_of(
    allowed: &'static [&'static str],
) -> impl Fn(&Value, &[Loc], &mut Issues) -> Option<&'static str> {
    move |v, loc, issues| {
        let found = v
            .as_str()
            .and_then(|s| allowed.iter().copied().find(|a| *a == s));
        if found.is_none() {
            let permitted: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
            issues.push(
                loc,
                format!(
                    "value is not a valid enumeration member; permitted: {}",
                    permitted.join(", ")
                ),
                "type_error.enum",
                Some(json!({ "enum_values": allowed })),
            );
        }
        found
    }
}

/// An ISO 4217-shaped code (`constr(regex=^[A-Z]{3}$)`).
pub fn currency(v: &Value, loc: &[Loc], issues: &mut Issues) -> Option<String> {
    let s = string(v, loc, issues)?;
    if s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()) {
        Some(s)
    } else {
        issues.push(
            loc,
            "string does not match regex \"^[A-Z]{3}$\"",
            "value_error.str.regex",
            Some(json!({"pattern": "^[A-Z]{3}$"})),
        );
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_locations() {
        let body = json!({"a": null, "u": "nope", "url": "shop.example/ok", "n": -1});
        let mut issues = Issues::default();
        let f = Fields::of(&body, &["body".into()], &mut issues).expect("object");
        f.req("a", &mut issues);
        f.req("missing", &mut issues);
        f.opt_with("u", &mut issues, uuid);
        f.opt_with("url", &mut issues, http_url);
        f.opt_with("n", &mut issues, non_negative_int);
        let v = serde_json::to_value(&issues.0).expect("json");
        assert_eq!(v[0]["type"], "type_error.none.not_allowed");
        assert_eq!(
            v[1],
            json!({"loc": ["body", "missing"], "msg": "field required", "type": "value_error.missing"})
        );
        assert_eq!(v[2]["msg"], "value is not a valid uuid");
        assert_eq!(v[3]["type"], "value_error.url.scheme");
        assert_eq!(v[4]["ctx"], json!({"limit_value": 0}));
    }

    #[test]
    fn urls_dates_and_enums() {
        let mut issues = Issues::default();
        let loc = [Loc::from("body")];
        assert!(http_url(&json!("https://shop.example/ok?x=1"), &loc, &mut issues).is_some());
        assert!(http_url(&json!("ftp://shop.example"), &loc, &mut issues).is_none());
        assert!(http_url(&json!("https:///path"), &loc, &mut issues).is_none());
        assert!(date_or_datetime(&json!("2026-03-01"), &loc, &mut issues).is_some());
        assert!(date_or_datetime(&json!("2026-03-01T00:00:00Z"), &loc, &mut issues).is_some());
        assert!(datetime(&json!("2026-03-01T10:00:00.5"), &loc, &mut issues).is_some());
        assert!(datetime(&json!("2026-03-01"), &loc, &mut issues).is_none());
        assert_eq!(
            one_of(&["a", "b"])(&json!("b"), &loc, &mut issues),
            Some("b")
        );
        assert!(one_of(&["a", "b"])(&json!("c"), &loc, &mut issues).is_none());
        let last = issues.0.last().expect("issue");
        assert_eq!(
            last.msg,
            "value is not a valid enumeration member; permitted: 'a', 'b'"
        );
    }
}
