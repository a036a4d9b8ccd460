//! `GET /rate-limits`: the caller's current budget, without spending it.

use crate::error::{ApiResult, ErrorBody};
use crate::extract::Authenticated;
use crate::middleware::rate_limit::bucket_for;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use serde::Serialize;
use utoipa::ToSchema;

/// The request budget of the key.
#[derive(Debug, Serialize, ToSchema)]
pub struct RateLimitWindow {
    /// Requests allowed per window.
    pub limit: u32,
    /// Requests left.
    pub remaining: u32,
    /// Seconds until the window resets.
    pub reset_in_seconds: u64,
    /// Window length.
    pub window_seconds: u64,
}

/// `GET /rate-limits` response.
#[derive(Debug, Serialize, ToSchema)]
pub struct RateLimitStatus {
    /// General request budget.
    pub rate_limit: RateLimitWindow,
    /// Endpoint quotas (session creation).
    pub quotas: serde_json::Value,
    /// Plan name.
    pub plan: String,
    /// Environment of the key.
    pub environment: String,
}

/// Current rate-limit status of the calling key.
#[utoipa::path(get, path = "/api/v1/rate-limits", tag = "api-keys", security(("api_key" = [])), responses(
    (status = 200, body = RateLimitStatus), (status = 401, body = ErrorBody)))]
pub async fn get_rate_limits(
    State(state): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<RateLimitStatus>> {
    let caller = &auth.0;
    let now = state.services.clock.now();
    let limiter = &state.services.rate_limiter;
    let (bucket, limit) = bucket_for(&state, caller, &Method::GET, "/api/v1/rate-limits");
    let general = limiter.peek(&bucket, limit, now);
    let (sbucket, slimit) = bucket_for(&state, caller, &Method::POST, "/api/v1/sessions");
    let sessions = limiter.peek(&sbucket, slimit, now);
    let window = limiter.window_secs();
    Ok(Json(RateLimitStatus {
        rate_limit: RateLimitWindow {
            limit: general.limit,
            remaining: general.remaining,
            reset_in_seconds: general.retry_after_secs,
            window_seconds: window,
        },
        quotas: serde_json::json!({
            "verification_creation": {"limit": sessions.limit, "remaining": sessions.remaining, "reset_in_seconds": sessions.retry_after_secs, "window_seconds": window}
        }),
        plan: state.settings.plan.clone(),
        environment: caller.key.environment.to_string(),
    }))
}
