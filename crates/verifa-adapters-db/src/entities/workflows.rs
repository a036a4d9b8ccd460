//! `workflows` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "workflows")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub environment: String,
    pub name: String,
    pub description: Option<String>,
    pub version: i32,
    pub is_default: bool,
    pub is_active: bool,
    pub format: String,
    pub screening_settings: Option<String>,
    pub graph_layout: Option<String>,
    /// JSON array of `{version, percentage}`.
    pub rollout: String,
    pub rollout_updated_at: ChronoDateTimeUtc,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    pub revision: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
