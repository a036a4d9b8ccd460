//! `audit_events` table: append-only (triggers refuse UPDATE and DELETE).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub environment: String,
    pub sequence: i64,
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
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
