//! Document uploads (multipart) and document metadata.

use super::objects::{DocumentList, DocumentObject};
use super::{DOCUMENTS, Id, VERIFICATIONS};
use crate::error::{ApiError, ApiResult, ErrorBody, FieldErrorBody};
use crate::extract::Authenticated;
use crate::state::AppState;
use axum::Json;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::StatusCode;
use utoipa::ToSchema;

/// Multipart upload body (documented shape; other parts are refused).
#[derive(Debug, ToSchema, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct UploadDocumentForm {
    /// The file (JPEG, PNG, WebP or PDF; ≤ 10 MiB).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// `id_front` | `id_back` | `selfie` | `proof_of_address`.
    #[schema(schema_with = crate::openapi::schemas::document_type)]
    document_type: String,
    /// Optional text read from the document (e.g. the MRZ lines).
    #[schema(schema_with = crate::openapi::schemas::document_text_or_null)]
    text: Option<String>,
    /// Alias of `text`.
    #[schema(schema_with = crate::openapi::schemas::document_text_or_null)]
    mrz: Option<String>,
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
    let mut problems = Vec::new();
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
        // A part sent twice, or one the form does not have, would be silently dropped.
        let slot_taken = match name.as_str() {
            "file" => file.replace(bytes.to_vec()).is_some(),
            "document_type" => document_type
                .replace(String::from_utf8_lossy(&bytes).trim().to_owned())
                .is_some(),
            "text" | "mrz" => text
                .replace(String::from_utf8_lossy(&bytes).into_owned())
                .is_some(),
            _ => {
                problems.push(FieldErrorBody {
                    field: name,
                    message: "is not a part of this form (file, document_type, text)".into(),
                });
                continue;
            }
        };
        if slot_taken {
            problems.push(FieldErrorBody {
                field: name,
                message: "was sent more than once".into(),
            });
        }
    }
    let mut missing = problems;
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
    if !missing.is_empty() {
        return Err(ApiError::validation(missing));
    }
    let doc = state
        .services
        .sessions
        .upload_document(caller, &id, &document_type, file, text)
        .await?;
    Ok((StatusCode::CREATED, Json(doc.into())))
}

/// Lists document metadata, each document with a signed, expiring download link.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/documents", tag = "sessions", params(("session_id" = String, Path)), security(("api_key" = [])), responses(
    (status = 200, body = DocumentList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_documents(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Id,
) -> ApiResult<Json<DocumentList>> {
    let caller = auth.require(VERIFICATIONS)?;
    let docs = state
        .services
        .sessions
        .signed_documents(caller, &id)
        .await?;
    Ok(Json(DocumentList {
        data: docs.into_iter().map(Into::into).collect(),
    }))
}
