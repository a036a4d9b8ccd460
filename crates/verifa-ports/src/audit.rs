//! The audit trail's storage (CONTRACT §6.2).
//!
//! Every store method that changes a resource takes the [`AuditDraft`]s describing the change and
//! MUST record them in the same transaction as the change: either both are written or neither.
//! [`AuditLog`] is for reading the trail and for recording what changes nothing else (an
//! export, a failed sign-in).
//!
//! A store may seal a change's events into the chain in that same transaction, or queue them
//! there and seal them later (the database store does: sealing in the change's transaction
//! would make every change of an organization wait for the chain's head, see
//! `bench_cases`). MUST clauses, wherever sealing happens:
//! - events of one chain (organization and environment) get sequence numbers from 1 without gaps
//!   and are linked by [`seal`](verifa_domain::audit::chain::seal), continuing from the
//!   chain's stored head, which is updated in the same transaction as the sealing;
//! - sealing is serialised per chain: two sealers never both continue from the same head, in
//!   one process or several; the events of one change keep their order;
//! - every read of [`AuditLog`] first seals what the chains it reads have queued, so it sees
//!   every event whose change has committed (read your writes);
//! - an event id is unique among sealed and queued events: a duplicate fails the change;
//! - sealed events are never updated or deleted (the database refuses it).

use crate::RepoError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use verifa_domain::audit::chain::ChainHead;
use verifa_domain::audit::{AuditDraft, AuditEvent};
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::Tenant;

/// Which events a listing returns (every field narrows it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Exactly this action (`type`).
    pub action: Option<String>,
    /// Exactly this resource type.
    pub resource_type: Option<String>,
    /// Exactly this resource id.
    pub resource_id: Option<String>,
    /// Any of these resource ids (empty: no condition); an identity's log uses it.
    pub resource_ids: Vec<String>,
    /// Exactly this actor (wire form).
    pub actor: Option<String>,
    /// Created at or after.
    pub created_after: Option<DateTime<Utc>>,
    /// Created strictly before.
    pub created_before: Option<DateTime<Utc>>,
    /// Case-insensitive substring of actor, action, resource type or id, or IP address
    /// ([`AuditEvent::matches_text`]).
    pub q: Option<String>,
}

impl AuditFilter {
    /// Whether `event` passes every condition but the tenant's.
    pub fn matches(&self, event: &AuditEvent) -> bool {
        let equal = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        equal(&self.action, &event.action)
            && equal(&self.resource_type, &event.resource_type)
            && equal(&self.resource_id, &event.resource_id)
            && (self.resource_ids.is_empty() || self.resource_ids.contains(&event.resource_id))
            && equal(&self.actor, &event.actor)
            && self.created_after.is_none_or(|at| event.created_at >= at)
            && self.created_before.is_none_or(|at| event.created_at < at)
            && self.q.as_deref().is_none_or(|q| event.matches_text(q))
    }
}

/// Reads the audit trail and appends events that accompany no other change.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Records `drafts` in a transaction of their own (any chains).
    ///
    /// # Errors
    /// [`RepoError::Conflict`] on a duplicate event id.
    async fn append(&self, drafts: &[AuditDraft]) -> Result<(), RepoError>;

    /// Seals every event queued on any chain, returning how many (0 for a store that seals as
    /// it appends). The server runs it in the background so that chains stay current without
    /// waiting for a read.
    async fn seal_pending(&self) -> Result<u64, RepoError>;

    /// The tenant's events matching `filter`, newest (highest sequence) first.
    async fn list(
        &self,
        tenant: &Tenant,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEvent>, RepoError>;

    /// One event of the tenant.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when absent in this tenant.
    async fn get(&self, tenant: &Tenant, id: &str) -> Result<AuditEvent, RepoError>;

    /// Up to `limit` events of the tenant's chain with `after < sequence <= to` (no upper
    /// bound when `to` is `None`), in sequence order. Rows are returned as stored, even when
    /// they would not verify: this is what verification reads.
    async fn chain_slice(
        &self,
        tenant: &Tenant,
        after: i64,
        to: Option<i64>,
        limit: u64,
    ) -> Result<Vec<AuditEvent>, RepoError>;

    /// The chain's stored head ([`ChainHead::empty`] before its first event).
    async fn chain_head(&self, tenant: &Tenant) -> Result<ChainHead, RepoError>;

    /// Every tenant that has a chain, ordered by organization and environment.
    async fn chains(&self) -> Result<Vec<Tenant>, RepoError>;
}
