//! Sessions, their documents and results, and the session event log. The event log is written in
//! the same transaction as every session state change and doubles as the webhook outbox.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("sessions")
                    .col(string_len("id", 64).primary_key())
                    .col(string_len("org_id", 64))
                    .col(string_len("environment", 16))
                    .col(string_len("status", 32))
                    .col(string_len_null("workflow_id", 64))
                    .col(string_len_null("external_ref", 255))
                    .col(text("metadata"))
                    .col(string_len_null("country", 2))
                    .col(text_null("checks"))
                    // Pre-fill fields, AES-256-GCM encrypted (PII).
                    .col(text_null("fields_encrypted"))
                    .col(text_null("redirect_url"))
                    .col(string_len_null("capture_token_hash", 64))
                    .col(timestamp_with_time_zone_null("token_expires_at"))
                    .col(string_len_null("document_type", 32))
                    .col(string_len("retention_status", 32))
                    .col(integer("processing_attempts"))
                    .col(string_len_null("consent_ip", 64))
                    .col(text("tags"))
                    .col(timestamp_with_time_zone_null("expired_at"))
                    .col(timestamp_with_time_zone_null("completed_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_org")
                            .from("sessions", "org_id")
                            .to("organizations", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sessions_tenant_created")
                    .table("sessions")
                    .col("org_id")
                    .col("environment")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sessions_external_ref")
                    .table("sessions")
                    .col("org_id")
                    .col("environment")
                    .col("external_ref")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sessions_token")
                    .table("sessions")
                    .col("capture_token_hash")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("session_documents")
                    .col(string_len("id", 64).primary_key())
                    .col(string_len("session_id", 64))
                    .col(string_len("org_id", 64))
                    .col(string_len("environment", 16))
                    .col(string_len("document_type", 32))
                    .col(string_len("mime_type", 64))
                    .col(big_integer("file_size_bytes"))
                    .col(string_len("storage_key", 255))
                    .col(string_len("sha256", 64))
                    // Text submitted with the document (e.g. the MRZ lines), encrypted.
                    .col(text_null("text_encrypted"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_documents_session")
                            .from("session_documents", "session_id")
                            .to("sessions", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        // One document per type per session: an upload of the same type replaces the old one.
        manager
            .create_index(
                Index::create()
                    .name("ux_documents_session_type")
                    .table("session_documents")
                    .col("session_id")
                    .col("document_type")
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("session_results")
                    .col(string_len("session_id", 64).primary_key())
                    .col(string_len("org_id", 64))
                    .col(string_len("environment", 16))
                    .col(string_len("status", 32))
                    // The result object without extracted data, as JSON.
                    .col(text("result"))
                    // extracted_data, AES-256-GCM encrypted (PII).
                    .col(text_null("extracted_data_encrypted"))
                    .col(text_null("rejection_reason"))
                    .col(string_len_null("workflow_run_id", 64))
                    .col(boolean("simulated"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;

        // The next engine event of a run (external decisions, resumes), applied by the worker
        // that claims it.
        manager
            .alter_table(
                Table::alter()
                    .table("workflow_runs")
                    .add_column(text_null("next_event"))
                    .to_owned(),
            )
            .await?;

        // The session event log / webhook outbox: append-only, ordered by `seq`.
        manager
            .create_table(
                Table::create()
                    .table("session_events")
                    .col(big_pk_auto("seq"))
                    .col(string_len_uniq("id", 64))
                    .col(string_len("org_id", 64))
                    .col(string_len("environment", 16))
                    .col(string_len("session_id", 64))
                    .col(string_len("event_type", 64))
                    // Event fields (flat form), JSON; never PII.
                    .col(text("data"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_session_events_session")
                    .table("session_events")
                    .col("session_id")
                    .col("seq")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("workflow_runs")
                    .drop_column("next_event")
                    .to_owned(),
            )
            .await?;
        for table in [
            "session_events",
            "session_results",
            "session_documents",
            "sessions",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
