//! Capture links: every new token revokes the previous one; only its SHA-256 is stored, the token
//! itself is returned once inside the capture URL.

use super::mutate;
use super::{SessionService, SessionView, change_by, illegal, token_hash};
use crate::actor::By;
use crate::api_keys::Caller;
use crate::error::AppError;
use crate::secrets::random_base62;
use chrono::{DateTime, Duration, Utc};
use verifa_domain::session::{self, Action, CaptureToken};

/// Longest one-time link lifetime, in minutes (7 days).
pub const MAX_LINK_MINUTES: i64 = 10_080;

impl SessionService {
    /// A fresh capture token valid for `ttl`: the token (shown once) and what the session keeps.
    pub(super) fn new_capture_token(
        &self,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> (String, CaptureToken) {
        let token = format!("tok_{}", random_base62(32));
        let kept = CaptureToken {
            hash: token_hash(&token),
            expires_at: now + ttl,
        };
        (token, kept)
    }

    /// Issues a fresh capture token; expired sessions go back to `pending`.
    pub async fn resume(&self, caller: &Caller, id: &str) -> Result<SessionView, AppError> {
        let now = self.clock.now();
        let (token, kept) = self.new_capture_token(now, self.settings.capture_ttl);
        self.issue(caller, id, Action::Resume { token: kept }, &token)
            .await
    }

    /// A one-time capture link (revokes the previous token).
    pub async fn generate_link(
        &self,
        caller: &Caller,
        id: &str,
        expires_in_minutes: Option<i64>,
    ) -> Result<SessionView, AppError> {
        let current = self.get(caller, id).await?;
        let now = self.clock.now();
        session::check(
            &current,
            &Action::GenerateLink {
                token: CaptureToken {
                    hash: String::new(),
                    expires_at: now,
                },
            },
        )
        .map_err(illegal)?;
        let ttl = match expires_in_minutes {
            None => self.settings.capture_ttl,
            Some(m) if (1..=MAX_LINK_MINUTES).contains(&m) => Duration::minutes(m),
            Some(_) => {
                return Err(AppError::invalid(
                    "expires_in_minutes",
                    format!("must be between 1 and {MAX_LINK_MINUTES} (7 days)"),
                ));
            }
        };
        let (token, kept) = self.new_capture_token(now, ttl);
        self.issue(caller, id, Action::GenerateLink { token: kept }, &token)
            .await
    }

    /// Commits a new token (`action` carries its hash) and shows the session with its link.
    async fn issue(
        &self,
        caller: &Caller,
        id: &str,
        action: Action,
        token: &str,
    ) -> Result<SessionView, AppError> {
        let session = mutate!(self, &caller.tenant(), id, |current| async {
            let t =
                session::transition(&current, action.clone(), self.clock.now()).map_err(illegal)?;
            Ok(change_by(t, &action, By::Caller(caller)))
        }
        .await)?;
        let url = self.capture_url(token);
        Ok(SessionView {
            qr_code_data_url: crate::qr::png_data_url(&url).ok(),
            capture_url: Some(url),
            session,
        })
    }
}
