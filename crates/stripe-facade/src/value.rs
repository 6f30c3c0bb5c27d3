//! Typed reads of decoded form parameters. Every leaf arrives as a string;
//! an empty string is Stripe's "unset", which on a create or a list means
//! "not given".

use serde_json::{Map, Value};

use crate::ParamError;

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "an object",
        Value::Array(_) => "an array",
        _ => "a string",
    }
}

/// A string parameter; `None` when empty.
pub(crate) fn string<'a>(param: &str, v: &'a Value) -> Result<Option<&'a str>, ParamError> {
    match v {
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s)),
        other => Err(ParamError::new(
            param,
            format!(
                "Invalid string: `{param}` must be a string, not {}",
                kind(other)
            ),
        )),
    }
}

/// An integer parameter; `None` when empty.
pub(crate) fn integer(param: &str, v: &Value) -> Result<Option<i64>, ParamError> {
    let Some(text) = string(param, v)? else {
        return Ok(None);
    };
    text.parse::<i64>()
        .map(Some)
        .map_err(|_| ParamError::new(param, format!("Invalid integer: {text}")))
}

/// A list of strings (`name[0]=…`, `name[]=…`); empty when `name=`.
pub(crate) fn strings(param: &str, v: &Value) -> Result<Vec<String>, ParamError> {
    match v {
        Value::String(s) if s.is_empty() => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) if !s.is_empty() => Ok(s.clone()),
                _ => Err(ParamError::new(
                    format!("{param}[{i}]"),
                    format!("Invalid string: `{param}[{i}]` must be a non-empty string"),
                )),
            })
            .collect(),
        _ => Err(ParamError::new(
            param,
            format!("Invalid array: give `{param}[0]`, `{param}[1]`, …"),
        )),
    }
}

/// An object parameter (`name[key]=…`); `None` when `name=`.
pub(crate) fn object<'a>(
    param: &str,
    v: &'a Value,
) -> Result<Option<&'a Map<String, Value>>, ParamError> {
    match v {
        Value::String(s) if s.is_empty() => Ok(None),
        Value::Object(map) => Ok(Some(map)),
        other => Err(ParamError::new(
            param,
            format!(
                "Invalid object: `{param}` must be an object (`{param}[key]=…`), not {}",
                kind(other)
            ),
        )),
    }
}
