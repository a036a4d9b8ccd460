//! `verifa migrate up|down|fresh|status`.

use crate::compose::connect;
use crate::settings::Settings;
use anyhow::Context;
use verifa_migrations::{Migrator, MigratorTrait};

/// What to do.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum MigrateAction {
    /// Apply pending migrations.
    Up,
    /// Roll back the last migration.
    Down,
    /// Drop everything and re-apply all migrations.
    Fresh,
    /// List applied and pending migrations.
    Status,
}

/// Runs the action against the configured database.
#[allow(clippy::print_stdout)]
pub async fn run(settings: &Settings, action: MigrateAction) -> anyhow::Result<()> {
    let db = connect(settings, false).await?;
    let conn = db.connection();
    match action {
        MigrateAction::Up => Migrator::up(conn, None).await.context("migrate up")?,
        MigrateAction::Down => Migrator::down(conn, Some(1))
            .await
            .context("migrate down")?,
        MigrateAction::Fresh => Migrator::fresh(conn).await.context("migrate fresh")?,
        MigrateAction::Status => {
            let applied: Vec<String> = Migrator::get_applied_migrations(conn)
                .await?
                .iter()
                .map(|m| m.name().to_owned())
                .collect();
            for m in Migrator::migrations() {
                let state = if applied.iter().any(|a| a == m.name()) {
                    "applied"
                } else {
                    "pending"
                };
                println!("{state:<8} {}", m.name());
            }
        }
    }
    if !matches!(action, MigrateAction::Status) {
        println!("migrate {action:?}: done ({})", db.backend_name());
    }
    db.close().await;
    Ok(())
}
