//! Identities (CONTRACT §7): one person per `external_ref` in an organization and environment,
//! fed by the sessions that complete for them. An identity holds no personal data of its own:
//! its extracted data is read from its latest completed session's sealed result.
//!
//! - [`model`]: the identity and its statuses.
//! - [`completion`]: how a completed session moves an identity (status, counters, dates).
//! - [`rules`]: tags, flags, archive, monitoring and patch rules.
//! - [`merge`]: merging identities into one.
//! - [`erasure`]: redacting an identity.
//! - [`lookup`]: the fields an identity search matches and their normal forms.
//! - [`types`]: identity types (`idt_`) and their statuses.
//! - [`events`]: the `identity.*` webhook events and their payloads.

pub mod completion;
pub mod erasure;
pub mod events;
pub mod lookup;
pub mod merge;
pub mod model;
pub mod rules;
pub mod types;

pub use completion::{CompletionOutcome, SessionCompletion};
pub use events::IdentityEvent;
pub use model::{Identity, IdentityStatus, MonitoringPause, ScreeningStatus};
pub use rules::IdentityError;
pub use types::IdentityType;

/// Longest `external_ref`.
pub const MAX_EXTERNAL_REF_LEN: usize = 255;
