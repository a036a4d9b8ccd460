//! Authentication of a presented secret: shape, hash lookup, environment, usability, last use.

use super::{ApiKeyService, AuthFailure, Caller, LAST_USED_RESOLUTION};
use crate::error::AppError;
use std::net::IpAddr;
use verifa_domain::api_key::{self, KeyRefusal};

impl ApiKeyService {
    /// Authenticates a presented secret from `caller_ip`.
    pub async fn authenticate(
        &self,
        secret: Option<&str>,
        caller_ip: Option<IpAddr>,
    ) -> Result<Caller, AuthOutcome> {
        let secret = secret.ok_or(AuthOutcome::Refused(AuthFailure::Unauthorized))?;
        let shape =
            api_key::parse_secret(secret).ok_or(AuthOutcome::Refused(AuthFailure::Unauthorized))?;
        let key = match self
            .repo
            .find_by_secret_hash(&api_key::hash_secret(secret))
            .await
        {
            Ok(Some(key)) => key,
            Ok(None) => return Err(AuthOutcome::Refused(AuthFailure::Unauthorized)),
            Err(e) => return Err(AuthOutcome::Store(e.into())),
        };
        if key.environment != shape.environment || key.key_type != shape.key_type {
            return Err(AuthOutcome::Refused(AuthFailure::Unauthorized));
        }
        let now = self.clock.now();
        match key.check_usable(now, caller_ip) {
            Ok(()) => {}
            Err(KeyRefusal::IpNotAllowed) => {
                return Err(AuthOutcome::Refused(AuthFailure::IpNotAllowed));
            }
            Err(_) => return Err(AuthOutcome::Refused(AuthFailure::Unauthorized)),
        }
        if key
            .last_used_at
            .is_none_or(|at| now - at >= LAST_USED_RESOLUTION)
        {
            // Best effort: a failed bookkeeping write must not fail the request.
            if let Err(e) = self.repo.record_use(&key.id, now).await {
                tracing::warn!(error = %e, key_id = %key.id, "could not record key use");
            }
        }
        Ok(Caller {
            key,
            request: verifa_domain::audit::RequestMeta::default(),
        })
    }
}

/// Result of a failed authentication.
#[derive(Debug)]
pub enum AuthOutcome {
    /// The request is refused.
    Refused(AuthFailure),
    /// The key store failed (503, not 401: the key may well be valid).
    Store(AppError),
}
