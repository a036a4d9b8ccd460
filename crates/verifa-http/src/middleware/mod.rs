//! The middleware stack, outermost first: request context (id, span, metrics) on every route;
//! then, on API routes only, authentication, rate limiting, version, idempotency and response
//! shaping (version transforms and key inflection).

pub mod auth;
pub mod idempotency;
pub mod rate_limit;
pub mod request_context;
pub mod shaping;
pub mod version;
