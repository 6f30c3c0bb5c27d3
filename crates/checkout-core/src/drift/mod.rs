//! Drift: what a vendor answer holds that the adapters' wire types do not
//! know — a field no wire type names, or an enum value no rule maps. Reads
//! never fail because of it; the gateway counts and logs it, and
//! `checkout-gateway drift` reports it.
//!
//! Collected without changing any conversion's signature: [`collect`] opens
//! a collector on the current thread around one synchronous read
//! (`vendor::read_fetched`, `vendor::read_page` open it around the body),
//! [`crate::vendor::parse_body`] feeds it the fields no wire type reads
//! ([`parse`]), and the adapters' enum fallbacks feed it with one call to
//! [`value`]. Outside a collector both are no-ops, so pure conversions
//! (`normalize`, snapshot tests) are unchanged. A `#[serde(flatten)]`
//! catch-all map reads every field it is given: those are known.
//!
//! Names come from the vendor, so they are bounded: at most
//! [`MAX_NAME_LEN`] characters of `A-Z a-z 0-9 _ - . [ ] =` (anything else
//! becomes `_`, a cut name ends in `…`), and at most [`MAX_PER_READ`]
//! distinct names per answer (then one [`OTHER`]).

mod detect;

use std::cell::{Cell, RefCell};
use std::fmt;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Longest name kept, in characters (the `…` of a cut name included).
pub const MAX_NAME_LEN: usize = 96;

/// Distinct unknowns kept from one answer; past it, one [`OTHER`] stands
/// for the rest.
pub const MAX_PER_READ: usize = 32;

/// The name standing for unknowns past a bound.
pub const OTHER: &str = "_other";

/// What kind of thing the wire types do not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A field (named by its path: `session.risk_score`; a list item's
    /// fields by their path in the item, after `[]`: `[].risk_score`).
    Field,
    /// A value of an enum-like field no rule maps (`status=PAYMENT_FAILED`).
    Value,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Field => "field",
            Kind::Value => "value",
        }
    }
}

/// One thing a vendor answer held that the wire types do not know.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Unknown {
    pub kind: Kind,
    /// Bounded (see the module docs).
    pub name: String,
}

impl Unknown {
    /// A `Value` unknown on `field` (`status`), if this is one.
    pub fn value_of(&self, field: &str) -> Option<&str> {
        match self.kind {
            Kind::Value => self
                .name
                .strip_prefix(field)
                .and_then(|rest| rest.strip_prefix('=')),
            Kind::Field => None,
        }
    }
}

impl fmt::Display for Unknown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.as_str(), self.name)
    }
}

/// The unknowns of one answer, each once, in the order met. Empty (the
/// usual case) allocates nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unknowns(Vec<Unknown>);

impl Unknowns {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Unknown> {
        self.0.iter()
    }

    /// Add `unknown` unless it is already here; past [`MAX_PER_READ`]
    /// distinct ones, [`OTHER`] stands for the rest.
    pub fn push(&mut self, unknown: Unknown) {
        if self.0.contains(&unknown) {
            return;
        }
        if self.0.len() < MAX_PER_READ {
            self.0.push(unknown);
        } else {
            let other = Unknown {
                kind: unknown.kind,
                name: OTHER.to_owned(),
            };
            if !self.0.contains(&other) {
                self.0.push(other);
            }
        }
    }

    /// Room for another distinct name (so a caller can skip building one).
    fn full(&self) -> bool {
        self.0.len() >= MAX_PER_READ
    }
}

impl<'a> IntoIterator for &'a Unknowns {
    type Item = &'a Unknown;
    type IntoIter = std::slice::Iter<'a, Unknown>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl FromIterator<Unknown> for Unknowns {
    fn from_iter<I: IntoIterator<Item = Unknown>>(iter: I) -> Unknowns {
        let mut out = Unknowns::default();
        for u in iter {
            out.push(u);
        }
        out
    }
}

thread_local! {
    /// The open collector of this thread, if any. Conversions are
    /// synchronous, so one read never spans threads.
    static COLLECTOR: RefCell<Option<Unknowns>> = const { RefCell::new(None) };
}

/// Run `read` with a collector open on this thread; its result and every
/// unknown met while it ran. Nests: an inner collection keeps its own, and
/// the outer one resumes after it.
pub fn collect<T>(read: impl FnOnce() -> T) -> (T, Unknowns) {
    /// Restores the outer collector even if `read` panics.
    struct Scope(Option<Unknowns>);
    impl Drop for Scope {
        fn drop(&mut self) {
            let outer = self.0.take();
            COLLECTOR.with(|c| *c.borrow_mut() = outer);
        }
    }
    let outer = COLLECTOR.with(|c| c.borrow_mut().replace(Unknowns::default()));
    let scope = Scope(outer);
    let result = read();
    let mine = COLLECTOR
        .with(|c| c.borrow_mut().take())
        .unwrap_or_default();
    drop(scope);
    (result, mine)
}

/// Whether a collector is open on this thread (else feeding is a no-op).
pub fn active() -> bool {
    COLLECTOR.with(|c| c.borrow().is_some())
}

/// `name()` as an unknown of `kind`, if a collector is open and has room.
fn feed(kind: Kind, name: impl FnOnce() -> String) {
    COLLECTOR.with(|c| {
        if let Some(unknowns) = c.borrow_mut().as_mut() {
            let name = if unknowns.full() {
                OTHER.to_owned()
            } else {
                name()
            };
            unknowns.push(Unknown { kind, name });
        }
    });
}

/// A field the vendor documents and no rule reads: the wire types know it
/// (it is not drift), and it is skipped unread, exactly as serde skips an
/// unknown field (no depth limit, any string), so whatever it holds never
/// fails a read. `#[serde(default)] pub coupon_code: Unread`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unread;

thread_local! {
    /// Set by [`Unread`] just before it skips its value: the skip the
    /// watchers see next is a known field's, not drift.
    static KNOWN_SKIP: Cell<bool> = const { Cell::new(false) };
}

impl<'de> serde::Deserialize<'de> for Unread {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Unread, D::Error> {
        KNOWN_SKIP.with(|k| k.set(true));
        let skipped = d.deserialize_ignored_any(serde::de::IgnoredAny);
        // Unwatched parses leave it set.
        KNOWN_SKIP.with(|k| k.set(false));
        skipped.map(|_| Unread)
    }
}

/// Whether the skip being watched is an [`Unread`] field's (and so not
/// drift); asked once per skip, by whichever watcher sees it.
fn known_skip() -> bool {
    KNOWN_SKIP.with(|k| k.replace(false))
}

/// Parse `body` as `serde_json::from_slice` does, feeding the open
/// collector every field `T` does not read, named after `prefix`. A body
/// with none (the usual case) is parsed once, without a cost per key
/// ([`detect`]); only one with some is parsed again by `serde_ignored` to
/// name them.
pub(crate) fn parse<T: DeserializeOwned>(body: &[u8], prefix: &str) -> serde_json::Result<T> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let (value, skipped) = detect::deserialize(&mut de)?;
    de.end()?;
    if skipped {
        let mut de = serde_json::Deserializer::from_slice(body);
        serde_ignored::deserialize::<_, _, T>(&mut de, |path| {
            if !known_skip() {
                field(prefix, &path);
            }
        })?;
    }
    Ok(value)
}

/// An enum-like `field`'s `value` that no rule maps: the adapters' `_ =>`
/// fallbacks call this. Named `field=value`, bounded.
pub fn value(field: &str, value: &str) {
    feed(Kind::Value, || {
        let mut name = String::with_capacity(field.len() + 1 + value.len());
        push_bounded(&mut name, field);
        name.push('=');
        push_bounded(&mut name, value);
        name
    });
}

/// A field the wire types do not know, by its path (as `serde_ignored`
/// reports it, after `prefix`; sequence positions are written `[]`, so one
/// new field in a list of many is one name).
fn field(prefix: &str, path: &serde_ignored::Path<'_>) {
    feed(Kind::Field, || {
        let mut name = String::new();
        push_bounded(&mut name, prefix);
        write_path(&mut name, path);
        name
    });
}

fn write_path(out: &mut String, path: &serde_ignored::Path<'_>) {
    use serde_ignored::Path;
    match path {
        Path::Root => {}
        Path::Seq { parent, .. } => {
            write_path(out, parent);
            push_bounded(out, "[]");
        }
        Path::Map { parent, key } => {
            write_path(out, parent);
            if !out.is_empty() && !out.ends_with('…') {
                push_bounded(out, ".");
            }
            push_bounded(out, key);
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => write_path(out, parent),
    }
}

/// Append `s` to `out` in the name alphabet, stopping at [`MAX_NAME_LEN`]
/// characters with `…`.
fn push_bounded(out: &mut String, s: &str) {
    // Every character kept is ASCII, so bytes count characters, but for
    // the one `…` that ends a cut name.
    for c in s.chars() {
        if out.ends_with('…') {
            return;
        }
        if out.len() >= MAX_NAME_LEN - 1 {
            out.push('…');
            return;
        }
        out.push(match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '_' | '-' | '.' | '[' | ']' | '=' => c,
            _ => '_',
        });
    }
}

/// Bound a name given whole (the gateway's own labels, reports).
pub fn bounded(name: &str) -> String {
    let mut out = String::new();
    push_bounded(&mut out, name);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_collected_outside_a_collector() {
        assert!(!active());
        value("status", "NEW");
        let ((), got) = collect(|| {
            assert!(active());
        });
        assert!(got.is_empty());
        assert!(!active());
    }

    #[test]
    fn values_are_named_field_equals_value_once() {
        let ((), got) = collect(|| {
            value("status", "PAYMENT_FAILED");
            value("status", "PAYMENT_FAILED");
            value("checkout_type", "QUOTE");
        });
        let names: Vec<String> = got.iter().map(ToString::to_string).collect();
        assert_eq!(
            names,
            ["value status=PAYMENT_FAILED", "value checkout_type=QUOTE"]
        );
        assert_eq!(
            got.iter().next().and_then(|u| u.value_of("status")),
            Some("PAYMENT_FAILED")
        );
        assert_eq!(got.iter().nth(1).and_then(|u| u.value_of("status")), None);
    }

    #[test]
    fn collectors_nest() {
        let (inner, outer) = collect(|| {
            value("a", "1");
            let ((), inner) = collect(|| value("b", "2"));
            value("c", "3");
            inner
        });
        assert_eq!(inner.len(), 1);
        assert_eq!(outer.len(), 2);
    }

    #[test]
    fn a_panicking_read_leaves_no_collector_open() {
        let caught = std::panic::catch_unwind(|| collect(|| panic!("boom")));
        assert!(caught.is_err());
        assert!(!active());
    }

    #[test]
    fn names_are_bounded_in_length_and_alphabet() {
        assert_eq!(bounded("a b\n<c>\u{e9}"), "a_b__c__");
        let long = bounded(&"x".repeat(1000));
        assert_eq!(long.chars().count(), MAX_NAME_LEN);
        assert!(long.ends_with('…'));
        let ((), got) = collect(|| value("status", &"Z".repeat(500)));
        let name = &got.iter().next().expect("one").name;
        assert!(name.starts_with("status=ZZZ") && name.chars().count() == MAX_NAME_LEN);
    }

    #[test]
    fn one_answer_keeps_a_bounded_number_of_names() {
        let ((), got) = collect(|| {
            for i in 0..1000 {
                value("status", &i.to_string());
            }
        });
        assert_eq!(got.len(), MAX_PER_READ + 1);
        assert_eq!(got.iter().last().map(|u| u.name.as_str()), Some(OTHER));
    }

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Envelope {
        session: Session,
    }

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Session {
        id: String,
        #[serde(default)]
        lines: Vec<Line>,
        #[serde(default)]
        kept: Option<Box<serde_json::value::RawValue>>,
        #[serde(default)]
        documented: Unread,
    }

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Line {
        n: u32,
    }

    fn fields<T: DeserializeOwned>(body: &str, prefix: &str) -> Vec<String> {
        let (parsed, got) = collect(|| parse::<T>(body.as_bytes(), prefix));
        assert!(parsed.is_ok(), "{body}");
        got.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn unknown_fields_are_named_by_path_once() {
        let body = r#"{"session":{"id":"s","risk":1,"lines":[{"n":1,"tax":2},{"n":2,"tax":3}],
                       "kept":{"anything":{"goes":1}},"documented":{"x":1}},"meta":{"v":2}}"#;
        assert_eq!(
            fields::<Envelope>(body, ""),
            [
                "field session.risk",
                "field session.lines[].tax",
                "field meta"
            ]
        );
        assert_eq!(
            fields::<Session>(r#"{"id":"s","risk":1}"#, "[]"),
            ["field [].risk"]
        );
        assert!(fields::<Envelope>(r#"{"session":{"id":"s","kept":{"x":1}}}"#, "").is_empty());
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        for documented in [
            "null",
            r#"{"deep":[{"x":1},"y",2.5,true,null]}"#,
            "-1",
            "18446744073709551616",
            r#""\ud800""#,
            &deep,
        ] {
            let body = format!(r#"{{"session":{{"id":"s","documented":{documented}}}}}"#);
            assert!(fields::<Envelope>(&body, "").is_empty(), "{body}");
        }
    }

    #[test]
    fn a_parse_reads_like_serde_json() {
        let ((), got) = collect(|| {
            assert!(parse::<Session>(br#"{"id":"s"} x"#, "").is_err());
            assert!(parse::<Session>(br#"{"id":1}"#, "").is_err());
            let s = parse::<Session>(br#"{"id":"s","kept":[1, 2.50]}"#, "").expect("parses");
            assert_eq!(
                s.kept.map(|k| k.get().to_owned()).as_deref(),
                Some("[1, 2.50]")
            );
        });
        assert!(got.is_empty());
    }

    #[test]
    fn the_empty_collection_does_not_allocate() {
        assert_eq!(Unknowns::default().0.capacity(), 0);
    }
}
