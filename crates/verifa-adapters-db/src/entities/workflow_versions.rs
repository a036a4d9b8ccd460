//! `workflow_versions` table (rows are never updated or deleted).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "workflow_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub workflow_id: String,
    pub org_id: String,
    pub environment: String,
    pub version: i32,
    pub format: String,
    pub graph: String,
    pub steps: Option<String>,
    pub data_requirements: Option<String>,
    pub source: String,
    pub draft_id: Option<String>,
    pub created_by: String,
    pub content_hash: String,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
