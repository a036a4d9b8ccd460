//! Organizations, API keys and the idempotency-key store.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("organizations")
                    .col(string_len("id", 64).primary_key())
                    .col(string_len("name", 200))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("api_keys")
                    .col(string_len("id", 64).primary_key())
                    .col(string_len("org_id", 64))
                    .col(string_len("environment", 16))
                    .col(string_len("key_type", 16))
                    .col(string_len_null("label", 200))
                    .col(text_null("note"))
                    .col(string_len("key_prefix", 16))
                    .col(string_len_uniq("secret_hash", 64))
                    .col(text("scopes"))
                    .col(text_null("allowed_ips"))
                    .col(string_len("api_version", 16))
                    .col(string_len("default_key_inflection", 8))
                    .col(boolean("is_active"))
                    .col(timestamp_with_time_zone_null("expires_at"))
                    .col(timestamp_with_time_zone_null("last_used_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_api_keys_org")
                            .from("api_keys", "org_id")
                            .to("organizations", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_api_keys_tenant_created")
                    .table("api_keys")
                    .col("org_id")
                    .col("environment")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;

        // One row per (org, environment, key). `state` is `in_progress` while the first request
        // runs; the unique primary key is what makes concurrent duplicates lose the race.
        manager
            .create_table(
                Table::create()
                    .table("idempotency_keys")
                    .col(string_len("org_id", 64))
                    .col(string_len("environment", 16))
                    .col(string_len("idem_key", 255))
                    .col(string_len("fingerprint", 64))
                    .col(string_len("state", 16))
                    .col(integer_null("response_status"))
                    .col(text_null("response_headers"))
                    .col(blob_null("response_body"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("locked_until"))
                    .primary_key(
                        Index::create()
                            .col("org_id")
                            .col("environment")
                            .col("idem_key"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_idempotency_keys_created")
                    .table("idempotency_keys")
                    .col("created_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["idempotency_keys", "api_keys", "organizations"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
