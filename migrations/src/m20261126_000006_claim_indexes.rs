//! Indexes shaped like the two claim queries: runnable workflow runs and open webhook
//! deliveries, each ordered as its claim orders (due time, then id) and holding only the rows a
//! claim can take. Completed runs and finished deliveries leave them, so a claim's index walk
//! stays short however large the tables grow, whatever the planner's statistics say. On
//! Postgres, run rows also get free room on their pages for in-place (HOT) updates.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_runs_runnable")
                    .table("workflow_runs")
                    .to_owned(),
            )
            .await?;
        // Partial indexes: both SQLite and Postgres support them.
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE INDEX ix_runs_claimable ON workflow_runs (runnable_at, id) \
             WHERE runnable_at IS NOT NULL",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX ix_deliveries_open ON webhook_deliveries (next_attempt_at, id) \
             WHERE status IN ('pending', 'delivering')",
        )
        .await?;
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            // A run row is rewritten at every step; free room on its page lets Postgres do that
            // in place (a HOT update) when no indexed column changes.
            db.execute_unprepared("ALTER TABLE workflow_runs SET (fillfactor = 70)")
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("ALTER TABLE workflow_runs RESET (fillfactor)")
                .await?;
        }
        for (name, table) in [
            ("ix_deliveries_open", "webhook_deliveries"),
            ("ix_runs_claimable", "workflow_runs"),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("ix_runs_runnable")
                    .table("workflow_runs")
                    .col("runnable_at")
                    .to_owned(),
            )
            .await
    }
}
