//! `api_keys` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub environment: String,
    pub key_type: String,
    pub label: Option<String>,
    pub note: Option<String>,
    pub key_prefix: String,
    pub secret_hash: String,
    /// JSON array of scope names.
    pub scopes: String,
    /// JSON array of CIDRs, or NULL for "anywhere".
    pub allowed_ips: Option<String>,
    pub api_version: String,
    pub default_key_inflection: String,
    pub is_active: bool,
    pub expires_at: Option<ChronoDateTimeUtc>,
    pub last_used_at: Option<ChronoDateTimeUtc>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    pub revision: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
