//! Use cases of Verifa: each service loads through a port, applies domain rules, persists through
//! a port. Services hold ports as `Arc<dyn …>`; only the composition root knows the adapters.
//!
//! - [`api_keys`]: create, list, update, expire and clone keys; authenticate requests.
//! - [`organizations`]: create organizations and bootstrap the first one.
//! - [`audit`]: the audit trail: drafts for every change, listing, and chain verification.
//! - [`org_users`]: organization users (reviewers, console users) and their passwords.
//! - [`idempotency`]: the idempotency-key protocol on top of the store port.
//! - [`exports`]: data-subject access exports of a session.
//! - [`rate_limit`]: an in-process fixed-window limiter implementing the rate-limit port.
//! - [`ids`], [`secrets`], [`clock`]: identifiers, random secrets and the system clock.

pub mod actor;
pub mod api_keys;
pub mod audit;
pub mod cases;
pub mod clock;
pub mod crypto;
pub mod error;
pub mod exports;
pub mod idempotency;
pub mod identities;
pub mod ids;
pub mod master_key;
pub mod org_users;
pub mod organizations;
pub mod ports;
pub mod qr;
pub mod rate_limit;
mod retry;
pub mod runs;
pub mod secrets;
pub mod services;
pub mod sessions;
pub mod settings;
pub mod webhooks;
pub mod workflows;

pub use error::{AppError, FieldError};
pub use ports::Ports;
pub use services::{ServiceSettings, Services};
