//! Implementations of the repository ports on [`crate::Database`].

mod api_keys;
mod health;
mod idempotency;
mod organizations;
mod workflows;
mod duplicates;
mod watchlists;
