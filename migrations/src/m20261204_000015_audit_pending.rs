//! `audit_pending`: the audit events a change has committed but not yet sealed into its chain.
//!
//! A change's transaction inserts its events here, with no chain lock, so changes to one
//! organization no longer queue behind each other for the chain's head; a sealer (a background
//! loop of every server, and every read of the trail) moves them, in `pending_id` order, into
//! `audit_events` under the head's lock (see `verifa_ports::audit`). A trigger refuses an event
//! id that is already sealed, so an id stays unique across both tables and a duplicate still
//! fails the change that carries it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The message both backends raise for an id that is already sealed; the adapter maps it to a
/// conflict, like a duplicate key.
pub const DUPLICATE_SEALED_ID: &str = "audit event id is already sealed";

const SQLITE_GUARD: &str = "CREATE TRIGGER audit_pending_unique_id BEFORE INSERT ON audit_pending \
     WHEN EXISTS (SELECT 1 FROM audit_events WHERE id = NEW.id) \
     BEGIN SELECT RAISE(ABORT, 'audit event id is already sealed'); END";

const POSTGRES_GUARDS: [&str; 2] = [
    "CREATE FUNCTION audit_pending_unique_id() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN \
       IF EXISTS (SELECT 1 FROM audit_events WHERE id = NEW.id) THEN \
         RAISE EXCEPTION 'audit event id is already sealed' USING ERRCODE = 'unique_violation'; \
       END IF; \
       RETURN NEW; \
     END $$",
    "CREATE TRIGGER audit_pending_unique_id BEFORE INSERT ON audit_pending \
     FOR EACH ROW EXECUTE FUNCTION audit_pending_unique_id()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("audit_pending")
                    .col(big_pk_auto("pending_id"))
                    .col(string_len_uniq("id", 64))
                    .col(string_len("org_id", 64))
                    .col(string_len("environment", 16))
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
                    .to_owned(),
            )
            .await?;
        // A sealer reads one chain's queue in order.
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_pending_chain")
                    .table("audit_pending")
                    .col("org_id")
                    .col("environment")
                    .col("pending_id")
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        match manager.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                for guard in POSTGRES_GUARDS {
                    db.execute_unprepared(guard).await?;
                }
            }
            _ => {
                db.execute_unprepared(SQLITE_GUARD).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("audit_pending").to_owned())
            .await?;
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS audit_pending_unique_id()")
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guards_raise_the_documented_message() {
        assert!(SQLITE_GUARD.contains(DUPLICATE_SEALED_ID));
        assert!(POSTGRES_GUARDS[0].contains(DUPLICATE_SEALED_ID));
    }
}
