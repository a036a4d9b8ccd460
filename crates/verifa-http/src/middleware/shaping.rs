//! Response shaping: the version transforms of [`crate::versioning`] and the `Key-Inflection`
//! casing, applied to JSON responses in one place so handlers always write the canonical shape.

use crate::error::ApiError;
use crate::middleware::version::ApiVersion;
use crate::versioning;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use verifa_app::api_keys::Caller;
use verifa_domain::inflection::{Inflection, inflect};

/// Request header.
pub const INFLECTION_HEADER: &str = "key-inflection";

/// The middleware (innermost).
pub async fn shape(req: Request, next: Next) -> Response {
    let inflection = match req.headers().get(INFLECTION_HEADER) {
        Some(raw) => match raw.to_str().ok().and_then(Inflection::parse) {
            Some(i) => i,
            None => {
                return ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    "Key-Inflection must be one of snake, camel, kebab.",
                )
                .into_response();
            }
        },
        None => req
            .extensions()
            .get::<Caller>()
            .and_then(|c| Inflection::parse(&c.key.default_key_inflection))
            .unwrap_or(Inflection::Snake),
    };
    let version = req
        .extensions()
        .get::<ApiVersion>()
        .map(|v| v.0.clone())
        .unwrap_or_default();
    let response = next.run(req).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json || (inflection == Inflection::Snake && !versioning::needs_transform(&version)) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return ApiError::internal(&"response body unreadable").into_response();
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let shaped = inflect(versioning::adapt_response(&version, value), inflection);
    let out = serde_json::to_vec(&shaped).unwrap_or_else(|_| bytes.to_vec());
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(out))
}
