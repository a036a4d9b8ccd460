//! `sessions` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub environment: String,
    pub status: String,
    pub workflow_id: Option<String>,
    pub external_ref: Option<String>,
    /// The identity it fed on completion.
    pub identity_id: Option<String>,
    /// Its latest case and that case's status, written by the case store only.
    pub case_id: Option<String>,
    pub case_status: Option<String>,
    pub metadata: String,
    pub country: Option<String>,
    pub checks: Option<String>,
    pub fields_encrypted: Option<String>,
    /// The session's data key, wrapped under the master key; null once redacted.
    pub data_key: Option<String>,
    pub redacted_at: Option<ChronoDateTimeUtc>,
    pub retention_expired_at: Option<ChronoDateTimeUtc>,
    pub redirect_url: Option<String>,
    pub capture_token_hash: Option<String>,
    pub token_expires_at: Option<ChronoDateTimeUtc>,
    pub document_type: Option<String>,
    pub retention_status: String,
    pub processing_attempts: i32,
    pub consent_ip: Option<String>,
    pub tags: String,
    pub expired_at: Option<ChronoDateTimeUtc>,
    pub completed_at: Option<ChronoDateTimeUtc>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    pub revision: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
