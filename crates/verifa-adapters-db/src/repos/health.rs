//! [`StoreHealth`] on sea-orm.

use crate::Database;
use crate::error::map_db;
use async_trait::async_trait;
use sea_orm::DatabaseConnectionType;
use verifa_ports::RepoError;
use verifa_ports::health::{PoolStatus, StoreHealth};

#[async_trait]
impl StoreHealth for Database {
    async fn ping(&self) -> Result<(), RepoError> {
        self.conn.ping().await.map_err(map_db)
    }

    fn pool_status(&self) -> PoolStatus {
        let (size, idle) = match &self.conn.inner {
            DatabaseConnectionType::SqlxPostgresPoolConnection(_) => {
                let p = self.conn.get_postgres_connection_pool();
                (p.size(), p.num_idle() as u32)
            }
            DatabaseConnectionType::SqlxSqlitePoolConnection(_) => {
                let p = self.conn.get_sqlite_connection_pool();
                (p.size(), p.num_idle() as u32)
            }
            _ => (0, 0),
        };
        PoolStatus {
            size,
            idle,
            max: self.max_connections,
        }
    }

    fn backend(&self) -> &'static str {
        self.backend_name()
    }
}
