//! Webhook transport: sends one signed delivery attempt and reports what happened.
//!
//! The transport never returns an error: refusals (SSRF guard), DNS, connection, TLS and timeout
//! failures are all described in the [`WebhookResponse`], which the use case classifies with
//! `verifa_domain::webhooks::schedule::classify`.

use async_trait::async_trait;
use std::time::Duration;

/// Longest response-body excerpt kept, in bytes.
pub const BODY_EXCERPT_LIMIT: usize = 1024;

/// The error text of a response that did not arrive within the timeout.
pub const TIMEOUT_ERROR: &str = "timeout";

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRequest {
    /// Destination URL (checked again by the transport).
    pub url: String,
    /// Headers to send (`Content-Type`, `X-Verifa-Signature`, `X-Verifa-Delivery-Id`,
    /// `X-Verifa-Event`); the transport adds `User-Agent`.
    pub headers: Vec<(String, String)>,
    /// Raw body: exactly the bytes that were signed.
    pub body: Vec<u8>,
    /// Whole-attempt timeout (DNS + connect + response headers + excerpt); 30 s by contract.
    pub timeout: Duration,
    /// `webhooks.allow_private_networks`: allows `http` and private/loopback destinations.
    pub allow_private_networks: bool,
}

/// What one attempt produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookResponse {
    /// HTTP status, when a response was received (a 3xx is returned as is: never followed).
    pub status: Option<u16>,
    /// Why no response was received: [`TIMEOUT_ERROR`], "destination address 10.0.0.1 is not
    /// allowed", a DNS or connection failure, …
    pub error: Option<String>,
    /// Wall time of the attempt.
    pub duration_ms: u64,
    /// First ≤ [`BODY_EXCERPT_LIMIT`] bytes of the response body (lossy UTF-8), for the
    /// delivery log. Internal: never echo it to API callers unless needed.
    pub body_excerpt: Option<String>,
}

impl WebhookResponse {
    /// A failed attempt without a response.
    pub fn failure(error: impl Into<String>, duration_ms: u64) -> Self {
        WebhookResponse {
            status: None,
            error: Some(error.into()),
            duration_ms,
            body_excerpt: None,
        }
    }

    /// Whether a 2xx response was received.
    pub fn is_success(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// Whether the attempt ended because of the timeout.
    pub fn timed_out(&self) -> bool {
        self.status.is_none() && self.error.as_deref() == Some(TIMEOUT_ERROR)
    }
}

/// Sends webhook delivery attempts.
#[async_trait]
pub trait WebhookTransport: Send + Sync {
    /// Sends one attempt; never fails — failures are described in the response.
    async fn send(&self, request: &WebhookRequest) -> WebhookResponse;
}
