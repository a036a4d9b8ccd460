//! `verifa serve`: migrate, bootstrap on first start, serve HTTP, run background upkeep, and
//! shut down gracefully on SIGINT/SIGTERM (stop accepting, finish in-flight requests within the
//! grace period, stop workers).

use crate::commands::print_keys;
use crate::compose::{build_application, connect};
use crate::settings::Settings;
use anyhow::Context;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::watch;

/// Runs the server until a shutdown signal.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    if settings.cipher().is_none() {
        anyhow::bail!(
            "security.encryption_key is required in production (32 bytes, base64; \
             VERIFA__SECURITY__ENCRYPTION_KEY)"
        );
    }
    let db = connect(&settings, settings.database.migrate_on_start).await?;
    tracing::info!(backend = db.backend_name(), "database ready");
    let app = build_application(&settings, db)?;
    let bootstrapped = if settings.bootstrap.enabled {
        app.services
            .organizations
            .bootstrap()
            .await
            .context("bootstrapping the first organization")?
    } else {
        None
    };
    if let Some(created) = bootstrapped {
        print_keys(
            "First start: created the default organization and its admin keys",
            &created.org.id,
            &created.keys,
        );
    }
    let addr: SocketAddr = settings.server.addr.parse().context("server.addr")?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!(%addr, environment = settings.run_environment().as_str(), "listening");

    let (stop_tx, stop_rx) = watch::channel(false);
    let sweeper = tokio::spawn(sweep_idempotency_keys(
        app.services.clone(),
        Duration::from_secs(settings.idempotency.sweep_interval_secs.max(1)),
        stop_rx.clone(),
    ));

    let webhook_workers =
        spawn_webhook_dispatchers(&app.services, settings.webhooks.workers, &stop_rx);
    let run_workers = spawn_run_workers(&settings, &app.db, &stop_rx)?;
    let expirer = tokio::spawn(expire_stale_sessions(app.services.clone(), stop_rx.clone()));

    let mut serve_stop = stop_rx.clone();
    let server = axum::serve(
        listener,
        app.router
            .into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = serve_stop.wait_for(|stop| *stop).await;
    });
    let mut server = Box::pin(server.into_future());
    tokio::select! {
        result = &mut server => result.context("server failed")?,
        () = shutdown_signal() => {
            tracing::info!("shutdown requested; finishing in-flight requests");
            let _ = stop_tx.send(true);
            let grace = Duration::from_secs(settings.server.shutdown_grace_secs);
            match tokio::time::timeout(grace, &mut server).await {
                Ok(result) => result.context("server failed during shutdown")?,
                Err(_) => tracing::warn!(grace_secs = grace.as_secs(), "in-flight requests did not finish in time; closing"),
            }
        }
    }
    let _ = stop_tx.send(true);
    let _ = sweeper.await;
    let _ = expirer.await;
    for worker in run_workers {
        // A check in flight finishes or is abandoned; its run is resumed after the lease.
        let _ = tokio::time::timeout(
            Duration::from_secs(settings.server.shutdown_grace_secs.max(1)),
            worker,
        )
        .await;
    }
    for worker in webhook_workers {
        // An attempt in flight ends within its 30 s timeout; an abandoned lease is taken over
        // by another dispatcher later, so waiting is bounded.
        let _ = tokio::time::timeout(Duration::from_secs(35), worker).await;
    }
    app.db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Expires sessions whose capture link lapsed (every 30 s).
async fn expire_stale_sessions(
    services: std::sync::Arc<verifa_http::Services>,
    mut stop: watch::Receiver<bool>,
) {
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

async fn sweep_idempotency_keys(
    services: std::sync::Arc<verifa_http::Services>,
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

/// Starts the workflow run workers: each claims runnable runs with a lease and drives them.
fn spawn_run_workers(
    settings: &Settings,
    db: &verifa_adapters_db::Database,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let process = uuid::Uuid::new_v4().simple().to_string();
    let idle = Duration::from_millis(settings.runs.poll_interval_ms);
    (0..settings.runs.workers.max(1))
        .map(|i| {
            let worker = crate::compose::run_worker(
                settings,
                db,
                std::sync::Arc::new(verifa_app::clock::SystemClock),
                format!("run-{process}-{i}"),
            )?;
            let mut stop = stop.clone();
            Ok(tokio::spawn(async move {
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
            }))
        })
        .collect()
}

/// Starts `workers` webhook dispatcher loops (fan-out + delivery) that end on the stop signal.
fn spawn_webhook_dispatchers(
    services: &std::sync::Arc<verifa_http::Services>,
    workers: usize,
    stop: &watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let process = uuid::Uuid::new_v4().simple().to_string();
    (0..workers.max(1))
        .map(|i| {
            let dispatcher = services
                .webhooks
                .dispatcher(format!("{process}-{}-{i}", std::process::id()));
            let stop = stop.clone();
            tokio::spawn(async move {
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
            })
        })
        .collect()
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
