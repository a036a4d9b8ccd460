//! The stored form of endpoints and deliveries, tenant conditions, and the due-delivery query.

use crate::entities::{webhook_deliveries as deliveries, webhook_endpoints as endpoints};
use crate::error::corrupt;
use crate::repos::common::tenant_of;
use sea_orm::{ColumnTrait, Condition, Set};
use serde_json::{Map, Value};
use verifa_domain::inflection::Inflection;
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::webhook_store::{DeliveryRecord, DeliveryStatus, EndpointRecord};

/// Name of the one cursor row (the `session_events` outbox).
pub(super) const CURSOR_NAME: &str = "session_events";

pub(super) fn list_text(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

pub(super) fn to_u32(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

pub(super) fn endpoint_active(e: &EndpointRecord) -> endpoints::ActiveModel {
    endpoints::ActiveModel {
        id: Set(e.id.clone()),
        org_id: Set(e.tenant.org_id.clone()),
        environment: Set(e.tenant.environment.as_str().to_owned()),
        url: Set(e.url.clone()),
        label: Set(e.label.clone()),
        description: Set(e.description.clone()),
        enabled: Set(e.enabled),
        enabled_events: Set(list_text(&e.enabled_events)),
        attribute_blocklist: Set(list_text(&e.attribute_blocklist)),
        event_filter_conditions: Set(Value::Object(e.event_filter_conditions.clone()).to_string()),
        api_version: Set(e.api_version.clone()),
        key_inflection: Set(e.key_inflection.as_str().to_owned()),
        secret_encrypted: Set(e.secret_encrypted.clone()),
        consecutive_failures: Set(i32::try_from(e.consecutive_failures).unwrap_or(i32::MAX)),
        disabled_at: Set(e.disabled_at),
        created_at: Set(e.created_at),
        updated_at: Set(e.updated_at),
        revision: Set(e.revision),
    }
}

pub(super) fn endpoint_from(m: endpoints::Model) -> Result<EndpointRecord, RepoError> {
    let conditions: Map<String, Value> = serde_json::from_str(&m.event_filter_conditions)
        .map_err(|e| corrupt("webhook_endpoints.event_filter_conditions", e))?;
    Ok(EndpointRecord {
        tenant: tenant_of(m.org_id, &m.environment)?,
        enabled_events: serde_json::from_str(&m.enabled_events)
            .map_err(|e| corrupt("webhook_endpoints.enabled_events", e))?,
        attribute_blocklist: serde_json::from_str(&m.attribute_blocklist)
            .map_err(|e| corrupt("webhook_endpoints.attribute_blocklist", e))?,
        event_filter_conditions: conditions,
        id: m.id,
        url: m.url,
        label: m.label,
        description: m.description,
        enabled: m.enabled,
        api_version: m.api_version,
        key_inflection: Inflection::parse(&m.key_inflection)
            .ok_or_else(|| corrupt("webhook_endpoints.key_inflection", &m.key_inflection))?,
        secret_encrypted: m.secret_encrypted,
        consecutive_failures: to_u32(m.consecutive_failures),
        disabled_at: m.disabled_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
        revision: m.revision,
    })
}

pub(super) fn delivery_active(d: &DeliveryRecord) -> deliveries::ActiveModel {
    deliveries::ActiveModel {
        id: Set(d.id.clone()),
        endpoint_id: Set(d.endpoint_id.clone()),
        org_id: Set(d.tenant.org_id.clone()),
        environment: Set(d.tenant.environment.as_str().to_owned()),
        event_id: Set(d.event_id.clone()),
        event_seq: Set(d.event_seq),
        session_id: Set(d.session_id.clone()),
        event_type: Set(d.event_type.clone()),
        idempotency_key: Set(d.idempotency_key.clone()),
        body: Set(d.body.clone()),
        status: Set(d.status.as_str().to_owned()),
        attempts: Set(i32::try_from(d.attempts).unwrap_or(i32::MAX)),
        next_attempt_at: Set(d.next_attempt_at),
        lease_owner: Set(d.lease_owner.clone()),
        lease_until: Set(d.lease_until),
        last_attempt_at: Set(d.last_attempt_at),
        last_status_code: Set(d.last_status_code.map(i32::from)),
        last_error: Set(d.last_error.clone()),
        last_duration_ms: Set(d
            .last_duration_ms
            .map(|v| i64::try_from(v).unwrap_or(i64::MAX))),
        is_test: Set(d.is_test),
        created_at: Set(d.created_at),
        updated_at: Set(d.updated_at),
        completed_at: Set(d.completed_at),
    }
}

pub(super) fn delivery_from(m: deliveries::Model) -> Result<DeliveryRecord, RepoError> {
    Ok(DeliveryRecord {
        tenant: tenant_of(m.org_id, &m.environment)?,
        status: DeliveryStatus::parse(&m.status)
            .ok_or_else(|| corrupt("webhook_deliveries.status", &m.status))?,
        id: m.id,
        endpoint_id: m.endpoint_id,
        event_id: m.event_id,
        event_seq: m.event_seq,
        session_id: m.session_id,
        event_type: m.event_type,
        idempotency_key: m.idempotency_key,
        body: m.body,
        attempts: to_u32(m.attempts),
        next_attempt_at: m.next_attempt_at,
        lease_owner: m.lease_owner,
        lease_until: m.lease_until,
        last_attempt_at: m.last_attempt_at,
        last_status_code: m.last_status_code.and_then(|c| u16::try_from(c).ok()),
        last_error: m.last_error,
        last_duration_ms: m.last_duration_ms.and_then(|v| u64::try_from(v).ok()),
        is_test: m.is_test,
        created_at: m.created_at,
        updated_at: m.updated_at,
        completed_at: m.completed_at,
    })
}

pub(super) fn endpoint_tenant(tenant: &Tenant) -> Condition {
    Condition::all()
        .add(endpoints::Column::OrgId.eq(tenant.org_id.clone()))
        .add(endpoints::Column::Environment.eq(tenant.environment.as_str()))
}

pub(super) fn delivery_tenant(tenant: &Tenant) -> Condition {
    Condition::all()
        .add(deliveries::Column::OrgId.eq(tenant.org_id.clone()))
        .add(deliveries::Column::Environment.eq(tenant.environment.as_str()))
}

/// The ids of the deliveries `claim_due` may take at `now` (placeholder `now`), oldest due
/// first, at most `limit` (placeholder `limit`): claimable, of an enabled endpoint, and not
/// behind an open earlier event of the same session for the same endpoint.
pub(super) fn due_subquery(now: &str, limit: &str) -> String {
    format!(
        "SELECT d.id FROM webhook_deliveries d \
         WHERE ((d.status = 'pending' AND d.next_attempt_at <= {now}) \
                OR (d.status = 'delivering' AND d.lease_until < {now})) \
           AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = d.endpoint_id AND e.enabled) \
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p \
                WHERE p.endpoint_id = d.endpoint_id AND p.session_id = d.session_id \
                  AND p.event_seq < d.event_seq AND p.status IN ('pending', 'delivering')) \
         ORDER BY d.next_attempt_at, d.id LIMIT {limit}"
    )
}
