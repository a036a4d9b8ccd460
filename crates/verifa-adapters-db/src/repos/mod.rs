//! Implementations of the repository ports on [`crate::Database`].

mod api_keys;
pub(crate) mod audit;
pub(crate) mod cases;
mod common;
mod duplicates;
mod health;
mod idempotency;
pub(crate) mod identities;
mod org_users;
mod organizations;
mod runs;
mod sessions;
mod settings;
mod watchlists;
mod webhooks;
mod workflows;
