//! Readiness and pool statistics of the primary store.

use crate::RepoError;
use async_trait::async_trait;

/// Connection-pool usage, exported as metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStatus {
    /// Open connections.
    pub size: u32,
    /// Idle connections among them.
    pub idle: u32,
    /// Configured maximum.
    pub max: u32,
}

/// Health of the primary store.
#[async_trait]
pub trait StoreHealth: Send + Sync {
    /// Round-trips to the store.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] when the store cannot answer.
    async fn ping(&self) -> Result<(), RepoError>;

    /// Current pool usage.
    fn pool_status(&self) -> PoolStatus;

    /// Backend name (`sqlite` / `postgres`).
    fn backend(&self) -> &'static str;
}
