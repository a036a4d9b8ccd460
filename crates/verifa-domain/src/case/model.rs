//! The case record (CONTRACT §8.1).

use crate::tenancy::Tenant;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            /// Every value, in documentation order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Wire name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            /// Parses the wire name.
            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }
    };
}

wire_enum!(
    /// Where a case stands.
    CaseStatus {
        /// Waiting for a reviewer.
        Open => "open",
        /// Claimed by a reviewer.
        InReview => "in_review",
        /// Escalated (dual review required).
        Escalated => "escalated",
        /// A first reviewer recommended; a second one decides.
        PendingSecondReview => "pending_second_review",
        /// Decided: approved.
        Approved => "approved",
        /// Decided: rejected.
        Rejected => "rejected",
    }
);

impl CaseStatus {
    /// Not decided yet.
    pub fn is_active(self) -> bool {
        !matches!(self, CaseStatus::Approved | CaseStatus::Rejected)
    }
}

wire_enum!(
    /// How urgent a case is.
    Priority {
        /// Low.
        Low => "low",
        /// The default.
        Normal => "normal",
        /// High.
        High => "high",
        /// Urgent.
        Urgent => "urgent",
    }
);

impl Priority {
    /// Queue rank: urgent first (0) … low last (3).
    pub fn rank(self) -> i32 {
        match self {
            Priority::Urgent => 0,
            Priority::High => 1,
            Priority::Normal => 2,
            Priority::Low => 3,
        }
    }
}

wire_enum!(
    /// A reviewer's decision.
    Decision {
        /// Approve.
        Approved => "approved",
        /// Reject.
        Rejected => "rejected",
    }
);

wire_enum!(
    /// What opened a case.
    CaseSource {
        /// A run ended in `needs_review`.
        Workflow => "workflow",
        /// `POST /cases`.
        Api => "api",
        /// `simulate` with `require-review`.
        Simulate => "simulate",
        /// `POST /cases/demo`.
        Demo => "demo",
    }
);

/// The first decision of a dual review.
#[derive(Debug, Clone, PartialEq)]
pub struct Recommendation {
    /// What the first reviewer decided.
    pub decision: Decision,
    /// `orguser_…`.
    pub reviewer_id: String,
    /// Their rejection reason.
    pub rejection_reason: Option<String>,
    /// Their notes.
    pub notes: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A manual-review case of one session.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// `case_…`.
    pub id: String,
    /// Owner.
    pub tenant: Tenant,
    /// The session under review.
    pub session_id: String,
    /// Its identity, when it has one.
    pub identity_id: Option<String>,
    /// Its `external_ref`.
    pub external_ref: Option<String>,
    /// Status.
    pub status: CaseStatus,
    /// The final decision.
    pub decision: Option<Decision>,
    /// Priority.
    pub priority: Priority,
    /// What opened it.
    pub source: CaseSource,
    /// Why it needs review (failed or errored checks, then the terminal).
    pub review_reasons: Vec<String>,
    /// A second reviewer must decide.
    pub requires_dual_review: bool,
    /// The reviewer holding it (`orguser_…`).
    pub assigned_to: Option<String>,
    /// When it was claimed.
    pub claimed_at: Option<DateTime<Utc>>,
    /// The assignee's latest action (idle claims are released after 30 minutes).
    pub last_activity_at: DateTime<Utc>,
    /// Who it was escalated to.
    pub escalated_to: Option<String>,
    /// Why.
    pub escalation_reason: Option<String>,
    /// The first decision of a dual review.
    pub recommendation: Option<Recommendation>,
    /// The reviewer who decided.
    pub decided_by: Option<String>,
    /// Why it was rejected.
    pub rejection_reason: Option<String>,
    /// When the SLA runs out.
    pub sla_due_at: DateTime<Utc>,
    /// When it turned red (set once, by the SLA job).
    pub sla_breached_at: Option<DateTime<Utc>>,
    /// When the session entered review.
    pub entered_review_at: DateTime<Utc>,
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// Integrator metadata.
    pub metadata: Map<String, Value>,
    /// Integrator fields.
    pub custom_fields: Map<String, Value>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Incremented by every stored change.
    pub revision: i32,
}

/// What a new case is opened with.
#[derive(Debug, Clone, PartialEq)]
pub struct Opening {
    /// `case_…`.
    pub id: String,
    /// The session's tenant.
    pub tenant: Tenant,
    /// The session.
    pub session_id: String,
    /// Its identity.
    pub identity_id: Option<String>,
    /// Its reference.
    pub external_ref: Option<String>,
    /// What opened it.
    pub source: CaseSource,
    /// Why.
    pub review_reasons: Vec<String>,
    /// Priority.
    pub priority: Priority,
    /// Dual review from the organization's setting.
    pub requires_dual_review: bool,
    /// SLA length in hours.
    pub sla_hours: i64,
    /// When.
    pub at: DateTime<Utc>,
}

impl Case {
    /// A new `open` case.
    pub fn open(o: Opening) -> Self {
        Self {
            id: o.id,
            tenant: o.tenant,
            session_id: o.session_id,
            identity_id: o.identity_id,
            external_ref: o.external_ref,
            status: CaseStatus::Open,
            decision: None,
            priority: o.priority,
            source: o.source,
            review_reasons: o.review_reasons,
            requires_dual_review: o.requires_dual_review,
            assigned_to: None,
            claimed_at: None,
            last_activity_at: o.at,
            escalated_to: None,
            escalation_reason: None,
            recommendation: None,
            decided_by: None,
            rejection_reason: None,
            sla_due_at: o.at + chrono::Duration::hours(o.sla_hours.clamp(1, 24 * 365)),
            sla_breached_at: None,
            entered_review_at: o.at,
            decided_at: None,
            metadata: Map::new(),
            custom_fields: Map::new(),
            created_at: o.at,
            updated_at: o.at,
            revision: 0,
        }
    }
}
