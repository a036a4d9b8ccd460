//! Composition root: connect the store, build the services over it, build the router.

use crate::settings::Settings;
use anyhow::Context;
use std::sync::Arc;
use std::time::Duration;
use verifa_adapters_db::{Database, PoolSettings};
use verifa_app::api_keys::ApiVersions;
use verifa_app::clock::SystemClock;
use verifa_app::idempotency::IdempotencySettings;
use verifa_app::rate_limit::FixedWindowLimiter;
use verifa_app::runs::{RunWorker, WorkerSettings};
use verifa_app::sessions::SessionSettings;
use verifa_app::workflows::Simulator;
use verifa_app::{Ports, ServiceSettings};
use verifa_domain::workflow::ExecutorSettings;
use verifa_domain::workflow::PolicyCatalog;
use verifa_http::metrics::Metrics;
use verifa_http::{AppState, HttpSettings, RateLimits, Services, VersionPolicy};
use verifa_ports::clock::Clock;
use verifa_ports::storage::DocumentStorage;

/// A wired application: the router plus handles the server and commands need.
pub struct Application {
    /// The HTTP router.
    pub router: axum::Router,
    /// The store.
    pub db: Database,
    /// The services (also reachable through the router's state).
    pub services: Arc<Services>,
}

/// Connects to the configured database (migrating when asked) and wires everything.
pub async fn connect(settings: &Settings, migrate: bool) -> anyhow::Result<Database> {
    let pool = PoolSettings {
        max_connections: settings.database.max_connections,
        min_connections: settings.database.min_connections,
        acquire_timeout: Duration::from_secs(settings.database.acquire_timeout_secs),
    };
    let db = Database::connect(settings.database_url(), &pool, cipher(settings)?)
        .await
        .context("connecting to the database")?;
    if migrate {
        db.migrate().await.context("applying migrations")?;
    }
    Ok(db)
}

/// The document storage named by `[storage]`.
pub fn document_storage(settings: &Settings) -> anyhow::Result<Arc<dyn DocumentStorage>> {
    let url = settings.storage.url.trim();
    if url.is_empty() {
        return Ok(Arc::new(verifa_adapters_storage::LocalFsStorage::new(
            settings.storage.path.clone().into(),
        )));
    }
    let storage = verifa_adapters_storage::ObjectStoreStorage::from_url(
        url,
        settings.storage.options.clone(),
    )
    .with_context(|| format!("storage.url '{url}'"))?;
    Ok(Arc::new(storage))
}

/// The at-rest cipher (refusing to start without a key in production).
pub fn cipher(settings: &Settings) -> anyhow::Result<verifa_app::crypto::Cipher> {
    settings
        .cipher()
        .context("security.encryption_key must be set (32 bytes, base64) in production")
}

/// The identity-search lookup key (refusing to start without one in production).
pub fn lookup_key(settings: &Settings) -> anyhow::Result<verifa_app::crypto::LookupKey> {
    settings
        .lookup_key()
        .context("security.lookup_key must be set (at least 32 bytes) in production")
}

/// The ports over a connected store: the database for every store port, the configured document
/// storage, the webhook HTTP transport (SSRF-guarded), an in-process rate limiter and `clock`.
pub fn ports(settings: &Settings, db: &Database, clock: Arc<dyn Clock>) -> anyhow::Result<Ports> {
    let store = Arc::new(db.clone());
    Ok(Ports {
        organizations: store.clone(),
        org_users: store.clone(),
        cases: store.clone(),
        identities: store.clone(),
        identity_types: store.clone(),
        settings: store.clone(),
        api_keys: store.clone(),
        audit: store.clone(),
        idempotency: store.clone(),
        sessions: store.clone(),
        session_documents: store.clone(),
        session_events: store.clone(),
        session_redaction: store.clone(),
        data_keys: store.clone(),
        runs: store.clone(),
        workflows: store.clone(),
        workflow_drafts: store.clone(),
        workflow_analytics: store.clone(),
        webhook_endpoints: store.clone(),
        webhook_deliveries: store.clone(),
        webhook_outbox: store.clone(),
        documents: document_storage(settings)?,
        transport: webhook_transport(),
        health: store,
        rate_limiter: Arc::new(FixedWindowLimiter::new(60)),
        clock,
    })
}

/// A run worker over the store with the built-in executors (live) and the sandbox executors.
pub fn run_worker(
    settings: &Settings,
    db: &Database,
    clock: Arc<dyn Clock>,
    owner: String,
) -> anyhow::Result<RunWorker> {
    let executor = ExecutorSettings {
        retry_backoff: settings
            .runs
            .retry_backoff_secs
            .iter()
            .map(|s| Duration::from_secs(*s))
            .collect(),
    };
    Ok(RunWorker::new(
        &ports(settings, db, clock)?,
        check_registry(db, settings),
        verifa_adapters_checks::sandbox_hybrid_registry(check_deps(db, settings)),
        cipher(settings)?,
        WorkerSettings {
            owner,
            lease: chrono::Duration::seconds(settings.runs.lease_secs),
            executor,
            lookup_key: lookup_key(settings)?,
        },
    ))
}

/// The use cases' settings from the configuration (`clock` drives the dry-run sandbox values).
pub fn service_settings(
    settings: &Settings,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<ServiceSettings> {
    let catalog = Arc::new(PolicyCatalog {
        policies: verifa_adapters_checks::specs::all()
            .into_iter()
            .map(|s| (s.name.clone(), s))
            .collect(),
    });
    let simulator: Simulator = Arc::new(verifa_adapters_checks::SandboxSimulator::new(clock));
    Ok(ServiceSettings {
        versions: ApiVersions {
            current: settings.api.current_version.clone(),
            known: settings.api.known_versions.clone(),
        },
        idempotency: IdempotencySettings {
            ttl: chrono::Duration::hours(settings.idempotency.ttl_hours),
            lock: chrono::Duration::seconds(settings.idempotency.lock_seconds),
        },
        sessions: SessionSettings {
            public_url: settings.server.public_url.clone(),
            capture_ttl: chrono::Duration::minutes(settings.sessions.capture_ttl_minutes),
            url_signer: settings.url_signer().context(
                "security.url_signing_key must be set (at least 32 bytes) in production",
            )?,
        },
        webhooks: webhook_settings(settings),
        catalog,
        simulator,
        cipher: cipher(settings)?,
        lookup_key: lookup_key(settings)?,
    })
}

/// Builds the services over a store.
pub fn build_services(
    settings: &Settings,
    db: &Database,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Arc<Services>> {
    let ports = ports(settings, db, clock.clone())?;
    Ok(Arc::new(Services::new(
        &ports,
        service_settings(settings, clock)?,
    )))
}

/// HTTP settings from the configuration.
pub fn http_settings(settings: &Settings) -> HttpSettings {
    HttpSettings {
        max_body_bytes: settings.api.max_body_bytes,
        rate_limits: RateLimits {
            requests_per_minute: settings.rate_limit.requests_per_minute,
            session_create_per_minute: settings.rate_limit.session_create_per_minute,
            publishable_per_minute: settings.rate_limit.publishable_per_minute,
        },
        versions: VersionPolicy {
            current: settings.api.current_version.clone(),
            known: settings.api.known_versions.clone(),
            retired: settings.api.retired_versions.clone(),
        },
        trust_forwarded_for: settings.server.trust_forwarded_for,
        plan: settings.api.plan.clone(),
        request_timeout: Duration::from_secs(settings.server.request_timeout_secs.max(1)),
    }
}

/// Wires the application over a connected store.
pub fn build_application(settings: &Settings, db: Database) -> anyhow::Result<Application> {
    build_application_with_clock(settings, db, Arc::new(SystemClock))
}

/// Wires the application with an explicit clock (tests).
pub fn build_application_with_clock(
    settings: &Settings,
    db: Database,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Application> {
    let services = build_services(settings, &db, clock)?;
    let state = AppState {
        services: services.clone(),
        settings: Arc::new(http_settings(settings)),
        metrics: Arc::new(Metrics::new()),
    };
    Ok(Application {
        router: verifa_http::router(state),
        db,
        services,
    })
}

/// What the built-in check executors need, backed by the store: watchlists and duplicate
/// fingerprints in the database, the duplicate HMAC key, the screening threshold and the vendor
/// (`None` unless `[checks.vendor] base_url` is configured).
pub fn check_deps(db: &Database, settings: &Settings) -> verifa_adapters_checks::BuiltinDeps {
    use secrecy::ExposeSecret;
    let duplicate_hash_key = settings.duplicate_hash_key();
    if duplicate_hash_key.is_empty() {
        tracing::warn!(
            "checks.duplicate_hash_key is not set: duplicate_detection will answer `error` \
             (set VERIFA__CHECKS__DUPLICATE_HASH_KEY)"
        );
    }
    let vendor = settings
        .checks
        .vendor
        .as_ref()
        .filter(|v| !v.base_url.trim().is_empty())
        .map(|v| verifa_adapters_checks::VendorSettings {
            base_url: v.base_url.trim().to_owned(),
            api_key: v.api_key.expose_secret().to_owned(),
            timeout: Duration::from_secs(v.timeout_secs.max(1)),
        });
    verifa_adapters_checks::BuiltinDeps {
        watchlists: Arc::new(db.clone()),
        duplicates: Arc::new(db.clone()),
        duplicate_hash_key,
        vendor,
        screening_threshold: settings.checks.screening_threshold,
    }
}

/// Every built-in policy wired to its executor over the store ([`check_deps`]). Build it once
/// and share it: the watchlist screening index is cached inside the registry.
pub fn check_registry(db: &Database, settings: &Settings) -> verifa_ports::checks::CheckRegistry {
    verifa_adapters_checks::builtin_registry(check_deps(db, settings))
}

/// A transport that refuses every attempt (used only when the HTTP client cannot be built).
struct UnavailableTransport;

#[async_trait::async_trait]
impl verifa_ports::webhooks::WebhookTransport for UnavailableTransport {
    async fn send(
        &self,
        _request: &verifa_ports::webhooks::WebhookRequest,
    ) -> verifa_ports::webhooks::WebhookResponse {
        verifa_ports::webhooks::WebhookResponse::failure("webhook transport unavailable", 0)
    }
}

/// The webhook HTTP transport (reqwest, rustls; DNS-pinned SSRF guard, no redirects).
pub fn webhook_transport() -> Arc<dyn verifa_ports::webhooks::WebhookTransport> {
    match verifa_adapters_webhooks::HttpTransport::new() {
        Ok(t) => Arc::new(t),
        Err(e) => {
            tracing::error!(error = %e, "webhook HTTP transport could not be built; deliveries will fail");
            Arc::new(UnavailableTransport)
        }
    }
}

/// Webhook delivery settings from `[webhooks]`.
pub fn webhook_settings(settings: &Settings) -> verifa_app::webhooks::WebhookSettings {
    let w = &settings.webhooks;
    verifa_app::webhooks::WebhookSettings {
        allow_private_networks: w.allow_private_networks,
        known_api_versions: settings.api.known_versions.clone(),
        lease: chrono::Duration::seconds(w.lease_secs),
        batch_size: w.batch_size,
        poll_interval: Duration::from_millis(w.poll_interval_ms),
        gap_grace: chrono::Duration::seconds(10),
    }
}
