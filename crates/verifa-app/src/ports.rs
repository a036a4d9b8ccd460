//! [`Ports`]: every port a use case may reach, bundled once by the composition root (over the
//! database adapter in the server, over in-memory fakes in tests). Each service takes the ports
//! it needs from it, so adding a port or replacing an adapter touches one place.

use std::sync::Arc;
use verifa_ports::api_keys::ApiKeyRepository;
use verifa_ports::audit::AuditLog;
use verifa_ports::cases::CaseStore;
use verifa_ports::clock::Clock;
use verifa_ports::health::StoreHealth;
use verifa_ports::idempotency::IdempotencyStore;
use verifa_ports::identities::{IdentityStore, IdentityTypeStore};
use verifa_ports::org_users::OrgUserRepository;
use verifa_ports::organizations::OrganizationRepository;
use verifa_ports::rate_limit::RateLimiter;
use verifa_ports::runs::RunStore;
use verifa_ports::sessions::{SessionDocuments, SessionEventLog, SessionRedaction, SessionStore};
use verifa_ports::settings::SettingsStore;
use verifa_ports::storage::DocumentStorage;
use verifa_ports::webhook_store::{DeliveryStore, EndpointStore, OutboxFanOut};
use verifa_ports::webhooks::WebhookTransport;
use verifa_ports::workflows::{DraftStore, WorkflowAnalytics, WorkflowStore};

/// The ports of the use cases.
#[derive(Clone)]
pub struct Ports {
    /// Organizations.
    pub organizations: Arc<dyn OrganizationRepository>,
    /// Organization users.
    pub org_users: Arc<dyn OrgUserRepository>,
    /// API keys.
    pub api_keys: Arc<dyn ApiKeyRepository>,
    /// The audit trail.
    pub audit: Arc<dyn AuditLog>,
    /// Stored idempotent responses.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// Manual-review cases.
    pub cases: Arc<dyn CaseStore>,
    /// Identities.
    pub identities: Arc<dyn IdentityStore>,
    /// Identity types.
    pub identity_types: Arc<dyn IdentityTypeStore>,
    /// Organization settings.
    pub settings: Arc<dyn SettingsStore>,
    /// Sessions and their changes.
    pub sessions: Arc<dyn SessionStore>,
    /// Session document metadata.
    pub session_documents: Arc<dyn SessionDocuments>,
    /// Session event log.
    pub session_events: Arc<dyn SessionEventLog>,
    /// Redaction (crypto-shredding) and the blob-deletion queue.
    pub session_redaction: Arc<dyn SessionRedaction>,
    /// Wrapped data keys (master-key rotation).
    pub data_keys: Arc<dyn verifa_ports::sessions::DataKeyStore>,
    /// Workflow runs.
    pub runs: Arc<dyn RunStore>,
    /// Workflows, versions and rollout maps.
    pub workflows: Arc<dyn WorkflowStore>,
    /// Workflow drafts.
    pub workflow_drafts: Arc<dyn DraftStore>,
    /// Run statistics of workflows.
    pub workflow_analytics: Arc<dyn WorkflowAnalytics>,
    /// Webhook endpoints.
    pub webhook_endpoints: Arc<dyn EndpointStore>,
    /// Webhook deliveries.
    pub webhook_deliveries: Arc<dyn DeliveryStore>,
    /// The outbox fan-out cursor.
    pub webhook_outbox: Arc<dyn OutboxFanOut>,
    /// Encrypted document bytes.
    pub documents: Arc<dyn DocumentStorage>,
    /// Outgoing webhook HTTP.
    pub transport: Arc<dyn WebhookTransport>,
    /// Store health (readiness, pool).
    pub health: Arc<dyn StoreHealth>,
    /// Per-key request budgets.
    pub rate_limiter: Arc<dyn RateLimiter>,
    /// The time.
    pub clock: Arc<dyn Clock>,
}
