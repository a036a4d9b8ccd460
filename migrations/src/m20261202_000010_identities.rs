//! Identities (CONTRACT §7): `identities`, one row per person and tenant, unique on
//! `(org_id, environment, external_ref)` so concurrent completions for one person upsert one
//! row; `identity_tags`, the tags again as rows so the `tag` filter is an index lookup;
//! `identity_types`; and `sessions.identity_id`, set when a completing session feeds its
//! identity.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("identities")
                    .col(string_len("id", 64).primary_key())
                    .col(string_len("org_id", 64))
                    .col(string_len("environment", 16))
                    .col(string_len_null("external_ref", 255))
                    .col(string_len("status", 16))
                    .col(big_integer("session_count").default(0))
                    .col(string_len_null("latest_session_id", 64))
                    .col(timestamp_with_time_zone_null("latest_completed_at"))
                    .col(string_len_null("country", 8))
                    .col(boolean_null("face_match_passed"))
                    .col(boolean_null("age_check_passed"))
                    .col(big_integer_null("extracted_age"))
                    .col(text_null("rejection_reason"))
                    .col(timestamp_with_time_zone_null("first_verified_at"))
                    .col(timestamp_with_time_zone_null("last_verified_at"))
                    .col(timestamp_with_time_zone_null("archived_at"))
                    .col(string_len_null("identity_type_id", 64))
                    .col(string_len_null("type_status", 64))
                    .col(text("custom_fields"))
                    .col(text("tags"))
                    .col(boolean("is_flagged"))
                    .col(text_null("flag_reason"))
                    .col(timestamp_with_time_zone_null("flagged_at"))
                    .col(string_len_null("flagged_by", 254))
                    .col(boolean("monitoring_enabled"))
                    .col(string_len_null("monitoring_paused_reason", 16))
                    .col(string_len("screening_status", 16))
                    .col(string_len_null("merged_into_id", 64))
                    .col(timestamp_with_time_zone_null("redacted_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(integer("revision").default(0))
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            (
                "ux_identities_external_ref",
                &["org_id", "environment", "external_ref"][..],
                true,
            ),
            (
                "ix_identities_tenant_created",
                &["org_id", "environment", "created_at"][..],
                false,
            ),
            ("ix_identities_type", &["identity_type_id"][..], false),
        ] {
            let mut index = Index::create();
            index.name(name).table("identities");
            for c in cols {
                index.col(*c);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("identity_tags")
                    .col(string_len("identity_id", 64))
                    .col(string_len("tag", 64))
                    .primary_key(Index::create().col("identity_id").col("tag"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_identity_tags_tag")
                    .table("identity_tags")
                    .col("tag")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("identity_types")
                    .col(string_len("id", 64).primary_key())
                    .col(string_len("org_id", 64))
                    .col(string_len("environment", 16))
                    .col(string_len("name", 64))
                    .col(string_len("label", 200))
                    .col(text_null("description"))
                    .col(text("statuses"))
                    .col(string_len("default_status", 64))
                    .col(boolean("is_default"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(integer("revision").default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_identity_types_name")
                    .table("identity_types")
                    .col("org_id")
                    .col("environment")
                    .col("name")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("sessions")
                    .add_column(string_len_null("identity_id", 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sessions_identity")
                    .table("sessions")
                    .col("identity_id")
                    .col("created_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_sessions_identity")
                    .table("sessions")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("sessions")
                    .drop_column("identity_id")
                    .to_owned(),
            )
            .await?;
        for table in ["identity_types", "identity_tags", "identities"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
