//! `cs_…` ids: `cs_` followed by the canonical id
//! (`provider:account:reference`) in unpadded base64url, so the id holds
//! only `[A-Za-z0-9_-]` (safe in a URL path) and a retrieve, an expire or
//! a list cursor needs no lookup to find the session.
//!
//! Unpadded base64url with its trailing bits required to be zero has one
//! encoding per input, so [`decode`] answers only what [`encode`] made;
//! it also requires the result to be a well-formed canonical id, so a
//! foreign `cs_…` id (a real Stripe one) reads as `None`, never as a
//! session of ours.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use checkout_core::SessionId;

const PREFIX: &str = "cs_";

/// The Stripe id of the session whose canonical id is `canonical_id`.
pub fn encode(canonical_id: &str) -> String {
    let mut out = String::with_capacity(PREFIX.len() + canonical_id.len().div_ceil(3) * 4);
    out.push_str(PREFIX);
    URL_SAFE_NO_PAD.encode_string(canonical_id, &mut out);
    out
}

/// The canonical id inside a `cs_…` id; `None` for anything [`encode`]
/// did not make from a canonical id.
pub fn decode(stripe_id: &str) -> Option<String> {
    let encoded = stripe_id.strip_prefix(PREFIX)?;
    let bytes = URL_SAFE_NO_PAD.decode(encoded).ok()?;
    let canonical = String::from_utf8(bytes).ok()?;
    SessionId::parse(&canonical).ok()?;
    Some(canonical)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_known_id() {
        let id = "meteroid:default:che_7n42DGM5Tflk9n8mt7Fhc7";
        let stripe = encode(id);
        assert!(stripe.starts_with("cs_"));
        assert!(stripe[3..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
        assert_eq!(decode(&stripe).as_deref(), Some(id));
    }

    #[test]
    fn foreign_and_tampered_ids_are_none() {
        for id in [
            "",
            "cs_",
            "cs_test_a1b2c3d4e5f6g7h8i9j0",
            "cs_live_b1MtpwY9er2giwMTl5zvJHJqLTHr0JO5DKN6RKiqKufYbTRoRWDg2UZ0kA",
            "pi_123",
            // Padding, and the standard alphabet, are not what encode makes.
            &format!("{}=", encode("meteroid:default:che_1")),
            &encode("meteroid:default:che_1").replace('_', "/"),
        ] {
            assert_eq!(decode(id), None, "{id}");
        }
        // Non-zero trailing bits: another spelling of the same bytes.
        let id = encode("flowglad:default:cs_1");
        let last = id.chars().last().unwrap();
        let bumped = format!(
            "{}{}",
            &id[..id.len() - 1],
            if last == 'A' { 'B' } else { 'A' }
        );
        assert_ne!(decode(&bumped).as_deref(), Some("flowglad:default:cs_1"));
        // Not a canonical id inside.
        assert_eq!(decode(&encode("no colons")), None);
        assert_eq!(decode(&encode("Meteroid:default:che_1")), None);
    }

    fn canonical_ids() -> impl Strategy<Value = String> {
        (
            "[a-z][a-z0-9_]{0,31}",
            "[a-z0-9][a-z0-9_-]{0,63}",
            "[A-Za-z0-9_:-]([A-Za-z0-9_:-]|\\.[A-Za-z0-9_:-]){0,60}",
        )
            .prop_map(|(p, a, r)| format!("{p}:{a}:{r}"))
            .prop_filter("a canonical id", |id| SessionId::parse(id).is_ok())
    }

    proptest! {
        #[test]
        fn every_canonical_id_round_trips(id in canonical_ids()) {
            let stripe = encode(&id);
            prop_assert!(stripe[3..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
            prop_assert_eq!(decode(&stripe), Some(id));
        }

        #[test]
        fn decode_answers_only_what_encode_made(s in "cs_[A-Za-z0-9_-]{0,80}") {
            if let Some(canonical) = decode(&s) {
                prop_assert_eq!(encode(&canonical), s);
            }
        }
    }
}
