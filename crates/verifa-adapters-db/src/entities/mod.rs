//! sea-orm entities, one module per table. They mirror the migrations; mapping to domain types
//! lives in the repositories.

pub mod api_keys;
pub mod idempotency_keys;
pub mod organizations;
