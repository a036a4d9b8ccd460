//! Prefixed opaque identifiers (`key_…`, `org_…`). UUIDv7 makes ids sort by creation time, which
//! keeps "newest first, tie-break on id" orderings stable.

/// Prefixes of every identifier kind (CONTRACT intro).
pub mod prefix {
    /// Organization.
    pub const ORG: &str = "org";
    /// Organization user.
    pub const ORG_USER: &str = "orguser";
    /// API key.
    pub const KEY: &str = "key";
    /// Workflow.
    pub const WORKFLOW: &str = "wfl";
    /// Workflow version.
    pub const VERSION: &str = "wfv";
    /// Workflow draft.
    pub const DRAFT: &str = "wfd";
    /// Session.
    pub const SESSION: &str = "ses";
    /// Workflow run.
    pub const RUN: &str = "wfr";
    /// Request id.
    pub const REQUEST: &str = "req";
    /// Audit event.
    pub const AUDIT_EVENT: &str = "aud";
    /// Identity.
    pub const IDENTITY: &str = "idn";
    /// Identity type.
    pub const IDENTITY_TYPE: &str = "idt";
    /// Manual-review case.
    pub const CASE: &str = "case";
    /// Case note.
    pub const NOTE: &str = "note";
    /// Webhook outbox event.
    pub const EVENT: &str = "evt";
}

/// A new id with the given prefix.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

/// Whether `id` has the shape of an id with `prefix` (cheap rejection before a lookup).
pub fn looks_like(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|rest| {
            !rest.is_empty()
                && rest.len() <= 64
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_their_prefix_and_sort_by_time() {
        let a = new_id(prefix::KEY);
        let b = new_id(prefix::KEY);
        assert!(looks_like(&a, "key") && !looks_like(&a, "org"));
        assert!(a < b);
        assert!(!looks_like("key_", "key") && !looks_like("key_a b", "key"));
    }
}
