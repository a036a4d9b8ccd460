//! [`WatchlistRepository`] on sea-orm.
//!
//! Entries live in `watchlist_entries` keyed by (list, id); `watchlist_meta` holds one row whose
//! `version` is bumped inside every transaction that changes entries. [`replace_list`] bumps the
//! version FIRST, which takes the row lock on Postgres (and the write lock on SQLite), so
//! concurrent replacements serialize; it then compares the stored list with the new one and
//! rolls back (leaving the version alone) when nothing would change, so re-importing the same
//! file is cheap and does not invalidate the screening cache.
//!
//! [`replace_list`]: WatchlistRepository::replace_list

use crate::Database;
use crate::entities::{watchlist_entries as entries, watchlist_meta as meta};
use crate::error::{corrupt, map_db};
use async_trait::async_trait;
use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use std::collections::{BTreeMap, HashSet};
use verifa_ports::RepoError;
use verifa_ports::watchlists::{WatchlistRecord, WatchlistRepository};

/// The single `watchlist_meta` row.
const META_ID: i32 = 1;
/// Rows per INSERT: 7 bind parameters each keeps a batch far below Postgres' 65 535 and
/// SQLite's 32 766 parameter limits.
const BATCH_ROWS: usize = 1000;
/// Column widths of the migration (`list`, `id`).
const MAX_KEY_LEN: usize = 128;
/// `YYYY-MM-DD`.
const MAX_DOB_LEN: usize = 10;

/// Postgres refuses NUL in text; a NUL in a published list is noise, never meaning.
fn clean(s: &str) -> String {
    if s.contains('\0') {
        s.replace('\0', "")
    } else {
        s.to_owned()
    }
}

/// What is compared to decide whether a replacement changes anything.
type Content = (String, Vec<String>, Option<String>, Option<String>);

fn content(r: &WatchlistRecord) -> Content {
    (
        clean(&r.name),
        r.aliases.iter().map(|a| clean(a)).collect(),
        r.country.as_deref().map(clean),
        r.date_of_birth.as_deref().map(clean),
    )
}

fn validate(list: &str, records: &[WatchlistRecord]) -> Result<(), RepoError> {
    if list.trim().is_empty() {
        return Err(RepoError::Conflict(
            "watchlist name must not be empty".into(),
        ));
    }
    if list.chars().count() > MAX_KEY_LEN || list.contains('\0') {
        return Err(RepoError::Conflict(format!(
            "watchlist name must be at most {MAX_KEY_LEN} printable characters"
        )));
    }
    let mut ids = HashSet::with_capacity(records.len());
    for r in records {
        if r.id.is_empty() || r.id.chars().count() > MAX_KEY_LEN || r.id.contains('\0') {
            return Err(RepoError::Conflict(format!(
                "watchlist entry id must be 1 to {MAX_KEY_LEN} printable characters"
            )));
        }
        if r.date_of_birth
            .as_deref()
            .is_some_and(|d| d.chars().count() > MAX_DOB_LEN)
        {
            return Err(RepoError::Conflict(format!(
                "watchlist entry {}: date_of_birth must be YYYY, YYYY-MM or YYYY-MM-DD",
                r.id
            )));
        }
        if !ids.insert(r.id.as_str()) {
            return Err(RepoError::Conflict(format!(
                "duplicate watchlist entry id {}",
                r.id
            )));
        }
    }
    Ok(())
}

fn record_from(m: entries::Model) -> Result<WatchlistRecord, RepoError> {
    let aliases: Vec<String> =
        serde_json::from_str(&m.aliases).map_err(|e| corrupt("watchlist_entries.aliases", e))?;
    Ok(WatchlistRecord {
        id: m.id,
        name: m.name,
        aliases,
        list: m.list,
        country: m.country,
        date_of_birth: m.date_of_birth,
    })
}

/// Bumps the version (creating the row if someone removed it).
async fn bump_version<C: ConnectionTrait>(conn: &C) -> Result<(), RepoError> {
    let now = Utc::now();
    let updated = meta::Entity::update_many()
        .col_expr(
            meta::Column::Version,
            Expr::col(meta::Column::Version).add(1),
        )
        .col_expr(meta::Column::UpdatedAt, Expr::value(Some(now)))
        .filter(meta::Column::Id.eq(META_ID))
        .exec(conn)
        .await
        .map_err(map_db)?;
    if updated.rows_affected == 0 {
        meta::Entity::insert(meta::ActiveModel {
            id: Set(META_ID),
            version: Set(1),
            updated_at: Set(Some(now)),
        })
        .exec_without_returning(conn)
        .await
        .map_err(map_db)?;
    }
    Ok(())
}

#[async_trait]
impl WatchlistRepository for Database {
    async fn version(&self) -> Result<i64, RepoError> {
        Ok(meta::Entity::find_by_id(META_ID)
            .one(&self.conn)
            .await
            .map_err(map_db)?
            .map_or(0, |m| m.version))
    }

    async fn all(&self) -> Result<Vec<WatchlistRecord>, RepoError> {
        // One statement: a consistent snapshot on both backends.
        entries::Entity::find()
            .order_by_asc(entries::Column::List)
            .order_by_asc(entries::Column::Id)
            .all(&self.conn)
            .await
            .map_err(map_db)?
            .into_iter()
            .map(record_from)
            .collect()
    }

    async fn replace_list(
        &self,
        list: &str,
        records: &[WatchlistRecord],
    ) -> Result<u64, RepoError> {
        validate(list, records)?;
        let count = u64::try_from(records.len()).unwrap_or(u64::MAX);
        let txn = self.conn.begin().await.map_err(map_db)?;
        bump_version(&txn).await?;

        let stored: BTreeMap<String, Content> = entries::Entity::find()
            .filter(entries::Column::List.eq(list))
            .all(&txn)
            .await
            .map_err(map_db)?
            .into_iter()
            .map(|m| {
                let r = record_from(m)?;
                let c = content(&r);
                Ok((r.id, c))
            })
            .collect::<Result<_, RepoError>>()?;
        let wanted: BTreeMap<String, Content> =
            records.iter().map(|r| (r.id.clone(), content(r))).collect();
        if stored == wanted {
            // Nothing changes: undo the version bump.
            txn.rollback().await.map_err(map_db)?;
            return Ok(count);
        }

        entries::Entity::delete_many()
            .filter(entries::Column::List.eq(list))
            .exec(&txn)
            .await
            .map_err(map_db)?;
        let now = Utc::now();
        for chunk in records.chunks(BATCH_ROWS) {
            let models = chunk
                .iter()
                .map(|r| {
                    let aliases: Vec<String> = r.aliases.iter().map(|a| clean(a)).collect();
                    let aliases = serde_json::to_string(&aliases)
                        .map_err(|e| RepoError::Unavailable(format!("encoding aliases: {e}")))?;
                    Ok(entries::ActiveModel {
                        list: Set(list.to_owned()),
                        id: Set(r.id.clone()),
                        name: Set(clean(&r.name)),
                        aliases: Set(aliases),
                        country: Set(r.country.as_deref().map(clean)),
                        date_of_birth: Set(r.date_of_birth.as_deref().map(clean)),
                        created_at: Set(now),
                    })
                })
                .collect::<Result<Vec<_>, RepoError>>()?;
            entries::Entity::insert_many(models)
                .exec_without_returning(&txn)
                .await
                .map_err(map_db)?;
        }
        txn.commit().await.map_err(map_db)?;
        tracing::info!(list = %list, entries = count, "watchlist replaced");
        Ok(count)
    }
}

impl Database {
    /// Entry counts per watchlist, by list name (for `verifa watchlists status`).
    pub async fn watchlist_counts(&self) -> Result<Vec<(String, u64)>, RepoError> {
        use sea_orm::QuerySelect;
        let rows: Vec<(String, i64)> = entries::Entity::find()
            .select_only()
            .column(entries::Column::List)
            .column_as(entries::Column::Id.count(), "n")
            .group_by(entries::Column::List)
            .order_by_asc(entries::Column::List)
            .into_tuple()
            .all(&self.conn)
            .await
            .map_err(map_db)?;
        Ok(rows
            .into_iter()
            .map(|(list, n)| (list, u64::try_from(n).unwrap_or(0)))
            .collect())
    }
}
