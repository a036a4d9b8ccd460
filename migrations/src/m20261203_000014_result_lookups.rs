//! `result_lookups` (CONTRACT §7.3): the keyed lookup hashes of each session result's personal
//! data, one row per hash, so `POST /identities/search` matches people without reading any
//! plaintext. Written with the result and deleted with it (and by redaction).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("result_lookups")
                    .col(string_len("session_id", 64))
                    .col(string_len("hash", 64))
                    .col(string_len("org_id", 64))
                    .col(string_len("environment", 16))
                    .primary_key(Index::create().col("session_id").col("hash"))
                    .to_owned(),
            )
            .await?;
        // A search reads the rows of one tenant holding one of a few hashes.
        manager
            .create_index(
                Index::create()
                    .name("ix_result_lookups_hash")
                    .table("result_lookups")
                    .col("org_id")
                    .col("environment")
                    .col("hash")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("result_lookups").to_owned())
            .await
    }
}
