//! [`HttpTransport`]: the reqwest implementation of the webhook transport port.

use crate::guard::{GuardedDns, ResolveFailure, find_refusal};
use crate::resolver::{HostResolver, SystemResolver};
use async_trait::async_trait;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::error::Error as StdError;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{Instant, timeout_at};
use verifa_domain::webhooks::ssrf::{Host, SsrfError, check_url, is_forbidden};
use verifa_ports::webhooks::{
    BODY_EXCERPT_LIMIT, TIMEOUT_ERROR, WebhookRequest, WebhookResponse, WebhookTransport,
};

/// `User-Agent` of every delivery.
pub const USER_AGENT: &str = concat!("Verifa-Webhooks/", env!("CARGO_PKG_VERSION"));

/// The HTTP client could not be built (TLS backend initialisation).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the webhook HTTP client: {0}")]
pub struct TransportBuildError(String);

/// Sends webhook attempts over HTTP(S) with the SSRF guard.
///
/// Two clients with separate connection pools: one whose resolver enforces the SSRF rules, one
/// (used only when a request allows private networks) whose resolver does not. A pooled
/// connection is therefore never reused across the two policies.
pub struct HttpTransport {
    resolver: Arc<dyn HostResolver>,
    strict: reqwest::Client,
    permissive: reqwest::Client,
}

impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTransport").finish_non_exhaustive()
    }
}

fn build_client(
    resolver: Arc<dyn HostResolver>,
    allow_private_networks: bool,
) -> Result<reqwest::Client, TransportBuildError> {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(GuardedDns::new(resolver, allow_private_networks)))
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| TransportBuildError(e.to_string()))
}

impl HttpTransport {
    /// A transport using the system resolver.
    pub fn new() -> Result<Self, TransportBuildError> {
        Self::with_resolver(Arc::new(SystemResolver))
    }

    /// A transport using `resolver` for every name (tests script DNS through it).
    pub fn with_resolver(resolver: Arc<dyn HostResolver>) -> Result<Self, TransportBuildError> {
        Ok(HttpTransport {
            strict: build_client(Arc::clone(&resolver), false)?,
            permissive: build_client(Arc::clone(&resolver), true)?,
            resolver,
        })
    }

    /// One attempt up to the response headers; `Err` carries the failure text.
    async fn attempt(
        &self,
        request: &WebhookRequest,
        deadline: Instant,
    ) -> Result<WebhookResponse, String> {
        let allow = request.allow_private_networks;
        let target = check_url(&request.url, allow).map_err(|e| e.to_string())?;
        if let Host::Domain(name) = &target.host {
            // Refuse early, with a clear message, when any address is forbidden. The client's
            // resolver checks again at connect time (DNS rebinding).
            GuardedDns::resolve_checked(self.resolver.as_ref(), name, allow)
                .await
                .map_err(|e| match e {
                    ResolveFailure::Dns(m) => m,
                    ResolveFailure::Refused(r) => r.to_string(),
                })?;
        }
        let headers = build_headers(&request.headers)?;
        let client = if allow {
            &self.permissive
        } else {
            &self.strict
        };
        let http_request = client
            .post(request.url.as_str())
            .headers(headers)
            .body(request.body.clone())
            .build()
            .map_err(|e| format!("invalid request: {}", describe(&e)))?;
        // Defence in depth: the host reqwest will connect to must be the one we checked.
        if !allow {
            let host = http_request
                .url()
                .host_str()
                .map(|h| h.trim_start_matches('[').trim_end_matches(']'));
            if let Some(ip) = host.and_then(|h| h.parse::<IpAddr>().ok())
                && is_forbidden(ip)
            {
                return Err(SsrfError::ForbiddenAddress(ip).to_string());
            }
        }
        let mut response = client
            .execute(http_request)
            .await
            .map_err(|e| describe(&e))?;
        let status = response.status().as_u16();
        let mut excerpt = Vec::new();
        // The excerpt is best effort: a slow body keeps what arrived before the deadline.
        let _ = timeout_at(deadline, read_excerpt(&mut response, &mut excerpt)).await;
        Ok(WebhookResponse {
            status: Some(status),
            error: None,
            duration_ms: 0,
            body_excerpt: excerpt_text(&excerpt),
        })
    }
}

fn build_headers(pairs: &[(String, String)]) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::with_capacity(pairs.len());
    for (name, value) in pairs {
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("invalid header name '{name}'"))?;
        let v = HeaderValue::from_str(value)
            .map_err(|_| format!("invalid value for header '{name}'"))?;
        map.append(n, v);
    }
    Ok(map)
}

async fn read_excerpt(response: &mut reqwest::Response, buf: &mut Vec<u8>) {
    while buf.len() < BODY_EXCERPT_LIMIT {
        match response.chunk().await {
            Ok(Some(chunk)) => buf.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
}

/// Lossy UTF-8 of at most [`BODY_EXCERPT_LIMIT`] bytes, cut at a character boundary.
fn excerpt_text(bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() {
        return None;
    }
    let head = bytes.get(..BODY_EXCERPT_LIMIT).unwrap_or(bytes);
    let mut text = String::from_utf8_lossy(head).into_owned();
    let mut cut = text.len().min(BODY_EXCERPT_LIMIT);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    Some(text)
}

/// A short, useful description of a reqwest error (the guard's refusal, a timeout, or the
/// innermost cause).
fn describe(error: &reqwest::Error) -> String {
    if let Some(refusal) = find_refusal(error) {
        return refusal.to_string();
    }
    if error.is_timeout() {
        return TIMEOUT_ERROR.to_owned();
    }
    let mut innermost: &(dyn StdError + 'static) = error;
    while let Some(next) = innermost.source() {
        innermost = next;
    }
    let kind = if error.is_connect() {
        "connection failed"
    } else if error.is_request() {
        "request failed"
    } else {
        "delivery failed"
    };
    format!("{kind}: {innermost}")
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

#[async_trait]
impl WebhookTransport for HttpTransport {
    async fn send(&self, request: &WebhookRequest) -> WebhookResponse {
        let started = Instant::now();
        let deadline = started + request.timeout;
        let outcome = timeout_at(deadline, self.attempt(request, deadline)).await;
        let duration_ms = elapsed_ms(started);
        match outcome {
            Ok(Ok(mut response)) => {
                response.duration_ms = duration_ms;
                tracing::debug!(status = ?response.status, duration_ms, "webhook attempt answered");
                response
            }
            Ok(Err(error)) => {
                tracing::info!(%error, duration_ms, "webhook attempt failed");
                WebhookResponse::failure(error, duration_ms)
            }
            Err(_) => {
                tracing::info!(duration_ms, "webhook attempt timed out");
                WebhookResponse::failure(TIMEOUT_ERROR, duration_ms)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_bounded_and_cut_on_characters() {
        assert_eq!(excerpt_text(b""), None);
        assert_eq!(excerpt_text(b"ok").as_deref(), Some("ok"));
        let long = "é".repeat(1000); // 2000 bytes
        let e = excerpt_text(long.as_bytes()).unwrap();
        assert!(e.len() <= BODY_EXCERPT_LIMIT);
        assert_eq!(e, "é".repeat(512));
        let odd = [b"a".as_slice(), "é".repeat(600).as_bytes()].concat();
        let e = excerpt_text(&odd).unwrap();
        assert!(e.len() <= BODY_EXCERPT_LIMIT);
        assert!(e.starts_with('a'));
    }

    #[test]
    fn user_agent_names_the_crate_version() {
        assert_eq!(
            USER_AGENT,
            format!("Verifa-Webhooks/{}", env!("CARGO_PKG_VERSION"))
        );
    }

    #[test]
    fn header_errors_are_reported() {
        assert!(build_headers(&[("X-Ok".into(), "v".into())]).is_ok());
        assert!(build_headers(&[("bad name".into(), "v".into())]).is_err());
        assert!(build_headers(&[("X-Bad".into(), "a\nb".into())]).is_err());
    }
}
