//! The Sessions group (CONTRACT §3, §2.3 #5–#6, §2.4): sessions, documents, submission,
//! lifecycle actions, results, workflow runs, verification attempts and the event log.

use crate::error::{ApiError, ApiResult, ErrorBody, FieldErrorBody};
use crate::extract::{ApiJson, ApiQuery, Authenticated, OptionalJson, read_body};
use crate::routes::pagination::{PageQuery, Pagination};
use crate::routes::session_input;
use crate::routes::workflows::present;
use crate::state::AppState;
use axum::Json;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::{IntoParams, ToSchema};
use verifa_app::sessions::{NewSession, SessionView};
use verifa_domain::workflow::{NodeResult, RunState};
use verifa_ports::sessions::{
    DocumentRecord, NodeExecutionRecord, RunRecord, SessionFilter, SessionRecord,
};

const READ: &str = "sessions:read";
const CREATE: &str = "sessions:create";
const WRITE: &str = "sessions:write";
const VERIFICATIONS: &str = "verifications:read";
const DOCUMENTS: &str = "documents:write";

/// A session.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "ses_0192f8c2a1b27c3e8d4f5a6b7c8d9e0f", "status": "pending", "is_sandbox": true, "environment": "sandbox", "external_ref": "user_abc123",
    "capture_url": "http://127.0.0.1:8080/verify/tok_abc", "qr_code_data_url": "data:image/png;base64,...", "created_at": "2026-02-01T12:00:00Z", "expires_at": "2026-02-01T12:20:00Z", "tags": []}))]
pub struct SessionObject {
    /// `ses_…`.
    pub id: String,
    /// Status.
    pub status: String,
    /// Sandbox session.
    pub is_sandbox: bool,
    /// `live` or `sandbox`.
    pub environment: String,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Caller's reference.
    pub external_ref: Option<String>,
    /// Metadata.
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    /// Country.
    pub country: Option<String>,
    /// Check overrides.
    pub checks: Option<Vec<String>>,
    /// Workflow.
    pub workflow_id: Option<String>,
    /// Document type.
    pub document_type: Option<String>,
    /// Retention status.
    pub retention_status: String,
    /// Runs started.
    pub processing_attempts: i32,
    /// Consent IP.
    pub consent_ip: Option<String>,
    /// Capture link (only when just issued and while pending/capturing).
    pub capture_url: Option<String>,
    /// QR code of the capture link (only when just issued).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qr_code_data_url: Option<String>,
    /// Capture token expiry.
    pub token_expires_at: Option<DateTime<Utc>>,
    /// Same as `token_expires_at`.
    pub expires_at: Option<DateTime<Utc>>,
    /// Redirect after capture.
    pub redirect_url: Option<String>,
    /// Review case (later).
    pub case_id: Option<String>,
    /// Review case status (later).
    pub case_status: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
}

impl SessionObject {
    fn from_record(s: SessionRecord, capture_url: Option<String>, qr: Option<String>) -> Self {
        let capture_url =
            capture_url.filter(|_| matches!(s.status.as_str(), "pending" | "capturing"));
        Self {
            is_sandbox: s.tenant.environment.is_sandbox(),
            environment: s.tenant.environment.to_string(),
            id: s.id,
            status: s.status.to_string(),
            created_at: s.created_at,
            updated_at: s.updated_at,
            external_ref: s.external_ref,
            metadata: s.metadata,
            country: s.country,
            checks: s.checks,
            workflow_id: s.workflow_id,
            document_type: s.document_type,
            retention_status: s.retention_status,
            processing_attempts: s.processing_attempts,
            consent_ip: s.consent_ip,
            capture_url,
            qr_code_data_url: qr,
            token_expires_at: s.token_expires_at,
            expires_at: s.token_expires_at,
            redirect_url: s.redirect_url,
            case_id: None,
            case_status: None,
            tags: s.tags,
        }
    }
}

impl From<SessionRecord> for SessionObject {
    fn from(s: SessionRecord) -> Self {
        Self::from_record(s, None, None)
    }
}

impl From<SessionView> for SessionObject {
    fn from(v: SessionView) -> Self {
        Self::from_record(v.session, v.capture_url, v.qr_code_data_url)
    }
}

/// A page of sessions.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionList {
    /// Sessions.
    pub data: Vec<SessionObject>,
    /// Counts.
    pub pagination: Pagination,
}

/// Body of `POST /sessions` (aliases, camel/kebab keys and the JSON:API envelope accepted).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"external_ref": "user_abc123", "country": "US", "redirect_url": "https://your-app.com/verify/complete", "metadata": {"plan": "pro"}}))]
pub struct CreateSessionRequest {
    /// Your user id.
    pub external_ref: Option<String>,
    /// Up to 50 keys, each value ≤ 16 KiB.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// Check overrides.
    pub checks: Option<Vec<String>>,
    /// Workflow (default workflow otherwise).
    pub workflow_id: Option<String>,
    /// Redirect after capture.
    pub redirect_url: Option<String>,
    /// Pre-fill fields (encrypted at rest).
    #[schema(value_type = Option<Object>)]
    pub fields: Option<Value>,
}

/// List filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionListQuery {
    /// Status.
    pub status: Option<String>,
    /// Session id or external reference.
    pub q: Option<String>,
    /// External reference.
    pub external_ref: Option<String>,
    /// Page size (default 50).
    #[param(value_type = Option<i64>)]
    pub limit: Option<String>,
    /// Offset.
    #[param(value_type = Option<i64>)]
    pub offset: Option<String>,
}

/// Body of `PATCH /sessions/{id}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSessionRequest {
    /// New external reference (`null` clears).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub external_ref: Option<Option<String>>,
    /// Metadata to merge; a key set to `null` is removed.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}

/// A document's metadata.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DocumentObject {
    /// `doc_…`.
    pub id: String,
    /// Session.
    pub session_id: String,
    /// Type.
    pub document_type: String,
    /// Same as `document_type` (reference field name).
    pub doc_type: String,
    /// Sniffed MIME type.
    pub mime_type: String,
    /// Size.
    pub file_size_bytes: i64,
    /// Upload time.
    pub created_at: DateTime<Utc>,
}

impl From<DocumentRecord> for DocumentObject {
    fn from(d: DocumentRecord) -> Self {
        Self {
            id: d.id,
            session_id: d.session_id,
            doc_type: d.document_type.clone(),
            document_type: d.document_type,
            mime_type: d.mime_type,
            file_size_bytes: d.file_size_bytes,
            created_at: d.created_at,
        }
    }
}

/// Documents of a session.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DocumentList {
    /// Documents.
    pub data: Vec<DocumentObject>,
}

/// Multipart upload body (documented shape).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct UploadDocumentForm {
    /// The file (JPEG, PNG, WebP or PDF; ≤ 10 MiB).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// `id_front` | `id_back` | `selfie` | `proof_of_address`.
    document_type: String,
    /// Optional text read from the document (e.g. the MRZ lines).
    text: Option<String>,
}

/// `expire` response.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExpireResponse {
    /// Session.
    pub id: String,
    /// `expired`.
    pub status: String,
    /// When.
    pub expired_at: Option<DateTime<Utc>>,
}

/// `resume` response.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ResumeResponse {
    /// Session.
    pub id: String,
    /// Status.
    pub status: String,
    /// New capture link.
    pub capture_url: Option<String>,
    /// Expiry of the link.
    pub expires_at: Option<DateTime<Utc>>,
    /// QR code.
    pub qr_code_data_url: Option<String>,
}

/// Body of `simulate`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulateRequest {
    /// `approve` | `decline` | `require-review` | `expire`.
    pub action: String,
}

/// `simulate` response.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SimulateResponse {
    /// Session.
    pub id: String,
    /// Action.
    pub action: String,
    /// New status.
    pub status: String,
    /// Always true.
    pub simulated: bool,
}

/// Accepted asynchronous work.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AcceptedResponse {
    /// Session.
    pub session_id: String,
    /// New status.
    pub status: String,
}

/// Body of `generate-one-time-link`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    /// Link lifetime (default: the capture token lifetime).
    pub expires_in_minutes: Option<i64>,
}

/// A one-time link.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LinkResponse {
    /// Link id.
    pub id: String,
    /// Session.
    pub session_id: String,
    /// Capture link.
    pub capture_url: Option<String>,
    /// `active`.
    pub status: String,
    /// Expiry.
    pub expires_at: Option<DateTime<Utc>>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// QR code.
    pub qr_code_data_url: Option<String>,
}

/// Body of `external-decision`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// `continue` | `fail` | `reject`.
    pub decision: String,
    /// Stored on the run.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

/// `external-decision` response.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DecisionResponse {
    /// Session.
    pub session_id: String,
    /// Decision.
    pub decision: String,
    /// New status.
    pub status: String,
    /// Message.
    pub message: String,
}

/// Body of `workflow-run/resume`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResumeRunRequest {
    /// Node id.
    pub node_id: Option<String>,
    /// Policy name.
    pub policy: Option<String>,
    /// Step index (legacy steps).
    pub step_index: Option<i64>,
}

/// `workflow-run/resume` response.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ResumeRunResponse {
    /// New session status.
    pub status: String,
    /// Session.
    pub session_id: String,
    /// Node the run restarts at.
    pub node_id: String,
    /// Policy given.
    pub policy: Option<String>,
    /// Step index given.
    pub step_index: Option<i64>,
}

/// A session's result (reference §2.6 plus `check_results` and `workflow_run_id`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ResultObject {
    /// Session.
    pub session_id: String,
    /// `approved` | `rejected` | `needs_review`.
    pub status: String,
    /// Sandbox.
    pub is_sandbox: bool,
    /// Decision time.
    pub created_at: DateTime<Utc>,
    /// Caller reference.
    pub external_ref: Option<String>,
    /// Face match passed.
    pub face_match_passed: Option<bool>,
    /// Face match score 0–1.
    pub face_match_score: Option<f64>,
    /// Age check passed.
    pub age_check_passed: Option<bool>,
    /// Extracted age.
    pub extracted_age: Option<i64>,
    /// Extracted data.
    #[schema(value_type = Object)]
    pub extracted_data: Map<String, Value>,
    /// Rejection reason.
    pub rejection_reason: Option<String>,
    /// `workflow` or `simulated`.
    pub processing_mode: String,
    /// Country used.
    pub country_used: Option<String>,
    /// Sensitive data expired.
    pub sensitive_data_expired: bool,
    /// `{policy: {status, passed}}`.
    #[schema(value_type = Object)]
    pub check_results: Value,
    /// Run that decided.
    pub workflow_run_id: Option<String>,
}

/// A workflow run (CONTRACT §2.4).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RunObject {
    /// `wfr_…`.
    pub id: String,
    /// Session.
    pub session_id: String,
    /// Workflow.
    pub workflow_id: String,
    /// Version chosen by the rollout map.
    pub workflow_version: i32,
    /// `pending` | `running` | `paused` | `completed` | `failed`.
    pub status: String,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Outcome.
    pub final_status: Option<String>,
    /// The graph as it was when the run started.
    #[schema(value_type = Object)]
    pub graph_snapshot: Value,
    /// Gate the run waits at.
    pub paused_at_node: Option<String>,
    /// Current (or last) node.
    pub current_node: Option<String>,
    /// Results by node id.
    #[schema(value_type = Object)]
    pub node_results: Value,
    /// Nodes visited.
    pub path: Vec<String>,
    /// Gate decisions.
    #[schema(value_type = Vec<Object>)]
    pub external_decisions: Value,
    /// Start.
    pub started_at: Option<DateTime<Utc>>,
    /// End.
    pub completed_at: Option<DateTime<Utc>>,
    /// Duration.
    pub duration_ms: Option<i64>,
    /// Written by `simulate`.
    pub simulated: bool,
}

impl From<RunRecord> for RunObject {
    fn from(r: RunRecord) -> Self {
        let state: Option<RunState> = serde_json::from_str(&r.state).ok();
        let node_results: std::collections::BTreeMap<String, NodeResult> = state
            .as_ref()
            .map(|s| s.node_results.clone())
            .unwrap_or_default();
        Self {
            id: r.id,
            session_id: r.session_id,
            workflow_id: r.workflow_id,
            workflow_version: r.workflow_version,
            status: r.status,
            created_at: r.created_at,
            final_status: r.final_status,
            graph_snapshot: serde_json::from_str(&r.graph_snapshot).unwrap_or(Value::Null),
            paused_at_node: r.paused_at_node,
            current_node: r.current_node,
            node_results: serde_json::to_value(node_results).unwrap_or(Value::Null),
            path: state.as_ref().map(|s| s.path.clone()).unwrap_or_default(),
            external_decisions: state
                .as_ref()
                .and_then(|s| serde_json::to_value(&s.external_decisions).ok())
                .unwrap_or(json!([])),
            started_at: r.started_at,
            completed_at: r.completed_at,
            duration_ms: r.duration_ms,
            simulated: r.simulated,
        }
    }
}

/// One verification attempt.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AttemptObject {
    /// Attempt id.
    pub id: String,
    /// Policy.
    pub policy: Option<String>,
    /// Node.
    pub node_id: String,
    /// Attempt number.
    pub attempt: i32,
    /// Status.
    pub status: String,
    /// Passed.
    pub passed: bool,
    /// Output.
    #[schema(value_type = Option<Object>)]
    pub output: Option<Value>,
    /// Error.
    pub error: Option<String>,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End.
    pub completed_at: DateTime<Utc>,
    /// Duration.
    pub duration_ms: i64,
    /// Run.
    pub workflow_run_id: String,
}

impl From<NodeExecutionRecord> for AttemptObject {
    fn from(e: NodeExecutionRecord) -> Self {
        Self {
            passed: e.status == "passed",
            id: e.id,
            policy: e.policy,
            node_id: e.node_id,
            attempt: e.attempt,
            status: e.status,
            output: e.output,
            error: e.error,
            started_at: e.started_at,
            completed_at: e.completed_at,
            duration_ms: e.duration_ms,
            workflow_run_id: e.run_id,
        }
    }
}

/// Latest attempt per policy.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VerificationList {
    /// Attempts.
    pub data: Vec<AttemptObject>,
}

/// Every attempt of one policy.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AttemptList {
    /// Session.
    pub session_id: String,
    /// Policy.
    pub policy: String,
    /// Attempts, oldest first.
    pub attempts: Vec<AttemptObject>,
}

/// An event of the session log.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventObject {
    /// `evt_…`.
    pub id: String,
    /// Event name.
    pub event_type: String,
    /// Session.
    pub session_id: String,
    /// Fields.
    #[schema(value_type = Object)]
    pub data: Value,
    /// Time.
    pub created_at: DateTime<Utc>,
}

/// A page of events.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventList {
    /// Events, oldest first.
    pub data: Vec<EventObject>,
    /// Counts.
    pub pagination: Pagination,
}

/// Body of `POST /workflows/{id}/trigger`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerRequest {
    /// Session to re-run (must be completed or failed).
    pub session_id: String,
}

/// `trigger` response.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TriggerResponse {
    /// Session.
    pub session_id: String,
    /// Workflow.
    pub workflow_id: String,
    /// `processing`.
    pub status: String,
}

type Id = Path<String>;

/// Creates a verification session.
#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions", request_body = CreateSessionRequest, security(("api_key" = [])), responses(
    (status = 201, body = SessionObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_session(
    State(state): State<AppState>,
    auth: Authenticated,
    req: Request,
) -> ApiResult<(StatusCode, Json<SessionObject>)> {
    let caller = auth.require(CREATE)?;
    if !crate::extract::is_json(req.headers())
        && req.headers().contains_key(axum::http::header::CONTENT_TYPE)
    {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the request body as JSON with 'Content-Type: application/json'.",
        ));
    }
    let bytes = read_body(req, &()).await?;
    let raw: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        crate::extract::parse_json(&bytes)?
    };
    let body = session_input::normalise(raw).map_err(|m| {
        ApiError::validation(vec![FieldErrorBody {
            field: "body".into(),
            message: m,
        }])
    })?;
    let typed: CreateSessionRequest = crate::extract::from_value(Value::Object(body))?;
    let object = |field: &str, v: Option<Value>| -> Result<Option<Map<String, Value>>, ApiError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(_) => Err(ApiError::validation(vec![FieldErrorBody {
                field: field.into(),
                message: "must be an object".into(),
            }])),
        }
    };
    let input = NewSession {
        external_ref: typed.external_ref,
        metadata: object("metadata", typed.metadata)?,
        country: typed.country,
        checks: typed.checks,
        workflow_id: typed.workflow_id,
        redirect_url: typed.redirect_url,
        fields: object("fields", typed.fields)?,
    };
    let view = state.services.sessions.create(caller, input).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// Lists sessions, newest first.
#[utoipa::path(get, path = "/api/v1/sessions", tag = "sessions", params(SessionListQuery), security(("api_key" = [])), responses(
    (status = 200, body = SessionList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_sessions(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<SessionListQuery>,
) -> ApiResult<Json<SessionList>> {
    let caller = auth.require(READ)?;
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(s.parse().map_err(|m: String| {
            ApiError::validation(vec![FieldErrorBody {
                field: "status".into(),
                message: m,
            }])
        })?),
    };
    let page = PageQuery {
        limit: q.limit,
        offset: q.offset,
    }
    .page(50)?;
    let filter = SessionFilter {
        status,
        q: q.q,
        external_ref: q.external_ref,
    };
    let page = state.services.sessions.list(caller, filter, page).await?;
    let pagination = Pagination::from(&page);
    Ok(Json(SessionList {
        data: page.items.into_iter().map(Into::into).collect(),
        pagination,
    }))
}

/// Gets a session.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}", tag = "sessions", params(("session_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = SessionObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_session(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
) -> ApiResult<Json<SessionObject>> {
    let caller = auth.require(READ)?;
    Ok(Json(state.services.sessions.get(caller, &id).await?.into()))
}

/// Updates `external_ref` and merges `metadata`.
#[utoipa::path(patch, path = "/api/v1/sessions/{session_id}", tag = "sessions", params(("session_id" = String, Path)), request_body = UpdateSessionRequest, security(("api_key" = [])), responses(
    (status = 200, body = SessionObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_session(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
    ApiJson(body): ApiJson<UpdateSessionRequest>,
) -> ApiResult<Json<SessionObject>> {
    let caller = auth.require(WRITE)?;
    Ok(Json(
        state
            .services
            .sessions
            .update(caller, &id, body.external_ref, body.metadata)
            .await?
            .into(),
    ))
}

/// Uploads a document (multipart: `file`, `document_type`, optional `text`).
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/documents", tag = "sessions", params(("session_id" = String, Path)), request_body(content = UploadDocumentForm, content_type = "multipart/form-data"), security(("api_key" = [])), responses(
    (status = 201, body = DocumentObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload_document(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
    req: Request,
) -> ApiResult<(StatusCode, Json<DocumentObject>)> {
    let caller = auth.require(DOCUMENTS)?;
    let is_multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Upload documents as multipart/form-data with 'file' and 'document_type' parts.",
        ));
    }
    let mut multipart = Multipart::from_request(req, &())
        .await
        .map_err(|e| ApiError::bad_request(format!("Malformed multipart body: {e}.")))?;
    let (mut file, mut document_type, mut text) = (None, None, None);
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "Documents must be at most 10 MiB.",
                ));
            }
            Err(e) => {
                return Err(ApiError::bad_request(format!(
                    "Malformed multipart body: {e}."
                )));
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "Documents must be at most 10 MiB.",
                )
            } else {
                ApiError::bad_request(format!("Malformed multipart body: {e}."))
            }
        })?;
        match name.as_str() {
            "file" => file = Some(bytes.to_vec()),
            "document_type" => {
                document_type = Some(String::from_utf8_lossy(&bytes).trim().to_owned())
            }
            "text" | "mrz" => text = Some(String::from_utf8_lossy(&bytes).into_owned()),
            _ => {}
        }
    }
    let mut missing = Vec::new();
    if file.is_none() {
        missing.push(FieldErrorBody {
            field: "file".into(),
            message: "is required".into(),
        });
    }
    if document_type.is_none() {
        missing.push(FieldErrorBody {
            field: "document_type".into(),
            message: "is required".into(),
        });
    }
    let (Some(file), Some(document_type)) = (file, document_type) else {
        return Err(ApiError::validation(missing));
    };
    let doc = state
        .services
        .sessions
        .upload_document(caller, &id, &document_type, file, text)
        .await?;
    Ok((StatusCode::CREATED, Json(doc.into())))
}

/// Lists document metadata.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/documents", tag = "sessions", params(("session_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = DocumentList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_documents(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
) -> ApiResult<Json<DocumentList>> {
    let caller = auth.require(VERIFICATIONS)?;
    let docs = state.services.sessions.documents(caller, &id).await?;
    Ok(Json(DocumentList {
        data: docs.into_iter().map(Into::into).collect(),
    }))
}

/// Submits the session for verification.
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/submit", tag = "sessions", params(("session_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = SessionObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn submit_session(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
) -> ApiResult<Json<SessionObject>> {
    let caller = auth.require(WRITE)?;
    Ok(Json(
        state.services.sessions.submit(caller, &id).await?.into(),
    ))
}

/// Expires an active session.
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/expire", tag = "sessions", params(("session_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = ExpireResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn expire_session(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
) -> ApiResult<Json<ExpireResponse>> {
    let caller = auth.require(WRITE)?;
    let s = state.services.sessions.expire(caller, &id).await?;
    Ok(Json(ExpireResponse {
        id: s.id,
        status: s.status.to_string(),
        expired_at: s.expired_at,
    }))
}

/// Issues a fresh capture link (expired sessions return to `pending`).
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/resume", tag = "sessions", params(("session_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = ResumeResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn resume_session(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
) -> ApiResult<Json<ResumeResponse>> {
    let caller = auth.require(WRITE)?;
    let v = state.services.sessions.resume(caller, &id).await?;
    Ok(Json(ResumeResponse {
        id: v.session.id,
        status: v.session.status.to_string(),
        capture_url: v.capture_url,
        expires_at: v.session.token_expires_at,
        qr_code_data_url: v.qr_code_data_url,
    }))
}

/// Simulates an outcome (sandbox only).
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/simulate", tag = "sessions", params(("session_id" = String, Path)), request_body = SimulateRequest, security(("api_key" = [])), responses(
    (status = 200, body = SimulateResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn simulate_session(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
    ApiJson(body): ApiJson<SimulateRequest>,
) -> ApiResult<Json<SimulateResponse>> {
    let caller = auth.require(WRITE)?;
    let (s, action) = state
        .services
        .sessions
        .simulate(caller, &id, &body.action)
        .await?;
    Ok(Json(SimulateResponse {
        id: s.id,
        action: action.as_str().to_owned(),
        status: s.status.to_string(),
        simulated: true,
    }))
}

/// Re-runs the workflow of a completed or failed session.
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/reprocess", tag = "sessions", params(("session_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 202, body = AcceptedResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reprocess_session(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
) -> ApiResult<(StatusCode, Json<AcceptedResponse>)> {
    let caller = auth.require(WRITE)?;
    let s = state.services.sessions.rerun(caller, &id, None).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(AcceptedResponse {
            session_id: s.id,
            status: s.status.to_string(),
        }),
    ))
}

/// The session's decision (404 until there is one).
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/result", tag = "sessions", params(("session_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = ResultObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_result(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
) -> ApiResult<Json<ResultObject>> {
    let caller = auth.require(VERIFICATIONS)?;
    let v = state.services.sessions.result(caller, &id).await?;
    let r = &v.record.result;
    Ok(Json(ResultObject {
        session_id: v.record.session_id.clone(),
        status: v.record.status.clone(),
        is_sandbox: v.session.tenant.environment.is_sandbox(),
        created_at: v.record.created_at,
        external_ref: v.session.external_ref.clone(),
        face_match_passed: r["face_match_passed"].as_bool(),
        face_match_score: r["face_match_score"].as_f64(),
        age_check_passed: r["age_check_passed"].as_bool(),
        extracted_age: r["extracted_age"].as_i64(),
        extracted_data: v.extracted_data,
        rejection_reason: v.record.rejection_reason.clone(),
        processing_mode: r["processing_mode"]
            .as_str()
            .unwrap_or("workflow")
            .to_owned(),
        country_used: r["country_used"].as_str().map(str::to_owned),
        sensitive_data_expired: false,
        check_results: r.get("check_results").cloned().unwrap_or(json!({})),
        workflow_run_id: v.record.workflow_run_id.clone(),
    }))
}

/// Generates a one-time capture link (revokes the previous one).
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/generate-one-time-link", tag = "sessions", params(("session_id" = String, Path)), request_body = LinkRequest, security(("api_key" = [])), responses(
    (status = 200, body = LinkResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn generate_link(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
    OptionalJson(body): OptionalJson<LinkRequest>,
) -> ApiResult<Json<LinkResponse>> {
    let caller = auth.require(WRITE)?;
    let v = state
        .services
        .sessions
        .generate_link(caller, &id, body.expires_in_minutes)
        .await?;
    Ok(Json(LinkResponse {
        id: verifa_app::ids::new_id("lnk"),
        session_id: v.session.id.clone(),
        capture_url: v.capture_url,
        status: "active".into(),
        expires_at: v.session.token_expires_at,
        created_at: v.session.updated_at,
        qr_code_data_url: v.qr_code_data_url,
    }))
}

/// Submits an external gate decision.
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/external-decision", tag = "sessions", params(("session_id" = String, Path)), request_body = DecisionRequest, security(("api_key" = [])), responses(
    (status = 202, body = DecisionResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn external_decision(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
    ApiJson(body): ApiJson<DecisionRequest>,
) -> ApiResult<(StatusCode, Json<DecisionResponse>)> {
    let caller = auth.require(WRITE)?;
    let s = state
        .services
        .sessions
        .external_decision(caller, &id, &body.decision, body.metadata)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(DecisionResponse {
            session_id: s.id,
            decision: body.decision,
            status: s.status.to_string(),
            message: "Decision accepted. The workflow will resume shortly.".into(),
        }),
    ))
}

/// Resumes a paused or failed run from a node, policy or step.
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/workflow-run/resume", tag = "sessions", params(("session_id" = String, Path)), request_body = ResumeRunRequest, security(("api_key" = [])), responses(
    (status = 202, body = ResumeRunResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn resume_run(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
    OptionalJson(body): OptionalJson<ResumeRunRequest>,
) -> ApiResult<(StatusCode, Json<ResumeRunResponse>)> {
    let caller = auth.require(WRITE)?;
    let (s, node) = state
        .services
        .sessions
        .resume_run(
            caller,
            &id,
            body.node_id,
            body.policy.clone(),
            body.step_index,
        )
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ResumeRunResponse {
            status: s.status.to_string(),
            session_id: s.id,
            node_id: node,
            policy: body.policy,
            step_index: body.step_index,
        }),
    ))
}

/// The session's workflow run.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/workflow-run", tag = "workflows", params(("session_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = RunObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_workflow_run(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
) -> ApiResult<Json<RunObject>> {
    let caller = auth.require(READ)?;
    Ok(Json(state.services.sessions.run(caller, &id).await?.into()))
}

/// Latest verification attempt per policy.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/verifications", tag = "sessions", params(("session_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = VerificationList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_verifications(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
) -> ApiResult<Json<VerificationList>> {
    let caller = auth.require(VERIFICATIONS)?;
    let all = state.services.sessions.attempts(caller, &id, None).await?;
    let mut latest: Vec<NodeExecutionRecord> = Vec::new();
    for a in all {
        match latest.iter_mut().find(|l| l.policy == a.policy) {
            Some(l) => *l = a,
            None => latest.push(a),
        }
    }
    Ok(Json(VerificationList {
        data: latest.into_iter().map(Into::into).collect(),
    }))
}

/// Every attempt of one policy.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/verifications/{policy}/attempts", tag = "sessions", params(("session_id" = String, Path), ("policy" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = AttemptList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_attempts(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((id, policy)): Path<(String, String)>,
) -> ApiResult<Json<AttemptList>> {
    let caller = auth.require(VERIFICATIONS)?;
    let attempts = state
        .services
        .sessions
        .attempts(caller, &id, Some(&policy))
        .await?;
    Ok(Json(AttemptList {
        session_id: id,
        policy,
        attempts: attempts.into_iter().map(Into::into).collect(),
    }))
}

/// The session's event log (also the webhook outbox).
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/events", tag = "sessions", params(("session_id" = String, Path), PageQuery), security(("api_key" = [])), responses(
    (status = 200, body = EventList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_events(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<EventList>> {
    let caller = auth.require(READ)?;
    let page = state
        .services
        .sessions
        .events(caller, &id, q.page(50)?)
        .await?;
    let pagination = Pagination::from(&page);
    Ok(Json(EventList {
        data: page
            .items
            .into_iter()
            .map(|e| EventObject {
                id: e.id,
                event_type: e.event_type,
                session_id: e.session_id,
                data: e.data,
                created_at: e.created_at,
            })
            .collect(),
        pagination,
    }))
}

/// Re-runs a completed or failed session on this workflow (previous run replaced).
#[utoipa::path(post, path = "/api/v1/workflows/{workflow_id}/trigger", tag = "workflows", params(("workflow_id" = String, Path)), request_body = TriggerRequest, security(("api_key" = [])), responses(
    (status = 202, body = TriggerResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn trigger_workflow(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(workflow_id): Id,
    ApiJson(body): ApiJson<TriggerRequest>,
) -> ApiResult<(StatusCode, Json<TriggerResponse>)> {
    let caller = auth.require("workflows:trigger")?;
    state.services.workflows.get(caller, &workflow_id).await?;
    let s = state
        .services
        .sessions
        .rerun(caller, &body.session_id, Some(&workflow_id))
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(TriggerResponse {
            session_id: s.id,
            workflow_id,
            status: s.status.to_string(),
        }),
    ))
}

/// The capture page a `capture_url` points at. The hosted capture flow is a later step; until
/// then the page says so and points to the API-only flow.
#[utoipa::path(get, path = "/verify/{token}", tag = "sessions", params(("token" = String, Path)), responses((status = 200, description = "Capture page", content_type = "text/html")))]
pub async fn capture_page(Path(_token): Path<String>) -> axum::response::Html<&'static str> {
    axum::response::Html(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Identity verification</title></head><body style=\"font-family:system-ui;max-width:40em;margin:3em auto\">\
<h1>Identity verification</h1><p>The hosted capture flow is not available on this server yet.</p>\
<p>Your integration can upload documents through the API (<code>POST /api/v1/sessions/{id}/documents</code>) and submit the session (<code>POST /api/v1/sessions/{id}/submit</code>).</p></body></html>",
    )
}
