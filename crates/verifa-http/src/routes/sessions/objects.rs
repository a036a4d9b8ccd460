//! Response bodies of the Sessions group: sessions, documents, results and events.

use crate::routes::pagination::Pagination;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use verifa_app::sessions::{ResultView, SessionView};
use verifa_domain::documents::DocumentType;
use verifa_domain::session::{ProcessingMode, RetentionStatus, Session, SessionStatus};
use verifa_domain::workflow::Outcome;
use verifa_ports::sessions::DocumentRecord;

/// A session.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "ses_0192f8c2a1b27c3e8d4f5a6b7c8d9e0f", "status": "pending", "is_sandbox": true, "environment": "sandbox", "external_ref": "user_abc123",
    "capture_url": "http://127.0.0.1:8080/verify/tok_abc", "qr_code_data_url": "data:image/png;base64,...", "created_at": "2026-02-01T12:00:00Z", "expires_at": "2026-02-01T12:20:00Z", "tags": []}))]
pub struct SessionObject {
    /// `ses_…`.
    pub id: String,
    /// Status.
    #[schema(schema_with = crate::openapi::schemas::session_status)]
    pub status: SessionStatus,
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
    /// The identity the session fed on completion (`idn_…`).
    pub identity_id: Option<String>,
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
    /// `active` | `sensitive_redacted` | `redacted`.
    #[schema(schema_with = crate::openapi::schemas::retention_status)]
    pub retention_status: RetentionStatus,
    /// When its personal data was redacted (null while kept).
    pub redacted_at: Option<DateTime<Utc>>,
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
    /// Its latest review case (`case_…`).
    pub case_id: Option<String>,
    /// That case's status.
    #[schema(schema_with = crate::openapi::schemas::case_status_or_null)]
    pub case_status: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
}

impl SessionObject {
    fn from_session(s: Session, capture_url: Option<String>, qr: Option<String>) -> Self {
        let capture_url = capture_url.filter(|_| s.status.is_capturing());
        Self {
            is_sandbox: s.tenant.environment.is_sandbox(),
            environment: s.tenant.environment.to_string(),
            id: s.id,
            status: s.status,
            created_at: s.created_at,
            updated_at: s.updated_at,
            external_ref: s.external_ref,
            identity_id: s.identity_id,
            metadata: s.metadata,
            country: s.country,
            checks: s.checks,
            workflow_id: s.workflow_id,
            document_type: s.document_type,
            retention_status: s.retention_status,
            redacted_at: s.redacted_at,
            processing_attempts: s.processing_attempts,
            consent_ip: s.consent_ip,
            capture_url,
            qr_code_data_url: qr,
            token_expires_at: s.token_expires_at,
            expires_at: s.token_expires_at,
            redirect_url: s.redirect_url,
            case_id: s.case_id,
            case_status: s.case_status.map(|c| c.as_str().to_owned()),
            tags: s.tags,
        }
    }
}

impl From<Session> for SessionObject {
    fn from(s: Session) -> Self {
        Self::from_session(s, None, None)
    }
}

impl From<SessionView> for SessionObject {
    fn from(v: SessionView) -> Self {
        Self::from_session(v.session, v.capture_url, v.qr_code_data_url)
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

/// A document's metadata.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DocumentObject {
    /// `doc_…`.
    pub id: String,
    /// Session.
    pub session_id: String,
    /// `id_front` | `id_back` | `selfie` | `proof_of_address`.
    #[schema(schema_with = crate::openapi::schemas::document_type)]
    pub document_type: DocumentType,
    /// Same as `document_type` (reference field name).
    #[schema(schema_with = crate::openapi::schemas::document_type)]
    pub doc_type: DocumentType,
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
            doc_type: d.document_type,
            document_type: d.document_type,
            mime_type: d.mime_type,
            file_size_bytes: d.file_size_bytes,
            created_at: d.created_at,
        }
    }
}

/// A listed document with its signed download link (CONTRACT §11.5).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ListedDocument {
    /// The document.
    #[serde(flatten)]
    pub document: DocumentObject,
    /// Signed link to the bytes; needs no API key until it expires.
    pub url: String,
    /// Seconds the link stays valid (`image_url_expiry_seconds`).
    pub expires_in: u32,
}

impl From<verifa_app::sessions::SignedDocument> for ListedDocument {
    fn from(d: verifa_app::sessions::SignedDocument) -> Self {
        Self {
            document: d.document.into(),
            url: d.url,
            expires_in: d.expires_in,
        }
    }
}

/// Documents of a session (`[]` once redacted or past the sensitive-data window).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DocumentList {
    /// Documents.
    pub data: Vec<ListedDocument>,
}

/// A session's result (reference §2.6 plus `check_results` and `workflow_run_id`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ResultObject {
    /// Session.
    pub session_id: String,
    /// `approved` | `rejected` | `needs_review`.
    #[schema(schema_with = crate::openapi::schemas::outcome)]
    pub status: Outcome,
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
    #[schema(schema_with = crate::openapi::schemas::processing_mode)]
    pub processing_mode: ProcessingMode,
    /// Country used.
    pub country_used: Option<String>,
    /// Past the sensitive-data window: `extracted_data` is `{}` and no document is served,
    /// though the data stays stored until the retention period ends.
    pub sensitive_data_expired: bool,
    /// `{policy: {status, passed}}`.
    #[schema(value_type = Object)]
    pub check_results: Value,
    /// Run that decided.
    pub workflow_run_id: Option<String>,
    /// The review case whose decision this is (`case_…`).
    pub case_id: Option<String>,
    /// The reviewer who decided (`orguser_…`).
    pub decided_by: Option<String>,
}

impl From<ResultView> for ResultObject {
    fn from(v: ResultView) -> Self {
        let r = v.record;
        let summary = r.verdict.summary;
        Self {
            session_id: r.session_id,
            status: r.verdict.outcome,
            is_sandbox: v.session.tenant.environment.is_sandbox(),
            created_at: r.created_at,
            external_ref: v.session.external_ref,
            face_match_passed: summary.face_match_passed,
            face_match_score: summary.face_match_score,
            age_check_passed: summary.age_check_passed,
            extracted_age: summary.extracted_age,
            extracted_data: v.extracted_data,
            rejection_reason: r.verdict.rejection_reason,
            processing_mode: summary.processing_mode,
            country_used: summary.country_used,
            sensitive_data_expired: v.session.retention_status
                == RetentionStatus::SensitiveRedacted,
            check_results: serde_json::to_value(summary.check_results)
                .unwrap_or_else(|_| Value::Object(Map::new())),
            workflow_run_id: r.workflow_run_id,
            case_id: r.case_id,
            decided_by: r.decided_by,
        }
    }
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
