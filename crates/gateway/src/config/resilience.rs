//! `[resilience]`: how the gateway protects callers from sick vendors —
//! deadline, retries and their budget, circuit breaker, in-flight bound,
//! stale copies, shutdown grace (every account).

use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::config::ConfigError;

/// How the gateway protects callers from sick vendors (every account).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ResilienceConfig {
    /// A caller always has an answer within this bound (then 504).
    pub deadline_ms: u64,
    /// Extra attempts for reads (and for creates only when provably safe).
    pub max_retries: u32,
    /// First retry delay; doubles per attempt, with full jitter.
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    /// Retries an account may make, as a share of its first attempts in
    /// the last 10 s (0.2: one retry per five calls), on top of
    /// `retry_budget_min_per_sec`. A retry past the budget is not made:
    /// the caller gets the last error.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub retry_budget_ratio: f64,
    /// Retries per second an account may always make, however few its
    /// calls, so that a quiet account can still retry.
    pub retry_budget_min_per_sec: u32,
    /// How far back the circuit breaker looks: outcomes of the last this
    /// many seconds count.
    #[schemars(range(min = 1))]
    pub breaker_window_secs: u64,
    /// Fewest calls in the window before the breaker may open.
    #[schemars(range(min = 1))]
    pub breaker_min_calls: u32,
    /// Share of failed calls in the window, from above 0 to 1, that opens
    /// the breaker.
    #[schemars(range(max = 1.0), extend("exclusiveMinimum" = 0.0))]
    pub breaker_failure_ratio: f64,
    /// How long an open breaker fails fast before letting probes through.
    #[schemars(range(min = 1))]
    pub breaker_open_secs: u64,
    /// Calls a half-open breaker lets through: all healthy close it, one
    /// failed opens it again.
    #[schemars(range(min = 1))]
    pub breaker_half_open_probes: u32,
    /// Upstream calls in flight per account; more are refused with 503.
    pub max_in_flight: usize,
    /// How long past fresh a cached session may still be served when the vendor fails (0 = never).
    pub stale_if_error_secs: u64,
    /// On SIGTERM, how long in-flight requests may take to finish.
    pub shutdown_grace_secs: u64,
}

impl Default for ResilienceConfig {
    fn default() -> Self {
        ResilienceConfig {
            deadline_ms: 15_000,
            max_retries: 2,
            backoff_base_ms: 100,
            backoff_max_ms: 2_000,
            retry_budget_ratio: 0.2,
            retry_budget_min_per_sec: 10,
            breaker_window_secs: 30,
            breaker_min_calls: 20,
            breaker_failure_ratio: 0.5,
            breaker_open_secs: 30,
            breaker_half_open_probes: 3,
            max_in_flight: 64,
            stale_if_error_secs: 300,
            shutdown_grace_secs: 20,
        }
    }
}

/// Keys this table once had, and what took their place. A config that
/// still names one fails with this rather than a bare "unknown field", so
/// that whoever upgrades learns what to write instead.
const REMOVED: &[(&str, &str)] = &[(
    "resilience.breaker_failures",
    "removed: the breaker no longer counts consecutive failures but opens on a failure \
     rate; use `resilience.breaker_failure_ratio`, `breaker_min_calls` and \
     `breaker_window_secs` (and `breaker_half_open_probes`)",
)];

/// Refuse a configuration naming a removed key, from any source (a file or
/// the environment).
pub fn refuse_removed_keys(figment: &Figment) -> Result<(), ConfigError> {
    match REMOVED
        .iter()
        .find(|(key, _)| figment.find_value(key).is_ok())
    {
        Some((key, instead)) => Err(ConfigError::invalid(*key, *instead)),
        None => Ok(()),
    }
}

impl ResilienceConfig {
    /// Ranges serde cannot express, each error naming its key.
    pub fn check(&self) -> Result<(), ConfigError> {
        let ratio = self.breaker_failure_ratio;
        if !(ratio > 0.0 && ratio <= 1.0) {
            return Err(ConfigError::invalid(
                "resilience.breaker_failure_ratio",
                "must be above 0 and at most 1 (0.5: half the calls failed)",
            ));
        }
        if !(0.0..=1.0).contains(&self.retry_budget_ratio) {
            return Err(ConfigError::invalid(
                "resilience.retry_budget_ratio",
                "must be from 0 to 1 (0.2: one retry per five calls)",
            ));
        }
        for (key, value) in [
            ("resilience.breaker_min_calls", self.breaker_min_calls),
            (
                "resilience.breaker_half_open_probes",
                self.breaker_half_open_probes,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::invalid(key, "must be at least 1"));
            }
        }
        for (key, value) in [
            ("resilience.breaker_window_secs", self.breaker_window_secs),
            ("resilience.breaker_open_secs", self.breaker_open_secs),
        ] {
            if value == 0 {
                return Err(ConfigError::invalid(key, "must be at least 1"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
// figment's Jail API returns its own large error type.
#[allow(clippy::result_large_err)]
mod tests {
    use std::path::Path;

    use crate::config::{figment, GatewayConfig};

    fn load_error(jail: &mut figment::Jail, toml: &str) -> String {
        jail.create_file("gw.toml", toml).expect("write the file");
        GatewayConfig::from_figment(&figment(Some(Path::new("gw.toml"))))
            .expect_err("refused")
            .to_string()
    }

    #[test]
    fn the_removed_breaker_failures_names_its_replacement() {
        figment::Jail::expect_with(|jail| {
            let err = load_error(jail, "[resilience]\nbreaker_failures = 5\n");
            assert!(
                err.contains("resilience.breaker_failures")
                    && err.contains("resilience.breaker_failure_ratio")
                    && err.contains("breaker_min_calls"),
                "{err}"
            );
            jail.create_file("gw.toml", "")?;
            jail.set_env("CHECKOUT_GATEWAY__RESILIENCE__BREAKER_FAILURES", "5");
            let err = GatewayConfig::from_figment(&figment(Some(Path::new("gw.toml"))))
                .expect_err("refused from the environment too")
                .to_string();
            assert!(
                err.contains("resilience.breaker_failures") && err.contains("failure rate"),
                "{err}"
            );
            Ok(())
        });
    }

    #[test]
    fn out_of_range_values_name_the_key() {
        figment::Jail::expect_with(|jail| {
            for (line, key) in [
                ("breaker_failure_ratio = 0.0", "breaker_failure_ratio"),
                ("breaker_failure_ratio = 1.5", "breaker_failure_ratio"),
                ("breaker_failure_ratio = -0.1", "breaker_failure_ratio"),
                ("breaker_failure_ratio = nan", "breaker_failure_ratio"),
                ("retry_budget_ratio = -0.5", "retry_budget_ratio"),
                ("retry_budget_ratio = 2.0", "retry_budget_ratio"),
                ("breaker_min_calls = 0", "breaker_min_calls"),
                ("breaker_half_open_probes = 0", "breaker_half_open_probes"),
                ("breaker_window_secs = 0", "breaker_window_secs"),
                ("breaker_open_secs = 0", "breaker_open_secs"),
            ] {
                let err = load_error(jail, &format!("[resilience]\n{line}\n"));
                assert!(err.contains(&format!("resilience.{key}")), "{line}: {err}");
            }
            jail.create_file(
                "gw.toml",
                "[resilience]\nbreaker_failure_ratio = 1.0\nretry_budget_ratio = 0\nbreaker_min_calls = 1\n",
            )?;
            let config = GatewayConfig::from_figment(&figment(Some(Path::new("gw.toml"))))
                .expect("the edges are allowed");
            assert_eq!(config.resilience.breaker_failure_ratio, 1.0);
            Ok(())
        });
    }
}
