//! Our signatures, verified by the Standard Webhooks reference library for
//! Python (`tests/sdk/standard-webhooks/check.py`): what any receiver using
//! it will do with the gateway's deliveries. Runs only when
//! `CHECKOUT_GATEWAY_TEST_STANDARDWEBHOOKS` names a Python that has the
//! package (`pip install --require-hashes -r tests/sdk/standard-webhooks/requirements.txt`).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use checkout_core::CheckoutSession;
use chrono::Utc;
use feed::{event, signature_header, EventType, Secret};
use serde_json::json;

const PYTHON_VAR: &str = "CHECKOUT_GATEWAY_TEST_STANDARDWEBHOOKS";
const VECTORS: usize = 20;

/// Characters bodies and ids are drawn from: ASCII, JSON's escapes, and
/// several scripts and planes, so that byte-for-byte agreement on UTF-8 is tested.
const ALPHABET: &[char] = &[
    'a', 'Z', '0', '9', ' ', '"', '\\', '/', '\n', '\t', '.', '{', '}', 'é', 'ß', 'ø', 'Ж', 'ש',
    'ع', '中', '文', 'ｶ', '😀', '🧾', '\u{200b}', '\u{fffd}',
];

/// xorshift64*: enough to vary the vectors per run; the seed is printed so a
/// failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn text(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| ALPHABET[self.below(ALPHABET.len())])
            .collect()
    }

    fn hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from(b"0123456789abcdef"[self.below(16)]))
            .collect()
    }

    fn secret(&mut self) -> String {
        let key: Vec<u8> = (0..32).map(|_| self.next() as u8).collect();
        format!("whsec_{}", STANDARD.encode(key))
    }
}

fn check_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/sdk/standard-webhooks/check.py")
}

/// Sign `body` with both secrets (a rotation) and describe it for check.py,
/// which verifies with `verify_with` only.
fn vector(secrets: &[Secret; 2], verify_with: &str, id: &str, body: &str) -> serde_json::Value {
    let timestamp = Utc::now().timestamp();
    json!({
        "secret": verify_with,
        "id": id,
        "timestamp": timestamp,
        "body": body,
        "signature": signature_header(secrets, id, timestamp, body.as_bytes()),
    })
}

fn run_check(python: &str, vectors: &[serde_json::Value]) -> Output {
    let mut child = Command::new(python)
        .arg(check_script())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{PYTHON_VAR}={python}: cannot run: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    for vector in vectors {
        writeln!(stdin, "{vector}").unwrap();
    }
    drop(stdin);
    child.wait_with_output().unwrap()
}

#[test]
fn the_reference_library_verifies_our_signatures() {
    let Some(python) = std::env::var(PYTHON_VAR).ok().filter(|v| !v.is_empty()) else {
        let _ = writeln!(
            std::io::stderr().lock(),
            "skipped: set {PYTHON_VAR}=<python with tests/sdk/standard-webhooks/requirements.txt installed> \
             to verify signatures with the Standard Webhooks library"
        );
        return;
    };
    let seed = Utc::now().timestamp_nanos_opt().unwrap_or(1) as u64 | 1;
    eprintln!("seed {seed}");
    let mut rng = Rng(seed);
    let texts = [rng.secret(), rng.secret()];
    let secrets = texts.clone().map(|text| Secret::parse(&text).unwrap());

    // One real event body, then random JSON bodies with unicode throughout.
    let session: CheckoutSession =
        serde_json::from_str(include_str!("fixtures/session_open.json")).unwrap();
    let first = event(
        EventType::Created,
        &session,
        None,
        Utc::now(),
        feed::new_event_id(&rng.hex(32)),
    );
    let mut vectors = vec![vector(&secrets, &texts[0], &first.id, &first.body)];
    while vectors.len() < VECTORS {
        let id = format!("evt_{}", rng.hex(32));
        let len = 1 + rng.below(60);
        let body = json!({ "id": id, "note": rng.text(len), "n": rng.next() }).to_string();
        let verify_with = &texts[vectors.len() % 2];
        vectors.push(vector(&secrets, verify_with, &id, &body));
    }

    let output = run_check(&python, &vectors);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "check.py failed (seed {seed}): {stdout}{stderr}"
    );
    assert_eq!(stdout.trim(), format!("verified {VECTORS}"), "{stderr}");

    // The control: check.py must refuse what does not verify.
    let mut tampered = vectors[1].clone();
    tampered["body"] = json!(r#"{"id":"evt_tampered"}"#);
    let output = run_check(&python, &[vectors[0].clone(), tampered]);
    assert!(!output.status.success(), "check.py accepted a changed body");
}
