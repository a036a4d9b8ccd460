//! `workflow_drafts` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "workflow_drafts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub workflow_id: String,
    pub org_id: String,
    pub environment: String,
    pub base_version: i32,
    pub name: String,
    pub description: Option<String>,
    pub format: String,
    pub graph: Option<String>,
    pub steps: Option<String>,
    pub data_requirements: Option<String>,
    pub graph_layout: Option<String>,
    pub status: String,
    pub published_version: Option<i32>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    pub revision: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
