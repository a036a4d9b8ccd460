//! Liveness, readiness and metrics (unauthenticated operational endpoints).

use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// Health answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthBody {
    /// `ok` or `unavailable`.
    pub status: &'static str,
    /// Database backend (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<&'static str>,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Process up", body = HealthBody)))]
pub async fn healthz() -> Json<HealthBody> {
    Json(HealthBody {
        status: "ok",
        database: None,
    })
}

/// The database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, description = "Ready", body = HealthBody),
    (status = 503, description = "Database unreachable", body = crate::error::ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.services.health.ping().await {
        Ok(()) => Json(HealthBody {
            status: "ok",
            database: Some(state.services.health.backend()),
        })
        .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            crate::error::ApiError {
                retry_after: Some(5),
                ..crate::error::ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "The database is not reachable.",
                )
            }
            .into_response()
        }
    }
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus metrics", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let text = state.metrics.render(state.services.health.pool_status());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
