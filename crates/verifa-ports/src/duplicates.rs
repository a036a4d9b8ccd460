//! Duplicate detection: keyed fingerprints of identifying attributes (document number, email,
//! phone, name + date of birth) recorded per session, so a new session can find the org's other
//! sessions that share one. Only keyed hashes are stored, never plaintext.

use crate::RepoError;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use verifa_domain::tenancy::Tenant;

/// Another session sharing fingerprints with the one being checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateMatch {
    /// The other session (`ses_…`).
    pub session_id: String,
    /// Attributes it shares (e.g. `document_number`, `email`), sorted, without duplicates.
    pub attributes: Vec<String>,
}

/// Stores attribute fingerprints per session.
#[async_trait]
pub trait DuplicateIndex: Send + Sync {
    /// Records `fingerprints` (`(attribute, keyed hash hex)` pairs) for `session_id` and returns
    /// the OTHER sessions of the same organization AND environment that recorded any of the same
    /// pairs, one [`DuplicateMatch`] per session, sorted by session id. MUST be idempotent
    /// (recording the same pair for the same session twice stores it once) and MUST NOT return
    /// `session_id` itself or sessions of another tenant.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] on store failure.
    async fn record_and_match(
        &self,
        tenant: &Tenant,
        session_id: &str,
        fingerprints: &[(String, String)],
    ) -> Result<Vec<DuplicateMatch>, RepoError>;
}
