//! `webhook_deliveries` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub endpoint_id: String,
    pub org_id: String,
    pub environment: String,
    pub event_id: String,
    pub event_seq: Option<i64>,
    pub session_id: Option<String>,
    pub event_type: String,
    #[sea_orm(unique)]
    pub idempotency_key: String,
    pub body: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<ChronoDateTimeUtc>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<ChronoDateTimeUtc>,
    pub last_attempt_at: Option<ChronoDateTimeUtc>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub last_duration_ms: Option<i64>,
    pub is_test: bool,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    pub completed_at: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
