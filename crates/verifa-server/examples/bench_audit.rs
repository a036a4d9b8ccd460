//! `bench_audit`: what the audit trail costs each mutation, in statements and time.
//!
//! A benchmark, not a test: it asserts nothing about timings. On a fresh database (a temp SQLite
//! file, or a new database on the given Postgres server, dropped after) it sends each kind of
//! audited request `--requests` times, one at a time, through the real router, and counts the
//! SQL statements each one ran and their time (through the store's statement observer). A
//! statement on `audit_pending`, `audit_chains` or `audit_events` is the audit's: in a request,
//! the insert that queues its events; in the sealing pass that follows all requests, the
//! chain head's upsert, reading and deleting the queue, the sealed rows and the head's move.
//! Reported per kind of request: statements per request (all / the audit's), database time per
//! request (all / the audit's), the request's own p50 and p99, and the sealing's statements
//! and time per event. A request without auditing would run the other statements only
//! (`BEGIN` / `COMMIT` are not counted: the audit adds none, it joins the change's transaction).
//!
//! ```sh
//! cargo run --release -p verifa-server --example bench_audit -- --database-url sqlite
//! cargo run --release -p verifa-server --example bench_audit -- \
//!     --database-url postgres://postgres@127.0.0.1:5432/postgres
//! ```

// The report goes to stdout; progress to stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use anyhow::{Context as _, anyhow, bail};
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Method, Request};
use clap::Parser;
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tower::ServiceExt as _;
use verifa_app::org_users::NewOrgUser;
use verifa_server::compose::{build_application, connect};
use verifa_server::settings::Settings;

#[path = "support/mod.rs"]
mod support;
use support::*;

#[derive(Debug, Parser)]
#[command(about = "The audit trail's statements and time per mutation")]
struct Args {
    /// `sqlite` (a fresh temp file), `postgres` (the server named by VERIFA_TEST_DATABASE_URL)
    /// or a Postgres server URL: a fresh database is created there and dropped after.
    #[arg(long, default_value = "sqlite")]
    database_url: String,
    /// Requests of each kind.
    #[arg(long, default_value_t = 300)]
    requests: usize,
}

/// The statements of one request.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    statements: u32,
    audit_statements: u32,
    db_time: Duration,
    audit_time: Duration,
}

/// One kind of request's figures.
struct Row {
    label: &'static str,
    tallies: Vec<Tally>,
    latencies: Vec<Duration>,
}

struct Bench {
    router: axum::Router,
    key: String,
    tally: Arc<Mutex<Tally>>,
}

impl Bench {
    /// Sends one request; its statements are counted from a zeroed tally.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Value,
    ) -> anyhow::Result<(Value, Tally, Duration)> {
        *self.tally.lock().map_err(|_| anyhow!("tally poisoned"))? = Tally::default();
        let request = Request::builder()
            .method(method.clone())
            .uri(path)
            .header("x-api-key", &self.key)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))?;
        let peer: SocketAddr = "127.0.0.1:40000".parse()?;
        let started = Instant::now();
        let response = self
            .router
            .clone()
            .layer(MockConnectInfo(peer))
            .oneshot(request)
            .await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        let latency = started.elapsed();
        if !status.is_success() {
            bail!(
                "{method} {path}: {status}: {}",
                String::from_utf8_lossy(&bytes)
            );
        }
        let tally = *self.tally.lock().map_err(|_| anyhow!("tally poisoned"))?;
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)?
        };
        Ok((value, tally, latency))
    }

    /// Sends `n` requests made by `request(i)`, counting each.
    async fn measure(
        &self,
        label: &'static str,
        n: usize,
        request: impl Fn(usize) -> (Method, String, Value),
    ) -> anyhow::Result<Row> {
        let mut row = Row {
            label,
            tallies: Vec::with_capacity(n),
            latencies: Vec::with_capacity(n),
        };
        for i in 0..n {
            let (method, path, body) = request(i);
            let (_, tally, latency) = self.send(method, &path, body).await?;
            row.tallies.push(tally);
            row.latencies.push(latency);
        }
        row.latencies.sort_unstable();
        eprintln!("bench_audit: {label} done");
        Ok(row)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.requests == 0 {
        bail!("--requests must be at least 1");
    }
    let bench = bench_db(&args.database_url, false).await?;
    let result = run(&args, &bench).await;
    bench.remove().await;
    println!("{}", result?);
    Ok(())
}

async fn run(args: &Args, bench_db: &BenchDb) -> anyhow::Result<String> {
    // A bench, not a client: rate limits would only add 429s.
    let unlimited = [
        ("RATE_LIMIT__REQUESTS_PER_MINUTE", "1000000"),
        ("RATE_LIMIT__SESSION_CREATE_PER_MINUTE", "1000000"),
    ];
    let settings = Settings::for_tests(&bench_db.url, &unlimited).context("settings")?;
    let mut db = connect(&settings, true)
        .await
        .context("connect + migrate")?;
    let tally = Arc::new(Mutex::new(Tally::default()));
    let observed = tally.clone();
    db.observe_statements(move |sql, elapsed| {
        if let Ok(mut t) = observed.lock() {
            t.statements += 1;
            t.db_time += elapsed;
            if sql.contains("audit_") {
                t.audit_statements += 1;
                t.audit_time += elapsed;
            }
        }
    });
    let app = build_application(&settings, db.clone())?;
    let org = app
        .services
        .organizations
        .create("Bench Org")
        .await
        .map_err(|e| anyhow!("create org: {e}"))?;
    let key = org
        .keys
        .iter()
        .find(|k| k.key.environment.as_str() == "sandbox")
        .context("a sandbox key")?
        .secret
        .clone();
    let bench = Bench {
        router: app.router.clone(),
        key,
        tally,
    };
    let n = args.requests;

    // Org users are common to both environments (a live key's business): made directly.
    let reviewer = app
        .services
        .org_users
        .create_in(
            &org.org.id,
            NewOrgUser {
                email: Some("reviewer@bench.example".into()),
                name: Some("Reviewer".into()),
                role: Some("reviewer".into()),
            },
            None,
        )
        .await
        .map_err(|e| anyhow!("reviewer: {e:?}"))?
        .user
        .id;
    // Twenty identities take every tag (at most 50 each) and patch.
    let mut identities = Vec::new();
    for i in 0..20 {
        let (made, _, _) = bench
            .send(
                Method::POST,
                "/api/v1/identities",
                json!({"external_ref": format!("bench_person_{i}")}),
            )
            .await?;
        identities.push(made["id"].as_str().context("an identity id")?.to_owned());
    }
    // Open cases, one per claim.
    for i in 0..n {
        let (s, _, _) = bench
            .send(
                Method::POST,
                "/api/v1/sessions",
                json!({"external_ref": format!("bench_case_{i}")}),
            )
            .await?;
        let id = s["id"].as_str().context("a session id")?;
        bench
            .send(
                Method::POST,
                &format!("/api/v1/sessions/{id}/simulate"),
                json!({"action": "require-review"}),
            )
            .await?;
    }
    app.services
        .audit
        .seal_pending()
        .await
        .map_err(|e| anyhow!("seal: {e:?}"))?;
    eprintln!("bench_audit: {n} open cases, 20 identities");

    let mut rows = Vec::new();
    rows.push(
        bench
            .measure("POST /sessions", n, |i| {
                (
                    Method::POST,
                    "/api/v1/sessions".into(),
                    json!({"external_ref": format!("bench_new_{i}")}),
                )
            })
            .await?,
    );
    let ids = identities.clone();
    rows.push(
        bench
            .measure("PATCH /identities/{id}", n, |i| {
                (
                    Method::PATCH,
                    format!("/api/v1/identities/{}", ids[i % ids.len()]),
                    json!({"custom_fields": {"tier": format!("t{i}")}}),
                )
            })
            .await?,
    );
    let ids = identities.clone();
    rows.push(
        bench
            .measure("POST /identities/{id}/tags", n.min(ids.len() * 50), |i| {
                (
                    Method::POST,
                    format!("/api/v1/identities/{}/tags", ids[i % ids.len()]),
                    json!({"tag": format!("tag{}", i / ids.len())}),
                )
            })
            .await?,
    );
    let reviewer_body = json!({"reviewer_id": reviewer});
    rows.push(
        bench
            .measure("POST /cases/next", n, |_| {
                (
                    Method::POST,
                    "/api/v1/cases/next".into(),
                    reviewer_body.clone(),
                )
            })
            .await?,
    );
    let (cases, _, _) = bench
        .send(
            Method::GET,
            &format!("/api/v1/cases?assigned_to={reviewer}&limit=100"),
            Value::Null,
        )
        .await?;
    let case_ids: Vec<String> = cases["data"]
        .as_array()
        .context("a case list")?
        .iter()
        .filter_map(|c| c["id"].as_str().map(str::to_owned))
        .collect();
    if case_ids.is_empty() {
        bail!("the reviewer holds no case");
    }
    rows.push(
        bench
            .measure("POST /cases/{id}/notes", n, |i| {
                (
                    Method::POST,
                    format!("/api/v1/cases/{}/notes", case_ids[i % case_ids.len()]),
                    json!({"content": format!("Checked document {i}.")}),
                )
            })
            .await?,
    );
    rows.push(
        bench
            .measure("PATCH /settings", n, |i| {
                (
                    Method::PATCH,
                    "/api/v1/settings".into(),
                    json!({"case_sla_hours": 24 + (i % 48)}),
                )
            })
            .await?,
    );
    // The events every request above queued, sealed in one pass (as the background sealer
    // does under load; when idle it seals fewer per pass).
    *bench.tally.lock().map_err(|_| anyhow!("tally poisoned"))? = Tally::default();
    let started = Instant::now();
    let sealed = app
        .services
        .audit
        .seal_pending()
        .await
        .map_err(|e| anyhow!("seal: {e:?}"))?;
    let sealing = Sealing {
        events: sealed,
        wall: started.elapsed(),
        tally: *bench.tally.lock().map_err(|_| anyhow!("tally poisoned"))?,
    };
    db.close().await;
    report(bench_db, &rows, &sealing)
}

/// The sealing pass after the requests.
struct Sealing {
    events: u64,
    wall: Duration,
    tally: Tally,
}

fn mean(tallies: &[Tally], f: impl Fn(&Tally) -> f64) -> f64 {
    tallies.iter().map(f).sum::<f64>() / tallies.len().max(1) as f64
}

fn report(bench: &BenchDb, rows: &[Row], sealing: &Sealing) -> anyhow::Result<String> {
    let mut out = String::new();
    writeln!(
        out,
        "bench_audit on {}: statements and database time per request (mean), the audit's share",
        bench.backend
    )?;
    writeln!(
        out,
        "  {:<34} {:>6} {:>6} {:>8} {:>9} {:>9} {:>9}",
        "request", "stmts", "audit", "db ms", "audit ms", "p50", "p99"
    )?;
    for row in rows {
        let t = &row.tallies;
        writeln!(
            out,
            "  {:<34} {:>6.1} {:>6.1} {:>8.3} {:>9.3} {:>9} {:>9}",
            format!("{} ×{}", row.label, t.len()),
            mean(t, |x| f64::from(x.statements)),
            mean(t, |x| f64::from(x.audit_statements)),
            mean(t, |x| x.db_time.as_secs_f64() * 1e3),
            mean(t, |x| x.audit_time.as_secs_f64() * 1e3),
            ms(pct(&row.latencies, 0.50)),
            ms(pct(&row.latencies, 0.99)),
        )?;
    }
    let per_event = |v: f64| v / sealing.events.max(1) as f64;
    writeln!(
        out,
        "  sealing: {} queued events in {:.1} ms, {} statements ({:.3} statements and {:.4} ms per event)",
        sealing.events,
        sealing.wall.as_secs_f64() * 1e3,
        sealing.tally.statements,
        per_event(f64::from(sealing.tally.statements)),
        per_event(sealing.wall.as_secs_f64() * 1e3),
    )?;
    Ok(out)
}
