//! The idempotency-key store (CONTRACT §1.6).

use crate::RepoError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use verifa_domain::tenancy::Tenant;

/// A response kept for replay, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// HTTP status code.
    pub status: u16,
    /// Headers worth replaying (content type, location), as name/value pairs.
    pub headers: Vec<(String, String)>,
    /// The exact body bytes.
    pub body: Vec<u8>,
}

/// What the store says when a request with an idempotency key starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First use (or the previous record expired / its holder died): the caller runs the request.
    Acquired,
    /// A request with this key is still running.
    InProgress {
        /// Fingerprint of the running request.
        fingerprint: String,
    },
    /// A completed request with this key exists.
    Completed {
        /// Fingerprint of the original request.
        fingerprint: String,
        /// Its response.
        response: StoredResponse,
    },
}

/// Stores idempotency records per (organization, environment, key).
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Atomically claims `key` for a request with `fingerprint`. A record older than
    /// `expired_before`, or in progress with a lock that lapsed before `now`, is taken over.
    /// Concurrent claims of one key MUST yield exactly one [`Claim::Acquired`].
    async fn claim(
        &self,
        tenant: &Tenant,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        lock_until: DateTime<Utc>,
        expired_before: DateTime<Utc>,
    ) -> Result<Claim, RepoError>;

    /// Stores the response of a claimed key.
    async fn complete(
        &self,
        tenant: &Tenant,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), RepoError>;

    /// Releases a claimed key without storing (5xx responses; the caller may retry).
    async fn release(&self, tenant: &Tenant, key: &str) -> Result<(), RepoError>;

    /// Deletes records created before `before`; returns how many.
    async fn sweep(&self, before: DateTime<Utc>) -> Result<u64, RepoError>;
}
