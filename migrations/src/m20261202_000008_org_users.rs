//! Organization users (CONTRACT §6.1): reviewers and console users, common to both
//! environments. `email_key` (the trimmed, lower-cased email) is unique across the instance, so
//! two users can never share an email, whatever its case, even when created concurrently.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("org_users")
                    .col(string_len("id", 64).primary_key())
                    .col(string_len("org_id", 64))
                    .col(string_len("email", 254))
                    .col(string_len_uniq("email_key", 254))
                    .col(string_len("name", 200))
                    .col(string_len("role", 16))
                    .col(boolean("is_active"))
                    .col(text("password_hash"))
                    .col(boolean("password_is_temporary"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(timestamp_with_time_zone_null("last_login_at"))
                    .col(integer("revision").default(0))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_org_users_org")
                            .from("org_users", "org_id")
                            .to("organizations", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_org_users_org_created")
                    .table("org_users")
                    .col("org_id")
                    .col("created_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("org_users").to_owned())
            .await
    }
}
