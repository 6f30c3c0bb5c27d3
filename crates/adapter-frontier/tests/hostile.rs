//! Hostile Frontier bodies (Connect and legacy REST shapes) through `Provider::normalize`: huge, deeply
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
//! (The fuzz target `fuzz/fuzz_targets/frontier.rs` covers the rest.)

use adapter_frontier::Frontier;
use checkout_core::Provider;
use fixture_kit::hostile::{Hostile, DEPTH, MIB};
use serde_json::json;

/// Where the session's fields sit in a body.
const SESSION: &str = "checkout_session";
/// A field the adapter does not read (a future one).
const IGNORED: &str = "some_future_field";

/// A real get body (fixtures/frontier/get_connect_open.json).
fn hostile() -> Hostile {
    Hostile::new(
        &Frontier,
        &[SESSION],
        include_bytes!("../../../fixtures/frontier/get_connect_open.json"),
    )
}

#[test]
fn the_base_body_is_read() {
    assert!(Frontier
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
    let mut unterminated = br#"{"checkout_session":{"id":""#.to_vec();
    unterminated.resize(8 * MIB, b'a');
    hostile().assert_bad_response("an unterminated 8 MiB string", &unterminated);
    let mut trailing = hostile().base_bytes();
    trailing.resize(8 * MIB, b' ');
    trailing.push(b'x');
    hostile().assert_read_path_refuses("a body followed by 8 MiB and garbage", &trailing);
    hostile().assert_bad_response(
        "an 8 MiB state of the wrong type",
        &hostile().with("state", json!(vec![0; MIB])),
    );
    // The error names the path, which holds the key: bounded, not echoed.
    let key = [
        &br#"{"checkout_session":{""#[..],
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
        r#"{"checkout_session":"#.repeat(DEPTH),
        "}".repeat(DEPTH)
    );
    hostile().assert_bad_response("100k nested objects", objects.as_bytes());
    hostile().assert_bad_response(
        "100k [ as the session",
        format!(r#"{{"checkout_session":{open}{closed}}}"#).as_bytes(),
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
        "100k [ in metadata (kept as a JSON value)",
        &hostile().with_raw("metadata", format!("{open}{closed}").as_bytes()),
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
        r#"{"checkout_session":null}"#,
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
        json!("be037d6c-6284-4a81-acd3-cead659d9022"),
        json!(1),
        json!(true),
    ] {
        hostile().assert_bad_response(
            &format!("session {session}"),
            &serde_json::to_vec(&json!({ "checkout_session": session })).unwrap(),
        );
    }
    // proto3: `null` is an empty string for the string fields, so it is no
    // wrong type there.
    for (field, value) in [
        ("id", json!(42)),
        ("id", json!(null)),
        ("id", json!("")),
        ("id", json!("BE037D6C-6284-4A81-ACD3-CEAD659D9022")),
        ("id", json!("be037d6c-6284-4a81-acd3-cead659d9022/../x")),
        ("state", json!(1)),
        ("state", json!(["open"])),
        ("plan", json!(5)),
        ("product", json!({})),
        ("checkout_url", json!(5)),
        ("success_url", json!(true)),
        ("created_at", json!(null)),
        ("created_at", json!(1_763_370_012)),
        ("created_at", json!("yesterday")),
        ("created_at", json!("2026-13-45T25:61:61Z")),
        ("created_at", json!({"seconds": 1_763_370_012})),
        ("updated_at", json!("nope")),
        ("expire_at", json!([])),
        ("expire_at", json!("+275760-09-13T00:00:00Z")),
    ] {
        hostile().assert_bad_response(
            &format!("session.{field} = {value}"),
            &hostile().with(field, value),
        );
    }
    for field in ["id", "created_at"] {
        let mut missing = hostile().base();
        missing[SESSION].as_object_mut().unwrap().remove(field);
        hostile().assert_bad_response(
            &format!("no {field}"),
            &serde_json::to_vec(&missing).unwrap(),
        );
    }
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
        "-0",
        "0e0",
        "123456789012345678901234567890",
        "-9223372036854775809",
        "18446744073709551616",
        "0x10",
        "01",
        "1.",
        ".5",
        "+1",
    ] {
        hostile().assert_bad_response(number, number.as_bytes());
        for field in ["id", "state", "plan", "created_at", "expire_at"] {
            hostile().assert_bad_response(
                &format!("session.{field} = {number}"),
                &hostile().with_raw(field, number.as_bytes()),
            );
        }
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
        for field in ["id", "state", "plan", "created_at", "checkout_url"] {
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
        &br#"{"checkout_session":{""#[..],
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
    use adapter_frontier::FrontierAccount;
    use checkout_core::{Connector, ListQuery, VendorAnswer};
    use fixture_kit::hostile::{assert_list_refused, list_bodies};

    let account = FrontierAccount::from_config(
        "default",
        serde_json::json!({"base_url": "http://127.0.0.1:8002", "bearer_token": "t"}),
    )
    .expect("config");
    let query = ListQuery {
        customer: Some("ca4f1694-b649-4a83-81b2-b168b5510595".to_owned()),
        ..ListQuery::default()
    };
    let item = hostile().base()[SESSION].clone();
    let spoiled = [
        ("id", serde_json::json!("not-a-uuid")),
        ("state", serde_json::json!(7)),
        ("created_at", serde_json::json!("yesterday")),
        ("expire_at", serde_json::json!([])),
    ];
    // `{}` and `null` items are Connect's empty list, so not among these.
    for (what, body) in list_bodies("checkout_sessions", &item, &spoiled) {
        if what == "the items null" {
            continue;
        }
        let answer = VendorAnswer {
            status: 200,
            body: body.into(),
            ..VendorAnswer::default()
        };
        assert_list_refused(&what, || account.read_list(&query, &answer));
    }
}
