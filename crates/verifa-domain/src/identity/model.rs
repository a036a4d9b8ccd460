//! The identity record and its statuses (CONTRACT §7.1).

use crate::tenancy::Tenant;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// Where an identity stands, following its latest completed session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentityStatus {
    /// No completed session yet.
    Pending,
    /// The latest completed session was approved.
    Approved,
    /// The workflow rejected the latest completed session.
    Failed,
    /// A reviewer rejected the latest completed session.
    Rejected,
    /// Its data was destroyed (final).
    Redacted,
    /// Merged into another identity (final).
    Merged,
}

impl IdentityStatus {
    /// Every status, in documentation order.
    pub const ALL: [IdentityStatus; 6] = [
        IdentityStatus::Pending,
        IdentityStatus::Approved,
        IdentityStatus::Failed,
        IdentityStatus::Rejected,
        IdentityStatus::Redacted,
        IdentityStatus::Merged,
    ];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityStatus::Pending => "pending",
            IdentityStatus::Approved => "approved",
            IdentityStatus::Failed => "failed",
            IdentityStatus::Rejected => "rejected",
            IdentityStatus::Redacted => "redacted",
            IdentityStatus::Merged => "merged",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Parses a list filter value, where `verified` is an alias of `approved`.
    pub fn parse_filter(s: &str) -> Option<Self> {
        if s == "verified" {
            Some(IdentityStatus::Approved)
        } else {
            Self::parse(s)
        }
    }

    /// Whether no session, merge or rule may change it any more.
    pub fn is_final(self) -> bool {
        matches!(self, IdentityStatus::Redacted | IdentityStatus::Merged)
    }
}

/// The aggregate screening status of an identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScreeningStatus {
    /// Never screened.
    NotScreened,
    /// Screened without an open hit.
    Clear,
    /// An open hit exists.
    Hit,
}

impl ScreeningStatus {
    /// Every status.
    pub const ALL: [ScreeningStatus; 3] = [
        ScreeningStatus::NotScreened,
        ScreeningStatus::Clear,
        ScreeningStatus::Hit,
    ];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ScreeningStatus::NotScreened => "not_screened",
            ScreeningStatus::Clear => "clear",
            ScreeningStatus::Hit => "hit",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Why monitoring of an identity is paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonitoringPause {
    /// `POST /identities/{id}/monitoring/pause`.
    Manual,
    /// The identity was archived.
    Archived,
}

impl MonitoringPause {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            MonitoringPause::Manual => "manual",
            MonitoringPause::Archived => "archived",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        [MonitoringPause::Manual, MonitoringPause::Archived]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// One person, keyed by `external_ref` within a tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// `idn_…`.
    pub id: String,
    /// Owner.
    pub tenant: Tenant,
    /// The integrator's reference; `None` once redacted.
    pub external_ref: Option<String>,
    /// Status.
    pub status: IdentityStatus,
    /// Sessions linked to it.
    pub session_count: i64,
    /// Latest completed session.
    pub latest_session_id: Option<String>,
    /// When that session completed (orders completions and merges).
    pub latest_completed_at: Option<DateTime<Utc>>,
    /// Country of the latest completed session.
    pub country: Option<String>,
    /// Latest `face_match` passed, if it ran.
    pub face_match_passed: Option<bool>,
    /// Latest `age_verification` passed, if it ran.
    pub age_check_passed: Option<bool>,
    /// Age computed by the latest session.
    pub extracted_age: Option<i64>,
    /// Why the latest session was rejected.
    pub rejection_reason: Option<String>,
    /// First approval.
    pub first_verified_at: Option<DateTime<Utc>>,
    /// Latest approval.
    pub last_verified_at: Option<DateTime<Utc>>,
    /// Soft-archived.
    pub archived_at: Option<DateTime<Utc>>,
    /// Identity type (`idt_…`).
    pub identity_type_id: Option<String>,
    /// Status within the identity type.
    pub type_status: Option<String>,
    /// Integrator fields.
    pub custom_fields: Map<String, Value>,
    /// Tags, in insertion order.
    pub tags: Vec<String>,
    /// Flagged for attention.
    pub is_flagged: bool,
    /// Why.
    pub flag_reason: Option<String>,
    /// When.
    pub flagged_at: Option<DateTime<Utc>>,
    /// By whom (free text, never sent in webhooks).
    pub flagged_by: Option<String>,
    /// Ongoing monitoring wanted.
    pub monitoring_enabled: bool,
    /// Why monitoring is paused.
    pub monitoring_paused: Option<MonitoringPause>,
    /// Aggregate screening status.
    pub screening_status: ScreeningStatus,
    /// The identity it was merged into.
    pub merged_into_id: Option<String>,
    /// When its data was destroyed.
    pub redacted_at: Option<DateTime<Utc>>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Incremented by every stored change.
    pub revision: i32,
}

impl Identity {
    /// A new `pending` identity for `external_ref`.
    pub fn new(id: String, tenant: Tenant, external_ref: String, now: DateTime<Utc>) -> Self {
        Self {
            id,
            tenant,
            external_ref: Some(external_ref),
            status: IdentityStatus::Pending,
            session_count: 0,
            latest_session_id: None,
            latest_completed_at: None,
            country: None,
            face_match_passed: None,
            age_check_passed: None,
            extracted_age: None,
            rejection_reason: None,
            first_verified_at: None,
            last_verified_at: None,
            archived_at: None,
            identity_type_id: None,
            type_status: None,
            custom_fields: Map::new(),
            tags: Vec::new(),
            is_flagged: false,
            flag_reason: None,
            flagged_at: None,
            flagged_by: None,
            monitoring_enabled: false,
            monitoring_paused: None,
            screening_status: ScreeningStatus::NotScreened,
            merged_into_id: None,
            redacted_at: None,
            created_at: now,
            updated_at: now,
            revision: 0,
        }
    }

    /// Whether it is archived.
    pub fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }
}
