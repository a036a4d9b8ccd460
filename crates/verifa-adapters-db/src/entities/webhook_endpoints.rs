//! `webhook_endpoints` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub environment: String,
    pub url: String,
    pub label: Option<String>,
    pub description: Option<String>,
    pub enabled: bool,
    /// JSON array.
    pub enabled_events: String,
    /// JSON array.
    pub attribute_blocklist: String,
    /// JSON object.
    pub event_filter_conditions: String,
    pub api_version: Option<String>,
    pub key_inflection: String,
    /// Encrypted `whsec_…`.
    pub secret_encrypted: String,
    pub consecutive_failures: i32,
    pub disabled_at: Option<ChronoDateTimeUtc>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    pub revision: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
