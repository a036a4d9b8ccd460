//! Throw-away databases for integration tests. Use as a dev-dependency only.
//!
//! * [`TestDatabase::sqlite`]: a fresh SQLite file in the temp directory, deleted on drop.
//! * [`TestDatabase::postgres`]: a fresh database on the server named by
//!   `VERIFA_TEST_DATABASE_URL`, cloned from a migrated template and dropped on drop.
//!   `cargo xtask test` provides that server (a container, or the URL you give it).
//! * [`both_backends!`]: one test body, run once on each backend.
//! * [`contract`] and [`contract_suite!`]: the repository contract suite, one case per MUST
//!   clause of the store ports, run on every implementation of them.
//!
//! The URLs are handed to the code under test, which migrates on connect (SQLite) or finds the
//! schema already there (Postgres: the template is migrated once per migration set).

pub mod contract;
mod postgres;

use std::path::PathBuf;

pub use postgres::template_name;

/// Environment variable with the Postgres server URL (any database on it; `postgres` is usual).
pub const URL_VAR: &str = "VERIFA_TEST_DATABASE_URL";
/// When `1`, tests that need Postgres must fail rather than skip (set by `cargo xtask test`).
pub const REQUIRE_VAR: &str = "VERIFA_REQUIRE_POSTGRES";

/// A database that exists for one test and is removed when dropped.
#[derive(Debug)]
pub struct TestDatabase {
    /// Connection URL (sea-orm/sqlx format).
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    SqliteFile(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// A new, empty SQLite database file (not migrated).
    pub async fn sqlite() -> TestDatabase {
        let path =
            std::env::temp_dir().join(format!("verifa-test-{}.db", uuid::Uuid::new_v4().simple()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        TestDatabase {
            url,
            cleanup: Cleanup::SqliteFile(path),
        }
    }

    /// A new Postgres database, fully migrated (cloned from the template).
    ///
    /// # Panics
    /// When `VERIFA_TEST_DATABASE_URL` is not set (tests must fail, not skip), or the server
    /// cannot be used.
    pub async fn postgres() -> TestDatabase {
        let Some(server_url) = postgres_url() else {
            panic!(
                "{URL_VAR} is not set: this test needs Postgres. Run the tests with `cargo xtask test` \
                 (it starts a Postgres container), or set {URL_VAR}=postgres://USER:PASSWORD@HOST:PORT/postgres"
            );
        };
        match postgres::create(&server_url).await {
            Ok((url, name)) => TestDatabase {
                url,
                cleanup: Cleanup::Postgres {
                    admin_url: server_url,
                    name,
                },
            },
            Err(err) => panic!("could not create a Postgres test database: {err:#}"),
        }
    }

    /// Which backend this is: `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self.cleanup {
            Cleanup::SqliteFile(_) => "sqlite",
            Cleanup::Postgres { .. } => "postgres",
        }
    }
}

/// `VERIFA_TEST_DATABASE_URL`, if set and not empty.
pub fn postgres_url() -> Option<String> {
    std::env::var(URL_VAR)
        .ok()
        .filter(|url| !url.trim().is_empty())
}

/// Whether `VERIFA_REQUIRE_POSTGRES=1`.
pub fn postgres_required() -> bool {
    std::env::var(REQUIRE_VAR).is_ok_and(|v| v.trim() == "1")
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(file);
                }
            }
            Cleanup::Postgres { admin_url, name } => postgres::drop_database(admin_url, name),
        }
    }
}

/// Runs one async test body on SQLite and on Postgres.
///
/// `both_backends!(name, body)` defines two `#[tokio::test]` functions, `name_sqlite` and
/// `name_postgres`, each calling `body(TestDatabase)`. The body returns `()` or a
/// `Result<(), E: Debug>` (an `Err` fails the test). The Postgres half fails (never skips) when
/// `VERIFA_TEST_DATABASE_URL` is missing: run the tests with `cargo xtask test`.
///
/// ```ignore
/// use verifa_testkit::{TestDatabase, both_backends};
///
/// async fn creates_key_on(db: TestDatabase) -> anyhow::Result<()> {
///     let repo = verifa_adapters_db::connect(&db.url).await?; // migrates on connect
///     // … exercise the repository …
///     Ok(())
/// }
///
/// both_backends!(creates_key, creates_key_on); // tests creates_key_sqlite, creates_key_postgres
/// ```
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:path $(,)?) => {
        $crate::__private::pastey::paste! {
            #[$crate::__private::tokio::test(crate = "verifa_testkit::__private::tokio")]
            async fn [<$name _sqlite>]() {
                $crate::__private::outcome($body($crate::TestDatabase::sqlite().await).await);
            }

            #[$crate::__private::tokio::test(crate = "verifa_testkit::__private::tokio")]
            async fn [<$name _postgres>]() {
                $crate::__private::outcome($body($crate::TestDatabase::postgres().await).await);
            }
        }
    };
}

#[doc(hidden)]
pub mod __private {
    pub use pastey;
    pub use tokio;

    /// What a test body may return.
    pub trait Outcome {
        fn check(self);
    }

    impl Outcome for () {
        fn check(self) {}
    }

    impl<E: std::fmt::Debug> Outcome for Result<(), E> {
        fn check(self) {
            if let Err(err) = self {
                panic!("test body failed: {err:?}");
            }
        }
    }

    pub fn outcome(result: impl Outcome) {
        result.check();
    }
}
