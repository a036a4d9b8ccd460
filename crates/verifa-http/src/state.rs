//! Shared state of the HTTP layer: the use-case services and the HTTP settings.

use crate::metrics::Metrics;
use std::sync::Arc;

/// Per-minute request budgets (CONTRACT §1.7).
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    /// Secret keys, all requests.
    pub requests_per_minute: u32,
    /// `POST /sessions`, secret keys.
    pub session_create_per_minute: u32,
    /// Publishable keys, all requests.
    pub publishable_per_minute: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            requests_per_minute: 1000,
            session_create_per_minute: 300,
            publishable_per_minute: 10,
        }
    }
}

/// API versions (CONTRACT §1.4).
#[derive(Debug, Clone)]
pub struct VersionPolicy {
    /// The current version.
    pub current: String,
    /// Accepted versions.
    pub known: Vec<String>,
    /// Versions that used to exist and are now refused with an upgrade message.
    pub retired: Vec<String>,
}

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Largest JSON body.
    pub max_body_bytes: usize,
    /// Rate limits.
    pub rate_limits: RateLimits,
    /// API versions.
    pub versions: VersionPolicy,
    /// Whether to take the caller's address from `X-Forwarded-For` (behind a trusted proxy only).
    pub trust_forwarded_for: bool,
    /// Plan name reported by `GET /rate-limits`.
    pub plan: String,
    /// Requests running longer are answered 503.
    pub request_timeout: std::time::Duration,
}

pub use verifa_app::Services;

/// Cloneable handle given to axum.
#[derive(Clone)]
pub struct AppState {
    /// Services.
    pub services: Arc<Services>,
    /// Settings.
    pub settings: Arc<HttpSettings>,
    /// Metrics registry.
    pub metrics: Arc<Metrics>,
}
