//! Composition root: connect the store, build the services over it, build the router.

use crate::settings::Settings;
use anyhow::Context;
use std::sync::Arc;
use std::time::Duration;
use verifa_adapters_db::{Database, PoolSettings};
use verifa_app::api_keys::{ApiKeyService, ApiVersions};
use verifa_app::clock::SystemClock;
use verifa_app::idempotency::{IdempotencyService, IdempotencySettings};
use verifa_app::organizations::OrganizationService;
use verifa_app::rate_limit::FixedWindowLimiter;
use verifa_app::workflows::{Simulator, WorkflowService};
use verifa_domain::workflow::{PolicyCatalog, SimulatedCheck};
use verifa_http::metrics::Metrics;
use verifa_http::{AppState, HttpSettings, RateLimits, Services, VersionPolicy};
use verifa_ports::clock::Clock;

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
    let db = Database::connect(settings.database_url(), &pool)
        .await
        .context("connecting to the database")?;
    if migrate {
        db.migrate().await.context("applying migrations")?;
    }
    Ok(db)
}

/// Builds the services over a store.
pub fn build_services(settings: &Settings, db: &Database, clock: Arc<dyn Clock>) -> Arc<Services> {
    let store = Arc::new(db.clone());
    let versions = ApiVersions {
        current: settings.api.current_version.clone(),
        known: settings.api.known_versions.clone(),
    };
    let api_keys = Arc::new(ApiKeyService::new(store.clone(), clock.clone(), versions));
    let organizations = Arc::new(OrganizationService::new(
        store.clone(),
        api_keys.clone(),
        clock.clone(),
    ));
    let idempotency = Arc::new(IdempotencyService::new(
        store.clone(),
        clock.clone(),
        IdempotencySettings {
            ttl: chrono::Duration::hours(settings.idempotency.ttl_hours),
            lock: chrono::Duration::seconds(settings.idempotency.lock_seconds),
        },
    ));
    let catalog = Arc::new(PolicyCatalog {
        policies: verifa_adapters_checks::specs::all()
            .into_iter()
            .map(|s| (s.name.clone(), s))
            .collect(),
    });
    let sim_clock = clock.clone();
    let simulator: Simulator = Arc::new(move |policy: &str, config: &serde_json::Value| {
        let outcome =
            verifa_adapters_checks::sandbox_outcome(policy, config, sim_clock.now().date_naive());
        SimulatedCheck {
            status: outcome.status,
            output: outcome.output,
        }
    });
    let workflows = Arc::new(WorkflowService::new(
        store.clone(),
        clock.clone(),
        catalog,
        simulator,
    ));
    Arc::new(Services {
        api_keys,
        workflows,
        organizations,
        idempotency,
        health: store,
        rate_limiter: Arc::new(FixedWindowLimiter::new(60)),
        clock,
    })
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
pub fn build_application(settings: &Settings, db: Database) -> Application {
    build_application_with_clock(settings, db, Arc::new(SystemClock))
}

/// Wires the application with an explicit clock (tests).
pub fn build_application_with_clock(
    settings: &Settings,
    db: Database,
    clock: Arc<dyn Clock>,
) -> Application {
    let services = build_services(settings, &db, clock);
    let state = AppState {
        services: services.clone(),
        settings: Arc::new(http_settings(settings)),
        metrics: Arc::new(Metrics::new()),
    };
    Application {
        router: verifa_http::router(state),
        db,
        services,
    }
}
