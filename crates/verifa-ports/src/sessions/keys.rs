//! [`DataKeyStore`]: the sessions' wrapped data keys, for a master-key rotation (CONTRACT
//! §11.2): only the wrapped key changes, never the data under it.

use crate::RepoError;
use async_trait::async_trait;

/// A session's wrapped data key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    /// `ses_…`.
    pub session_id: String,
    /// `<master key id>:<sealed key>`.
    pub wrapped: String,
}

/// Reads and replaces wrapped data keys across every tenant.
#[async_trait]
pub trait DataKeyStore: Send + Sync {
    /// Sessions of any tenant whose data key is not wrapped under the master key `key_id`,
    /// by session id, after `after`, at most `limit` (sessions without a data key are never
    /// returned).
    async fn data_keys_not_under(
        &self,
        key_id: &str,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<WrappedKey>, RepoError>;

    /// Replaces a session's wrapped key with `next` if it still is `expected` (a change of the
    /// session, or a redaction, may have got there first: then `false` and nothing changes).
    async fn replace_data_key(
        &self,
        session_id: &str,
        expected: &str,
        next: &str,
    ) -> Result<bool, RepoError>;
}
