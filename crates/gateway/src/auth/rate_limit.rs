//! Per-client budgets: requests per second, and vendor calls per second
//! (reads past the cache, creates). One noisy dashboard sending
//! `Cache-Control: no-cache` must not spend a vendor account's whole rate
//! limit for every other client. GCRA from `governor`; a refusal is
//! `429 too_many_requests` with `Retry-After` and the `RateLimit-*` headers.

use std::num::NonZeroU32;
use std::time::Duration;

use checkout_core::{Error, ErrorCode};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// Which budget a refusal spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    Requests,
    VendorCalls,
}

impl Budget {
    pub fn label(self) -> &'static str {
        match self {
            Budget::Requests => "requests",
            Budget::VendorCalls => "vendor_calls",
        }
    }
}

/// One client key's two budgets. Each admits bursts of twice its rate.
pub struct ClientBudgets {
    requests: Limiter,
    vendor_calls: Limiter,
}

struct Limiter {
    per_second: NonZeroU32,
    limiter: DefaultDirectRateLimiter,
}

impl Limiter {
    fn new(per_second: NonZeroU32) -> Limiter {
        let burst = per_second.saturating_mul(NonZeroU32::MIN.saturating_add(1));
        Limiter {
            per_second,
            limiter: RateLimiter::direct(Quota::per_second(per_second).allow_burst(burst)),
        }
    }

    fn spend(&self, budget: Budget) -> Result<(), Error> {
        self.limiter.check().map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            refusal(budget, self.per_second.get(), wait)
        })
    }
}

impl ClientBudgets {
    pub fn new(requests_per_sec: NonZeroU32, vendor_calls_per_sec: NonZeroU32) -> ClientBudgets {
        ClientBudgets {
            requests: Limiter::new(requests_per_sec),
            vendor_calls: Limiter::new(vendor_calls_per_sec),
        }
    }

    /// Spend one from `budget`: a request (whatever it asks; a cache hit
    /// spends only this), or a vendor call made on this client's behalf.
    pub fn spend(&self, budget: Budget) -> Result<(), Error> {
        match budget {
            Budget::Requests => self.requests.spend(budget),
            Budget::VendorCalls => self.vendor_calls.spend(budget),
        }
    }
}

fn refusal(budget: Budget, per_second: u32, wait: Duration) -> Error {
    let what = match budget {
        Budget::Requests => "requests",
        Budget::VendorCalls => "vendor calls (reads past the cache, creates)",
    };
    let mut error = Error::new(
        ErrorCode::TooManyRequests,
        format!("this client key is over its budget of {per_second} {what} per second"),
    )
    // Whole seconds, rounded up: a client waiting that long will get through.
    .with_retry_after(Some(Duration::from_secs(
        wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
    )));
    error.rate_limit = Some(per_second);
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nz(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    #[test]
    fn bursts_of_twice_the_rate_then_refusals_that_say_when() {
        let budgets = ClientBudgets::new(nz(5), nz(1));
        for _ in 0..10 {
            budgets.spend(Budget::Requests).unwrap();
        }
        let refused = budgets.spend(Budget::Requests).unwrap_err();
        assert_eq!(refused.http_status, 429);
        assert_eq!(refused.rate_limit, Some(5));
        assert_eq!(refused.retry_after, Some(Duration::from_secs(1)));
        // The vendor budget is its own.
        budgets.spend(Budget::VendorCalls).unwrap();
        budgets.spend(Budget::VendorCalls).unwrap();
        let refused = budgets.spend(Budget::VendorCalls).unwrap_err();
        assert!(
            refused.message.contains("1 vendor calls"),
            "{}",
            refused.message
        );
    }
}
