//! `cargo xtask bench runs`: the workflow-run benchmark (`crates/verifa-server/examples/
//! bench_runs.rs`) in release mode, once on SQLite and once on Postgres, then both reports.
//!
//! Postgres comes from where `cargo xtask test` gets it: `VERIFA_TEST_DATABASE_URL`, else a
//! container from the local image `verifa-postgres-test:15` (with the `containers` feature).
//! The benchmark creates its own database on that server and drops it afterwards. A benchmark,
//! not a test: nothing here fails on a slow figure.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use clap::{Args, Subcommand, ValueEnum};

use crate::cmd;
use crate::test::{URL_VAR, redact};

/// What to benchmark.
#[derive(Debug, Subcommand)]
pub enum Target {
    /// Sessions through a 6-node workflow with the sandbox executors: completed runs/s,
    /// submit-to-decision p50/p99 and database commits per node, on SQLite and Postgres.
    Runs(RunsArgs),
}

/// Options of `bench runs`.
#[derive(Debug, Args)]
pub struct RunsArgs {
    /// Sessions per timed phase (burst and steady).
    #[arg(long, default_value_t = 2000)]
    sessions: usize,
    /// Concurrent run workers (the `runs.workers` default of `verifa serve`).
    #[arg(long, default_value_t = 8)]
    workers: usize,
    /// Which database(s).
    #[arg(long, value_enum, default_value_t = Backend::Both)]
    backend: Backend,
    /// More arguments for the bench program (`--rate`, `--submitters`, `--poll-ms`, …).
    #[arg(last = true)]
    extra: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Backend {
    Sqlite,
    Postgres,
    Both,
}

/// Runs a benchmark.
pub fn run(target: Target) -> Result<()> {
    match target {
        Target::Runs(args) => runs(&args),
    }
}

fn bench_command(args: &RunsArgs, database_url: &str) -> Command {
    let mut c = cmd::cargo();
    c.args([
        "run",
        "--quiet",
        "--release",
        "-p",
        "verifa-server",
        "--example",
        "bench_runs",
        "--",
        "--database-url",
        database_url,
        "--sessions",
        &args.sessions.to_string(),
        "--workers",
        &args.workers.to_string(),
    ])
    .args(&args.extra);
    c
}

/// Runs the bench program; its report (stdout) is returned, its progress goes to stderr.
fn report(args: &RunsArgs, database_url: &str, label: &str) -> Result<String> {
    let mut command = bench_command(args, database_url);
    eprintln!(
        "xtask: bench runs on {label}: $ {}",
        redact(&cmd::describe(&command))
    );
    let output = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .context("could not start the bench program")?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        bail!("the bench on {label} failed ({})", output.status);
    }
    Ok(text)
}

fn runs(args: &RunsArgs) -> Result<()> {
    // Build once up front, so compiler output does not interleave with a report.
    cmd::run(cmd::cargo().args([
        "build",
        "--release",
        "-p",
        "verifa-server",
        "--example",
        "bench_runs",
    ]))?;
    let mut reports = Vec::new();
    if args.backend != Backend::Postgres {
        reports.push(report(args, "sqlite", "SQLite")?);
    }
    if args.backend != Backend::Sqlite {
        let database = obtain()?;
        eprintln!(
            "xtask: bench uses the Postgres server at {}",
            redact(database.url())
        );
        let result = report(args, database.url(), "Postgres");
        drop(database);
        reports.push(result?);
    }
    let mut out = std::io::stdout().lock();
    for r in &reports {
        writeln!(out, "{r}")?;
    }
    Ok(())
}

/// Where the Postgres server came from; keeps a container alive while it lives.
enum Database {
    Given(String),
    #[cfg(feature = "containers")]
    Container(Box<crate::container::PostgresContainer>),
}

impl Database {
    fn url(&self) -> &str {
        match self {
            Self::Given(url) => url,
            #[cfg(feature = "containers")]
            Self::Container(container) => &container.url,
        }
    }
}

/// Same order as `cargo xtask test`: the environment, else a container.
fn obtain() -> Result<Database> {
    if let Some(url) = std::env::var(URL_VAR).ok().filter(|u| !u.trim().is_empty()) {
        eprintln!("xtask: using {URL_VAR} from the environment");
        return Ok(Database::Given(url));
    }
    let docker = cmd::succeeds_within(
        Command::new("docker").args(["version", "--format", "{{.Server.Version}}"]),
        Duration::from_secs(20),
    );
    #[cfg(feature = "containers")]
    if docker {
        crate::postgres_image::ensure()?;
        return Ok(Database::Container(Box::new(
            crate::container::PostgresContainer::start()?,
        )));
    }
    let why = if docker {
        "a Docker engine answers, but this xtask was built without the `containers` feature"
    } else {
        "no Docker engine answers (`docker version` failed)"
    };
    bail!(
        "the Postgres half of the benchmark needs a server: {URL_VAR} is not set and {why}. \
         Set {URL_VAR}=postgres://USER:PASSWORD@HOST:PORT/postgres, start a Docker engine, or \
         pass --backend sqlite."
    )
}
