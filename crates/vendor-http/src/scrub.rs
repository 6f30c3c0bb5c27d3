//! Keeping an account's credentials out of what the gateway relays.
//!
//! A vendor may echo a request header in its answer, and not always
//! verbatim: a JSON writer may escape any character (`\/`, `\u0073`), a URL
//! in the body percent-encodes it, a Basic pair travels as base64. Escapes
//! can be chosen per character, so no finite list of byte patterns covers
//! them. The body is therefore searched as sent and in its decoded views
//! (JSON escapes undone, percent-encoding undone, in turn), and each hit is
//! mapped back to the bytes that spelled it, which become `***`. base64 is
//! matched instead of decoded: the part of a base64 text that depends only on
//! the secret's bytes is known in advance for each of the three alignments.

use std::borrow::Cow;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use bytes::Bytes;
use memchr::memmem::{self, Finder};
use reqwest::header::HeaderMap;

/// Shorter forms are not scrubbed: short fragments would blank out
/// ordinary text.
pub const MIN_SCRUBBED_LEN: usize = 8;

/// What a credential becomes.
const MASK: &[u8] = b"***";

/// Decodings applied in a row: enough for a percent-encoded secret in a
/// JSON string inside a percent-encoded URL. At most 2 + 4 + 8 views.
const MAX_DEPTH: usize = 3;

/// A mask can only complete a new hit for a secret containing `*`; a body
/// still holding one after this many passes is dropped whole.
const MAX_PASSES: usize = 4;

/// Every form in which a vendor could echo some credentials, prepared once
/// (per account where the caller keeps it, else per request).
pub struct Scrubber {
    /// The header values this was built from: a request carrying another
    /// credential needs its own scrubber.
    sources: Vec<Vec<u8>>,
    patterns: Vec<Pattern>,
    /// Indexes of the patterns that contain no other one: a body that holds
    /// none of these holds none at all, so the miss path searches only them.
    probes: Vec<usize>,
}

struct Pattern {
    finder: Finder<'static>,
    /// The form has a space, which form encoding may write as `+`: it is
    /// searched with `+` read as a space on both sides.
    folded: bool,
}

impl std::fmt::Debug for Scrubber {
    // Never the forms themselves: they are the secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scrubber")
            .field("credentials", &self.sources.len())
            .field("patterns", &self.patterns.len())
            .finish()
    }
}

impl Scrubber {
    /// For the sensitive headers of a request.
    pub fn for_headers(headers: &HeaderMap) -> Scrubber {
        Scrubber::new(
            headers
                .values()
                .filter(|v| v.is_sensitive())
                .map(|v| v.as_bytes()),
        )
    }

    /// For credential header values: a bare key, or `<scheme> <token>`
    /// (`Bearer`, or `Basic` with base64 of `id:secret`).
    pub fn new<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Scrubber {
        let mut sources = Vec::new();
        let mut forms: Vec<Vec<u8>> = Vec::new();
        for value in values {
            sources.push(value.to_vec());
            forms.push(value.to_vec());
            let split = value
                .iter()
                .position(|b| *b == b' ')
                .map(|at| (&value[..at], &value[at + 1..]));
            let secrets = match split {
                Some((scheme, token)) if scheme.eq_ignore_ascii_case(b"bearer") => {
                    vec![token.to_vec()]
                }
                Some((scheme, token)) => match basic_pair(scheme, token) {
                    Some((pair, colon)) => {
                        forms.push(token.to_vec());
                        forms.extend(base64_forms(&pair));
                        vec![pair[colon + 1..].to_vec()]
                    }
                    // Another scheme, or a bare key with a space in it.
                    None => vec![value.to_vec(), token.to_vec()],
                },
                None => vec![value.to_vec()],
            };
            for secret in secrets {
                forms.extend(base64_forms(&secret));
                forms.extend(base64_cores(&secret));
                forms.push(secret);
            }
        }
        forms.retain(|f| f.len() >= MIN_SCRUBBED_LEN);
        forms.sort();
        forms.dedup();
        let probes = (0..forms.len())
            .filter(|&p| !(0..forms.len()).any(|q| q != p && implies(&forms[p], &forms[q])))
            .collect();
        let patterns = forms
            .into_iter()
            .map(|form| {
                let folded = form.contains(&b' ');
                let needle = if folded {
                    fold(&form).into_owned()
                } else {
                    form
                };
                Pattern {
                    finder: Finder::new(&needle).into_owned(),
                    folded,
                }
            })
            .collect();
        Scrubber {
            sources,
            patterns,
            probes,
        }
    }

    /// Whether every sensitive header of a request is one this was built for.
    pub fn covers(&self, headers: &HeaderMap) -> bool {
        headers
            .values()
            .filter(|v| v.is_sensitive())
            .all(|v| self.sources.iter().any(|s| s == v.as_bytes()))
    }

    /// The body with every credential form replaced by `***`. A body without
    /// one is returned as is, not copied.
    pub fn scrub(&self, body: Bytes) -> Bytes {
        if !self.holds_any(&body) {
            return body;
        }
        let mut out = body.to_vec();
        for _ in 0..MAX_PASSES {
            let ranges = self.ranges(&out);
            if ranges.is_empty() {
                return Bytes::from(out);
            }
            out = masked(&out, &ranges);
        }
        if self.holds_any(&out) {
            Bytes::from_static(MASK)
        } else {
            Bytes::from(out)
        }
    }

    /// The miss path: probes only, no offsets kept, stop at the first hit.
    fn holds_any(&self, body: &[u8]) -> bool {
        if self.probes.is_empty() {
            return false;
        }
        let mut found = false;
        views(body, false, &mut |view| {
            found = search(
                view.bytes.as_ref(),
                self.probes.iter().map(|&i| &self.patterns[i]),
                &mut |_, _| true,
            );
            found
        });
        found
    }

    /// Where in the body each form occurs, in any view, merged and sorted.
    fn ranges(&self, body: &[u8]) -> Vec<(usize, usize)> {
        let mut ranges = Vec::new();
        views(body, true, &mut |view| {
            search(view.bytes.as_ref(), self.patterns.iter(), &mut |at, len| {
                ranges.push(view.raw_range(at, len, body.len()));
                false
            });
            false
        });
        ranges.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
        for (start, end) in ranges {
            match merged.last_mut() {
                Some(last) if start < last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        merged
    }
}

/// Whether finding `p` in a view implies finding `q` there (so `p` need
/// not be probed). With `+` read as a space for a form with a space, a
/// plain form inside it is implied only if it has no `+`.
fn implies(p: &[u8], q: &[u8]) -> bool {
    memmem::find(p, q).is_some() && (!p.contains(&b' ') || q.contains(&b' ') || !q.contains(&b'+'))
}

/// The `id:secret` pair of a Basic token, and where its colon is.
fn basic_pair(scheme: &[u8], token: &[u8]) -> Option<(Vec<u8>, usize)> {
    if !scheme.eq_ignore_ascii_case(b"basic") {
        return None;
    }
    [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(token).ok())
        .and_then(|pair| {
            let colon = pair.iter().position(|b| *b == b':')?;
            Some((pair, colon))
        })
}

/// base64 of the whole value, standard and URL-safe, padded or not.
fn base64_forms(value: &[u8]) -> [Vec<u8>; 4] {
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD].map(|e| e.encode(value).into_bytes())
}

/// For each of the three byte alignments the secret can have inside a
/// longer base64 text (`id:secret`, a whole echoed header), the characters
/// that depend only on the secret's bytes.
fn base64_cores(secret: &[u8]) -> Vec<Vec<u8>> {
    let mut cores = Vec::new();
    for offset in 0..3 {
        let mut padded = vec![0u8; offset];
        padded.extend_from_slice(secret);
        padded.extend_from_slice(&[0, 0]);
        // Secret bits are [8·offset, 8·(offset + len)); char i holds bits [6i, 6i + 6).
        let first = (8 * offset).div_ceil(6);
        let end = 8 * (offset + secret.len()) / 6;
        for engine in [STANDARD_NO_PAD, URL_SAFE_NO_PAD] {
            let text = engine.encode(&padded).into_bytes();
            if first < end {
                cores.push(text[first..end].to_vec());
            }
        }
    }
    cores
}

/// `+` read as a space (form encoding).
fn fold(bytes: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memchr(b'+', bytes).is_none() {
        return Cow::Borrowed(bytes);
    }
    Cow::Owned(
        bytes
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect(),
    )
}

/// Run every pattern over a view; `found(at, len)` returns whether to stop.
/// Returns whether it stopped.
fn search<'p>(
    view: &[u8],
    patterns: impl Iterator<Item = &'p Pattern>,
    found: &mut dyn FnMut(usize, usize) -> bool,
) -> bool {
    let mut folded: Option<Cow<'_, [u8]>> = None;
    for pattern in patterns {
        let haystack: &[u8] = if pattern.folded {
            folded.get_or_insert_with(|| fold(view))
        } else {
            view
        };
        let len = pattern.finder.needle().len();
        for at in pattern.finder.find_iter(haystack) {
            if found(at, len) {
                return true;
            }
        }
    }
    false
}

/// The body with each range replaced by the mask.
fn masked(body: &[u8], ranges: &[(usize, usize)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut from = 0;
    for &(start, end) in ranges {
        out.extend_from_slice(&body[from..start]);
        out.extend_from_slice(MASK);
        from = end;
    }
    out.extend_from_slice(&body[from..]);
    out
}

/// The body, or a decoded view of it.
struct View<'a> {
    bytes: Cow<'a, [u8]>,
    /// Where in the body each byte's spelling starts (when tracked; the
    /// body itself has none). Non-decreasing: spellings tile the body, and
    /// the bytes one escape decodes to share its start.
    starts: Option<Vec<usize>>,
}

#[derive(Clone, Copy)]
enum Pass {
    Json,
    Percent,
}

impl View<'_> {
    fn start(&self, i: usize) -> usize {
        self.starts.as_ref().map_or(i, |s| s[i])
    }

    /// The body range that spells view bytes `[at, at + len)`: up to the
    /// start of the next spelling, so a partly matched escape is whole.
    fn raw_range(&self, at: usize, len: usize, body_len: usize) -> (usize, usize) {
        let Some(starts) = &self.starts else {
            return (at, at + len);
        };
        let last = starts[at + len - 1];
        let end = starts[at + len..]
            .iter()
            .find(|s| **s > last)
            .copied()
            .unwrap_or(body_len);
        (starts[at], end)
    }

    /// One pass of decoding, or `None` when it would change nothing.
    fn decoded(&self, pass: Pass, track: bool) -> Option<View<'static>> {
        let trigger = match pass {
            Pass::Json => b'\\',
            Pass::Percent => b'%',
        };
        let input = self.bytes.as_ref();
        memchr::memchr(trigger, input)?;
        let mut bytes = Vec::with_capacity(input.len());
        let mut starts = track.then(|| Vec::with_capacity(input.len()));
        let mut i = 0;
        while i < input.len() {
            let before = bytes.len();
            let used = match pass {
                Pass::Json => json_escape(&input[i..], &mut bytes),
                Pass::Percent => percent_escape(&input[i..], &mut bytes),
            };
            let used = if used == 0 {
                bytes.push(input[i]);
                1
            } else {
                used
            };
            if let Some(starts) = &mut starts {
                starts.resize(bytes.len(), self.start(i));
            }
            debug_assert!(bytes.len() > before);
            i += used;
        }
        // Every decoded escape is shorter than its spelling.
        (bytes.len() < input.len()).then_some(View {
            bytes: Cow::Owned(bytes),
            starts,
        })
    }
}

/// Visit the body, then each view decoding it further, in either order
/// (a backslash in a percent-encoded text is not a JSON escape, nor a `%`
/// in a JSON string always a percent escape); `visit` returns whether to
/// stop. Offsets are kept only when `track`.
fn views(body: &[u8], track: bool, visit: &mut dyn FnMut(&View<'_>) -> bool) {
    let raw = View {
        bytes: Cow::Borrowed(body),
        starts: None,
    };
    descend(&raw, MAX_DEPTH, track, visit);
}

fn descend(
    view: &View<'_>,
    depth: usize,
    track: bool,
    visit: &mut dyn FnMut(&View<'_>) -> bool,
) -> bool {
    if visit(view) {
        return true;
    }
    depth > 0
        && [Pass::Json, Pass::Percent].into_iter().any(|pass| {
            view.decoded(pass, track)
                .is_some_and(|next| descend(&next, depth - 1, track, visit))
        })
}

/// A JSON string escape at the start of `at`, decoded into `out`; how many
/// bytes it used, 0 if none is there. Lone surrogates stay as written.
fn json_escape(at: &[u8], out: &mut Vec<u8>) -> usize {
    if at.first() != Some(&b'\\') {
        return 0;
    }
    let byte = match at.get(1) {
        Some(b @ (b'"' | b'\\' | b'/')) => *b,
        Some(b'b') => 0x08,
        Some(b'f') => 0x0c,
        Some(b'n') => b'\n',
        Some(b'r') => b'\r',
        Some(b't') => b'\t',
        Some(b'u') => {
            let Some(high) = hex4(&at[2..]) else {
                return 0;
            };
            let (code, used) = match high {
                0xd800..=0xdbff => match (at.get(6..8), hex4(at.get(8..).unwrap_or(&[]))) {
                    (Some(b"\\u"), Some(low @ 0xdc00..=0xdfff)) => {
                        (0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00), 12)
                    }
                    _ => return 0,
                },
                0xdc00..=0xdfff => return 0,
                _ => (high, 6),
            };
            let Some(c) = char::from_u32(code) else {
                return 0;
            };
            out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            return used;
        }
        _ => return 0,
    };
    out.push(byte);
    2
}

/// A `%XX` escape at the start of `at` (either case), decoded into `out`.
fn percent_escape(at: &[u8], out: &mut Vec<u8>) -> usize {
    match at {
        [b'%', h, l, ..] => match (hex(*h), hex(*l)) {
            (Some(h), Some(l)) => {
                out.push((h << 4 | l) as u8);
                3
            }
            _ => 0,
        },
        _ => 0,
    }
}

fn hex(b: u8) -> Option<u32> {
    (b as char).to_digit(16)
}

fn hex4(at: &[u8]) -> Option<u32> {
    let digits = at.get(..4)?;
    digits
        .iter()
        .try_fold(0, |acc, &b| Some(acc << 4 | hex(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn scrubbed(scrubber: &Scrubber, body: &str) -> String {
        let out = scrubber.scrub(Bytes::from(body.to_owned()));
        String::from_utf8(out.to_vec()).expect("scrubbing keeps UTF-8")
    }

    /// The three reported leaks: a key with `/` written `\/` in JSON, a
    /// percent-encoded key, base64 of a Basic `id:secret` pair.
    #[test]
    fn reported_encodings_are_scrubbed() {
        let key = "pv_sand_5ldOh21Ipns1OpHz/2vIOgNg2ElyLMx";
        let bearer = Scrubber::new([format!("Bearer {key}").as_bytes()]);

        let escaped = r#"{"code":"UNAUTHORIZED","message":"bad key pv_sand_5ldOh21Ipns1OpHz\/2vIOgNg2ElyLMx"}"#;
        let clean = scrubbed(&bearer, escaped);
        assert_eq!(clean, r#"{"code":"UNAUTHORIZED","message":"bad key ***"}"#);

        for encoded in [
            "pv_sand_5ldOh21Ipns1OpHz%2F2vIOgNg2ElyLMx",
            "pv_sand_5ldOh21Ipns1OpHz%2f2vIOgNg2ElyLMx",
            "%70v_sand_5ldOh21Ipns1OpHz%2F2vIOgNg2ElyLMx",
        ] {
            let body = format!("<a href=\"/retry?key={encoded}&x=1\">retry</a>");
            assert_eq!(
                scrubbed(&bearer, &body),
                "<a href=\"/retry?key=***&x=1\">retry</a>",
                "{encoded}"
            );
        }

        let pair = "svc-1:s3cr3t/value+more?";
        let token = STANDARD.encode(pair);
        let basic = Scrubber::new([format!("Basic {token}").as_bytes()]);
        for echoed in [
            token.clone(),
            token.replace('/', "\\/"),
            URL_SAFE_NO_PAD.encode(pair),
            STANDARD.encode(format!("Authorization: Basic-ish {pair}")),
        ] {
            let body = format!("{{\"echo\":\"{echoed}\"}}");
            let clean = scrubbed(&basic, &body);
            assert!(!clean.contains(&echoed) && clean.contains("***"), "{clean}");
            serde_json::from_str::<serde_json::Value>(&clean).expect("still JSON");
        }
    }

    /// A whole echoed header goes, scheme and all; ordinary text stays.
    #[test]
    fn an_echoed_header_is_masked_whole() {
        let scrubber = Scrubber::new([&b"Bearer sk_live_topsecret"[..]]);
        assert_eq!(
            scrubbed(
                &scrubber,
                r#"{"message":"bad header: Bearer sk_live_topsecret","hint":"Bearer tokens"}"#
            ),
            r#"{"message":"bad header: ***","hint":"Bearer tokens"}"#
        );
        assert_eq!(
            scrubbed(
                &scrubber,
                "key sk_live_topsecret\\u0020and sk\\u005flive_topsecret."
            ),
            "key ***\\u0020and ***."
        );
    }

    #[test]
    fn a_mask_that_completes_a_secret_is_scrubbed_again() {
        let scrubber = Scrubber::new([&b"***abcdefgh"[..]]);
        let clean = scrubbed(&scrubber, "x ***abcdefghabcdefgh y");
        assert!(!clean.contains("***abcdefgh"), "{clean}");
    }

    #[test]
    fn short_credentials_and_other_headers_are_left_alone() {
        let mut headers = HeaderMap::new();
        let mut key = reqwest::header::HeaderValue::from_static("Bearer shortk");
        key.set_sensitive(true);
        headers.insert("authorization", key);
        headers.insert(
            "x-trace",
            reqwest::header::HeaderValue::from_static("not-a-secret-at-all"),
        );
        let scrubber = Scrubber::for_headers(&headers);
        assert!(scrubber.covers(&headers));
        assert_eq!(
            scrubbed(&scrubber, "shortk not-a-secret-at-all Bearer shortk"),
            "shortk not-a-secret-at-all ***"
        );
        let mut other = HeaderMap::new();
        let mut key = reqwest::header::HeaderValue::from_static("Bearer another-key");
        key.set_sensitive(true);
        other.insert("authorization", key);
        assert!(!scrubber.covers(&other));
        assert!(!format!("{scrubber:?}").contains("shortk"));
    }

    /// Every vendor fixture is relayed as is, without a copy.
    #[test]
    fn fixtures_pass_unchanged() {
        let scrubber = Scrubber::new([
            &b"Bearer pv_sand_5ldOh21Ipns1OpHzYbeAjvA87x3v/2vIOgNg2ElyLMxWAPn6Xz"[..],
            format!("Basic {}", STANDARD.encode("svc-1:s3cr3t/value+more?")).as_bytes(),
            &b"sk_test_flowglad_0123456789abcdef"[..],
        ]);
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
        let mut seen = 0;
        let mut dirs = vec![root];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("fixtures") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let body = Bytes::from(std::fs::read(&path).expect("fixture"));
                let out = scrubber.scrub(body.clone());
                assert_eq!(out.as_ptr(), body.as_ptr(), "{}", path.display());
                seen += 1;
            }
        }
        assert!(seen > 100, "only {seen} fixtures");
    }

    // ---- property tests ----

    #[derive(Debug, Clone)]
    enum Credential {
        Bearer,
        Basic(String),
        Bare,
    }

    impl Credential {
        fn header(&self, secret: &str) -> Vec<u8> {
            match self {
                Credential::Bearer => format!("Bearer {secret}").into_bytes(),
                Credential::Basic(id) => {
                    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))).into_bytes()
                }
                Credential::Bare => secret.as_bytes().to_vec(),
            }
        }
    }

    /// How the secret is written before any escaping.
    #[derive(Debug, Clone)]
    enum Form {
        Literal,
        Header,
        Base64Pair {
            url: bool,
            pad: bool,
        },
        Base64Within {
            url: bool,
            pad: bool,
            before: String,
            after: String,
        },
    }

    fn engine(url: bool, pad: bool) -> base64::engine::GeneralPurpose {
        match (url, pad) {
            (false, true) => STANDARD,
            (false, false) => STANDARD_NO_PAD,
            (true, true) => URL_SAFE,
            (true, false) => URL_SAFE_NO_PAD,
        }
    }

    #[derive(Debug, Clone)]
    struct Embedding {
        credential: Credential,
        form: Form,
        before: String,
        after: String,
        /// `Some(plus_for_space)`: percent-encoded.
        percent: Option<bool>,
        /// Inside a JSON string, else plain text.
        json: bool,
        /// Per-character escaping choices, used in turn.
        choices: Vec<u8>,
    }

    fn secret_char() -> impl Strategy<Value = char> {
        prop_oneof![
            4 => prop::char::range('a', 'z'),
            2 => prop::char::range('A', 'Z'),
            2 => prop::char::range('0', '9'),
            4 => prop::sample::select(vec![
                '/', '+', '=', '"', '\\', ' ', '%', ':', '*', '&', '?', '#', '_', '-', '.', '~', '\''
            ]),
            2 => prop::sample::select(vec![
                'é', 'ß', '€', '中', '😀', '\u{2028}', '\u{7f}', '\n', '\t', '\u{1}'
            ]),
        ]
    }

    fn secret() -> impl Strategy<Value = String> {
        prop::collection::vec(secret_char(), 8..24).prop_map(|c| c.into_iter().collect())
    }

    fn around() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9 :=,./+_-]{0,12}"
    }

    fn embedding() -> impl Strategy<Value = Embedding> {
        let credential = prop_oneof![
            Just(Credential::Bearer),
            "[a-z0-9-]{1,12}".prop_map(Credential::Basic),
            Just(Credential::Bare),
        ];
        let form = prop_oneof![
            Just(Form::Literal),
            Just(Form::Header),
            (any::<bool>(), any::<bool>()).prop_map(|(url, pad)| Form::Base64Pair { url, pad }),
            (any::<bool>(), any::<bool>(), ".{0,5}", ".{0,5}").prop_map(
                |(url, pad, before, after)| Form::Base64Within {
                    url,
                    pad,
                    before,
                    after
                }
            ),
        ];
        (
            credential,
            form,
            around(),
            around(),
            prop::option::of(any::<bool>()),
            any::<bool>(),
            prop::collection::vec(any::<u8>(), 1..32),
        )
            .prop_map(
                |(credential, form, before, after, percent, json, choices)| Embedding {
                    credential,
                    form,
                    before,
                    after,
                    percent,
                    json,
                    choices,
                },
            )
    }

    impl Embedding {
        fn inner(&self, secret: &str) -> String {
            let written = match &self.form {
                Form::Literal => secret.to_owned(),
                Form::Header => {
                    String::from_utf8_lossy(&self.credential.header(secret)).into_owned()
                }
                Form::Base64Pair { url, pad } => {
                    let id = match &self.credential {
                        Credential::Basic(id) => id.as_str(),
                        _ => "client",
                    };
                    engine(*url, *pad).encode(format!("{id}:{secret}"))
                }
                Form::Base64Within {
                    url,
                    pad,
                    before,
                    after,
                } => engine(*url, *pad).encode(format!("{before}{secret}{after}")),
            };
            format!("{}{written}{}", self.before, self.after)
        }

        fn body(&self, secret: &str) -> String {
            let mut choice = self.choices.iter().copied().cycle();
            let mut text = self.inner(secret);
            if let Some(plus) = self.percent {
                text = percent_encode(&text, plus, &mut choice);
            }
            if self.json {
                format!(
                    "{{\"error\":{{\"code\":13,\"message\":\"{}\"}},\"n\":[1,2]}}",
                    json_escape_text(&text, &mut choice)
                )
            } else {
                format!("upstream said: {text} (HTTP 401)")
            }
        }

        /// Whether the body still gives the secret away, read back the way
        /// it was written, by independent decoders.
        fn reveals(&self, body: &[u8], secret: &str) -> Result<bool, String> {
            let mut texts = vec![body.to_vec()];
            let mut text = body.to_vec();
            if self.json {
                let value: serde_json::Value =
                    serde_json::from_slice(body).map_err(|e| format!("no longer JSON: {e}"))?;
                let message = value["error"]["message"]
                    .as_str()
                    .ok_or("message is gone")?;
                text = message.as_bytes().to_vec();
                texts.push(text.clone());
            }
            if let Some(plus) = self.percent {
                if plus {
                    text = text
                        .iter()
                        .map(|&b| if b == b'+' { b' ' } else { b })
                        .collect();
                }
                texts.push(percent_encoding::percent_decode(&text).collect());
            }
            Ok(texts.iter().any(|t| holds(t, secret.as_bytes())))
        }
    }

    /// The secret as is, or inside the base64 of any run of base64 text.
    fn holds(text: &[u8], secret: &[u8]) -> bool {
        if memmem::find(text, secret).is_some() {
            return true;
        }
        for (url, alphabet) in [(false, b"+/"), (true, b"-_")] {
            let in_alphabet = |b: &u8| b.is_ascii_alphanumeric() || alphabet.contains(b);
            for run in text.split(|b| !in_alphabet(b)) {
                for skip in 0..4.min(run.len()) {
                    let run = &run[skip..];
                    // One trailing character holds no whole byte.
                    let whole = &run[..run.len() - usize::from(run.len() % 4 == 1)];
                    if let Ok(bytes) = lenient(url).decode(whole) {
                        if memmem::find(&bytes, secret).is_some() {
                            return true;
                        }
                    }
                }
            }
        }
        false
    }

    /// A decoder for any tail of a base64 text: partial last group, any bits.
    fn lenient(url: bool) -> base64::engine::GeneralPurpose {
        let config = base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone);
        let alphabet = if url {
            &base64::alphabet::URL_SAFE
        } else {
            &base64::alphabet::STANDARD
        };
        base64::engine::GeneralPurpose::new(alphabet, config)
    }

    /// Percent-encoding, each optional escape chosen, hex case chosen.
    fn percent_encode(text: &str, plus: bool, choice: &mut impl Iterator<Item = u8>) -> String {
        let mut out = String::new();
        for &b in text.as_bytes() {
            let c = choice.next().unwrap_or(0);
            let must = b == b'%' || (plus && b == b'+') || b == b' ' || !b.is_ascii_graphic();
            if plus && b == b' ' && c.is_multiple_of(2) {
                out.push('+');
            } else if must
                || b.is_ascii_alphanumeric() && c.is_multiple_of(5)
                || !b.is_ascii_alphanumeric() && c.is_multiple_of(2)
            {
                if c.is_multiple_of(3) {
                    out.push_str(&format!("%{b:02x}"));
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            } else {
                out.push(b as char);
            }
        }
        out
    }

    /// A JSON string's content, each character written literally or as any
    /// escape JSON allows for it.
    fn json_escape_text(text: &str, choice: &mut impl Iterator<Item = u8>) -> String {
        let mut out = String::new();
        for ch in text.chars() {
            let c = choice.next().unwrap_or(0);
            let short = match ch {
                '"' => Some("\\\""),
                '\\' => Some("\\\\"),
                '/' => Some("\\/"),
                '\n' => Some("\\n"),
                '\t' => Some("\\t"),
                '\r' => Some("\\r"),
                '\u{8}' => Some("\\b"),
                '\u{c}' => Some("\\f"),
                _ => None,
            };
            let must = ch == '"' || ch == '\\' || (ch as u32) < 0x20;
            let unicode = c.is_multiple_of(3) || (must && short.is_none());
            if unicode {
                for unit in ch.encode_utf16(&mut [0; 2]) {
                    if c.is_multiple_of(2) {
                        out.push_str(&format!("\\u{unit:04x}"));
                    } else {
                        out.push_str(&format!("\\u{unit:04X}"));
                    }
                }
            } else if let Some(short) = short.filter(|_| must || c % 3 == 1) {
                out.push_str(short);
            } else {
                out.push(ch);
            }
        }
        out
    }

    fn noise_char() -> impl Strategy<Value = char> {
        prop_oneof![
            3 => any::<char>(),
            3 => prop::sample::select(vec!['\\', '%', '+', 'u', 'd', '8', '0', '2', 'F', '/', '"', ' ', '=', '*']),
            2 => prop::char::range('a', 'z'),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn no_encoding_of_a_secret_survives(secret in secret(), how in embedding()) {
            let scrubber = Scrubber::new([how.credential.header(&secret).as_slice()]);
            let body = how.body(&secret);
            prop_assert!(how.reveals(body.as_bytes(), &secret).map_err(TestCaseError::fail)?, "the oracle misses {body}");
            let clean = scrubber.scrub(Bytes::from(body.clone()));
            let leaked = how.reveals(&clean, &secret).map_err(TestCaseError::fail)?;
            prop_assert!(
                !leaked,
                "{:?} survives in {}",
                secret,
                String::from_utf8_lossy(&clean)
            );
        }

        #[test]
        fn bodies_without_a_secret_are_untouched(
            secret in secret(),
            how in embedding(),
            noise in prop::collection::vec(noise_char(), 0..300),
        ) {
            let scrubber = Scrubber::new([how.credential.header(&secret).as_slice()]);
            let noise: String = noise.into_iter().collect();
            for body in [noise.clone(), serde_json::json!({"message": noise}).to_string()] {
                let body = Bytes::from(body);
                let out = scrubber.scrub(body.clone());
                prop_assert_eq!(out.as_ptr(), body.as_ptr());
                prop_assert_eq!(out.len(), body.len());
            }
        }
    }
}
