//! `GET /api/v1/sessions/{id}/documents/{doc_type}?expires=&sig=`: a document's bytes by its
//! signed link, without an API key (CONTRACT §11.5). The link's query must hold exactly
//! `expires` and `sig`, once each; anything else is refused like a bad signature.

use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use verifa_app::sessions::LinkQuery;

/// The signed parts of the query; `None` when it holds anything else or a part twice.
fn link_query(raw: Option<&str>) -> Option<LinkQuery> {
    let mut link = LinkQuery::default();
    for pair in raw.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=')?;
        let slot = match name {
            "expires" => &mut link.expires,
            "sig" => &mut link.sig,
            _ => return None,
        };
        if slot.replace(value.to_owned()).is_some() {
            return None;
        }
    }
    Some(link)
}

/// Downloads a session document by its signed link.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/documents/{doc_type}", tag = "sessions",
    params(("session_id" = String, Path), ("doc_type" = String, Path, description = "`id_front` | `id_back` | `selfie` | `proof_of_address`"),
        ("expires" = i64, Query, description = "Unix seconds, as in the link"), ("sig" = String, Query, description = "The link's signature (lower-case hex)")),
    responses(
        (status = 200, description = "The document's bytes, with its sniffed type", content_type = "application/octet-stream"),
        (status = 403, description = "Missing, edited or expired signature (`invalid_signature`)", body = ErrorBody),
        (status = 404, description = "No such document, or redacted, or past the sensitive-data window", body = ErrorBody)))]
pub async fn download_document(
    State(state): State<AppState>,
    Path((session_id, doc_type)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let link = link_query(raw.as_deref()).unwrap_or_default();
    let download = state
        .services
        .sessions
        .download_by_link(&session_id, &doc_type, &link)
        .await?;
    let content_type = HeaderValue::from_str(&download.mime_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        download.bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_expires_and_sig_once_each() {
        let link = link_query(Some("expires=100&sig=ab")).unwrap_or_default();
        assert_eq!(
            (link.expires.as_deref(), link.sig.as_deref()),
            (Some("100"), Some("ab"))
        );
        assert!(link_query(Some("expires=1&expires=2&sig=ab")).is_none());
        assert!(link_query(Some("expires=1&sig=ab&x=1")).is_none());
        assert!(link_query(Some("expires")).is_none());
        let empty = link_query(None).unwrap_or_default();
        assert!(empty.expires.is_none() && empty.sig.is_none());
    }
}
