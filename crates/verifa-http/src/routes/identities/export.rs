//! `GET /identities/{id}/export` (CONTRACT §11.4): everything held about a person, their
//! sessions' exports included. Needs `identities:read`; audited `api.identity.export`.

use super::READ;
use super::objects::IdentityObject;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Authenticated;
use crate::routes::sessions::export::SessionExportObject;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use verifa_app::exports::IdentityExport;

/// Another identity linked to this one.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IdentityLinkObject {
    /// `idn_…`.
    pub identity_id: String,
    /// `merged`: it was merged into this one.
    pub kind: String,
}

/// Everything held about a person.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IdentityExportObject {
    /// The identity.
    pub identity: IdentityObject,
    /// The export of each of its sessions, newest first (at most 500).
    pub sessions: Vec<SessionExportObject>,
    /// Standalone screening checks (none are stored yet).
    #[schema(value_type = Vec<Object>)]
    pub checks: Vec<Value>,
    /// Monitoring findings (none are stored yet).
    #[schema(value_type = Vec<Object>)]
    pub findings: Vec<Value>,
    /// Identities merged into this one.
    pub identity_links: Vec<IdentityLinkObject>,
    /// Relationships to other identities (none are kept).
    #[schema(value_type = Vec<Object>)]
    pub identity_relationships: Vec<Value>,
    /// Face embeddings held (none are kept).
    pub face_embeddings_count: u64,
    /// When.
    pub exported_at: DateTime<Utc>,
}

impl From<IdentityExport> for IdentityExportObject {
    fn from(e: IdentityExport) -> Self {
        Self {
            identity: e.identity.into(),
            sessions: e.sessions.into_iter().map(Into::into).collect(),
            checks: Vec::new(),
            findings: Vec::new(),
            identity_links: e
                .merged_from
                .into_iter()
                .map(|identity_id| IdentityLinkObject {
                    identity_id,
                    kind: "merged".into(),
                })
                .collect(),
            identity_relationships: Vec::new(),
            face_embeddings_count: 0,
            exported_at: e.exported_at,
        }
    }
}

/// Exports everything held about a person (GDPR Art. 15).
#[utoipa::path(get, path = "/api/v1/identities/{id}/export", tag = "identities", params(("id" = String, Path, description = "`idn_…` or the external reference")), security(("api_key" = [])), responses(
    (status = 200, body = IdentityExportObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn export_identity(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<IdentityExportObject>> {
    let caller = auth.require(READ)?;
    Ok(Json(
        state.services.exports.identity(caller, &id).await?.into(),
    ))
}
