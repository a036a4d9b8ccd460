//! Extractors that answer with the contract's error body: JSON bodies (415, 400 `invalid_json`,
//! 413, 422 with the failing field path), query strings, and the authenticated caller.

use crate::error::{ApiError, FieldErrorBody};
use crate::strict_json::{self, StrictJsonError};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use verifa_app::api_keys::Caller;

/// A JSON body deserialised with field-path errors.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

/// Reads the body bytes, mapping limit overflows to 413.
pub async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|e| match e {
        BytesRejection::FailedToBufferBody(inner)
            if inner.status() == StatusCode::PAYLOAD_TOO_LARGE =>
        {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "The request body is larger than the limit of 1 MiB.",
            )
        }
        other => ApiError::bad_request(format!("Could not read the request body: {other}.")),
    })
}

/// Whether the request declares a JSON content type.
pub fn is_json(parts_headers: &axum::http::HeaderMap) -> bool {
    parts_headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| {
            let m = m.trim().to_ascii_lowercase();
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// Parses JSON bytes into `T`, naming the failing field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    from_value(parse_value(bytes)?)
}

/// Parses JSON strictly (see [`strict_json`]).
fn parse_value(bytes: &[u8]) -> Result<serde_json::Value, ApiError> {
    // Syntax errors are 400; well-formed JSON of the wrong shape (a repeated key included) is 422
    // with the field path.
    strict_json::from_slice(bytes).map_err(|e| match e {
        StrictJsonError::Syntax(e) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("The request body is not valid JSON: {e}."),
        ),
        StrictJsonError::DuplicateKey(field) => ApiError::validation(vec![FieldErrorBody {
            field,
            message: "appears more than once in its object; send each key once".into(),
        }]),
    })
}

/// Parses a request body that must be a JSON object into `T` (every body of this API is one:
/// a derived struct would otherwise also accept an array of its fields in order).
pub fn parse_json_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value = parse_value(bytes)?;
    if !value.is_object() {
        return Err(ApiError::validation(vec![FieldErrorBody {
            field: "body".into(),
            message: "must be a JSON object".into(),
        }]));
    }
    from_value(value)
}

/// Deserialises an already-parsed JSON value into `T`, naming the failing field.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        ApiError::validation(vec![FieldErrorBody {
            field,
            message: e.into_inner().to_string(),
        }])
    })
}

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the request body as JSON with 'Content-Type: application/json'.",
            ));
        }
        let bytes = read_body(req, state).await?;
        parse_json_object(&bytes).map(ApiJson)
    }
}

/// An optional JSON body: an empty body (with or without a content type) or `null` is
/// `T::default()`.
#[derive(Debug)]
pub struct OptionalJson<T>(pub T);

impl<T, S> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = is_json(req.headers());
        let has_type = req.headers().contains_key(header::CONTENT_TYPE);
        let bytes = read_body(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        if has_type && !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the request body as JSON with 'Content-Type: application/json'.",
            ));
        }
        // `null` says "nothing", as an empty body does.
        if bytes.trim_ascii() == b"null" {
            return Ok(OptionalJson(T::default()));
        }
        parse_json_object(&bytes).map(OptionalJson)
    }
}

/// Query parameters with contract errors (422 naming the parameter).
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded_de(query);
        de.map(ApiQuery)
    }
}

fn serde_urlencoded_de<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    // axum's Query uses serde_urlencoded; go through it to get its error text, then re-parse
    // into a map to name the failing parameter.
    match axum::extract::Query::<T>::try_from_uri(
        &format!("/?{query}")
            .parse()
            .map_err(|_| ApiError::bad_request("Malformed query string."))?,
    ) {
        Ok(axum::extract::Query(v)) => Ok(v),
        Err(e) => {
            let text = e.body_text();
            let message = text.replace("Failed to deserialize query string: ", "");
            let field = message
                .split(':')
                .next()
                .map(str::trim)
                .filter(|f| {
                    !f.is_empty()
                        && f.bytes().all(|b| {
                            b.is_ascii_alphanumeric() || b == b'_' || b == b'[' || b == b']'
                        })
                })
                .unwrap_or("query")
                .to_owned();
            Err(ApiError::validation(vec![FieldErrorBody {
                field,
                message,
            }]))
        }
    }
}

/// The authenticated caller, put into the request extensions by the auth middleware.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .map(Authenticated)
            .ok_or_else(ApiError::unauthorized)
    }
}

impl Authenticated {
    /// Fails with 403 `insufficient_scope` unless the key holds `scope`.
    pub fn require(&self, scope: &str) -> Result<&Caller, ApiError> {
        if self.0.key.scopes.allows(scope) {
            Ok(&self.0)
        } else {
            Err(ApiError::insufficient_scope(scope))
        }
    }

    /// Fails with 403 `insufficient_scope`, naming them all, unless the key holds one of
    /// `scopes`.
    pub fn require_any(&self, scopes: &[&str]) -> Result<&Caller, ApiError> {
        if scopes.iter().any(|s| self.0.key.scopes.allows(s)) {
            Ok(&self.0)
        } else {
            Err(ApiError::insufficient_scope(&scopes.join("' or '")))
        }
    }
}
