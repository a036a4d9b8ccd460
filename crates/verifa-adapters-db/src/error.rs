//! Mapping of sea-orm errors to the port errors, and setup errors of the adapter.

use sea_orm::{DbErr, SqlErr};
use verifa_ports::RepoError;

/// Failures opening or migrating the store.
#[derive(Debug, thiserror::Error)]
pub enum DbSetupError {
    /// The URL scheme is neither sqlite nor postgres.
    #[error("unsupported database URL scheme '{0}' (use sqlite:// or postgres://)")]
    UnsupportedScheme(String),
    /// The database folder could not be created.
    #[error("cannot create database folder {0}: {1}")]
    Io(String, #[source] std::io::Error),
    /// Connecting failed.
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(String),
}

/// Maps a sea-orm error: unique/foreign-key violations become conflicts (portable across both
/// backends through `sql_err`), everything else is unavailability.
pub(crate) fn map_db(e: DbErr) -> RepoError {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(c)) => RepoError::Conflict(c),
        Some(SqlErr::ForeignKeyConstraintViolation(c)) => RepoError::Conflict(c),
        _ => match e {
            DbErr::RecordNotFound(_) => RepoError::NotFound,
            other => RepoError::Unavailable(other.to_string()),
        },
    }
}

/// Maps a JSON decoding failure of a stored column.
pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> RepoError {
    RepoError::Corrupt(format!("{what}: {e}"))
}

/// Whether an error is a uniqueness violation.
pub(crate) fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}
