//! The case as the API shows it (CONTRACT §8.1), its review material and notes.

use crate::routes::pagination::Pagination;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use verifa_app::cases::{Note, Review};
use verifa_domain::case::Case;

/// The `sla` of a case.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SlaObject {
    /// `green`, `yellow` or `red`.
    pub status: String,
    /// When the SLA runs out.
    pub due_at: DateTime<Utc>,
    /// When it turned red.
    pub breached_at: Option<DateTime<Utc>>,
}

/// The first decision of a dual review.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RecommendationObject {
    /// `approved` or `rejected`.
    pub decision: String,
    /// `orguser_…`.
    pub reviewer_id: String,
    /// Their rejection reason.
    pub rejection_reason: Option<String>,
    /// Their notes.
    pub notes: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A note on a case.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NoteObject {
    /// `note_…`.
    pub id: String,
    /// The case.
    pub case_id: String,
    /// `orguser_…`, `null` for an API key.
    pub author_id: Option<String>,
    /// The user's name or the key's label.
    pub author_name: String,
    /// `org` or `api`.
    pub author_type: String,
    /// The text.
    pub content: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<Note> for NoteObject {
    fn from(n: Note) -> Self {
        Self {
            id: n.record.id,
            case_id: n.record.case_id,
            author_id: n.record.author_id,
            author_name: n.record.author_name,
            author_type: n.record.author_type,
            content: n.content,
            created_at: n.record.created_at,
        }
    }
}

/// A manual-review case.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseObject {
    /// `case_…`.
    #[schema(example = "case_0192f8c2a1b27c3e8d4f5a6b7c8d9e0f")]
    pub id: String,
    /// The session under review.
    pub session_id: String,
    /// Its identity.
    pub identity_id: Option<String>,
    /// Its reference.
    pub external_ref: Option<String>,
    /// `open`, `in_review`, `escalated`, `pending_second_review`, `approved`, `rejected`.
    pub status: String,
    /// `approved`, `rejected` or `null`.
    pub decision: Option<String>,
    /// `low`, `normal`, `high`, `urgent`.
    pub priority: String,
    /// `workflow`, `api`, `simulate`, `demo`.
    pub source: String,
    /// Failed or errored checks, then the terminal.
    pub review_reasons: Vec<String>,
    /// A second reviewer decides.
    pub requires_dual_review: bool,
    /// The reviewer holding it.
    pub assigned_to: Option<String>,
    /// When it was claimed.
    pub claimed_at: Option<DateTime<Utc>>,
    /// The assignee's latest action.
    pub last_activity_at: DateTime<Utc>,
    /// Who it was escalated to.
    pub escalated_to: Option<String>,
    /// Why.
    pub escalation_reason: Option<String>,
    /// The first decision of a dual review.
    pub recommendation: Option<RecommendationObject>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// Why it was rejected.
    pub rejection_reason: Option<String>,
    /// SLA.
    pub sla: SlaObject,
    /// When the session entered review.
    pub entered_review_at: DateTime<Utc>,
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// Integrator metadata.
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    /// Integrator fields.
    #[schema(value_type = Object)]
    pub custom_fields: Map<String, Value>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// What a reviewer looks at (single case and `next` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub review: Option<Value>,
}

impl CaseObject {
    /// The case as of `now` (its SLA band).
    pub fn of(c: Case, now: DateTime<Utc>) -> Self {
        let sla = c.sla(now);
        Self {
            status: c.status.as_str().to_owned(),
            decision: c.decision.map(|d| d.as_str().to_owned()),
            priority: c.priority.as_str().to_owned(),
            source: c.source.as_str().to_owned(),
            recommendation: c.recommendation.map(|r| RecommendationObject {
                decision: r.decision.as_str().to_owned(),
                reviewer_id: r.reviewer_id,
                rejection_reason: r.rejection_reason,
                notes: r.notes,
                at: r.at,
            }),
            sla: SlaObject {
                status: sla.status.as_str().to_owned(),
                due_at: sla.due_at,
                breached_at: sla.breached_at,
            },
            id: c.id,
            session_id: c.session_id,
            identity_id: c.identity_id,
            external_ref: c.external_ref,
            review_reasons: c.review_reasons,
            requires_dual_review: c.requires_dual_review,
            assigned_to: c.assigned_to,
            claimed_at: c.claimed_at,
            last_activity_at: c.last_activity_at,
            escalated_to: c.escalated_to,
            escalation_reason: c.escalation_reason,
            decided_by: c.decided_by,
            rejection_reason: c.rejection_reason,
            entered_review_at: c.entered_review_at,
            decided_at: c.decided_at,
            metadata: c.metadata,
            custom_fields: c.custom_fields,
            created_at: c.created_at,
            review: None,
        }
    }

    /// The same with its review material. Documents with signed URLs, list matches and
    /// screening hits join when those features exist (CONTRACT §9–§11); until then they are
    /// empty lists.
    pub fn with_review(mut self, r: Review) -> Self {
        let result = r.result.as_ref().map(|res| {
            json!({
                "status": res.verdict.outcome.as_str(),
                "rejection_reason": res.verdict.rejection_reason,
                "face_match_passed": res.verdict.summary.face_match_passed,
                "age_check_passed": res.verdict.summary.age_check_passed,
                "extracted_age": res.verdict.summary.extracted_age,
                "workflow_run_id": res.workflow_run_id,
            })
        });
        let check_results = r
            .result
            .as_ref()
            .map(|res| serde_json::to_value(&res.verdict.summary.check_results).unwrap_or_default())
            .unwrap_or_else(|| json!({}));
        let notes: Vec<NoteObject> = r.notes.into_iter().map(Into::into).collect();
        let documents: Vec<Value> = r
            .documents
            .iter()
            .map(|d| {
                json!({
                    "id": d.id,
                    "document_type": d.document_type,
                    "mime_type": d.mime_type,
                    "file_size_bytes": d.file_size_bytes,
                    "created_at": d.created_at,
                })
            })
            .collect();
        self.review = Some(json!({
            "session": {
                "id": r.session.id,
                "status": r.session.status.as_str(),
                "external_ref": r.session.external_ref,
                "workflow_id": r.session.workflow_id,
                "country": r.session.country,
                "created_at": r.session.created_at,
            },
            "result": result,
            "check_results": check_results,
            "documents": documents,
            "list_matches": [],
            "screening_hits": [],
            "notes": notes,
        }));
        self
    }
}

/// A page of cases.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseList {
    /// The cases.
    pub data: Vec<CaseObject>,
    /// Counts.
    pub pagination: Pagination,
}

/// The notes of a case.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NoteList {
    /// Oldest first.
    pub data: Vec<NoteObject>,
}

/// Counts of the review tabs, over active cases.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TabCountsObject {
    /// Open and unassigned.
    pub unassigned: u64,
    /// Assigned to `reviewer_id` (0 without one).
    pub mine: u64,
    /// Waiting for a second decision.
    pub pending_second_review: u64,
    /// Escalated.
    pub escalated: u64,
    /// Every active case.
    pub all: u64,
}
