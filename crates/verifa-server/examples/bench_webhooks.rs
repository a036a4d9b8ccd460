//! `bench_webhooks`: webhook delivery throughput and state-change-to-delivery delay.
//!
//! A benchmark, not a test: it asserts nothing about timings. On a fresh database (a temp
//! SQLite file, or a new database created on the given Postgres server and dropped after) it
//! builds the application with `webhooks.allow_private_networks = true`, creates an
//! organization and one live webhook endpoint (all events) pointing at a local axum receiver on
//! `127.0.0.1:0` that records when each delivery arrives and answers 200 at once. Two phases:
//!
//! * **burst**: N sessions are created while no dispatcher runs (each `sessions.create`
//!   appends `session.created` to the outbox in the same transaction; the instant `create`
//!   returned is the event's commit time). Then D dispatcher loops (the production loops that
//!   `verifa serve` starts, [`verifa_server::background::spawn_webhook_dispatchers`]) drain the
//!   outbox: deliveries/s from the dispatchers' start to the last arrival.
//! * **steady**: D dispatcher loops run while sessions are created at R/s for S seconds:
//!   delay = arrival at the receiver − commit of the session, p50/p99/max.
//!
//! The dispatchers are the application's own (its [`verifa_app::webhooks::WebhookService`], settings, cipher, database
//! adapter and reqwest transport); the profile of where their time goes comes from their own
//! counters ([`DispatcherStats`]).
//! Settings can be changed as in `verifa serve` with `--set WEBHOOKS__POLL_INTERVAL_MS=100`
//! (also `WEBHOOKS__BATCH_SIZE`, `WEBHOOKS__WORKERS` = default `--dispatchers`, …).
//!
//! ```sh
//! cargo run --release -p verifa-server --example bench_webhooks -- --database-url sqlite
//! cargo run --release -p verifa-server --example bench_webhooks -- \
//!     --database-url postgres://postgres@127.0.0.1:55432/postgres --events 1000 --dispatchers 2
//! ```

// The report goes to stdout; progress to stderr.
#![allow(clippy::print_stdout)]

use anyhow::{Context as _, anyhow, bail};
use axum::body::Bytes;
use axum::http::StatusCode;
use clap::Parser;
use sea_orm::{ConnectionTrait as _, DbBackend, Statement};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use verifa_app::api_keys::Caller;
use verifa_app::sessions::NewSession;
use verifa_app::webhooks::{DispatcherStats, DispatcherStatsSnapshot, NewEndpoint};
use verifa_http::Services;
use verifa_server::background::{Spawned, spawn_webhook_dispatchers};
use verifa_server::compose::{build_application, connect};
use verifa_server::settings::Settings;

#[path = "support/mod.rs"]
mod support;
use support::*;

#[derive(Debug, Parser)]
#[command(about = "Webhook deliveries/s and state-change-to-delivery delay")]
struct Args {
    /// `sqlite` (a fresh temp file), `sqlite://PATH` (must be new), `postgres` (the server named
    /// by VERIFA_TEST_DATABASE_URL) or a Postgres server URL (`postgres://USER@HOST:PORT/postgres`):
    /// a fresh database is created there and dropped after.
    #[arg(long, default_value = "sqlite")]
    database_url: String,
    /// Burst phase: events queued before the dispatchers start.
    #[arg(long, default_value_t = 1000)]
    events: usize,
    /// Dispatcher loops (default: `webhooks.workers`, 2 unless `--set WEBHOOKS__WORKERS=…`).
    #[arg(long)]
    dispatchers: Option<usize>,
    /// Steady phase: sessions created per second.
    #[arg(long, default_value_t = 200.0)]
    rate: f64,
    /// Steady phase: seconds of session creation.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Concurrent session-creating tasks.
    #[arg(long, default_value_t = 4)]
    creators: usize,
    /// Give up waiting for deliveries this many seconds after a phase's last event.
    #[arg(long, default_value_t = 120)]
    timeout_secs: u64,
    /// Setting override as for `verifa serve` without the `VERIFA__` prefix, e.g.
    /// `WEBHOOKS__POLL_INTERVAL_MS=100` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Skip the steady phase.
    #[arg(long)]
    burst_only: bool,
    /// Keep the bench database (Postgres) or file (SQLite).
    #[arg(long)]
    keep: bool,
}

// ---------------------------------------------------------------------------------------------
// The receiver: records (session id, arrival) of every request and answers 200 at once.

#[derive(Default)]
struct Arrivals {
    list: Mutex<Vec<(String, Instant)>>,
    count: AtomicUsize,
    not_ok: AtomicUsize,
}

async fn start_receiver(
    arrivals: Arc<Arrivals>,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<(String, tokio::task::JoinHandle<()>)> {
    let state = arrivals.clone();
    let app = axum::Router::new().fallback(move |body: Bytes| {
        let state = state.clone();
        async move {
            let at = Instant::now();
            let session = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["session_id"].as_str().map(str::to_owned));
            match session {
                Some(id) => {
                    if let Ok(mut l) = state.list.lock() {
                        l.push((id, at));
                    }
                    state.count.fetch_add(1, Ordering::SeqCst);
                    StatusCode::OK
                }
                None => {
                    state.not_ok.fetch_add(1, Ordering::SeqCst);
                    StatusCode::BAD_REQUEST
                }
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding the receiver")?;
    let addr = listener.local_addr()?;
    let handle = tokio::spawn(async move {
        let mut stop = stop;
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await;
    });
    Ok((format!("http://{addr}/hooks"), handle))
}

async fn pg_version(url: &str) -> String {
    let Ok(c) = sea_orm::Database::connect(url).await else {
        return String::new();
    };
    let v = match c
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT current_setting('server_version') || ', fsync=' || current_setting('fsync') \
             || ', synchronous_commit=' || current_setting('synchronous_commit') AS v",
        ))
        .await
    {
        Ok(Some(row)) => row.try_get::<String>("", "v").unwrap_or_default(),
        _ => String::new(),
    };
    let _ = c.close().await;
    format!(" {v}")
}

// ---------------------------------------------------------------------------------------------
// Phases.

struct Ctx {
    services: Arc<Services>,
    caller: Arc<Caller>,
    arrivals: Arc<Arrivals>,
    dispatchers: usize,
    creators: usize,
    timeout: Duration,
}

/// Creates `n` sessions from `creators` tasks, the i-th at `start + i / rate` (or at once);
/// returns each session's commit instant (when `create` returned).
async fn create_sessions(
    ctx: &Ctx,
    n: usize,
    rate: Option<f64>,
) -> anyhow::Result<HashMap<String, Instant>> {
    let start = tokio::time::Instant::now();
    let mut set = tokio::task::JoinSet::new();
    let k = ctx.creators.max(1);
    for task in 0..k {
        let (services, caller) = (ctx.services.clone(), ctx.caller.clone());
        set.spawn(async move {
            let mut out = Vec::new();
            for i in (task..n).step_by(k) {
                if let Some(r) = rate {
                    tokio::time::sleep_until(start + Duration::from_secs_f64(i as f64 / r)).await;
                }
                let s = services
                    .sessions
                    .create(&caller, NewSession::default())
                    .await
                    .map_err(|e| anyhow!("create session: {e}"))?;
                out.push((s.session.id, Instant::now()));
            }
            anyhow::Ok(out)
        });
    }
    let mut all = HashMap::with_capacity(n);
    while let Some(r) = set.join_next().await {
        all.extend(r??);
    }
    Ok(all)
}

/// The dispatcher loops of one phase, as `verifa serve` starts them.
struct Loops {
    stop: watch::Sender<bool>,
    spawned: Spawned<DispatcherStats>,
}

impl Loops {
    fn start(ctx: &Ctx) -> Self {
        let (stop, stop_rx) = watch::channel(false);
        let spawned = spawn_webhook_dispatchers(&ctx.services, ctx.dispatchers, &stop_rx);
        Self { stop, spawned }
    }

    fn snapshot(&self) -> DispatcherStatsSnapshot {
        self.spawned
            .stats
            .iter()
            .fold(DispatcherStatsSnapshot::default(), |a, s| {
                a.plus(s.snapshot())
            })
    }

    async fn stop(self) -> DispatcherStatsSnapshot {
        let _ = self.stop.send(true);
        let totals = self.snapshot();
        for h in self.spawned.handles {
            let _ = h.await;
        }
        totals
    }
}

/// Waits (bounded) until every session of `created` has arrived at least once.
async fn wait_delivered(ctx: &Ctx, created: &HashMap<String, Instant>, base: usize) -> bool {
    let deadline = Instant::now() + ctx.timeout;
    let target = base + created.len();
    while Instant::now() < deadline {
        if ctx.arrivals.count.load(Ordering::SeqCst) >= target {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    false
}

struct Measured {
    name: String,
    events: usize,
    delivered: usize,
    duplicates: usize,
    /// Dispatchers' start (burst) or first creation (steady) to the last arrival.
    wall: Duration,
    delays: Vec<Duration>,
    calls: DispatcherStatsSnapshot,
    cpu: Option<(f64, f64)>,
    /// How long creating the events took (burst: before the dispatchers started).
    create_wall: Duration,
}

/// (delays sorted, delivered sessions, duplicate arrivals, last arrival).
fn delays(
    arrivals: &Arrivals,
    created: &HashMap<String, Instant>,
) -> (Vec<Duration>, usize, usize, Option<Instant>) {
    let list = arrivals.list.lock().map(|l| l.clone()).unwrap_or_default();
    let mut first: HashMap<&str, Instant> = HashMap::new();
    let mut dup = 0;
    for (id, at) in &list {
        if !created.contains_key(id) {
            continue;
        }
        match first.get(id.as_str()) {
            Some(_) => dup += 1,
            None => {
                first.insert(id, *at);
            }
        }
    }
    let last = first.values().max().copied();
    let mut v: Vec<Duration> = first
        .iter()
        .filter_map(|(id, at)| created.get(*id).map(|c| at.saturating_duration_since(*c)))
        .collect();
    v.sort();
    let n = v.len();
    (v, n, dup, last)
}

async fn burst(ctx: &Ctx, n: usize, cores: f64) -> anyhow::Result<Measured> {
    let base = ctx.arrivals.count.load(Ordering::SeqCst);
    let t = Instant::now();
    let created = create_sessions(ctx, n, None).await?;
    let create_wall = t.elapsed();
    eprintln!(
        "bench: burst: {n} events committed in {:.2} s ({:.0}/s); starting {} dispatchers",
        create_wall.as_secs_f64(),
        n as f64 / create_wall.as_secs_f64(),
        ctx.dispatchers
    );
    let cpu0 = cpu();
    let t0 = Instant::now();
    let loops = Loops::start(ctx);
    let complete = wait_delivered(ctx, &created, base).await;
    let waited = t0.elapsed();
    let cpu1 = cpu();
    let calls = loops.stop().await;
    if !complete {
        eprintln!("bench: burst: gave up waiting after {:?}", ctx.timeout);
    }
    let (v, delivered, duplicates, last) = delays(&ctx.arrivals, &created);
    let wall = last.map_or(waited, |l| l.saturating_duration_since(t0));
    Ok(Measured {
        name: "burst: queued, then drain".into(),
        events: n,
        delivered,
        duplicates,
        wall,
        delays: v,
        calls,
        cpu: cpu_use(cpu0, cpu1, waited, cores),
        create_wall,
    })
}

async fn steady(ctx: &Ctx, rate: f64, seconds: f64, cores: f64) -> anyhow::Result<Measured> {
    let n = ((rate * seconds).round() as usize).max(1);
    let base = ctx.arrivals.count.load(Ordering::SeqCst);
    let loops = Loops::start(ctx);
    // Let the loops reach their idle poll, as on a quiet server.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let s0 = loops.snapshot();
    let cpu0 = cpu();
    let t0 = Instant::now();
    let created = create_sessions(ctx, n, Some(rate)).await;
    let create_wall = t0.elapsed();
    let complete = match &created {
        Ok(c) => wait_delivered(ctx, c, base).await,
        Err(_) => false,
    };
    let waited = t0.elapsed();
    let cpu1 = cpu();
    let calls = loops.stop().await.since(s0);
    let created = created?;
    if !complete {
        eprintln!("bench: steady: gave up waiting after {:?}", ctx.timeout);
    }
    eprintln!(
        "bench: steady: {n} events in {:.2} s ({:.0}/s, asked {rate:.0}/s)",
        create_wall.as_secs_f64(),
        n as f64 / create_wall.as_secs_f64()
    );
    let (v, delivered, duplicates, last) = delays(&ctx.arrivals, &created);
    let wall = last.map_or(waited, |l| l.saturating_duration_since(t0));
    Ok(Measured {
        name: format!("steady: {rate:.0} events/s for {seconds:.0} s"),
        events: n,
        delivered,
        duplicates,
        wall,
        delays: v,
        calls,
        cpu: cpu_use(cpu0, cpu1, waited, cores),
        create_wall,
    })
}

// ---------------------------------------------------------------------------------------------
// Report.

struct Setup {
    backend: &'static str,
    version: String,
    dispatchers: usize,
    poll_ms: u128,
    batch: u64,
    pool: u32,
}

#[allow(clippy::too_many_lines)]
fn report(setup: &Setup, phases: &[Measured]) -> String {
    let mut o = String::new();
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let _ = writeln!(
        o,
        "\n## bench webhooks: {}{}  ({} dispatchers, poll_interval {} ms, batch_size {}, pool {} connections, {cores} cores)\n",
        setup.backend, setup.version, setup.dispatchers, setup.poll_ms, setup.batch, setup.pool
    );
    let _ = writeln!(
        o,
        "| backend | phase | events | dispatchers | delivered (dup) | wall | deliveries/s | delay p50 | p99 | max |"
    );
    let _ = writeln!(o, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for p in phases {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} ({}) | {:.2} s | {:.0} | {} | {} | {} |",
            setup.backend,
            p.name,
            p.events,
            setup.dispatchers,
            p.delivered,
            p.duplicates,
            p.wall.as_secs_f64(),
            p.delivered as f64 / p.wall.as_secs_f64().max(1e-9),
            ms(pct(&p.delays, 0.50)),
            ms(pct(&p.delays, 0.99)),
            ms(pct(&p.delays, 1.0)),
        );
    }
    let _ = writeln!(
        o,
        "\ndelay = arrival at the receiver − commit of the session (when `sessions.create` returned). \
         burst: wall runs from the dispatchers' start to the last arrival, and its delay includes the \
         queueing before they started (events were committed over {:.2} s before); steady is the one \
         to read against a latency goal.\n",
        phases.first().map_or(0.0, |p| p.create_wall.as_secs_f64())
    );
    for p in phases {
        let d = &p.calls;
        let per = p.delivered.max(1) as f64;
        let total = p.wall.as_secs_f64() * setup.dispatchers as f64;
        let _ = writeln!(o, "{} — where the dispatchers' time goes:\n", p.name);
        let store = d.store_nanos as f64 / 1e9;
        let send = d.send_nanos as f64 / 1e9;
        let writes = d.claims + d.attempt_batches + d.fan_out_commits;
        let _ = writeln!(o, "| part | share of dispatcher time |");
        let _ = writeln!(o, "|---|---:|");
        let _ = writeln!(
            o,
            "| store calls (fan-out, claims, recording attempts) | {:.0}% |",
            100.0 * store / total
        );
        let _ = writeln!(
            o,
            "| sending batches (signing + HTTP to the local receiver, concurrent within a batch) | {:.0}% |",
            100.0 * send / total
        );
        let _ = writeln!(
            o,
            "| elsewhere (payloads, scheduling, idle sleeps) | {:.0}% |",
            100.0 * (1.0 - (store + send) / total).max(0.0_f64)
        );
        let _ = writeln!(
            o,
            "\nloop steps {}, of which idle (slept the {} ms poll interval) {}; deliveries fanned out {}; \
             attempts {} ({} delivered); write statements/transactions {writes} ({:.2} per delivery: \
             {} claims + {} attempt batches + {} fan-out commits)",
            d.steps,
            setup.poll_ms,
            d.idle_steps,
            d.fanned_out,
            d.attempts,
            d.delivered,
            writes as f64 / per,
            d.claims,
            d.attempt_batches,
            d.fan_out_commits
        );
        if let Some((proc_cores, machine)) = p.cpu {
            let _ = writeln!(
                o,
                "CPU: bench process (dispatchers + receiver + creators + SQLite) {proc_cores:.2} cores, \
                 whole machine {machine:.2} of {cores} cores busy\n"
            );
        }
    }
    o
}

// ---------------------------------------------------------------------------------------------

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.events == 0 || args.dispatchers == Some(0) || args.creators == 0 {
        bail!("--events, --dispatchers and --creators must be at least 1");
    }
    if !(args.rate > 0.0 && args.rate <= 10_000.0 && args.seconds > 0.0 && args.seconds <= 600.0) {
        bail!("--rate must be in (0, 10000] and --seconds in (0, 600]");
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
    let mut overrides: Vec<(String, String)> =
        vec![("WEBHOOKS__ALLOW_PRIVATE_NETWORKS".into(), "true".into())];
    for s in &args.set {
        let (k, v) = s
            .split_once('=')
            .with_context(|| format!("--set {s}: expected KEY=VALUE"))?;
        overrides.push((k.trim().to_ascii_uppercase(), v.trim().to_owned()));
    }
    let pairs: Vec<(&str, &str)> = overrides
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut settings = Settings::for_tests(&bench.url, &pairs).context("settings")?;
    let dispatchers = args.dispatchers.unwrap_or(settings.webhooks.workers).max(1);
    settings.database.max_connections = u32::try_from(dispatchers + args.creators + 2)
        .unwrap_or(u32::MAX)
        .max(settings.database.max_connections);
    settings.database.min_connections = 1;
    settings.database.acquire_timeout_secs = 30;
    let db = connect(&settings, true)
        .await
        .context("connect + migrate")?;
    let app = build_application(&settings, db.clone())?;
    let services = app.services.clone();
    let version = if bench.backend == "postgres" {
        pg_version(&bench.url).await
    } else {
        " (WAL, synchronous=NORMAL)".to_owned()
    };

    let (stop_receiver, stop_rx) = watch::channel(false);
    let arrivals = Arc::new(Arrivals::default());
    let (url, receiver) = start_receiver(arrivals.clone(), stop_rx).await?;

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
    services
        .webhooks
        .create(
            &caller,
            NewEndpoint {
                url: url.clone(),
                label: Some("bench receiver".into()),
                ..NewEndpoint::default()
            },
        )
        .await
        .map_err(|e| anyhow!("create endpoint: {e}"))?;

    let setup = Setup {
        backend: bench.backend,
        version,
        dispatchers,
        poll_ms: services.webhooks.settings().poll_interval.as_millis(),
        batch: services.webhooks.settings().batch_size,
        pool: settings.database.max_connections,
    };
    let ctx = Ctx {
        services: services.clone(),
        caller,
        arrivals: arrivals.clone(),
        dispatchers,
        creators: args.creators,
        timeout: Duration::from_secs(args.timeout_secs.max(1)),
    };
    eprintln!(
        "bench: {}: receiver {url}, {dispatchers} dispatchers, poll {} ms, batch {}",
        bench.backend, setup.poll_ms, setup.batch
    );
    let mut measured = Vec::new();
    let outcome = async {
        measured.push(burst(&ctx, args.events, cores).await?);
        if !args.burst_only {
            eprintln!(
                "bench: steady phase: {:.0} events/s for {:.0} s …",
                args.rate, args.seconds
            );
            measured.push(steady(&ctx, args.rate, args.seconds, cores).await?);
        }
        anyhow::Ok(())
    }
    .await;
    let _ = stop_receiver.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(5), receiver).await;
    let rejected = arrivals.not_ok.load(Ordering::SeqCst);
    if rejected > 0 {
        eprintln!("bench: warning: the receiver got {rejected} requests without a session_id");
    }
    db.close().await;
    outcome?;
    Ok(report(&setup, &measured))
}
