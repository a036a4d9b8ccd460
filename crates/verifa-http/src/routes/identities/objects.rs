//! The identity as the API shows it (CONTRACT §7.1) and the small bodies around it.

use crate::routes::pagination::{AnyPagination, Pagination};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use verifa_app::identities::IdentityView;
use verifa_domain::identity::Identity;
use verifa_ports::identities::IdentitySession;

/// An identity.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IdentityObject {
    /// `idn_…`.
    #[schema(example = "idn_0192f8c2a1b27c3e8d4f5a6b7c8d9e0f")]
    pub id: String,
    /// The integrator's reference (`null` once redacted).
    #[schema(example = "user_abc123")]
    pub external_ref: Option<String>,
    /// `pending`, `approved`, `failed`, `rejected`, `redacted` or `merged`.
    #[schema(example = "approved")]
    pub status: String,
    /// Sandbox environment.
    pub is_sandbox: bool,
    /// Sessions linked.
    pub session_count: i64,
    /// Latest completed session.
    pub latest_session_id: Option<String>,
    /// The same session (its result).
    pub latest_result_id: Option<String>,
    /// Country of the latest completed session.
    pub country: Option<String>,
    /// Latest `face_match` passed.
    pub face_match_passed: Option<bool>,
    /// Latest `age_verification` passed.
    pub age_check_passed: Option<bool>,
    /// Computed age.
    pub extracted_age: Option<i64>,
    /// Why the latest session was rejected.
    pub rejection_reason: Option<String>,
    /// The latest completed session's extracted data (single identity only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub extracted_data: Option<Map<String, Value>>,
    /// First approval.
    pub first_verified_at: Option<DateTime<Utc>>,
    /// Latest approval.
    pub last_verified_at: Option<DateTime<Utc>>,
    /// Soft-archived.
    pub archived_at: Option<DateTime<Utc>>,
    /// Identity type.
    pub identity_type_id: Option<String>,
    /// Status within the type.
    pub type_status: Option<String>,
    /// Integrator fields.
    #[schema(value_type = Object)]
    pub custom_fields: Map<String, Value>,
    /// Tags.
    pub tags: Vec<String>,
    /// Flagged.
    pub is_flagged: bool,
    /// Why.
    pub flag_reason: Option<String>,
    /// When.
    pub flagged_at: Option<DateTime<Utc>>,
    /// By whom.
    pub flagged_by: Option<String>,
    /// Ongoing monitoring.
    pub monitoring_enabled: bool,
    /// `manual` or `archived`.
    pub monitoring_paused_reason: Option<String>,
    /// `not_screened`, `clear` or `hit`.
    pub screening_status: String,
    /// The identity it was merged into.
    pub merged_into_id: Option<String>,
    /// When its data was destroyed.
    pub redacted_at: Option<DateTime<Utc>>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// The latest sessions (single identity only), newest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification_history: Option<Vec<HistoryEntry>>,
}

impl From<Identity> for IdentityObject {
    fn from(i: Identity) -> Self {
        Self {
            is_sandbox: i.tenant.environment.is_sandbox(),
            status: i.status.as_str().to_owned(),
            latest_result_id: i.latest_session_id.clone(),
            monitoring_paused_reason: i.monitoring_paused.map(|p| p.as_str().to_owned()),
            screening_status: i.screening_status.as_str().to_owned(),
            id: i.id,
            external_ref: i.external_ref,
            session_count: i.session_count,
            latest_session_id: i.latest_session_id,
            country: i.country,
            face_match_passed: i.face_match_passed,
            age_check_passed: i.age_check_passed,
            extracted_age: i.extracted_age,
            rejection_reason: i.rejection_reason,
            extracted_data: None,
            first_verified_at: i.first_verified_at,
            last_verified_at: i.last_verified_at,
            archived_at: i.archived_at,
            identity_type_id: i.identity_type_id,
            type_status: i.type_status,
            custom_fields: i.custom_fields,
            tags: i.tags,
            is_flagged: i.is_flagged,
            flag_reason: i.flag_reason,
            flagged_at: i.flagged_at,
            flagged_by: i.flagged_by,
            monitoring_enabled: i.monitoring_enabled,
            merged_into_id: i.merged_into_id,
            redacted_at: i.redacted_at,
            created_at: i.created_at,
            verification_history: None,
        }
    }
}

impl From<IdentityView> for IdentityObject {
    fn from(v: IdentityView) -> Self {
        Self {
            extracted_data: Some(v.extracted_data),
            verification_history: Some(v.history.into_iter().map(Into::into).collect()),
            ..v.identity.into()
        }
    }
}

/// One session of an identity.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryEntry {
    /// `ses_…`.
    pub session_id: String,
    /// Session status.
    pub status: String,
    /// When it completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl From<IdentitySession> for HistoryEntry {
    fn from(s: IdentitySession) -> Self {
        Self {
            session_id: s.session_id,
            status: s.status.as_str().to_owned(),
            completed_at: s.completed_at,
            created_at: s.created_at,
        }
    }
}

/// A page of identities (without extracted data).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IdentityList {
    /// The identities.
    pub data: Vec<IdentityObject>,
    /// Offset mode: counts; cursor mode (`page[after]` / `page[before]`): the cursors.
    pub pagination: AnyPagination,
}

/// A page of an identity's sessions.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IdentitySessionList {
    /// The sessions, newest first.
    pub data: Vec<HistoryEntry>,
    /// Counts.
    pub pagination: Pagination,
}

/// The answer of `POST /identities`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedIdentity {
    /// `idn_…`.
    pub id: String,
    /// The reference.
    pub external_ref: Option<String>,
    /// Status.
    pub status: String,
    /// Sandbox environment.
    pub is_sandbox: bool,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// `true` when an existing identity was returned.
    pub upserted: bool,
}

/// An identity's tags.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IdentityTags {
    /// `idn_…`.
    pub id: String,
    /// Tags, in insertion order.
    pub tags: Vec<String>,
}
