//! `audit_pending` table: committed audit events waiting to be sealed into their chain.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_pending")]
pub struct Model {
    /// Queue order (assigned at insert).
    #[sea_orm(primary_key)]
    pub pending_id: i64,
    #[sea_orm(unique)]
    pub id: String,
    pub org_id: String,
    pub environment: String,
    pub action: String,
    pub created_at: ChronoDateTimeUtc,
    pub resource_type: String,
    pub resource_id: String,
    pub actor: String,
    /// JSON array of field names.
    pub changes: String,
    /// JSON object.
    pub metadata: String,
    pub ip_address: Option<String>,
    pub request_method: Option<String>,
    pub request_path: Option<String>,
    pub request_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
