//! The session entity: what a verification session is, independent of how it is stored.
//!
//! Sensitive values (pre-fill fields) are held sealed: the application encrypts them before they
//! reach this type, so the domain never sees them in clear; so is the session's data key.

use super::status::{RetentionStatus, SessionStatus};
use crate::case::CaseStatus;
use crate::tenancy::Tenant;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// A verification session.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// `ses_…`.
    pub id: String,
    /// Owner.
    pub tenant: Tenant,
    /// Status.
    pub status: SessionStatus,
    /// Workflow chosen at creation (default workflow otherwise).
    pub workflow_id: Option<String>,
    /// Caller's reference.
    pub external_ref: Option<String>,
    /// The identity the session fed on completion (`idn_…`; CONTRACT §7.1).
    pub identity_id: Option<String>,
    /// Its latest review case (`case_…`; CONTRACT §8.3), kept by the case store.
    pub case_id: Option<String>,
    /// That case's status.
    pub case_status: Option<CaseStatus>,
    /// Caller's metadata.
    pub metadata: Map<String, Value>,
    /// ISO country.
    pub country: Option<String>,
    /// Per-session check overrides.
    pub checks: Option<Vec<String>>,
    /// Pre-fill fields, sealed under the session's data key.
    pub fields_sealed: Option<String>,
    /// The session's data key, wrapped under the master key (CONTRACT §11.2): `None` for a
    /// session written before data keys (its data is under the master key) and once redacted.
    pub data_key: Option<String>,
    /// Where the capture flow returns.
    pub redirect_url: Option<String>,
    /// Hex SHA-256 of the capture token in force (the token itself is shown once).
    pub capture_token_hash: Option<String>,
    /// When the latest capture token stops (kept after expiry: the API shows it).
    pub token_expires_at: Option<DateTime<Utc>>,
    /// Detected or declared document type.
    pub document_type: Option<String>,
    /// How much personal data is still held.
    pub retention_status: RetentionStatus,
    /// Runs started.
    pub processing_attempts: i32,
    /// IP of consent.
    pub consent_ip: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// When it expired.
    pub expired_at: Option<DateTime<Utc>>,
    /// When it completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// When its data was redacted.
    pub redacted_at: Option<DateTime<Utc>>,
    /// When its data reached the end of its retention period (`session.retention-expired` was
    /// announced; the sweeper never announces it twice).
    pub retention_expired_at: Option<DateTime<Utc>>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Incremented by every stored change; a change names the revision it was read at.
    pub revision: i32,
}

/// A newly issued capture token as the session keeps it: its SHA-256 and its expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureToken {
    /// Hex SHA-256 of the token.
    pub hash: String,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
}

impl Session {
    /// Whether its documents may still be listed and downloaded: not once redacted, nor past
    /// the sensitive-data window (CONTRACT §11.3, §11.5).
    pub fn serves_documents(&self) -> bool {
        self.retention_status == RetentionStatus::Active
    }

    /// Whether the session's data was crypto-shredded.
    pub fn is_redacted(&self) -> bool {
        self.retention_status == RetentionStatus::Redacted
    }

    /// The document type the session declared, or that its metadata names.
    pub fn declared_document_type(&self) -> Option<&str> {
        self.document_type
            .as_deref()
            .or_else(|| self.metadata.get("document_type").and_then(Value::as_str))
    }
}
