//! Mapping between identity rows and domain identities, and the writes every identity path
//! shares: the fenced overwrite, the tag index and the outbox rows.

use crate::entities::{identities, identity_tags as tags, session_events as outbox};
use crate::error::{corrupt, map_db};
use crate::repos::common::{fenced, in_tenant, tenant_of};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    Set,
};
use verifa_domain::identity::{Identity, IdentityStatus, MonitoringPause, ScreeningStatus};
use verifa_ports::RepoError;
use verifa_ports::identities::NewIdentityEvent;

pub(crate) fn to_active(i: &Identity) -> Result<identities::ActiveModel, RepoError> {
    Ok(identities::ActiveModel {
        id: Set(i.id.clone()),
        org_id: Set(i.tenant.org_id.clone()),
        environment: Set(i.tenant.environment.as_str().to_owned()),
        external_ref: Set(i.external_ref.clone()),
        status: Set(i.status.as_str().to_owned()),
        session_count: Set(i.session_count),
        latest_session_id: Set(i.latest_session_id.clone()),
        latest_completed_at: Set(i.latest_completed_at),
        country: Set(i.country.clone()),
        face_match_passed: Set(i.face_match_passed),
        age_check_passed: Set(i.age_check_passed),
        extracted_age: Set(i.extracted_age),
        rejection_reason: Set(i.rejection_reason.clone()),
        first_verified_at: Set(i.first_verified_at),
        last_verified_at: Set(i.last_verified_at),
        archived_at: Set(i.archived_at),
        identity_type_id: Set(i.identity_type_id.clone()),
        type_status: Set(i.type_status.clone()),
        custom_fields: Set(json_text(&i.custom_fields)?),
        tags: Set(json_text(&i.tags)?),
        is_flagged: Set(i.is_flagged),
        flag_reason: Set(i.flag_reason.clone()),
        flagged_at: Set(i.flagged_at),
        flagged_by: Set(i.flagged_by.clone()),
        monitoring_enabled: Set(i.monitoring_enabled),
        monitoring_paused_reason: Set(i.monitoring_paused.map(|p| p.as_str().to_owned())),
        screening_status: Set(i.screening_status.as_str().to_owned()),
        merged_into_id: Set(i.merged_into_id.clone()),
        redacted_at: Set(i.redacted_at),
        created_at: Set(i.created_at),
        updated_at: Set(i.updated_at),
        revision: Set(i.revision),
    })
}

fn json_text<T: serde::Serialize>(v: &T) -> Result<String, RepoError> {
    serde_json::to_string(v).map_err(|e| corrupt("identities json", e))
}

pub(crate) fn from_model(m: identities::Model) -> Result<Identity, RepoError> {
    Ok(Identity {
        tenant: tenant_of(m.org_id, &m.environment)?,
        status: IdentityStatus::parse(&m.status)
            .ok_or_else(|| corrupt("identities.status", &m.status))?,
        screening_status: ScreeningStatus::parse(&m.screening_status)
            .ok_or_else(|| corrupt("identities.screening_status", &m.screening_status))?,
        monitoring_paused: match m.monitoring_paused_reason.as_deref() {
            None => None,
            Some(r) => Some(
                MonitoringPause::parse(r)
                    .ok_or_else(|| corrupt("identities.monitoring_paused_reason", r))?,
            ),
        },
        custom_fields: serde_json::from_str(&m.custom_fields)
            .map_err(|e| corrupt("identities.custom_fields", e))?,
        tags: serde_json::from_str(&m.tags).map_err(|e| corrupt("identities.tags", e))?,
        id: m.id,
        external_ref: m.external_ref,
        session_count: m.session_count,
        latest_session_id: m.latest_session_id,
        latest_completed_at: m.latest_completed_at,
        country: m.country,
        face_match_passed: m.face_match_passed,
        age_check_passed: m.age_check_passed,
        extracted_age: m.extracted_age,
        rejection_reason: m.rejection_reason,
        first_verified_at: m.first_verified_at,
        last_verified_at: m.last_verified_at,
        archived_at: m.archived_at,
        identity_type_id: m.identity_type_id,
        type_status: m.type_status,
        is_flagged: m.is_flagged,
        flag_reason: m.flag_reason,
        flagged_at: m.flagged_at,
        flagged_by: m.flagged_by,
        monitoring_enabled: m.monitoring_enabled,
        merged_into_id: m.merged_into_id,
        redacted_at: m.redacted_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
        revision: m.revision,
    })
}

/// Replaces the identity's rows in the tag index.
pub(crate) async fn write_tags(txn: &DatabaseTransaction, i: &Identity) -> Result<(), RepoError> {
    tags::Entity::delete_many()
        .filter(tags::Column::IdentityId.eq(i.id.clone()))
        .exec(txn)
        .await
        .map_err(map_db)?;
    if i.tags.is_empty() {
        return Ok(());
    }
    tags::Entity::insert_many(i.tags.iter().map(|t| tags::ActiveModel {
        identity_id: Set(i.id.clone()),
        tag: Set(t.clone()),
    }))
    .exec_without_returning(txn)
    .await
    .map_err(map_db)?;
    Ok(())
}

/// Inserts a new identity with its tags.
pub(crate) async fn insert_in(txn: &DatabaseTransaction, i: &Identity) -> Result<(), RepoError> {
    to_active(i)?.insert(txn).await.map_err(map_db)?;
    write_tags(txn, i).await
}

/// Overwrites an identity, fenced on the revision it carries, and its tag index.
pub(crate) async fn update_in(txn: &DatabaseTransaction, i: &Identity) -> Result<(), RepoError> {
    let mut active = to_active(i)?;
    for col in [
        identities::Column::Id,
        identities::Column::OrgId,
        identities::Column::Environment,
        identities::Column::CreatedAt,
    ] {
        active.not_set(col);
    }
    active.revision = Set(i.revision.saturating_add(1));
    let scope = || {
        in_tenant(
            identities::Column::OrgId,
            identities::Column::Environment,
            &i.tenant,
        )
        .add(identities::Column::Id.eq(i.id.clone()))
    };
    let r = identities::Entity::update_many()
        .set(active)
        .filter(scope())
        .filter(identities::Column::Revision.eq(i.revision))
        .exec(txn)
        .await
        .map_err(map_db)?;
    fenced(r.rows_affected, exists(txn, scope())).await?;
    write_tags(txn, i).await
}

async fn exists<C: ConnectionTrait>(
    conn: &C,
    scope: sea_orm::Condition,
) -> Result<bool, RepoError> {
    Ok(identities::Entity::find()
        .filter(scope)
        .one(conn)
        .await
        .map_err(map_db)?
        .is_some())
}

/// Appends `identity.*` events to the webhook outbox. The outbox's `session_id` column is the
/// event's subject: deliveries of one subject go out in order, so an identity's events keep
/// their order too.
pub(crate) async fn append_events(
    txn: &DatabaseTransaction,
    i: &Identity,
    events: &[NewIdentityEvent],
) -> Result<(), RepoError> {
    for e in events {
        outbox::ActiveModel {
            seq: sea_orm::ActiveValue::NotSet,
            id: Set(e.id.clone()),
            org_id: Set(i.tenant.org_id.clone()),
            environment: Set(i.tenant.environment.as_str().to_owned()),
            session_id: Set(i.id.clone()),
            event_type: Set(e.event.event_type().to_owned()),
            data: Set(e.event.payload(i).to_string()),
            created_at: Set(i.updated_at),
        }
        .insert(txn)
        .await
        .map_err(map_db)?;
    }
    Ok(())
}
