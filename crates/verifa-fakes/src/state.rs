//! [`MemoryStore`]: the world every store fake reads and writes, behind one mutex. A port method
//! takes the lock once, checks everything it must check, and only then changes the world, so a
//! refused write changes nothing (as a rolled-back transaction would).

use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use verifa_domain::api_key::ApiKey;
use verifa_domain::audit::AuditEvent;
use verifa_domain::audit::chain::ChainHead;
use verifa_domain::case::Case;
use verifa_domain::identity::{Identity, IdentityType};
use verifa_domain::org_user::OrgUser;
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::run::WorkflowRun;
use verifa_domain::session::Session;
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::cases::NoteRecord;
use verifa_ports::idempotency::StoredResponse;
use verifa_ports::organizations::Organization;
use verifa_ports::runs::NodeExecution;
use verifa_ports::sessions::{DocumentRecord, ResultRecord};
use verifa_ports::webhook_store::{DeliveryRecord, EndpointRecord};
use verifa_ports::workflows::{DraftRecord, VersionRecord, WorkflowRecord};

/// An idempotency record.
#[derive(Debug, Clone)]
pub(crate) struct IdempotencyRecord {
    pub fingerprint: String,
    pub response: Option<StoredResponse>,
    pub created_at: DateTime<Utc>,
    pub locked_until: DateTime<Utc>,
}

/// A row of the session event log (the outbox).
#[derive(Debug, Clone)]
pub(crate) struct StoredEvent {
    pub seq: i64,
    pub id: String,
    pub tenant: Tenant,
    pub session_id: String,
    pub event_type: String,
    pub data: Value,
    pub created_at: DateTime<Utc>,
}

/// Everything stored.
#[derive(Debug, Default)]
pub(crate) struct World {
    pub organizations: BTreeMap<String, Organization>,
    pub api_keys: BTreeMap<String, ApiKey>,
    pub org_users: BTreeMap<String, OrgUser>,
    pub idempotency: HashMap<(Tenant, String), IdempotencyRecord>,
    pub sessions: BTreeMap<String, Session>,
    pub documents: Vec<DocumentRecord>,
    pub results: BTreeMap<String, ResultRecord>,
    /// Lookup hashes per session result (kept apart: records read back carry none).
    pub result_lookups: BTreeMap<String, Vec<String>>,
    pub events: Vec<StoredEvent>,
    pub runs: BTreeMap<String, WorkflowRun>,
    pub executions: Vec<NodeExecution>,
    pub workflows: BTreeMap<String, WorkflowRecord>,
    pub versions: Vec<VersionRecord>,
    pub drafts: BTreeMap<String, DraftRecord>,
    pub endpoints: BTreeMap<String, EndpointRecord>,
    pub deliveries: BTreeMap<String, DeliveryRecord>,
    pub fan_out_cursor: i64,
    pub audit_events: Vec<AuditEvent>,
    pub audit_heads: BTreeMap<Tenant, ChainHead>,
    pub identities: BTreeMap<String, Identity>,
    pub identity_types: BTreeMap<String, IdentityType>,
    pub cases: BTreeMap<String, Case>,
    pub case_notes: Vec<NoteRecord>,
    pub settings: HashMap<Tenant, verifa_ports::settings::StoredSettings>,
    /// Blobs condemned by redactions, until storage confirms their deletion.
    pub blob_deletions: Vec<(verifa_ports::sessions::BlobDeletion, DateTime<Utc>)>,
    pub next_blob_deletion: i64,
}

impl World {
    pub(crate) fn next_event_seq(&self) -> i64 {
        self.events.last().map_or(1, |e| e.seq + 1)
    }

    /// Appends one outbox row about `subject` (a session, or an identity), next in sequence.
    pub(crate) fn push_event(
        &mut self,
        tenant: &Tenant,
        subject: &str,
        (id, event_type, data): (&str, &str, Value),
        created_at: DateTime<Utc>,
    ) {
        let seq = self.next_event_seq();
        self.events.push(StoredEvent {
            seq,
            id: id.to_owned(),
            tenant: tenant.clone(),
            session_id: subject.to_owned(),
            event_type: event_type.to_owned(),
            data,
            created_at,
        });
    }
}

/// Every store port in memory. Cheap to create; clone it through an `Arc`.
#[derive(Debug, Default)]
pub struct MemoryStore {
    world: Mutex<World>,
    unavailable: AtomicBool,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// From now on every call fails with [`RepoError::Unavailable`] (or works again with
    /// `false`): the store is down.
    pub fn set_unavailable(&self, down: bool) {
        self.unavailable.store(down, Ordering::SeqCst);
    }

    /// The world, locked, unless the store is down.
    pub(crate) fn world(&self) -> Result<MutexGuard<'_, World>, RepoError> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(RepoError::Unavailable("the in-memory store is down".into()));
        }
        Ok(self.world.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// One page of `items` (already filtered and ordered).
pub(crate) fn page_of<T>(items: Vec<T>, page: PageRequest) -> Page<T> {
    let total = items.len() as u64;
    let offset = usize::try_from(page.offset).unwrap_or(usize::MAX);
    let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
    Page {
        items: items.into_iter().skip(offset).take(limit).collect(),
        total,
        request: page,
    }
}
