//! Attaching the identity feed to a session change that completes the session with an
//! `external_ref` (CONTRACT §7.1): the store upserts the identity in the same transaction.

use crate::actor::By;
use crate::ids::{new_id, prefix};
use verifa_domain::identity::{CompletionOutcome, SessionCompletion};
use verifa_domain::session::SessionStatus;
use verifa_ports::identities::IdentityFeed;
use verifa_ports::sessions::{ResultWrite, SessionChange};

/// The change, feeding the session's identity when it completes the session with a verdict and
/// the session has an `external_ref`; otherwise unchanged.
pub(crate) fn feeding_identity(change: SessionChange, by: By<'_>) -> SessionChange {
    feeding_identity_as(change, by, None)
}

/// The same, with the outcome a reviewer decided (a reviewer's rejection is `rejected`, a
/// workflow's `failed`).
pub(crate) fn feeding_identity_as(
    change: SessionChange,
    by: By<'_>,
    outcome: Option<CompletionOutcome>,
) -> SessionChange {
    let s = &change.session;
    let completes =
        s.status == SessionStatus::Completed && change.expected_status != SessionStatus::Completed;
    let (Some(external_ref), ResultWrite::Put(result), true) =
        (s.external_ref.as_deref(), &change.result, completes)
    else {
        return change;
    };
    let at = s.completed_at.unwrap_or(s.updated_at);
    let Some(mut completion) =
        SessionCompletion::of_verdict(&s.id, external_ref, s.country.clone(), &result.verdict, at)
    else {
        return change;
    };
    if let Some(o) = outcome {
        completion.outcome = o;
    }
    // The store sets action, resource and changes once it knows whether it creates or updates.
    let audit = by.audit(s.tenant.clone(), "identity.updated", "identity", "", at);
    let feed = IdentityFeed {
        new_identity_id: new_id(prefix::IDENTITY),
        event_id: new_id("evt"),
        audit,
        completion,
    };
    change.feeding_identity(feed)
}
