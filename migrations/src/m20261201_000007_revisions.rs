//! A `revision` on every row that is read, changed and written back (sessions, workflow heads,
//! drafts, webhook endpoints, API keys): a write names the revision it read and is refused when
//! the row moved on, so concurrent read-modify-writes never lose each other's changes.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: [&str; 5] = [
    "sessions",
    "workflows",
    "workflow_drafts",
    "webhook_endpoints",
    "api_keys",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .add_column(
                            ColumnDef::new(Alias::new("revision"))
                                .integer()
                                .not_null()
                                .default(0),
                        )
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .drop_column(Alias::new("revision"))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
