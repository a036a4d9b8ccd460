//! `org_settings` (CONTRACT §11.1): one row per organization and environment once its settings
//! were first changed, the settings as JSON (they hold no PII), fenced by `revision`. A missing
//! row means every default.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("org_settings")
                    .col(string_len("org_id", 64))
                    .col(string_len("environment", 16))
                    .col(text("settings"))
                    .col(integer("revision").default(0))
                    .col(timestamp_with_time_zone("updated_at"))
                    .primary_key(Index::create().col("org_id").col("environment"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("org_settings").to_owned())
            .await
    }
}
