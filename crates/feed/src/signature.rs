//! Standard Webhooks signatures (<https://www.standardwebhooks.com/>), which
//! is also what Svix, and so Flowglad, sends: `webhook-signature` holds
//! space-separated `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`,
//! one per secret while a secret rotates.

use std::fmt;
use std::time::Duration;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const PREFIX: &str = "whsec_";
const VERSION: &str = "v1";

/// Secrets are written with or without `=` padding (the reference libraries
/// accept both).
const SECRET_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A signing key, from its `whsec_<base64>` text. `Debug` prints `whsec_***`.
#[derive(Clone)]
pub struct Secret(SecretSlice<u8>);

/// Why a secret's text was refused (never quoting it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("a webhook secret starts with \"whsec_\"")]
    MissingPrefix,
    #[error("a webhook secret is \"whsec_\" then base64")]
    NotBase64,
    #[error("a webhook secret may not be empty")]
    Empty,
}

impl Secret {
    /// `whsec_<base64>`; whitespace around it (a secret file's newline) is ignored.
    pub fn parse(text: &str) -> Result<Secret, SecretError> {
        let encoded = text
            .trim()
            .strip_prefix(PREFIX)
            .ok_or(SecretError::MissingPrefix)?;
        let key = SECRET_BASE64
            .decode(encoded)
            .map_err(|_| SecretError::NotBase64)?;
        if key.is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(Secret(SecretSlice::from(key)))
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(self.0.expose_secret())
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
    }

    /// The MAC over what Standard Webhooks signs, ready to finalise or verify.
    fn signed_content(&self, id: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
        let mut mac = self.mac();
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("whsec_***")
    }
}

/// `v1,<base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))>`.
pub fn sign(secret: &Secret, id: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = secret
        .signed_content(id, timestamp, body)
        .finalize()
        .into_bytes();
    format!("{VERSION},{}", STANDARD.encode(tag))
}

/// Every secret's signature, space-separated: while a secret rotates the
/// old and the new both sign, so receivers holding either accept.
pub fn signature_header(secrets: &[Secret], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .map(|secret| sign(secret, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Why a signed message was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the webhook-id header is missing or empty")]
    MissingId,
    #[error("the webhook-timestamp header is not unix seconds")]
    BadTimestamp,
    #[error("the webhook-timestamp is too old")]
    TooOld,
    #[error("the webhook-timestamp is too far in the future")]
    TooNew,
    #[error("the webhook-signature header holds no v1 signature")]
    Malformed,
    #[error("no signature matches")]
    NoMatch,
}

/// Check a message's headers (`webhook-id`, `webhook-timestamp`,
/// `webhook-signature`) against `body` and any of `secrets`. The timestamp
/// must be within `tolerance` (5 min is the standard's) of `now`, either way,
/// so a captured message cannot be replayed later. Signatures of other
/// versions are ignored; comparison is constant-time.
pub fn verify(
    secrets: &[Secret],
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now: DateTime<Utc>,
    tolerance: Duration,
) -> Result<(), VerifyError> {
    if id.is_empty() {
        return Err(VerifyError::MissingId);
    }
    let seconds: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| VerifyError::BadTimestamp)?;
    let signed_at = DateTime::from_timestamp(seconds, 0).ok_or(VerifyError::BadTimestamp)?;
    let tolerance = TimeDelta::from_std(tolerance).unwrap_or(TimeDelta::MAX);
    if now
        .checked_sub_signed(tolerance)
        .is_some_and(|earliest| signed_at < earliest)
    {
        return Err(VerifyError::TooOld);
    }
    if now
        .checked_add_signed(tolerance)
        .is_some_and(|latest| signed_at > latest)
    {
        return Err(VerifyError::TooNew);
    }
    let tags: Vec<Vec<u8>> = signatures
        .split(' ')
        .filter_map(|entry| entry.split_once(','))
        .filter(|(version, _)| *version == VERSION)
        .filter_map(|(_, tag)| STANDARD.decode(tag).ok())
        .filter(|tag| !tag.is_empty())
        .collect();
    if tags.is_empty() {
        return Err(VerifyError::Malformed);
    }
    for secret in secrets {
        let expected = secret.signed_content(id, seconds, body);
        if tags
            .iter()
            .any(|tag| expected.clone().verify_slice(tag).is_ok())
        {
            return Ok(());
        }
    }
    Err(VerifyError::NoMatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The Standard Webhooks specification's test vector (its reference
    // libraries' tests sign and verify exactly this).
    const VECTOR_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const VECTOR_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const VECTOR_TIMESTAMP: i64 = 1_614_265_330;
    const VECTOR_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const VECTOR_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    const OTHER_SECRET: &str = "whsec_c2VjcmV0LW9mLWFub3RoZXItZW5kcG9pbnQ=";
    const TOLERANCE: Duration = Duration::from_secs(300);

    fn secret(text: &str) -> Secret {
        Secret::parse(text).unwrap()
    }

    fn vector_time() -> DateTime<Utc> {
        DateTime::from_timestamp(VECTOR_TIMESTAMP, 0).unwrap()
    }

    /// Verify the vector's id and timestamp against `body` and `signatures`, at `now`.
    fn check(
        secrets: &[Secret],
        signatures: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), VerifyError> {
        verify(
            secrets,
            VECTOR_ID,
            &VECTOR_TIMESTAMP.to_string(),
            signatures,
            body,
            now,
            TOLERANCE,
        )
    }

    #[test]
    fn sign_reproduces_the_standard_webhooks_vector() {
        let signed = sign(
            &secret(VECTOR_SECRET),
            VECTOR_ID,
            VECTOR_TIMESTAMP,
            VECTOR_BODY,
        );
        assert_eq!(signed, VECTOR_SIGNATURE);
    }

    #[test]
    fn verify_accepts_the_vector() {
        let secrets = [secret(VECTOR_SECRET)];
        assert_eq!(
            check(&secrets, VECTOR_SIGNATURE, VECTOR_BODY, vector_time()),
            Ok(())
        );
    }

    #[test]
    fn verify_refuses_a_changed_body_id_or_timestamp() {
        let secrets = [secret(VECTOR_SECRET)];
        let now = vector_time();
        assert_eq!(
            check(&secrets, VECTOR_SIGNATURE, br#"{"test": 2432232315}"#, now),
            Err(VerifyError::NoMatch)
        );
        let id = verify(
            &secrets,
            "msg_other",
            &VECTOR_TIMESTAMP.to_string(),
            VECTOR_SIGNATURE,
            VECTOR_BODY,
            now,
            TOLERANCE,
        );
        assert_eq!(id, Err(VerifyError::NoMatch));
        let timestamp = verify(
            &secrets,
            VECTOR_ID,
            &(VECTOR_TIMESTAMP + 1).to_string(),
            VECTOR_SIGNATURE,
            VECTOR_BODY,
            now,
            TOLERANCE,
        );
        assert_eq!(timestamp, Err(VerifyError::NoMatch));
    }

    #[test]
    fn verify_refuses_a_wrong_secret_or_none() {
        let now = vector_time();
        assert_eq!(
            check(&[secret(OTHER_SECRET)], VECTOR_SIGNATURE, VECTOR_BODY, now),
            Err(VerifyError::NoMatch)
        );
        assert_eq!(
            check(&[], VECTOR_SIGNATURE, VECTOR_BODY, now),
            Err(VerifyError::NoMatch)
        );
    }

    #[test]
    fn verify_holds_the_timestamp_within_tolerance_both_ways() {
        let secrets = [secret(VECTOR_SECRET)];
        let signed_at = vector_time();
        let edge = TimeDelta::seconds(300);
        let past_edge = TimeDelta::seconds(301);
        for (now, expected) in [
            (signed_at + edge, Ok(())),
            (signed_at - edge, Ok(())),
            (signed_at + past_edge, Err(VerifyError::TooOld)),
            (signed_at - past_edge, Err(VerifyError::TooNew)),
            (signed_at + TimeDelta::days(365), Err(VerifyError::TooOld)),
        ] {
            assert_eq!(
                check(&secrets, VECTOR_SIGNATURE, VECTOR_BODY, now),
                expected,
                "now {now}"
            );
        }
    }

    #[test]
    fn verify_refuses_malformed_headers() {
        let secrets = [secret(VECTOR_SECRET)];
        let now = vector_time();
        let tag = VECTOR_SIGNATURE.trim_start_matches("v1,");
        for signatures in [
            "",
            " ",
            "v1",
            "v1,",
            "v1,!!!not base64!!!",
            tag,
            &format!("v2,{tag}"),
            &format!("V1,{tag}"),
        ] {
            assert_eq!(
                check(&secrets, signatures, VECTOR_BODY, now),
                Err(VerifyError::Malformed),
                "{signatures:?}"
            );
        }
        for timestamp in [
            "",
            "soon",
            "1614265330.5",
            "0x60388d32",
            "99999999999999999999",
        ] {
            let got = verify(
                &secrets,
                VECTOR_ID,
                timestamp,
                VECTOR_SIGNATURE,
                VECTOR_BODY,
                now,
                TOLERANCE,
            );
            assert_eq!(got, Err(VerifyError::BadTimestamp), "{timestamp:?}");
        }
        let no_id = verify(
            &secrets,
            "",
            &VECTOR_TIMESTAMP.to_string(),
            VECTOR_SIGNATURE,
            VECTOR_BODY,
            now,
            TOLERANCE,
        );
        assert_eq!(no_id, Err(VerifyError::MissingId));
    }

    #[test]
    fn a_rotating_header_is_accepted_by_either_secret() {
        let old = secret(VECTOR_SECRET);
        let new = secret(OTHER_SECRET);
        let header = signature_header(
            &[old.clone(), new.clone()],
            VECTOR_ID,
            VECTOR_TIMESTAMP,
            VECTOR_BODY,
        );
        assert_eq!(
            header,
            format!(
                "{} {}",
                VECTOR_SIGNATURE,
                sign(&new, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)
            )
        );
        let now = vector_time();
        for secrets in [vec![old.clone()], vec![new.clone()], vec![new, old]] {
            assert_eq!(check(&secrets, &header, VECTOR_BODY, now), Ok(()));
        }
    }

    #[test]
    fn any_of_several_secrets_and_signatures_may_match() {
        let now = vector_time();
        let secrets = [secret(OTHER_SECRET), secret(VECTOR_SECRET)];
        let header = format!(
            "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,junk nonsense {VECTOR_SIGNATURE}"
        );
        assert_eq!(check(&secrets, &header, VECTOR_BODY, now), Ok(()));
        let forged = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";
        assert_eq!(
            check(&secrets, forged, VECTOR_BODY, now),
            Err(VerifyError::NoMatch)
        );
    }

    #[test]
    fn secrets_are_whsec_then_base64_with_or_without_padding() {
        assert_eq!(
            Secret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").err(),
            Some(SecretError::MissingPrefix)
        );
        assert_eq!(
            Secret::parse("whsec_not base64!").err(),
            Some(SecretError::NotBase64)
        );
        assert_eq!(Secret::parse("whsec_").err(), Some(SecretError::Empty));
        let padded = secret("whsec_c2VjcmV0LQ==");
        let unpadded = secret("whsec_c2VjcmV0LQ");
        assert_eq!(
            sign(&padded, "msg", 1, b"{}"),
            sign(&unpadded, "msg", 1, b"{}")
        );
        // Pasted from a file with its newline.
        assert_eq!(
            sign(
                &secret(&format!("{VECTOR_SECRET}\n")),
                VECTOR_ID,
                VECTOR_TIMESTAMP,
                VECTOR_BODY
            ),
            VECTOR_SIGNATURE
        );
    }

    #[test]
    fn secrets_never_show_in_debug_or_errors() {
        let shown = format!("{:?}", secret(VECTOR_SECRET));
        assert_eq!(shown, "whsec_***");
        let refused = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8!").unwrap_err();
        for text in [format!("{refused}"), format!("{refused:?}")] {
            assert!(!text.contains("MfKQ9r8"), "{text}");
        }
    }
}
