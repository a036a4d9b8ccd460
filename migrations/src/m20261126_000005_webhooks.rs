//! Webhooks: endpoints (secret AES-256-GCM encrypted), deliveries (the delivery state machine,
//! with leases so several dispatchers share the work), and the fan-out cursor over the
//! `session_events` outbox.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("webhook_endpoints")
                    .col(string_len("id", 64).primary_key())
                    .col(string_len("org_id", 64))
                    .col(string_len("environment", 16))
                    .col(text("url"))
                    .col(string_len_null("label", 200))
                    .col(text_null("description"))
                    .col(boolean("enabled"))
                    // JSON array of event names / patterns (empty = all).
                    .col(text("enabled_events"))
                    // JSON array of attribute paths.
                    .col(text("attribute_blocklist"))
                    // JSON object.
                    .col(text("event_filter_conditions"))
                    .col(string_len_null("api_version", 16))
                    .col(string_len("key_inflection", 16))
                    // `whsec_…`, AES-256-GCM encrypted (`v1.<nonce>.<ciphertext>`).
                    .col(text("secret_encrypted"))
                    // Consecutive deliveries that ended `failed` (circuit breaker).
                    .col(integer("consecutive_failures"))
                    .col(timestamp_with_time_zone_null("disabled_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_endpoints_org")
                            .from("webhook_endpoints", "org_id")
                            .to("organizations", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_endpoints_tenant")
                    .table("webhook_endpoints")
                    .col("org_id")
                    .col("environment")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("webhook_deliveries")
                    .col(string_len("id", 64).primary_key())
                    .col(string_len("endpoint_id", 64))
                    .col(string_len("org_id", 64))
                    .col(string_len("environment", 16))
                    // `session_events.id`, or `evt_test_…` for test deliveries.
                    .col(string_len("event_id", 64))
                    // `session_events.seq` (null for test deliveries); orders a session's events.
                    .col(big_integer_null("event_seq"))
                    .col(string_len_null("session_id", 64))
                    .col(string_len("event_type", 64))
                    .col(string_len_uniq("idempotency_key", 64))
                    // The exact body sent (signed anew on every attempt).
                    .col(text("body"))
                    // pending | delivering | succeeded | failed
                    .col(string_len("status", 16))
                    .col(integer("attempts"))
                    .col(timestamp_with_time_zone_null("next_attempt_at"))
                    .col(string_len_null("lease_owner", 128))
                    .col(timestamp_with_time_zone_null("lease_until"))
                    .col(timestamp_with_time_zone_null("last_attempt_at"))
                    .col(integer_null("last_status_code"))
                    .col(text_null("last_error"))
                    .col(big_integer_null("last_duration_ms"))
                    .col(boolean("is_test"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(timestamp_with_time_zone_null("completed_at"))
                    .to_owned(),
            )
            .await?;
        // One delivery per event per endpoint, whatever the number of dispatchers.
        manager
            .create_index(
                Index::create()
                    .name("ux_webhook_deliveries_endpoint_event")
                    .table("webhook_deliveries")
                    .col("endpoint_id")
                    .col("event_id")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_deliveries_due")
                    .table("webhook_deliveries")
                    .col("status")
                    .col("next_attempt_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_deliveries_session")
                    .table("webhook_deliveries")
                    .col("endpoint_id")
                    .col("session_id")
                    .col("event_seq")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_deliveries_endpoint_created")
                    .table("webhook_deliveries")
                    .col("endpoint_id")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;

        // Fan-out progress: the last `session_events.seq` turned into deliveries.
        manager
            .create_table(
                Table::create()
                    .table("webhook_fanout_cursor")
                    .col(string_len("name", 64).primary_key())
                    .col(big_integer("last_seq"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "webhook_fanout_cursor",
            "webhook_deliveries",
            "webhook_endpoints",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
