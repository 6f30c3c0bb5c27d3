//! Hostile Flowglad bodies through `Provider::normalize`: huge, deeply
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
//! (The fuzz target `fuzz/fuzz_targets/flowglad.rs` covers the rest.)

use adapter_flowglad::Flowglad;
use checkout_core::Provider;
use fixture_kit::hostile::{Hostile, DEPTH, MIB};
use serde_json::json;

/// Where the session's fields sit in a body.
const SESSION: &str = "checkoutSession";
/// A field the adapter does not read (a future one).
const IGNORED: &str = "someFutureField";

/// A real get body (fixtures/flowglad/get_open.json).
fn hostile() -> Hostile {
    Hostile::new(
        &Flowglad,
        &[SESSION],
        include_bytes!("../../../fixtures/flowglad/get_open.json"),
    )
}

#[test]
fn the_base_body_is_read() {
    assert!(Flowglad
        .normalize("default", &hostile().base_bytes())
        .is_ok());
}

#[test]
fn huge_bodies() {
    hostile().assert_bad_response("8 MiB of text", &vec![b'x'; 8 * MIB]);
    let mut zeros = b"[".to_vec();
    zeros.extend(std::iter::repeat_n(&b"0,"[..], 4 * MIB).flatten());
    zeros.extend_from_slice(b"0]");
    hostile().assert_bad_response("an 8 MiB array", &zeros);
    let mut unterminated = br#"{"checkoutSession":{"id":""#.to_vec();
    unterminated.resize(8 * MIB, b'a');
    hostile().assert_bad_response("an unterminated 8 MiB string", &unterminated);
    let mut trailing = hostile().base_bytes();
    trailing.resize(8 * MIB, b' ');
    trailing.push(b'x');
    hostile().assert_read_path_refuses("a body followed by 8 MiB and garbage", &trailing);
    hostile().assert_bad_response(
        "an 8 MiB status of the wrong type",
        &hostile().with("status", json!(vec![0; MIB])),
    );
    // The error names the path, which holds the key: bounded, not echoed.
    let key = [
        &br#"{"checkoutSession":{""#[..],
        &vec![b'k'; 8 * MIB],
        br#"":[nope]}}"#,
    ]
    .concat();
    hostile().assert_bad_response("an 8 MiB key before a broken value", &key);
}

#[test]
fn deeply_nested_bodies() {
    let open = "[".repeat(DEPTH);
    let closed = "]".repeat(DEPTH);
    hostile().assert_bad_response("100k [", open.as_bytes());
    hostile().assert_bad_response("100k [ and ]", format!("{open}{closed}").as_bytes());
    let objects = format!(
        "{}0{}",
        r#"{"checkoutSession":"#.repeat(DEPTH),
        "}".repeat(DEPTH)
    );
    hostile().assert_bad_response("100k nested objects", objects.as_bytes());
    hostile().assert_bad_response(
        "100k [ as the session",
        format!(r#"{{"checkoutSession":{open}{closed}}}"#).as_bytes(),
    );
    hostile().assert_ignored(
        "100k [ in a field the adapter ignores",
        &hostile().with_raw(IGNORED, format!("{open}{closed}").as_bytes()),
    );
    hostile().assert_ignored(
        "100k nested objects in an unknown field",
        &hostile().with_raw("no_such_field", objects.as_bytes()),
    );
    hostile().assert_bad_response(
        "100k unbalanced [ in an unknown field",
        &hostile().with_raw("no_such_field", open.as_bytes()),
    );
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
        r#"{"checkoutSession":null}"#,
    ] {
        hostile().assert_bad_response(top, top.as_bytes());
    }
    hostile().assert_bad_response(
        "the body in an array",
        format!("[{}]", hostile().base()).as_bytes(),
    );
    for session in [
        json!(null),
        json!([]),
        json!("chckt_session_BSr5TRk8jK4x58f6FE8du"),
        json!(1),
        json!(true),
    ] {
        hostile().assert_bad_response(
            &format!("session {session}"),
            &serde_json::to_vec(&json!({ "checkoutSession": session })).unwrap(),
        );
    }
    for (field, value) in [
        ("id", json!(42)),
        ("id", json!(null)),
        ("id", json!("")),
        ("id", json!("../../admin")),
        ("status", json!(1)),
        ("status", json!(null)),
        ("type", json!(false)),
        ("createdAt", json!(null)),
        ("createdAt", json!(true)),
        ("createdAt", json!([1_773_135_003_311_i64])),
        ("createdAt", json!({"ms": 1})),
        ("createdAt", json!("yesterday")),
        ("createdAt", json!(1.5)),
        ("createdAt", json!(i64::MAX)),
        ("createdAt", json!(i64::MIN)),
        ("createdAt", json!(u64::MAX)),
        ("updatedAt", json!("2026-13-45T25:61:61Z")),
        ("expires", json!([])),
        ("expires", json!("+275760-09-13T00:00:00Z")),
        ("quantity", json!("one")),
        ("quantity", json!(1.5)),
        ("quantity", json!(u64::MAX)),
        ("livemode", json!("yes")),
        ("billingAddress", json!(5)),
        ("billingAddress", json!({"name": 5})),
        ("billingAddress", json!({"address": "1 Main St"})),
        ("outputMetadata", json!([])),
        ("outputMetadata", json!("k=v")),
        ("customerEmail", json!(5)),
        ("priceId", json!({})),
    ] {
        hostile().assert_bad_response(
            &format!("session.{field} = {value}"),
            &hostile().with(field, value),
        );
    }
    for field in ["id", "createdAt", "status", "type"] {
        let mut missing = hostile().base();
        missing[SESSION].as_object_mut().unwrap().remove(field);
        hostile().assert_bad_response(
            &format!("no {field}"),
            &serde_json::to_vec(&missing).unwrap(),
        );
    }
    let mut url = hostile().base();
    url["url"] = json!(["https://app.flowglad.com/checkout"]);
    hostile().assert_bad_response("url beside the record", &serde_json::to_vec(&url).unwrap());
}

#[test]
fn nan_like_numbers() {
    for number in [
        "NaN",
        "-NaN",
        "Infinity",
        "-Infinity",
        "1e400",
        "-1e400",
        "123456789012345678901234567890",
        "-9223372036854775809",
        "18446744073709551616",
        "1e19",
        "0x10",
        "01",
        "1.",
        ".5",
        "+1",
    ] {
        hostile().assert_bad_response(number, number.as_bytes());
        for field in [
            "id",
            "status",
            "type",
            "createdAt",
            "updatedAt",
            "expires",
            "quantity",
        ] {
            hostile().assert_bad_response(
                &format!("checkoutSession.{field} = {number}"),
                &hostile().with_raw(field, number.as_bytes()),
            );
        }
    }
    // Zero, however it is spelled, is a number Flowglad may send: epoch 0,
    // not an error, and never a negative or invented time.
    for zero in ["-0", "0e0", "-0.0", "0E-5"] {
        hostile().assert_bad_response(zero, zero.as_bytes());
        for field in ["id", "status", "type"] {
            hostile().assert_bad_response(
                &format!("checkoutSession.{field} = {zero}"),
                &hostile().with_raw(field, zero.as_bytes()),
            );
        }
        let s = hostile()
            .normalize(zero, &hostile().with_raw("createdAt", zero.as_bytes()))
            .expect(zero);
        assert_eq!(s.created_at.timestamp_millis(), 0, "{zero}");
    }
}

#[test]
fn invalid_utf8() {
    hostile().assert_bad_response("bare invalid bytes", b"\xff\xfe\xfd");
    hostile().assert_bad_response("a UTF-16 body", b"\xff\xfe{\x00\"\x00");
    let mut bom = hostile().base_bytes();
    bom.splice(0..0, b"\xef\xbb\xbf".iter().copied());
    hostile().assert_bad_response("a byte-order mark", &bom);
    let bytes: [&[u8]; 5] = [
        b"\"che_\xff\"",
        b"\"\xc0\xaf\"",
        b"\"\xed\xa0\x80\"",
        b"\"\xf4\x90\x80\x80\"",
        b"\"caf\xe9\"",
    ];
    // Lone surrogates: valid JSON text, but no Unicode string.
    let escapes: [&[u8]; 2] = [b"\"\\ud800\"", b"\"\\udfff\\ud800\""];
    for text in bytes.iter().chain(&escapes) {
        let what = String::from_utf8_lossy(text);
        for field in [
            "id",
            "status",
            "type",
            "createdAt",
            "customerName",
            "priceId",
        ] {
            hostile().assert_bad_response(
                &format!("session.{field} = {what}"),
                &hostile().with_raw(field, text),
            );
        }
    }
    for text in bytes {
        let what = format!("an ignored field = {}", String::from_utf8_lossy(text));
        hostile().assert_read_path_refuses(&what, &hostile().with_raw(IGNORED, text));
    }
    for text in escapes {
        let what = format!("an ignored field = {}", String::from_utf8_lossy(text));
        hostile().assert_ignored(&what, &hostile().with_raw(IGNORED, text));
    }
}

/// Regression (found by these tests): the shared parser's error names the
/// JSON path where reading failed, and that path holds the vendor's object
/// keys; it once copied them whole, so a body could put any text, of any
/// length, into the caller's 502 message.
#[test]
fn a_huge_key_is_not_echoed() {
    let key = [
        &br#"{"checkoutSession":{""#[..],
        &vec![b'k'; MIB],
        br#"":[nope]}}"#,
    ]
    .concat();
    hostile().assert_bad_response("a 1 MiB key before a broken value", &key);
}

/// Hostile list answers through `Connector::read_list`: each is
/// `provider_bad_response` carrying the vendor status, never a panic.
#[test]
fn hostile_list_bodies() {
    use adapter_flowglad::FlowgladAccount;
    use checkout_core::{Connector, ListQuery, VendorAnswer};
    use fixture_kit::hostile::{assert_list_refused, list_bodies};

    let account =
        FlowgladAccount::from_config("default", serde_json::json!({"api_key": "sk_test_k"}))
            .expect("config");
    let item = hostile().base()["checkoutSession"].clone();
    let spoiled = [
        ("id", serde_json::json!(42)),
        ("status", serde_json::json!(null)),
        ("createdAt", serde_json::json!("yesterday")),
        ("expires", serde_json::json!(1.5)),
    ];
    let mut bodies = list_bodies("data", &item, &spoiled);
    bodies.push((
        "no data".to_owned(),
        br#"{"hasMore":false,"total":0}"#.to_vec(),
    ));
    for (what, body) in bodies {
        let answer = VendorAnswer {
            status: 200,
            body: body.into(),
            ..VendorAnswer::default()
        };
        assert_list_refused(&what, || account.read_list(&ListQuery::default(), &answer));
    }
}
