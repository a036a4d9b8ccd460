//! [`DataKeyStore`] on sea-orm: the `sessions.data_key` column, read by id and replaced with a
//! compare-and-set on its own value (a rotation never overwrites a change it did not read).

use crate::Database;
use crate::entities::sessions;
use crate::error::map_db;
use async_trait::async_trait;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use verifa_ports::RepoError;
use verifa_ports::sessions::{DataKeyStore, WrappedKey};

#[async_trait]
impl DataKeyStore for Database {
    async fn data_keys_not_under(
        &self,
        key_id: &str,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<WrappedKey>, RepoError> {
        let mut q = sessions::Entity::find()
            .select_only()
            .column(sessions::Column::Id)
            .column(sessions::Column::DataKey)
            .filter(sessions::Column::DataKey.is_not_null())
            .filter(sessions::Column::DataKey.not_like(format!("{key_id}:%")));
        if let Some(after) = after {
            q = q.filter(sessions::Column::Id.gt(after));
        }
        let rows: Vec<(String, Option<String>)> = q
            .order_by_asc(sessions::Column::Id)
            .limit(limit)
            .into_tuple()
            .all(&self.conn)
            .await
            .map_err(map_db)?;
        Ok(rows
            .into_iter()
            .filter_map(|(session_id, wrapped)| {
                wrapped.map(|wrapped| WrappedKey {
                    session_id,
                    wrapped,
                })
            })
            .collect())
    }

    async fn replace_data_key(
        &self,
        session_id: &str,
        expected: &str,
        next: &str,
    ) -> Result<bool, RepoError> {
        let r = sessions::Entity::update_many()
            .col_expr(sessions::Column::DataKey, Expr::value(next.to_owned()))
            .filter(sessions::Column::Id.eq(session_id))
            .filter(sessions::Column::DataKey.eq(expected))
            .exec(&self.conn)
            .await
            .map_err(map_db)?;
        Ok(r.rows_affected == 1)
    }
}
