//! Postgres test databases: one migrated template per migration set, cloned per test.
//!
//! The template is `verifa_tpl_<12 hex of sha256 over the migration names>`, so a new migration
//! makes a new template and an old one is never reused by mistake. It is created under a
//! Postgres advisory lock, because nextest runs every test in its own process and many start at
//! once; it is marked `IS_TEMPLATE` only once fully migrated, and `ALLOW_CONNECTIONS false`
//! keeps stray sessions out (a connected template cannot be cloned).

use anyhow::{Context as _, Result, bail};
use sea_orm::{
    ConnectOptions, ConnectionTrait as _, Database, DatabaseConnection, DbBackend, Statement,
};
use sha2::{Digest as _, Sha256};
use verifa_migrations::{Migrator, MigratorTrait as _};

/// Key of the session advisory lock that guards template creation.
const TEMPLATE_LOCK: i64 = 0x7665_7269_6661_0001;

/// Name of the template database for the current migrations.
pub fn template_name() -> String {
    let migrations = Migrator::migrations();
    template_name_for(migrations.iter().map(|m| m.name()))
}

fn template_name_for<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let mut hasher = Sha256::new();
    for name in names {
        hasher.update(name.as_bytes());
        hasher.update(b"\n");
    }
    let digest = hex::encode(hasher.finalize());
    format!("verifa_tpl_{}", &digest[..12])
}

/// Creates `verifa_test_<uuid>` from the template; returns its URL and name.
pub(crate) async fn create(server_url: &str) -> Result<(String, String)> {
    let template = template_name();
    let admin = connect_one(server_url)
        .await
        .context("connecting to the Postgres server")?;
    let result: Result<(String, String)> = async {
        ensure_template(&admin, server_url, &template).await?;
        let name = format!("verifa_test_{}", uuid::Uuid::new_v4().simple());
        admin
            .execute_unprepared(&format!(
                r#"CREATE DATABASE "{name}" TEMPLATE "{template}""#
            ))
            .await
            .with_context(|| format!("creating {name} from {template}"))?;
        Ok((with_database(server_url, &name)?, name))
    }
    .await;
    let _ = admin.close().await;
    result
}

async fn ensure_template(
    admin: &DatabaseConnection,
    server_url: &str,
    template: &str,
) -> Result<()> {
    // Session lock: the pool has exactly one connection, so lock, work and unlock share it.
    admin
        .execute_unprepared(&format!("SELECT pg_advisory_lock({TEMPLATE_LOCK})"))
        .await
        .context("taking the template lock")?;
    let result: Result<()> = async {
        let row = admin
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT datistemplate FROM pg_database WHERE datname = $1",
                [template.into()],
            ))
            .await?;
        match row {
            Some(row) if row.try_get_by_index::<bool>(0)? => return Ok(()),
            // Left half-made by a run that died: start over.
            Some(_) => {
                admin
                    .execute_unprepared(&format!(r#"DROP DATABASE "{template}" WITH (FORCE)"#))
                    .await?;
            }
            None => {}
        }
        admin
            .execute_unprepared(&format!(r#"CREATE DATABASE "{template}""#))
            .await
            .with_context(|| format!("creating the template {template}"))?;
        let db = connect_one(&with_database(server_url, template)?).await?;
        let migrated = Migrator::up(&db, None)
            .await
            .with_context(|| format!("migrating {template}"));
        db.close()
            .await
            .context("closing the template connection")?;
        migrated?;
        admin
            .execute_unprepared(&format!(
                r#"ALTER DATABASE "{template}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"#
            ))
            .await?;
        Ok(())
    }
    .await;
    let unlocked = admin
        .execute_unprepared(&format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK})"))
        .await;
    result?;
    unlocked.context("releasing the template lock")?;
    Ok(())
}

async fn connect_one(url: &str) -> Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(1)
        .min_connections(1)
        .sqlx_logging(false);
    Ok(Database::connect(options).await?)
}

/// Drops a test database, on a thread of its own (Drop is sync); errors are ignored.
pub(crate) fn drop_database(admin_url: &str, name: &str) {
    let admin_url = admin_url.to_owned();
    let name = name.to_owned();
    let worker = std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        runtime.block_on(async {
            if let Ok(admin) = connect_one(&admin_url).await {
                let _ = admin
                    .execute_unprepared(&format!(
                        r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#
                    ))
                    .await;
                let _ = admin.close().await;
            }
        });
    });
    let _ = worker.join();
}

/// `url` with its database name replaced by `name` (query string kept).
fn with_database(url: &str, name: &str) -> Result<String> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let Some((scheme, rest)) = base.split_once("://") else {
        bail!("not a URL: {url}");
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    let mut out = format!("{scheme}://{authority}/{name}");
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_name_is_a_hash_of_the_migration_names() {
        // printf 'a\nb\n' | sha256sum
        assert_eq!(template_name_for(["a", "b"]), "verifa_tpl_911169ddaaf1");
        assert_ne!(
            template_name_for(["a", "b"]),
            template_name_for(["a", "b", "c"])
        );
        assert_ne!(template_name_for(["ab"]), template_name_for(["a", "b"]));
    }

    #[test]
    fn template_name_of_the_real_migrations_is_stable_and_valid() {
        let name = template_name();
        assert_eq!(name, template_name());
        assert_eq!(name.len(), "verifa_tpl_".len() + 12);
        let hash = name.strip_prefix("verifa_tpl_").unwrap();
        assert!(
            hash.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }

    #[test]
    fn database_is_replaced_in_urls() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/postgres?sslmode=disable", "x").unwrap(),
            "postgres://u:p@h:5432/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://u@h:1", "x").unwrap(),
            "postgres://u@h:1/x"
        );
        assert!(with_database("nope", "x").is_err());
    }
}
