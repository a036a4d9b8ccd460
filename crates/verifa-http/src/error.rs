//! The one error body of the API (CONTRACT §1.2) and the mapping of use-case errors to it.
//!
//! `IntoResponse` has no access to the request, so the request id travels in a task-local set by
//! the request-context middleware for the whole request.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use verifa_app::{AppError, FieldError};

tokio::task_local! {
    /// The id of the request being served.
    pub static REQUEST_ID: String;
}

/// The current request id, when called inside a request.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// One invalid field of a 422.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct FieldErrorBody {
    /// Dotted path of the field, e.g. `graph.nodes.ocr.on_pass`.
    #[schema(example = "graph.nodes.ocr.on_pass")]
    pub field: String,
    /// What is wrong with it.
    #[schema(example = "refers to unknown node 'face'")]
    pub message: String,
}

/// The body of every error response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct ErrorBody {
    /// Machine-readable code.
    #[schema(example = "validation_error")]
    pub error: String,
    /// Human-readable sentence.
    #[schema(example = "The request is invalid.")]
    pub detail: String,
    /// The HTTP status, repeated.
    #[schema(example = 422)]
    pub status_code: u16,
    /// Every problem, on 422 only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldErrorBody>>,
    /// The request id (also in `X-Request-Id`).
    #[schema(example = "req_0192f8c2a1b27c3e8d4f5a6b7c8d9e0f")]
    pub request_id: Option<String>,
}

/// An error answered to the client.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Machine code.
    pub code: &'static str,
    /// Human detail.
    pub detail: String,
    /// Field errors (422 only).
    pub errors: Option<Vec<FieldErrorBody>>,
    /// Seconds for `Retry-After` (429 / 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a code and detail.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            errors: None,
            retry_after: None,
        }
    }

    /// 400 `bad_request`.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", detail)
    }

    /// 401 `unauthorized`.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "A valid API key is required in the X-API-Key header.",
        )
    }

    /// 403 `insufficient_scope`.
    pub fn insufficient_scope(scope: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!("This API key lacks the '{scope}' scope."),
        )
    }

    /// 404 `not_found`.
    pub fn not_found(what: &str) -> Self {
        let mut chars = what.chars();
        let capitalised = chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect::<String>())
            .unwrap_or_default();
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{capitalised} not found."),
        )
    }

    /// 422 `validation_error` listing every field problem.
    pub fn validation(errors: Vec<FieldErrorBody>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("Invalid '{}': {}.", one.field, one.message),
            _ => format!("The request has {} invalid fields.", errors.len()),
        };
        Self {
            errors: Some(errors),
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_error", detail)
        }
    }

    /// 500 `internal_error`; the cause is logged, never sent.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "An internal error occurred. Quote the request id when contacting support.",
        )
    }

    /// The body that goes on the wire.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: self.code.to_owned(),
            detail: self.detail.clone(),
            status_code: self.status.as_u16(),
            errors: self.errors.clone(),
            request_id: current_request_id(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.body()).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

impl From<FieldError> for FieldErrorBody {
    fn from(e: FieldError) -> Self {
        Self {
            field: e.field,
            message: e.message,
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Validation(errors) => {
                ApiError::validation(errors.into_iter().map(Into::into).collect())
            }
            AppError::NotFound(what) => ApiError::not_found(what),
            AppError::Conflict(detail) => ApiError::new(StatusCode::CONFLICT, "conflict", detail),
            AppError::InvalidState(detail) => {
                ApiError::new(StatusCode::CONFLICT, "invalid_state", detail)
            }
            AppError::Forbidden { code, detail } => {
                ApiError::new(StatusCode::FORBIDDEN, code, detail)
            }
            AppError::TooLarge(detail) => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", detail)
            }
            AppError::Unavailable(cause) => {
                tracing::error!(error = %cause, "dependency unavailable");
                ApiError {
                    retry_after: Some(5),
                    ..ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "unavailable",
                        "The service is temporarily unavailable. Retry shortly.",
                    )
                }
            }
            AppError::Internal(cause) => ApiError::internal(&cause),
        }
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
