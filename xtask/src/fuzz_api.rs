//! `cargo xtask fuzz-api`: the OpenAPI document kept honest by a property-based fuzzer.
//!
//! Installs Schemathesis (pinned) from PyPI into a throw-away virtual environment, builds and
//! starts the release server on a fresh SQLite database seeded with the demo organization's
//! well-known keys, and runs every Schemathesis check against `/api/v1/openapi.json` once with
//! the sandbox key and once with the live key, bounded in examples and time. Any failed check
//! fails the command. What is excluded, and why, is in `xtask/fuzz-api/schemathesis.toml`;
//! `xtask/fuzz-api/hooks.py` gives every request a fresh `Idempotency-Key` (see there why).
//!
//! Traffic stays on this machine: the server listens on 127.0.0.1, runs no webhook dispatcher
//! and no vendor, and the one operation that sends a request to a caller-given URL (a webhook
//! test delivery) is excluded.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use clap::Args;

use crate::cmd;

/// The Schemathesis release the configuration was written for.
const SCHEMATHESIS: &str = "schemathesis==4.32.5";
/// The demo keys `verifa seed` creates (public, development only).
const KEYS: [(&str, &str); 2] = [
    (
        "sandbox",
        "vk_sandbox_demo0000000000000000000000000000000000",
    ),
    ("live", "vk_live_demo0000000000000000000000000000000000"),
];

/// Options of `fuzz-api`.
#[derive(Debug, Args)]
pub struct FuzzArgs {
    /// Test cases per operation and phase.
    #[arg(long, default_value_t = 30)]
    max_examples: u32,
    /// Time budget per key, in seconds.
    #[arg(long, default_value_t = 150)]
    max_time: u32,
    /// Fuzz the dev build instead of the release build (quicker to build while iterating).
    #[arg(long)]
    debug: bool,
    /// Keep the working directory (database, reports, server log) and print where it is.
    #[arg(long)]
    keep: bool,
    /// Fixed seed (default: Schemathesis picks one and prints it).
    #[arg(long)]
    seed: Option<u64>,
}

impl Default for FuzzArgs {
    /// What CI runs: the release build, the default bounds.
    fn default() -> Self {
        Self {
            max_examples: 30,
            max_time: 150,
            debug: false,
            keep: false,
            seed: None,
        }
    }
}

/// Runs the fuzzer; an error when any check failed.
pub fn run(args: &FuzzArgs) -> Result<()> {
    let root = cmd::workspace_root();
    let work = std::env::temp_dir().join(format!("verifa-fuzz-api-{}", std::process::id()));
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let outcome = fuzz(args, &root, &work);
    if args.keep || outcome.is_err() {
        eprintln!(
            "xtask: fuzz-api: working directory kept at {}",
            work.display()
        );
    } else {
        let _ = std::fs::remove_dir_all(&work);
    }
    outcome
}

fn fuzz(args: &FuzzArgs, root: &Path, work: &Path) -> Result<()> {
    let st = install_schemathesis(work)?;
    let binary = build_server(args.debug)?;
    let port = free_port()?;
    let env = server_env(work, port);
    let mut seed = Command::new(&binary);
    seed.arg("seed").envs(env.iter().map(|(k, v)| (k, v)));
    cmd::run(seed.stdout(Stdio::null()))?;
    let log = std::fs::File::create(work.join("server.log"))?;
    let server = Command::new(&binary)
        .arg("serve")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting the server")?;
    let mut server = KillOnDrop(server);
    wait_until_healthy(port, &mut server.0)?;

    let config = root.join("xtask/fuzz-api/schemathesis.toml");
    let hooks = root.join("xtask/fuzz-api/hooks.py");
    let url = format!("http://127.0.0.1:{port}/api/v1/openapi.json");
    let mut failed = Vec::new();
    for (environment, key) in KEYS {
        eprintln!("xtask: fuzz-api: == {environment} key ==");
        let mut c = Command::new(&st);
        c.arg("--config-file")
            .arg(&config)
            .arg("--no-color")
            .arg("run")
            .arg(&url)
            .args(["--checks", "all"])
            .args(["--phases", "examples,coverage,fuzzing,stateful"])
            .args(["--max-examples", &args.max_examples.to_string()])
            .args(["--max-time", &args.max_time.to_string()])
            .args(["--report", "junit"])
            .arg("--report-dir")
            .arg(work.join(format!("report-{environment}")))
            .env("SCHEMATHESIS_HOOKS", &hooks)
            .env("VERIFA_FUZZ_API_KEY", key)
            .current_dir(work);
        if let Some(seed) = args.seed {
            c.args(["--seed", &seed.to_string()]);
        }
        if let Err(e) = cmd::run(&mut c) {
            eprintln!("xtask: fuzz-api: {environment}: {e}");
            failed.push(environment);
        }
    }
    if server.0.try_wait()?.is_some() {
        bail!(
            "the server exited during the run; see {}",
            work.join("server.log").display()
        );
    }
    if failed.is_empty() {
        eprintln!("xtask: fuzz-api: every check passed with the sandbox and the live key");
        Ok(())
    } else {
        bail!("checks failed with the {} key(s)", failed.join(" and "))
    }
}

/// A fresh virtual environment with Schemathesis; the path of its `st`.
fn install_schemathesis(work: &Path) -> Result<PathBuf> {
    let venv = work.join("venv");
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    cmd::run(Command::new(&python).args(["-m", "venv"]).arg(&venv))
        .context("creating a Python virtual environment (Debian: apt install python3-venv)")?;
    cmd::run(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(SCHEMATHESIS),
    )?;
    Ok(venv.join("bin/st"))
}

/// Builds the `verifa` binary; its path.
fn build_server(debug: bool) -> Result<PathBuf> {
    let mut c = cmd::cargo();
    c.args(["build", "-p", "verifa-server", "--bin", "verifa"]);
    if !debug {
        c.arg("--release");
    }
    cmd::run(&mut c)?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| cmd::workspace_root().join("target"));
    Ok(target
        .join(if debug { "debug" } else { "release" })
        .join("verifa"))
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The server's settings for a fuzz run: its own database and documents, loopback only, no
/// background delivery, and limits high enough that rate limiting does not hide everything.
fn server_env(work: &Path, port: u16) -> Vec<(String, String)> {
    let db = work.join("fuzz.db");
    [
        ("VERIFA_ENV", "development".to_owned()),
        (
            "VERIFA__DATABASE__URL",
            format!("sqlite://{}?mode=rwc", db.display()),
        ),
        (
            "VERIFA__STORAGE__PATH",
            work.join("documents").display().to_string(),
        ),
        ("VERIFA__SERVER__ADDR", format!("127.0.0.1:{port}")),
        (
            "VERIFA__SERVER__PUBLIC_URL",
            format!("http://127.0.0.1:{port}"),
        ),
        ("VERIFA__BOOTSTRAP__ENABLED", "false".to_owned()),
        ("VERIFA__WEBHOOKS__WORKERS", "0".to_owned()),
        (
            "VERIFA__RATE_LIMIT__REQUESTS_PER_MINUTE",
            "1000000".to_owned(),
        ),
        (
            "VERIFA__RATE_LIMIT__SESSION_CREATE_PER_MINUTE",
            "1000000".to_owned(),
        ),
        (
            "VERIFA__RATE_LIMIT__PUBLISHABLE_PER_MINUTE",
            "1000000".to_owned(),
        ),
        ("VERIFA__LOG__LEVEL", "warn".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn wait_until_healthy(port: u16, server: &mut Child) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(status) = server.try_wait()? {
            bail!("the server exited before answering ({status})");
        }
        if healthz(port) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    bail!("the server did not answer /healthz within 60 s")
}

fn healthz(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = "GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

/// Stops the server however the run ends.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
