//! `migrate` and `seed`: thin wrappers around the service binary's operator commands
//! (`verifa migrate up|down|fresh|status`, `verifa seed`), so there is one implementation.

use anyhow::Result;
use clap::ValueEnum;

use crate::cmd;

/// `verifa migrate` subcommands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MigrateCmd {
    /// Apply every pending migration.
    Up,
    /// Roll back the last migration.
    Down,
    /// Drop everything and apply all migrations again.
    Fresh,
    /// List applied and pending migrations.
    Status,
}

impl MigrateCmd {
    fn as_str(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Down => "down",
            Self::Fresh => "fresh",
            Self::Status => "status",
        }
    }
}

/// `cargo run --quiet -p verifa-server -- migrate <cmd> [--database-url URL]`.
pub fn migrate(what: MigrateCmd, database_url: Option<&str>) -> Result<()> {
    let mut args = vec!["migrate", what.as_str()];
    args.extend(database_url_args(database_url));
    run_server(&args)
}

/// `cargo run --quiet -p verifa-server -- seed [--database-url URL]`.
pub fn seed(database_url: Option<&str>) -> Result<()> {
    let mut args = vec!["seed"];
    args.extend(database_url_args(database_url));
    run_server(&args)
}

fn database_url_args(database_url: Option<&str>) -> Vec<&str> {
    database_url
        .map(|url| vec!["--database-url", url])
        .unwrap_or_default()
}

fn run_server(args: &[&str]) -> Result<()> {
    let mut command = cmd::cargo();
    command
        .args(["run", "--quiet", "-p", "verifa-server", "--"])
        .args(args);
    cmd::run(&mut command)
}
