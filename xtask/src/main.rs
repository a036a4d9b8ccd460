//! `cargo xtask`: the project's automation, in Rust so it runs the same on every machine.
//!
//! Subcommands: `check-layers` (architecture rules over `cargo metadata`), `migrate` and `seed`
//! (delegate to the `verifa` binary's operator commands), `test` (find or start a Postgres, then
//! run the whole test suite against it), `fuzz-api` (Schemathesis against the OpenAPI document),
//! `ci` (fmt, clippy, check-layers, test, fuzz-api) and `bench runs` (the workflow-run benchmark
//! on SQLite and Postgres).

mod bench;
mod check_layers;
mod ci;
mod cmd;
#[cfg(feature = "containers")]
mod container;
mod delegate;
mod fuzz_api;
#[cfg(feature = "containers")]
mod postgres_image;
mod test;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "Verifa project automation", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check the dependency rules between the workspace crates (hexagonal layering).
    CheckLayers,
    /// Run database migrations through `verifa migrate`.
    Migrate {
        /// What to do.
        #[arg(value_enum, default_value_t = delegate::MigrateCmd::Up)]
        cmd: delegate::MigrateCmd,
        /// Database to migrate (default: the service configuration).
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Load the seed data through `verifa seed`.
    Seed {
        /// Database to seed (default: the service configuration).
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Run every test against a real Postgres (from VERIFA_TEST_DATABASE_URL or a container).
    ///
    /// Arguments after `--` go to `cargo nextest run` (or `cargo test`); `-p`/`--package`
    /// among them replace `--workspace`.
    Test {
        /// Extra arguments for the test runner.
        #[arg(last = true)]
        extra: Vec<String>,
    },
    /// What CI runs: fmt check, clippy -D warnings, check-layers, test, then fuzz-api.
    Ci,
    /// Fuzz the API against its OpenAPI document (Schemathesis, every check, sandbox and live
    /// keys) on a fresh release server; fails on any failed check.
    FuzzApi(fuzz_api::FuzzArgs),
    /// Benchmarks (release builds; figures, never pass/fail on timings).
    Bench {
        /// What to benchmark.
        #[command(subcommand)]
        target: bench::Target,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::CheckLayers => check_layers::run(),
        Command::Migrate { cmd, database_url } => delegate::migrate(cmd, database_url.as_deref()),
        Command::Seed { database_url } => delegate::seed(database_url.as_deref()),
        Command::Test { extra } => test::run(&extra),
        Command::Ci => ci::run(),
        Command::Bench { target } => bench::run(target),
        Command::FuzzApi(args) => fuzz_api::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // A delegated command already printed its own error: just pass its code on.
            if let Some(failed) = err.downcast_ref::<cmd::Failed>() {
                eprintln!("xtask: {failed}");
                return ExitCode::from(failed.exit_code());
            }
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
