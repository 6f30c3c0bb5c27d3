//! Timestamps: always emitted as RFC 3339 in UTC with a `Z` suffix; read from
//! the forms vendors actually send.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, TimeZone, Utc};

/// Format as RFC 3339 UTC (`2026-01-19T10:00:00Z`, fractional digits only when present).
pub fn format(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Parse an RFC 3339 timestamp with any offset, or a timezone-naive datetime
/// taken as UTC (vendors that omit the zone mean UTC).
pub fn parse_lenient(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(Utc.from_utc_datetime(&n));
        }
    }
    None
}

/// Epoch milliseconds to a UTC timestamp; `None` when out of chrono's range.
pub fn from_epoch_millis(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

/// serde helpers for `Option<DateTime<Utc>>` fields of the canonical model.
pub mod serde_opt {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&super::format(t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        let raw: Option<String> = Option::deserialize(d)?;
        raw.map(|s| {
            super::parse_lenient(&s).ok_or_else(|| {
                serde::de::Error::custom(format!("not an RFC 3339 timestamp: {s:?}"))
            })
        })
        .transpose()
    }
}

/// serde helpers for required `DateTime<Utc>` fields.
pub mod serde_req {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let raw = String::deserialize(d)?;
        super::parse_lenient(&raw)
            .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 timestamp: {raw:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_with_z_and_only_needed_fraction() {
        let t = parse_lenient("2026-01-19T11:00:00+01:00").unwrap();
        assert_eq!(format(&t), "2026-01-19T10:00:00Z");
        let t = parse_lenient("2026-01-19T10:00:00.123456Z").unwrap();
        assert_eq!(format(&t), "2026-01-19T10:00:00.123456Z");
    }

    #[test]
    fn naive_datetimes_are_utc() {
        let t = parse_lenient("2026-01-19T10:00:00.5").unwrap();
        assert_eq!(format(&t), "2026-01-19T10:00:00.500Z");
        assert!(parse_lenient("19/01/2026").is_none());
    }

    #[test]
    fn epoch_millis() {
        let t = from_epoch_millis(1_768_816_800_000).unwrap();
        assert_eq!(format(&t), "2026-01-19T10:00:00Z");
    }
}
