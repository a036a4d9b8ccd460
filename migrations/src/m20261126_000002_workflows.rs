//! Workflows, immutable versions, drafts, and the run tables behind execution and analytics.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("workflows")
                    .col(string_len("id", 64).primary_key())
                    .col(string_len("org_id", 64))
                    .col(string_len("environment", 16))
                    .col(string_len("name", 200))
                    .col(text_null("description"))
                    .col(integer("version"))
                    .col(boolean("is_default"))
                    .col(boolean("is_active"))
                    .col(string_len("format", 16))
                    .col(text_null("screening_settings"))
                    .col(text_null("graph_layout"))
                    .col(text("rollout"))
                    .col(timestamp_with_time_zone("rollout_updated_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_workflows_org")
                            .from("workflows", "org_id")
                            .to("organizations", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_workflows_tenant_created")
                    .table("workflows")
                    .col("org_id")
                    .col("environment")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;
        // At most one default per organization and environment, enforced by the database (a
        // partial unique index; both SQLite and Postgres support them).
        manager
            .get_connection()
            .execute_unprepared("CREATE UNIQUE INDEX ux_workflows_one_default ON workflows (org_id, environment) WHERE is_default")
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("workflow_versions")
                    .col(string_len("id", 64).primary_key())
                    .col(string_len("workflow_id", 64))
                    .col(string_len("org_id", 64))
                    .col(string_len("environment", 16))
                    .col(integer("version"))
                    .col(string_len("format", 16))
                    .col(text("graph"))
                    .col(text_null("steps"))
                    .col(text_null("data_requirements"))
                    .col(string_len("source", 16))
                    .col(string_len_null("draft_id", 64))
                    .col(string_len("created_by", 64))
                    .col(string_len("content_hash", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_versions_workflow")
                            .from("workflow_versions", "workflow_id")
                            .to("workflows", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_versions_workflow_version")
                    .table("workflow_versions")
                    .col("workflow_id")
                    .col("version")
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("workflow_drafts")
                    .col(string_len("id", 64).primary_key())
                    .col(string_len("workflow_id", 64))
                    .col(string_len("org_id", 64))
                    .col(string_len("environment", 16))
                    .col(integer("base_version"))
                    .col(string_len("name", 200))
                    .col(text_null("description"))
                    .col(string_len("format", 16))
                    .col(text_null("graph"))
                    .col(text_null("steps"))
                    .col(text_null("data_requirements"))
                    .col(text_null("graph_layout"))
                    .col(string_len("status", 16))
                    .col(integer_null("published_version"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_drafts_workflow")
                            .from("workflow_drafts", "workflow_id")
                            .to("workflows", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_drafts_workflow")
                    .table("workflow_drafts")
                    .col("workflow_id")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;

        // A run of a workflow version for one session. `state` is the engine's RunState as JSON,
        // committed after every node; `runnable_at` and the lease columns let workers claim runs.
        manager
            .create_table(
                Table::create()
                    .table("workflow_runs")
                    .col(string_len("id", 64).primary_key())
                    .col(string_len("org_id", 64))
                    .col(string_len("environment", 16))
                    .col(string_len("session_id", 64))
                    .col(string_len("workflow_id", 64))
                    .col(integer("workflow_version"))
                    .col(string_len("status", 16))
                    .col(string_len_null("final_status", 16))
                    .col(string_len_null("current_node", 64))
                    .col(string_len_null("paused_at_node", 64))
                    .col(text("graph_snapshot"))
                    .col(text("state"))
                    .col(boolean("simulated"))
                    .col(timestamp_with_time_zone_null("runnable_at"))
                    .col(string_len_null("lease_owner", 64))
                    .col(timestamp_with_time_zone_null("lease_until"))
                    .col(integer("revision"))
                    .col(timestamp_with_time_zone_null("started_at"))
                    .col(timestamp_with_time_zone_null("completed_at"))
                    .col(big_integer_null("duration_ms"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_runs_workflow_created")
                    .table("workflow_runs")
                    .col("workflow_id")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_runs_session")
                    .table("workflow_runs")
                    .col("session_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_runs_runnable")
                    .table("workflow_runs")
                    .col("runnable_at")
                    .to_owned(),
            )
            .await?;

        // One row per executed node attempt: the source of per-node analytics and of the
        // verification attempts endpoints.
        manager
            .create_table(
                Table::create()
                    .table("workflow_node_executions")
                    .col(string_len("id", 64).primary_key())
                    .col(string_len("run_id", 64))
                    .col(string_len("org_id", 64))
                    .col(string_len("environment", 16))
                    .col(string_len("session_id", 64))
                    .col(string_len("workflow_id", 64))
                    .col(integer("workflow_version"))
                    .col(string_len("node_id", 64))
                    .col(string_len("node_type", 16))
                    .col(string_len_null("policy", 64))
                    .col(string_len("status", 16))
                    .col(integer("attempt"))
                    .col(text_null("output"))
                    .col(text_null("error"))
                    .col(timestamp_with_time_zone("started_at"))
                    .col(timestamp_with_time_zone("completed_at"))
                    .col(big_integer("duration_ms"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_node_exec_workflow")
                    .table("workflow_node_executions")
                    .col("workflow_id")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_node_exec_attempt")
                    .table("workflow_node_executions")
                    .col("run_id")
                    .col("node_id")
                    .col("attempt")
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "workflow_node_executions",
            "workflow_runs",
            "workflow_drafts",
            "workflow_versions",
            "workflows",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
