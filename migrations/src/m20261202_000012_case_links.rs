//! The session's link to its review case (CONTRACT §8.3): `sessions.case_id` and
//! `sessions.case_status`, kept by the case store in the transaction of every case write (the
//! session store never writes them), and the result's `case_id` and `decided_by`, set by a
//! case's final decision. Existing sessions are linked to their latest case.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `(table, column, length)` of every added column; SQLite adds one column per statement.
const COLUMNS: [(&str, &str, u32); 4] = [
    ("sessions", "case_id", 64),
    ("sessions", "case_status", 32),
    ("session_results", "case_id", 64),
    ("session_results", "decided_by", 64),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column, len) in COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(string_len_null(column, len))
                        .to_owned(),
                )
                .await?;
        }
        // Portable SQL on both backends: the latest case of each session.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE sessions SET \
                 case_id = (SELECT c.id FROM cases c WHERE c.session_id = sessions.id \
                            ORDER BY c.created_at DESC, c.id DESC LIMIT 1), \
                 case_status = (SELECT c.status FROM cases c WHERE c.session_id = sessions.id \
                                ORDER BY c.created_at DESC, c.id DESC LIMIT 1) \
                 WHERE EXISTS (SELECT 1 FROM cases c WHERE c.session_id = sessions.id)",
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE session_results SET \
                 case_id = (SELECT c.id FROM cases c WHERE c.session_id = session_results.session_id \
                            AND c.decided_at IS NOT NULL ORDER BY c.decided_at DESC LIMIT 1), \
                 decided_by = (SELECT c.decided_by FROM cases c \
                               WHERE c.session_id = session_results.session_id \
                               AND c.decided_at IS NOT NULL ORDER BY c.decided_at DESC LIMIT 1)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column, _) in COLUMNS.iter().rev() {
            manager
                .alter_table(Table::alter().table(*table).drop_column(*column).to_owned())
                .await?;
        }
        Ok(())
    }
}
