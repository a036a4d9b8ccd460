//! Manual-review cases (CONTRACT §8): `cases`, at most one active per session (a partial unique
//! index would differ between the backends, so the store checks it in the transaction that opens
//! a case), indexed for the queue (status, priority rank, time in review); and `case_notes`,
//! whose content is sealed by the application's cipher (notes may name the person).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("cases")
                    .col(string_len("id", 64).primary_key())
                    .col(string_len("org_id", 64))
                    .col(string_len("environment", 16))
                    .col(string_len("session_id", 64))
                    .col(string_len_null("identity_id", 64))
                    .col(string_len_null("external_ref", 255))
                    .col(string_len("status", 32))
                    .col(string_len_null("decision", 16))
                    .col(string_len("priority", 16))
                    .col(integer("priority_rank"))
                    .col(string_len("source", 16))
                    .col(text("review_reasons"))
                    .col(boolean("requires_dual_review"))
                    .col(string_len_null("assigned_to", 64))
                    .col(timestamp_with_time_zone_null("claimed_at"))
                    .col(timestamp_with_time_zone("last_activity_at"))
                    .col(string_len_null("escalated_to", 64))
                    .col(text_null("escalation_reason"))
                    .col(text_null("recommendation"))
                    .col(string_len_null("decided_by", 64))
                    .col(text_null("rejection_reason"))
                    .col(timestamp_with_time_zone("sla_due_at"))
                    .col(timestamp_with_time_zone_null("sla_breached_at"))
                    .col(timestamp_with_time_zone("entered_review_at"))
                    .col(timestamp_with_time_zone_null("decided_at"))
                    .col(text("metadata"))
                    .col(text("custom_fields"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(integer("revision").default(0))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "ix_cases_queue",
                &[
                    "org_id",
                    "environment",
                    "status",
                    "priority_rank",
                    "entered_review_at",
                ][..],
            ),
            ("ix_cases_session", &["session_id"][..]),
            (
                "ix_cases_tenant_created",
                &["org_id", "environment", "created_at"][..],
            ),
            ("ix_cases_activity", &["status", "last_activity_at"][..]),
        ] {
            let mut index = Index::create();
            index.name(name).table("cases");
            for c in cols {
                index.col(*c);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("case_notes")
                    .col(string_len("id", 64).primary_key())
                    .col(string_len("case_id", 64))
                    .col(string_len("org_id", 64))
                    .col(string_len("environment", 16))
                    .col(string_len_null("author_id", 64))
                    .col(string_len("author_name", 254))
                    .col(string_len("author_type", 8))
                    .col(text("content_encrypted"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_case_notes_case")
                    .table("case_notes")
                    .col("case_id")
                    .col("created_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["case_notes", "cases"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
