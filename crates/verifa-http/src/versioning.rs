//! API version transforms, in one place (CONTRACT §1.4). Handlers write the current shape; when a
//! later version changes a response, the older version's down-conversion goes here, keyed by the
//! version date, and no handler changes.

/// The current API version.
pub const CURRENT: &str = "2026-01-01";

/// Whether responses of `version` differ from the canonical (current) shape.
pub fn needs_transform(version: &str) -> bool {
    // Only one version exists today; every later version adds its arm here.
    !(version.is_empty() || version == CURRENT)
}

/// Converts a canonical response body into the shape of `version`.
pub fn adapt_response(version: &str, body: serde_json::Value) -> serde_json::Value {
    // One version so far: nothing to convert.
    let _ = version;
    body
}
