//! Reference data and indexes of the verification checks (CONTRACT §4):
//!
//! - `watchlist_entries`: screening entries loaded by the importers (global, not tenant data),
//!   keyed by (list, id) so the same published id may appear in two lists;
//! - `watchlist_meta`: one row whose `version` is bumped by every change of the entries (the
//!   screening executor caches its index by it);
//! - `duplicate_fingerprints`: keyed HMAC fingerprints (hex, never plaintext) of identifying
//!   attributes per session, for `duplicate_detection`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("watchlist_entries")
                    .col(string_len("list", 128))
                    .col(string_len("id", 128))
                    .col(text("name"))
                    // JSON array of strings.
                    .col(text("aliases"))
                    .col(text_null("country"))
                    // `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
                    .col(string_len_null("date_of_birth", 10))
                    .col(timestamp_with_time_zone("created_at"))
                    .primary_key(Index::create().col("list").col("id"))
                    .to_owned(),
            )
            .await?;
        // The primary key leads with `list`, but a dedicated index keeps "delete / count one
        // list" cheap whatever the backend does with composite keys.
        manager
            .create_index(
                Index::create()
                    .name("ix_watchlist_entries_list")
                    .table("watchlist_entries")
                    .col("list")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("watchlist_meta")
                    .col(integer("id").primary_key())
                    .col(big_integer("version"))
                    .col(timestamp_with_time_zone_null("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("INSERT INTO watchlist_meta (id, version) VALUES (1, 0)")
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("duplicate_fingerprints")
                    .col(big_pk_auto("id"))
                    .col(string_len("org_id", 64))
                    .col(string_len("environment", 16))
                    .col(string_len("session_id", 64))
                    .col(string_len("attribute", 32))
                    // hex(HMAC-SHA256(key, …)): never the plaintext value.
                    .col(string_len("fingerprint", 128))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_duplicate_fingerprints_session")
                    .table("duplicate_fingerprints")
                    .col("org_id")
                    .col("environment")
                    .col("session_id")
                    .col("attribute")
                    .col("fingerprint")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_duplicate_fingerprints_lookup")
                    .table("duplicate_fingerprints")
                    .col("org_id")
                    .col("environment")
                    .col("attribute")
                    .col("fingerprint")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "duplicate_fingerprints",
            "watchlist_meta",
            "watchlist_entries",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
