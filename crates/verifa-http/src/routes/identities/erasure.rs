//! `DELETE /identities/{id}` (CONTRACT §11.4): erasing a person, their sessions with them.
//! Needs `redact:write`: a key made for erasure requests, not the integrator's everyday key.

use crate::error::{ApiResult, ErrorBody};
use crate::extract::Authenticated;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const REDACT: &str = "redact:write";

/// The answer of `DELETE /identities/{id}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IdentityRedactObject {
    /// `deleted`, or `already_redacted` when an earlier call did it.
    #[schema(pattern = "^(deleted|already_redacted)$")]
    pub status: String,
    /// The identity.
    pub identity_id: String,
    /// Sessions redacted by this call.
    pub sessions_redacted: u64,
    /// Documents destroyed by this call.
    pub documents_removed: u64,
    /// Screening checks whose subject was erased.
    pub checks_redacted: u64,
}

/// Redacts an identity and all its sessions, in one transaction.
#[utoipa::path(delete, path = "/api/v1/identities/{id}", tag = "identities", params(("id" = String, Path, description = "`idn_…` or the external reference")), security(("api_key" = [])), responses(
    (status = 200, body = IdentityRedactObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn redact_identity(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<IdentityRedactObject>> {
    let caller = auth.require(REDACT)?;
    let r = state.services.sessions.redact_identity(caller, &id).await?;
    Ok(Json(IdentityRedactObject {
        status: if r.deleted {
            "deleted"
        } else {
            "already_redacted"
        }
        .to_owned(),
        identity_id: r.identity_id,
        sessions_redacted: r.sessions_redacted,
        documents_removed: r.documents_removed,
        checks_redacted: r.checks_redacted,
    }))
}
