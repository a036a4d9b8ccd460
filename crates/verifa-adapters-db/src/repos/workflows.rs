//! [`WorkflowRepository`] on sea-orm.

use crate::Database;
use crate::entities::{
    workflow_drafts as drafts, workflow_node_executions as execs, workflow_runs as runs,
    workflow_versions as versions, workflows,
};
use crate::error::{corrupt, map_db};
use crate::repos::common::{fetch_page, in_tenant, tenant_of};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use serde_json::Value;
use std::collections::BTreeMap;
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::Tenant;
use verifa_domain::workflow::RolloutEntry;
use verifa_ports::RepoError;
use verifa_ports::workflows::{
    AnalyticsFilter, DraftRecord, NodeStats, Publication, RunStats, VersionRecord, WorkflowRecord,
    WorkflowRepository,
};

fn json_text(v: &Option<Value>) -> Option<String> {
    v.as_ref().map(Value::to_string)
}

fn parse_opt(what: &str, t: Option<String>) -> Result<Option<Value>, RepoError> {
    t.map(|t| serde_json::from_str(&t).map_err(|e| corrupt(what, e)))
        .transpose()
}

fn rollout_text(entries: &[RolloutEntry]) -> String {
    serde_json::to_string(entries).unwrap_or_else(|_| "[]".into())
}

fn workflow_active(w: &WorkflowRecord) -> workflows::ActiveModel {
    workflows::ActiveModel {
        id: Set(w.id.clone()),
        org_id: Set(w.tenant.org_id.clone()),
        environment: Set(w.tenant.environment.as_str().to_owned()),
        name: Set(w.name.clone()),
        description: Set(w.description.clone()),
        version: Set(w.version),
        is_default: Set(w.is_default),
        is_active: Set(w.is_active),
        format: Set(w.format.clone()),
        screening_settings: Set(json_text(&w.screening_settings)),
        graph_layout: Set(json_text(&w.graph_layout)),
        rollout: Set(rollout_text(&w.rollout)),
        rollout_updated_at: Set(w.rollout_updated_at),
        created_at: Set(w.created_at),
        updated_at: Set(w.updated_at),
    }
}

fn workflow_from(m: workflows::Model) -> Result<WorkflowRecord, RepoError> {
    Ok(WorkflowRecord {
        tenant: tenant_of(m.org_id, &m.environment)?,
        rollout: serde_json::from_str(&m.rollout).map_err(|e| corrupt("workflows.rollout", e))?,
        screening_settings: parse_opt("workflows.screening_settings", m.screening_settings)?,
        graph_layout: parse_opt("workflows.graph_layout", m.graph_layout)?,
        id: m.id,
        name: m.name,
        description: m.description,
        version: m.version,
        is_default: m.is_default,
        is_active: m.is_active,
        format: m.format,
        rollout_updated_at: m.rollout_updated_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn version_active(v: &VersionRecord) -> versions::ActiveModel {
    versions::ActiveModel {
        id: Set(v.id.clone()),
        workflow_id: Set(v.workflow_id.clone()),
        org_id: Set(v.tenant.org_id.clone()),
        environment: Set(v.tenant.environment.as_str().to_owned()),
        version: Set(v.version),
        format: Set(v.format.clone()),
        graph: Set(v.graph_json.clone()),
        steps: Set(v.steps_json.clone()),
        data_requirements: Set(v.data_requirements_json.clone()),
        source: Set(v.source.clone()),
        draft_id: Set(v.draft_id.clone()),
        created_by: Set(v.created_by.clone()),
        content_hash: Set(v.content_hash.clone()),
        created_at: Set(v.created_at),
    }
}

fn version_from(m: versions::Model) -> Result<VersionRecord, RepoError> {
    Ok(VersionRecord {
        tenant: tenant_of(m.org_id, &m.environment)?,
        id: m.id,
        workflow_id: m.workflow_id,
        version: m.version,
        format: m.format,
        graph_json: m.graph,
        steps_json: m.steps,
        data_requirements_json: m.data_requirements,
        source: m.source,
        draft_id: m.draft_id,
        created_by: m.created_by,
        content_hash: m.content_hash,
        created_at: m.created_at,
    })
}

fn draft_active(d: &DraftRecord) -> drafts::ActiveModel {
    drafts::ActiveModel {
        id: Set(d.id.clone()),
        workflow_id: Set(d.workflow_id.clone()),
        org_id: Set(d.tenant.org_id.clone()),
        environment: Set(d.tenant.environment.as_str().to_owned()),
        base_version: Set(d.base_version),
        name: Set(d.name.clone()),
        description: Set(d.description.clone()),
        format: Set(d.format.clone()),
        graph: Set(json_text(&d.graph)),
        steps: Set(json_text(&d.steps)),
        data_requirements: Set(json_text(&d.data_requirements)),
        graph_layout: Set(json_text(&d.graph_layout)),
        status: Set(d.status.clone()),
        published_version: Set(d.published_version),
        created_at: Set(d.created_at),
        updated_at: Set(d.updated_at),
    }
}

fn draft_from(m: drafts::Model) -> Result<DraftRecord, RepoError> {
    Ok(DraftRecord {
        tenant: tenant_of(m.org_id, &m.environment)?,
        graph: parse_opt("workflow_drafts.graph", m.graph)?,
        steps: parse_opt("workflow_drafts.steps", m.steps)?,
        data_requirements: parse_opt("workflow_drafts.data_requirements", m.data_requirements)?,
        graph_layout: parse_opt("workflow_drafts.graph_layout", m.graph_layout)?,
        id: m.id,
        workflow_id: m.workflow_id,
        base_version: m.base_version,
        name: m.name,
        description: m.description,
        format: m.format,
        status: m.status,
        published_version: m.published_version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

async fn clear_default<C: ConnectionTrait>(conn: &C, tenant: &Tenant) -> Result<(), RepoError> {
    workflows::Entity::update_many()
        .col_expr(workflows::Column::IsDefault, Expr::value(false))
        .filter(in_tenant(
            workflows::Column::OrgId,
            workflows::Column::Environment,
            tenant,
        ))
        .filter(workflows::Column::IsDefault.eq(true))
        .exec(conn)
        .await
        .map_err(map_db)?;
    Ok(())
}

#[async_trait]
impl WorkflowRepository for Database {
    async fn create(
        &self,
        workflow: &WorkflowRecord,
        first_version: &VersionRecord,
    ) -> Result<(), RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        if workflow.is_default {
            clear_default(&txn, &workflow.tenant).await?;
        }
        workflow_active(workflow)
            .insert(&txn)
            .await
            .map_err(map_db)?;
        version_active(first_version)
            .insert(&txn)
            .await
            .map_err(map_db)?;
        txn.commit().await.map_err(map_db)
    }

    async fn get(&self, tenant: &Tenant, id: &str) -> Result<WorkflowRecord, RepoError> {
        let m = workflows::Entity::find()
            .filter(in_tenant(
                workflows::Column::OrgId,
                workflows::Column::Environment,
                tenant,
            ))
            .filter(workflows::Column::Id.eq(id))
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .ok_or(RepoError::NotFound)?;
        workflow_from(m)
    }

    async fn get_default(&self, tenant: &Tenant) -> Result<Option<WorkflowRecord>, RepoError> {
        workflows::Entity::find()
            .filter(in_tenant(
                workflows::Column::OrgId,
                workflows::Column::Environment,
                tenant,
            ))
            .filter(workflows::Column::IsDefault.eq(true))
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .map(workflow_from)
            .transpose()
    }

    async fn list(
        &self,
        tenant: &Tenant,
        is_active: Option<bool>,
        page: PageRequest,
    ) -> Result<Page<WorkflowRecord>, RepoError> {
        let mut q = workflows::Entity::find().filter(in_tenant(
            workflows::Column::OrgId,
            workflows::Column::Environment,
            tenant,
        ));
        if let Some(active) = is_active {
            q = q.filter(workflows::Column::IsActive.eq(active));
        }
        let (rows, total) = fetch_page(
            q.order_by_desc(workflows::Column::CreatedAt)
                .order_by_desc(workflows::Column::Id),
            &self.conn,
            page,
        )
        .await?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(workflow_from)
                .collect::<Result<_, _>>()?,
            total,
            request: page,
        })
    }

    async fn update_head(&self, w: &WorkflowRecord) -> Result<(), RepoError> {
        let r = workflows::Entity::update_many()
            .col_expr(workflows::Column::Name, Expr::value(w.name.clone()))
            .col_expr(
                workflows::Column::Description,
                Expr::value(w.description.clone()),
            )
            .col_expr(
                workflows::Column::ScreeningSettings,
                Expr::value(json_text(&w.screening_settings)),
            )
            .col_expr(
                workflows::Column::GraphLayout,
                Expr::value(json_text(&w.graph_layout)),
            )
            .col_expr(workflows::Column::IsActive, Expr::value(w.is_active))
            .col_expr(workflows::Column::UpdatedAt, Expr::value(w.updated_at))
            .filter(in_tenant(
                workflows::Column::OrgId,
                workflows::Column::Environment,
                &w.tenant,
            ))
            .filter(workflows::Column::Id.eq(w.id.clone()))
            .exec(&self.conn)
            .await
            .map_err(map_db)?;
        if r.rows_affected == 0 {
            Err(RepoError::NotFound)
        } else {
            Ok(())
        }
    }

    async fn publish(&self, expected_version: i32, p: &Publication) -> Result<(), RepoError> {
        let w = &p.workflow;
        let txn = self.conn.begin().await.map_err(map_db)?;
        // Claim the head first: of two concurrent publishers only one sees its expected version.
        let claimed = workflows::Entity::update_many()
            .col_expr(workflows::Column::Version, Expr::value(w.version))
            .col_expr(workflows::Column::Name, Expr::value(w.name.clone()))
            .col_expr(
                workflows::Column::Description,
                Expr::value(w.description.clone()),
            )
            .col_expr(workflows::Column::Format, Expr::value(w.format.clone()))
            .col_expr(
                workflows::Column::GraphLayout,
                Expr::value(json_text(&w.graph_layout)),
            )
            .col_expr(
                workflows::Column::ScreeningSettings,
                Expr::value(json_text(&w.screening_settings)),
            )
            .col_expr(
                workflows::Column::Rollout,
                Expr::value(rollout_text(&w.rollout)),
            )
            .col_expr(
                workflows::Column::RolloutUpdatedAt,
                Expr::value(w.rollout_updated_at),
            )
            .col_expr(workflows::Column::UpdatedAt, Expr::value(w.updated_at))
            .filter(in_tenant(
                workflows::Column::OrgId,
                workflows::Column::Environment,
                &w.tenant,
            ))
            .filter(workflows::Column::Id.eq(w.id.clone()))
            .filter(workflows::Column::Version.eq(expected_version))
            .exec(&txn)
            .await
            .map_err(map_db)?;
        if claimed.rows_affected != 1 {
            let _ = txn.rollback().await;
            return Err(RepoError::Conflict("workflow version changed".into()));
        }
        version_active(&p.version)
            .insert(&txn)
            .await
            .map_err(map_db)?;
        if let Some(draft_id) = &p.draft_id {
            drafts::Entity::update_many()
                .col_expr(drafts::Column::Status, Expr::value("published"))
                .col_expr(drafts::Column::PublishedVersion, Expr::value(w.version))
                .col_expr(drafts::Column::UpdatedAt, Expr::value(w.updated_at))
                .filter(drafts::Column::Id.eq(draft_id.clone()))
                .filter(drafts::Column::Status.eq("open"))
                .exec(&txn)
                .await
                .map_err(map_db)?;
        }
        txn.commit().await.map_err(map_db)
    }

    async fn set_default(
        &self,
        tenant: &Tenant,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), RepoError> {
        let txn = self.conn.begin().await.map_err(map_db)?;
        clear_default(&txn, tenant).await?;
        let r = workflows::Entity::update_many()
            .col_expr(workflows::Column::IsDefault, Expr::value(true))
            .col_expr(workflows::Column::UpdatedAt, Expr::value(now))
            .filter(in_tenant(
                workflows::Column::OrgId,
                workflows::Column::Environment,
                tenant,
            ))
            .filter(workflows::Column::Id.eq(id))
            .exec(&txn)
            .await
            .map_err(map_db)?;
        if r.rows_affected == 0 {
            let _ = txn.rollback().await;
            return Err(RepoError::NotFound);
        }
        txn.commit().await.map_err(map_db)
    }

    async fn set_rollout(
        &self,
        tenant: &Tenant,
        id: &str,
        entries: &[RolloutEntry],
        now: DateTime<Utc>,
    ) -> Result<(), RepoError> {
        let r = workflows::Entity::update_many()
            .col_expr(
                workflows::Column::Rollout,
                Expr::value(rollout_text(entries)),
            )
            .col_expr(workflows::Column::RolloutUpdatedAt, Expr::value(now))
            .col_expr(workflows::Column::UpdatedAt, Expr::value(now))
            .filter(in_tenant(
                workflows::Column::OrgId,
                workflows::Column::Environment,
                tenant,
            ))
            .filter(workflows::Column::Id.eq(id))
            .exec(&self.conn)
            .await
            .map_err(map_db)?;
        if r.rows_affected == 0 {
            Err(RepoError::NotFound)
        } else {
            Ok(())
        }
    }

    async fn versions(
        &self,
        tenant: &Tenant,
        workflow_id: &str,
        page: PageRequest,
    ) -> Result<Page<VersionRecord>, RepoError> {
        let q = versions::Entity::find()
            .filter(in_tenant(
                versions::Column::OrgId,
                versions::Column::Environment,
                tenant,
            ))
            .filter(versions::Column::WorkflowId.eq(workflow_id));
        let (rows, total) =
            fetch_page(q.order_by_desc(versions::Column::Version), &self.conn, page).await?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(version_from)
                .collect::<Result<_, _>>()?,
            total,
            request: page,
        })
    }

    async fn version(
        &self,
        tenant: &Tenant,
        workflow_id: &str,
        version: i32,
    ) -> Result<VersionRecord, RepoError> {
        let m = versions::Entity::find()
            .filter(in_tenant(
                versions::Column::OrgId,
                versions::Column::Environment,
                tenant,
            ))
            .filter(versions::Column::WorkflowId.eq(workflow_id))
            .filter(versions::Column::Version.eq(version))
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .ok_or(RepoError::NotFound)?;
        version_from(m)
    }

    async fn version_numbers(
        &self,
        tenant: &Tenant,
        workflow_id: &str,
    ) -> Result<Vec<i32>, RepoError> {
        versions::Entity::find()
            .select_only()
            .column(versions::Column::Version)
            .filter(in_tenant(
                versions::Column::OrgId,
                versions::Column::Environment,
                tenant,
            ))
            .filter(versions::Column::WorkflowId.eq(workflow_id))
            .into_tuple::<i32>()
            .all(&self.conn)
            .await
            .map_err(map_db)
    }

    async fn insert_draft(&self, d: &DraftRecord) -> Result<(), RepoError> {
        draft_active(d).insert(&self.conn).await.map_err(map_db)?;
        Ok(())
    }

    async fn draft(
        &self,
        tenant: &Tenant,
        workflow_id: &str,
        draft_id: &str,
    ) -> Result<DraftRecord, RepoError> {
        let m = drafts::Entity::find()
            .filter(in_tenant(
                drafts::Column::OrgId,
                drafts::Column::Environment,
                tenant,
            ))
            .filter(drafts::Column::WorkflowId.eq(workflow_id))
            .filter(drafts::Column::Id.eq(draft_id))
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .ok_or(RepoError::NotFound)?;
        draft_from(m)
    }

    async fn drafts(
        &self,
        tenant: &Tenant,
        workflow_id: &str,
        status: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<DraftRecord>, RepoError> {
        let mut q = drafts::Entity::find()
            .filter(in_tenant(
                drafts::Column::OrgId,
                drafts::Column::Environment,
                tenant,
            ))
            .filter(drafts::Column::WorkflowId.eq(workflow_id));
        if let Some(s) = status {
            q = q.filter(drafts::Column::Status.eq(s));
        }
        let (rows, total) = fetch_page(
            q.order_by_desc(drafts::Column::CreatedAt)
                .order_by_desc(drafts::Column::Id),
            &self.conn,
            page,
        )
        .await?;
        Ok(Page {
            items: rows.into_iter().map(draft_from).collect::<Result<_, _>>()?,
            total,
            request: page,
        })
    }

    async fn update_draft(&self, d: &DraftRecord) -> Result<(), RepoError> {
        let mut active = draft_active(d);
        for col in [
            drafts::Column::WorkflowId,
            drafts::Column::OrgId,
            drafts::Column::Environment,
            drafts::Column::CreatedAt,
            drafts::Column::BaseVersion,
        ] {
            active.not_set(col);
        }
        let r = drafts::Entity::update_many()
            .set(active)
            .filter(in_tenant(
                drafts::Column::OrgId,
                drafts::Column::Environment,
                &d.tenant,
            ))
            .filter(drafts::Column::Id.eq(d.id.clone()))
            .exec(&self.conn)
            .await
            .map_err(map_db)?;
        if r.rows_affected == 0 {
            Err(RepoError::NotFound)
        } else {
            Ok(())
        }
    }

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
                    .add(runs::Column::Status.eq("completed")),
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
        Ok(RunStats {
            total: by_status.iter().map(|(_, n)| to_u64(*n)).sum(),
            by_final_status: by_final
                .into_iter()
                .map(|(s, n)| (s.unwrap_or_else(|| "in_progress".into()), to_u64(n)))
                .collect(),
            by_status: by_status.into_iter().map(|(s, n)| (s, to_u64(n))).collect(),
            by_version: by_version
                .into_iter()
                .map(|(v, n)| (v, to_u64(n)))
                .collect(),
            run_durations_ms,
            nodes: nodes.into_values().collect(),
        })
    }
}
