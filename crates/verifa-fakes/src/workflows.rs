//! The workflow ports in memory: [`WorkflowStore`] (one default per tenant; publication a
//! compare-and-set on the head's version), [`DraftStore`], [`WorkflowAnalytics`].

use crate::state::{MemoryStore, page_of};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use verifa_domain::audit::AuditDraft;
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::Tenant;
use verifa_domain::workflow::{CheckStatus, DraftStatus, RolloutEntry, RunStatus};
use verifa_ports::RepoError;
use verifa_ports::workflows::{
    AnalyticsFilter, DraftRecord, DraftStore, NodeStats, Publication, RunStats, VersionRecord,
    WorkflowAnalytics, WorkflowRecord, WorkflowStore,
};

fn clear_default(workflows: &mut BTreeMap<String, WorkflowRecord>, tenant: &Tenant) {
    for w in workflows
        .values_mut()
        .filter(|w| &w.tenant == tenant && w.is_default)
    {
        w.is_default = false;
        w.revision += 1;
    }
}

fn changed() -> RepoError {
    RepoError::Conflict("the row changed since it was read".into())
}

#[async_trait]
impl WorkflowStore for MemoryStore {
    async fn create(
        &self,
        workflow: &WorkflowRecord,
        first_version: &VersionRecord,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let mut w = self.world()?;
        crate::audit::check(&w, audit)?;
        if w.workflows.contains_key(&workflow.id) {
            return Err(RepoError::Conflict(format!(
                "workflow {} exists",
                workflow.id
            )));
        }
        if workflow.is_default {
            clear_default(&mut w.workflows, &workflow.tenant);
        }
        w.workflows.insert(workflow.id.clone(), workflow.clone());
        w.versions.push(first_version.clone());
        crate::audit::append(&mut w, audit);
        Ok(())
    }

    async fn get(&self, tenant: &Tenant, id: &str) -> Result<WorkflowRecord, RepoError> {
        self.world()?
            .workflows
            .get(id)
            .filter(|w| &w.tenant == tenant)
            .cloned()
            .ok_or(RepoError::NotFound)
    }

    async fn get_default(&self, tenant: &Tenant) -> Result<Option<WorkflowRecord>, RepoError> {
        Ok(self
            .world()?
            .workflows
            .values()
            .find(|w| &w.tenant == tenant && w.is_default)
            .cloned())
    }

    async fn list(
        &self,
        tenant: &Tenant,
        is_active: Option<bool>,
        page: PageRequest,
    ) -> Result<Page<WorkflowRecord>, RepoError> {
        let w = self.world()?;
        let mut items: Vec<WorkflowRecord> = w
            .workflows
            .values()
            .filter(|w| &w.tenant == tenant && is_active.is_none_or(|a| w.is_active == a))
            .cloned()
            .collect();
        items.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        Ok(page_of(items, page))
    }

    async fn update_head(
        &self,
        workflow: &WorkflowRecord,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let mut w = self.world()?;
        crate::audit::check(&w, audit)?;
        let Some(head) = w
            .workflows
            .get_mut(&workflow.id)
            .filter(|h| h.tenant == workflow.tenant)
        else {
            return Err(RepoError::NotFound);
        };
        if head.revision != workflow.revision {
            return Err(changed());
        }
        head.revision += 1;
        head.name = workflow.name.clone();
        head.description = workflow.description.clone();
        head.screening_settings = workflow.screening_settings.clone();
        head.graph_layout = workflow.graph_layout.clone();
        head.is_active = workflow.is_active;
        head.updated_at = workflow.updated_at;
        crate::audit::append(&mut w, audit);
        Ok(())
    }

    async fn publish(
        &self,
        expected_version: i32,
        p: &Publication,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let mut w = self.world()?;
        crate::audit::check(&w, audit)?;
        let next = &p.workflow;
        let Some(head) = w.workflows.get_mut(&next.id).filter(|h| {
            h.tenant == next.tenant && h.version == expected_version && h.revision == next.revision
        }) else {
            return Err(RepoError::Conflict("workflow version changed".into()));
        };
        let (is_default, is_active, revision) = (head.is_default, head.is_active, head.revision);
        *head = next.clone();
        head.is_default = is_default;
        head.is_active = is_active;
        head.revision = revision + 1;
        w.versions.push(p.version.clone());
        if let Some(draft_id) = &p.draft_id
            && let Some(d) = w
                .drafts
                .get_mut(draft_id)
                .filter(|d| d.status == DraftStatus::Open)
        {
            d.status = DraftStatus::Published;
            d.published_version = Some(next.version);
            d.updated_at = next.updated_at;
        }
        crate::audit::append(&mut w, audit);
        Ok(())
    }

    async fn set_default(
        &self,
        tenant: &Tenant,
        id: &str,
        now: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let mut w = self.world()?;
        crate::audit::check(&w, audit)?;
        if w.workflows.get(id).is_none_or(|h| &h.tenant != tenant) {
            return Err(RepoError::NotFound);
        }
        clear_default(&mut w.workflows, tenant);
        if let Some(h) = w.workflows.get_mut(id) {
            h.is_default = true;
            h.updated_at = now;
            h.revision += 1;
        }
        crate::audit::append(&mut w, audit);
        Ok(())
    }

    async fn set_rollout(
        &self,
        tenant: &Tenant,
        id: &str,
        entries: &[RolloutEntry],
        now: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let mut w = self.world()?;
        crate::audit::check(&w, audit)?;
        let Some(h) = w.workflows.get_mut(id).filter(|h| &h.tenant == tenant) else {
            return Err(RepoError::NotFound);
        };
        h.rollout = entries.to_vec();
        h.rollout_updated_at = now;
        h.revision += 1;
        crate::audit::append(&mut w, audit);
        Ok(())
    }

    async fn versions(
        &self,
        tenant: &Tenant,
        workflow_id: &str,
        page: PageRequest,
    ) -> Result<Page<VersionRecord>, RepoError> {
        let w = self.world()?;
        let mut items: Vec<VersionRecord> = w
            .versions
            .iter()
            .filter(|v| &v.tenant == tenant && v.workflow_id == workflow_id)
            .cloned()
            .collect();
        items.sort_by_key(|v| std::cmp::Reverse(v.version));
        Ok(page_of(items, page))
    }

    async fn version(
        &self,
        tenant: &Tenant,
        workflow_id: &str,
        version: i32,
    ) -> Result<VersionRecord, RepoError> {
        self.world()?
            .versions
            .iter()
            .find(|v| &v.tenant == tenant && v.workflow_id == workflow_id && v.version == version)
            .cloned()
            .ok_or(RepoError::NotFound)
    }

    async fn version_numbers(
        &self,
        tenant: &Tenant,
        workflow_id: &str,
    ) -> Result<Vec<i32>, RepoError> {
        let mut v: Vec<i32> = self
            .world()?
            .versions
            .iter()
            .filter(|v| &v.tenant == tenant && v.workflow_id == workflow_id)
            .map(|v| v.version)
            .collect();
        v.sort_unstable();
        Ok(v)
    }
}

#[async_trait]
impl DraftStore for MemoryStore {
    async fn insert_draft(
        &self,
        draft: &DraftRecord,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let mut w = self.world()?;
        crate::audit::check(&w, audit)?;
        if w.drafts.contains_key(&draft.id) {
            return Err(RepoError::Conflict(format!("draft {} exists", draft.id)));
        }
        w.drafts.insert(draft.id.clone(), draft.clone());
        crate::audit::append(&mut w, audit);
        Ok(())
    }

    async fn draft(
        &self,
        tenant: &Tenant,
        workflow_id: &str,
        draft_id: &str,
    ) -> Result<DraftRecord, RepoError> {
        self.world()?
            .drafts
            .get(draft_id)
            .filter(|d| &d.tenant == tenant && d.workflow_id == workflow_id)
            .cloned()
            .ok_or(RepoError::NotFound)
    }

    async fn drafts(
        &self,
        tenant: &Tenant,
        workflow_id: &str,
        status: Option<DraftStatus>,
        page: PageRequest,
    ) -> Result<Page<DraftRecord>, RepoError> {
        let w = self.world()?;
        let mut items: Vec<DraftRecord> = w
            .drafts
            .values()
            .filter(|d| &d.tenant == tenant && d.workflow_id == workflow_id)
            .filter(|d| status.is_none_or(|s| d.status == s))
            .cloned()
            .collect();
        items.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        Ok(page_of(items, page))
    }

    async fn update_draft(
        &self,
        draft: &DraftRecord,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let mut w = self.world()?;
        crate::audit::check(&w, audit)?;
        let Some(d) = w
            .drafts
            .get_mut(&draft.id)
            .filter(|d| d.tenant == draft.tenant)
        else {
            return Err(RepoError::NotFound);
        };
        if d.revision != draft.revision {
            return Err(changed());
        }
        let (workflow_id, base_version, created_at) =
            (d.workflow_id.clone(), d.base_version, d.created_at);
        *d = draft.clone();
        d.workflow_id = workflow_id;
        d.base_version = base_version;
        d.created_at = created_at;
        d.revision = draft.revision + 1;
        crate::audit::append(&mut w, audit);
        Ok(())
    }
}

#[async_trait]
impl WorkflowAnalytics for MemoryStore {
    async fn run_stats(
        &self,
        tenant: &Tenant,
        workflow_id: &str,
        f: &AnalyticsFilter,
    ) -> Result<RunStats, RepoError> {
        let w = self.world()?;
        let in_range = |t: DateTime<Utc>| {
            f.date_from.is_none_or(|from| t >= from) && f.date_to.is_none_or(|to| t < to)
        };
        let runs: Vec<_> = w
            .runs
            .values()
            .filter(|r| &r.tenant == tenant && r.workflow_id == workflow_id)
            .filter(|r| in_range(r.created_at))
            .filter(|r| f.version.is_none_or(|v| r.workflow_version == v))
            .collect();
        let mut by_status: BTreeMap<&'static str, (RunStatus, u64)> = BTreeMap::new();
        let mut by_final: BTreeMap<&'static str, (_, u64)> = BTreeMap::new();
        let mut by_version: BTreeMap<i32, u64> = BTreeMap::new();
        let mut run_durations_ms = Vec::new();
        for r in &runs {
            by_status
                .entry(r.status().as_str())
                .or_insert((r.status(), 0))
                .1 += 1;
            let key = r.final_status().map_or("", |o| o.as_str());
            by_final.entry(key).or_insert((r.final_status(), 0)).1 += 1;
            *by_version.entry(r.workflow_version).or_insert(0) += 1;
            if r.status() == RunStatus::Completed
                && let Some(d) = r.state.duration_ms
            {
                run_durations_ms.push(d);
            }
        }
        run_durations_ms.sort_unstable();
        let mut nodes: BTreeMap<String, NodeStats> = BTreeMap::new();
        for e in w.executions.iter().filter(|e| {
            &e.tenant == tenant
                && e.workflow_id == workflow_id
                && in_range(e.attempt.completed_at)
                && f.version.is_none_or(|v| e.workflow_version == v)
        }) {
            let a = &e.attempt;
            let n = nodes.entry(a.node_id.clone()).or_insert_with(|| NodeStats {
                node_id: a.node_id.clone(),
                policy: Some(a.policy.clone()),
                ..NodeStats::default()
            });
            n.executions += 1;
            match a.status {
                CheckStatus::Passed => n.passed += 1,
                CheckStatus::Failed => n.failed += 1,
                CheckStatus::Error => n.errors += 1,
                _ => {}
            }
            if a.attempt > 1 {
                n.retries += 1;
            }
            n.durations_ms
                .push(i64::try_from(a.duration_ms).unwrap_or(i64::MAX));
        }
        for n in nodes.values_mut() {
            n.durations_ms.sort_unstable();
        }
        Ok(RunStats {
            total: runs.len() as u64,
            by_final_status: by_final.into_values().collect(),
            by_status: by_status.into_values().collect(),
            by_version: by_version.into_iter().collect(),
            run_durations_ms,
            nodes: nodes.into_values().collect(),
        })
    }
}
