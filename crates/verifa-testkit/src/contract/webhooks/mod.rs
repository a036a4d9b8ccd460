//! [`OutboxFanOut`](verifa_ports::webhook_store::OutboxFanOut),
//! [`DeliveryStore`](verifa_ports::webhook_store::DeliveryStore) and
//! [`EndpointStore`](verifa_ports::webhook_store::EndpointStore): the cursor compare-and-set,
//! exclusive claims, per-session order, leases, fenced attempts, the circuit breaker in batch
//! order, requeues, endpoint deletion and tenant isolation.

mod attempts;
mod claims;
mod endpoints;

pub use attempts::*;
pub use claims::*;
pub use endpoints::*;

use super::Stores;
use super::fixtures::*;
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use verifa_domain::session::SessionStatus;
use verifa_ports::RepoError;
use verifa_ports::webhook_store::{
    AttemptNext, AttemptRecord, DeliveryFilter, DeliveryRecord, DeliveryStatus, EndpointRecord,
};

fn outcome(
    delivery: &DeliveryRecord,
    owner: &str,
    next: AttemptNext,
    at: DateTime<Utc>,
) -> AttemptRecord {
    AttemptRecord {
        delivery_id: delivery.id.clone(),
        endpoint_id: delivery.endpoint_id.clone(),
        lease_owner: owner.to_owned(),
        attempted_at: at,
        status_code: Some(if next == AttemptNext::Succeeded {
            200
        } else {
            500
        }),
        error: None,
        duration_ms: 1,
        next,
        audit_if_disabled: None,
    }
}

async fn streak(stores: &Stores, endpoint: &EndpointRecord) -> u32 {
    stores
        .endpoints
        .get_endpoint(&endpoint.tenant, &endpoint.id)
        .await
        .unwrap()
        .consecutive_failures
}

fn ids(deliveries: &[DeliveryRecord]) -> Vec<&str> {
    deliveries.iter().map(|d| d.id.as_str()).collect()
}

/// Inserts one session per id (each appends an event) and fans the new events out to
/// `endpoint` from the current cursor; returns the deliveries committed.
async fn fan_out_sessions(
    stores: &Stores,
    endpoint: &EndpointRecord,
    session_ids: &[String],
    now: DateTime<Utc>,
) -> Vec<DeliveryRecord> {
    for id in session_ids {
        insert_session(
            stores,
            session(&endpoint.tenant, id, SessionStatus::Pending, now),
        )
        .await;
    }
    let cursor = stores.fan_out.fan_out_cursor().await.unwrap();
    let events = stores.fan_out.outbox_after(cursor, 100).await.unwrap();
    let batch: Vec<DeliveryRecord> = events
        .iter()
        .map(|e| {
            delivery(
                endpoint,
                &format!("whd_{}", e.id),
                &e.session_id,
                e.seq,
                now,
            )
        })
        .collect();
    let to = events.last().map_or(cursor, |e| e.seq);
    assert!(
        stores
            .fan_out
            .commit_fan_out(cursor, to, &batch, now)
            .await
            .unwrap()
    );
    batch
}
