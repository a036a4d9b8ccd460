//! `workflow_runs` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "workflow_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub environment: String,
    pub session_id: String,
    pub workflow_id: String,
    pub workflow_version: i32,
    pub status: String,
    pub final_status: Option<String>,
    pub current_node: Option<String>,
    pub paused_at_node: Option<String>,
    pub graph_snapshot: String,
    pub state: String,
    pub simulated: bool,
    pub runnable_at: Option<ChronoDateTimeUtc>,
    pub next_event: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<ChronoDateTimeUtc>,
    pub revision: i32,
    pub started_at: Option<ChronoDateTimeUtc>,
    pub completed_at: Option<ChronoDateTimeUtc>,
    pub duration_ms: Option<i64>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
