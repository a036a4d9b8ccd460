//! `bench_runs`: throughput and latency of durable workflow runs (`cargo xtask bench runs`).
//!
//! A benchmark, not a test: it asserts nothing about timings. On a fresh database (a temp
//! SQLite file, or a new database created on the given Postgres server and dropped after) it
//! creates an organization, a 6-node live workflow whose checks the sandbox executors answer
//! instantly, and 2 × N sessions with an `id_front` each (setup, not timed). Then two timed
//! phases, each on its own N sessions:
//!
//! * **burst**: submit all N (live submit starts the run in the same transaction), then W
//!   run workers drain them: completed runs/s, database commits per node, where time goes;
//! * **steady**: submissions paced at R/s (`--rate`, default half the burst throughput) while
//!   W workers poll like `verifa serve` does: submit-to-decision latency p50/p99/max.
//!
//! The workers are the production [`RunWorker`] loops that `verifa serve` starts
//! ([`verifa_server::background::spawn_run_workers`]), with the sandbox check registry for live
//! runs, over the real database adapter. The profile comes from the workers' own counters
//! ([`WorkerStats`]: claims, commits, parks and the time spent in each). The decision instant of
//! a session is its run's recorded `completed_at` (the worker's clock when the deciding step
//! began; its commit follows within milliseconds). Database commits: on Postgres
//! `pg_stat_database.xact_commit` of the bench database (every transaction, reads included) plus
//! the workers' write transactions; on SQLite the workers' write transactions only (SQLite keeps
//! no commit counter).
//!
//! ```sh
//! cargo run --release -p verifa-server --example bench_runs -- \
//!     --database-url sqlite --sessions 3000 --workers 8
//! cargo run --release -p verifa-server --example bench_runs -- \
//!     --database-url postgres://postgres@127.0.0.1:55432/postgres --sessions 3000 --workers 8
//! ```

// The report goes to stdout; progress to stderr.
#![allow(clippy::print_stdout)]

use anyhow::{Context as _, anyhow, bail};
use chrono::{DateTime, Utc};
use clap::Parser;
use sea_orm::{ConnectionTrait as _, DbBackend, Statement};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use verifa_app::api_keys::Caller;
use verifa_app::clock::SystemClock;
use verifa_app::runs::{RunWorker, WorkerSettings, WorkerStats, WorkerStatsSnapshot};
use verifa_app::sessions::NewSession;
use verifa_app::workflows::{DefinitionInput, NewWorkflow};
use verifa_app::{Ports, Services};
use verifa_domain::run::WorkflowRun;
use verifa_domain::workflow::{ExecutorSettings, RunStatus};
use verifa_ports::runs::RunStore;
use verifa_server::background::spawn_run_workers;
use verifa_server::compose::{build_application, connect};
use verifa_server::settings::Settings;

#[path = "support/mod.rs"]
mod support;
use support::*;

const JPEG: &[u8] =
    b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00fake-jpeg-body";

#[derive(Debug, Parser)]
#[command(about = "Workflow-run throughput and submit-to-decision latency")]
struct Args {
    /// `sqlite` (a fresh temp file), `sqlite://PATH` (must be new), or a Postgres server URL
    /// (`postgres://USER@HOST:PORT/postgres`: a fresh database is created there and dropped).
    #[arg(long, default_value = "sqlite")]
    database_url: String,
    /// Sessions per timed phase.
    #[arg(long, default_value_t = 2000)]
    sessions: usize,
    /// Concurrent run workers (the `runs.workers` default of `verifa serve`).
    #[arg(long, default_value_t = 8)]
    workers: usize,
    /// Concurrent submitting tasks.
    #[arg(long, default_value_t = 4)]
    submitters: usize,
    /// Steady phase: submissions per second (default: half the burst throughput).
    #[arg(long)]
    rate: Option<f64>,
    /// Steady phase: how long an idle worker sleeps (`runs.poll_interval_ms` of `verifa serve`).
    #[arg(long, default_value_t = 200)]
    poll_ms: u64,
    /// Skip the steady phase.
    #[arg(long)]
    burst_only: bool,
    /// Keep the bench database (Postgres) or file (SQLite).
    #[arg(long)]
    keep: bool,
}

/// `(xact_commit, xact_rollback)` of the current database once every backend of the pool has
/// flushed its counters.
async fn pg_commits(conn: &sea_orm::DatabaseConnection) -> anyhow::Result<(i64, i64)> {
    let read = || async {
        let row = conn
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = current_database()",
            ))
            .await?
            .context("no pg_stat_database row")?;
        let c: i64 = row.try_get("", "xact_commit")?;
        let r: i64 = row.try_get("", "xact_rollback")?;
        anyhow::Ok((c, r))
    };
    // A busy backend flushes its counters at most once a second; one that then goes idle
    // flushes the rest only after PGSTAT_IDLE_INTERVAL (10 s, Postgres 15). So wait that out.
    tokio::time::sleep(Duration::from_millis(10_500)).await;
    read().await
}

async fn pg_version(conn: &sea_orm::DatabaseConnection) -> String {
    match conn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT current_setting('server_version') || ', fsync=' || current_setting('fsync') \
             || ', synchronous_commit=' || current_setting('synchronous_commit') AS v",
        ))
        .await
    {
        Ok(Some(row)) => row.try_get::<String>("", "v").unwrap_or_default(),
        _ => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Setup.

fn graph() -> Value {
    json!({"entry": "start", "nodes": {
        "start": {"type": "start", "next": "age"},
        "age": {"type": "policy", "policy": "age_verification", "config": {"minimum_age": 18},
                "on_pass": "expiry", "on_fail": "reject"},
        "expiry": {"type": "policy", "policy": "document_expiration", "config": {},
                   "on_pass": "filter", "on_fail": "reject"},
        "filter": {"type": "policy", "policy": "id_document_filter", "config": {},
                   "on_pass": "adult", "on_fail": "reject"},
        "adult": {"type": "conditional",
                  "conditions": [{"field": "checks.age_verification.age", "operator": ">=",
                                  "value": 21, "next": "approve"}],
                  "default": "reject"},
        "approve": {"type": "terminal", "outcome": "approved"},
        "reject": {"type": "terminal", "outcome": "rejected"}}})
}

async fn sessions(
    services: &Arc<Services>,
    caller: &Arc<Caller>,
    workflow_id: &str,
    n: usize,
    tasks: usize,
) -> anyhow::Result<Vec<String>> {
    let mut set = tokio::task::JoinSet::new();
    let tasks = tasks.max(1);
    for t in 0..tasks {
        let (services, caller, wf) = (services.clone(), caller.clone(), workflow_id.to_owned());
        let count = n / tasks + usize::from(t < n % tasks);
        set.spawn(async move {
            let mut ids = Vec::with_capacity(count);
            for _ in 0..count {
                let s = services
                    .sessions
                    .create(
                        &caller,
                        NewSession {
                            workflow_id: Some(wf.clone()),
                            ..NewSession::default()
                        },
                    )
                    .await
                    .map_err(|e| anyhow!("create session: {e}"))?;
                let id = s.session.id;
                services
                    .sessions
                    .upload_document(&caller, &id, "id_front", JPEG.to_vec(), None)
                    .await
                    .map_err(|e| anyhow!("upload: {e}"))?;
                ids.push(id);
            }
            anyhow::Ok(ids)
        });
    }
    let mut all = Vec::with_capacity(n);
    while let Some(r) = set.join_next().await {
        all.extend(r??);
    }
    Ok(all)
}

// ---------------------------------------------------------------------------------------------
// Phases.

struct Ctx {
    services: Arc<Services>,
    caller: Arc<Caller>,
    ports: Ports,
    executor: ExecutorSettings,
    cipher: verifa_app::crypto::Cipher,
    lookup_key: verifa_app::crypto::LookupKey,
    workers: usize,
    submitters: usize,
    pg: Option<sea_orm::DatabaseConnection>,
    db: verifa_adapters_db::Database,
}

/// The phase's workers, as `verifa serve` runs them.
struct Workers {
    stop: watch::Sender<bool>,
    handles: Vec<tokio::task::JoinHandle<()>>,
    stats: Vec<Arc<WorkerStats>>,
}

impl Workers {
    fn snapshot(&self) -> WorkerStatsSnapshot {
        self.stats
            .iter()
            .fold(WorkerStatsSnapshot::default(), |a, s| a.plus(s.snapshot()))
    }

    /// Waits until the workers decided `n` runs (or `timeout` passed), then stops them.
    async fn finish(self, n: u64, timeout: Duration) -> WorkerStatsSnapshot {
        let deadline = Instant::now() + timeout;
        while self.snapshot().decisions < n && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let _ = self.stop.send(true);
        for h in self.handles {
            let _ = h.await;
        }
        self.stats
            .iter()
            .fold(WorkerStatsSnapshot::default(), |a, s| a.plus(s.snapshot()))
    }
}

impl Ctx {
    /// Starts the workers: live runs use the sandbox executors too ("with the sandbox executor").
    fn start_workers(&self, idle: Duration) -> anyhow::Result<Workers> {
        let (stop, stop_rx) = watch::channel(false);
        let sandbox = verifa_adapters_checks::sandbox_registry;
        let spawned = spawn_run_workers(
            self.workers,
            idle,
            |owner| {
                Ok(RunWorker::new(
                    &self.ports,
                    sandbox(),
                    sandbox(),
                    self.cipher.clone(),
                    WorkerSettings {
                        owner,
                        lease: chrono::Duration::seconds(60),
                        executor: self.executor.clone(),
                        lookup_key: self.lookup_key.clone(),
                    },
                ))
            },
            &stop_rx,
        )?;
        Ok(Workers {
            stop,
            handles: spawned.handles,
            stats: spawned.stats,
        })
    }

    async fn commits(&self) -> Option<(i64, i64)> {
        match &self.pg {
            Some(c) => pg_commits(c).await.ok(),
            None => None,
        }
    }

    /// Submit → decision latency of every run among `submitted` that completed: the run's
    /// recorded `completed_at` minus the submit call's start.
    async fn latencies(&self, submitted: &HashMap<String, DateTime<Utc>>) -> Vec<Duration> {
        let tenant = self.caller.tenant();
        let mut v = Vec::with_capacity(submitted.len());
        for (id, at) in submitted {
            if let Ok(Some(run)) = self.db.run_for_session(&tenant, id).await
                && let Some(done) = run.state.completed_at
            {
                v.push((done - *at).to_std().unwrap_or_default());
            }
        }
        v.sort();
        v
    }
}

/// Submits `ids` from `submitters` tasks, each id at `start + i / rate` (or at once), and
/// returns the submit instants.
async fn submit_all(
    ctx: &Ctx,
    ids: &[String],
    rate: Option<f64>,
) -> anyhow::Result<HashMap<String, DateTime<Utc>>> {
    let start = tokio::time::Instant::now();
    let mut set = tokio::task::JoinSet::new();
    let s = ctx.submitters.max(1);
    for k in 0..s {
        let mine: Vec<(usize, String)> = ids
            .iter()
            .enumerate()
            .filter(|(i, _)| i % s == k)
            .map(|(i, id)| (i, id.clone()))
            .collect();
        let (services, caller) = (ctx.services.clone(), ctx.caller.clone());
        set.spawn(async move {
            let mut at = Vec::with_capacity(mine.len());
            for (i, id) in mine {
                if let Some(r) = rate {
                    tokio::time::sleep_until(start + Duration::from_secs_f64(i as f64 / r)).await;
                }
                let t = Utc::now();
                services
                    .sessions
                    .submit(&caller, &id)
                    .await
                    .map_err(|e| anyhow!("submit {id}: {e}"))?;
                at.push((id, t));
            }
            anyhow::Ok(at)
        });
    }
    let mut all = HashMap::with_capacity(ids.len());
    while let Some(r) = set.join_next().await {
        all.extend(r??);
    }
    Ok(all)
}

struct Measured {
    name: String,
    runs: usize,
    wall: Duration,
    latencies: Vec<Duration>,
    calls: WorkerStatsSnapshot,
    commits: Option<(i64, i64)>,
    cpu: Option<(f64, f64)>,
    submit: Option<(Duration, Option<(i64, i64)>)>,
}

/// How long a phase may take before the bench gives up waiting for decisions.
const PHASE_TIMEOUT: Duration = Duration::from_secs(600);

async fn burst(ctx: &Ctx, ids: &[String], cores: f64) -> anyhow::Result<Measured> {
    let c0 = ctx.commits().await;
    let t0 = Instant::now();
    let submitted = submit_all(ctx, ids, None).await?;
    let submit_wall = t0.elapsed();
    let c1 = ctx.commits().await;
    eprintln!(
        "bench: burst: {} submitted in {:.2} s; draining with {} workers",
        ids.len(),
        submit_wall.as_secs_f64(),
        ctx.workers
    );
    let cpu0 = cpu();
    let t1 = Instant::now();
    // Idle workers poll often: the burst measures capacity, not the poll interval.
    let workers = ctx.start_workers(Duration::from_millis(5))?;
    let calls = workers.finish(ids.len() as u64, PHASE_TIMEOUT).await;
    let wall = t1.elapsed();
    let cpu1 = cpu();
    let c2 = ctx.commits().await;
    let lat = ctx.latencies(&submitted).await;
    Ok(Measured {
        name: "burst: submit all, then drain".into(),
        runs: lat.len(),
        wall,
        latencies: lat,
        calls,
        commits: delta(c1, c2),
        cpu: cpu_use(cpu0, cpu1, wall, cores),
        submit: Some((submit_wall, delta(c0, c1))),
    })
}

fn delta(a: Option<(i64, i64)>, b: Option<(i64, i64)>) -> Option<(i64, i64)> {
    let (a, b) = (a?, b?);
    // Includes the few stabilising reads of `pg_commits` (± 3).
    Some((b.0 - a.0, b.1 - a.1))
}

async fn steady(
    ctx: &Ctx,
    ids: &[String],
    rate: f64,
    poll: Duration,
    cores: f64,
) -> anyhow::Result<Measured> {
    let c0 = ctx.commits().await;
    let cpu0 = cpu();
    let t0 = Instant::now();
    let workers = ctx.start_workers(poll)?;
    let submitted = submit_all(ctx, ids, Some(rate)).await?;
    let submit_wall = t0.elapsed();
    let calls = workers.finish(ids.len() as u64, PHASE_TIMEOUT).await;
    let wall = t0.elapsed();
    let cpu1 = cpu();
    let c1 = ctx.commits().await;
    let lat = ctx.latencies(&submitted).await;
    eprintln!(
        "bench: steady: submitted {} in {:.2} s ({:.0}/s asked {:.0}/s)",
        ids.len(),
        submit_wall.as_secs_f64(),
        ids.len() as f64 / submit_wall.as_secs_f64(),
        rate
    );
    Ok(Measured {
        name: format!(
            "steady: {rate:.0} submits/s, workers poll every {} ms",
            poll.as_millis()
        ),
        runs: lat.len(),
        wall,
        latencies: lat,
        calls,
        commits: delta(c0, c1),
        cpu: cpu_use(cpu0, cpu1, wall, cores),
        submit: None,
    })
}

// ---------------------------------------------------------------------------------------------
// Checks of the result and the JSON cost of a step.

struct Shape {
    nodes_per_run: f64,
    path: Vec<String>,
    outcomes: HashMap<String, usize>,
    not_completed: usize,
    json_us: (f64, f64, f64),
    state_bytes: usize,
    graph_bytes: usize,
}

async fn shape(
    db: &verifa_adapters_db::Database,
    caller: &Caller,
    ids: &[String],
) -> anyhow::Result<Shape> {
    let tenant = caller.tenant();
    let mut nodes = 0usize;
    let mut outcomes = HashMap::new();
    let mut not_completed = 0;
    let mut sample: Option<WorkflowRun> = None;
    for id in ids {
        let Some(run) = db.run_for_session(&tenant, id).await? else {
            not_completed += 1;
            continue;
        };
        if run.status() != RunStatus::Completed {
            not_completed += 1;
        }
        nodes += run.state.path.len();
        let label = run
            .final_status()
            .map_or(run.status().as_str(), |o| o.as_str());
        *outcomes.entry(label.to_owned()).or_insert(0) += 1;
        if sample.is_none() {
            sample = Some(run);
        }
    }
    let run = sample.context("no run to read back")?;
    let state = &run.state;
    let state_text = serde_json::to_string(state)?;
    let graph_text = serde_json::to_string(&run.graph)?;
    // The JSON work of one run: the worker parses the graph snapshot and the state once per
    // claim, and serialises the state (and the next work) after every step.
    let n = 2000u32;
    let time = |f: &dyn Fn() -> anyhow::Result<()>| -> anyhow::Result<f64> {
        let t = Instant::now();
        for _ in 0..n {
            f()?;
        }
        Ok(t.elapsed().as_secs_f64() * 1e6 / f64::from(n))
    };
    let graph_us = time(&|| {
        let _: verifa_domain::workflow::Graph = serde_json::from_str(&graph_text)?;
        Ok(())
    })?;
    let parse_us = time(&|| {
        let _: verifa_domain::workflow::RunState = serde_json::from_str(&state_text)?;
        Ok(())
    })?;
    let write_us = time(&|| {
        let _ = serde_json::to_string(state)?;
        Ok(())
    })?;
    Ok(Shape {
        nodes_per_run: nodes as f64 / ids.len().max(1) as f64,
        path: state.path.clone(),
        outcomes,
        not_completed,
        json_us: (graph_us, parse_us, write_us),
        state_bytes: state_text.len(),
        graph_bytes: graph_text.len(),
    })
}

// ---------------------------------------------------------------------------------------------
// Report.

#[allow(clippy::too_many_lines)]
fn report(args: &Args, backend: &str, version: &str, shape: &Shape, phases: &[Measured]) -> String {
    let mut o = String::new();
    let nodes = shape.nodes_per_run;
    let _ = writeln!(
        o,
        "\n## bench runs: {backend}{version}  ({} sessions/phase, {} workers, {} submitters, {} cores)\n",
        args.sessions,
        args.workers,
        args.submitters,
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    let _ = writeln!(
        o,
        "workflow ({nodes:.1} nodes per run, sandbox executors): {}",
        shape.path.join(" → ")
    );
    let mut outcomes: Vec<_> = shape.outcomes.iter().collect();
    outcomes.sort();
    let _ = writeln!(
        o,
        "outcomes: {}; runs not completed: {}\n",
        outcomes
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", "),
        shape.not_completed
    );
    let _ = writeln!(
        o,
        "| phase | runs | wall | completed runs/s | nodes/s | submit→decision p50 | p99 | max |"
    );
    let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|---:|---:|");
    for p in phases {
        let secs = p.wall.as_secs_f64();
        let lat = |q: f64| {
            if p.submit.is_some() {
                "—".to_owned()
            } else {
                ms(pct(&p.latencies, q))
            }
        };
        let _ = writeln!(
            o,
            "| {} | {} | {:.2} s | {:.0} | {:.0} | {} | {} | {} |",
            p.name,
            p.runs,
            secs,
            p.runs as f64 / secs,
            p.runs as f64 * nodes / secs,
            lat(0.50),
            lat(0.99),
            lat(1.0),
        );
    }
    let _ = writeln!(
        o,
        "\nburst: runs/s is the capacity (all N queued before the workers start; its latency would \
         only be queueing). steady: runs/s follows the offered rate; latency is submit call start \
         → durable commit of the deciding step.\n"
    );
    let _ = writeln!(o, "database commits per node executed:\n");
    let _ = writeln!(
        o,
        "| phase | write txns (claim + step commits + park) | per node | all commits (pg_stat xact_commit) | per node | rollbacks |"
    );
    let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|");
    for p in phases {
        let node_execs = p.runs as f64 * nodes;
        // A claim is one UPDATE, a commit one transaction.
        let w = p.calls.claims + p.calls.idle_claims + p.calls.step_commits + p.calls.parks;
        let (all, per, rb) = match p.commits {
            Some((c, r)) => (
                c.to_string(),
                format!("{:.2}", c as f64 / node_execs),
                r.to_string(),
            ),
            None => ("n/a (SQLite)".into(), "—".into(), "—".into()),
        };
        let _ = writeln!(
            o,
            "| {} | {w} | {:.2} | {all} | {per} | {rb} |",
            p.name,
            w as f64 / node_execs
        );
        if let Some((wall, c)) = p.submit {
            let n = args.sessions as f64;
            let _ = writeln!(
                o,
                "| (its submits, before the drain: {:.0} submits/s) | {} | — | {} | {} | — |",
                n / wall.as_secs_f64(),
                args.sessions,
                c.map_or("n/a".into(), |c| c.0.to_string()),
                c.map_or("—".into(), |c| format!(
                    "{:.2} per submit",
                    c.0 as f64 / n
                )),
            );
        }
    }
    let _ = writeln!(
        o,
        "\nwrite txns are the workers' own counters (each claim is one UPDATE, each commit one \
         transaction); pg_stat counts every transaction of the bench database, reads included \
         (claim's read-back, get session, documents, …).\n"
    );
    let _ = writeln!(
        o,
        "where the workers' time goes (their own counters; wall time):\n"
    );
    for p in phases {
        let total_worker = p.wall.as_secs_f64() * args.workers as f64;
        let runs = p.runs.max(1) as f64;
        let _ = writeln!(o, "{}:\n", p.name);
        let _ = writeln!(
            o,
            "| call | count | per run | mean | share of worker time |"
        );
        let _ = writeln!(o, "|---|---:|---:|---:|---:|");
        let c = &p.calls;
        let rows: [(&str, u64, u64); 6] = [
            ("claims that got a run", c.claims, 0),
            ("claims that found nothing due", c.idle_claims, 0),
            ("claims (time, both kinds)", 0, c.claim_nanos),
            (
                "step commits + parks",
                c.step_commits + c.parks,
                c.commit_nanos,
            ),
            ("reads (check inputs, session)", 0, c.read_nanos),
            ("check executors", 0, c.check_nanos),
        ];
        let mut accounted = 0.0;
        for (label, count, nanos) in rows {
            let secs = nanos as f64 / 1e9;
            accounted += secs;
            let mean = if count > 0 && nanos > 0 {
                ms(Duration::from_secs_f64(secs / count as f64))
            } else {
                "—".into()
            };
            let share = if nanos > 0 {
                format!("{:.0}%", 100.0 * secs / total_worker)
            } else {
                "—".into()
            };
            let _ = writeln!(
                o,
                "| {label} | {count} | {:.2} | {mean} | {share} |",
                count as f64 / runs
            );
        }
        let _ = writeln!(
            o,
            "| elsewhere (engine, JSON, scheduling, idle polls) | | | | {:.0}% |",
            100.0 * (1.0 - accounted / total_worker)
        );
        if let Some((proc_cores, machine)) = p.cpu {
            let _ = writeln!(
                o,
                "\nCPU: bench process {proc_cores:.2} cores, whole machine {machine:.2} of {} cores busy\n",
                std::thread::available_parallelism().map_or(0, usize::from)
            );
        }
    }
    let (g, s, w) = shape.json_us;
    let steps = phases
        .first()
        .map_or(0.0, |p| p.calls.step_commits as f64 / p.runs.max(1) as f64);
    let per_run = g + s + steps * w;
    let _ = writeln!(
        o,
        "JSON per run (measured here): parse graph snapshot ({} B) {g:.1} µs + parse state {s:.1} µs \
         once per claim, serialise state ({} B) {w:.1} µs per step ({steps:.1} steps per run) → ≈ {per_run:.0} µs per run",
        shape.graph_bytes, shape.state_bytes
    );
    o
}

// ---------------------------------------------------------------------------------------------

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.sessions == 0 || args.workers == 0 {
        bail!("--sessions and --workers must be at least 1");
    }
    let bench = bench_db(&args.database_url, args.keep).await?;
    let result = run(&args, &bench).await;
    bench.remove().await;
    let text = result?;
    println!("{text}");
    Ok(())
}

async fn run(args: &Args, bench: &BenchDb) -> anyhow::Result<String> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
    let mut settings = Settings::for_tests(&bench.url, &[]).context("settings")?;
    settings.database.max_connections =
        u32::try_from(args.workers + args.submitters + 2).unwrap_or(u32::MAX);
    settings.database.min_connections = 1;
    settings.database.acquire_timeout_secs = 30;
    let db = connect(&settings, true)
        .await
        .context("connect + migrate")?;
    let app = build_application(&settings, db.clone())?;
    let services = app.services.clone();
    let (pg, version) = if bench.backend == "postgres" {
        let c = sea_orm::Database::connect(bench.url.as_str()).await?;
        let v = pg_version(&c).await;
        (Some(c), format!(" {v}"))
    } else {
        (None, " (WAL, synchronous=NORMAL)".to_owned())
    };
    let org = services
        .organizations
        .create("Bench Org")
        .await
        .map_err(|e| anyhow!("create org: {e}"))?;
    let live = org
        .keys
        .iter()
        .find(|k| k.key.environment.as_str() == "live")
        .context("a live key")?;
    let caller = Arc::new(
        services
            .api_keys
            .authenticate(Some(&live.secret), None)
            .await
            .map_err(|e| anyhow!("authenticate: {e:?}"))?,
    );
    let wf = services
        .workflows
        .create(
            &caller,
            NewWorkflow {
                name: "Bench 6 nodes".into(),
                definition: DefinitionInput {
                    format: None,
                    graph: Some(graph()),
                    steps: None,
                },
                is_default: true,
                ..NewWorkflow::default()
            },
        )
        .await
        .map_err(|e| anyhow!("create workflow: {e}"))?;
    let wf_id = wf.workflow.id.clone();
    let phases = if args.burst_only { 1 } else { 2 };
    let t = Instant::now();
    eprintln!(
        "bench: {}: setup: {} sessions with an id_front …",
        bench.backend,
        phases * args.sessions
    );
    let ids = sessions(
        &services,
        &caller,
        &wf_id,
        phases * args.sessions,
        args.submitters,
    )
    .await?;
    eprintln!("bench: setup took {:.1} s", t.elapsed().as_secs_f64());
    let (burst_ids, steady_ids) = ids.split_at(args.sessions);
    let ctx = Ctx {
        services: services.clone(),
        caller: caller.clone(),
        ports: verifa_server::compose::ports(&settings, &db, Arc::new(SystemClock))?,
        db: db.clone(),
        executor: ExecutorSettings {
            retry_backoff: settings
                .runs
                .retry_backoff_secs
                .iter()
                .map(|s| Duration::from_secs(*s))
                .collect(),
        },
        cipher: verifa_server::compose::cipher(&settings)?,
        lookup_key: verifa_server::compose::lookup_key(&settings)?,
        workers: args.workers,
        submitters: args.submitters,
        pg,
    };
    let mut measured = vec![burst(&ctx, burst_ids, cores).await?];
    if !args.burst_only {
        let throughput = measured[0].runs as f64 / measured[0].wall.as_secs_f64();
        let rate = args.rate.unwrap_or((throughput / 2.0).max(1.0));
        eprintln!("bench: steady phase at {rate:.0} submits/s …");
        measured.push(
            steady(
                &ctx,
                steady_ids,
                rate,
                Duration::from_millis(args.poll_ms),
                cores,
            )
            .await?,
        );
    }
    let shape = shape(&db, &caller, &ids).await?;
    if let Some(c) = ctx.pg.clone() {
        let _ = c.close().await;
    }
    let text = report(args, bench.backend, &version, &shape, &measured);
    db.close().await;
    Ok(text)
}
