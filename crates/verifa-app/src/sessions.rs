//! Session use cases (CONTRACT §3): create, list, read, update, documents, submit, expire,
//! resume, simulate, re-run, results, one-time links, gate decisions and the event log. Every
//! state change goes through [`verifa_domain::session::check`] and is committed together with
//! its events (the webhook outbox) and, when it starts one, the workflow run.

use crate::api_keys::Caller;
use crate::crypto::Cipher;
use crate::error::{AppError, FieldError};
use crate::ids::{new_id, prefix};
use crate::runs::{PendingWork, new_run};
use crate::secrets::random_base62;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use verifa_domain::documents::{self, DocumentType};
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::session::{self, SessionAction, SessionStatus, SimulateAction};
use verifa_domain::tenancy::Tenant;
use verifa_domain::workflow::{Decision, Event, Graph, Node, RunState};
use verifa_ports::RepoError;
use verifa_ports::clock::Clock;
use verifa_ports::sessions::{
    DocumentRecord, EventRecord, NewEvent, NodeExecutionRecord, ResultRecord, RunRecord, RunWrite,
    SessionChange, SessionFilter, SessionRecord, SessionRepository,
};
use verifa_ports::storage::DocumentStorage;
use verifa_ports::workflows::WorkflowRepository;

/// Settings of the session use cases.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// Base URL of this server (capture links).
    pub public_url: String,
    /// Capture token lifetime (default 20 minutes).
    pub capture_ttl: Duration,
}

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

/// A session with the capture link when one was just issued.
#[derive(Debug, Clone)]
pub struct SessionView {
    /// The row.
    pub session: SessionRecord,
    /// `capture_url` (only while pending/capturing and a token exists).
    pub capture_url: Option<String>,
    /// QR code of the capture URL (create / resume / link only).
    pub qr_code_data_url: Option<String>,
}

/// A result as the API shows it.
#[derive(Debug, Clone)]
pub struct ResultView {
    /// The stored result.
    pub record: ResultRecord,
    /// Decrypted extracted data.
    pub extracted_data: Map<String, Value>,
    /// The session.
    pub session: SessionRecord,
}

/// The session use cases.
pub struct SessionService {
    repo: Arc<dyn SessionRepository>,
    workflows: Arc<dyn WorkflowRepository>,
    storage: Arc<dyn DocumentStorage>,
    cipher: Cipher,
    clock: Arc<dyn Clock>,
    settings: SessionSettings,
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Event fields shared by every session event (never PII).
pub fn event_data(s: &SessionRecord, extra: Value) -> Value {
    let mut data = json!({
        "session_id": s.id,
        "external_ref": s.external_ref,
        "status": s.status.as_str(),
        "is_sandbox": s.tenant.environment.is_sandbox(),
        "workflow_id": s.workflow_id,
    });
    if let (Some(map), Value::Object(extra)) = (data.as_object_mut(), extra) {
        map.extend(extra);
    }
    data
}

/// A new event.
pub fn event(event_type: &str, s: &SessionRecord, extra: Value) -> NewEvent {
    NewEvent {
        id: new_id("evt"),
        event_type: event_type.to_owned(),
        data: event_data(s, extra),
    }
}

fn illegal(e: session::IllegalTransition) -> AppError {
    AppError::InvalidState(e.to_string())
}

fn map_conflict(e: RepoError) -> AppError {
    match e {
        RepoError::Conflict(_) => {
            AppError::InvalidState("the session changed concurrently; reload it and retry".into())
        }
        other => AppError::from_repo("session")(other),
    }
}

impl SessionService {
    /// Builds the service.
    pub fn new(
        repo: Arc<dyn SessionRepository>,
        workflows: Arc<dyn WorkflowRepository>,
        storage: Arc<dyn DocumentStorage>,
        cipher: Cipher,
        clock: Arc<dyn Clock>,
        settings: SessionSettings,
    ) -> Self {
        Self {
            repo,
            workflows,
            storage,
            cipher,
            clock,
            settings,
        }
    }

    fn capture_url(&self, token: &str) -> String {
        format!(
            "{}/verify/{token}",
            self.settings.public_url.trim_end_matches('/')
        )
    }

    fn view(&self, session: SessionRecord, token: Option<&str>) -> SessionView {
        let capture_url = token
            .filter(|_| {
                matches!(
                    session.status,
                    SessionStatus::Pending | SessionStatus::Capturing
                )
            })
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

    /// Reads a session.
    pub async fn session(&self, tenant: &Tenant, id: &str) -> Result<SessionRecord, AppError> {
        self.repo
            .get(tenant, id)
            .await
            .map_err(AppError::from_repo("session"))
    }

    /// Creates a session.
    pub async fn create(
        &self,
        caller: &Caller,
        input: NewSession,
    ) -> Result<SessionView, AppError> {
        let tenant = caller.tenant();
        let mut errors = Vec::new();
        if let Some(r) = &input.external_ref
            && (r.trim().is_empty() || r.chars().count() > session::MAX_EXTERNAL_REF_LEN)
        {
            errors.push(FieldError::new(
                "external_ref",
                format!("must be 1 to {} characters", session::MAX_EXTERNAL_REF_LEN),
            ));
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
            && (!(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 2048)
        {
            errors.push(FieldError::new(
                "redirect_url",
                "must be an http(s) URL of at most 2048 characters",
            ));
        }
        if let Some(checks) = &input.checks
            && (checks.len() > 50 || checks.iter().any(|c| c.is_empty() || c.len() > 64))
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
        let token = format!("tok_{}", random_base62(32));
        let fields_encrypted = input.fields.filter(|f| !f.is_empty()).map(|f| {
            self.cipher.seal_text(
                &Value::Object(f).to_string(),
                &format!("session-fields:{id}"),
            )
        });
        let record = SessionRecord {
            id,
            tenant,
            status: SessionStatus::Pending,
            workflow_id,
            external_ref: input.external_ref,
            metadata,
            country,
            checks: input.checks,
            fields_encrypted,
            redirect_url: input.redirect_url,
            capture_token_hash: Some(token_hash(&token)),
            token_expires_at: Some(now + self.settings.capture_ttl),
            document_type: None,
            retention_status: "active".into(),
            processing_attempts: 0,
            consent_ip: None,
            tags: Vec::new(),
            expired_at: None,
            completed_at: None,
            created_at: now,
            updated_at: now,
        };
        self.repo
            .insert(&record, &[event("session.created", &record, json!({}))])
            .await?;
        Ok(self.view(record, Some(&token)))
    }

    /// Lists sessions.
    pub async fn list(
        &self,
        caller: &Caller,
        filter: SessionFilter,
        page: PageRequest,
    ) -> Result<Page<SessionRecord>, AppError> {
        Ok(self.repo.list(&caller.tenant(), &filter, page).await?)
    }

    /// Gets a session.
    pub async fn get(&self, caller: &Caller, id: &str) -> Result<SessionRecord, AppError> {
        self.session(&caller.tenant(), id).await
    }

    /// Updates `external_ref` and merges `metadata` (null deletes a key).
    pub async fn update(
        &self,
        caller: &Caller,
        id: &str,
        external_ref: Option<Option<String>>,
        metadata: Option<Map<String, Value>>,
    ) -> Result<SessionRecord, AppError> {
        let current = self.get(caller, id).await?;
        if current.retention_status == "redacted" {
            return Err(AppError::InvalidState(format!(
                "session {id} is redacted and cannot be updated"
            )));
        }
        let mut next = current.clone();
        let mut errors = Vec::new();
        if let Some(r) = external_ref {
            if r.as_ref().is_some_and(|r| {
                r.trim().is_empty() || r.chars().count() > session::MAX_EXTERNAL_REF_LEN
            }) {
                errors.push(FieldError::new(
                    "external_ref",
                    format!("must be 1 to {} characters", session::MAX_EXTERNAL_REF_LEN),
                ));
            }
            next.external_ref = r;
        }
        if let Some(patch) = metadata {
            for (k, v) in patch {
                if v.is_null() {
                    next.metadata.remove(&k);
                } else {
                    next.metadata.insert(k, v);
                }
            }
            for (field, message) in session::check_metadata(&next.metadata) {
                errors.push(FieldError::new(field, message));
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        next.updated_at = self.clock.now();
        let change = SessionChange {
            expected_status: current.status,
            session: next.clone(),
            events: vec![],
            result: None,
            clear_result: false,
            run: None,
        };
        self.repo.apply(&change).await.map_err(map_conflict)?;
        Ok(next)
    }

    /// Uploads a document (magic-byte sniffed, encrypted at rest); replaces the same type.
    pub async fn upload_document(
        &self,
        caller: &Caller,
        id: &str,
        document_type: &str,
        bytes: Vec<u8>,
        text: Option<String>,
    ) -> Result<DocumentRecord, AppError> {
        let current = self.get(caller, id).await?;
        let mut errors = Vec::new();
        let doc_type = DocumentType::parse(document_type);
        if doc_type.is_none() {
            errors.push(FieldError::new(
                "document_type",
                "must be one of id_front, id_back, selfie, proof_of_address",
            ));
        }
        if bytes.is_empty() {
            errors.push(FieldError::new("file", "is empty"));
        }
        let sniffed = documents::sniff(&bytes);
        if sniffed.is_none() && !bytes.is_empty() {
            errors.push(FieldError::new(
                "file",
                "must be a JPEG, PNG, WebP or PDF file (detected from its content)",
            ));
        }
        if text.as_ref().is_some_and(|t| t.len() > 4096) {
            errors.push(FieldError::new("text", "must be at most 4096 characters"));
        }
        if bytes.len() > documents::MAX_DOCUMENT_BYTES {
            return Err(AppError::TooLarge(
                "Documents must be at most 10 MiB.".into(),
            ));
        }
        let (Some(doc_type), Some(sniffed)) = (doc_type, sniffed) else {
            return Err(AppError::Validation(errors));
        };
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        session::check(current.status, SessionAction::UploadDocument).map_err(illegal)?;
        let now = self.clock.now();
        let doc_id = new_id("doc");
        let key = format!(
            "{}/{}/{}/{}",
            current.tenant.org_id,
            current.tenant.environment.as_str(),
            current.id,
            doc_id
        );
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        let sealed = self.cipher.seal(&bytes, doc_id.as_bytes());
        self.storage
            .put(&key, sealed)
            .await
            .map_err(|e| AppError::Unavailable(format!("document storage: {e}")))?;
        let document = DocumentRecord {
            id: doc_id.clone(),
            session_id: current.id.clone(),
            tenant: current.tenant.clone(),
            document_type: doc_type.as_str().to_owned(),
            mime_type: sniffed.mime_type().to_owned(),
            file_size_bytes: size,
            storage_key: key.clone(),
            sha256,
            text_encrypted: text.filter(|t| !t.trim().is_empty()).map(|t| {
                self.cipher
                    .seal_text(&t, &format!("document-text:{doc_id}"))
            }),
            created_at: now,
        };
        let mut next = current.clone();
        next.status = SessionStatus::Capturing;
        next.updated_at = now;
        let events = if current.status == SessionStatus::Pending {
            vec![event("session.started", &next, json!({}))]
        } else {
            vec![]
        };
        let change = SessionChange {
            expected_status: current.status,
            session: next,
            events,
            result: None,
            clear_result: false,
            run: None,
        };
        match self.repo.put_document(&document, &change).await {
            Ok(Some(replaced)) => {
                if let Err(e) = self.storage.delete(&replaced.storage_key).await {
                    tracing::warn!(error = %e, document_id = %replaced.id, "could not delete a replaced document");
                }
            }
            Ok(None) => {}
            Err(e) => {
                let _ = self.storage.delete(&key).await;
                return Err(map_conflict(e));
            }
        }
        Ok(document)
    }

    /// Document metadata of a session.
    pub async fn documents(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<Vec<DocumentRecord>, AppError> {
        self.get(caller, id).await?;
        Ok(self.repo.documents(&caller.tenant(), id).await?)
    }

    async fn workflow_graph(
        &self,
        tenant: &Tenant,
        workflow_id: &str,
        session_id: &str,
    ) -> Result<(i32, Graph, String), AppError> {
        let w = self
            .workflows
            .get(tenant, workflow_id)
            .await
            .map_err(AppError::from_repo("workflow"))?;
        let version = verifa_domain::workflow::assign(&w.rollout, session_id).unwrap_or(w.version);
        let v = self
            .workflows
            .version(tenant, workflow_id, version)
            .await
            .map_err(AppError::from_repo("workflow version"))?;
        let graph: Graph = serde_json::from_str(&v.graph_json)
            .map_err(|e| AppError::Internal(format!("stored graph: {e}")))?;
        Ok((version, graph, v.graph_json))
    }

    async fn start_run_change(
        &self,
        current: &SessionRecord,
        now: DateTime<Utc>,
        events: Vec<NewEvent>,
    ) -> Result<SessionChange, AppError> {
        let Some(workflow_id) = current.workflow_id.clone().or(self
            .workflows
            .get_default(&current.tenant)
            .await?
            .map(|w| w.id))
        else {
            return Err(AppError::invalid(
                "workflow_id",
                "the session has no workflow and the organization has no default workflow",
            ));
        };
        let (version, _graph, graph_json) = self
            .workflow_graph(&current.tenant, &workflow_id, &current.id)
            .await?;
        let run = new_run(current, &workflow_id, version, graph_json, now, false);
        let mut next = current.clone();
        next.status = SessionStatus::Processing;
        next.workflow_id = Some(workflow_id);
        next.processing_attempts += 1;
        next.completed_at = None;
        next.updated_at = now;
        Ok(SessionChange {
            expected_status: current.status,
            session: next,
            events,
            result: None,
            clear_result: true,
            run: Some(RunWrite::Start(run)),
        })
    }

    /// Submits a session: live → processing (the run starts in the same transaction); sandbox →
    /// `sandbox_pending`. Missing documents → 422 listing them.
    pub async fn submit(&self, caller: &Caller, id: &str) -> Result<SessionRecord, AppError> {
        let current = self.get(caller, id).await?;
        session::check(current.status, SessionAction::Submit).map_err(illegal)?;
        let docs = self.repo.documents(&current.tenant, id).await?;
        let present: Vec<DocumentType> = docs
            .iter()
            .filter_map(|d| DocumentType::parse(&d.document_type))
            .collect();
        let has_face_match = match &current.workflow_id {
            Some(w) => self
                .workflow_graph(&current.tenant, w, id)
                .await
                .map(|(_, g, _)| {
                    g.nodes
                        .values()
                        .any(|n| matches!(n, Node::Policy(p) if p.policy == "face_match"))
                })
                .unwrap_or(false),
            None => false,
        };
        let kind = current.document_type.clone().or_else(|| {
            current
                .metadata
                .get("document_type")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        let missing = documents::missing_documents(
            &documents::required_documents(kind.as_deref(), has_face_match),
            &present,
        );
        if !missing.is_empty() {
            return Err(AppError::Validation(
                missing
                    .iter()
                    .map(|d| {
                        FieldError::new(
                            format!("documents.{}", d.as_str()),
                            "is required before submitting",
                        )
                    })
                    .collect(),
            ));
        }
        let now = self.clock.now();
        let change = if current.tenant.environment.is_sandbox() {
            let mut next = current.clone();
            next.status = SessionStatus::SandboxPending;
            next.updated_at = now;
            SessionChange {
                expected_status: current.status,
                session: next,
                events: vec![],
                result: None,
                clear_result: false,
                run: None,
            }
        } else {
            self.start_run_change(&current, now, vec![]).await?
        };
        self.repo.apply(&change).await.map_err(map_conflict)?;
        Ok(change.session)
    }

    /// Expires an active session.
    pub async fn expire(&self, caller: &Caller, id: &str) -> Result<SessionRecord, AppError> {
        let current = self.get(caller, id).await?;
        session::check(current.status, SessionAction::Expire).map_err(illegal)?;
        let now = self.clock.now();
        let mut next = current.clone();
        next.status = SessionStatus::Expired;
        next.expired_at = Some(now);
        next.capture_token_hash = None;
        next.updated_at = now;
        let change = SessionChange {
            expected_status: current.status,
            events: vec![event("session.expired", &next, json!({}))],
            session: next,
            result: None,
            clear_result: false,
            run: None,
        };
        self.repo.apply(&change).await.map_err(map_conflict)?;
        Ok(change.session)
    }

    /// Expires sessions whose capture token lapsed while they were still pending or capturing
    /// (a background job); returns how many. Sessions changed concurrently are skipped.
    pub async fn expire_stale(&self, now: DateTime<Utc>) -> Result<usize, AppError> {
        let mut expired = 0;
        for current in self.repo.stale_capture_sessions(now, 500).await? {
            let mut next = current.clone();
            next.status = SessionStatus::Expired;
            next.expired_at = Some(now);
            next.capture_token_hash = None;
            next.updated_at = now;
            let events = vec![event(
                "session.expired",
                &next,
                json!({"reason": "capture_token_expired"}),
            )];
            let change = SessionChange {
                expected_status: current.status,
                session: next,
                events,
                result: None,
                clear_result: false,
                run: None,
            };
            match self.repo.apply(&change).await {
                Ok(()) => expired += 1,
                Err(RepoError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(expired)
    }

    /// Issues a fresh capture token; expired sessions go back to `pending`.
    pub async fn resume(&self, caller: &Caller, id: &str) -> Result<SessionView, AppError> {
        let current = self.get(caller, id).await?;
        session::check(current.status, SessionAction::Resume).map_err(illegal)?;
        self.reissue_token(current, None).await
    }

    async fn reissue_token(
        &self,
        current: SessionRecord,
        ttl: Option<Duration>,
    ) -> Result<SessionView, AppError> {
        let now = self.clock.now();
        let token = format!("tok_{}", random_base62(32));
        let mut next = current.clone();
        if next.status == SessionStatus::Expired {
            next.status = SessionStatus::Pending;
            next.expired_at = None;
        }
        next.capture_token_hash = Some(token_hash(&token));
        next.token_expires_at = Some(now + ttl.unwrap_or(self.settings.capture_ttl));
        next.updated_at = now;
        let events = if ttl.is_some() {
            vec![event("session.link_generated", &next, json!({}))]
        } else {
            vec![]
        };
        let change = SessionChange {
            expected_status: current.status,
            session: next.clone(),
            events,
            result: None,
            clear_result: false,
            run: None,
        };
        self.repo.apply(&change).await.map_err(map_conflict)?;
        Ok(SessionView {
            capture_url: Some(self.capture_url(&token)),
            qr_code_data_url: crate::qr::png_data_url(&self.capture_url(&token)).ok(),
            session: next,
        })
    }

    /// A one-time capture link (revokes the previous token).
    pub async fn generate_link(
        &self,
        caller: &Caller,
        id: &str,
        expires_in_minutes: Option<i64>,
    ) -> Result<SessionView, AppError> {
        let current = self.get(caller, id).await?;
        session::check(current.status, SessionAction::GenerateLink).map_err(illegal)?;
        let ttl = match expires_in_minutes {
            None => self.settings.capture_ttl,
            Some(m) if (1..=10_080).contains(&m) => Duration::minutes(m),
            Some(_) => {
                return Err(AppError::invalid(
                    "expires_in_minutes",
                    "must be between 1 and 10080 (7 days)",
                ));
            }
        };
        self.reissue_token(current, Some(ttl)).await
    }

    /// Sandbox outcome: writes a result (and a run marked simulated) and the events.
    pub async fn simulate(
        &self,
        caller: &Caller,
        id: &str,
        action: &str,
    ) -> Result<(SessionRecord, SimulateAction), AppError> {
        let current = self.get(caller, id).await?;
        if !current.tenant.environment.is_sandbox() {
            return Err(AppError::Forbidden {
                code: "sandbox_only",
                detail: "Simulation is only available with sandbox keys.".into(),
            });
        }
        let Some(action) = SimulateAction::parse(action) else {
            return Err(AppError::invalid(
                "action",
                "must be one of approve, decline, require-review, expire",
            ));
        };
        session::check(current.status, SessionAction::Simulate).map_err(illegal)?;
        if action == SimulateAction::Expire {
            return self.expire(caller, id).await.map(|s| (s, action));
        }
        let now = self.clock.now();
        let (outcome, status, event_type) = match action {
            SimulateAction::Approve => ("approved", SessionStatus::Completed, "session.approved"),
            SimulateAction::Decline => ("rejected", SessionStatus::Completed, "session.declined"),
            _ => (
                "needs_review",
                SessionStatus::UnderReview,
                "session.requires-review",
            ),
        };
        let workflow_id = current.workflow_id.clone().unwrap_or_default();
        let mut run = new_run(&current, &workflow_id, 0, "{}".into(), now, true);
        run.status = "completed".into();
        run.final_status = Some(outcome.into());
        run.runnable_at = None;
        run.next_event = None;
        run.started_at = Some(now);
        run.completed_at = Some(now);
        run.duration_ms = Some(0);
        let extracted = crate::runs::sandbox_extracted_data();
        let result = ResultRecord {
            session_id: current.id.clone(),
            tenant: current.tenant.clone(),
            status: outcome.into(),
            result: json!({
                "face_match_passed": outcome != "rejected", "face_match_score": 0.95, "age_check_passed": true, "extracted_age": 28,
                "processing_mode": "simulated", "country_used": current.country, "check_results": {}
            }),
            extracted_data_encrypted: Some(self.cipher.seal_text(
                &Value::Object(extracted).to_string(),
                &format!("result:{}", current.id),
            )),
            rejection_reason: (outcome == "rejected").then(|| "Simulated decline.".to_owned()),
            workflow_run_id: Some(run.id.clone()),
            simulated: true,
            created_at: now,
            updated_at: now,
        };
        let mut next = current.clone();
        next.status = status;
        next.completed_at = Some(now);
        next.updated_at = now;
        let events = vec![event(
            event_type,
            &next,
            json!({"result": {"status": outcome, "simulated": true}}),
        )];
        let change = SessionChange {
            expected_status: current.status,
            session: next.clone(),
            events,
            result: Some(result),
            clear_result: false,
            run: Some(RunWrite::Start(run)),
        };
        self.repo.apply(&change).await.map_err(map_conflict)?;
        Ok((next, action))
    }

    /// Re-runs the workflow of a completed or failed session (reprocess and trigger); the
    /// previous run is replaced. `workflow_id` (trigger) selects the workflow.
    pub async fn rerun(
        &self,
        caller: &Caller,
        id: &str,
        workflow_id: Option<&str>,
    ) -> Result<SessionRecord, AppError> {
        let mut current = self.get(caller, id).await?;
        session::check(current.status, SessionAction::Rerun).map_err(illegal)?;
        if let Some(w) = workflow_id {
            let wf = self
                .workflows
                .get(&current.tenant, w)
                .await
                .map_err(AppError::from_repo("workflow"))?;
            if !wf.is_active {
                return Err(AppError::invalid(
                    "workflow_id",
                    format!("workflow {w} is deactivated"),
                ));
            }
            current.workflow_id = Some(wf.id);
        }
        let now = self.clock.now();
        let expected = current.status;
        let mut change = self.start_run_change(&current, now, vec![]).await?;
        change.expected_status = expected;
        self.repo.apply(&change).await.map_err(map_conflict)?;
        Ok(change.session)
    }

    /// Records a gate decision; the run resumes asynchronously.
    pub async fn external_decision(
        &self,
        caller: &Caller,
        id: &str,
        decision: &str,
        metadata: Option<Value>,
    ) -> Result<SessionRecord, AppError> {
        let decision = match decision {
            "continue" => Decision::Continue,
            "fail" => Decision::Fail,
            "reject" => Decision::Reject,
            _ => {
                return Err(AppError::invalid(
                    "decision",
                    "must be one of continue, fail, reject",
                ));
            }
        };
        if metadata
            .as_ref()
            .is_some_and(|m| !m.is_object() && !m.is_null())
        {
            return Err(AppError::invalid("metadata", "must be an object"));
        }
        let current = self.get(caller, id).await?;
        session::check(current.status, SessionAction::ExternalDecision).map_err(illegal)?;
        let run = self
            .repo
            .run_for_session(&current.tenant, id)
            .await?
            .ok_or_else(|| AppError::InvalidState("the session has no workflow run".into()))?;
        if run.status != "paused" {
            return Err(AppError::InvalidState(format!(
                "the workflow run is '{}', not paused",
                run.status
            )));
        }
        let event = Event::ExternalDecision {
            decision,
            metadata: metadata
                .filter(|m| !m.is_null())
                .unwrap_or_else(|| json!({})),
        };
        self.queue_run_event(current, run, event).await
    }

    /// Resumes a paused or failed run from a node (by id, by policy or by step index).
    pub async fn resume_run(
        &self,
        caller: &Caller,
        id: &str,
        node_id: Option<String>,
        policy: Option<String>,
        step_index: Option<i64>,
    ) -> Result<(SessionRecord, String), AppError> {
        let current = self.get(caller, id).await?;
        let run = self
            .repo
            .run_for_session(&current.tenant, id)
            .await?
            .ok_or(AppError::NotFound("workflow run"))?;
        if !(run.status == "paused" || run.status == "failed") {
            return Err(AppError::InvalidState(format!(
                "the workflow run is '{}'; only paused or failed runs can be resumed",
                run.status
            )));
        }
        let graph: Graph = serde_json::from_str(&run.graph_snapshot)
            .map_err(|e| AppError::Internal(format!("graph snapshot: {e}")))?;
        let target = match (node_id, policy, step_index) {
            (Some(n), None, None) => {
                graph.nodes.contains_key(&n).then_some(n).ok_or_else(|| {
                    AppError::invalid("node_id", "is not a node of the run's graph")
                })?
            }
            (None, Some(p), None) => graph
                .nodes
                .iter()
                .find(|(_, n)| matches!(n, Node::Policy(pn) if pn.policy == p))
                .map(|(k, _)| k.clone())
                .ok_or_else(|| {
                    AppError::invalid("policy", "no node of the run's graph runs this policy")
                })?,
            (None, None, Some(i)) => {
                let key = format!("step_{}", i + 1);
                graph
                    .nodes
                    .contains_key(&key)
                    .then_some(key)
                    .ok_or_else(|| {
                        AppError::invalid("step_index", "is not a step of the run's workflow")
                    })?
            }
            (None, None, None) => {
                let state: RunState = serde_json::from_str(&run.state)
                    .map_err(|e| AppError::Internal(format!("run state: {e}")))?;
                state.paused_at_node.or(state.current_node).ok_or_else(|| {
                    AppError::invalid("node_id", "is required: the run has no current node")
                })?
            }
            _ => {
                return Err(AppError::invalid(
                    "node_id",
                    "give at most one of node_id, policy, step_index",
                ));
            }
        };
        let event = Event::ResumeFrom {
            node_id: target.clone(),
        };
        let session = self.queue_run_event(current, run, event).await?;
        Ok((session, target))
    }

    async fn queue_run_event(
        &self,
        current: SessionRecord,
        mut run: RunRecord,
        event: Event,
    ) -> Result<SessionRecord, AppError> {
        let now = self.clock.now();
        let expected_revision = run.revision;
        run.next_event = Some(
            serde_json::to_string(&PendingWork::Apply { event })
                .map_err(|e| AppError::Internal(e.to_string()))?,
        );
        run.runnable_at = Some(now);
        run.revision += 1;
        run.updated_at = now;
        let mut next = current.clone();
        next.status = SessionStatus::Processing;
        next.completed_at = None;
        next.updated_at = now;
        let change = SessionChange {
            expected_status: current.status,
            session: next.clone(),
            events: vec![],
            result: None,
            clear_result: current.status != SessionStatus::AwaitingExternal,
            run: Some(RunWrite::Update {
                run,
                expected_revision,
            }),
        };
        self.repo.apply(&change).await.map_err(map_conflict)?;
        Ok(next)
    }

    /// The decision of a session (404 until there is one).
    pub async fn result(&self, caller: &Caller, id: &str) -> Result<ResultView, AppError> {
        let session = self.get(caller, id).await?;
        let record = self
            .repo
            .result(&session.tenant, id)
            .await?
            .ok_or(AppError::NotFound("result"))?;
        let extracted_data = match &record.extracted_data_encrypted {
            None => Map::new(),
            Some(sealed) => {
                let text = self
                    .cipher
                    .open_text(sealed, &format!("result:{id}"))
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                match serde_json::from_str(&text) {
                    Ok(Value::Object(m)) => m,
                    _ => Map::new(),
                }
            }
        };
        Ok(ResultView {
            record,
            extracted_data,
            session,
        })
    }

    /// The session's current run.
    pub async fn run(&self, caller: &Caller, id: &str) -> Result<RunRecord, AppError> {
        let session = self.get(caller, id).await?;
        self.repo
            .run_for_session(&session.tenant, id)
            .await?
            .ok_or(AppError::NotFound("workflow run"))
    }

    /// Every node attempt of the current run, optionally for one policy.
    pub async fn attempts(
        &self,
        caller: &Caller,
        id: &str,
        policy: Option<&str>,
    ) -> Result<Vec<NodeExecutionRecord>, AppError> {
        let session = self.get(caller, id).await?;
        Ok(self.repo.executions(&session.tenant, id, policy).await?)
    }

    /// The session's event log.
    pub async fn events(
        &self,
        caller: &Caller,
        id: &str,
        page: PageRequest,
    ) -> Result<Page<EventRecord>, AppError> {
        let session = self.get(caller, id).await?;
        Ok(self.repo.events(&session.tenant, id, page).await?)
    }

    /// Decrypted pre-fill fields of a session (for checks).
    pub fn fields_of(&self, session: &SessionRecord) -> Map<String, Value> {
        decrypt_fields(&self.cipher, session)
    }
}

/// Decrypts a session's pre-fill fields (empty when none or undecryptable).
pub fn decrypt_fields(cipher: &Cipher, session: &SessionRecord) -> Map<String, Value> {
    session
        .fields_encrypted
        .as_deref()
        .and_then(|sealed| {
            cipher
                .open_text(sealed, &format!("session-fields:{}", session.id))
                .ok()
        })
        .and_then(|text| match serde_json::from_str(&text) {
            Ok(Value::Object(m)) => Some(m),
            _ => None,
        })
        .unwrap_or_default()
}
