//! The use-case error: what went wrong in terms the HTTP layer maps to a status.

use verifa_ports::RepoError;

/// One invalid field, with a dotted path into the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Dotted path, e.g. `graph.nodes.ocr.on_pass`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Errors of the use cases.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input is invalid; every problem is listed.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// The resource does not exist in the caller's tenant.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request conflicts with current state (e.g. a duplicate).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The resource is in a state that forbids the operation.
    #[error("invalid state: {0}")]
    InvalidState(String),
    /// The operation is not allowed for this caller (sandbox-only, live-only…).
    #[error("forbidden: {code}: {detail}")]
    Forbidden {
        /// Machine code (`sandbox_only`, `live_only`).
        code: &'static str,
        /// Human detail.
        detail: String,
    },
    /// The input is larger than allowed (413).
    #[error("too large: {0}")]
    TooLarge(String),
    /// A dependency failed; the message is for logs only.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A bug or corrupt data; the message is for logs only.
    #[error("internal: {0}")]
    Internal(String),
}

impl AppError {
    /// A single-field validation error.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, message)])
    }

    /// Maps a repository error, naming the resource for `NotFound`.
    pub fn from_repo(resource: &'static str) -> impl FnOnce(RepoError) -> AppError {
        move |e| match e {
            RepoError::NotFound => AppError::NotFound(resource),
            other => other.into(),
        }
    }
}

impl From<RepoError> for AppError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound => AppError::NotFound("resource"),
            RepoError::Conflict(c) => AppError::Conflict(c),
            RepoError::Unavailable(m) => AppError::Unavailable(m),
            RepoError::Corrupt(m) => AppError::Internal(m),
        }
    }
}

/// A 422 listing `(field path, message)` problems found by a domain rule.
pub(crate) fn field_problems(problems: Vec<(String, String)>) -> AppError {
    AppError::Validation(
        problems
            .into_iter()
            .map(|(field, message)| FieldError::new(field, message))
            .collect(),
    )
}
