//! [`SessionStore`](verifa_ports::sessions::SessionStore),
//! [`SessionDocuments`](verifa_ports::sessions::SessionDocuments) and
//! [`SessionEventLog`](verifa_ports::sessions::SessionEventLog): the compare-and-set on status,
//! all-or-nothing changes, run replacement, event order, list order, document replacement, the
//! stale-capture query and tenant isolation; [`SessionRedaction`](verifa_ports::sessions::SessionRedaction):
//! what a redaction destroys and the blob-deletion queue.

mod changes;
mod reads;
mod redaction;

pub use changes::*;
pub use reads::*;
pub use redaction::*;

use super::Stores;
use super::fixtures::*;
use serde_json::json;
use verifa_domain::documents::DocumentType;
use verifa_domain::session::{
    DecisionSummary, ExpireReason, ProcessingMode, SessionEvent, SessionStatus, Verdict,
    VerdictSource,
};
use verifa_domain::workflow::Outcome;
use verifa_ports::RepoError;
use verifa_ports::sessions::{ResultRecord, RunWrite, SessionFilter};

fn approved_result(session_id: &str, tenant: &verifa_domain::tenancy::Tenant) -> ResultRecord {
    ResultRecord {
        session_id: session_id.to_owned(),
        tenant: tenant.clone(),
        verdict: Verdict {
            outcome: Outcome::Approved,
            summary: DecisionSummary {
                face_match_passed: None,
                face_match_score: None,
                age_check_passed: None,
                extracted_age: None,
                processing_mode: ProcessingMode::Workflow,
                country_used: Some("FR".into()),
                check_results: Default::default(),
            },
            rejection_reason: None,
        },
        extracted_data_sealed: None,
        lookups: None,
        workflow_run_id: None,
        simulated: false,
        case_id: None,
        decided_by: None,
        created_at: at(5),
        updated_at: at(5),
    }
}

fn decided() -> SessionEvent {
    SessionEvent::Decided {
        outcome: Outcome::Approved,
        source: VerdictSource::Simulation,
    }
}
