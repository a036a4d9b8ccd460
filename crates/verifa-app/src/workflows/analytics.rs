//! Workflow analytics: run statistics from the store, percentiles computed here.

use super::WorkflowService;
use crate::api_keys::Caller;
use crate::error::AppError;
use std::collections::BTreeMap;
use verifa_domain::workflow::{Outcome, RunStatus};
use verifa_ports::workflows::AnalyticsFilter;

/// Computed analytics.
#[derive(Debug, Clone, PartialEq)]
pub struct Analytics {
    /// Workflow.
    pub workflow_id: String,
    /// Runs considered.
    pub total_runs: u64,
    /// Count per final status.
    pub outcomes: BTreeMap<String, u64>,
    /// Count per run status.
    pub statuses: BTreeMap<String, u64>,
    /// Paused runs.
    pub paused: u64,
    /// Count per version.
    pub by_version: BTreeMap<String, u64>,
    /// Median completed-run duration.
    pub median_duration_ms: Option<i64>,
    /// 95th percentile completed-run duration.
    pub p95_duration_ms: Option<i64>,
    /// Per node statistics.
    pub nodes: BTreeMap<String, NodeAnalytics>,
}

/// Per node analytics.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeAnalytics {
    /// Policy.
    pub policy: Option<String>,
    /// Attempts.
    pub executions: u64,
    /// Passed.
    pub passed: u64,
    /// Failed.
    pub failed: u64,
    /// Errors.
    pub errors: u64,
    /// Retries.
    pub retries: u64,
    /// Median attempt duration.
    pub p50_ms: Option<i64>,
    /// 95th percentile attempt duration.
    pub p95_ms: Option<i64>,
}

/// The nearest-rank percentile of ascending values.
pub fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

impl WorkflowService {
    /// Analytics from the runs of a workflow.
    pub async fn analytics(
        &self,
        caller: &Caller,
        id: &str,
        filter: AnalyticsFilter,
    ) -> Result<Analytics, AppError> {
        self.head(caller, id).await?;
        let stats = self
            .analytics
            .run_stats(&caller.tenant(), id, &filter)
            .await?;
        let paused = stats
            .by_status
            .iter()
            .filter(|(s, _)| *s == RunStatus::Paused)
            .map(|(_, n)| *n)
            .sum();
        let statuses: BTreeMap<String, u64> = stats
            .by_status
            .into_iter()
            .map(|(s, n)| (s.as_str().to_owned(), n))
            .collect();
        Ok(Analytics {
            workflow_id: id.to_owned(),
            total_runs: stats.total,
            outcomes: stats
                .by_final_status
                .into_iter()
                .map(|(o, n)| (o.map_or("in_progress", Outcome::as_str).to_owned(), n))
                .collect(),
            paused,
            statuses,
            by_version: stats
                .by_version
                .into_iter()
                .map(|(v, n)| (v.to_string(), n))
                .collect(),
            median_duration_ms: percentile(&stats.run_durations_ms, 50.0),
            p95_duration_ms: percentile(&stats.run_durations_ms, 95.0),
            nodes: stats
                .nodes
                .into_iter()
                .map(|n| {
                    let a = NodeAnalytics {
                        policy: n.policy,
                        executions: n.executions,
                        passed: n.passed,
                        failed: n.failed,
                        errors: n.errors,
                        retries: n.retries,
                        p50_ms: percentile(&n.durations_ms, 50.0),
                        p95_ms: percentile(&n.durations_ms, 95.0),
                    };
                    (n.node_id, a)
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[7], 95.0), Some(7));
        let v: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 95.0), Some(95));
        assert_eq!(percentile(&[1, 2, 3, 4], 50.0), Some(2));
    }
}
