//! `Idempotency-Key` on POST and PATCH (CONTRACT §1.6): the first response (status, headers that
//! matter, exact body bytes) is stored; a repeat with the same request replays it with
//! `Idempotent-Replayed: true`; a different request → 422; a repeat while the first still runs
//! → 409; 5xx responses are not stored.

use crate::error::ApiError;
use crate::middleware::version::ApiVersion;
use crate::state::AppState;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use verifa_app::api_keys::Caller;
use verifa_app::idempotency::{Decision, fingerprint, valid_key};
use verifa_ports::idempotency::StoredResponse;

/// Request header.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";
/// Response header marking a replay.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// Largest body fingerprinted (documents are up to 10 MiB plus multipart framing).
const MAX_FINGERPRINTED_BODY: usize = 11 * 1024 * 1024;
/// Response headers worth replaying.
const REPLAYED_HEADERS: &[HeaderName] = &[header::CONTENT_TYPE, header::LOCATION];

/// The middleware (runs after authentication and version resolution).
pub async fn idempotency(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !(req.method() == Method::POST || req.method() == Method::PATCH) {
        return next.run(req).await;
    }
    let Some(raw_key) = req.headers().get(IDEMPOTENCY_HEADER) else {
        return next.run(req).await;
    };
    let key = match raw_key.to_str() {
        Ok(k) if valid_key(k) => k.to_owned(),
        _ => {
            return ApiError::bad_request(
                "Idempotency-Key must be 1 to 255 printable ASCII characters.",
            )
            .into_response();
        }
    };
    let Some(caller) = req.extensions().get::<Caller>().cloned() else {
        return ApiError::unauthorized().into_response();
    };
    let tenant = caller.tenant();
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, MAX_FINGERPRINTED_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "The request body is too large.",
            )
            .into_response();
        }
    };
    let header_bytes = |name: &str| {
        parts
            .headers
            .get(name)
            .map(|v| v.as_bytes().to_vec())
            .unwrap_or_default()
    };
    let version = parts
        .extensions
        .get::<ApiVersion>()
        .map(|v| v.0.clone())
        .unwrap_or_default();
    let print = fingerprint(&[
        parts.method.as_str().as_bytes(),
        parts.uri.path().as_bytes(),
        parts.uri.query().unwrap_or_default().as_bytes(),
        &header_bytes("content-type"),
        &header_bytes("key-inflection"),
        version.as_bytes(),
        &bytes,
    ]);
    let service = &state.services.idempotency;
    match service.begin(&tenant, &key, &print).await {
        Err(e) => ApiError::from(e).into_response(),
        Ok(Decision::Mismatch) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_mismatch",
            "Idempotency key has already been used with different parameters.",
        )
        .into_response(),
        Ok(Decision::InProgress) => ApiError::new(
            StatusCode::CONFLICT,
            "idempotency_in_progress",
            "A request with this idempotency key is still being processed. Retry shortly.",
        )
        .into_response(),
        Ok(Decision::Replay(stored)) => replay(stored),
        Ok(Decision::Proceed) => {
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            let (mut rparts, rbody) = response.into_parts();
            let body = match to_bytes(rbody, usize::MAX).await {
                Ok(b) => b,
                Err(e) => {
                    let _ = service
                        .finish(
                            &tenant,
                            &key,
                            &StoredResponse {
                                status: 500,
                                headers: vec![],
                                body: vec![],
                            },
                        )
                        .await;
                    return ApiError::internal(&e).into_response();
                }
            };
            let stored = StoredResponse {
                status: rparts.status.as_u16(),
                headers: REPLAYED_HEADERS
                    .iter()
                    .filter_map(|h| {
                        rparts
                            .headers
                            .get(h)
                            .and_then(|v| v.to_str().ok())
                            .map(|v| (h.as_str().to_owned(), v.to_owned()))
                    })
                    .collect(),
                body: body.to_vec(),
            };
            if let Err(e) = service.finish(&tenant, &key, &stored).await {
                tracing::error!(error = %e, "could not store idempotent response");
            }
            rparts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(rparts, Body::from(body))
        }
    }
}

fn replay(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = (status, stored.body).into_response();
    let headers = response.headers_mut();
    for (name, value) in stored.headers {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::from_str(&value)) {
            headers.insert(n, v);
        }
    }
    headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    response
}
