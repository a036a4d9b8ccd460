//! The `case.*` webhook events (CONTRACT §8.5, §17.1) and their flat payload
//! `{case_id, session_id, external_ref, identity_id, status, decision, priority, assigned_to}`.

use super::model::Case;
use serde_json::{Value, json};

/// Something that happened to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseEvent {
    /// `case.created`.
    Created,
    /// `case.assigned`: claim, assign, next, escalation to a person.
    Assigned,
    /// `case.approved`.
    Approved,
    /// `case.rejected`.
    Rejected,
    /// `case.escalated`.
    Escalated,
    /// `case.sla_breached`.
    SlaBreached,
}

impl CaseEvent {
    /// The catalogue name.
    pub fn event_type(self) -> &'static str {
        match self {
            CaseEvent::Created => "case.created",
            CaseEvent::Assigned => "case.assigned",
            CaseEvent::Approved => "case.approved",
            CaseEvent::Rejected => "case.rejected",
            CaseEvent::Escalated => "case.escalated",
            CaseEvent::SlaBreached => "case.sla_breached",
        }
    }

    /// The flat fields, from the case as the change leaves it.
    pub fn payload(self, case: &Case) -> Value {
        let mut data = json!({
            "case_id": case.id,
            "session_id": case.session_id,
            "external_ref": case.external_ref,
            "identity_id": case.identity_id,
            "status": case.status.as_str(),
            "decision": case.decision.map(|d| d.as_str()),
            "priority": case.priority.as_str(),
            "assigned_to": case.assigned_to,
            "is_sandbox": case.tenant.environment.is_sandbox(),
        });
        if self == CaseEvent::SlaBreached
            && let Some(obj) = data.as_object_mut()
        {
            obj.insert("due_at".into(), json!(case.sla_due_at));
            obj.insert("breached_at".into(), json!(case.sla_breached_at));
        }
        data
    }
}
