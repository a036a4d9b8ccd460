//! `PUT /cases/{id}/result/pii`: a reviewer corrects the extracted data of the case's session.

use super::WRITE;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Authenticated};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// Body of `PUT /cases/{id}/result/pii`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PiiCorrectionBody {
    /// Keys to replace (text, ≤ 500 characters) or remove (`null`); only `first_name`,
    /// `last_name`, `date_of_birth`, `address`, `document_number`, `nationality`, `gender`,
    /// `ssn`, `document_type`, `document_expiration_date`, `document_issuing_state`.
    #[schema(schema_with = crate::openapi::schemas::pii_correction)]
    pub extracted_data: Map<String, Value>,
    /// The reviewer correcting (an active reviewer or admin), recorded in the audit trail.
    #[schema(min_length = 1, max_length = 64)]
    pub reviewer_id: Option<String>,
}

/// The corrected result.
#[derive(Debug, Serialize, ToSchema)]
pub struct CorrectedResultObject {
    /// `ses_…`.
    pub session_id: String,
    /// The result's status (a correction does not change it).
    pub status: String,
    /// The extracted data after the correction.
    #[schema(value_type = Object)]
    pub extracted_data: Map<String, Value>,
    /// When it was corrected.
    pub updated_at: DateTime<Utc>,
}

/// Corrects the extracted data of an active case's session.
#[utoipa::path(put, path = "/api/v1/cases/{id}/result/pii", tag = "cases", params(("id" = String, Path, description = "`case_…`")), request_body = PiiCorrectionBody, security(("api_key" = [])), responses(
    (status = 200, body = CorrectedResultObject), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn correct_pii(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PiiCorrectionBody>,
) -> ApiResult<Json<CorrectedResultObject>> {
    let caller = auth.require(WRITE)?;
    let done = state
        .services
        .cases
        .correct_pii(
            caller,
            &id,
            &body.extracted_data,
            body.reviewer_id.as_deref(),
        )
        .await?;
    Ok(Json(CorrectedResultObject {
        session_id: done.session_id,
        status: done.status.to_owned(),
        extracted_data: done.extracted_data,
        updated_at: done.updated_at,
    }))
}
