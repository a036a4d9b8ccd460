//! `bench_cases`: `POST /cases/next` latency with many reviewers over a large review queue.
//!
//! A benchmark, not a test: it asserts nothing about timings (it does refuse to report when
//! two reviewers got the same case, which would be a bug). On a fresh database (a temp SQLite
//! file, or a new database created on the given Postgres server and dropped after) it creates
//! an organization, R reviewers and N open cases (sandbox sessions sent to review by
//! `simulate`, through the same use cases as the API), then R reviewers call `next` at once, C
//! times in all, each claim through [`verifa_app::cases::CaseService::next`] (the use case
//! behind `POST /cases/next`: the queue read, the claim fenced on the case's revision, its
//! `case.assigned` event and its audit event in one transaction), while the background audit
//! sealer of `verifa serve` seals the claims' audit events into the chain. Each reviewer first
//! makes one warm-up claim, reported apart (it opens the reviewer's pooled connection).
//! Reported: claims/s and the latency p50/p95/p99/max of one `next`, with the queue still
//! holding N − C … N cases.
//!
//! ```sh
//! cargo run --release -p verifa-server --example bench_cases -- --database-url sqlite
//! cargo run --release -p verifa-server --example bench_cases -- \
//!     --database-url postgres://postgres@127.0.0.1:5432/postgres --cases 10000 --reviewers 20
//! ```

// The report goes to stdout; progress to stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use anyhow::{Context as _, anyhow, bail};
use clap::Parser;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};
use verifa_app::api_keys::Caller;
use verifa_app::org_users::NewOrgUser;
use verifa_app::sessions::NewSession;
use verifa_http::Services;
use verifa_server::compose::{build_application, connect};
use verifa_server::settings::Settings;

#[path = "support/mod.rs"]
mod support;
use support::*;

#[derive(Debug, Parser)]
#[command(about = "POST /cases/next latency with concurrent reviewers over a large queue")]
struct Args {
    /// `sqlite` (a fresh temp file), `postgres` (the server named by VERIFA_TEST_DATABASE_URL)
    /// or a Postgres server URL: a fresh database is created there and dropped after.
    #[arg(long, default_value = "sqlite")]
    database_url: String,
    /// Open cases in the queue before the reviewers start.
    #[arg(long, default_value_t = 10_000)]
    cases: usize,
    /// Concurrent reviewers.
    #[arg(long, default_value_t = 20)]
    reviewers: usize,
    /// Claims measured in all (spread over the reviewers).
    #[arg(long, default_value_t = 2_000)]
    claims: usize,
    /// Concurrent tasks that fill the queue.
    #[arg(long, default_value_t = 4)]
    fillers: usize,
    /// Keep the database (print where it is).
    #[arg(long)]
    keep: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.cases == 0 || args.reviewers == 0 || args.fillers == 0 {
        bail!("--cases, --reviewers and --fillers must be at least 1");
    }
    if args.claims == 0 || args.claims > args.cases {
        bail!("--claims must be from 1 to --cases");
    }
    let bench = bench_db(&args.database_url, args.keep).await?;
    let result = run(&args, &bench).await;
    bench.remove().await;
    println!("{}", result?);
    Ok(())
}

async fn run(args: &Args, bench: &BenchDb) -> anyhow::Result<String> {
    let mut settings = Settings::for_tests(&bench.url, &[]).context("settings")?;
    settings.database.max_connections = u32::try_from(args.reviewers + args.fillers + 2)
        .unwrap_or(u32::MAX)
        .max(settings.database.max_connections);
    settings.database.acquire_timeout_secs = 30;
    let db = connect(&settings, true)
        .await
        .context("connect + migrate")?;
    let app = build_application(&settings, db.clone())?;
    let services = app.services.clone();
    let org = services
        .organizations
        .create("Bench Org")
        .await
        .map_err(|e| anyhow!("create org: {e}"))?;
    let sandbox = org
        .keys
        .iter()
        .find(|k| k.key.environment.as_str() == "sandbox")
        .context("a sandbox key")?;
    let caller = Arc::new(
        services
            .api_keys
            .authenticate(Some(&sandbox.secret), None)
            .await
            .map_err(|e| anyhow!("authenticate: {e:?}"))?,
    );
    let mut reviewers = Vec::new();
    for n in 0..args.reviewers {
        let user = NewOrgUser {
            email: Some(format!("reviewer{n}@bench.example")),
            name: Some(format!("Reviewer {n}")),
            role: Some("reviewer".into()),
        };
        let made = services
            .org_users
            .create_in(&org.org.id, user, None)
            .await
            .map_err(|e| anyhow!("reviewer: {e:?}"))?;
        reviewers.push(made.user.id);
    }

    let started = Instant::now();
    fill_queue(&services, &caller, args).await?;
    let fill = started.elapsed();
    eprintln!(
        "bench_cases: {} open cases in {:.1} s",
        args.cases,
        fill.as_secs_f64()
    );

    // As in `verifa serve`: the background sealer moves the claims' queued audit events into
    // the chain while the reviewers claim (the filling's events are sealed first).
    let sealed = services
        .audit
        .seal_pending()
        .await
        .map_err(|e| anyhow!("seal: {e:?}"))?;
    eprintln!("bench_cases: sealed the filling's {sealed} audit events");
    let (stop_sealer, stop) = tokio::sync::watch::channel(false);
    let sealer = tokio::spawn(verifa_server::background::seal_audit_events(
        services.clone(),
        Duration::from_millis(settings.audit.seal_interval_ms.max(1)),
        stop,
    ));
    // Warm-up, not measured: each reviewer's first claim opens its pooled connection and
    // prepares the claim's statements (a running server has both already). Measured, these
    // R first claims would be exactly the slowest 1 % of 2 000 and set p99 by themselves.
    let mut warm_up = Vec::new();
    for reviewer in &reviewers {
        let (services, caller, reviewer) = (services.clone(), caller.clone(), reviewer.clone());
        warm_up.push(tokio::spawn(async move {
            let t = Instant::now();
            let case = services
                .cases
                .next(&caller, &reviewer)
                .await
                .map_err(|e| anyhow!("warm-up next: {e:?}"))?;
            anyhow::Ok((case.id, t.elapsed()))
        }));
    }
    let mut claimed = HashSet::new();
    let mut warm_latencies = Vec::new();
    for t in warm_up {
        let (id, latency) = t.await.context("warm-up task")??;
        if !claimed.insert(id.clone()) {
            bail!("two reviewers got case {id}: next is not exclusive");
        }
        warm_latencies.push(latency);
    }
    warm_latencies.sort_unstable();
    let per = args.claims.div_ceil(args.reviewers);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (n, reviewer) in reviewers.into_iter().enumerate() {
        let (services, caller) = (services.clone(), caller.clone());
        let count = per.min(args.claims.saturating_sub(n * per));
        tasks.push(tokio::spawn(async move {
            let mut seen = Vec::with_capacity(count);
            for _ in 0..count {
                let t = Instant::now();
                let case = services
                    .cases
                    .next(&caller, &reviewer)
                    .await
                    .map_err(|e| anyhow!("next: {e:?}"))?;
                seen.push((case.id, t.elapsed()));
            }
            anyhow::Ok(seen)
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        for (id, latency) in t.await.context("reviewer task")?? {
            if !claimed.insert(id.clone()) {
                bail!("two reviewers got case {id}: next is not exclusive");
            }
            latencies.push(latency);
        }
    }
    let wall = started.elapsed();
    latencies.sort_unstable();
    let _ = stop_sealer.send(true);
    sealer.await.context("sealer task")?;
    // Every claim's event reached the chain, and the chain holds.
    let report_of_chain = services
        .audit
        .verify(&caller, None, None)
        .await
        .map_err(|e| anyhow!("verify: {e:?}"))?;
    if !report_of_chain.valid {
        bail!("the audit chain does not verify after the claims: {report_of_chain:?}");
    }
    db.close().await;
    report(args, bench, fill, wall, &latencies, &warm_latencies)
}

/// N sandbox sessions sent to review, `--fillers` at a time.
async fn fill_queue(
    services: &Arc<Services>,
    caller: &Arc<Caller>,
    args: &Args,
) -> anyhow::Result<()> {
    let per = args.cases.div_ceil(args.fillers);
    let mut tasks = Vec::new();
    for f in 0..args.fillers {
        let (services, caller) = (services.clone(), caller.clone());
        let count = per.min(args.cases.saturating_sub(f * per));
        tasks.push(tokio::spawn(async move {
            for n in 0..count {
                let new = NewSession {
                    external_ref: Some(format!("bench_{f}_{n}")),
                    ..Default::default()
                };
                let id = services
                    .sessions
                    .create(&caller, new)
                    .await
                    .map_err(|e| anyhow!("create: {e:?}"))?
                    .session
                    .id;
                services
                    .sessions
                    .simulate(&caller, &id, "require-review")
                    .await
                    .map_err(|e| anyhow!("simulate: {e:?}"))?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await.context("filler task")??;
    }
    Ok(())
}

fn report(
    args: &Args,
    bench: &BenchDb,
    fill: Duration,
    wall: Duration,
    latencies: &[Duration],
    warm_up: &[Duration],
) -> anyhow::Result<String> {
    let mut out = String::new();
    writeln!(
        out,
        "bench_cases on {}: {} open cases ({:.0} cases/s to fill), {} reviewers, {} claims",
        bench.backend,
        args.cases,
        args.cases as f64 / fill.as_secs_f64().max(1e-9),
        args.reviewers,
        latencies.len()
    )?;
    writeln!(
        out,
        "  next: {:.0} claims/s; latency p50 {} p95 {} p99 {} max {}",
        latencies.len() as f64 / wall.as_secs_f64().max(1e-9),
        ms(pct(latencies, 0.50)),
        ms(pct(latencies, 0.95)),
        ms(pct(latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default()),
    )?;
    writeln!(
        out,
        "  warm-up (not measured above): {} first claims, one per reviewer, p50 {} max {}",
        warm_up.len(),
        ms(pct(warm_up, 0.50)),
        ms(warm_up.last().copied().unwrap_or_default()),
    )?;
    Ok(out)
}
