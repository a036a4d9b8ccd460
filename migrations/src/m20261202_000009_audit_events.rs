//! The audit trail (CONTRACT §6.2): `audit_events`, append-only, and `audit_chains`, one row per
//! organization and environment holding the chain's head. Appends lock the head row, which
//! serialises them per chain; triggers make the database itself refuse to update or delete an
//! event, so even a bug cannot rewrite history (a tamperer has to drop the triggers first, and
//! the chain still gives them away).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_GUARDS: [&str; 2] = [
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events \
     BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events \
     BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
];

const POSTGRES_GUARDS: [&str; 3] = [
    "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN RAISE EXCEPTION 'audit events are append-only'; END $$",
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events \
     FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events \
     FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("audit_chains")
                    .col(string_len("org_id", 64))
                    .col(string_len("environment", 16))
                    .col(big_integer("head_sequence"))
                    .col(string_len("head_hash", 64))
                    .primary_key(Index::create().col("org_id").col("environment"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("audit_events")
                    .col(string_len("id", 64).primary_key())
                    .col(string_len("org_id", 64))
                    .col(string_len("environment", 16))
                    .col(big_integer("sequence"))
                    .col(string_len("action", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(string_len("resource_type", 64))
                    .col(string_len("resource_id", 128))
                    .col(string_len("actor", 128))
                    .col(text("changes"))
                    .col(text("metadata"))
                    .col(string_len_null("ip_address", 64))
                    .col(string_len_null("request_method", 16))
                    .col(text_null("request_path"))
                    .col(string_len_null("request_id", 128))
                    .col(string_len("prev_hash", 64))
                    .col(string_len("hash", 64))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "ux_audit_events_chain",
                &["org_id", "environment", "sequence"][..],
            ),
            (
                "ix_audit_events_resource",
                &["org_id", "environment", "resource_type", "resource_id"][..],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table("audit_events");
            for col in cols {
                index.col(*col);
            }
            if name.starts_with("ux_") {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        let guards: &[&str] = match manager.get_database_backend() {
            sea_orm::DbBackend::Postgres => &POSTGRES_GUARDS,
            _ => &SQLITE_GUARDS,
        };
        let db = manager.get_connection();
        for guard in guards {
            db.execute_unprepared(guard).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("audit_events").to_owned())
            .await?;
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS audit_events_append_only()")
                .await?;
        }
        manager
            .drop_table(Table::drop().table("audit_chains").to_owned())
            .await
    }
}
