//! `cargo xtask test`: every test against a real Postgres.
//!
//! The database comes from, in this order: `VERIFA_TEST_DATABASE_URL`; else, when a Docker
//! engine answers, one container from the local image `verifa-postgres-test:15` (built
//! offline on first use, see [`crate::postgres_image`]); else we stop with instructions. Tests
//! then run with `VERIFA_TEST_DATABASE_URL` and `VERIFA_REQUIRE_POSTGRES=1`, so no Postgres test
//! can pass by not running.

use std::process::Command;
use std::time::Duration;

use anyhow::{Result, bail};

use crate::cmd;

/// Tests read the server URL from here.
pub const URL_VAR: &str = "VERIFA_TEST_DATABASE_URL";
/// Set to `1` so tests fail instead of skipping when Postgres is missing.
pub const REQUIRE_VAR: &str = "VERIFA_REQUIRE_POSTGRES";

/// Where the test database came from; keeps a container alive while it lives.
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

/// Obtains a database, runs the tests, then releases the database.
pub fn run(extra: &[String]) -> Result<()> {
    let database = obtain()?;
    eprintln!("xtask: tests use Postgres at {}", redact(database.url()));
    let result = run_tests(database.url(), extra);
    drop(database);
    result
}

fn obtain() -> Result<Database> {
    if let Some(url) = std::env::var(URL_VAR).ok().filter(|u| !u.trim().is_empty()) {
        eprintln!("xtask: using {URL_VAR} from the environment");
        return Ok(Database::Given(url));
    }
    let docker = docker_answers();
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
        "the tests need Postgres and none is available: {URL_VAR} is not set and {why}.\n\
         Either set {URL_VAR}=postgres://USER:PASSWORD@HOST:PORT/postgres (a server where \
         USER may create databases), or start a Docker engine and run `cargo xtask test` again."
    )
}

fn docker_answers() -> bool {
    cmd::succeeds_within(
        Command::new("docker").args(["version", "--format", "{{.Server.Version}}"]),
        Duration::from_secs(20),
    )
}

fn run_tests(url: &str, extra: &[String]) -> Result<()> {
    let selection = package_selection(extra);
    let scope: Vec<String> = if selection.is_empty() {
        vec!["--workspace".into()]
    } else {
        selection.clone()
    };
    let nextest = cmd::succeeds_within(
        cmd::cargo().args(["nextest", "--version"]),
        Duration::from_secs(30),
    );
    let mut tests = cmd::cargo();
    if nextest {
        tests.args(["nextest", "run"]);
    } else {
        eprintln!("xtask: cargo-nextest not found; using cargo test");
        tests.arg("test");
    }
    if selection.is_empty() {
        tests.arg("--workspace");
    }
    tests.arg("--no-fail-fast").args(extra);
    let mut doc = cmd::cargo();
    doc.arg("test").args(&scope).arg("--doc");
    let mut failures = Vec::new();
    // Doc tests first: the main runner's summary must be the run's closing lines.
    for command in [&mut doc, &mut tests] {
        command.env(URL_VAR, url).env(REQUIRE_VAR, "1");
        if let Err(err) = cmd::run(command) {
            failures.push(err);
        }
    }
    match failures.into_iter().next() {
        None => Ok(()),
        Some(first) => Err(first),
    }
}

/// `-p X` / `--package X` / `-pX` / `--package=X` among the extra arguments.
fn package_selection(extra: &[String]) -> Vec<String> {
    let mut selection = Vec::new();
    let mut args = extra.iter();
    while let Some(arg) = args.next() {
        if arg == "-p" || arg == "--package" {
            if let Some(name) = args.next() {
                selection.extend(["-p".to_owned(), name.clone()]);
            }
        } else if let Some(name) = arg
            .strip_prefix("--package=")
            .or_else(|| arg.strip_prefix("-p"))
        {
            selection.extend(["-p".to_owned(), name.to_owned()]);
        }
    }
    selection
}

/// The URL with any password replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{path}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://u:s3cret@h:5432/db?x=1"),
            "postgres://u:***@h:5432/db?x=1"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1:1/postgres"),
            "postgres://postgres@127.0.0.1:1/postgres"
        );
        assert_eq!(redact("not a url"), "not a url");
    }

    #[test]
    fn package_selection_replaces_workspace() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            package_selection(&args(&["-p", "a", "--package=b", "-pc", "--package", "d"])),
            args(&["-p", "a", "-p", "b", "-p", "c", "-p", "d"])
        );
        assert!(package_selection(&args(&["-E", "test(x)"])).is_empty());
    }
}
