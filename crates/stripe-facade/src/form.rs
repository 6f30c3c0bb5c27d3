//! Stripe's form encoding, as the SDKs send it in a body or a query string:
//! `a=1&b[c]=2&d[0][e]=3&f[]=x&f[]=y`.
//!
//! - Brackets come literal (stripe-python and stripe-node turn `%5B`/`%5D`
//!   back into `[`/`]`) or percent-encoded (older SDKs, curl); both read
//!   the same. `+` is a space.
//! - Values stay strings (`true`, `42`): the create and list rules type
//!   them. An empty value is kept as `""`: in Stripe's API it unsets.
//! - `name[]` appends to a list; `name[0]`, `name[1]` index one, and the
//!   indexes must count up from 0 without a gap. Under `metadata` digits
//!   are keys (metadata keys are free text), never indexes.
//! - What would make the body mean two things is refused, naming the
//!   parameter: a key given twice, a name used both as a value and as an
//!   object, indexes mixed with names, nesting deeper than
//!   [`MAX_DEPTH`] brackets, more than [`MAX_PAIRS`] pairs, malformed
//!   percent-encoding, bytes that are not UTF-8.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::ParamError;

/// Most `key=value` pairs in one request.
pub const MAX_PAIRS: usize = 1000;
/// Most bracketed levels below a top-level name (`a[1][2]…[8]`).
pub const MAX_DEPTH: usize = 8;

/// Decode a form-encoded body or query string into a JSON object whose
/// leaves are strings.
pub fn decode(input: &[u8]) -> Result<Map<String, Value>, ParamError> {
    let mut root = Node::Names(BTreeMap::new());
    let mut pairs = 0;
    for piece in input.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        pairs += 1;
        if pairs > MAX_PAIRS {
            return Err(ParamError::request(format!(
                "Too many parameters: at most {MAX_PAIRS} are accepted"
            )));
        }
        let (raw_key, raw_value) = match piece.iter().position(|&b| b == b'=') {
            Some(at) => (&piece[..at], &piece[at + 1..]),
            None => (piece, &[][..]),
        };
        let key = unescape(raw_key)
            .map_err(|why| ParamError::request(format!("A parameter name has {why}")))?;
        let path = Path::parse(&key)?;
        let value = unescape(raw_value).map_err(|why| {
            ParamError::new(
                path.shown(),
                format!("The value of `{}` has {why}", path.shown()),
            )
        })?;
        insert(&mut root, &path, value)?;
    }
    match root.into_value("")? {
        Value::Object(top) => Ok(top),
        // The top level is built from names only.
        _ => Ok(Map::new()),
    }
}

/// `+` → space, `%XX` → that byte, then UTF-8.
fn unescape(raw: &[u8]) -> Result<String, &'static str> {
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes.next().and_then(|&h| hex(h));
                let lo = bytes.next().and_then(|&l| hex(l));
                match (hi, lo) {
                    (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                    _ => return Err("malformed percent-encoding"),
                }
            }
            _ => out.push(b),
        }
    }
    String::from_utf8(out).map_err(|_| "bytes that are not UTF-8")
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// One bracketed level of a parameter name.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Name(String),
    Index(usize),
    /// `[]`: append to a list (only at the end of a name).
    Append,
}

/// A parameter name: its top-level name and the levels below it.
#[derive(Debug)]
struct Path {
    root: String,
    below: Vec<Segment>,
}

impl Path {
    fn parse(key: &str) -> Result<Path, ParamError> {
        let malformed = || {
            ParamError::request(format!(
                "Malformed parameter name `{key}`: use `name`, `name[key]`, `name[0]` or `name[]`"
            ))
        };
        let (root, mut rest) = match key.find('[') {
            Some(at) => (&key[..at], &key[at..]),
            None => (key, ""),
        };
        if root.is_empty() || root.contains(']') {
            return Err(malformed());
        }
        let mut path = Path {
            root: root.to_owned(),
            below: Vec::new(),
        };
        let mut parent = root;
        while !rest.is_empty() {
            let inner = rest.strip_prefix('[').ok_or_else(malformed)?;
            let close = inner.find(']').ok_or_else(malformed)?;
            let text = &inner[..close];
            if text.contains('[') {
                return Err(malformed());
            }
            rest = &inner[close + 1..];
            let segment = if text.is_empty() {
                if !rest.is_empty() {
                    return Err(ParamError::new(
                        path.shown(),
                        format!("`{key}`: `[]` may only end a parameter name"),
                    ));
                }
                Segment::Append
            } else if parent != "metadata" && text.bytes().all(|b| b.is_ascii_digit()) {
                let index = text
                    .parse::<usize>()
                    .ok()
                    .filter(|_| text == "0" || !text.starts_with('0'))
                    .ok_or_else(|| {
                        ParamError::new(
                            format!("{}[{text}]", path.shown()),
                            format!("`{key}`: `{text}` is not an index"),
                        )
                    })?;
                Segment::Index(index)
            } else {
                Segment::Name(text.to_owned())
            };
            path.below.push(segment);
            if path.below.len() > MAX_DEPTH {
                return Err(ParamError::new(
                    path.shown(),
                    format!("`{key}` is nested more than {MAX_DEPTH} levels deep"),
                ));
            }
            parent = text;
        }
        Ok(path)
    }

    /// The name as Stripe shows it in `param`: literal brackets.
    fn shown(&self) -> String {
        shown(&self.root, &self.below)
    }
}

fn shown(root: &str, below: &[Segment]) -> String {
    let mut out = root.to_owned();
    for segment in below {
        match segment {
            Segment::Name(name) => out.push_str(&format!("[{name}]")),
            Segment::Index(index) => out.push_str(&format!("[{index}]")),
            Segment::Append => out.push_str("[]"),
        }
    }
    out
}

/// The decoded tree before it becomes JSON: lists are checked only once
/// every pair is in.
#[derive(Debug)]
enum Node {
    Value(String),
    Names(BTreeMap<String, Node>),
    Indexes(BTreeMap<usize, Node>),
    Appended(Vec<String>),
}

impl Node {
    /// The empty container that `next` goes into.
    fn container_for(next: &Segment) -> Node {
        match next {
            Segment::Name(_) => Node::Names(BTreeMap::new()),
            Segment::Index(_) => Node::Indexes(BTreeMap::new()),
            Segment::Append => Node::Appended(Vec::new()),
        }
    }

    /// `shown` is this node's name as Stripe shows it (`""` for the top level).
    fn into_value(self, shown: &str) -> Result<Value, ParamError> {
        Ok(match self {
            Node::Value(s) => Value::String(s),
            Node::Appended(items) => Value::Array(items.into_iter().map(Value::String).collect()),
            Node::Names(children) => Value::Object(
                children
                    .into_iter()
                    .map(|(name, node)| {
                        let value = node.into_value(&child(shown, &name))?;
                        Ok((name, value))
                    })
                    .collect::<Result<Map<_, _>, ParamError>>()?,
            ),
            Node::Indexes(children) => {
                let mut items = Vec::with_capacity(children.len());
                for (expected, (index, node)) in children.into_iter().enumerate() {
                    if index != expected {
                        let missing = format!("{shown}[{expected}]");
                        return Err(ParamError::new(
                            missing.clone(),
                            format!(
                                "`{missing}` is missing: the indexes of `{shown}` must count up from 0 without a gap"
                            ),
                        ));
                    }
                    items.push(node.into_value(&format!("{shown}[{index}]"))?);
                }
                Value::Array(items)
            }
        })
    }
}

/// The name of `name` below `parent` (`""` for the top level).
fn child(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}[{name}]")
    }
}

fn insert(root: &mut Node, path: &Path, value: String) -> Result<(), ParamError> {
    let mut segments = Vec::with_capacity(path.below.len() + 1);
    segments.push(Segment::Name(path.root.clone()));
    segments.extend(path.below.iter().cloned());
    place(root, &segments, 0, path, value)
}

/// Put `value` at `segments[at..]` below `container`, which holds the
/// children of `segments[at - 1]` (the top level for `at == 0`).
fn place(
    container: &mut Node,
    segments: &[Segment],
    at: usize,
    path: &Path,
    value: String,
) -> Result<(), ParamError> {
    let segment = &segments[at];
    let last = at + 1 == segments.len();
    let below = &path.below[..at];
    let slot: &mut Node = match (container, segment) {
        (Node::Appended(items), Segment::Append) => {
            items.push(value);
            return Ok(());
        }
        (Node::Names(children), Segment::Name(name)) => {
            if last {
                if children.contains_key(name) {
                    return Err(twice(path, below));
                }
                children.insert(name.clone(), Node::Value(value));
                return Ok(());
            }
            children
                .entry(name.clone())
                .or_insert_with(|| Node::container_for(&segments[at + 1]))
        }
        (Node::Indexes(children), Segment::Index(index)) => {
            if last {
                if children.contains_key(index) {
                    return Err(twice(path, below));
                }
                children.insert(*index, Node::Value(value));
                return Ok(());
            }
            children
                .entry(*index)
                .or_insert_with(|| Node::container_for(&segments[at + 1]))
        }
        _ => {
            let parent = shown(&path.root, &path.below[..at - 1]);
            return Err(ParamError::new(
                parent.clone(),
                format!("`{parent}` mixes names, indexes and `[]`: use one of them"),
            ));
        }
    };
    if matches!(slot, Node::Value(_)) {
        return Err(twice(path, below));
    }
    place(slot, segments, at + 1, path, value)
}

/// `name` (the full name, or the prefix of it already given a value) is
/// given twice, or as a value and as an object.
fn twice(path: &Path, below: &[Segment]) -> ParamError {
    let name = shown(&path.root, below);
    let full = path.shown();
    let message = if name == full {
        format!("`{name}` is given more than once")
    } else {
        format!("`{name}` is given both as a value and as an object (`{full}`)")
    };
    ParamError::new(name, message)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ok(input: &str) -> Value {
        Value::Object(decode(input.as_bytes()).unwrap())
    }

    fn refused(input: &str) -> ParamError {
        decode(input.as_bytes()).unwrap_err()
    }

    #[test]
    fn flat_nested_indexed_and_appended() {
        assert_eq!(
            ok("a=1&b[c]=2&d[0][e]=3&d[1][e]=4&f[]=x&f[]=y"),
            json!({"a": "1", "b": {"c": "2"}, "d": [{"e": "3"}, {"e": "4"}], "f": ["x", "y"]})
        );
    }

    #[test]
    fn brackets_literal_or_percent_encoded_read_the_same() {
        let literal = ok("line_items[0][price]=pro&metadata[order]=42");
        let encoded = ok("line_items%5B0%5D%5Bprice%5D=pro&metadata%5Border%5D=42");
        let lower = ok("line_items%5b0%5d%5bprice%5d=pro&metadata%5border%5d=42");
        assert_eq!(literal, encoded);
        assert_eq!(literal, lower);
        assert_eq!(
            literal,
            json!({"line_items": [{"price": "pro"}], "metadata": {"order": "42"}})
        );
    }

    #[test]
    fn plus_is_a_space_and_escapes_decode() {
        assert_eq!(
            ok("metadata[note]=two+words%2C+caf%C3%A9&success_url=https%3A%2F%2Fx.example%2Fok%3Fa%3D1%26b%3D2"),
            json!({"metadata": {"note": "two words, café"}, "success_url": "https://x.example/ok?a=1&b=2"})
        );
    }

    #[test]
    fn empty_values_are_kept_and_a_bare_name_is_empty() {
        assert_eq!(
            ok("customer=&metadata[k]=&flag"),
            json!({"customer": "", "metadata": {"k": ""}, "flag": ""})
        );
        assert_eq!(ok(""), json!({}));
        assert_eq!(ok("&&a=1&"), json!({"a": "1"}));
    }

    #[test]
    fn booleans_and_numbers_stay_strings() {
        assert_eq!(
            ok("livemode=true&x=false&limit=10"),
            json!({"livemode": "true", "x": "false", "limit": "10"})
        );
    }

    #[test]
    fn digits_under_metadata_are_keys() {
        assert_eq!(
            ok("metadata[0]=a&metadata[7]=b&metadata[007]=c"),
            json!({"metadata": {"0": "a", "7": "b", "007": "c"}})
        );
    }

    #[test]
    fn a_key_given_twice_is_named() {
        for (input, param) in [
            ("a=1&a=2", "a"),
            ("metadata[k]=1&metadata[k]=2", "metadata[k]"),
            (
                "line_items[0][price]=a&line_items[0][price]=b",
                "line_items[0][price]",
            ),
            ("expand[0]=a&expand[0]=b", "expand[0]"),
        ] {
            let e = refused(input);
            assert_eq!(e.param.as_deref(), Some(param), "{input}");
            assert!(e.message.contains("more than once"), "{e}");
        }
    }

    #[test]
    fn a_value_and_an_object_under_one_name_are_refused() {
        let e = refused("metadata=&metadata[k]=1");
        assert_eq!(e.param.as_deref(), Some("metadata"));
        let e = refused("metadata[k]=1&metadata=");
        assert_eq!(e.param.as_deref(), Some("metadata"));
        let e = refused("a[b]=1&a[b][c]=2");
        assert_eq!(e.param.as_deref(), Some("a[b]"));
        let e = refused("a[b][c]=2&a[b]=1");
        assert_eq!(e.param.as_deref(), Some("a[b]"));
    }

    #[test]
    fn indexes_must_not_leave_gaps() {
        let e = refused("line_items[0][price]=a&line_items[2][price]=b");
        assert_eq!(e.param.as_deref(), Some("line_items[1]"));
        let e = refused("expand[1]=a");
        assert_eq!(e.param.as_deref(), Some("expand[0]"));
        let e = refused("a[0][b][1]=x");
        assert_eq!(e.param.as_deref(), Some("a[0][b][0]"));
        // Out of order is fine: positions are what count.
        assert_eq!(ok("expand[1]=b&expand[0]=a"), json!({"expand": ["a", "b"]}));
        assert_eq!(
            ok(&(0..12)
                .map(|i| format!("e[{i}]={i}"))
                .collect::<Vec<_>>()
                .join("&"))["e"][10],
            "10"
        );
    }

    #[test]
    fn leading_zero_or_huge_indexes_are_refused() {
        assert_eq!(refused("expand[01]=a").param.as_deref(), Some("expand[01]"));
        let huge = "expand[99999999999999999999999]=a";
        assert_eq!(
            refused(huge).param.as_deref(),
            Some("expand[99999999999999999999999]")
        );
    }

    #[test]
    fn mixing_indexes_names_and_appends_is_refused() {
        for (input, param) in [
            ("a[0]=x&a[b]=y", "a"),
            ("a[]=x&a[0]=y", "a"),
            ("a[b]=x&a[]=y", "a"),
            ("a[0][b]=x&a[0][1]=y", "a[0]"),
        ] {
            assert_eq!(refused(input).param.as_deref(), Some(param), "{input}");
        }
        assert_eq!(refused("a=1&a[]=2").param.as_deref(), Some("a"));
    }

    #[test]
    fn append_only_ends_a_name() {
        assert_eq!(refused("a[][b]=1").param.as_deref(), Some("a"));
    }

    #[test]
    fn nesting_is_bounded() {
        let deep_ok = format!("a{}=1", "[b]".repeat(MAX_DEPTH));
        assert!(decode(deep_ok.as_bytes()).is_ok());
        let too_deep = format!("a{}=1", "[b]".repeat(MAX_DEPTH + 1));
        let e = refused(&too_deep);
        assert!(e.message.contains("nested more than 8"), "{e}");
        assert_eq!(e.param, Some(format!("a{}", "[b]".repeat(MAX_DEPTH + 1))));
    }

    #[test]
    fn pairs_are_bounded() {
        let at_limit = (0..MAX_PAIRS)
            .map(|i| format!("metadata[k{i}]=v"))
            .collect::<Vec<_>>()
            .join("&");
        assert!(decode(at_limit.as_bytes()).is_ok());
        let over = format!("{at_limit}&x=1");
        let e = refused(&over);
        assert_eq!(e.param, None);
        assert!(e.message.contains("Too many parameters"), "{e}");
    }

    #[test]
    fn malformed_names_and_encodings_are_refused() {
        for input in ["[a]=1", "a]=1", "a[b=1", "a[b]c=1", "a[b[c]]=1", "=1"] {
            let e = refused(input);
            assert!(
                e.message.contains("Malformed parameter name"),
                "{input}: {e}"
            );
        }
        assert!(refused("a%zz=1").message.contains("percent-encoding"));
        let e = refused("a=%e");
        assert_eq!(e.param.as_deref(), Some("a"));
        let e = refused("metadata[k]=%ff%fe");
        assert_eq!(e.param.as_deref(), Some("metadata[k]"));
        assert!(e.message.contains("UTF-8"), "{e}");
    }

    /// What stripe-python sends for a create (`_api_encode` then
    /// `urlencode`, brackets turned back to literals): lists indexed,
    /// booleans as `true`/`false`, spaces as `+`, `:` and `/` escaped.
    #[test]
    fn the_body_stripe_python_sends() {
        let body = "mode=subscription&line_items[0][price]=pro&line_items[0][quantity]=2\
                    &customer=cus_42&success_url=https%3A%2F%2Fshop.example%2Fok%3Fs%3D%7BCHECKOUT_SESSION_ID%7D\
                    &metadata[order]=1234&metadata[note]=gift+wrap&expand[0]=customer&expand[1]=line_items";
        assert_eq!(
            ok(body),
            json!({
                "mode": "subscription",
                "line_items": [{"price": "pro", "quantity": "2"}],
                "customer": "cus_42",
                "success_url": "https://shop.example/ok?s={CHECKOUT_SESSION_ID}",
                "metadata": {"order": "1234", "note": "gift wrap"},
                "expand": ["customer", "line_items"],
            })
        );
    }

    /// What stripe-node sends (`encodeURIComponent`, brackets back to
    /// literals; `null` as an empty value; spaces as `%20`).
    #[test]
    fn the_body_stripe_node_sends() {
        let body = "line_items[0][price]=pro&line_items[0][quantity]=1&mode=payment\
                    &metadata[note]=gift%20wrap&metadata[order]=1234&client_reference_id=\
                    &expand[0]=customer&cancel_url=https%3A%2F%2Fshop.example%2Fno";
        assert_eq!(
            ok(body),
            json!({
                "line_items": [{"price": "pro", "quantity": "1"}],
                "mode": "payment",
                "metadata": {"note": "gift wrap", "order": "1234"},
                "client_reference_id": "",
                "expand": ["customer"],
                "cancel_url": "https://shop.example/no",
            })
        );
    }

    /// Older SDKs and curl: percent-encoded brackets, `expand[]`.
    #[test]
    fn the_query_older_clients_send() {
        assert_eq!(
            ok("limit=3&starting_after=cs_abc&expand%5B%5D=data.customer&created%5Bgte%5D=1700000000"),
            json!({
                "limit": "3", "starting_after": "cs_abc",
                "expand": ["data.customer"], "created": {"gte": "1700000000"},
            })
        );
    }
}
