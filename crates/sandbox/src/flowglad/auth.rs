//! The key check in front of every `/api/v1/…` path, as the vendor's
//! `withVerification` runs it: `Authorization: Bearer <key>` or the bare
//! key; each failure is a plain-text 401 without a request id. Unkey's
//! per-key rate limit answers with the same 401 as an invalid key.

use super::error::{invalid_key_message, MALFORMED_HEADER, MISSING_HEADER};

/// The key from an `Authorization` value: `Bearer <key>` (any case), or a
/// value without spaces; anything else with a space is refused.
pub fn key_from_header(value: &str) -> Option<&str> {
    let trimmed = value.trim();
    let prefix = "bearer ";
    if trimmed.len() >= prefix.len()
        && trimmed.is_char_boundary(prefix.len())
        && trimmed[..prefix.len()].eq_ignore_ascii_case(prefix)
    {
        return Some(&trimmed[prefix.len()..]);
    }
    (!trimmed.contains(' ')).then_some(trimmed)
}

/// The vendor's answer to a request's `Authorization` header, or `Ok` with
/// nothing to say. `rate_limited` is asked only for a valid key.
pub fn check(
    header: Option<&str>,
    keys: &[String],
    rate_limited: impl FnOnce() -> Option<String>,
) -> Result<(), String> {
    let header = header
        .filter(|h| !h.is_empty())
        .ok_or_else(|| MISSING_HEADER.to_owned())?;
    let key = key_from_header(header).ok_or_else(|| MALFORMED_HEADER.to_owned())?;
    if !keys.iter().any(|k| k == key) {
        return Err(invalid_key_message());
    }
    match rate_limited() {
        Some(message) => Err(message),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk_test_abcd_2ckF7rJo5wtSAZKNoejQVg";

    fn checked(header: Option<&str>) -> Result<(), String> {
        check(header, &[KEY.to_owned()], || None)
    }

    #[test]
    fn bearer_or_bare_and_nothing_else() {
        assert_eq!(checked(Some(&format!("Bearer {KEY}"))), Ok(()));
        assert_eq!(checked(Some(&format!("bearer {KEY}"))), Ok(()));
        assert_eq!(checked(Some(&format!("  {KEY} "))), Ok(()));
        assert_eq!(checked(None), Err(MISSING_HEADER.to_owned()));
        assert_eq!(checked(Some("")), Err(MISSING_HEADER.to_owned()));
        assert_eq!(
            checked(Some(&format!("Basic {KEY}"))),
            Err(MALFORMED_HEADER.to_owned())
        );
        assert_eq!(checked(Some("Bearer")), Err(invalid_key_message()));
        assert_eq!(
            checked(Some("sk_test_abcd_wrong")),
            Err(invalid_key_message())
        );
        assert_eq!(checked(Some("é bearer")), Err(MALFORMED_HEADER.to_owned()));
    }

    #[test]
    fn a_rate_limit_only_applies_to_a_valid_key() {
        let limited = || Some(invalid_key_message());
        assert_eq!(
            check(Some(KEY), &[KEY.to_owned()], limited),
            Err(invalid_key_message())
        );
        let never = || -> Option<String> { panic!("asked for an unknown key") };
        assert!(check(Some("other"), &[KEY.to_owned()], never).is_err());
    }
}
