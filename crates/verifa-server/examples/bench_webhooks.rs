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
//!   returned is the event's commit time). Then D dispatcher loops (the production
//!   [`Dispatcher::run`], as `verifa serve` starts them) drain the outbox: deliveries/s from the
//!   dispatchers' start to the last arrival.
//! * **steady**: D dispatcher loops run while sessions are created at R/s for S seconds:
//!   delay = arrival at the receiver − commit of the session, p50/p99/max.
//!
//! The dispatchers use the production [`WebhookService`] (same settings, cipher and reqwest
//! transport as the application) over a store wrapper that counts and times every store call,
//! and a transport wrapper that times the HTTP attempts: that profile says where the time goes.
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
use async_trait::async_trait;
use axum::body::Bytes;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use clap::Parser;
use sea_orm::{ConnectionTrait as _, DbBackend, Statement};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use verifa_app::api_keys::Caller;
use verifa_app::clock::SystemClock;
use verifa_app::sessions::NewSession;
use verifa_app::webhooks::{NewEndpoint, WebhookService};
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::Tenant;
use verifa_http::Services;
use verifa_ports::RepoError;
use verifa_ports::webhook_store::{
    AttemptRecord, DeliveryFilter, DeliveryRecord, EndpointRecord, FinishOutcome, OutboxEvent,
    WebhookStore,
};
use verifa_ports::webhooks::{WebhookRequest, WebhookResponse, WebhookTransport};
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
// Counting, timing store and transport wrappers.

const CALLS: [(&str, bool); 10] = [
    ("fan_out_cursor", false),
    ("outbox_after", false),
    ("enabled_endpoints", false),
    ("commit_fan_out (moved the cursor)", true),
    ("commit_fan_out (lost the race)", true),
    ("claim_due (got deliveries)", true),
    ("claim_due (nothing due)", true),
    ("endpoints_by_ids", false),
    ("finish_attempts (one transaction per batch)", true),
    ("other", false),
];
const N: usize = CALLS.len();
const CURSOR: usize = 0;
const OUTBOX: usize = 1;
const ENABLED: usize = 2;
const FAN_OUT_WON: usize = 3;
const FAN_OUT_LOST: usize = 4;
const CLAIM_WON: usize = 5;
const CLAIM_EMPTY: usize = 6;
const ENDPOINT: usize = 7;
const FINISH: usize = 8;
const OTHER: usize = 9;

#[derive(Default)]
struct Stats {
    count: [AtomicU64; N],
    nanos: [AtomicU64; N],
    /// HTTP attempts through the transport.
    sends: AtomicU64,
    send_nanos: AtomicU64,
    /// Deliveries created by winning fan-outs.
    fanned_out: AtomicU64,
    /// Dispatcher loop steps that found nothing to do and slept the poll interval.
    idle_sleeps: AtomicU64,
    /// Loop steps in all.
    steps: AtomicU64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Snapshot {
    count: [u64; N],
    nanos: [u64; N],
    sends: u64,
    send_nanos: u64,
    fanned_out: u64,
    idle_sleeps: u64,
    steps: u64,
}

fn nanos_since(t: Instant) -> u64 {
    u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

impl Stats {
    fn record(&self, i: usize, started: Instant) {
        self.count[i].fetch_add(1, Ordering::Relaxed);
        self.nanos[i].fetch_add(nanos_since(started), Ordering::Relaxed);
    }

    fn snapshot(&self) -> Snapshot {
        let mut s = Snapshot::default();
        for i in 0..N {
            s.count[i] = self.count[i].load(Ordering::Relaxed);
            s.nanos[i] = self.nanos[i].load(Ordering::Relaxed);
        }
        s.sends = self.sends.load(Ordering::Relaxed);
        s.send_nanos = self.send_nanos.load(Ordering::Relaxed);
        s.fanned_out = self.fanned_out.load(Ordering::Relaxed);
        s.idle_sleeps = self.idle_sleeps.load(Ordering::Relaxed);
        s.steps = self.steps.load(Ordering::Relaxed);
        s
    }
}

impl Snapshot {
    fn since(&self, b: &Snapshot) -> Snapshot {
        let mut d = Snapshot::default();
        for i in 0..N {
            d.count[i] = self.count[i] - b.count[i];
            d.nanos[i] = self.nanos[i] - b.nanos[i];
        }
        d.sends = self.sends - b.sends;
        d.send_nanos = self.send_nanos - b.send_nanos;
        d.fanned_out = self.fanned_out - b.fanned_out;
        d.idle_sleeps = self.idle_sleeps - b.idle_sleeps;
        d.steps = self.steps - b.steps;
        d
    }

    /// Write statements/transactions: fan-out commits, claims (one UPDATE each), attempt
    /// records.
    fn writes(&self) -> u64 {
        CALLS
            .iter()
            .enumerate()
            .filter(|(_, (_, w))| *w)
            .map(|(i, _)| self.count[i])
            .sum()
    }
}

struct Counted {
    inner: Arc<dyn WebhookStore>,
    stats: Arc<Stats>,
}

impl Counted {
    async fn timed<T>(&self, i: usize, f: impl Future<Output = T>) -> T {
        let t = Instant::now();
        let r = f.await;
        self.stats.record(i, t);
        r
    }
}

#[async_trait]
impl WebhookStore for Counted {
    async fn insert_endpoint(&self, endpoint: &EndpointRecord) -> Result<(), RepoError> {
        self.timed(OTHER, self.inner.insert_endpoint(endpoint))
            .await
    }

    async fn get_endpoint(&self, tenant: &Tenant, id: &str) -> Result<EndpointRecord, RepoError> {
        self.timed(OTHER, self.inner.get_endpoint(tenant, id)).await
    }

    async fn endpoints_by_ids(&self, ids: &[String]) -> Result<Vec<EndpointRecord>, RepoError> {
        self.timed(ENDPOINT, self.inner.endpoints_by_ids(ids)).await
    }

    async fn list_endpoints(
        &self,
        tenant: &Tenant,
        page: PageRequest,
    ) -> Result<Page<EndpointRecord>, RepoError> {
        self.timed(OTHER, self.inner.list_endpoints(tenant, page))
            .await
    }

    async fn enabled_endpoints(&self, tenant: &Tenant) -> Result<Vec<EndpointRecord>, RepoError> {
        self.timed(ENABLED, self.inner.enabled_endpoints(tenant))
            .await
    }

    async fn update_endpoint(&self, endpoint: &EndpointRecord) -> Result<(), RepoError> {
        self.timed(OTHER, self.inner.update_endpoint(endpoint))
            .await
    }

    async fn delete_endpoint(&self, tenant: &Tenant, id: &str) -> Result<(), RepoError> {
        self.timed(OTHER, self.inner.delete_endpoint(tenant, id))
            .await
    }

    async fn fan_out_cursor(&self) -> Result<i64, RepoError> {
        self.timed(CURSOR, self.inner.fan_out_cursor()).await
    }

    async fn outbox_after(&self, after: i64, limit: u64) -> Result<Vec<OutboxEvent>, RepoError> {
        self.timed(OUTBOX, self.inner.outbox_after(after, limit))
            .await
    }

    async fn commit_fan_out(
        &self,
        from_seq: i64,
        to_seq: i64,
        deliveries: &[DeliveryRecord],
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        let t = Instant::now();
        let r = self
            .inner
            .commit_fan_out(from_seq, to_seq, deliveries, now)
            .await;
        if matches!(r, Ok(true)) {
            self.stats.record(FAN_OUT_WON, t);
            let n = u64::try_from(deliveries.len()).unwrap_or(u64::MAX);
            self.stats.fanned_out.fetch_add(n, Ordering::Relaxed);
        } else {
            self.stats.record(FAN_OUT_LOST, t);
        }
        r
    }

    async fn insert_delivery(&self, delivery: &DeliveryRecord) -> Result<(), RepoError> {
        self.timed(OTHER, self.inner.insert_delivery(delivery))
            .await
    }

    async fn get_delivery(&self, tenant: &Tenant, id: &str) -> Result<DeliveryRecord, RepoError> {
        self.timed(OTHER, self.inner.get_delivery(tenant, id)).await
    }

    async fn list_deliveries(
        &self,
        tenant: &Tenant,
        endpoint_id: &str,
        filter: &DeliveryFilter,
        page: PageRequest,
    ) -> Result<Page<DeliveryRecord>, RepoError> {
        self.timed(
            OTHER,
            self.inner
                .list_deliveries(tenant, endpoint_id, filter, page),
        )
        .await
    }

    async fn claim_due(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<DeliveryRecord>, RepoError> {
        let t = Instant::now();
        let r = self.inner.claim_due(owner, now, lease_until, limit).await;
        self.stats.record(
            if matches!(&r, Ok(v) if !v.is_empty()) {
                CLAIM_WON
            } else {
                CLAIM_EMPTY
            },
            t,
        );
        r
    }

    async fn finish_attempts(
        &self,
        attempts: &[AttemptRecord],
        breaker_threshold: u32,
    ) -> Result<Vec<FinishOutcome>, RepoError> {
        self.timed(
            FINISH,
            self.inner.finish_attempts(attempts, breaker_threshold),
        )
        .await
    }

    async fn requeue_failed(
        &self,
        tenant: &Tenant,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<DeliveryRecord, RepoError> {
        self.timed(OTHER, self.inner.requeue_failed(tenant, id, now))
            .await
    }
}

struct TimedTransport {
    inner: Arc<dyn WebhookTransport>,
    stats: Arc<Stats>,
}

#[async_trait]
impl WebhookTransport for TimedTransport {
    async fn send(&self, request: &WebhookRequest) -> WebhookResponse {
        let t = Instant::now();
        let r = self.inner.send(request).await;
        self.stats.sends.fetch_add(1, Ordering::Relaxed);
        self.stats
            .send_nanos
            .fetch_add(nanos_since(t), Ordering::Relaxed);
        r
    }
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
    webhooks: Arc<WebhookService>,
    stats: Arc<Stats>,
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

/// Starts D production dispatcher loops that end when `stop` turns true.
fn spawn_dispatchers(
    ctx: &Ctx,
    phase: &str,
    stop: &watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..ctx.dispatchers)
        .map(|i| {
            let dispatcher = ctx.webhooks.dispatcher(format!("bench-{phase}-{i}"));
            let stop = stop.clone();
            let stats = ctx.stats.clone();
            tokio::spawn(async move {
                dispatcher
                    .run(move |delay| {
                        let mut stop = stop.clone();
                        let stats = stats.clone();
                        async move {
                            stats.steps.fetch_add(1, Ordering::Relaxed);
                            if !delay.is_zero() {
                                stats.idle_sleeps.fetch_add(1, Ordering::Relaxed);
                            }
                            let stopped = tokio::select! {
                                () = tokio::time::sleep(delay) => false,
                                () = async {
                                    let _ = stop.wait_for(|s| *s).await;
                                } => true,
                            };
                            stopped || *stop.borrow()
                        }
                    })
                    .await;
            })
        })
        .collect()
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
    calls: Snapshot,
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
    let (stop_tx, stop_rx) = watch::channel(false);
    let s0 = ctx.stats.snapshot();
    let cpu0 = cpu();
    let t0 = Instant::now();
    let loops = spawn_dispatchers(ctx, "burst", &stop_rx);
    let complete = wait_delivered(ctx, &created, base).await;
    let waited = t0.elapsed();
    let cpu1 = cpu();
    let _ = stop_tx.send(true);
    for l in loops {
        let _ = l.await;
    }
    if !complete {
        eprintln!("bench: burst: gave up waiting after {:?}", ctx.timeout);
    }
    let calls = ctx.stats.snapshot().since(&s0);
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
    let (stop_tx, stop_rx) = watch::channel(false);
    let loops = spawn_dispatchers(ctx, "steady", &stop_rx);
    // Let the loops reach their idle poll, as on a quiet server.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let s0 = ctx.stats.snapshot();
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
    let _ = stop_tx.send(true);
    for l in loops {
        let _ = l.await;
    }
    let created = created?;
    if !complete {
        eprintln!("bench: steady: gave up waiting after {:?}", ctx.timeout);
    }
    eprintln!(
        "bench: steady: {n} events in {:.2} s ({:.0}/s, asked {rate:.0}/s)",
        create_wall.as_secs_f64(),
        n as f64 / create_wall.as_secs_f64()
    );
    let calls = ctx.stats.snapshot().since(&s0);
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
        let _ = writeln!(
            o,
            "| call | count | per delivery | mean | share of dispatcher time |"
        );
        let _ = writeln!(o, "|---|---:|---:|---:|---:|");
        let mut busy = 0.0;
        for (i, (label, _)) in CALLS.iter().enumerate() {
            let c = d.count[i];
            if c == 0 {
                continue;
            }
            let secs = d.nanos[i] as f64 / 1e9;
            busy += secs;
            let _ = writeln!(
                o,
                "| store: {label} | {c} | {:.2} | {} | {:.0}% |",
                c as f64 / per,
                ms(Duration::from_secs_f64(secs / c as f64)),
                100.0 * secs / total
            );
        }
        if d.sends > 0 {
            // A batch's attempts run concurrently, so their summed time is no share of the wall.
            let secs = d.send_nanos as f64 / 1e9;
            let _ = writeln!(
                o,
                "| HTTP attempt (reqwest → local receiver; a batch's attempts run concurrently) | {} | {:.2} | {} | — |",
                d.sends,
                d.sends as f64 / per,
                ms(Duration::from_secs_f64(secs / d.sends as f64)),
            );
        }
        let _ = writeln!(
            o,
            "| outside the store (concurrent HTTP attempts, payloads, signing, scheduling, idle sleeps) | | | | {:.0}% |",
            100.0 * (1.0 - busy / total).max(0.0)
        );
        let _ = writeln!(
            o,
            "\nloop steps {}, of which idle (slept the {} ms poll interval) {}; deliveries fanned out {}; \
             write statements/transactions {} ({:.2} per delivery: claims + attempt records + fan-out commits)",
            d.steps,
            setup.poll_ms,
            d.idle_sleeps,
            d.fanned_out,
            d.writes(),
            d.writes() as f64 / per
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

    // The production service and transport, over counting wrappers.
    let stats = Arc::new(Stats::default());
    let transport = verifa_adapters_webhooks::HttpTransport::new()
        .map_err(|e| anyhow!("HTTP transport: {e}"))?;
    let webhooks = Arc::new(WebhookService::new(
        Arc::new(Counted {
            inner: Arc::new(db.clone()),
            stats: stats.clone(),
        }),
        Arc::new(TimedTransport {
            inner: Arc::new(transport),
            stats: stats.clone(),
        }),
        Arc::new(SystemClock),
        Arc::new(verifa_server::compose::cipher(&settings)?),
        services.webhooks.settings().clone(),
    ));
    let setup = Setup {
        backend: bench.backend,
        version,
        dispatchers,
        poll_ms: webhooks.settings().poll_interval.as_millis(),
        batch: webhooks.settings().batch_size,
        pool: settings.database.max_connections,
    };
    let ctx = Ctx {
        services: services.clone(),
        caller,
        webhooks,
        stats,
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
