//! Sessions: the entity, its statuses, the state machine that moves it between them, the events
//! it announces and the verdict that ends it.
//!
//! - [`status`]: [`SessionStatus`], [`RetentionStatus`], [`SimulateAction`].
//! - [`model`]: the [`Session`] entity.
//! - [`machine`]: [`transition`] — every status change, or an [`IllegalTransition`].
//! - [`events`]: typed [`SessionEvent`]s and their payloads.
//! - [`verdict`]: what decided a session ([`Verdict`], [`DecisionSummary`]).
//! - [`metadata`]: metadata limits and the merge rule.

pub mod events;
pub mod machine;
pub mod metadata;
pub mod model;
pub mod status;
pub mod verdict;

pub use events::{ExpireReason, RedactReason, SessionEvent, VerdictSource, decision_event_type};
pub use machine::{
    Action, IllegalTransition, Transition, check, simulated_outcome, status_for_outcome, transition,
};
pub use metadata::{
    MAX_EXTERNAL_REF_LEN, MAX_METADATA_KEYS, MAX_METADATA_VALUE_BYTES, check_metadata,
    merge_metadata, valid_external_ref,
};
pub use model::{CaptureToken, Session};
pub use status::{RetentionStatus, SessionStatus, SimulateAction};
pub use verdict::{CheckSummary, DecisionSummary, ProcessingMode, Verdict};
