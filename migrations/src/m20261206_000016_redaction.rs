//! Crypto-shredding (CONTRACT §11.2): `sessions.data_key` holds the session's data key wrapped
//! under the master key (null for sessions written before this release, whose data stays under
//! the master key, and once redacted); `sessions.redacted_at` says when. `blob_deletions` is the
//! queue of stored blobs a redaction has condemned: the redaction's transaction inserts them,
//! and a background job deletes each from the document store until the store confirms.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ColumnDef::new(Alias::new("data_key"))
                .text()
                .null()
                .to_owned(),
            ColumnDef::new(Alias::new("redacted_at"))
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("sessions"))
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("blob_deletions")
                    .col(big_pk_auto("id"))
                    .col(text("storage_key"))
                    .col(string_len("org_id", 64))
                    .col(string_len("environment", 16))
                    .col(integer("attempts").default(0))
                    .col(timestamp_with_time_zone("next_attempt_at"))
                    .col(text_null("last_error"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("blob_deletions_due")
                    .table("blob_deletions")
                    .col("next_attempt_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("blob_deletions").to_owned())
            .await?;
        for column in ["redacted_at", "data_key"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("sessions"))
                        .drop_column(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
