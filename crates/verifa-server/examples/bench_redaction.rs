//! `bench_redaction`: redaction throughput, sessions with 4 documents each.
//!
//! A benchmark, not a test: it asserts nothing about timings (it does refuse to report when a
//! session is left unredacted or a blob is left in the store, which would be a bug). On a fresh
//! database (a temp SQLite file, or a new database created on the given Postgres server and
//! dropped after) and a fresh file document store, it creates N completed sandbox sessions,
//! each with an ID front (with its MRZ), an ID back, a selfie and a proof of address, through
//! the same use cases as the API; then W workers redact them all at once, each redaction
//! through [`verifa_app::sessions::SessionService::redact`] (the use case behind
//! `DELETE /sessions/{id}/data`: the redaction transaction, then the four blob deletions).
//! Reported: sessions/s and documents/s redacted, and the latency p50/p95/p99/max of one
//! redaction. With `--retention` the organization sets a one-day retention with automatic
//! redaction instead, and one retention sweep (the job of `verifa serve`) runs two days later:
//! reported are sessions/s and documents/s of that sweep.
//!
//! ```sh
//! cargo run --release -p verifa-server --example bench_redaction -- --database-url sqlite
//! cargo run --release -p verifa-server --example bench_redaction -- \
//!     --database-url postgres://postgres@127.0.0.1:5432/postgres --sessions 2000 --workers 8
//! cargo run --release -p verifa-server --example bench_redaction -- --database-url sqlite --retention
//! ```

// The report goes to stdout; progress to stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use anyhow::{Context as _, anyhow, bail};
use clap::Parser;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};
use verifa_app::api_keys::Caller;
use verifa_app::sessions::{NewSession, RedactionStatus};
use verifa_http::Services;
use verifa_server::compose::{build_application, connect};
use verifa_server::settings::Settings;

#[path = "support/mod.rs"]
mod support;
use support::*;

const MRZ: &str =
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";
const DOCUMENTS: [&str; 4] = ["id_front", "id_back", "selfie", "proof_of_address"];

#[derive(Debug, Parser)]
#[command(about = "Redaction throughput: sessions with 4 documents each")]
struct Args {
    /// `sqlite` (a fresh temp file), `postgres` (the server named by VERIFA_TEST_DATABASE_URL)
    /// or a Postgres server URL: a fresh database is created there and dropped after.
    #[arg(long, default_value = "sqlite")]
    database_url: String,
    /// Completed sessions to redact.
    #[arg(long, default_value_t = 2_000)]
    sessions: usize,
    /// Concurrent redactions.
    #[arg(long, default_value_t = 8)]
    workers: usize,
    /// Bytes of each document (a JPEG header and filler).
    #[arg(long, default_value_t = 200_000)]
    document_bytes: usize,
    /// Measure the retention sweeper (one sweep past a one-day retention) instead of
    /// concurrent redactions.
    #[arg(long)]
    retention: bool,
    /// Keep the database (print where it is).
    #[arg(long)]
    keep: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.sessions == 0 || args.workers == 0 || args.document_bytes < 16 {
        bail!("--sessions and --workers must be at least 1, --document-bytes at least 16");
    }
    let bench = bench_db(&args.database_url, args.keep).await?;
    let result = run(&args, &bench).await;
    bench.remove().await;
    println!("{}", result?);
    Ok(())
}

async fn run(args: &Args, bench: &BenchDb) -> anyhow::Result<String> {
    let store = tempfile::tempdir().context("document store dir")?;
    let storage_url = format!("file://{}", store.path().display());
    let mut settings =
        Settings::for_tests(&bench.url, &[("STORAGE__URL", &storage_url)]).context("settings")?;
    settings.database.max_connections = u32::try_from(args.workers + 2)
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

    let started = Instant::now();
    let ids = fill(&services, &caller, args).await?;
    let fill_time = started.elapsed();
    let blobs = count_files(store.path());
    eprintln!(
        "bench_redaction: {} sessions with {blobs} documents in {:.1} s",
        ids.len(),
        fill_time.as_secs_f64()
    );
    if blobs != ids.len() * DOCUMENTS.len() {
        bail!("expected {} stored documents, found {blobs}", ids.len() * 4);
    }

    if args.retention {
        let report = sweep(&services, &caller, args, bench, ids.len(), blobs).await?;
        let left = count_files(store.path());
        if left != 0 {
            bail!("{left} blobs left in the store after the sweep");
        }
        db.close().await;
        return Ok(report);
    }
    let per = ids.len().div_ceil(args.workers);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for chunk in ids.chunks(per) {
        let (services, caller, chunk) = (services.clone(), caller.clone(), chunk.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(chunk.len());
            let mut documents = 0;
            for id in chunk {
                let t = Instant::now();
                let done = services
                    .sessions
                    .redact(&caller, &id)
                    .await
                    .map_err(|e| anyhow!("redact {id}: {e:?}"))?;
                latencies.push(t.elapsed());
                if done.status != RedactionStatus::Deleted {
                    bail!("{id} was not redacted: {done:?}");
                }
                documents += done.documents_removed;
            }
            anyhow::Ok((latencies, documents))
        }));
    }
    let mut latencies = Vec::new();
    let mut documents = 0;
    for t in tasks {
        let (l, d) = t.await.context("redaction task")??;
        latencies.extend(l);
        documents += d;
    }
    let wall = started.elapsed();
    latencies.sort_unstable();
    let left = count_files(store.path());
    if left != 0 || documents != u64::try_from(blobs).unwrap_or(u64::MAX) {
        bail!("{left} blobs left in the store, {documents} of {blobs} documents reported removed");
    }
    db.close().await;
    report(args, bench, wall, documents, &latencies)
}

/// One retention sweep over every session, past a one-day retention with auto-redaction.
async fn sweep(
    services: &Arc<Services>,
    caller: &Caller,
    args: &Args,
    bench: &BenchDb,
    sessions: usize,
    documents: usize,
) -> anyhow::Result<String> {
    let patch =
        serde_json::json!({"data_retention_days": 1, "auto_redact_on_retention_expiry": true});
    let patch = patch.as_object().context("a JSON object")?;
    services
        .settings
        .patch(caller, patch)
        .await
        .map_err(|e| anyhow!("settings: {e:?}"))?;
    let started = Instant::now();
    let done = services
        .sessions
        .sweep_retention(chrono::Utc::now() + chrono::Duration::days(2))
        .await
        .map_err(|e| anyhow!("sweep: {e:?}"))?;
    let wall = started.elapsed().as_secs_f64().max(1e-9);
    if done.redacted != sessions {
        bail!(
            "the sweep redacted {} of {sessions} sessions",
            done.redacted
        );
    }
    let mut out = String::new();
    writeln!(
        out,
        "bench_redaction --retention on {}: {sessions} sessions × 4 documents of {} KB, one sweep",
        bench.backend,
        args.document_bytes / 1000
    )?;
    writeln!(
        out,
        "  sweep: {:.0} sessions/s ({:.0} documents/s), {:.2} s in all",
        sessions as f64 / wall,
        documents as f64 / wall,
        wall
    )?;
    Ok(out)
}

/// N completed sandbox sessions with 4 documents each; their ids.
async fn fill(
    services: &Arc<Services>,
    caller: &Arc<Caller>,
    args: &Args,
) -> anyhow::Result<Vec<String>> {
    let fillers = 4;
    let per = args.sessions.div_ceil(fillers);
    let mut image = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00".to_vec();
    image.resize(args.document_bytes, 0x5a);
    let image = Arc::new(image);
    let mut tasks = Vec::new();
    for f in 0..fillers {
        let (services, caller, image) = (services.clone(), caller.clone(), image.clone());
        let count = per.min(args.sessions.saturating_sub(f * per));
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::with_capacity(count);
            for _ in 0..count {
                let id = services
                    .sessions
                    .create(&caller, NewSession::default())
                    .await
                    .map_err(|e| anyhow!("create: {e:?}"))?
                    .session
                    .id;
                for kind in DOCUMENTS {
                    let text = (kind == "id_front").then(|| MRZ.to_owned());
                    services
                        .sessions
                        .upload_document(&caller, &id, kind, image.to_vec(), text)
                        .await
                        .map_err(|e| anyhow!("upload {kind}: {e:?}"))?;
                }
                services
                    .sessions
                    .simulate(&caller, &id, "approve")
                    .await
                    .map_err(|e| anyhow!("simulate: {e:?}"))?;
                ids.push(id);
            }
            anyhow::Ok(ids)
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.extend(t.await.context("filler task")??);
    }
    Ok(ids)
}

fn count_files(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            let path = e.path();
            if path.is_dir() { count_files(&path) } else { 1 }
        })
        .sum()
}

fn report(
    args: &Args,
    bench: &BenchDb,
    wall: Duration,
    documents: u64,
    latencies: &[Duration],
) -> anyhow::Result<String> {
    let secs = wall.as_secs_f64().max(1e-9);
    let mut out = String::new();
    writeln!(
        out,
        "bench_redaction on {}: {} sessions × 4 documents of {} KB, {} workers",
        bench.backend,
        latencies.len(),
        args.document_bytes / 1000,
        args.workers
    )?;
    writeln!(
        out,
        "  redact: {:.0} sessions/s ({:.0} documents/s); latency p50 {} p95 {} p99 {} max {}",
        latencies.len() as f64 / secs,
        documents as f64 / secs,
        ms(pct(latencies, 0.50)),
        ms(pct(latencies, 0.95)),
        ms(pct(latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default()),
    )?;
    Ok(out)
}
