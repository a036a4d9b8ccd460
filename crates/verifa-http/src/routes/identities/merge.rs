//! Merging identities: preview (writes nothing), merge two, merge many into one.

use super::WRITE;
use super::objects::IdentityObject;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Authenticated};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use verifa_app::identities::MergeRequest;

fn yes() -> bool {
    true
}

/// Body of `POST /identities/merge` and `/merge/preview`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// The identity that stays.
    pub primary_identity_id: String,
    /// The identity merged into it.
    pub secondary_identity_id: String,
    /// Move checks, findings and list matches too (default `true`).
    #[serde(default = "yes")]
    pub transfer_checks: bool,
    /// Redact the secondary instead of marking it merged (default `false`).
    #[serde(default)]
    pub redact_secondary: bool,
}

/// Body of `POST /identities/merge-multiple`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeMultipleBody {
    /// The identity that stays.
    pub primary_identity_id: String,
    /// The identities merged into it (1–50).
    pub secondary_identity_ids: Vec<String>,
}

/// The merged values a merge would give the primary.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MergeResult {
    /// Status after the merge.
    pub status: String,
    /// Sessions after the merge.
    pub session_count: i64,
    /// Tags after the merge.
    pub tags: Vec<String>,
    /// Monitoring after the merge.
    pub monitoring_enabled: bool,
}

/// What a merge moves.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MergeTransfers {
    /// Sessions.
    pub sessions: i64,
    /// Screening checks (none exist before screening checks are built).
    pub checks: i64,
    /// Monitoring findings.
    pub findings: i64,
    /// List matches.
    pub list_matches: i64,
}

/// The answer of a merge preview.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MergePreviewObject {
    /// The primary as it is.
    pub primary: IdentityObject,
    /// The secondary as it is.
    pub secondary: IdentityObject,
    /// The primary's values after the merge.
    pub result: MergeResult,
    /// What would move.
    pub transfers: MergeTransfers,
}

/// The answer of a merge.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MergedPair {
    /// The primary after the merge.
    pub primary: IdentityObject,
    /// The secondary, now `merged`.
    pub secondary: IdentityObject,
}

/// The answer of a multiple merge.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MergedMany {
    /// The primary after the merge.
    pub primary: IdentityObject,
    /// How many identities were merged.
    pub merged_count: usize,
    /// Their ids.
    pub merged_ids: Vec<String>,
}

fn request(body: MergeBody) -> MergeRequest {
    MergeRequest {
        primary_identity_id: body.primary_identity_id,
        secondary_identity_ids: vec![body.secondary_identity_id],
        transfer_checks: body.transfer_checks,
        redact_secondary: body.redact_secondary,
    }
}

/// Shows what merging two identities would do, without writing anything.
#[utoipa::path(post, path = "/api/v1/identities/merge/preview", tag = "identities", request_body = MergeBody, security(("api_key" = [])), responses(
    (status = 200, body = MergePreviewObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn preview_identity_merge(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<MergeBody>,
) -> ApiResult<Json<MergePreviewObject>> {
    let caller = auth.require(WRITE)?;
    let preview = state
        .services
        .identities
        .preview_merge(caller, &request(body))
        .await?;
    let result = &preview.outcome.primary;
    let answer = MergePreviewObject {
        result: MergeResult {
            status: result.status.as_str().to_owned(),
            session_count: result.session_count,
            tags: result.tags.clone(),
            monitoring_enabled: result.monitoring_enabled,
        },
        transfers: MergeTransfers {
            sessions: preview.sessions_moved,
            checks: 0,
            findings: 0,
            list_matches: 0,
        },
        primary: preview.primary.into(),
        secondary: preview
            .secondaries
            .into_iter()
            .next()
            .map(Into::into)
            .ok_or_else(|| crate::error::ApiError::internal(&"merge preview without secondary"))?,
    };
    Ok(Json(answer))
}

/// Merges the secondary identity into the primary, in one transaction.
#[utoipa::path(post, path = "/api/v1/identities/merge", tag = "identities", request_body = MergeBody, security(("api_key" = [])), responses(
    (status = 200, body = MergedPair), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn merge_identities(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<MergeBody>,
) -> ApiResult<Json<MergedPair>> {
    let caller = auth.require(WRITE)?;
    let outcome = state
        .services
        .identities
        .merge(caller, &request(body))
        .await?;
    Ok(Json(MergedPair {
        primary: outcome.primary.into(),
        secondary: outcome
            .secondaries
            .into_iter()
            .next()
            .map(Into::into)
            .ok_or_else(|| crate::error::ApiError::internal(&"merge without secondary"))?,
    }))
}

/// Merges up to 50 identities into the primary: all validated, then written in one transaction.
#[utoipa::path(post, path = "/api/v1/identities/merge-multiple", tag = "identities", request_body = MergeMultipleBody, security(("api_key" = [])), responses(
    (status = 200, body = MergedMany), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn merge_multiple_identities(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<MergeMultipleBody>,
) -> ApiResult<Json<MergedMany>> {
    let caller = auth.require(WRITE)?;
    let request = MergeRequest {
        primary_identity_id: body.primary_identity_id,
        secondary_identity_ids: body.secondary_identity_ids,
        transfer_checks: true,
        redact_secondary: false,
    };
    let outcome = state.services.identities.merge(caller, &request).await?;
    let merged_ids: Vec<String> = outcome.secondaries.iter().map(|s| s.id.clone()).collect();
    Ok(Json(MergedMany {
        primary: outcome.primary.into(),
        merged_count: merged_ids.len(),
        merged_ids,
    }))
}
