//! Session use cases (CONTRACT §3). Every state change asks the domain's
//! [`transition`](verifa_domain::session::transition) and is committed as one
//! [`SessionChange`] with its events (the webhook outbox) and, when it starts or feeds one, the
//! workflow run.
//!
//! - [`lifecycle`]: create, list, read, update, submit, expire.
//! - [`simulate`]: sandbox decisions, simulated as the session's workflow would reach them.
//! - [`documents`]: uploads (sniffed, encrypted) and their metadata.
//! - [`document_links`]: signed, expiring download links and downloads by link.
//! - [`links`]: capture links: resume and one-time links.
//! - [`runs`]: starting runs, gate decisions, resuming runs, reading a session's run.
//! - [`results`]: the decision and the event log.
//! - [`sealing`]: which key seals a session's data (its own data key, CONTRACT §11.2).
//! - [`redaction`]: crypto-shredding sessions and deleting their blobs.
//! - [`erasure`]: redacting an identity with all its sessions.
//! - [`retention`]: the retention sweeper.

mod document_links;
mod documents;
mod erasure;
mod lifecycle;
mod links;
mod redaction;
mod results;
mod retention;
mod runs;
mod sealing;
mod simulate;

pub use document_links::{DocumentDownload, LinkQuery, SignedDocument};
pub use documents::MAX_DOCUMENT_TEXT;
pub use erasure::IdentityRedaction;
pub use lifecycle::{MAX_CHECK_NAME_LEN, MAX_CHECKS, MAX_REDIRECT_URL_LEN, NewSession};
pub use links::MAX_LINK_MINUTES;
pub use redaction::{MAX_BULK_REDACT, Redaction, RedactionStatus};
pub use results::ResultView;
pub use retention::{RETENTION_BATCH, RetentionSweep};
pub(crate) use sealing::{
    document_text_context, open_extracted, open_fields, seal_extracted, session_cipher,
};

use crate::actor::By;
use crate::crypto::{Cipher, LookupKey};
use crate::error::AppError;
use crate::ids::new_id;
use crate::ports::Ports;
use crate::workflows::Simulator;
use chrono::Duration;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use verifa_domain::session::{Action, IllegalTransition, Session, Transition};
use verifa_domain::tenancy::Tenant;
use verifa_ports::clock::Clock;
use verifa_ports::runs::RunStore;
use verifa_ports::sessions::{
    SessionChange, SessionDocuments, SessionEventLog, SessionRedaction, SessionStore,
};
use verifa_ports::storage::DocumentStorage;
use verifa_ports::workflows::WorkflowStore;

/// Settings of the session use cases.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// Base URL of this server (capture links).
    pub public_url: String,
    /// Capture token lifetime (default 20 minutes).
    pub capture_ttl: Duration,
    /// Signs document download links.
    pub url_signer: crate::crypto::UrlSigner,
}

/// A session with the capture link when one was just issued.
#[derive(Debug, Clone)]
pub struct SessionView {
    /// The session.
    pub session: Session,
    /// `capture_url` (only while pending/capturing and a token exists).
    pub capture_url: Option<String>,
    /// QR code of the capture URL (create / resume / link only).
    pub qr_code_data_url: Option<String>,
}

/// The session use cases.
pub struct SessionService {
    sessions: Arc<dyn SessionStore>,
    documents: Arc<dyn SessionDocuments>,
    events: Arc<dyn SessionEventLog>,
    redaction: Arc<dyn SessionRedaction>,
    /// Identities (erasing a person redacts theirs).
    identities: Arc<dyn verifa_ports::identities::IdentityStore>,
    runs: Arc<dyn RunStore>,
    workflows: Arc<dyn WorkflowStore>,
    storage: Arc<dyn DocumentStorage>,
    /// The organizations' settings (how review cases open).
    org_settings: Arc<dyn verifa_ports::settings::SettingsStore>,
    cipher: Cipher,
    /// Keys identity-search lookup hashes of the results it writes.
    pub(crate) lookup_key: LookupKey,
    clock: Arc<dyn Clock>,
    settings: SessionSettings,
    /// The sandbox's check results, for simulated sessions.
    sandbox: Simulator,
}

impl SessionService {
    /// Builds the service over the ports it needs.
    pub fn new(
        ports: &Ports,
        cipher: Cipher,
        lookup_key: LookupKey,
        settings: SessionSettings,
        sandbox: Simulator,
    ) -> Self {
        Self {
            sessions: ports.sessions.clone(),
            documents: ports.session_documents.clone(),
            events: ports.session_events.clone(),
            redaction: ports.session_redaction.clone(),
            identities: ports.identities.clone(),
            runs: ports.runs.clone(),
            workflows: ports.workflows.clone(),
            storage: ports.documents.clone(),
            org_settings: ports.settings.clone(),
            cipher,
            lookup_key,
            clock: ports.clock.clone(),
            settings,
            sandbox,
        }
    }

    /// Reads a session of a tenant.
    pub async fn session(&self, tenant: &Tenant, id: &str) -> Result<Session, AppError> {
        self.sessions
            .get(tenant, id)
            .await
            .map_err(AppError::from_repo("session"))
    }

    /// Decrypted pre-fill fields of a session (for checks).
    pub fn fields_of(&self, session: &Session) -> Map<String, Value> {
        open_fields(&self.cipher, session)
    }

    fn capture_url(&self, token: &str) -> String {
        format!(
            "{}/verify/{token}",
            self.settings.public_url.trim_end_matches('/')
        )
    }

    /// The session as the API shows it, with the capture link of `token` while capturing.
    fn view(&self, session: Session, token: Option<&str>) -> SessionView {
        let capture_url = token
            .filter(|_| session.status.is_capturing())
            .map(|t| self.capture_url(t));
        let qr_code_data_url = capture_url
            .as_deref()
            .and_then(|u| crate::qr::png_data_url(u).ok());
        SessionView {
            session,
            capture_url,
            qr_code_data_url,
        }
    }
}

/// Applies the change `$plan` makes of the session's current state (`$plan` is an expression of
/// `$current` evaluating to `Result<SessionChange, AppError>`, usually `async { … }.await`),
/// fenced on the revision it read. When another change won the race the session is read again
/// and `$plan` runs again, so concurrent changes never overwrite each other, and one the fresh
/// state refuses is refused. Evaluates to the session as written.
macro_rules! mutate {
    ($service:expr, $tenant:expr, $id:expr, |$current:ident| $plan:expr) => {
        $crate::retry::retrying!(
            "the session",
            async {
                let $current = $service.session($tenant, $id).await?;
                let change = $crate::sessions::planned($plan)?;
                let outcome = $service.sessions.apply(&change).await;
                $crate::retry::written(outcome, change.session)
            }
            .await
        )
    };
}
pub(crate) use mutate;

/// Names the type of a plan's outcome for [`mutate!`] (an async block cannot say it).
pub(crate) fn planned(plan: Result<SessionChange, AppError>) -> Result<SessionChange, AppError> {
    plan
}

/// The change a transition describes, its events named with fresh `evt_…` ids.
pub(crate) fn change(t: Transition) -> SessionChange {
    SessionChange::from_transition(t, || new_id("evt"))
}

/// The change a transition describes, recording in the audit trail that `by` took `action`.
pub(crate) fn change_by(t: Transition, action: &Action, by: By<'_>) -> SessionChange {
    let tenant = t.session.tenant.clone();
    let id = t.session.id.clone();
    let at = t.session.updated_at;
    let planned = change(t);
    match action.audit_entry() {
        Some((name, fields)) => planned.with_audit(
            by.audit(tenant, name, "session", &id, at)
                .with_changes(fields),
        ),
        None => planned,
    }
}

fn illegal(e: IllegalTransition) -> AppError {
    AppError::InvalidState(e.to_string())
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
