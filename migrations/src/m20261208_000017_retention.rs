//! Retention (CONTRACT §11.3): `sessions.retention_expired_at` records when the sweeper
//! announced the end of a session's retention period (`session.retention-expired` fires once);
//! `sessions_retention` serves the sweeper's scan of one tenant's finished sessions still
//! holding data.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("sessions"))
                    .add_column(
                        ColumnDef::new(Alias::new("retention_expired_at"))
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("sessions_retention")
                    .table(Alias::new("sessions"))
                    .col(Alias::new("org_id"))
                    .col(Alias::new("environment"))
                    .col(Alias::new("retention_status"))
                    .col(Alias::new("status"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("sessions_retention")
                    .table(Alias::new("sessions"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("sessions"))
                    .drop_column(Alias::new("retention_expired_at"))
                    .to_owned(),
            )
            .await
    }
}
