//! A session's life outside its run: create, list, read, update, submit, expire.

use super::mutate;
use super::sealing::fields_context;
use super::{SessionService, SessionView, change_by, illegal};
use crate::actor::By;
use crate::api_keys::Caller;
use crate::error::{AppError, FieldError};
use crate::ids::{new_id, prefix};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use verifa_domain::documents::{self, DocumentType};
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::session::{
    self, Action, ExpireReason, RetentionStatus, Session, SessionEvent, SessionStatus,
};
use verifa_domain::workflow::Node;
use verifa_ports::RepoError;
use verifa_ports::sessions::{NewEvent, SessionFilter};

/// Input of `POST /sessions` (already normalised from aliases).
#[derive(Debug, Clone, Default)]
pub struct NewSession {
    /// Caller's reference.
    pub external_ref: Option<String>,
    /// Metadata.
    pub metadata: Option<Map<String, Value>>,
    /// ISO alpha-2 country.
    pub country: Option<String>,
    /// Per-session check overrides.
    pub checks: Option<Vec<String>>,
    /// Workflow (default workflow otherwise).
    pub workflow_id: Option<String>,
    /// Redirect after capture.
    pub redirect_url: Option<String>,
    /// Pre-fill fields.
    pub fields: Option<Map<String, Value>>,
}

/// Most per-session check overrides.
pub const MAX_CHECKS: usize = 50;
/// Longest policy name in the check overrides.
pub const MAX_CHECK_NAME_LEN: usize = 64;
/// Longest redirect URL.
pub const MAX_REDIRECT_URL_LEN: usize = 2048;

fn external_ref_error() -> FieldError {
    FieldError::new(
        "external_ref",
        format!("must be 1 to {} characters", session::MAX_EXTERNAL_REF_LEN),
    )
}

impl SessionService {
    /// Creates a session.
    pub async fn create(
        &self,
        caller: &Caller,
        input: NewSession,
    ) -> Result<SessionView, AppError> {
        let tenant = caller.tenant();
        let mut errors = Vec::new();
        if input
            .external_ref
            .as_deref()
            .is_some_and(|r| !session::valid_external_ref(r))
        {
            errors.push(external_ref_error());
        }
        let metadata = input.metadata.unwrap_or_default();
        for (field, message) in session::check_metadata(&metadata) {
            errors.push(FieldError::new(field, message));
        }
        let country = match input.country {
            None => None,
            Some(c) if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) => {
                Some(c.to_ascii_uppercase())
            }
            Some(_) => {
                errors.push(FieldError::new(
                    "country",
                    "must be an ISO 3166-1 alpha-2 code such as 'US'",
                ));
                None
            }
        };
        if let Some(url) = &input.redirect_url
            && (!(url.starts_with("https://") || url.starts_with("http://"))
                || url.chars().count() > MAX_REDIRECT_URL_LEN)
        {
            errors.push(FieldError::new(
                "redirect_url",
                "must be an http(s) URL of at most 2048 characters",
            ));
        }
        if let Some(checks) = &input.checks
            && (checks.len() > MAX_CHECKS
                || checks
                    .iter()
                    .any(|c| c.is_empty() || c.chars().count() > MAX_CHECK_NAME_LEN))
        {
            errors.push(FieldError::new("checks", "must be at most 50 policy names"));
        }
        let workflow_id = match &input.workflow_id {
            Some(id) => match self.workflows.get(&tenant, id).await {
                Ok(w) if w.is_active => Some(w.id),
                Ok(_) => {
                    errors.push(FieldError::new(
                        "workflow_id",
                        format!("workflow {id} is deactivated and accepts no new sessions"),
                    ));
                    None
                }
                Err(RepoError::NotFound) => {
                    errors.push(FieldError::new(
                        "workflow_id",
                        format!("workflow {id} does not exist"),
                    ));
                    None
                }
                Err(e) => return Err(e.into()),
            },
            None => self.workflows.get_default(&tenant).await?.map(|w| w.id),
        };
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let now = self.clock.now();
        let id = new_id(prefix::SESSION);
        let (token, capture_token) = self.new_capture_token(now, self.settings.capture_ttl);
        // The session's own data key seals everything personal it will hold (CONTRACT §11.2).
        let (data_cipher, data_key) = self.cipher.new_data_key(&id);
        let fields_sealed = input
            .fields
            .filter(|f| !f.is_empty())
            .map(|f| data_cipher.seal_text(&Value::Object(f).to_string(), &fields_context(&id)));
        let session = Session {
            id,
            tenant,
            status: SessionStatus::Pending,
            workflow_id,
            external_ref: input.external_ref,
            identity_id: None,
            case_id: None,
            case_status: None,
            metadata,
            country,
            checks: input.checks,
            fields_sealed,
            data_key: Some(data_key),
            redirect_url: input.redirect_url,
            capture_token_hash: Some(capture_token.hash),
            token_expires_at: Some(capture_token.expires_at),
            document_type: None,
            retention_status: RetentionStatus::Active,
            processing_attempts: 0,
            consent_ip: None,
            tags: Vec::new(),
            expired_at: None,
            completed_at: None,
            redacted_at: None,
            retention_expired_at: None,
            created_at: now,
            updated_at: now,
            revision: 0,
        };
        let created = NewEvent {
            id: new_id("evt"),
            event: SessionEvent::Created,
        };
        let mut audit = caller
            .audit("session.created", "session", &session.id, now)
            .with_changes(created_fields(&session));
        if let Some(workflow_id) = &session.workflow_id {
            audit = audit.with_metadata("workflow_id", workflow_id.as_str());
        }
        self.sessions.insert(&session, &[created], &[audit]).await?;
        Ok(self.view(session, Some(&token)))
    }

    /// Lists sessions.
    pub async fn list(
        &self,
        caller: &Caller,
        filter: SessionFilter,
        page: PageRequest,
    ) -> Result<Page<Session>, AppError> {
        Ok(self.sessions.list(&caller.tenant(), &filter, page).await?)
    }

    /// Gets a session.
    pub async fn get(&self, caller: &Caller, id: &str) -> Result<Session, AppError> {
        self.session(&caller.tenant(), id).await
    }

    /// Updates `external_ref` and merges `metadata` (null deletes a key), on the session as it is
    /// when written: concurrent updates all land.
    pub async fn update(
        &self,
        caller: &Caller,
        id: &str,
        external_ref: Option<Option<String>>,
        metadata: Option<Map<String, Value>>,
    ) -> Result<Session, AppError> {
        if external_ref
            .as_ref()
            .and_then(Option::as_deref)
            .is_some_and(|r| !session::valid_external_ref(r))
        {
            return Err(AppError::Validation(vec![external_ref_error()]));
        }
        // The patch itself keeps the limits too (as the API document says), not only the
        // merged result: 60 keys of which 20 delete are still 60 keys sent.
        if let Some(patch) = &metadata {
            let problems = session::check_metadata(patch);
            if !problems.is_empty() {
                return Err(crate::error::field_problems(problems));
            }
        }
        let now = self.clock.now();
        mutate!(self, &caller.tenant(), id, |current| async {
            if current.is_redacted() {
                return Err(AppError::InvalidState(format!(
                    "session {id} is redacted and cannot be updated"
                )));
            }
            let action = Action::Update {
                external_ref: external_ref.clone(),
                metadata: metadata.clone(),
            };
            let t = session::transition(&current, action.clone(), now).map_err(illegal)?;
            let problems = session::check_metadata(&t.session.metadata);
            if !problems.is_empty() {
                return Err(crate::error::field_problems(problems));
            }
            Ok(change_by(t, &action, By::Caller(caller)))
        }
        .await)
    }

    /// Submits a session: live → processing (the run starts in the same transaction); sandbox →
    /// `sandbox_pending`. Missing documents → 422 listing them.
    pub async fn submit(&self, caller: &Caller, id: &str) -> Result<Session, AppError> {
        mutate!(self, &caller.tenant(), id, |current| async {
            // Refused before the documents are read.
            session::check(&current, &Action::SubmitToSandbox).map_err(illegal)?;
            self.missing_documents(&current).await?;
            let now = self.clock.now();
            if current.tenant.environment.is_sandbox() {
                let t =
                    session::transition(&current, Action::SubmitToSandbox, now).map_err(illegal)?;
                Ok(change_by(t, &Action::SubmitToSandbox, By::Caller(caller)))
            } else {
                self.start_run_change(&current, None, now, By::Caller(caller))
                    .await
            }
        }
        .await)
    }

    /// 422 listing the documents a session still needs before it can be submitted.
    async fn missing_documents(&self, current: &Session) -> Result<(), AppError> {
        let docs = self
            .documents
            .documents(&current.tenant, &current.id)
            .await?;
        let present: Vec<DocumentType> = docs.iter().map(|d| d.document_type).collect();
        let has_face_match = match &current.workflow_id {
            Some(w) => self
                .pinned_version(&current.tenant, w, &current.id)
                .await
                .map(|p| {
                    p.graph
                        .nodes
                        .values()
                        .any(|n| matches!(n, Node::Policy(p) if p.policy == "face_match"))
                })
                .unwrap_or(false),
            None => false,
        };
        let missing = documents::missing_documents(
            &documents::required_documents(current.declared_document_type(), has_face_match),
            &present,
        );
        if missing.is_empty() {
            return Ok(());
        }
        Err(AppError::Validation(
            missing
                .iter()
                .map(|d| {
                    FieldError::new(
                        format!("documents.{}", d.as_str()),
                        "is required before submitting",
                    )
                })
                .collect(),
        ))
    }

    /// Expires an active session.
    pub async fn expire(&self, caller: &Caller, id: &str) -> Result<Session, AppError> {
        let now = self.clock.now();
        mutate!(self, &caller.tenant(), id, |current| async {
            let action = Action::Expire {
                reason: ExpireReason::Requested,
            };
            let t = session::transition(&current, action.clone(), now).map_err(illegal)?;
            Ok(change_by(t, &action, By::Caller(caller)))
        }
        .await)
    }

    /// Expires sessions whose capture token lapsed while they were still pending or capturing
    /// (a background job); returns how many. Sessions changed concurrently are skipped.
    pub async fn expire_stale(&self, now: DateTime<Utc>) -> Result<usize, AppError> {
        let mut expired = 0;
        for current in self.sessions.stale_capture_sessions(now, 500).await? {
            let action = Action::Expire {
                reason: ExpireReason::CaptureTokenExpired,
            };
            let Ok(t) = session::transition(&current, action.clone(), now) else {
                continue;
            };
            let planned = change_by(t, &action, By::System);
            match self.sessions.apply(&planned).await {
                Ok(()) => expired += 1,
                Err(RepoError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(expired)
    }
}

/// The fields a new session was created with (names only), for its `session.created` event.
fn created_fields(session: &Session) -> Vec<&'static str> {
    let mut fields = vec!["status"];
    for (name, set) in [
        ("workflow_id", session.workflow_id.is_some()),
        ("external_ref", session.external_ref.is_some()),
        ("metadata", !session.metadata.is_empty()),
        ("redirect_url", session.redirect_url.is_some()),
    ] {
        if set {
            fields.push(name);
        }
    }
    fields
}
