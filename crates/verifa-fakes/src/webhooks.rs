//! The webhook ports in memory: [`EndpointStore`], [`OutboxFanOut`] (the cursor moves with a
//! compare-and-set) and [`DeliveryStore`] (claims respect per-session order and leases; attempts
//! are fenced on the lease; the circuit breaker counts final failures).

use crate::state::{MemoryStore, page_of};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use verifa_domain::audit::AuditDraft;
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::webhook_store::{
    AttemptNext, AttemptRecord, DeliveryFilter, DeliveryRecord, DeliveryStatus, DeliveryStore,
    EndpointRecord, EndpointStore, FinishOutcome, OutboxEvent, OutboxFanOut,
};

#[async_trait]
impl EndpointStore for MemoryStore {
    async fn insert_endpoint(
        &self,
        endpoint: &EndpointRecord,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let mut w = self.world()?;
        crate::audit::check(&w, audit)?;
        if w.endpoints.contains_key(&endpoint.id) {
            return Err(RepoError::Conflict(format!(
                "endpoint {} exists",
                endpoint.id
            )));
        }
        w.endpoints.insert(endpoint.id.clone(), endpoint.clone());
        crate::audit::append(&mut w, audit);
        Ok(())
    }

    async fn get_endpoint(&self, tenant: &Tenant, id: &str) -> Result<EndpointRecord, RepoError> {
        self.world()?
            .endpoints
            .get(id)
            .filter(|e| &e.tenant == tenant)
            .cloned()
            .ok_or(RepoError::NotFound)
    }

    async fn endpoints_by_ids(&self, ids: &[String]) -> Result<Vec<EndpointRecord>, RepoError> {
        let w = self.world()?;
        Ok(ids
            .iter()
            .filter_map(|id| w.endpoints.get(id).cloned())
            .collect())
    }

    async fn list_endpoints(
        &self,
        tenant: &Tenant,
        page: PageRequest,
    ) -> Result<Page<EndpointRecord>, RepoError> {
        let w = self.world()?;
        let mut items: Vec<EndpointRecord> = w
            .endpoints
            .values()
            .filter(|e| &e.tenant == tenant)
            .cloned()
            .collect();
        items.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        Ok(page_of(items, page))
    }

    async fn enabled_endpoints(&self, tenant: &Tenant) -> Result<Vec<EndpointRecord>, RepoError> {
        let w = self.world()?;
        Ok(w.endpoints
            .values()
            .filter(|e| &e.tenant == tenant && e.enabled)
            .cloned()
            .collect())
    }

    async fn update_endpoint(
        &self,
        endpoint: &EndpointRecord,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let mut w = self.world()?;
        crate::audit::check(&w, audit)?;
        let Some(stored) = w
            .endpoints
            .get_mut(&endpoint.id)
            .filter(|e| e.tenant == endpoint.tenant)
        else {
            return Err(RepoError::NotFound);
        };
        if stored.revision != endpoint.revision {
            return Err(RepoError::Conflict(
                "the row changed since it was read".into(),
            ));
        }
        // The streak is the store's own; only re-enabling a disabled endpoint ends it.
        let streak = if !stored.enabled && endpoint.enabled {
            0
        } else {
            stored.consecutive_failures
        };
        let created_at = stored.created_at;
        *stored = endpoint.clone();
        stored.created_at = created_at;
        stored.consecutive_failures = streak;
        stored.revision = endpoint.revision + 1;
        crate::audit::append(&mut w, audit);
        Ok(())
    }

    async fn delete_endpoint(
        &self,
        tenant: &Tenant,
        id: &str,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError> {
        let mut w = self.world()?;
        if w.endpoints.get(id).is_none_or(|e| &e.tenant != tenant) {
            return Err(RepoError::NotFound);
        }
        crate::audit::check(&w, audit)?;
        w.endpoints.remove(id);
        w.deliveries.retain(|_, d| d.endpoint_id != id);
        crate::audit::append(&mut w, audit);
        Ok(())
    }
}

#[async_trait]
impl OutboxFanOut for MemoryStore {
    async fn fan_out_cursor(&self) -> Result<i64, RepoError> {
        Ok(self.world()?.fan_out_cursor)
    }

    async fn outbox_after(&self, after: i64, limit: u64) -> Result<Vec<OutboxEvent>, RepoError> {
        let w = self.world()?;
        Ok(w.events
            .iter()
            .filter(|e| e.seq > after)
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|e| OutboxEvent {
                seq: e.seq,
                id: e.id.clone(),
                tenant: e.tenant.clone(),
                session_id: e.session_id.clone(),
                event_type: e.event_type.clone(),
                data: e.data.to_string(),
                created_at: e.created_at,
            })
            .collect())
    }

    async fn commit_fan_out(
        &self,
        from_seq: i64,
        to_seq: i64,
        deliveries: &[DeliveryRecord],
        _now: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        let mut w = self.world()?;
        if w.fan_out_cursor != from_seq {
            return Ok(false);
        }
        if deliveries.iter().any(|d| w.deliveries.contains_key(&d.id)) {
            return Err(RepoError::Conflict("delivery exists".into()));
        }
        w.fan_out_cursor = to_seq;
        for d in deliveries {
            w.deliveries.insert(d.id.clone(), d.clone());
        }
        Ok(true)
    }
}

#[async_trait]
impl DeliveryStore for MemoryStore {
    async fn insert_delivery(&self, delivery: &DeliveryRecord) -> Result<(), RepoError> {
        let mut w = self.world()?;
        if w.deliveries.contains_key(&delivery.id) {
            return Err(RepoError::Conflict(format!(
                "delivery {} exists",
                delivery.id
            )));
        }
        w.deliveries.insert(delivery.id.clone(), delivery.clone());
        Ok(())
    }

    async fn get_delivery(&self, tenant: &Tenant, id: &str) -> Result<DeliveryRecord, RepoError> {
        self.world()?
            .deliveries
            .get(id)
            .filter(|d| &d.tenant == tenant)
            .cloned()
            .ok_or(RepoError::NotFound)
    }

    async fn deliveries_for_session(
        &self,
        tenant: &Tenant,
        session_id: &str,
        limit: u64,
    ) -> Result<Vec<DeliveryRecord>, RepoError> {
        let w = self.world()?;
        let mut items: Vec<DeliveryRecord> = w
            .deliveries
            .values()
            .filter(|d| &d.tenant == tenant && d.session_id.as_deref() == Some(session_id))
            .cloned()
            .collect();
        items.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(items)
    }

    async fn list_deliveries(
        &self,
        tenant: &Tenant,
        endpoint_id: &str,
        filter: &DeliveryFilter,
        page: PageRequest,
    ) -> Result<Page<DeliveryRecord>, RepoError> {
        let w = self.world()?;
        let mut items: Vec<DeliveryRecord> = w
            .deliveries
            .values()
            .filter(|d| &d.tenant == tenant && d.endpoint_id == endpoint_id)
            .filter(|d| filter.date_from.is_none_or(|f| d.created_at >= f))
            .filter(|d| filter.date_to.is_none_or(|t| d.created_at < t))
            .filter(|d| {
                filter
                    .event_type
                    .as_ref()
                    .is_none_or(|t| &d.event_type == t)
            })
            .filter(|d| filter.status.is_none_or(|s| d.status == s))
            .cloned()
            .collect();
        items.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        Ok(page_of(items, page))
    }

    async fn claim_due(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<DeliveryRecord>, RepoError> {
        let mut w = self.world()?;
        let open = |d: &DeliveryRecord| {
            matches!(
                d.status,
                DeliveryStatus::Pending | DeliveryStatus::Delivering
            )
        };
        let mut due: Vec<&DeliveryRecord> = w
            .deliveries
            .values()
            .filter(|d| match d.status {
                DeliveryStatus::Pending => d.next_attempt_at.is_some_and(|t| t <= now),
                DeliveryStatus::Delivering => d.lease_until.is_some_and(|t| t < now),
                _ => false,
            })
            .filter(|d| w.endpoints.get(&d.endpoint_id).is_some_and(|e| e.enabled))
            .filter(|d| {
                !w.deliveries.values().any(|p| {
                    p.endpoint_id == d.endpoint_id
                        && p.session_id.is_some()
                        && p.session_id == d.session_id
                        && p.event_seq.zip(d.event_seq).is_some_and(|(a, b)| a < b)
                        && open(p)
                })
            })
            .collect();
        due.sort_by(|a, b| (a.next_attempt_at, &a.id).cmp(&(b.next_attempt_at, &b.id)));
        let ids: Vec<String> = due
            .into_iter()
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|d| d.id.clone())
            .collect();
        let mut claimed = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(d) = w.deliveries.get_mut(&id) {
                d.status = DeliveryStatus::Delivering;
                d.lease_owner = Some(owner.to_owned());
                d.lease_until = Some(lease_until);
                d.updated_at = now;
                claimed.push(d.clone());
            }
        }
        Ok(claimed)
    }

    async fn finish_attempts(
        &self,
        attempts: &[AttemptRecord],
        breaker_threshold: u32,
    ) -> Result<Vec<FinishOutcome>, RepoError> {
        let mut w = self.world()?;
        let mut outcomes = Vec::with_capacity(attempts.len());
        for a in attempts {
            let Some(d) = w.deliveries.get_mut(&a.delivery_id).filter(|d| {
                d.status == DeliveryStatus::Delivering
                    && d.lease_owner.as_deref() == Some(&a.lease_owner)
            }) else {
                outcomes.push(FinishOutcome {
                    recorded: false,
                    endpoint_disabled: false,
                });
                continue;
            };
            let (status, next_at, completed) = match a.next {
                AttemptNext::Succeeded => (DeliveryStatus::Succeeded, None, Some(a.attempted_at)),
                AttemptNext::RetryAt(t) => (DeliveryStatus::Pending, Some(t), None),
                AttemptNext::Failed => (DeliveryStatus::Failed, None, Some(a.attempted_at)),
            };
            d.status = status;
            d.attempts = d.attempts.saturating_add(1);
            d.next_attempt_at = next_at;
            d.lease_owner = None;
            d.lease_until = None;
            d.last_attempt_at = Some(a.attempted_at);
            d.last_status_code = a.status_code;
            d.last_error = a.error.clone();
            d.last_duration_ms = Some(a.duration_ms);
            d.completed_at = completed;
            d.updated_at = a.attempted_at;
            let mut endpoint_disabled = false;
            if let Some(e) = w.endpoints.get_mut(&a.endpoint_id) {
                match a.next {
                    AttemptNext::RetryAt(_) => {}
                    AttemptNext::Succeeded => e.consecutive_failures = 0,
                    AttemptNext::Failed => {
                        e.consecutive_failures = e.consecutive_failures.saturating_add(1);
                        if e.enabled && e.consecutive_failures >= breaker_threshold {
                            e.enabled = false;
                            e.disabled_at = Some(a.attempted_at);
                            e.updated_at = a.attempted_at;
                            e.revision += 1;
                            endpoint_disabled = true;
                        }
                    }
                }
            }
            if endpoint_disabled && let Some(draft) = &a.audit_if_disabled {
                crate::audit::append(&mut w, std::slice::from_ref(draft));
            }
            outcomes.push(FinishOutcome {
                recorded: true,
                endpoint_disabled,
            });
        }
        Ok(outcomes)
    }

    async fn requeue_failed(
        &self,
        tenant: &Tenant,
        id: &str,
        now: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> Result<DeliveryRecord, RepoError> {
        let mut w = self.world()?;
        crate::audit::check(&w, audit)?;
        let Some(d) = w.deliveries.get_mut(id).filter(|d| &d.tenant == tenant) else {
            return Err(RepoError::NotFound);
        };
        if d.status != DeliveryStatus::Failed || d.is_test {
            return Err(RepoError::Conflict(format!(
                "delivery is {}",
                d.status.as_str()
            )));
        }
        d.status = DeliveryStatus::Pending;
        d.attempts = 0;
        d.next_attempt_at = Some(now);
        d.completed_at = None;
        d.updated_at = now;
        let requeued = d.clone();
        crate::audit::append(&mut w, audit);
        Ok(requeued)
    }
}
