//! `workflow_node_executions` table: one row per executed node attempt.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "workflow_node_executions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub run_id: String,
    pub org_id: String,
    pub environment: String,
    pub session_id: String,
    pub workflow_id: String,
    pub workflow_version: i32,
    pub node_id: String,
    pub node_type: String,
    pub policy: Option<String>,
    pub status: String,
    pub attempt: i32,
    pub output: Option<String>,
    pub error: Option<String>,
    pub started_at: ChronoDateTimeUtc,
    pub completed_at: ChronoDateTimeUtc,
    pub duration_ms: i64,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
