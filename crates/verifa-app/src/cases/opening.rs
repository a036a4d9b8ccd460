//! Opening a case with the session change that puts a session under review (CONTRACT §8.3): a
//! run ending in `needs_review`, or `simulate` with `require-review`.

use crate::actor::By;
use crate::ids::{new_id, prefix};
use verifa_domain::case::model::Opening;
use verifa_domain::case::{Case, CaseEvent, CaseSource, Priority, review_reasons};
use verifa_domain::session::SessionStatus;
use verifa_ports::cases::{CaseOpening, NewCaseEvent};
use verifa_ports::sessions::{ResultWrite, SessionChange};

/// Hours until a case's SLA is due (the default of the `case_sla_hours` setting).
pub const DEFAULT_SLA_HOURS: i64 = 24;

/// The change, opening a case when it puts the session under review with a verdict.
pub(crate) fn opening_case(change: SessionChange, source: CaseSource, by: By<'_>) -> SessionChange {
    let s = &change.session;
    let enters = s.status == SessionStatus::UnderReview
        && change.expected_status != SessionStatus::UnderReview;
    let ResultWrite::Put(result) = &change.result else {
        return change;
    };
    if !enters {
        return change;
    }
    let at = s.updated_at;
    let case = Case::open(Opening {
        id: new_id(prefix::CASE),
        tenant: s.tenant.clone(),
        session_id: s.id.clone(),
        identity_id: s.identity_id.clone(),
        external_ref: s.external_ref.clone(),
        source,
        review_reasons: review_reasons(&result.verdict.summary),
        priority: Priority::Normal,
        // `case_dual_review` (`off` | `all`) and `case_sla_hours` come with the settings of
        // CONTRACT §11; until then every organization has their defaults.
        requires_dual_review: false,
        sla_hours: DEFAULT_SLA_HOURS,
        at,
    });
    let audit = by
        .audit(s.tenant.clone(), "case.created", "case", &case.id, at)
        .with_changes(["status", "priority", "review_reasons"])
        .with_metadata("session_id", s.id.clone());
    let opening = CaseOpening {
        event: NewCaseEvent {
            id: new_id(prefix::EVENT),
            event: CaseEvent::Created,
        },
        case,
        audit,
    };
    change.opening_case(opening)
}
