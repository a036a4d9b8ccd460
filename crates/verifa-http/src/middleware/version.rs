//! `Verifa-Version` (CONTRACT §1.4): the requested version, or the key's pinned one; unknown,
//! malformed or retired → 400 `unsupported_api_version`. Echoed on every response.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use verifa_app::api_keys::Caller;

/// Header name.
pub const VERSION_HEADER: &str = "verifa-version";

/// The API version a request is served with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiVersion(pub String);

fn well_formed(v: &str) -> bool {
    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok() && v.len() == 10
}

fn unsupported(detail: String) -> Response {
    ApiError::new(StatusCode::BAD_REQUEST, "unsupported_api_version", detail).into_response()
}

/// The middleware (runs after authentication).
pub async fn version(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let policy = &state.settings.versions;
    let requested = match req.headers().get(VERSION_HEADER) {
        None => None,
        Some(raw) => match raw.to_str() {
            Ok(v) => Some(v.trim().to_owned()),
            Err(_) => {
                return unsupported(
                    "The Verifa-Version header must be a date like 2026-01-01.".into(),
                );
            }
        },
    };
    let version = match requested {
        Some(v) if !well_formed(&v) => {
            return unsupported(format!(
                "'{v}' is not a valid API version; use a date like {}.",
                policy.current
            ));
        }
        Some(v) if policy.retired.contains(&v) => {
            return unsupported(format!(
                "API version {v} has been retired. Upgrade to {} (the current version).",
                policy.current
            ));
        }
        Some(v) if !policy.known.contains(&v) => {
            return unsupported(format!(
                "Unknown API version {v}. Supported versions: {}.",
                policy.known.join(", ")
            ));
        }
        Some(v) => v,
        None => req
            .extensions()
            .get::<Caller>()
            .map(|c| c.key.api_version.clone())
            .filter(|v| policy.known.contains(v))
            .unwrap_or_else(|| policy.current.clone()),
    };
    req.extensions_mut().insert(ApiVersion(version.clone()));
    let mut response = next.run(req).await;
    if let Ok(v) = HeaderValue::from_str(&version) {
        response.headers_mut().insert(VERSION_HEADER, v);
    }
    response
}
