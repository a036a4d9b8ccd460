//! Route handlers, one module per resource.

pub mod api_keys;
pub mod docs;
pub mod drafts;
pub mod health;
pub mod pagination;
pub mod query;
pub mod rate_limits;
pub mod session_input;
pub mod sessions;
pub mod webhooks;
pub mod workflows;
