//! `session_events` table: the append-only session event log, which is also the webhook outbox.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "session_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    #[sea_orm(unique)]
    pub id: String,
    pub org_id: String,
    pub environment: String,
    pub session_id: String,
    /// Webhook event name (`session.approved`, …).
    pub event_type: String,
    /// Event fields (flat form) as JSON; never PII.
    pub data: String,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
