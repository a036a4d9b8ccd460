//! Time as a port, so use cases and tests can control it.

use chrono::{DateTime, Utc};

/// Source of the current time.
pub trait Clock: Send + Sync {
    /// The current instant (UTC).
    fn now(&self) -> DateTime<Utc>;
}
