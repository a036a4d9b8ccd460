//! Per-key rate limits with `X-RateLimit-*` headers on every response and 429 + `Retry-After`.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use verifa_app::api_keys::Caller;
use verifa_domain::api_key::KeyType;
use verifa_ports::rate_limit::RateDecision;

/// The bucket and limit that apply to a request.
pub fn bucket_for(state: &AppState, caller: &Caller, method: &Method, path: &str) -> (String, u32) {
    let limits = state.settings.rate_limits;
    if caller.key.key_type == KeyType::Publishable {
        return (caller.key.id.clone(), limits.publishable_per_minute);
    }
    if method == Method::POST && path.trim_end_matches('/') == "/api/v1/sessions" {
        return (
            format!("{}:sessions_create", caller.key.id),
            limits.session_create_per_minute,
        );
    }
    (caller.key.id.clone(), limits.requests_per_minute)
}

fn set_headers(headers: &mut HeaderMap, d: &RateDecision) {
    for (name, value) in [
        ("x-ratelimit-limit", d.limit.to_string()),
        ("x-ratelimit-remaining", d.remaining.to_string()),
        ("x-ratelimit-reset", d.reset_at.timestamp().to_string()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
}

/// The middleware (runs after authentication).
pub async fn rate_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(caller) = req.extensions().get::<Caller>().cloned() else {
        return ApiError::unauthorized().into_response();
    };
    let (bucket, limit) = bucket_for(&state, &caller, req.method(), req.uri().path());
    let now = state.services.clock.now();
    // `GET /rate-limits` reports the budget without spending it.
    let is_status_probe = req.method() == Method::GET
        && req.uri().path().trim_end_matches('/') == "/api/v1/rate-limits";
    let decision = if is_status_probe {
        state.services.rate_limiter.peek(&bucket, limit, now)
    } else {
        state.services.rate_limiter.hit(&bucket, limit, now)
    };
    if !decision.allowed {
        let secs = decision.retry_after_secs;
        let mut response = ApiError {
            retry_after: Some(secs),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("Rate limit exceeded. Retry after {secs} seconds."),
            )
        }
        .into_response();
        set_headers(response.headers_mut(), &decision);
        return response;
    }
    let mut response = next.run(req).await;
    set_headers(response.headers_mut(), &decision);
    response
}
