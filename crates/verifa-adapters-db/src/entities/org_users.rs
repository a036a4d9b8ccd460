//! `org_users` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "org_users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub email: String,
    /// Trimmed, lower-cased email; unique across the instance.
    pub email_key: String,
    pub name: String,
    pub role: String,
    pub is_active: bool,
    /// argon2id PHC string.
    pub password_hash: String,
    pub password_is_temporary: bool,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    pub last_login_at: Option<ChronoDateTimeUtc>,
    pub revision: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
