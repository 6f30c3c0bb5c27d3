//! What routing did, per rule and target (PRODUCT §12): creates by
//! outcome and completions, as Prometheus counters and as the counts
//! `GET /v1/routing` shows. Kept across reloads, like every metric: a
//! rule's counts go on under its name.

use std::collections::BTreeMap;
use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use serde::Serialize;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RoutedLabels {
    /// The rule's name, or `default`: configured names, a closed set.
    pub rule: String,
    /// `provider:account`.
    pub target: String,
    /// `created`, `failed` or `refused` (refused before any vendor call,
    /// and the create went to a fallback).
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RuleTargetLabels {
    pub rule: String,
    pub target: String,
}

/// How a routed create ended at one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoutedOutcome {
    Created,
    Failed,
    /// The target refused before any vendor call; a fallback was tried.
    Refused,
}

impl RoutedOutcome {
    fn label(self) -> &'static str {
        match self {
            RoutedOutcome::Created => "created",
            RoutedOutcome::Failed => "failed",
            RoutedOutcome::Refused => "refused",
        }
    }
}

/// The counts of one rule and target since this process started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub created: u64,
    pub failed: u64,
    pub refused: u64,
    /// Sessions this rule sent here that the change feed saw complete.
    pub completed: u64,
}

#[derive(Default)]
pub struct RoutingMetrics {
    creates: Family<RoutedLabels, Counter>,
    completions: Family<RuleTargetLabels, Counter>,
    /// The same counts, readable as a whole for `GET /v1/routing`.
    counts: Mutex<BTreeMap<(String, String), Counts>>,
}

impl RoutingMetrics {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "routed_creates",
            "Routed creates by rule, target and outcome (created, failed, refused: refused before any vendor call and sent to a fallback)",
            self.creates.clone(),
        );
        registry.register(
            "routed_completions",
            "Routed sessions the change feed saw complete, by the rule and target that made them",
            self.completions.clone(),
        );
    }

    pub fn created(&self, rule: &str, target: &str, outcome: RoutedOutcome) {
        self.creates
            .get_or_create(&RoutedLabels {
                rule: rule.to_owned(),
                target: target.to_owned(),
                outcome: outcome.label(),
            })
            .inc();
        self.update(rule, target, |c| match outcome {
            RoutedOutcome::Created => c.created += 1,
            RoutedOutcome::Failed => c.failed += 1,
            RoutedOutcome::Refused => c.refused += 1,
        });
    }

    pub fn completed(&self, rule: &str, target: &str) {
        self.completions
            .get_or_create(&RuleTargetLabels {
                rule: rule.to_owned(),
                target: target.to_owned(),
            })
            .inc();
        self.update(rule, target, |c| c.completed += 1);
    }

    /// The counts of one rule and target (zero when nothing happened yet).
    pub fn counts(&self, rule: &str, target: &str) -> Counts {
        self.lock()
            .get(&(rule.to_owned(), target.to_owned()))
            .copied()
            .unwrap_or_default()
    }

    fn update(&self, rule: &str, target: &str, change: impl FnOnce(&mut Counts)) {
        change(
            self.lock()
                .entry((rule.to_owned(), target.to_owned()))
                .or_default(),
        );
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<(String, String), Counts>> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_each_outcome() {
        let m = RoutingMetrics::default();
        m.created("ramp", "flowglad:default", RoutedOutcome::Created);
        m.created("ramp", "flowglad:default", RoutedOutcome::Created);
        m.created("ramp", "flowglad:default", RoutedOutcome::Refused);
        m.created("ramp", "meteroid:default", RoutedOutcome::Failed);
        m.completed("ramp", "flowglad:default");
        assert_eq!(
            m.counts("ramp", "flowglad:default"),
            Counts {
                created: 2,
                failed: 0,
                refused: 1,
                completed: 1
            }
        );
        assert_eq!(m.counts("ramp", "meteroid:default").failed, 1);
        assert_eq!(m.counts("other", "x:y"), Counts::default());
        let mut registry = Registry::default();
        m.register(&mut registry);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(
            text.contains(
                r#"routed_creates_total{rule="ramp",target="flowglad:default",outcome="created"} 2"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"routed_completions_total{rule="ramp",target="flowglad:default"} 1"#),
            "{text}"
        );
    }
}
