//! Identities and identity types storage (CONTRACT §7).
//!
//! Identity writes carry the `identity.*` events to append to the webhook outbox and the audit
//! drafts to append to the trail, both in the same transaction as the change. A completing
//! session feeds its identity through [`IdentityFeed`] on its
//! [`SessionChange`](crate::sessions::SessionChange); [`resolve_feed`] is the one place that
//! decides what that does, for every store.

use crate::RepoError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use verifa_domain::audit::AuditDraft;
use verifa_domain::identity::merge::MergeOutcome;
use verifa_domain::identity::{
    Identity, IdentityEvent, IdentityStatus, IdentityType, SessionCompletion,
};
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::session::{Session, SessionStatus};
use verifa_domain::tenancy::Tenant;

/// An `identity.*` event to append to the outbox, with its `evt_…` id.
#[derive(Debug, Clone, PartialEq)]
pub struct NewIdentityEvent {
    /// `evt_…`.
    pub id: String,
    /// What happened.
    pub event: IdentityEvent,
}

/// Which identities a listing returns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IdentityFilter {
    /// Only this status.
    pub status: Option<IdentityStatus>,
    /// `external_ref` starts with this.
    pub q: Option<String>,
    /// Only this identity type.
    pub identity_type_id: Option<String>,
    /// Carries this tag.
    pub tag: Option<String>,
    /// Flagged or not.
    pub is_flagged: Option<bool>,
    /// Archived identities too.
    pub include_archived: bool,
}

impl IdentityFilter {
    /// Whether `i` passes the filter (the reference semantics for every store).
    pub fn matches(&self, i: &Identity) -> bool {
        self.status.is_none_or(|s| i.status == s)
            && self
                .q
                .as_deref()
                .is_none_or(|q| i.external_ref.as_deref().is_some_and(|r| r.starts_with(q)))
            && self
                .identity_type_id
                .as_deref()
                .is_none_or(|t| i.identity_type_id.as_deref() == Some(t))
            && self
                .tag
                .as_deref()
                .is_none_or(|t| i.tags.iter().any(|x| x == t))
            && self.is_flagged.is_none_or(|f| i.is_flagged == f)
            && (self.include_archived || !i.is_archived())
    }
}

/// What `POST /identities/search` matches (CONTRACT §7.3); every part given must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IdentitySearch {
    /// `external_ref` equals this.
    pub external_ref: Option<String>,
    /// Only this status.
    pub status: Option<IdentityStatus>,
    /// `country` equals this (alpha-2).
    pub country: Option<String>,
    /// Lookup hashes that one result of the identity's sessions must all carry (see
    /// [`ResultRecord::lookups`](crate::sessions::ResultRecord::lookups)).
    pub lookups: Vec<String>,
}

/// A session of an identity, as its history lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentitySession {
    /// `ses_…`.
    pub session_id: String,
    /// Its status.
    pub status: SessionStatus,
    /// When it completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// What a completing session does to its identity: upsert it by `external_ref` and link the
/// session. Ids and the audit draft come from the use case; the store fills in the rest.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityFeed {
    /// The id a new identity gets.
    pub new_identity_id: String,
    /// The `evt_…` id of the `identity.created` / `identity.updated` event.
    pub event_id: String,
    /// Who completed the session; its action and resource are set by [`resolve_feed`].
    pub audit: AuditDraft,
    /// The completed session.
    pub completion: SessionCompletion,
}

/// The identity a feed leaves, with its event and audit draft.
#[derive(Debug, Clone, PartialEq)]
pub struct FedIdentity {
    /// The identity after the feed (`revision` as read; stores write `revision + 1`).
    pub identity: Identity,
    /// Whether it is new.
    pub created: bool,
    /// The outbox event.
    pub event: NewIdentityEvent,
    /// The audit draft.
    pub audit: AuditDraft,
}

/// Applies a feed to the identity stored for its `external_ref` (already followed to the
/// identity it was merged into), or to a new one.
pub fn resolve_feed(
    existing: Option<Identity>,
    session: &Session,
    feed: &IdentityFeed,
) -> FedIdentity {
    let c = &feed.completion;
    let created = existing.is_none();
    let mut identity = existing.unwrap_or_else(|| {
        Identity::new(
            feed.new_identity_id.clone(),
            session.tenant.clone(),
            c.external_ref.clone(),
            c.completed_at,
        )
    });
    let newly_linked = session.identity_id.as_deref() != Some(identity.id.as_str());
    let changed = identity.absorb(c, newly_linked);
    let (action, event) = if created {
        ("identity.created", IdentityEvent::Created)
    } else {
        ("identity.updated", IdentityEvent::Updated)
    };
    let mut audit = feed.audit.clone();
    audit.action = action.to_owned();
    audit.resource_type = "identity".to_owned();
    audit.resource_id.clone_from(&identity.id);
    audit.changes = changed.into_iter().map(str::to_owned).collect();
    audit
        .metadata
        .insert("session_id".into(), c.session_id.clone().into());
    FedIdentity {
        identity,
        created,
        event: NewIdentityEvent {
            id: feed.event_id.clone(),
            event,
        },
        audit,
    }
}

/// Stores identities. Every read and write is scoped to one tenant.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// Inserts a new identity.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when its `external_ref` (or id) exists in the tenant, even under
    /// concurrent inserts.
    async fn insert(
        &self,
        identity: &Identity,
        events: &[NewIdentityEvent],
        audit: &[AuditDraft],
    ) -> Result<(), RepoError>;

    /// Gets an identity by id.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when absent in the tenant.
    async fn get(&self, tenant: &Tenant, id: &str) -> Result<Identity, RepoError>;

    /// Finds the identity holding `external_ref` (a merged one is returned as stored).
    async fn find_by_ref(
        &self,
        tenant: &Tenant,
        external_ref: &str,
    ) -> Result<Option<Identity>, RepoError>;

    /// Lists identities matching `filter`, newest first (ties by id).
    async fn list(
        &self,
        tenant: &Tenant,
        filter: &IdentityFilter,
        page: PageRequest,
    ) -> Result<Page<Identity>, RepoError>;

    /// A cursor page of identities matching `filter` in the newest-first order of
    /// [`Self::list`]: the rows past the request's cursor in its direction (newest first for
    /// `After`, oldest first for `Before`), at most `size + 1` of them (see
    /// [`CursorPage::of`](verifa_domain::cursor::CursorPage::of)).
    async fn list_from(
        &self,
        tenant: &Tenant,
        filter: &IdentityFilter,
        request: &verifa_domain::cursor::CursorRequest,
    ) -> Result<Vec<Identity>, RepoError>;

    /// Identities matching `search`, archived ones included, newest first (ties by id). A
    /// lookup hash matches through the sessions linked to the identity now (so a merge moves
    /// them to the primary).
    async fn search(
        &self,
        tenant: &Tenant,
        search: &IdentitySearch,
        page: PageRequest,
    ) -> Result<Page<Identity>, RepoError>;

    /// Overwrites an identity's mutable fields, fenced: writes only when the stored revision
    /// equals `identity.revision`, and stores `revision + 1`.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when it moved on; [`RepoError::NotFound`] when absent.
    async fn update(
        &self,
        identity: &Identity,
        events: &[NewIdentityEvent],
        audit: &[AuditDraft],
    ) -> Result<(), RepoError>;

    /// Writes a merge in one transaction: the primary and every secondary (each fenced on the
    /// revision it carries), and the secondaries' sessions re-pointed at the primary.
    ///
    /// # Errors
    /// As [`update`](Self::update), for any of them; then nothing is written.
    async fn merge(
        &self,
        outcome: &MergeOutcome,
        events: &[(String, NewIdentityEvent)],
        audit: &[AuditDraft],
    ) -> Result<(), RepoError>;

    /// The identity's sessions, newest first.
    async fn sessions(
        &self,
        tenant: &Tenant,
        identity_id: &str,
        page: PageRequest,
    ) -> Result<Page<IdentitySession>, RepoError>;
}

/// Stores identity types. Every read and write is scoped to one tenant.
#[async_trait]
pub trait IdentityTypeStore: Send + Sync {
    /// Inserts a type; when it is the default, the tenant's former default stops being one in
    /// the same transaction.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the name is taken in the tenant.
    async fn insert_type(&self, t: &IdentityType, audit: &[AuditDraft]) -> Result<(), RepoError>;

    /// Gets a type.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when absent in the tenant.
    async fn get_type(&self, tenant: &Tenant, id: &str) -> Result<IdentityType, RepoError>;

    /// The tenant's default type, if any.
    async fn default_type(&self, tenant: &Tenant) -> Result<Option<IdentityType>, RepoError>;

    /// Every type of the tenant, oldest first.
    async fn list_types(&self, tenant: &Tenant) -> Result<Vec<IdentityType>, RepoError>;

    /// Overwrites a type, fenced on its revision; a new default demotes the former one.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when it moved on or the name is taken.
    async fn update_type(&self, t: &IdentityType, audit: &[AuditDraft]) -> Result<(), RepoError>;

    /// Deletes a type no identity uses; `false` when one does (nothing is deleted).
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when absent in the tenant.
    async fn delete_type(
        &self,
        tenant: &Tenant,
        id: &str,
        audit: &[AuditDraft],
    ) -> Result<bool, RepoError>;
}
