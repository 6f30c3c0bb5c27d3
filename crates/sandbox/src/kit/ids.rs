//! Random id material in the alphabets the vendors' ids use; each vendor
//! adds its own prefixes and lengths.

use rand::Rng;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const HEX: &[u8] = b"0123456789abcdef";

fn random(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())]))
        .collect()
}

/// `len` characters of `[0-9A-Za-z]` (nanoids, Stripe tokens).
pub(crate) fn base62(len: usize) -> String {
    random(BASE62, len)
}

/// `len` lower-case hex digits (request ids, trace ids).
pub(crate) fn hex(len: usize) -> String {
    random(HEX, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphabets_and_lengths() {
        let b = base62(64);
        assert!(b.len() == 64 && b.bytes().all(|c| c.is_ascii_alphanumeric()));
        let h = hex(32);
        assert!(h.len() == 32 && h.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')));
        assert_ne!(base62(21), base62(21));
    }
}
