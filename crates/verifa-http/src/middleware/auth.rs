//! Authentication by `X-API-Key`: 401 for any missing, unknown, malformed, inactive or expired
//! key (indistinguishable, so no key oracle), 403 `ip_not_allowed` outside `allowed_ips`.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::connect_info::MockConnectInfo;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, SocketAddr};
use verifa_app::api_keys::{AuthFailure, AuthOutcome};
use verifa_domain::audit::RequestMeta;

/// Header carrying the key.
pub const API_KEY_HEADER: &str = "x-api-key";

fn caller_ip(req: &Request, trust_forwarded_for: bool) -> Option<IpAddr> {
    if trust_forwarded_for {
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    req.extensions()
        .get::<ConnectInfo<crate::wire::Peer>>()
        .map(|ci| ci.0.addr.ip())
        .or_else(|| {
            req.extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ci| ci.0.ip())
        })
        .or_else(|| {
            req.extensions()
                .get::<MockConnectInfo<SocketAddr>>()
                .map(|m| m.0.ip())
        })
}

/// The middleware.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    // Keys in URLs end up in proxy and browser logs: refuse them outright.
    if req.uri().query().is_some_and(|q| {
        q.split('&')
            .any(|p| p.to_ascii_lowercase().starts_with("api_key="))
    }) {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "API keys are not accepted in URLs; send the X-API-Key header.",
        )
        .into_response();
    }
    let secret = req
        .headers()
        .get(API_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .map(str::to_owned);
    let ip = caller_ip(&req, state.settings.trust_forwarded_for);
    match state
        .services
        .api_keys
        .authenticate(secret.as_deref(), ip)
        .await
    {
        Ok(mut caller) => {
            tracing::Span::current().record("key_id", caller.key.id.as_str());
            // What the audit trail records of the request (the path without its query, which
            // can carry search terms).
            caller.request = RequestMeta {
                ip_address: ip.map(|ip| ip.to_string()),
                method: Some(req.method().as_str().to_owned()),
                path: Some(req.uri().path().to_owned()),
                request_id: crate::error::current_request_id(),
            };
            req.extensions_mut().insert(caller);
            next.run(req).await
        }
        Err(AuthOutcome::Refused(AuthFailure::Unauthorized)) => {
            ApiError::unauthorized().into_response()
        }
        Err(AuthOutcome::Refused(AuthFailure::IpNotAllowed)) => ApiError::new(
            StatusCode::FORBIDDEN,
            "ip_not_allowed",
            "This API key may not be used from this IP address.",
        )
        .into_response(),
        Err(AuthOutcome::Store(e)) => ApiError::from(e).into_response(),
    }
}
