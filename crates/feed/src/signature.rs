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
