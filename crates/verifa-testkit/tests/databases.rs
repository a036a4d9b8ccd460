//! The testkit against real databases: SQLite always; Postgres when `VERIFA_TEST_DATABASE_URL`
//! is set (`cargo xtask test` sets it). The macro test's Postgres half fails without it, by design.

use sea_orm::{ConnectionTrait as _, Database, DbBackend, Statement};
use verifa_migrations::{Migrator, MigratorTrait as _};
use verifa_testkit::{TestDatabase, both_backends, postgres_required, postgres_url};

async fn scalar_i64(url: &str, sql: &str) -> anyhow::Result<i64> {
    let db = Database::connect(url).await?;
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(backend, sql))
        .await?;
    let value = row
        .map(|r| r.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or_default();
    db.close().await?;
    Ok(value)
}

#[tokio::test]
async fn sqlite_database_is_a_fresh_file_removed_on_drop() -> anyhow::Result<()> {
    // -- Setup & Fixtures
    let db = TestDatabase::sqlite().await;
    let path = db
        .url
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .unwrap()
        .to_owned();

    // -- Exec
    let one = scalar_i64(&db.url, "SELECT 1").await?;

    // -- Check
    assert_eq!(one, 1);
    assert_eq!(db.backend(), "sqlite");
    assert!(
        std::path::Path::new(&path).exists(),
        "{path} was not created"
    );
    drop(db);
    assert!(
        !std::path::Path::new(&path).exists(),
        "{path} was not removed"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_postgres_databases_are_created_in_parallel_from_the_migrated_template()
-> anyhow::Result<()> {
    let Some(server) = postgres_url() else {
        assert!(
            !postgres_required(),
            "VERIFA_REQUIRE_POSTGRES=1 but VERIFA_TEST_DATABASE_URL is not set"
        );
        eprintln!("NOT RUN: VERIFA_TEST_DATABASE_URL is not set (use `cargo xtask test`)");
        return Ok(());
    };

    // -- Exec
    let (a, b) = tokio::join!(TestDatabase::postgres(), TestDatabase::postgres());

    // -- Check
    assert_ne!(a.url, b.url);
    let expected = i64::try_from(Migrator::migrations().len())?;
    for db in [&a, &b] {
        assert_eq!(db.backend(), "postgres");
        let applied = scalar_i64(&db.url, "SELECT count(*) FROM seaql_migrations").await?;
        assert_eq!(applied, expected, "{} is not fully migrated", db.url);
    }
    let names: Vec<String> = [&a, &b]
        .iter()
        .map(|d| d.url.rsplit('/').next().unwrap().to_owned())
        .collect();
    drop(a);
    drop(b);
    for name in names {
        let sql = format!("SELECT count(*) FROM pg_database WHERE datname = '{name}'");
        assert_eq!(
            scalar_i64(&server, &sql).await?,
            0,
            "{name} was not dropped"
        );
    }
    Ok(())
}

async fn answers_a_query_on(db: TestDatabase) -> anyhow::Result<()> {
    let conn = Database::connect(&db.url).await?;
    let backend = conn.get_database_backend();
    let expected = if db.backend() == "sqlite" {
        DbBackend::Sqlite
    } else {
        DbBackend::Postgres
    };
    assert_eq!(backend, expected);
    conn.execute_unprepared("SELECT 1").await?;
    conn.close().await?;
    Ok(())
}

both_backends!(answers_a_query, answers_a_query_on);
