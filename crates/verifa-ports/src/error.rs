//! The error every repository port returns.

/// A repository failure, in terms a use case can act on.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// The row does not exist (in the caller's tenant).
    #[error("not found")]
    NotFound,
    /// A uniqueness or consistency rule of the store refused the write; the string names it.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The store could not be reached or failed; the message is for logs, never for clients.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Stored data could not be decoded (a bug or a manual edit); message for logs only.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}
