//! `idempotency_keys` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub org_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub environment: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub idem_key: String,
    pub fingerprint: String,
    /// `in_progress` or `completed`.
    pub state: String,
    pub response_status: Option<i32>,
    /// JSON array of `[name, value]` pairs.
    pub response_headers: Option<String>,
    pub response_body: Option<Vec<u8>>,
    pub created_at: ChronoDateTimeUtc,
    pub locked_until: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
