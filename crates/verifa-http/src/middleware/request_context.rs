//! Request id (`X-Request-Id`, echoed when the caller sent a sane one), the per-request tracing
//! span (method, matched route, status, latency; never headers or bodies) and HTTP metrics.

use crate::error::{ApiError, REQUEST_ID};
use crate::metrics::HttpLabels;
use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::response::Response;
use std::time::Instant;
use tracing::Instrument;

/// Header carrying the request id both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

fn accept_caller_id(value: &HeaderValue) -> Option<String> {
    let s = value.to_str().ok()?;
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    ok.then(|| s.to_owned())
}

/// The middleware.
pub async fn request_context(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(accept_caller_id)
        .unwrap_or_else(|| verifa_app::ids::new_id(verifa_app::ids::prefix::REQUEST));
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let span = tracing::info_span!("http.request", request_id = %request_id, method = %method, route = %route, status = tracing::field::Empty, latency_ms = tracing::field::Empty);
    let timeout = state.settings.request_timeout;
    let run = async move {
        match tokio::time::timeout(timeout, next.run(req)).await {
            Ok(response) => response,
            Err(_) => ApiError {
                retry_after: Some(1),
                ..ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "The request took too long and was abandoned. Retry it.",
                )
            }
            .into_response(),
        }
    };
    let mut response = REQUEST_ID
        .scope(request_id.clone(), run.instrument(span.clone()))
        .await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    span.record("status", status);
    span.record("latency_ms", elapsed.as_secs_f64() * 1000.0);
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!("request failed");
        } else {
            tracing::info!("request served");
        }
    });
    state.metrics.observe(
        HttpLabels {
            method,
            route,
            status,
        },
        elapsed.as_secs_f64(),
    );
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    response
}
