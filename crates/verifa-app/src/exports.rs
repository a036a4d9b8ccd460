//! Data-subject access exports (CONTRACT §11.4, GDPR Art. 15): everything held about one
//! session — the session and its pre-fill fields, its decision with the extracted data decrypted (past the
//! sensitive-data window too, `api_pii_fields` ignored), its documents with 24-hour download
//! links, its run and every check attempt, its review case and notes, and where its webhooks
//! went; and about one person (an identity with the exports of all its sessions). Every export
//! is audited (`api.session.export`, `api.identity.export`).

use crate::api_keys::Caller;
use crate::cases::{CaseService, Note};
use crate::error::AppError;
use crate::identities::{resolve_identity, session_ids_of};
use crate::sessions::{ResultView, SessionService};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use verifa_domain::case::Case;
use verifa_domain::identity::{Identity, IdentityStatus};
use verifa_domain::pagination::PageRequest;
use verifa_domain::run::WorkflowRun;
use verifa_domain::session::Session;
use verifa_domain::tenancy::Tenant;
use verifa_ports::audit::AuditLog;
use verifa_ports::clock::Clock;
use verifa_ports::identities::{IdentityFilter, IdentityStore};
use verifa_ports::runs::NodeExecution;
use verifa_ports::sessions::DocumentRecord;
use verifa_ports::webhook_store::{DeliveryStore, EndpointStore};

/// How long an export's download links stay valid.
pub const EXPORT_LINK_SECONDS: u32 = 24 * 60 * 60;

/// Most webhook deliveries an export lists (oldest first).
const MAX_DELIVERIES: u64 = 1_000;

/// A document of an export: its link while the session still serves documents.
#[derive(Debug, Clone)]
pub struct ExportedDocument {
    /// The document.
    pub document: DocumentRecord,
    /// A 24-hour signed link; `None` past the sensitive-data window (the bytes are kept until
    /// the retention period ends, but no link serves them).
    pub download_url: Option<String>,
}

/// Where one webhook of the session went.
#[derive(Debug, Clone)]
pub struct ExportedDelivery {
    /// The event.
    pub event: String,
    /// The endpoint's URL (`None` once the endpoint was deleted).
    pub url: Option<String>,
    /// `pending`, `delivering`, `delivered`, `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: u32,
}

/// Everything held about one session.
#[derive(Debug, Clone)]
pub struct SessionExport {
    /// The session.
    pub session: Session,
    /// Its pre-fill fields, decrypted.
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// Its decision, extracted data decrypted.
    pub result: Option<ResultView>,
    /// Its documents.
    pub documents: Vec<ExportedDocument>,
    /// Its run.
    pub run: Option<WorkflowRun>,
    /// Every check attempt of the run, outputs included.
    pub attempts: Vec<NodeExecution>,
    /// Its review case, if it had one.
    pub review_case: Option<Case>,
    /// The case's notes, oldest first.
    pub case_notes: Vec<Note>,
    /// Its webhooks.
    pub webhook_deliveries: Vec<ExportedDelivery>,
    /// When.
    pub exported_at: DateTime<Utc>,
}

/// Everything held about one person.
#[derive(Debug, Clone)]
pub struct IdentityExport {
    /// The identity.
    pub identity: Identity,
    /// The exports of its sessions, newest first.
    pub sessions: Vec<SessionExport>,
    /// Identities merged into this one (their sessions are among `sessions`).
    pub merged_from: Vec<String>,
    /// When.
    pub exported_at: DateTime<Utc>,
}

/// Most sessions one identity export includes (newest first).
pub const MAX_EXPORTED_SESSIONS: usize = 500;

/// Identities read per page while collecting the identities merged into one.
const PAGE: u64 = 100;

/// Most merged identities scanned for an identity's merge links.
const MAX_MERGED_SCAN: u64 = 10_000;

/// The export use cases.
pub struct ExportService {
    sessions: Arc<SessionService>,
    identities: Arc<dyn IdentityStore>,
    cases: Arc<CaseService>,
    deliveries: Arc<dyn DeliveryStore>,
    endpoints: Arc<dyn EndpointStore>,
    audit: Arc<dyn AuditLog>,
    clock: Arc<dyn Clock>,
}

impl ExportService {
    /// Builds the service over the session and case use cases.
    pub fn new(
        ports: &crate::Ports,
        sessions: Arc<SessionService>,
        cases: Arc<CaseService>,
    ) -> Self {
        Self {
            sessions,
            identities: ports.identities.clone(),
            cases,
            deliveries: ports.webhook_deliveries.clone(),
            endpoints: ports.webhook_endpoints.clone(),
            audit: ports.audit.clone(),
            clock: ports.clock.clone(),
        }
    }

    /// Exports one session (`GET /sessions/{id}/export`) and audits it.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an unknown or another environment's session.
    pub async fn session(&self, caller: &Caller, id: &str) -> Result<SessionExport, AppError> {
        let export = self.gather(caller, id).await?;
        let draft = caller.audit("api.session.export", "session", id, export.exported_at);
        self.audit.append(&[draft]).await?;
        Ok(export)
    }

    /// Exports one person (`GET /identities/{id}/export`, by id or external reference) with
    /// their sessions, and audits it once.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an unknown identity.
    pub async fn identity(&self, caller: &Caller, key: &str) -> Result<IdentityExport, AppError> {
        let tenant = caller.tenant();
        let identity = resolve_identity(self.identities.as_ref(), &tenant, key).await?;
        let ids = session_ids_of(
            self.identities.as_ref(),
            &tenant,
            &identity.id,
            MAX_EXPORTED_SESSIONS,
        )
        .await?;
        let mut sessions = Vec::with_capacity(ids.len());
        for id in &ids {
            sessions.push(self.gather(caller, id).await?);
        }
        let merged_from = self.merged_into(&tenant, &identity.id).await?;
        let exported_at = self.clock.now();
        let draft = caller.audit("api.identity.export", "identity", &identity.id, exported_at);
        self.audit.append(&[draft]).await?;
        Ok(IdentityExport {
            identity,
            sessions,
            merged_from,
            exported_at,
        })
    }

    /// The identities merged into `identity_id`.
    async fn merged_into(
        &self,
        tenant: &Tenant,
        identity_id: &str,
    ) -> Result<Vec<String>, AppError> {
        let filter = IdentityFilter {
            status: Some(IdentityStatus::Merged),
            include_archived: true,
            ..IdentityFilter::default()
        };
        let mut found = Vec::new();
        let mut offset = 0;
        while offset < MAX_MERGED_SCAN {
            let page = self
                .identities
                .list(
                    tenant,
                    &filter,
                    PageRequest {
                        limit: PAGE,
                        offset,
                    },
                )
                .await?;
            let got = u64::try_from(page.items.len()).unwrap_or(u64::MAX);
            found.extend(
                page.items
                    .into_iter()
                    .filter(|i| i.merged_into_id.as_deref() == Some(identity_id))
                    .map(|i| i.id),
            );
            offset += got;
            if got < PAGE || offset >= page.total {
                break;
            }
        }
        Ok(found)
    }

    /// Everything about one session, unaudited (identity exports audit once for all).
    pub(crate) async fn gather(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<SessionExport, AppError> {
        let session = self.sessions.get(caller, id).await?;
        let exported_at = self.clock.now();
        let result = self.sessions.result_for_export(caller, &session).await?;
        let documents = self.documents(caller, &session, exported_at).await?;
        let run = match self.sessions.run(caller, id).await {
            Ok(run) => Some(run),
            Err(AppError::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
        let attempts = match &run {
            Some(_) => self.sessions.attempts(caller, id, None).await?,
            None => Vec::new(),
        };
        let (review_case, case_notes) = match &session.case_id {
            Some(case_id) => match self.cases.get(caller, case_id).await {
                Ok(case) => {
                    let mut notes = self.cases.notes(caller, case_id).await?;
                    notes.sort_by_key(|n| n.record.created_at);
                    (Some(case), notes)
                }
                Err(AppError::NotFound(_)) => (None, Vec::new()),
                Err(e) => return Err(e),
            },
            None => (None, Vec::new()),
        };
        let webhook_deliveries = self.deliveries(&session).await?;
        Ok(SessionExport {
            fields: self.sessions.fields_of(&session),
            session,
            result,
            documents,
            run,
            attempts,
            review_case,
            case_notes,
            webhook_deliveries,
            exported_at,
        })
    }

    async fn documents(
        &self,
        caller: &Caller,
        session: &Session,
        now: DateTime<Utc>,
    ) -> Result<Vec<ExportedDocument>, AppError> {
        let stored = self.sessions.stored_documents(caller, &session.id).await?;
        let expires = now.timestamp() + i64::from(EXPORT_LINK_SECONDS);
        Ok(stored
            .into_iter()
            .map(|document| ExportedDocument {
                download_url: session.serves_documents().then(|| {
                    self.sessions
                        .download_url(&session.id, document.document_type, expires)
                }),
                document,
            })
            .collect())
    }

    async fn deliveries(&self, session: &Session) -> Result<Vec<ExportedDelivery>, AppError> {
        let found = self
            .deliveries
            .deliveries_for_session(&session.tenant, &session.id, MAX_DELIVERIES)
            .await?;
        let mut ids: Vec<String> = found.iter().map(|d| d.endpoint_id.clone()).collect();
        ids.sort_unstable();
        ids.dedup();
        let urls: HashMap<String, String> = self
            .endpoints
            .endpoints_by_ids(&ids)
            .await?
            .into_iter()
            .filter(|e| e.tenant == session.tenant)
            .map(|e| (e.id, e.url))
            .collect();
        Ok(found
            .into_iter()
            .map(|d| ExportedDelivery {
                url: urls.get(&d.endpoint_id).cloned(),
                event: d.event_type,
                status: d.status.as_str().to_owned(),
                attempts: d.attempts,
            })
            .collect())
    }
}
