//! `cases` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub environment: String,
    pub session_id: String,
    pub identity_id: Option<String>,
    pub external_ref: Option<String>,
    pub status: String,
    pub decision: Option<String>,
    pub priority: String,
    /// 0 (urgent) … 3 (low), for the queue order.
    pub priority_rank: i32,
    pub source: String,
    /// JSON array.
    pub review_reasons: String,
    pub requires_dual_review: bool,
    pub assigned_to: Option<String>,
    pub claimed_at: Option<ChronoDateTimeUtc>,
    pub last_activity_at: ChronoDateTimeUtc,
    pub escalated_to: Option<String>,
    pub escalation_reason: Option<String>,
    /// JSON object, sealed: a recommendation's notes may name the person.
    pub recommendation: Option<String>,
    pub decided_by: Option<String>,
    pub rejection_reason: Option<String>,
    pub sla_due_at: ChronoDateTimeUtc,
    pub sla_breached_at: Option<ChronoDateTimeUtc>,
    pub entered_review_at: ChronoDateTimeUtc,
    pub decided_at: Option<ChronoDateTimeUtc>,
    /// JSON object.
    pub metadata: String,
    /// JSON object.
    pub custom_fields: String,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    pub revision: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
