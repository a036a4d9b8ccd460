//! [`Services`]: every use case, wired over one [`Ports`] bundle. The composition root builds it
//! once over the real adapters; tests build it over in-memory fakes the same way.

use crate::Ports;
use crate::api_keys::{ApiKeyService, ApiVersions};
use crate::audit::AuditService;
use crate::cases::CaseService;
use crate::crypto::{Cipher, LookupKey};
use crate::idempotency::{IdempotencyService, IdempotencySettings};
use crate::identities::IdentityService;
use crate::identities::types::IdentityTypeService;
use crate::org_users::OrgUserService;
use crate::organizations::OrganizationService;
use crate::sessions::{SessionService, SessionSettings};
use crate::webhooks::{WebhookService, WebhookSettings};
use crate::workflows::{Simulator, WorkflowService};
use std::sync::Arc;
use verifa_domain::workflow::PolicyCatalog;
use verifa_ports::clock::Clock;
use verifa_ports::health::StoreHealth;
use verifa_ports::rate_limit::RateLimiter;

/// What the use cases are configured with besides their ports.
pub struct ServiceSettings {
    /// Known API versions.
    pub versions: ApiVersions,
    /// Idempotency windows.
    pub idempotency: IdempotencySettings,
    /// Capture links.
    pub sessions: SessionSettings,
    /// Webhook delivery.
    pub webhooks: WebhookSettings,
    /// The policy catalogue (from the check executors' specs).
    pub catalog: Arc<PolicyCatalog>,
    /// Sandbox values for dry-runs and simulated sessions.
    pub simulator: Simulator,
    /// The at-rest cipher.
    pub cipher: Cipher,
    /// The key of identity-search lookup hashes.
    pub lookup_key: LookupKey,
}

/// Everything a handler can reach.
pub struct Services {
    /// API keys.
    pub api_keys: Arc<ApiKeyService>,
    /// Organizations.
    pub organizations: Arc<OrganizationService>,
    /// Organization users.
    pub org_users: Arc<OrgUserService>,
    /// The audit trail.
    pub audit: Arc<AuditService>,
    /// Manual-review cases.
    pub cases: Arc<CaseService>,
    /// Identities.
    pub identities: Arc<IdentityService>,
    /// Identity types.
    pub identity_types: Arc<IdentityTypeService>,
    /// Workflows.
    pub workflows: Arc<WorkflowService>,
    /// Sessions.
    pub sessions: Arc<SessionService>,
    /// Data-subject exports.
    pub exports: Arc<crate::exports::ExportService>,
    /// Organization settings.
    pub settings: Arc<crate::settings::SettingsService>,
    /// Webhook endpoints and deliveries.
    pub webhooks: Arc<WebhookService>,
    /// Idempotency protocol.
    pub idempotency: Arc<IdempotencyService>,
    /// Store health.
    pub health: Arc<dyn StoreHealth>,
    /// Rate limiter.
    pub rate_limiter: Arc<dyn RateLimiter>,
    /// Clock.
    pub clock: Arc<dyn Clock>,
}

impl Services {
    /// Wires every use case over `ports`.
    pub fn new(ports: &Ports, settings: ServiceSettings) -> Self {
        let api_keys = Arc::new(ApiKeyService::new(ports, settings.versions));
        let cases = Arc::new(CaseService::new(
            ports,
            settings.cipher.clone(),
            settings.lookup_key.clone(),
        ));
        let sessions = Arc::new(SessionService::new(
            ports,
            settings.cipher.clone(),
            settings.lookup_key.clone(),
            settings.sessions,
            settings.simulator.clone(),
        ));
        Self {
            exports: Arc::new(crate::exports::ExportService::new(
                ports,
                sessions.clone(),
                cases.clone(),
            )),
            organizations: Arc::new(OrganizationService::new(ports, api_keys.clone())),
            org_users: Arc::new(OrgUserService::new(ports)),
            audit: Arc::new(AuditService::new(ports)),
            cases,
            identities: Arc::new(IdentityService::new(
                ports,
                settings.cipher.clone(),
                settings.lookup_key.clone(),
            )),
            identity_types: Arc::new(IdentityTypeService::new(ports)),
            api_keys,
            idempotency: Arc::new(IdempotencyService::new(ports, settings.idempotency)),
            workflows: Arc::new(WorkflowService::new(
                ports,
                settings.catalog,
                settings.simulator.clone(),
            )),
            webhooks: Arc::new(WebhookService::new(
                ports,
                Arc::new(settings.cipher.clone()),
                settings.webhooks,
            )),
            sessions,
            settings: Arc::new(crate::settings::SettingsService::new(ports)),
            health: ports.health.clone(),
            rate_limiter: ports.rate_limiter.clone(),
            clock: ports.clock.clone(),
        }
    }
}
