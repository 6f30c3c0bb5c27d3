//! Canonical session ids: `provider:account:reference`.
//!
//! The id must be safe to put in a URL path and to hand to a vendor, so the
//! alphabet is closed here; each provider then checks the reference against
//! its own id format (`Provider::validate_reference`).

use std::fmt;

/// Longest canonical id accepted, well above any vendor's real id.
pub const MAX_ID_LEN: usize = 256;
const MAX_PROVIDER_LEN: usize = 32;
/// Longest account name; the create schema states it too.
pub const MAX_ACCOUNT_LEN: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionId {
    provider: String,
    account: String,
    reference: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("session id is longer than {MAX_ID_LEN} characters")]
    TooLong,
    #[error("session id must have the form provider:account:reference")]
    Shape,
    #[error("provider part {0:?} is not a provider name (lower-case letters, digits, '_')")]
    Provider(String),
    #[error("account part {0:?} is not an account name (lower-case letters, digits, '_', '-')")]
    Account(String),
    #[error("reference part contains characters no vendor id uses")]
    Reference,
}

/// Provider names: a lower-case letter, then lower-case letters, digits or `_`.
pub fn is_valid_provider_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && s.len() <= MAX_PROVIDER_LEN
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_'))
}

/// Account names: lower-case (environment variables are folded to lower case
/// by the config loader), digits, `_` and `-`.
pub fn is_valid_account_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'0'..=b'9'))
        && s.len() <= MAX_ACCOUNT_LEN
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'))
}

/// The union of the vendors' id alphabets; `:` lets a reference carry two
/// vendor ids (an org and a session) when a vendor needs both.
fn is_valid_reference(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
        && !s.contains("..")
}

impl SessionId {
    pub fn new(provider: &str, account: &str, reference: &str) -> Result<SessionId, IdError> {
        if !is_valid_provider_name(provider) {
            return Err(IdError::Provider(provider.to_owned()));
        }
        if !is_valid_account_name(account) {
            return Err(IdError::Account(account.to_owned()));
        }
        if !is_valid_reference(reference) {
            return Err(IdError::Reference);
        }
        // As displayed: `provider:account:reference`.
        if provider.len() + account.len() + reference.len() + 2 > MAX_ID_LEN {
            return Err(IdError::TooLong);
        }
        Ok(SessionId {
            provider: provider.to_owned(),
            account: account.to_owned(),
            reference: reference.to_owned(),
        })
    }

    pub fn parse(s: &str) -> Result<SessionId, IdError> {
        if s.len() > MAX_ID_LEN {
            return Err(IdError::TooLong);
        }
        let mut parts = s.splitn(3, ':');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(p), Some(a), Some(r)) => SessionId::new(p, a, r),
            _ => Err(IdError::Shape),
        }
    }

    pub fn provider(&self) -> &str {
        &self.provider
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    pub fn reference(&self) -> &str {
        &self.reference
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.provider, self.account, self.reference)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_three_parts() {
        let id = SessionId::parse("meteroid:default:che_7n42DGM5Tflk9n8mt7Fhc7").unwrap();
        assert_eq!(id.provider(), "meteroid");
        assert_eq!(id.account(), "default");
        assert_eq!(id.reference(), "che_7n42DGM5Tflk9n8mt7Fhc7");
    }

    #[test]
    fn rejects_path_tricks_and_bad_shapes() {
        for bad in [
            "",
            "meteroid",
            "meteroid:default",
            "meteroid:default:",
            "Meteroid:default:che_1",
            "meteroid:Default:che_1",
            "meteroid:default:../admin",
            "meteroid:default:che_1/cancel",
            "meteroid:default:che_1%2Fcancel",
            "meteroid:default:che_1?x=1",
            "meteroid:default:ché_1",
            "meteroid:de fault:che_1",
        ] {
            assert!(SessionId::parse(bad).is_err(), "{bad:?} was accepted");
        }
        let long = format!("meteroid:default:che_{}", "a".repeat(300));
        assert_eq!(SessionId::parse(&long), Err(IdError::TooLong));
    }

    fn provider() -> impl Strategy<Value = String> {
        "[a-z][a-z0-9_]{0,15}"
    }
    fn account() -> impl Strategy<Value = String> {
        "[a-z0-9][a-z0-9_-]{0,20}"
    }
    fn reference() -> impl Strategy<Value = String> {
        "[A-Za-z0-9_:-]{1,60}"
    }

    proptest! {
        #[test]
        fn ids_round_trip(p in provider(), a in account(), r in reference()) {
            let id = SessionId::new(&p, &a, &r).unwrap();
            let text = id.to_string();
            let back = SessionId::parse(&text).unwrap();
            prop_assert_eq!(&back, &id);
            prop_assert_eq!(back.to_string(), text);
        }

        #[test]
        fn parse_never_panics_and_accepted_ids_round_trip(s in "\\PC{0,80}") {
            if let Ok(id) = SessionId::parse(&s) {
                prop_assert_eq!(id.to_string(), s);
            }
        }
    }
}
