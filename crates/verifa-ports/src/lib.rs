//! Ports: the traits through which use cases reach the outside world, and their error enums.
//!
//! Adapters implement these traits; use cases hold them as `Arc<dyn …>`. No driver type (sea-orm,
//! sqlx, reqwest, axum) appears in any signature or error here, so an adapter can be replaced
//! without touching the domain or the use cases.

pub mod api_keys;
pub mod audit;
pub mod cases;
pub mod checks;
pub mod clock;
pub mod duplicates;
pub mod error;
pub mod health;
pub mod idempotency;
pub mod identities;
pub mod org_users;
pub mod organizations;
pub mod rate_limit;
pub mod runs;
pub mod sessions;
pub mod settings;
pub mod storage;
pub mod watchlists;
pub mod webhook_store;
pub mod webhooks;
pub mod workflows;

pub use error::RepoError;
