//! `verifa serve`: migrate, bootstrap on first start, serve HTTP, run background upkeep, and
//! shut down gracefully on SIGINT/SIGTERM (stop accepting, finish in-flight requests within the
//! grace period, stop workers).

use crate::background;
use crate::commands::print_keys;
use crate::compose::{build_application, connect};
use crate::settings::Settings;
use anyhow::Context;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::watch;
use verifa_http::wire::{GuardedListener, Peer};

/// Runs the server until a shutdown signal.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    if settings.cipher().is_none() {
        anyhow::bail!(
            "security.encryption_key is required in production (32 bytes, base64; \
             VERIFA__SECURITY__ENCRYPTION_KEY)"
        );
    }
    if settings.lookup_key().is_none() {
        anyhow::bail!(
            "security.lookup_key is required in production (at least 32 bytes; \
             VERIFA__SECURITY__LOOKUP_KEY)"
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
    let sweeper = tokio::spawn(background::sweep_idempotency_keys(
        app.services.clone(),
        Duration::from_secs(settings.idempotency.sweep_interval_secs.max(1)),
        stop_rx.clone(),
    ));

    let webhook_workers =
        background::spawn_webhook_dispatchers(&app.services, settings.webhooks.workers, &stop_rx)
            .handles;
    let run_workers =
        background::spawn_configured_run_workers(&settings, &app.db, &stop_rx)?.handles;
    let expirer = tokio::spawn(background::expire_stale_sessions(
        app.services.clone(),
        stop_rx.clone(),
    ));
    let blob_deleter = tokio::spawn(background::delete_condemned_blobs(
        app.services.clone(),
        stop_rx.clone(),
    ));
    let retention_sweeper = tokio::spawn(background::sweep_retention(
        app.services.clone(),
        stop_rx.clone(),
    ));
    let case_sweeper = tokio::spawn(background::sweep_cases(
        app.services.clone(),
        stop_rx.clone(),
    ));
    let audit_sealer = tokio::spawn(background::seal_audit_events(
        app.services.clone(),
        Duration::from_millis(settings.audit.seal_interval_ms.max(1)),
        stop_rx.clone(),
    ));

    let mut serve_stop = stop_rx.clone();
    // Heads are vetted before hyper parses them, so malformed ones get the contract's error.
    let server = axum::serve(
        GuardedListener::new(listener),
        app.router.into_make_service_with_connect_info::<Peer>(),
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
    let _ = case_sweeper.await;
    let _ = blob_deleter.await;
    let _ = retention_sweeper.await;
    // Last: it seals what the finished requests and jobs queued.
    let _ = audit_sealer.await;
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
