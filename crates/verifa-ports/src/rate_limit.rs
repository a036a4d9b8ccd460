//! Per-key request rate limiting (CONTRACT §1.7).

use chrono::{DateTime, Utc};

/// The outcome of counting one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// The limit of the bucket.
    pub limit: u32,
    /// Requests left in the window after this one.
    pub remaining: u32,
    /// When the window resets.
    pub reset_at: DateTime<Utc>,
    /// Seconds until the window resets (for `Retry-After`).
    pub retry_after_secs: u64,
}

/// Counts requests per bucket (a key id, optionally suffixed with an endpoint class).
pub trait RateLimiter: Send + Sync {
    /// Counts one request against `bucket` with `limit` per window, at `now`.
    fn hit(&self, bucket: &str, limit: u32, now: DateTime<Utc>) -> RateDecision;

    /// Reads the bucket without counting.
    fn peek(&self, bucket: &str, limit: u32, now: DateTime<Utc>) -> RateDecision;

    /// Length of the window in seconds.
    fn window_secs(&self) -> u64;
}
