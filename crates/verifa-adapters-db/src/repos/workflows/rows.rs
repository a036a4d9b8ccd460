//! The stored form of workflows, versions and drafts (rollout maps and free objects as JSON
//! text, formats and statuses as their wire names) and the default-workflow switch.

use crate::entities::{workflow_drafts as drafts, workflow_versions as versions, workflows};
use crate::error::{corrupt, map_db};
use crate::repos::common::{in_tenant, tenant_of};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::Value;
use verifa_domain::tenancy::Tenant;
use verifa_domain::workflow::{DraftStatus, Format, RolloutEntry, VersionSource};
use verifa_ports::RepoError;
use verifa_ports::workflows::{DraftRecord, VersionRecord, WorkflowRecord};

pub(super) fn format_of(what: &str, s: &str) -> Result<Format, RepoError> {
    Format::parse(s).ok_or_else(|| corrupt(what, s))
}

pub(super) fn json_text(v: &Option<Value>) -> Option<String> {
    v.as_ref().map(Value::to_string)
}

pub(super) fn parse_opt(what: &str, t: Option<String>) -> Result<Option<Value>, RepoError> {
    t.map(|t| serde_json::from_str(&t).map_err(|e| corrupt(what, e)))
        .transpose()
}

pub(super) fn rollout_text(entries: &[RolloutEntry]) -> String {
    serde_json::to_string(entries).unwrap_or_else(|_| "[]".into())
}

pub(super) fn workflow_active(w: &WorkflowRecord) -> workflows::ActiveModel {
    workflows::ActiveModel {
        id: Set(w.id.clone()),
        org_id: Set(w.tenant.org_id.clone()),
        environment: Set(w.tenant.environment.as_str().to_owned()),
        name: Set(w.name.clone()),
        description: Set(w.description.clone()),
        version: Set(w.version),
        is_default: Set(w.is_default),
        is_active: Set(w.is_active),
        format: Set(w.format.as_str().to_owned()),
        screening_settings: Set(json_text(&w.screening_settings)),
        graph_layout: Set(json_text(&w.graph_layout)),
        rollout: Set(rollout_text(&w.rollout)),
        rollout_updated_at: Set(w.rollout_updated_at),
        created_at: Set(w.created_at),
        updated_at: Set(w.updated_at),
        revision: Set(w.revision),
    }
}

pub(super) fn workflow_from(m: workflows::Model) -> Result<WorkflowRecord, RepoError> {
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
        format: format_of("workflows.format", &m.format)?,
        rollout_updated_at: m.rollout_updated_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
        revision: m.revision,
    })
}

pub(super) fn version_active(v: &VersionRecord) -> versions::ActiveModel {
    versions::ActiveModel {
        id: Set(v.id.clone()),
        workflow_id: Set(v.workflow_id.clone()),
        org_id: Set(v.tenant.org_id.clone()),
        environment: Set(v.tenant.environment.as_str().to_owned()),
        version: Set(v.version),
        format: Set(v.format.as_str().to_owned()),
        graph: Set(v.graph_json.clone()),
        steps: Set(v.steps_json.clone()),
        data_requirements: Set(v.data_requirements_json.clone()),
        source: Set(v.source.as_str().to_owned()),
        draft_id: Set(v.draft_id.clone()),
        created_by: Set(v.created_by.clone()),
        content_hash: Set(v.content_hash.clone()),
        created_at: Set(v.created_at),
    }
}

pub(super) fn version_from(m: versions::Model) -> Result<VersionRecord, RepoError> {
    Ok(VersionRecord {
        tenant: tenant_of(m.org_id, &m.environment)?,
        id: m.id,
        workflow_id: m.workflow_id,
        version: m.version,
        format: format_of("workflow_versions.format", &m.format)?,
        graph_json: m.graph,
        steps_json: m.steps,
        data_requirements_json: m.data_requirements,
        source: VersionSource::parse(&m.source)
            .ok_or_else(|| corrupt("workflow_versions.source", &m.source))?,
        draft_id: m.draft_id,
        created_by: m.created_by,
        content_hash: m.content_hash,
        created_at: m.created_at,
    })
}

pub(super) fn draft_active(d: &DraftRecord) -> drafts::ActiveModel {
    drafts::ActiveModel {
        id: Set(d.id.clone()),
        workflow_id: Set(d.workflow_id.clone()),
        org_id: Set(d.tenant.org_id.clone()),
        environment: Set(d.tenant.environment.as_str().to_owned()),
        base_version: Set(d.base_version),
        name: Set(d.name.clone()),
        description: Set(d.description.clone()),
        format: Set(d.format.as_str().to_owned()),
        graph: Set(json_text(&d.graph)),
        steps: Set(json_text(&d.steps)),
        data_requirements: Set(json_text(&d.data_requirements)),
        graph_layout: Set(json_text(&d.graph_layout)),
        status: Set(d.status.as_str().to_owned()),
        published_version: Set(d.published_version),
        created_at: Set(d.created_at),
        updated_at: Set(d.updated_at),
        revision: Set(d.revision),
    }
}

pub(super) fn draft_from(m: drafts::Model) -> Result<DraftRecord, RepoError> {
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
        format: format_of("workflow_drafts.format", &m.format)?,
        status: DraftStatus::parse(&m.status)
            .ok_or_else(|| corrupt("workflow_drafts.status", &m.status))?,
        published_version: m.published_version,
        created_at: m.created_at,
        updated_at: m.updated_at,
        revision: m.revision,
    })
}

pub(super) async fn clear_default<C: ConnectionTrait>(
    conn: &C,
    tenant: &Tenant,
) -> Result<(), RepoError> {
    workflows::Entity::update_many()
        .col_expr(workflows::Column::IsDefault, Expr::value(false))
        .col_expr(
            workflows::Column::Revision,
            Expr::col(workflows::Column::Revision).add(1),
        )
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
