//! Webhook storage: endpoints ([`EndpointStore`]), deliveries with leases ([`DeliveryStore`]),
//! and the fan-out cursor over the `session_events` outbox ([`OutboxFanOut`]).

use crate::RepoError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use verifa_domain::audit::AuditDraft;
use verifa_domain::inflection::Inflection;
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::Tenant;

/// A webhook endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointRecord {
    /// `webhook_…`.
    pub id: String,
    /// Owner.
    pub tenant: Tenant,
    /// Destination URL.
    pub url: String,
    /// Label.
    pub label: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Receives deliveries.
    pub enabled: bool,
    /// Event names or patterns (empty = all).
    pub enabled_events: Vec<String>,
    /// Attribute paths removed from payloads.
    pub attribute_blocklist: Vec<String>,
    /// Conditions an event must meet.
    pub event_filter_conditions: Map<String, Value>,
    /// Payload API version.
    pub api_version: Option<String>,
    /// `snake` | `camel` | `kebab`.
    pub key_inflection: Inflection,
    /// The `whsec_…` secret, encrypted at rest (the adapter never sees the plaintext).
    pub secret_encrypted: String,
    /// Consecutive deliveries that ended `failed`.
    pub consecutive_failures: u32,
    /// When the circuit breaker disabled it.
    pub disabled_at: Option<DateTime<Utc>>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Incremented by every stored change (the breaker's included); an update names the
    /// revision it read.
    pub revision: i32,
}

/// State of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// Claimed by a dispatcher (lease held).
    Delivering,
    /// A 2xx was received.
    Succeeded,
    /// Every attempt failed.
    Failed,
}

impl DeliveryStatus {
    /// Every variant, in declaration order.
    pub const ALL: [DeliveryStatus; 4] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Delivering,
        DeliveryStatus::Succeeded,
        DeliveryStatus::Failed,
    ];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivering => "delivering",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed => "failed",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(DeliveryStatus::Pending),
            "delivering" => Some(DeliveryStatus::Delivering),
            "succeeded" => Some(DeliveryStatus::Succeeded),
            "failed" => Some(DeliveryStatus::Failed),
            _ => None,
        }
    }

    /// Whether the delivery reached a final state.
    pub fn is_final(self) -> bool {
        matches!(self, DeliveryStatus::Succeeded | DeliveryStatus::Failed)
    }
}

/// One delivery of one event to one endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRecord {
    /// `whd_…`.
    pub id: String,
    /// Endpoint.
    pub endpoint_id: String,
    /// Owner.
    pub tenant: Tenant,
    /// Outbox event id (or `evt_test_…`).
    pub event_id: String,
    /// Outbox sequence number (orders a session's events); `None` for test deliveries.
    pub event_seq: Option<i64>,
    /// Session the event is about.
    pub session_id: Option<String>,
    /// Event name.
    pub event_type: String,
    /// `idk_…`, stable across attempts.
    pub idempotency_key: String,
    /// The exact body sent.
    pub body: String,
    /// State.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: u32,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Dispatcher holding the lease.
    pub lease_owner: Option<String>,
    /// Lease expiry.
    pub lease_until: Option<DateTime<Utc>>,
    /// Last attempt.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// HTTP status of the last attempt.
    pub last_status_code: Option<u16>,
    /// Error of the last attempt (timeout, refused destination…).
    pub last_error: Option<String>,
    /// Duration of the last attempt.
    pub last_duration_ms: Option<u64>,
    /// Sent by `POST …/test`.
    pub is_test: bool,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// When it reached a final state.
    pub completed_at: Option<DateTime<Utc>>,
}

/// One row of the `session_events` outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent {
    /// Sequence number.
    pub seq: i64,
    /// Event id.
    pub id: String,
    /// Owner.
    pub tenant: Tenant,
    /// Session.
    pub session_id: String,
    /// Event name.
    pub event_type: String,
    /// Flat event fields, JSON text.
    pub data: String,
    /// When it happened.
    pub created_at: DateTime<Utc>,
}

/// Filters of the deliveries list.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    /// Created at or after.
    pub date_from: Option<DateTime<Utc>>,
    /// Created before.
    pub date_to: Option<DateTime<Utc>>,
    /// Event name.
    pub event_type: Option<String>,
    /// State.
    pub status: Option<DeliveryStatus>,
}

/// How an attempt ended, for [`WebhookStore::finish_attempts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptNext {
    /// Delivered: `succeeded`, the endpoint's failure counter resets.
    Succeeded,
    /// Failed, retry at this time: back to `pending`.
    RetryAt(DateTime<Utc>),
    /// Failed for good: `failed`, the endpoint's failure counter grows.
    Failed,
}

/// The outcome of one attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecord {
    /// Delivery.
    pub delivery_id: String,
    /// Its endpoint (whose failure counter a final outcome updates).
    pub endpoint_id: String,
    /// The lease owner that made the attempt (the write is refused if it lost the lease).
    pub lease_owner: String,
    /// When the attempt was made.
    pub attempted_at: DateTime<Utc>,
    /// HTTP status, if any.
    pub status_code: Option<u16>,
    /// Error text, if no 2xx.
    pub error: Option<String>,
    /// Duration.
    pub duration_ms: u64,
    /// What happens next.
    pub next: AttemptNext,
    /// The `webhook_endpoint.disabled` event to append, in the same transaction, when this
    /// attempt trips the circuit breaker (and only then).
    pub audit_if_disabled: Option<AuditDraft>,
}

/// Result of [`WebhookStore::finish_attempts`] for one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FinishOutcome {
    /// Whether the write happened (false when the lease was lost meanwhile).
    pub recorded: bool,
    /// Whether this attempt tripped the circuit breaker and disabled the endpoint.
    pub endpoint_disabled: bool,
}

/// Stores webhook endpoints. Tenant-scoped reads MUST report another tenant's endpoint as
/// [`RepoError::NotFound`].
#[async_trait]
pub trait EndpointStore: Send + Sync {
    /// Inserts an endpoint (and its audit drafts, atomically).
    async fn insert_endpoint(
        &self,
        endpoint: &EndpointRecord,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError>;

    /// Gets an endpoint of the tenant. [`RepoError::NotFound`] when absent.
    async fn get_endpoint(&self, tenant: &Tenant, id: &str) -> Result<EndpointRecord, RepoError>;

    /// The endpoints with these ids, whatever their tenant (dispatcher); absent ids are skipped.
    async fn endpoints_by_ids(&self, ids: &[String]) -> Result<Vec<EndpointRecord>, RepoError>;

    /// Lists endpoints, newest first.
    async fn list_endpoints(
        &self,
        tenant: &Tenant,
        page: PageRequest,
    ) -> Result<Page<EndpointRecord>, RepoError>;

    /// Enabled endpoints of a tenant (fan-out).
    async fn enabled_endpoints(&self, tenant: &Tenant) -> Result<Vec<EndpointRecord>, RepoError>;

    /// Overwrites the fields a caller edits (url … secret, `enabled`, `updated_at`); re-enabling
    /// a disabled endpoint clears its failure streak. The streak itself is the store's (see
    /// [`DeliveryStore::finish_attempts`]), and disabling by the breaker advances the revision.
    ///
    /// MUST be fenced: writes only when the stored revision still equals the record's `revision`
    /// (the one read), and stores `revision + 1`.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the row moved on (re-read and retry); [`RepoError::NotFound`]
    /// when absent in the tenant.
    /// Appends `audit` in the same transaction; a refused write appends nothing.
    async fn update_endpoint(
        &self,
        endpoint: &EndpointRecord,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError>;

    /// Deletes an endpoint and its deliveries, appending `audit` in the same transaction.
    /// [`RepoError::NotFound`] when absent.
    async fn delete_endpoint(
        &self,
        tenant: &Tenant,
        id: &str,
        audit: &[AuditDraft],
    ) -> Result<(), RepoError>;
}

/// The fan-out of the `session_events` outbox: a single cursor that every dispatcher moves with a
/// compare-and-set, so no event is fanned out twice.
#[async_trait]
pub trait OutboxFanOut: Send + Sync {
    /// The last outbox sequence number already fanned out (0 when none).
    async fn fan_out_cursor(&self) -> Result<i64, RepoError>;

    /// Outbox events with `seq > after`, ascending, at most `limit`.
    async fn outbox_after(&self, after: i64, limit: u64) -> Result<Vec<OutboxEvent>, RepoError>;

    /// Inserts the deliveries of a fan-out batch and moves the cursor from `from_seq` to
    /// `to_seq`, atomically.
    ///
    /// MUST compare-and-set: returns `false` and writes nothing (no delivery) when the cursor is
    /// no longer at `from_seq` (another dispatcher did this batch).
    async fn commit_fan_out(
        &self,
        from_seq: i64,
        to_seq: i64,
        deliveries: &[DeliveryRecord],
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError>;
}

/// Stores deliveries and their attempts, under leases.
#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Inserts one delivery (test deliveries).
    async fn insert_delivery(&self, delivery: &DeliveryRecord) -> Result<(), RepoError>;

    /// Gets a delivery of the tenant. [`RepoError::NotFound`] when absent.
    async fn get_delivery(&self, tenant: &Tenant, id: &str) -> Result<DeliveryRecord, RepoError>;

    /// Every delivery of a session's events to any endpoint of the tenant, oldest first, at
    /// most `limit` (a data-subject export lists them).
    async fn deliveries_for_session(
        &self,
        tenant: &Tenant,
        session_id: &str,
        limit: u64,
    ) -> Result<Vec<DeliveryRecord>, RepoError>;

    /// Deliveries of an endpoint, newest first.
    async fn list_deliveries(
        &self,
        tenant: &Tenant,
        endpoint_id: &str,
        filter: &DeliveryFilter,
        page: PageRequest,
    ) -> Result<Page<DeliveryRecord>, RepoError>;

    /// Claims for `owner` until `lease_until`, atomically, at most `limit` deliveries of enabled
    /// endpoints that may be attempted at `now` (`pending` and due, or `delivering` with an
    /// expired lease), oldest due first, skipping every delivery behind a still open (pending
    /// or delivering) earlier event of the same session for the same endpoint (per-session
    /// ordering). Returned oldest due first, as claimed (`delivering`, leased).
    ///
    /// MUST be exclusive: concurrent callers never get the same delivery while its lease holds.
    async fn claim_due(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<DeliveryRecord>, RepoError>;

    /// Records attempts made under leases, in order, in one transaction; on a final outcome
    /// updates the endpoint's consecutive-failure counter, disabling the endpoint when it
    /// reaches `breaker_threshold`. One outcome per attempt, in the same order.
    ///
    /// MUST be fenced on the lease: an attempt whose delivery is no longer leased to its
    /// `lease_owner` is not recorded (`recorded: false`) and changes no counter.
    async fn finish_attempts(
        &self,
        attempts: &[AttemptRecord],
        breaker_threshold: u32,
    ) -> Result<Vec<FinishOutcome>, RepoError>;

    /// Puts a `failed` delivery back to `pending` (attempts reset, due at `now`), appending
    /// `audit` in the same transaction. Returns the updated delivery.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when it is not `failed`; [`RepoError::NotFound`] when absent.
    async fn requeue_failed(
        &self,
        tenant: &Tenant,
        id: &str,
        now: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> Result<DeliveryRecord, RepoError>;
}
