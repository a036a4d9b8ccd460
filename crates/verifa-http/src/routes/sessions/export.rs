//! `GET /sessions/{id}/export` (CONTRACT §11.4): a data-subject access export of one session,
//! personal data decrypted. Needs `sessions:read`; every export is audited.

use super::Id;
use super::objects::{DocumentObject, ResultObject, SessionObject};
use super::run_objects::{AttemptObject, RunObject};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Authenticated;
use crate::routes::cases::objects::{CaseObject, NoteObject};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use verifa_app::exports::{ExportedDelivery, ExportedDocument, SessionExport};

/// A document of an export.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExportDocumentObject {
    /// The document.
    #[serde(flatten)]
    pub document: DocumentObject,
    /// Signed link valid for 24 hours; `null` past the sensitive-data window.
    pub download_url: Option<String>,
}

/// Where one of the session's webhooks went.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExportDeliveryObject {
    /// The event.
    pub event: String,
    /// The endpoint (`null` once deleted).
    pub url: Option<String>,
    /// `pending`, `delivering`, `delivered` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: u32,
}

/// Everything held about a session.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionExportObject {
    /// The session.
    pub session: SessionObject,
    /// Its pre-fill fields (`fields` at creation), decrypted.
    #[schema(value_type = Object)]
    pub fields: serde_json::Map<String, Value>,
    /// Its decision with the extracted data (even past the sensitive-data window).
    pub result: Option<ResultObject>,
    /// Its documents.
    pub documents: Vec<ExportDocumentObject>,
    /// Its workflow run.
    pub workflow_run: Option<RunObject>,
    /// Every check attempt of the run, with what the check returned.
    pub check_attempts: Vec<AttemptObject>,
    /// Standalone screening of the session (none are stored yet).
    #[schema(value_type = Vec<Object>)]
    pub screening: Vec<Value>,
    /// Its review case.
    pub review_case: Option<CaseObject>,
    /// The case's notes, oldest first.
    pub case_notes: Vec<NoteObject>,
    /// Custom-list matches (none are stored yet).
    #[schema(value_type = Vec<Object>)]
    pub list_matches: Vec<Value>,
    /// Fraud signals (none are stored yet).
    #[schema(value_type = Vec<Object>)]
    pub fraud_signals: Vec<Value>,
    /// Its webhooks.
    pub webhook_deliveries: Vec<ExportDeliveryObject>,
    /// When.
    pub exported_at: DateTime<Utc>,
}

impl From<ExportedDocument> for ExportDocumentObject {
    fn from(d: ExportedDocument) -> Self {
        Self {
            document: d.document.into(),
            download_url: d.download_url,
        }
    }
}

impl From<ExportedDelivery> for ExportDeliveryObject {
    fn from(d: ExportedDelivery) -> Self {
        Self {
            event: d.event,
            url: d.url,
            status: d.status,
            attempts: d.attempts,
        }
    }
}

impl From<SessionExport> for SessionExportObject {
    fn from(e: SessionExport) -> Self {
        Self {
            session: e.session.into(),
            fields: e.fields,
            result: e.result.map(Into::into),
            documents: e.documents.into_iter().map(Into::into).collect(),
            workflow_run: e.run.map(Into::into),
            check_attempts: e.attempts.into_iter().map(Into::into).collect(),
            screening: Vec::new(),
            review_case: e.review_case.map(|c| CaseObject::of(c, e.exported_at)),
            case_notes: e.case_notes.into_iter().map(Into::into).collect(),
            list_matches: Vec::new(),
            fraud_signals: Vec::new(),
            webhook_deliveries: e.webhook_deliveries.into_iter().map(Into::into).collect(),
            exported_at: e.exported_at,
        }
    }
}

/// Exports everything held about a session (GDPR Art. 15).
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/export", tag = "sessions", params(("session_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = SessionExportObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn export_session(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
) -> ApiResult<Json<SessionExportObject>> {
    let caller = auth.require(super::READ)?;
    Ok(Json(
        state.services.exports.session(caller, &id).await?.into(),
    ))
}
