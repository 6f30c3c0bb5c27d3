//! Canonical session and payment statuses, and the derived-expiry rule.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a checkout session stands, whatever the vendor calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Open,
    Processing,
    Complete,
    Expired,
    Canceled,
    Failed,
}

impl Status {
    /// A terminal session never changes again.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Status::Complete | Status::Expired | Status::Canceled | Status::Failed
        )
    }

    /// The customer went through with the checkout (which is not the same as paid).
    pub fn is_success(self) -> bool {
        matches!(self, Status::Complete)
    }

    /// The status a reader should see at `now`: a non-terminal session whose
    /// `expires_at` has passed is expired, even if the vendor has not marked it
    /// yet. "Passed" is strict, as at the vendors: at `expires_at` itself the
    /// session can still be completed.
    pub fn derived(self, expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Status {
        match expires_at {
            Some(at) if !self.is_terminal() && now > at => Status::Expired,
            _ => self,
        }
    }
}

/// Whether money moved, where the vendor says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Unpaid,
    Processing,
    Paid,
    NoPaymentRequired,
    Failed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-19T11:00:00Z")
            .unwrap()
            .to_utc()
    }

    #[test]
    fn terminal_and_success() {
        use Status::*;
        for (s, terminal, success) in [
            (Open, false, false),
            (Processing, false, false),
            (Complete, true, true),
            (Expired, true, false),
            (Canceled, true, false),
            (Failed, true, false),
        ] {
            assert_eq!(s.is_terminal(), terminal, "{s:?}");
            assert_eq!(s.is_success(), success, "{s:?}");
        }
    }

    #[test]
    fn derived_expiry_at_the_boundary() {
        let at = t0();
        let tick = Duration::microseconds(1);
        assert_eq!(Status::Open.derived(Some(at), at - tick), Status::Open);
        assert_eq!(Status::Open.derived(Some(at), at), Status::Open);
        assert_eq!(Status::Open.derived(Some(at), at + tick), Status::Expired);
        assert_eq!(
            Status::Processing.derived(Some(at), at + tick),
            Status::Expired
        );
    }

    #[test]
    fn derived_expiry_never_touches_terminal_or_unbounded_sessions() {
        let at = t0();
        let later = at + Duration::days(3);
        for s in [
            Status::Complete,
            Status::Canceled,
            Status::Failed,
            Status::Expired,
        ] {
            assert_eq!(s.derived(Some(at), later), s);
        }
        assert_eq!(Status::Open.derived(None, later), Status::Open);
    }
}
