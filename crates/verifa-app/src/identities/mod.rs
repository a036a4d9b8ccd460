//! Identities (CONTRACT §7): reading them (by id or `external_ref`), creating them ahead of any
//! session, and the sessions and audit log of one. Changes live in [`changes`], merges in
//! [`merge`], search by keyed lookup hashes in [`search`], identity types in [`types`];
//! completing sessions feed identities through [`feeding_identity`].

mod changes;
mod feed;
mod merge;
mod search;
pub mod types;

pub use changes::{IdentityPatch, TagEdit};
pub(crate) use feed::{feeding_identity, feeding_identity_as};
pub use merge::{MergePreview, MergeRequest};
pub use search::SearchQuery;
pub(crate) use search::result_lookups;

use crate::actor::Caller;
use crate::crypto::{Cipher, LookupKey};
use crate::error::AppError;
use crate::ids::{looks_like, new_id, prefix};
use serde_json::{Map, Value};
use std::sync::Arc;
use verifa_domain::audit::AuditEvent;
use verifa_domain::cursor::{Cursor, CursorPage, CursorRequest};
use verifa_domain::identity::{Identity, IdentityEvent, IdentityStatus, MAX_EXTERNAL_REF_LEN};
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::Tenant;
use verifa_ports::audit::{AuditFilter, AuditLog};
use verifa_ports::clock::Clock;
use verifa_ports::identities::{
    IdentityFilter, IdentitySession, IdentityStore, IdentityTypeStore, NewIdentityEvent,
};
use verifa_ports::sessions::SessionStore;

/// Entries of `verification_history` on `GET /identities/{id}`.
const HISTORY_LEN: u64 = 10;
/// Sessions whose audit events an identity's audit log covers at most.
const AUDIT_LOG_SESSIONS: u64 = 100;

/// Filters of a listing, as received.
#[derive(Debug, Clone, Default)]
pub struct IdentityQuery {
    /// Status (`verified` is `approved`).
    pub status: Option<String>,
    /// `external_ref` prefix.
    pub q: Option<String>,
    /// Identity type.
    pub identity_type_id: Option<String>,
    /// Tag.
    pub tag: Option<String>,
    /// Flagged or not.
    pub is_flagged: Option<bool>,
    /// Archived too.
    pub include_archived: bool,
}

/// `POST /identities`, as received.
#[derive(Debug, Clone, Default)]
pub struct NewIdentity {
    /// Required, ≤ 255 characters.
    pub external_ref: Option<String>,
    /// Return the existing identity instead of 409.
    pub upsert: bool,
    /// Identity type (else the tenant's default type).
    pub identity_type_id: Option<String>,
    /// Custom fields.
    pub custom_fields: Option<Map<String, Value>>,
}

/// An identity with what `GET /identities/{id}` adds.
#[derive(Debug, Clone)]
pub struct IdentityView {
    /// The identity.
    pub identity: Identity,
    /// Its latest completed session's extracted data (decrypted).
    pub extracted_data: Map<String, Value>,
    /// Its latest sessions, newest first.
    pub history: Vec<IdentitySession>,
}

/// Identity use cases.
pub struct IdentityService {
    pub(crate) store: Arc<dyn IdentityStore>,
    pub(crate) types: Arc<dyn IdentityTypeStore>,
    sessions: Arc<dyn SessionStore>,
    audit: Arc<dyn AuditLog>,
    pub(crate) clock: Arc<dyn Clock>,
    cipher: Cipher,
    lookup_key: LookupKey,
}

pub(crate) fn event(e: IdentityEvent) -> NewIdentityEvent {
    NewIdentityEvent {
        id: new_id(prefix::EVENT),
        event: e,
    }
}

impl IdentityService {
    /// Builds the service.
    pub fn new(ports: &crate::Ports, cipher: Cipher, lookup_key: LookupKey) -> Self {
        Self {
            store: ports.identities.clone(),
            types: ports.identity_types.clone(),
            sessions: ports.sessions.clone(),
            audit: ports.audit.clone(),
            clock: ports.clock.clone(),
            cipher,
            lookup_key,
        }
    }

    /// The identity `key` names: see [`resolve_identity`].
    pub async fn resolve(&self, caller: &Caller, key: &str) -> Result<Identity, AppError> {
        resolve_identity(self.store.as_ref(), &caller.tenant(), key).await
    }

    /// One identity with its extracted data and history.
    pub async fn view(&self, caller: &Caller, key: &str) -> Result<IdentityView, AppError> {
        let identity = self.resolve(caller, key).await?;
        let history = self
            .store
            .sessions(
                &identity.tenant,
                &identity.id,
                PageRequest {
                    limit: HISTORY_LEN,
                    offset: 0,
                },
            )
            .await?
            .items;
        let extracted_data = self.extracted_data(&identity).await?;
        Ok(IdentityView {
            identity,
            extracted_data,
            history,
        })
    }

    /// The latest completed session's extracted data, unless the identity is redacted.
    async fn extracted_data(&self, identity: &Identity) -> Result<Map<String, Value>, AppError> {
        let (Some(session_id), false) = (
            &identity.latest_session_id,
            identity.status == IdentityStatus::Redacted,
        ) else {
            return Ok(Map::new());
        };
        let Some(record) = self.sessions.result(&identity.tenant, session_id).await? else {
            return Ok(Map::new());
        };
        if record.extracted_data_sealed.is_none() {
            return Ok(Map::new());
        }
        let session = self.sessions.get(&identity.tenant, session_id).await?;
        if !session.serves_documents() {
            // Past the sensitive-data window, or redacted: the API shows none of it.
            return Ok(Map::new());
        }
        crate::sessions::open_extracted(&self.cipher, &session, &record)
    }

    /// Lists identities.
    pub async fn list(
        &self,
        caller: &Caller,
        query: IdentityQuery,
        page: PageRequest,
    ) -> Result<Page<Identity>, AppError> {
        let filter = filter_of(query)?;
        Ok(self.store.list(&caller.tenant(), &filter, page).await?)
    }

    /// Lists identities in cursor mode (`page[after]` / `page[before]`), newest first.
    pub async fn list_from(
        &self,
        caller: &Caller,
        query: IdentityQuery,
        request: CursorRequest,
    ) -> Result<CursorPage<Identity>, AppError> {
        let filter = filter_of(query)?;
        let rows = self
            .store
            .list_from(&caller.tenant(), &filter, &request)
            .await?;
        Ok(CursorPage::of(&request, rows, |i| Cursor {
            created_at: i.created_at,
            id: i.id.clone(),
        }))
    }

    /// Creates an identity ahead of any session; with `upsert`, an existing one is returned
    /// (`true` in the second place) instead of 409.
    pub async fn create(
        &self,
        caller: &Caller,
        new: NewIdentity,
    ) -> Result<(Identity, bool), AppError> {
        let external_ref = new.external_ref.unwrap_or_default();
        if external_ref.trim().is_empty() || external_ref.chars().count() > MAX_EXTERNAL_REF_LEN {
            return Err(AppError::invalid(
                "external_ref",
                format!("is required, 1 to {MAX_EXTERNAL_REF_LEN} characters"),
            ));
        }
        // The whole body is checked before an upsert may answer with the stored identity.
        if let Some(fields) = &new.custom_fields {
            let problems = verifa_domain::fields::check("custom_fields", fields);
            if !problems.is_empty() {
                return Err(crate::error::field_problems(problems));
            }
        }
        let tenant = caller.tenant();
        if let Some(existing) = self.store.find_by_ref(&tenant, &external_ref).await? {
            return self.existing(existing, new.upsert);
        }
        let now = self.clock.now();
        let mut identity = Identity::new(
            new_id(prefix::IDENTITY),
            tenant.clone(),
            external_ref.clone(),
            now,
        );
        let kind = match &new.identity_type_id {
            Some(id) => Some(
                self.types
                    .get_type(&tenant, id)
                    .await
                    .map_err(|e| match e {
                        verifa_ports::RepoError::NotFound => {
                            AppError::invalid("identity_type_id", "names no identity type")
                        }
                        other => other.into(),
                    })?,
            ),
            None => self.types.default_type(&tenant).await?,
        };
        if let Some(kind) = kind {
            identity.identity_type_id = Some(kind.id);
            identity.type_status = Some(kind.default_status);
        }
        if let Some(fields) = &new.custom_fields {
            identity
                .merge_custom_fields(fields)
                .map_err(crate::error::field_problems)?;
        }
        let audit = caller
            .audit("identity.created", "identity", &identity.id, now)
            .with_changes(["external_ref", "identity_type_id", "custom_fields"]);
        match self
            .store
            .insert(&identity, &[event(IdentityEvent::Created)], &[audit])
            .await
        {
            Ok(()) => Ok((identity, false)),
            Err(verifa_ports::RepoError::Conflict(_)) => {
                // Created concurrently: the same answer as if it had been there.
                let existing = self
                    .store
                    .find_by_ref(&tenant, &external_ref)
                    .await?
                    .ok_or_else(|| AppError::Conflict("the identity changed; retry".into()))?;
                self.existing(existing, new.upsert)
            }
            Err(e) => Err(e.into()),
        }
    }

    fn existing(&self, existing: Identity, upsert: bool) -> Result<(Identity, bool), AppError> {
        if upsert {
            Ok((existing, true))
        } else {
            Err(AppError::Conflict(format!(
                "an identity with this external_ref exists ({}); send upsert: true to get it",
                existing.id
            )))
        }
    }

    /// The identity's sessions, newest first.
    pub async fn sessions(
        &self,
        caller: &Caller,
        key: &str,
        page: PageRequest,
    ) -> Result<Page<IdentitySession>, AppError> {
        let identity = self.resolve(caller, key).await?;
        Ok(self
            .store
            .sessions(&identity.tenant, &identity.id, page)
            .await?)
    }

    /// The audit events of the identity and of its (latest 100) sessions, newest first.
    pub async fn audit_log(
        &self,
        caller: &Caller,
        key: &str,
        page: PageRequest,
    ) -> Result<Page<AuditEvent>, AppError> {
        let identity = self.resolve(caller, key).await?;
        let sessions = self
            .store
            .sessions(
                &identity.tenant,
                &identity.id,
                PageRequest {
                    limit: AUDIT_LOG_SESSIONS,
                    offset: 0,
                },
            )
            .await?;
        let mut ids = vec![identity.id.clone()];
        ids.extend(sessions.items.into_iter().map(|s| s.session_id));
        let filter = AuditFilter {
            resource_ids: ids,
            ..AuditFilter::default()
        };
        Ok(self.audit.list(&identity.tenant, &filter, page).await?)
    }
}

/// The store filter of a list query (a blank filter is no filter).
fn filter_of(query: IdentityQuery) -> Result<IdentityFilter, AppError> {
    let mut errors = Vec::new();
    // A blank filter is no filter (`?status=` as forms send it).
    let blank = |v: Option<String>| v.filter(|s| !s.is_empty());
    let status = blank(query.status.clone()).and_then(|s| {
        let parsed = IdentityStatus::parse_filter(&s);
        if parsed.is_none() {
            errors.push(crate::FieldError::new(
                "status",
                "must be one of pending, approved, verified, failed, rejected, redacted, merged",
            ));
        }
        parsed
    });
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let filter = IdentityFilter {
        status,
        q: query.q.filter(|q| !q.is_empty()),
        identity_type_id: blank(query.identity_type_id),
        tag: blank(query.tag),
        is_flagged: query.is_flagged,
        include_archived: query.include_archived,
    };
    Ok(filter)
}

/// The identity `key` names in `tenant`: an `idn_…` id (tried first), else an `external_ref`;
/// a merged identity's `external_ref` resolves to the identity it was merged into.
///
/// # Errors
/// [`AppError::NotFound`] when neither names one.
pub(crate) async fn resolve_identity(
    store: &dyn IdentityStore,
    tenant: &Tenant,
    key: &str,
) -> Result<Identity, AppError> {
    if looks_like(key, prefix::IDENTITY) {
        match store.get(tenant, key).await {
            Ok(i) => return Ok(i),
            Err(verifa_ports::RepoError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let found = store
        .find_by_ref(tenant, key)
        .await?
        .ok_or(AppError::NotFound("identity"))?;
    match (&found.status, &found.merged_into_id) {
        (IdentityStatus::Merged, Some(into)) => store
            .get(tenant, into)
            .await
            .map_err(AppError::from_repo("identity")),
        _ => Ok(found),
    }
}

/// The ids of an identity's sessions, newest first, at most `cap`, read page by page.
///
/// # Errors
/// When the store fails.
pub(crate) async fn session_ids_of(
    store: &dyn IdentityStore,
    tenant: &Tenant,
    identity_id: &str,
    cap: usize,
) -> Result<Vec<String>, AppError> {
    const PAGE: u64 = 100;
    let mut ids = Vec::new();
    let mut offset = 0;
    while ids.len() < cap {
        let page = store
            .sessions(
                tenant,
                identity_id,
                PageRequest {
                    limit: PAGE,
                    offset,
                },
            )
            .await?;
        let got = u64::try_from(page.items.len()).unwrap_or(u64::MAX);
        let room = cap - ids.len();
        ids.extend(page.items.into_iter().take(room).map(|s| s.session_id));
        offset += got;
        if got < PAGE || offset >= page.total {
            break;
        }
    }
    Ok(ids)
}
