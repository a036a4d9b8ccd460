//! Integration tests of the whole service through the real router, each run on SQLite and on
//! Postgres (`verifa_testkit::both_backends!`).

mod api_keys;
mod case_demo;
mod case_management;
mod case_override;
mod cases;
mod checks_db;
mod concurrency;
mod conventions;
mod documents;
mod events;
mod exports;
mod harness;
mod idempotency;
mod identities;
mod identity_erasure;
mod identity_search;
mod key_rotation;
mod operations;
mod org_users;
mod pii_at_rest;
mod redaction;
mod retention;
mod sessions;
mod settings;
mod webhooks;
mod workflows;
