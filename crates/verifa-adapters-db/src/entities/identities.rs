//! `identities` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "identities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub environment: String,
    pub external_ref: Option<String>,
    pub status: String,
    pub session_count: i64,
    pub latest_session_id: Option<String>,
    pub latest_completed_at: Option<ChronoDateTimeUtc>,
    pub country: Option<String>,
    pub face_match_passed: Option<bool>,
    pub age_check_passed: Option<bool>,
    pub extracted_age: Option<i64>,
    pub rejection_reason: Option<String>,
    pub first_verified_at: Option<ChronoDateTimeUtc>,
    pub last_verified_at: Option<ChronoDateTimeUtc>,
    pub archived_at: Option<ChronoDateTimeUtc>,
    pub identity_type_id: Option<String>,
    pub type_status: Option<String>,
    /// JSON object.
    pub custom_fields: String,
    /// JSON array, in insertion order (`identity_tags` indexes them).
    pub tags: String,
    pub is_flagged: bool,
    pub flag_reason: Option<String>,
    pub flagged_at: Option<ChronoDateTimeUtc>,
    pub flagged_by: Option<String>,
    pub monitoring_enabled: bool,
    pub monitoring_paused_reason: Option<String>,
    pub screening_status: String,
    pub merged_into_id: Option<String>,
    pub redacted_at: Option<ChronoDateTimeUtc>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    pub revision: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
