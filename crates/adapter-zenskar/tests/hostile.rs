//! Hostile Zenskar bodies, of both families, through `Provider::normalize`
//! (which tells `/checkout` from `/checkouts` by the body): huge, deeply
//! nested, wrong types, NaN-like numbers, invalid UTF-8. Each one is
//! `provider_bad_response` (a 502 at the gateway), never a panic, and the
//! error names where the body went wrong without echoing it.
//!
//! Bytes after the JSON value are refused by the shared parser. Invalid UTF-8
//! inside a value the adapter does not read passes `normalize`, and the
//! gateway's read path refuses it when it keeps the body for `?include=raw`
//! (`raw_json`), so the caller still gets a 502; both are checked through that
//! read path. Nesting inside an ignored value is skipped without recursion, so it
//! is harmless and read like the body without it.
//! (The fuzz target `fuzz/fuzz_targets/zenskar.rs` covers the rest.)

use adapter_zenskar::Zenskar;
use checkout_core::{Money, Provider};
use fixture_kit::hostile::{Hostile, DEPTH, MIB};
use serde_json::{json, Value};

/// The two families, each with a real get body and its field names.
#[derive(Debug, Clone, Copy)]
enum Family {
    /// `/checkout` (fixtures/zenskar/get_checkout_completed_paid_kwd.json).
    A,
    /// `/checkouts` (fixtures/zenskar/get_checkouts_payment_succeeded_jpy.json).
    B,
}
use Family::{A, B};

impl Family {
    /// The harness over this family's real get body.
    fn hostile(self) -> Hostile {
        let fixture: &[u8] = match self {
            A => include_bytes!("../../../fixtures/zenskar/get_checkout_completed_paid_kwd.json"),
            B => {
                include_bytes!("../../../fixtures/zenskar/get_checkouts_payment_succeeded_jpy.json")
            }
        };
        Hostile::new(&Zenskar, &[], fixture)
    }

    fn base(self) -> Value {
        self.hostile().base()
    }

    fn status(self) -> &'static str {
        match self {
            A => "checkout_session_status",
            B => "checkout_status",
        }
    }

    /// Where the amount is (read as an exact decimal in the currency).
    fn amount(self) -> &'static [&'static str] {
        match self {
            A => &["estimates", "amount_due"],
            B => &["estimates", "current_invoice", "total"],
        }
    }

    /// A field this family sends that the adapter does not read.
    fn ignored(self) -> &'static str {
        match self {
            A => "execution_id",
            B => "organisation_id",
        }
    }

    /// String fields the adapter reads.
    fn read_fields(self) -> [&'static str; 5] {
        [
            "id",
            self.status(),
            "created_at",
            "expires_at",
            match self {
                A => "payment_status",
                B => "plan_id",
            },
        ]
    }

    fn with(self, path: &[&str], value: Value) -> Vec<u8> {
        self.hostile().with_at(path, value)
    }

    fn with_raw(self, path: &[&str], text: &[u8]) -> Vec<u8> {
        self.hostile().with_raw_at(path, text)
    }

    #[track_caller]
    fn assert_ignored(self, what: &str, body: &[u8]) {
        self.hostile().assert_ignored(what, body)
    }
}

/// The checks that do not depend on the family.
fn checks() -> Hostile {
    A.hostile()
}

#[test]
fn the_base_bodies_are_read() {
    for family in [A, B] {
        let s = Zenskar
            .normalize("default", &serde_json::to_vec(&family.base()).unwrap())
            .unwrap();
        assert!(s.amount_total.is_some(), "{family:?}");
    }
}

#[test]
fn huge_bodies() {
    checks().assert_bad_response("8 MiB of text", &vec![b'x'; 8 * MIB]);
    let mut zeros = b"[".to_vec();
    zeros.extend(std::iter::repeat_n(&b"0,"[..], 4 * MIB).flatten());
    zeros.extend_from_slice(b"0]");
    checks().assert_bad_response("an 8 MiB array", &zeros);
    let mut unterminated = br#"{"checkout_session_status":"open","id":""#.to_vec();
    unterminated.resize(8 * MIB, b'a');
    checks().assert_bad_response("an unterminated 8 MiB string", &unterminated);
    for family in [A, B] {
        let mut trailing = serde_json::to_vec(&family.base()).unwrap();
        trailing.resize(8 * MIB, b' ');
        trailing.push(b'x');
        checks().assert_read_path_refuses(
            &format!("{family:?}: a body followed by 8 MiB and garbage"),
            &trailing,
        );
        checks().assert_bad_response(
            &format!("{family:?}: an 8 MiB status of the wrong type"),
            &family.with(&[family.status()], json!(vec![0; MIB])),
        );
        checks().assert_bad_response(
            &format!("{family:?}: an 8 MiB amount"),
            &family.with_raw(family.amount(), &vec![b'9'; 8 * MIB]),
        );
    }
    // The error names the path, which holds the key: bounded, not echoed.
    let key = [
        &br#"{"checkout_status":"open",""#[..],
        &vec![b'k'; 8 * MIB],
        br#"":[nope]}"#,
    ]
    .concat();
    checks().assert_bad_response("an 8 MiB key before a broken value", &key);
}

#[test]
fn deeply_nested_bodies() {
    let open = "[".repeat(DEPTH);
    let closed = "]".repeat(DEPTH);
    let nested = format!("{open}{closed}");
    checks().assert_bad_response("100k [", open.as_bytes());
    checks().assert_bad_response("100k [ and ]", nested.as_bytes());
    let objects = format!("{}0{}", r#"{"id":"#.repeat(DEPTH), "}".repeat(DEPTH));
    checks().assert_bad_response("100k nested objects", objects.as_bytes());
    for family in [A, B] {
        let what = |w: &str| format!("{family:?}: {w}");
        checks().assert_bad_response(
            &what("100k [ as the status"),
            &family.with_raw(&[family.status()], nested.as_bytes()),
        );
        checks().assert_bad_response(
            &what("100k [ in customer_data (kept as a JSON value)"),
            &family.with_raw(&["customer_data"], nested.as_bytes()),
        );
        checks().assert_bad_response(
            &what("100k [ as the amount"),
            &family.with_raw(family.amount(), nested.as_bytes()),
        );
        family.assert_ignored(
            &what("100k [ in a field the adapter ignores"),
            &family.with_raw(&[family.ignored()], nested.as_bytes()),
        );
        family.assert_ignored(
            &what("100k nested objects in an unknown field"),
            &family.with_raw(&["no_such_field"], objects.as_bytes()),
        );
        checks().assert_bad_response(
            &what("100k unbalanced [ in an unknown field"),
            &family.with_raw(&["no_such_field"], open.as_bytes()),
        );
    }
}

#[test]
fn wrong_types() {
    for top in [
        "null",
        "true",
        "42",
        r#""text""#,
        "[]",
        "{}",
        r#"{"checkout_session_status":null}"#,
        r#"{"checkout_status":null}"#,
    ] {
        checks().assert_bad_response(top, top.as_bytes());
    }
    for family in [A, B] {
        checks().assert_bad_response(
            &format!("{family:?}: the body in an array"),
            format!("[{}]", family.base()).as_bytes(),
        );
        for (path, value) in [
            (&["id"][..], json!(42)),
            (&["id"], json!(null)),
            (&["id"], json!("")),
            (&["id"], json!("58B98609-B68C-4A6D-83EA-B07922341CCE")),
            (&["id"], json!("../../checkouts")),
            (&[family.status()], json!(1)),
            (&[family.status()], json!({"value": "open"})),
            (&["created_at"], json!(1_772_865_005)),
            (&["created_at"], json!("yesterday")),
            (&["created_at"], json!("2026-13-45T25:61:61")),
            (&["expires_at"], json!(true)),
            (&["expires_at"], json!("+275760-09-13T00:00:00Z")),
            (&["customer_id"], json!(["a716fabe"])),
            (&["success_url"], json!(5)),
            (&["estimates"], json!("none")),
            (family.amount(), json!("abc")),
            (family.amount(), json!(true)),
            (family.amount(), json!({"value": 1})),
            (family.amount(), json!([21.295])),
        ] {
            checks().assert_bad_response(
                &format!("{family:?}: {} = {value}", path.join(".")),
                &family.with(path, value),
            );
        }
        // Both status fields: neither family.
        let both = match family {
            A => family.with(&["checkout_status"], json!("open")),
            B => family.with(&["checkout_session_status"], json!("open")),
        };
        checks().assert_bad_response(&format!("{family:?}: both statuses"), &both);
        let mut missing = family.base();
        missing.as_object_mut().unwrap().remove("id");
        checks().assert_bad_response(
            &format!("{family:?}: no id"),
            &serde_json::to_vec(&missing).unwrap(),
        );
    }
    for (path, value) in [
        (&["payment_status"][..], json!(1)),
        (&["contract"], json!("plan")),
        (&["contract", "currency"], json!(414)),
        (&["currency"], json!({"code": "KWD"})),
        (&["cancellation_details"], json!("fraud")),
        (&["estimates", "current_invoice", "line_items"], json!({})),
    ] {
        checks().assert_bad_response(
            &format!("A: {} = {value}", path.join(".")),
            &A.with(path, value),
        );
    }
    for (path, value) in [
        (&["plan_id"][..], json!(1)),
        (&["estimates", "current_invoice"], json!(15000)),
        (&["estimates", "current_invoice", "currency"], json!(392)),
    ] {
        checks().assert_bad_response(
            &format!("B: {} = {value}", path.join(".")),
            &B.with(path, value),
        );
    }
}

#[test]
fn nan_like_numbers() {
    let hostile = [
        "NaN",
        "-NaN",
        "Infinity",
        "-Infinity",
        "1e400",
        "-1e400",
        "1e-400",
        "-0e400",
        "1e99999999999999999999",
        "123456789012345678901234567890",
        "79228162514264337593543950336",
        "-9223372036854775809",
        "18446744073709551616",
        "1e19",
        "0.0000000000000000000000000000001",
        "0x10",
        "01",
        "1.",
        ".5",
        "+1",
    ];
    for number in hostile {
        checks().assert_bad_response(number, number.as_bytes());
        for family in [A, B] {
            for field in family.read_fields() {
                checks().assert_bad_response(
                    &format!("{family:?}: {field} = {number}"),
                    &family.with_raw(&[field], number.as_bytes()),
                );
            }
            checks().assert_bad_response(
                &format!("{family:?}: amount = {number}"),
                &family.with_raw(family.amount(), number.as_bytes()),
            );
            // Zenskar may send a decimal as a string, where `01`, `1.`, `.5`
            // and `+1` are fine; the rest are no amount in any form.
            if !matches!(number, "01" | "1." | ".5" | "+1") {
                checks().assert_bad_response(
                    &format!("{family:?}: amount = \"{number}\""),
                    &family.with(family.amount(), json!(number)),
                );
            }
        }
    }
    // Zero in its ordinary spellings is an amount Zenskar may send: exactly
    // zero, in the body's currency, never negative or invented.
    for zero in ["-0", "0e0", "-0.0", "0E-5"] {
        checks().assert_bad_response(zero, zero.as_bytes());
        for (family, currency) in [(A, "KWD"), (B, "JPY")] {
            for field in ["id", family.status(), "created_at"] {
                checks().assert_bad_response(
                    &format!("{family:?}: {field} = {zero}"),
                    &family.with_raw(&[field], zero.as_bytes()),
                );
            }
            let what = format!("{family:?}: amount = {zero}");
            let s = checks()
                .normalize(&what, &family.with_raw(family.amount(), zero.as_bytes()))
                .expect(&what);
            assert_eq!(
                s.amount_total,
                Some(Money {
                    amount_minor: 0,
                    currency: currency.to_owned()
                }),
                "{what}"
            );
        }
    }
}

#[test]
fn invalid_utf8() {
    checks().assert_bad_response("bare invalid bytes", b"\xff\xfe\xfd");
    checks().assert_bad_response("a UTF-16 body", b"\xff\xfe{\x00\"\x00");
    let bytes: [&[u8]; 5] = [
        b"\"open\xff\"",
        b"\"\xc0\xaf\"",
        b"\"\xed\xa0\x80\"",
        b"\"\xf4\x90\x80\x80\"",
        b"\"caf\xe9\"",
    ];
    // Lone surrogates: valid JSON text, but no Unicode string.
    let escapes: [&[u8]; 2] = [b"\"\\ud800\"", b"\"\\udfff\\ud800\""];
    for family in [A, B] {
        let mut bom = serde_json::to_vec(&family.base()).unwrap();
        bom.splice(0..0, b"\xef\xbb\xbf".iter().copied());
        checks().assert_bad_response(&format!("{family:?}: a byte-order mark"), &bom);
        for text in bytes.iter().chain(&escapes) {
            let what = String::from_utf8_lossy(text);
            for field in family.read_fields() {
                checks().assert_bad_response(
                    &format!("{family:?}: {field} = {what}"),
                    &family.with_raw(&[field], text),
                );
            }
            checks().assert_bad_response(
                &format!("{family:?}: amount = {what}"),
                &family.with_raw(family.amount(), text),
            );
        }
        for text in bytes {
            let what = format!(
                "{family:?}: an ignored field = {}",
                String::from_utf8_lossy(text)
            );
            checks().assert_read_path_refuses(&what, &family.with_raw(&[family.ignored()], text));
        }
        for text in escapes {
            let what = format!(
                "{family:?}: an ignored field = {}",
                String::from_utf8_lossy(text)
            );
            family.assert_ignored(&what, &family.with_raw(&[family.ignored()], text));
        }
    }
}

/// Regression (found by these tests): the shared parser's error names the
/// JSON path where reading failed, and that path holds the vendor's object
/// keys; it once copied them whole, so a body could put any text, of any
/// length, into the caller's 502 message.
#[test]
fn a_huge_key_is_not_echoed() {
    let key = [
        &br#"{"checkout_status":"open",""#[..],
        &vec![b'k'; MIB],
        br#"":[nope]}"#,
    ]
    .concat();
    checks().assert_bad_response("a 1 MiB key before a broken value", &key);
}

/// Hostile list answers through `Connector::read_list`: each is
/// `provider_bad_response` carrying the vendor status, never a panic.
#[test]
fn hostile_list_bodies() {
    use adapter_zenskar::ZenskarAccount;
    use checkout_core::{Connector, ListQuery, VendorAnswer};
    use fixture_kit::hostile::{assert_list_refused, list_bodies};

    let account = ZenskarAccount::from_config(
        "default",
        serde_json::json!({"api_key": "k", "organisation": "aa92a968-3677-4eef-a4b3-c34c686c61c4"}),
    )
    .expect("config");
    let list: serde_json::Value = serde_json::from_slice(include_bytes!(
        "../../../fixtures/zenskar/list_checkout_first_page.json"
    ))
    .expect("fixture");
    let item = list["data"][0].clone();
    let spoiled = [
        ("id", serde_json::json!("../admin")),
        ("checkout_session_status", serde_json::json!(null)),
        ("created_at", serde_json::json!("yesterday")),
        ("payment_status", serde_json::json!(3)),
    ];
    let mut bodies = list_bodies("data", &item, &spoiled);
    bodies.push(("no data".to_owned(), br#"{"next":null,"total":0}"#.to_vec()));
    for (what, body) in bodies {
        let answer = VendorAnswer {
            status: 200,
            body: body.into(),
            ..VendorAnswer::default()
        };
        assert_list_refused(&what, || account.read_list(&ListQuery::default(), &answer));
    }
}
