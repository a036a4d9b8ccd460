//! The sea-orm adapter: one set of entities and repositories for SQLite and Postgres, the backend
//! chosen by the URL scheme (`sqlite://…` or `postgres://…`).
//!
//! [`Database::connect`] opens the pool (SQLite in WAL mode, creating the file and its folder),
//! [`Database::migrate`] applies the schema, and the `repos` modules implement the port traits
//! of `verifa-ports` on top of [`Database`].

mod entities;
mod error;
mod repos;

use sea_orm::{ConnectOptions, DatabaseConnection, DbBackend};
use std::path::Path;
use std::time::Duration;
use verifa_crypto::Cipher;
use verifa_migrations::{Migrator, MigratorTrait};

pub use error::DbSetupError;

/// Pool settings.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Maximum connections.
    pub max_connections: u32,
    /// Minimum idle connections.
    pub min_connections: u32,
    /// How long a request waits for a connection.
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            min_connections: 1,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// A connected store; implements every repository port. Run state and check outputs, which
/// hold a verified person's data, are stored sealed with `cipher`.
#[derive(Clone)]
pub struct Database {
    conn: DatabaseConnection,
    max_connections: u32,
    cipher: Cipher,
    /// Queues this process's review-queue claims in arrival order on SQLite, whose single
    /// writer would otherwise make them busy-wait against each other with growing sleeps.
    claim_queue: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// One audit seal pass at a time in this process.
    seal_gate: repos::audit::SealGate,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("backend", &self.backend_name())
            .finish()
    }
}

impl Database {
    /// Connects to `url`. For SQLite the database file (and its folder) is created when missing,
    /// WAL journaling and secure deletion are enabled, and writers wait on a busy database
    /// instead of failing.
    pub async fn connect(
        url: &str,
        pool: &PoolSettings,
        cipher: Cipher,
    ) -> Result<Self, DbSetupError> {
        let scheme = url.split(':').next().unwrap_or_default();
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(pool.max_connections)
            .min_connections(pool.min_connections.min(pool.max_connections))
            .acquire_timeout(pool.acquire_timeout)
            .connect_timeout(Duration::from_secs(10))
            .sqlx_logging(false);
        match scheme {
            "sqlite" => {
                if let Some(parent) = sqlite_file(url)
                    .and_then(|p| p.parent().map(Path::to_path_buf))
                    .filter(|p| !p.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(&parent)
                        .map_err(|e| DbSetupError::Io(parent.display().to_string(), e))?;
                }
                options.map_sqlx_sqlite_opts(|o| {
                    o.create_if_missing(true)
                        .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                        .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                        .busy_timeout(Duration::from_secs(10))
                        .foreign_keys(true)
                        // Deleted rows are overwritten with zeros, not left in free pages: a
                        // redaction must leave no lookup hash behind in the file (§11.2).
                        .pragma("secure_delete", "ON")
                });
            }
            "postgres" | "postgresql" => {}
            other => return Err(DbSetupError::UnsupportedScheme(other.to_owned())),
        }
        let conn = sea_orm::Database::connect(options)
            .await
            .map_err(|e| DbSetupError::Connect(e.to_string()))?;
        Ok(Self {
            conn,
            max_connections: pool.max_connections,
            cipher,
            claim_queue: std::sync::Arc::default(),
            seal_gate: repos::audit::SealGate::default(),
        })
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<(), DbSetupError> {
        Migrator::up(&self.conn, None)
            .await
            .map_err(|e| DbSetupError::Migrate(e.to_string()))
    }

    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        match self.conn.get_database_backend() {
            DbBackend::Sqlite => "sqlite",
            DbBackend::Postgres => "postgres",
            _ => "other",
        }
    }

    /// The underlying connection, for the migration commands of the composition root.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// Calls `observe` with the SQL and duration of every statement this store (and every clone
    /// made after this call) runs: a benchmark's statement counter. `BEGIN` and `COMMIT` are not
    /// statements here. Never wired in `verifa serve` (the SQL would reach whoever observes).
    pub fn observe_statements(
        &mut self,
        observe: impl Fn(&str, std::time::Duration) + Send + Sync + 'static,
    ) {
        self.conn
            .set_metric_callback(move |info| observe(&info.statement.sql, info.elapsed));
    }

    /// Closes the pool.
    pub async fn close(self) {
        let _ = self.conn.close().await;
    }
}

/// The file path of a `sqlite://path?…` URL (`None` for in-memory databases).
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        None
    } else {
        Some(path.into())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            super::sqlite_file("sqlite://./data/verifa.db?mode=rwc"),
            Some("./data/verifa.db".into())
        );
        assert_eq!(super::sqlite_file("sqlite::memory:"), None);
        assert_eq!(
            super::sqlite_file("sqlite:///tmp/x.db"),
            Some("/tmp/x.db".into())
        );
    }
}
