//! [`WorkflowAnalytics`] on sea-orm: grouped counts and sorted durations in SQL, percentiles
//! left to the caller.

use crate::Database;
use crate::entities::{workflow_node_executions as execs, workflow_runs as runs};
use crate::error::{corrupt, map_db};
use crate::repos::common::in_tenant;
use async_trait::async_trait;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::Value;
use std::collections::BTreeMap;
use verifa_domain::tenancy::Tenant;
use verifa_domain::workflow::{Outcome, RunStatus};
use verifa_ports::RepoError;
use verifa_ports::workflows::WorkflowAnalytics;
use verifa_ports::workflows::{AnalyticsFilter, NodeStats, RunStats};

#[async_trait]
impl WorkflowAnalytics for Database {
    async fn run_stats(
        &self,
        tenant: &Tenant,
        workflow_id: &str,
        f: &AnalyticsFilter,
    ) -> Result<RunStats, RepoError> {
        let mut run_filter = in_tenant(runs::Column::OrgId, runs::Column::Environment, tenant)
            .add(runs::Column::WorkflowId.eq(workflow_id));
        let mut exec_filter = in_tenant(execs::Column::OrgId, execs::Column::Environment, tenant)
            .add(execs::Column::WorkflowId.eq(workflow_id));
        if let Some(from) = f.date_from {
            run_filter = run_filter.add(runs::Column::CreatedAt.gte(from));
            exec_filter = exec_filter.add(execs::Column::CreatedAt.gte(from));
        }
        if let Some(to) = f.date_to {
            run_filter = run_filter.add(runs::Column::CreatedAt.lt(to));
            exec_filter = exec_filter.add(execs::Column::CreatedAt.lt(to));
        }
        if let Some(v) = f.version {
            run_filter = run_filter.add(runs::Column::WorkflowVersion.eq(v));
            exec_filter = exec_filter.add(execs::Column::WorkflowVersion.eq(v));
        }
        let count = || Expr::col(runs::Column::Id).count();
        let by_status: Vec<(String, i64)> = runs::Entity::find()
            .select_only()
            .column(runs::Column::Status)
            .column_as(count(), "n")
            .filter(run_filter.clone())
            .group_by(runs::Column::Status)
            .into_tuple()
            .all(&self.conn)
            .await
            .map_err(map_db)?;
        let by_final: Vec<(Option<String>, i64)> = runs::Entity::find()
            .select_only()
            .column(runs::Column::FinalStatus)
            .column_as(count(), "n")
            .filter(run_filter.clone())
            .group_by(runs::Column::FinalStatus)
            .into_tuple()
            .all(&self.conn)
            .await
            .map_err(map_db)?;
        let by_version: Vec<(i32, i64)> = runs::Entity::find()
            .select_only()
            .column(runs::Column::WorkflowVersion)
            .column_as(count(), "n")
            .filter(run_filter.clone())
            .group_by(runs::Column::WorkflowVersion)
            .order_by_asc(runs::Column::WorkflowVersion)
            .into_tuple()
            .all(&self.conn)
            .await
            .map_err(map_db)?;
        let run_durations_ms: Vec<i64> = runs::Entity::find()
            .select_only()
            .column(runs::Column::DurationMs)
            .filter(
                run_filter
                    .clone()
                    .add(runs::Column::DurationMs.is_not_null())
                    .add(runs::Column::Status.eq(RunStatus::Completed.as_str())),
            )
            .order_by_asc(runs::Column::DurationMs)
            .into_tuple::<Option<i64>>()
            .all(&self.conn)
            .await
            .map_err(map_db)?
            .into_iter()
            .flatten()
            .collect();
        let node_counts: Vec<(String, Option<String>, String, i64)> = execs::Entity::find()
            .select_only()
            .column(execs::Column::NodeId)
            .column(execs::Column::Policy)
            .column(execs::Column::Status)
            .column_as(Expr::col(execs::Column::Id).count(), "n")
            .filter(exec_filter.clone())
            .group_by(execs::Column::NodeId)
            .group_by(execs::Column::Policy)
            .group_by(execs::Column::Status)
            .into_tuple()
            .all(&self.conn)
            .await
            .map_err(map_db)?;
        let retries: Vec<(String, i64)> = execs::Entity::find()
            .select_only()
            .column(execs::Column::NodeId)
            .column_as(Expr::col(execs::Column::Id).count(), "n")
            .filter(exec_filter.clone().add(execs::Column::Attempt.gt(1)))
            .group_by(execs::Column::NodeId)
            .into_tuple()
            .all(&self.conn)
            .await
            .map_err(map_db)?;
        let durations: Vec<(String, i64)> = execs::Entity::find()
            .select_only()
            .column(execs::Column::NodeId)
            .column(execs::Column::DurationMs)
            .filter(exec_filter)
            .order_by_asc(execs::Column::NodeId)
            .order_by_asc(execs::Column::DurationMs)
            .into_tuple()
            .all(&self.conn)
            .await
            .map_err(map_db)?;

        let mut nodes: BTreeMap<String, NodeStats> = BTreeMap::new();
        for (node_id, policy, status, n) in node_counts {
            let n = u64::try_from(n).unwrap_or(0);
            let e = nodes.entry(node_id.clone()).or_insert_with(|| NodeStats {
                node_id,
                policy: policy.clone(),
                ..Default::default()
            });
            e.executions += n;
            match status.as_str() {
                "passed" => e.passed += n,
                "failed" => e.failed += n,
                "error" => e.errors += n,
                _ => {}
            }
        }
        for (node_id, n) in retries {
            if let Some(e) = nodes.get_mut(&node_id) {
                e.retries = u64::try_from(n).unwrap_or(0);
            }
        }
        for (node_id, d) in durations {
            if let Some(e) = nodes.get_mut(&node_id) {
                e.durations_ms.push(d);
            }
        }
        let to_u64 = |n: i64| u64::try_from(n).unwrap_or(0);
        let outcome =
            |s: &str| Outcome::parse(s).ok_or_else(|| corrupt("workflow_runs.final_status", s));
        let run_status = |s: &str| {
            serde_json::from_value::<RunStatus>(Value::String(s.to_owned()))
                .map_err(|e| corrupt("workflow_runs.status", e))
        };
        Ok(RunStats {
            total: by_status.iter().map(|(_, n)| to_u64(*n)).sum(),
            by_final_status: by_final
                .into_iter()
                .map(|(s, n)| Ok((s.as_deref().map(outcome).transpose()?, to_u64(n))))
                .collect::<Result<_, RepoError>>()?,
            by_status: by_status
                .into_iter()
                .map(|(s, n)| Ok((run_status(&s)?, to_u64(n))))
                .collect::<Result<_, RepoError>>()?,
            by_version: by_version
                .into_iter()
                .map(|(v, n)| (v, to_u64(n)))
                .collect(),
            run_durations_ms,
            nodes: nodes.into_values().collect(),
        })
    }
}
