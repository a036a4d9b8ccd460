//! The background work of a server process, each loop ending on a stop signal: workflow run
//! workers, webhook dispatchers, and upkeep (capture-link expiry, idempotency-key sweep, idle
//! case claims and SLA breaches, audit sealing).
//! `verifa serve` starts them; benchmarks start the same loops to measure them.

use crate::settings::Settings;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use verifa_app::Services;
use verifa_app::runs::{RunWorker, WorkerStats};
use verifa_app::webhooks::DispatcherStats;

/// Started loops and the counters of each.
pub struct Spawned<S> {
    /// One task per loop.
    pub handles: Vec<JoinHandle<()>>,
    /// The counters of each loop.
    pub stats: Vec<Arc<S>>,
}

/// Starts `count` run workers built by `make` (named `run-<process>-<i>`): each claims runnable
/// runs and drives them, sleeping `idle` when nothing is due.
pub fn spawn_run_workers(
    count: usize,
    idle: Duration,
    make: impl Fn(String) -> anyhow::Result<RunWorker>,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<Spawned<WorkerStats>> {
    let process = uuid::Uuid::new_v4().simple().to_string();
    let mut spawned = Spawned {
        handles: Vec::new(),
        stats: Vec::new(),
    };
    for i in 0..count.max(1) {
        let worker = make(format!("run-{process}-{i}"))?;
        spawned.stats.push(worker.stats());
        let mut stop = stop.clone();
        spawned.handles.push(tokio::spawn(async move {
            loop {
                if *stop.borrow() {
                    return;
                }
                let busy = match worker.tick().await {
                    Ok(busy) => busy,
                    Err(e) => {
                        tracing::error!(error = %e, "run worker step failed");
                        false
                    }
                };
                if !busy {
                    tokio::select! {
                        () = tokio::time::sleep(idle) => {}
                        _ = stop.wait_for(|s| *s) => return,
                    }
                }
            }
        }));
    }
    Ok(spawned)
}

/// The run workers of `verifa serve`: `runs.workers` of them over the store, polling every
/// `runs.poll_interval_ms`.
pub fn spawn_configured_run_workers(
    settings: &Settings,
    db: &verifa_adapters_db::Database,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<Spawned<WorkerStats>> {
    spawn_run_workers(
        settings.runs.workers,
        Duration::from_millis(settings.runs.poll_interval_ms),
        |owner| {
            crate::compose::run_worker(
                settings,
                db,
                Arc::new(verifa_app::clock::SystemClock),
                owner,
            )
        },
        stop,
    )
}

/// Starts `count` webhook dispatcher loops (fan-out + delivery).
pub fn spawn_webhook_dispatchers(
    services: &Arc<Services>,
    count: usize,
    stop: &watch::Receiver<bool>,
) -> Spawned<DispatcherStats> {
    let process = uuid::Uuid::new_v4().simple().to_string();
    let mut spawned = Spawned {
        handles: Vec::new(),
        stats: Vec::new(),
    };
    for i in 0..count {
        let dispatcher = services
            .webhooks
            .dispatcher(format!("{process}-{}-{i}", std::process::id()));
        spawned.stats.push(dispatcher.stats());
        let stop = stop.clone();
        spawned.handles.push(tokio::spawn(async move {
            dispatcher
                .run(move |delay| {
                    let mut stop = stop.clone();
                    async move {
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
        }));
    }
    spawned
}

/// Expires sessions whose capture link lapsed (every 30 s).
pub async fn expire_stale_sessions(services: Arc<Services>, mut stop: watch::Receiver<bool>) {
    loop {
        match services.sessions.expire_stale(chrono::Utc::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(expired = n, "expired sessions whose capture link lapsed"),
            Err(e) => tracing::warn!(error = %e, "session expiry sweep failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(30)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Deletes the document blobs redactions condemned that the store has not yet confirmed
/// (every 60 s; each failure backs off on its own schedule).
pub async fn delete_condemned_blobs(services: Arc<Services>, mut stop: watch::Receiver<bool>) {
    loop {
        match services
            .sessions
            .delete_condemned_blobs(chrono::Utc::now())
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "deleted the blobs of redacted sessions"),
            Err(e) => tracing::warn!(error = %e, "redacted-blob deletion pass failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(60)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Runs the retention sweeper (CONTRACT §11.3) at start and then every 10 minutes.
pub async fn sweep_retention(services: Arc<Services>, mut stop: watch::Receiver<bool>) {
    loop {
        match services.sessions.sweep_retention(chrono::Utc::now()).await {
            Ok(s) if s == verifa_app::sessions::RetentionSweep::default() => {}
            Ok(s) => tracing::info!(
                sensitive_expired = s.sensitive_expired,
                retention_expired = s.retention_expired,
                redacted = s.redacted,
                "retention sweep"
            ),
            Err(e) => tracing::warn!(error = %e, "retention sweep failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(600)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Removes expired idempotency keys every `every`.
pub async fn sweep_idempotency_keys(
    services: Arc<Services>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        match services.idempotency.sweep().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "swept expired idempotency keys"),
            Err(e) => tracing::warn!(error = %e, "idempotency sweep failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Releases idle case claims and marks SLA breaches (every 60 s; CONTRACT §8.5).
pub async fn sweep_cases(services: Arc<Services>, mut stop: watch::Receiver<bool>) {
    loop {
        match services.cases.sweep().await {
            Ok(r) if r.released == 0 && r.breached == 0 => {}
            Ok(r) => tracing::info!(
                released = r.released,
                breached = r.breached,
                "case sweep released idle claims and marked SLA breaches"
            ),
            Err(e) => tracing::warn!(error = %e, "case sweep failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(60)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Seals the audit events that changes have queued into their chains, every `every` (reads
/// seal what they read anyway; this keeps the chains current between reads).
pub async fn seal_audit_events(
    services: Arc<Services>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let stopping = *stop.borrow();
        match services.audit.seal_pending().await {
            Ok(n) => tracing::trace!(sealed = n, "sealed queued audit events"),
            Err(e) => tracing::warn!(error = %e, "sealing queued audit events failed"),
        }
        if stopping {
            return;
        }
        // On a stop, one more pass seals what the last requests and jobs queued.
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => {}
        }
    }
}
