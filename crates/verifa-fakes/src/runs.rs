//! [`RunStore`] in memory: claims take the earliest due, unleased run under the world's lock
//! (so concurrent claimers never get the same run); commits are fenced on revision and owner.

use crate::change::{apply_change, check_change, write_state};
use crate::state::MemoryStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use verifa_domain::run::WorkflowRun;
use verifa_domain::tenancy::Tenant;
use verifa_domain::workflow::NodeType;
use verifa_ports::RepoError;
use verifa_ports::runs::{NewAttempt, NodeExecution, RunStore};
use verifa_ports::sessions::SessionChange;

#[async_trait]
impl RunStore for MemoryStore {
    async fn run_for_session(
        &self,
        tenant: &Tenant,
        session_id: &str,
    ) -> Result<Option<WorkflowRun>, RepoError> {
        let w = self.world()?;
        Ok(w.runs
            .values()
            .filter(|r| &r.tenant == tenant && r.session_id == session_id)
            .max_by_key(|r| r.created_at)
            .cloned())
    }

    async fn executions(
        &self,
        tenant: &Tenant,
        session_id: &str,
        policy: Option<&str>,
    ) -> Result<Vec<NodeExecution>, RepoError> {
        let w = self.world()?;
        let mut list: Vec<NodeExecution> = w
            .executions
            .iter()
            .filter(|e| &e.tenant == tenant && e.session_id == session_id)
            .filter(|e| policy.is_none_or(|p| e.attempt.policy == p))
            .cloned()
            .collect();
        list.sort_by_key(|e| (e.attempt.started_at, e.attempt.attempt));
        Ok(list)
    }

    async fn claim_run(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<WorkflowRun>, RepoError> {
        let mut w = self.world()?;
        let next = w
            .runs
            .values()
            .filter(|r| r.due.is_some_and(|d| d <= now))
            .filter(|r| r.lease.until.is_none_or(|u| u < now))
            .min_by(|a, b| (a.due, &a.id).cmp(&(b.due, &b.id)))
            .map(|r| r.id.clone());
        let Some(id) = next else {
            return Ok(None);
        };
        let Some(run) = w.runs.get_mut(&id) else {
            return Ok(None);
        };
        run.lease.owner = Some(owner.to_owned());
        run.lease.until = Some(lease_until);
        run.revision += 1;
        Ok(Some(run.clone()))
    }

    async fn commit_run(
        &self,
        run: &WorkflowRun,
        expected_revision: i32,
        attempts: &[NewAttempt],
        change: Option<&SessionChange>,
    ) -> Result<(), RepoError> {
        let mut w = self.world()?;
        let fenced = w.runs.get(&run.id).is_some_and(|stored| {
            stored.revision == expected_revision && stored.lease.owner == run.lease.owner
        });
        if !fenced {
            return Err(RepoError::Conflict("lease lost".into()));
        }
        for a in attempts {
            let taken = w.executions.iter().any(|e| {
                e.id == a.id
                    || (e.run_id == run.id
                        && e.attempt.node_id == a.attempt.node_id
                        && e.attempt.attempt == a.attempt.attempt)
            });
            if taken {
                return Err(RepoError::Conflict(format!(
                    "attempt {} of node {} is recorded",
                    a.attempt.attempt, a.attempt.node_id
                )));
            }
        }
        if let Some(change) = change {
            check_change(&w, change)?;
        }
        if let Some(stored) = w.runs.get_mut(&run.id) {
            write_state(stored, run);
        }
        let stored = w.runs.get(&run.id).cloned();
        if let Some(stored) = stored {
            for a in attempts {
                w.executions.push(NodeExecution {
                    id: a.id.clone(),
                    run_id: stored.id.clone(),
                    tenant: stored.tenant.clone(),
                    session_id: stored.session_id.clone(),
                    workflow_id: stored.workflow_id.clone(),
                    workflow_version: stored.workflow_version,
                    node_type: NodeType::Policy,
                    attempt: a.attempt.clone(),
                });
            }
        }
        if let Some(change) = change {
            apply_change(&mut w, change);
        }
        Ok(())
    }
}
