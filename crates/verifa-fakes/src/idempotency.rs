//! [`IdempotencyStore`] in memory: a claim is a check-and-set under the world's lock, so
//! concurrent claims of one key yield exactly one `Acquired`.

use crate::state::{IdempotencyRecord, MemoryStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use verifa_domain::tenancy::Tenant;
use verifa_ports::RepoError;
use verifa_ports::idempotency::{Claim, IdempotencyStore, StoredResponse};

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn claim(
        &self,
        tenant: &Tenant,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        lock_until: DateTime<Utc>,
        expired_before: DateTime<Utc>,
    ) -> Result<Claim, RepoError> {
        let mut w = self.world()?;
        let id = (tenant.clone(), key.to_owned());
        if let Some(r) = w.idempotency.get(&id) {
            let stale =
                r.created_at < expired_before || (r.response.is_none() && r.locked_until < now);
            if !stale {
                return Ok(match &r.response {
                    Some(response) => Claim::Completed {
                        fingerprint: r.fingerprint.clone(),
                        response: response.clone(),
                    },
                    None => Claim::InProgress {
                        fingerprint: r.fingerprint.clone(),
                    },
                });
            }
        }
        w.idempotency.insert(
            id,
            IdempotencyRecord {
                fingerprint: fingerprint.to_owned(),
                response: None,
                created_at: now,
                locked_until: lock_until,
            },
        );
        Ok(Claim::Acquired)
    }

    async fn complete(
        &self,
        tenant: &Tenant,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), RepoError> {
        let mut w = self.world()?;
        if let Some(r) = w.idempotency.get_mut(&(tenant.clone(), key.to_owned())) {
            r.response = Some(response.clone());
        }
        Ok(())
    }

    async fn release(&self, tenant: &Tenant, key: &str) -> Result<(), RepoError> {
        let mut w = self.world()?;
        let id = (tenant.clone(), key.to_owned());
        if w.idempotency.get(&id).is_some_and(|r| r.response.is_none()) {
            w.idempotency.remove(&id);
        }
        Ok(())
    }

    async fn sweep(&self, before: DateTime<Utc>) -> Result<u64, RepoError> {
        let mut w = self.world()?;
        let n = w.idempotency.len();
        w.idempotency.retain(|_, r| r.created_at >= before);
        Ok((n - w.idempotency.len()) as u64)
    }
}
