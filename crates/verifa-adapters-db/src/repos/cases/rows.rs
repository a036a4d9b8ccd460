//! Mapping between case rows and domain cases, and the writes every case path shares.

use crate::entities::{cases, session_events as outbox, sessions};
use crate::error::{corrupt, map_db};
use crate::repos::common::{fenced, in_tenant, tenant_of};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect, Set,
};
use serde_json::{Value, json};
use verifa_crypto::Cipher;
use verifa_domain::case::{Case, CaseSource, CaseStatus, Decision, Priority, Recommendation};
use verifa_ports::RepoError;
use verifa_ports::cases::NewCaseEvent;

fn recommendation_context(case_id: &str) -> String {
    format!("case-recommendation:{case_id}")
}

fn text<T: serde::Serialize>(v: &T) -> Result<String, RepoError> {
    serde_json::to_string(v).map_err(|e| corrupt("cases json", e))
}

fn seal_recommendation(cipher: &Cipher, c: &Case) -> Option<String> {
    c.recommendation.as_ref().map(|r| {
        let plain = json!({
            "decision": r.decision.as_str(),
            "reviewer_id": r.reviewer_id,
            "rejection_reason": r.rejection_reason,
            "notes": r.notes,
            "at": r.at,
        });
        cipher.seal_text(&plain.to_string(), &recommendation_context(&c.id))
    })
}

fn open_recommendation(
    cipher: &Cipher,
    case_id: &str,
    sealed: &str,
) -> Result<Recommendation, RepoError> {
    let plain = cipher
        .open_text(sealed, &recommendation_context(case_id))
        .map_err(|e| corrupt("cases.recommendation", e))?;
    let v: Value = serde_json::from_str(&plain).map_err(|e| corrupt("cases.recommendation", e))?;
    let str_of = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    Ok(Recommendation {
        decision: str_of("decision")
            .as_deref()
            .and_then(Decision::parse)
            .ok_or_else(|| corrupt("cases.recommendation", "decision"))?,
        reviewer_id: str_of("reviewer_id").unwrap_or_default(),
        rejection_reason: str_of("rejection_reason"),
        notes: str_of("notes"),
        at: v
            .get("at")
            .cloned()
            .and_then(|a| serde_json::from_value(a).ok())
            .ok_or_else(|| corrupt("cases.recommendation", "at"))?,
    })
}

pub(crate) fn to_active(c: &Case, cipher: &Cipher) -> Result<cases::ActiveModel, RepoError> {
    Ok(cases::ActiveModel {
        id: Set(c.id.clone()),
        org_id: Set(c.tenant.org_id.clone()),
        environment: Set(c.tenant.environment.as_str().to_owned()),
        session_id: Set(c.session_id.clone()),
        identity_id: Set(c.identity_id.clone()),
        external_ref: Set(c.external_ref.clone()),
        status: Set(c.status.as_str().to_owned()),
        decision: Set(c.decision.map(|d| d.as_str().to_owned())),
        priority: Set(c.priority.as_str().to_owned()),
        priority_rank: Set(c.priority.rank()),
        source: Set(c.source.as_str().to_owned()),
        review_reasons: Set(text(&c.review_reasons)?),
        requires_dual_review: Set(c.requires_dual_review),
        assigned_to: Set(c.assigned_to.clone()),
        claimed_at: Set(c.claimed_at),
        last_activity_at: Set(c.last_activity_at),
        escalated_to: Set(c.escalated_to.clone()),
        escalation_reason: Set(c.escalation_reason.clone()),
        recommendation: Set(seal_recommendation(cipher, c)),
        decided_by: Set(c.decided_by.clone()),
        rejection_reason: Set(c.rejection_reason.clone()),
        sla_due_at: Set(c.sla_due_at),
        sla_breached_at: Set(c.sla_breached_at),
        entered_review_at: Set(c.entered_review_at),
        decided_at: Set(c.decided_at),
        metadata: Set(text(&c.metadata)?),
        custom_fields: Set(text(&c.custom_fields)?),
        created_at: Set(c.created_at),
        updated_at: Set(c.updated_at),
        revision: Set(c.revision),
    })
}

pub(crate) fn from_model(m: cases::Model, cipher: &Cipher) -> Result<Case, RepoError> {
    let parse = |what: &str, v: &str| corrupt(&format!("cases.{what}"), v);
    Ok(Case {
        tenant: tenant_of(m.org_id.clone(), &m.environment)?,
        status: CaseStatus::parse(&m.status).ok_or_else(|| parse("status", &m.status))?,
        decision: match m.decision.as_deref() {
            None => None,
            Some(d) => Some(Decision::parse(d).ok_or_else(|| parse("decision", d))?),
        },
        priority: Priority::parse(&m.priority).ok_or_else(|| parse("priority", &m.priority))?,
        source: CaseSource::parse(&m.source).ok_or_else(|| parse("source", &m.source))?,
        review_reasons: serde_json::from_str(&m.review_reasons)
            .map_err(|e| corrupt("cases.review_reasons", e))?,
        recommendation: match &m.recommendation {
            None => None,
            Some(sealed) => Some(open_recommendation(cipher, &m.id, sealed)?),
        },
        metadata: serde_json::from_str(&m.metadata).map_err(|e| corrupt("cases.metadata", e))?,
        custom_fields: serde_json::from_str(&m.custom_fields)
            .map_err(|e| corrupt("cases.custom_fields", e))?,
        id: m.id,
        session_id: m.session_id,
        identity_id: m.identity_id,
        external_ref: m.external_ref,
        requires_dual_review: m.requires_dual_review,
        assigned_to: m.assigned_to,
        claimed_at: m.claimed_at,
        last_activity_at: m.last_activity_at,
        escalated_to: m.escalated_to,
        escalation_reason: m.escalation_reason,
        decided_by: m.decided_by,
        rejection_reason: m.rejection_reason,
        sla_due_at: m.sla_due_at,
        sla_breached_at: m.sla_breached_at,
        entered_review_at: m.entered_review_at,
        decided_at: m.decided_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
        revision: m.revision,
    })
}

/// Overwrites a case, fenced on the revision it carries.
/// Points the case's session at the case and its status (the session's `case_id` and
/// `case_status`, which only this store writes).
async fn link_session(txn: &DatabaseTransaction, c: &Case) -> Result<(), RepoError> {
    sessions::Entity::update_many()
        .col_expr(sessions::Column::CaseId, Expr::value(c.id.clone()))
        .col_expr(sessions::Column::CaseStatus, Expr::value(c.status.as_str()))
        .filter(in_tenant(
            sessions::Column::OrgId,
            sessions::Column::Environment,
            &c.tenant,
        ))
        .filter(sessions::Column::Id.eq(c.session_id.clone()))
        .exec(txn)
        .await
        .map_err(map_db)?;
    Ok(())
}

pub(crate) async fn update_in(
    txn: &DatabaseTransaction,
    c: &Case,
    cipher: &Cipher,
) -> Result<(), RepoError> {
    let mut active = to_active(c, cipher)?;
    for col in [
        cases::Column::Id,
        cases::Column::OrgId,
        cases::Column::Environment,
        cases::Column::SessionId,
        cases::Column::CreatedAt,
    ] {
        active.not_set(col);
    }
    active.revision = Set(c.revision.saturating_add(1));
    let scope = || {
        in_tenant(cases::Column::OrgId, cases::Column::Environment, &c.tenant)
            .add(cases::Column::Id.eq(c.id.clone()))
    };
    let r = cases::Entity::update_many()
        .set(active)
        .filter(scope())
        .filter(cases::Column::Revision.eq(c.revision))
        .exec(txn)
        .await
        .map_err(map_db)?;
    fenced(r.rows_affected, async {
        Ok(cases::Entity::find()
            .filter(scope())
            .one(txn)
            .await
            .map_err(map_db)?
            .is_some())
    })
    .await?;
    link_session(txn, c).await
}

/// The case with the identity its session change fed (the session's `identity_id` once the
/// change is applied), so the case's events name it.
pub(crate) async fn with_fed_identity(
    txn: &DatabaseTransaction,
    case: &Case,
    change: &verifa_ports::sessions::SessionChange,
) -> Result<Case, RepoError> {
    let mut after = case.clone();
    if change.identity.is_some() {
        after.identity_id = sessions::Entity::find_by_id(change.session.id.clone())
            .select_only()
            .column(sessions::Column::IdentityId)
            .into_tuple::<Option<String>>()
            .one(txn)
            .await
            .map_err(map_db)?
            .flatten()
            .or(after.identity_id);
    }
    Ok(after)
}

/// Appends `case.*` events to the outbox; their subject is the case's session, so a session's
/// and its case's deliveries keep one order.
pub(crate) async fn append_events(
    txn: &DatabaseTransaction,
    c: &Case,
    events: &[NewCaseEvent],
) -> Result<(), RepoError> {
    for e in events {
        outbox::ActiveModel {
            seq: sea_orm::ActiveValue::NotSet,
            id: Set(e.id.clone()),
            org_id: Set(c.tenant.org_id.clone()),
            environment: Set(c.tenant.environment.as_str().to_owned()),
            session_id: Set(c.session_id.clone()),
            event_type: Set(e.event.event_type().to_owned()),
            data: Set(e.event.payload(c).to_string()),
            created_at: Set(c.updated_at),
        }
        .insert(txn)
        .await
        .map_err(map_db)?;
    }
    Ok(())
}

/// Opens a case inside a session change: refuses a second active case of the session.
pub(crate) async fn open_in(
    txn: &DatabaseTransaction,
    opening: &verifa_ports::cases::CaseOpening,
    cipher: &Cipher,
) -> Result<(), RepoError> {
    let c = &opening.case;
    let active = cases::Entity::find()
        .filter(in_tenant(
            cases::Column::OrgId,
            cases::Column::Environment,
            &c.tenant,
        ))
        .filter(cases::Column::SessionId.eq(c.session_id.clone()))
        .filter(
            cases::Column::Status
                .is_not_in([CaseStatus::Approved.as_str(), CaseStatus::Rejected.as_str()]),
        )
        .one(txn)
        .await
        .map_err(map_db)?;
    if active.is_some() {
        return Err(RepoError::Conflict("the session has an active case".into()));
    }
    to_active(c, cipher)?.insert(txn).await.map_err(map_db)?;
    link_session(txn, c).await?;
    append_events(txn, c, std::slice::from_ref(&opening.event)).await?;
    crate::repos::audit::append(txn, std::slice::from_ref(&opening.audit)).await
}
