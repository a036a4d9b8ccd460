//! SLA bands of a case (CONTRACT §8.5): `green` for the first 4 hours in review, `yellow` until
//! the due time, `red` from it; frozen at the decision.

use super::model::Case;
use chrono::{DateTime, Duration, Utc};

/// How long a case stays green.
pub const GREEN_FOR: Duration = Duration::hours(4);

/// SLA band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaStatus {
    /// Fresh.
    Green,
    /// Getting late.
    Yellow,
    /// Past due.
    Red,
}

impl SlaStatus {
    /// Every band.
    pub const ALL: [SlaStatus; 3] = [SlaStatus::Green, SlaStatus::Yellow, SlaStatus::Red];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            SlaStatus::Green => "green",
            SlaStatus::Yellow => "yellow",
            SlaStatus::Red => "red",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// The `sla` object of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaView {
    /// Band.
    pub status: SlaStatus,
    /// Due time.
    pub due_at: DateTime<Utc>,
    /// When it turned red (recorded by the SLA job).
    pub breached_at: Option<DateTime<Utc>>,
}

impl Case {
    /// The SLA as of `now` (or as of the decision, once decided).
    pub fn sla(&self, now: DateTime<Utc>) -> SlaView {
        let at = self.decided_at.unwrap_or(now);
        let status = if at >= self.sla_due_at {
            SlaStatus::Red
        } else if at >= self.entered_review_at + GREEN_FOR {
            SlaStatus::Yellow
        } else {
            SlaStatus::Green
        };
        SlaView {
            status,
            due_at: self.sla_due_at,
            breached_at: self.sla_breached_at,
        }
    }
}
