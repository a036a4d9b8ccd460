//! The idempotency-key protocol (CONTRACT §1.6) over the store port: claim, replay, mismatch,
//! in-progress, release on 5xx, and the sweep of old records.

use crate::error::AppError;
use chrono::Duration;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use verifa_domain::tenancy::Tenant;
use verifa_ports::clock::Clock;
use verifa_ports::idempotency::{Claim, IdempotencyStore, StoredResponse};

/// Longest accepted key.
pub const MAX_KEY_LEN: usize = 255;

/// Settings of the protocol.
#[derive(Debug, Clone, Copy)]
pub struct IdempotencySettings {
    /// How long a completed response is replayed.
    pub ttl: Duration,
    /// How long a claim holds before another request may take it over (the holder died).
    pub lock: Duration,
}

impl Default for IdempotencySettings {
    fn default() -> Self {
        Self {
            ttl: Duration::hours(24),
            lock: Duration::seconds(60),
        }
    }
}

/// What the caller must do with a request carrying an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Run the request, then call [`IdempotencyService::finish`].
    Proceed,
    /// Answer with this stored response (`Idempotent-Replayed: true`).
    Replay(StoredResponse),
    /// 422 `idempotency_mismatch`.
    Mismatch,
    /// 409 `idempotency_in_progress`.
    InProgress,
}

/// Checks a key's format: 1–255 printable ASCII characters.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_LEN && key.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// Fingerprint of a request: anything that changes the response must change it.
pub fn fingerprint(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    hex::encode(h.finalize())
}

/// The protocol.
pub struct IdempotencyService {
    store: Arc<dyn IdempotencyStore>,
    clock: Arc<dyn Clock>,
    settings: IdempotencySettings,
}

impl IdempotencyService {
    /// Builds the service.
    pub fn new(ports: &crate::Ports, settings: IdempotencySettings) -> Self {
        Self {
            store: ports.idempotency.clone(),
            clock: ports.clock.clone(),
            settings,
        }
    }

    /// Decides what to do with a request.
    pub async fn begin(
        &self,
        tenant: &Tenant,
        key: &str,
        fingerprint: &str,
    ) -> Result<Decision, AppError> {
        let now = self.clock.now();
        let claim = self
            .store
            .claim(
                tenant,
                key,
                fingerprint,
                now,
                now + self.settings.lock,
                now - self.settings.ttl,
            )
            .await?;
        Ok(match claim {
            Claim::Acquired => Decision::Proceed,
            Claim::Completed {
                fingerprint: f,
                response,
            } if f == fingerprint => Decision::Replay(response),
            Claim::InProgress { fingerprint: f } if f == fingerprint => Decision::InProgress,
            Claim::Completed { .. } | Claim::InProgress { .. } => Decision::Mismatch,
        })
    }

    /// Stores the response of a request that proceeded (or releases the key on a 5xx).
    pub async fn finish(
        &self,
        tenant: &Tenant,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), AppError> {
        if response.status >= 500 {
            self.store.release(tenant, key).await?;
        } else {
            self.store.complete(tenant, key, response).await?;
        }
        Ok(())
    }

    /// Deletes records past the replay window; returns how many.
    pub async fn sweep(&self) -> Result<u64, AppError> {
        Ok(self
            .store
            .sweep(self.clock.now() - self.settings.ttl)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_printable_and_bounded() {
        assert!(valid_key("signup_123"));
        assert!(!valid_key(""));
        assert!(!valid_key(&"a".repeat(256)));
        assert!(!valid_key("tab\there"));
        assert!(!valid_key("é"));
    }

    #[test]
    fn fingerprint_separates_parts() {
        assert_ne!(fingerprint(&[b"ab", b"c"]), fingerprint(&[b"a", b"bc"]));
        assert_eq!(fingerprint(&[b"x"]), fingerprint(&[b"x"]));
    }
}
