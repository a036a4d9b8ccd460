//! Manual-review cases (CONTRACT §8): the case a `needs_review` verdict opens, its lifecycle
//! (claim, release, assign, decide, escalate, dual review), its SLA and its webhook events.
//!
//! - [`model`]: the case, its statuses, priorities and sources.
//! - [`lifecycle`]: what reviewers may do to a case, and what it becomes.
//! - [`edit`]: what `PATCH` may change, and when.
//! - [`sla`]: the SLA bands.
//! - [`events`]: the `case.*` webhook events.

pub mod edit;
pub mod events;
pub mod lifecycle;
pub mod model;
pub mod sla;

pub use edit::CasePatch;
pub use events::CaseEvent;
pub use lifecycle::{CaseError, Decided};
pub use model::{Case, CaseSource, CaseStatus, Decision, Priority, Recommendation};
pub use sla::{SlaStatus, SlaView};
