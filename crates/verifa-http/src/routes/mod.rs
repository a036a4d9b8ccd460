//! Route handlers, one module per resource.

pub mod api_keys;
pub mod cases;
pub mod docs;
pub mod events;
pub mod health;
pub mod identities;
pub mod identity_types;
pub mod org_users;
pub mod pagination;
pub mod query;
pub mod rate_limits;
pub mod sessions;
pub mod settings;
pub mod webhooks;
pub mod workflows;
