//! Webhook use cases (CONTRACT §5, reference §13): the endpoints API and the [`Dispatcher`] that
//! turns the `session_events` outbox into signed deliveries.
//!
//! Delivery pipeline:
//! 1. **Fan-out** ([`Dispatcher::fan_out_once`]): reads outbox rows after the fan-out cursor and,
//!    for every enabled endpoint of the event's tenant (org + environment) created before the
//!    event that subscribes to it (`enabled_events`, `event_filter_conditions`), stores a
//!    `pending` delivery with a fresh `idk_…` and the exact body (flat form + `data`, endpoint
//!    inflection, minus the blocklist). The deliveries and the cursor move are one transaction
//!    guarded by a compare-and-set on the cursor, so concurrent dispatchers never fan out the
//!    same events twice. A hole in the sequence (a transaction that took a number but has not
//!    committed yet) stops the batch until it fills or `gap_grace` passes.
//! 2. **Delivery** ([`Dispatcher::deliver_due_once`]): a batch of due deliveries is claimed with
//!    a lease in one statement, signed with the endpoint's current secret and the attempt time,
//!    sent concurrently through the [`WebhookTransport`] port (30 s timeout, SSRF guard), and
//!    recorded under the lease in one transaction. A dispatcher that dies after claiming leaves a lease that expires; another
//!    dispatcher then sends the same delivery again (same body, same `idempotency_key`):
//!    at-least-once. Per endpoint, a session's events go out in outbox order: a delivery waits
//!    while an earlier one of the same session is still open.
//! 3. Failures follow the domain schedule (~30 s, 2 min, 8 min, 32 min, 2 h, ±10 % jitter);
//!    the 6th failed attempt makes the delivery `failed`, and 10 consecutive `failed`
//!    deliveries disable the endpoint.
//!
//! Secrets are stored encrypted ([`Cipher`]) and never logged, nor are payload bodies.
//!
//! Rooms: [`endpoints`] (the endpoints API), [`deliveries`] (test deliveries, history, manual
//! retry), [`dispatcher`] (fan-out and delivery), [`validation`] (endpoint settings), [`stats`].

mod deliveries;
mod dispatcher;
mod endpoints;
mod stats;
mod validation;

pub use deliveries::TestOutcome;
pub use dispatcher::{DeliveryStepSummary, Dispatcher};
pub use endpoints::{EndpointChanges, EndpointView, NewEndpoint};
pub use stats::{DispatcherStats, DispatcherStatsSnapshot};

use crate::crypto::Cipher;
use crate::error::AppError;
use chrono::{DateTime, Utc};
use rand::RngCore;
use std::sync::Arc;
use std::time::Duration;
use verifa_domain::tenancy::Tenant;
use verifa_domain::webhooks::schedule::DELIVERY_TIMEOUT;
use verifa_domain::webhooks::{delivery_headers, secret, signature};
use verifa_ports::clock::Clock;
use verifa_ports::webhook_store::EndpointRecord;
use verifa_ports::webhook_store::{DeliveryStore, EndpointStore, OutboxFanOut};
use verifa_ports::webhooks::{WebhookRequest, WebhookResponse, WebhookTransport};

/// Id prefixes of this feature.
pub mod prefix {
    /// Endpoint.
    pub const ENDPOINT: &str = "webhook";
    /// Delivery.
    pub const DELIVERY: &str = "whd";
    /// Delivery idempotency key.
    pub const IDEMPOTENCY_KEY: &str = "idk";
    /// Synthetic event of a test delivery.
    pub const TEST_EVENT: &str = "evt_test";
}

/// Longest URL.
pub const MAX_URL_LEN: usize = 2_048;
/// Longest label.
pub const MAX_LABEL_LEN: usize = 200;
/// Longest description.
pub const MAX_DESCRIPTION_LEN: usize = 2_000;
/// Most `enabled_events` entries.
pub const MAX_ENABLED_EVENTS: usize = 100;
/// Event name of test deliveries unless the caller picks one.
pub const DEFAULT_TEST_EVENT: &str = "session.approved";

/// Settings of the webhook feature.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// `webhooks.allow_private_networks`: http and private destinations allowed (dev/tests).
    pub allow_private_networks: bool,
    /// Accepted `api_version` values.
    pub known_api_versions: Vec<String>,
    /// How long a claimed delivery stays reserved (must exceed the 30 s timeout).
    pub lease: chrono::Duration,
    /// Outbox rows read per fan-out step and deliveries considered per delivery step.
    pub batch_size: u64,
    /// Pause of the background loop when there is nothing to do.
    pub poll_interval: Duration,
    /// How long a hole in the outbox sequence is waited for before it is skipped.
    pub gap_grace: chrono::Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private_networks: false,
            known_api_versions: vec!["2026-01-01".into()],
            lease: chrono::Duration::seconds(90),
            batch_size: 100,
            poll_interval: Duration::from_secs(1),
            gap_grace: chrono::Duration::seconds(10),
        }
    }
}

pub(super) fn secret_context(endpoint_id: &str) -> String {
    format!("webhook_endpoint:{endpoint_id}")
}

pub(super) fn new_secret() -> Result<String, AppError> {
    let mut bytes = [0u8; secret::DEFAULT_SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    secret::generate_secret(&bytes).map_err(|e| AppError::Internal(e.to_string()))
}

pub(super) fn jitter() -> f64 {
    // Uniform in [-1, 1].
    let x = rand::rng().next_u32();
    f64::from(x) / f64::from(u32::MAX) * 2.0 - 1.0
}

/// The webhook use cases.
pub struct WebhookService {
    endpoints: Arc<dyn EndpointStore>,
    deliveries: Arc<dyn DeliveryStore>,
    outbox: Arc<dyn OutboxFanOut>,
    transport: Arc<dyn WebhookTransport>,
    clock: Arc<dyn Clock>,
    cipher: Arc<Cipher>,
    settings: Arc<WebhookSettings>,
}

impl WebhookService {
    /// Builds the service.
    pub fn new(ports: &crate::Ports, cipher: Arc<Cipher>, settings: WebhookSettings) -> Self {
        Self {
            endpoints: ports.webhook_endpoints.clone(),
            deliveries: ports.webhook_deliveries.clone(),
            outbox: ports.webhook_outbox.clone(),
            transport: ports.transport.clone(),
            clock: ports.clock.clone(),
            cipher,
            settings: Arc::new(settings),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &WebhookSettings {
        &self.settings
    }

    /// A dispatcher sharing this service's store, transport, cipher and settings.
    /// `owner` names it in leases (unique per process and worker).
    pub fn dispatcher(&self, owner: impl Into<String>) -> Dispatcher {
        self.dispatcher_with_clock(owner, self.clock.clone())
    }

    /// A dispatcher with its own clock (tests and simulations).
    pub fn dispatcher_with_clock(
        &self,
        owner: impl Into<String>,
        clock: Arc<dyn Clock>,
    ) -> Dispatcher {
        Dispatcher {
            endpoints: self.endpoints.clone(),
            deliveries: self.deliveries.clone(),
            outbox: self.outbox.clone(),
            transport: self.transport.clone(),
            clock,
            cipher: self.cipher.clone(),
            settings: self.settings.clone(),
            owner: owner.into(),
            stats: Arc::new(DispatcherStats::default()),
        }
    }

    pub(super) fn seal(&self, endpoint_id: &str, secret: &str) -> String {
        self.cipher.seal_text(secret, &secret_context(endpoint_id))
    }

    pub(super) fn open(&self, endpoint: &EndpointRecord) -> Result<String, AppError> {
        open_secret(&self.cipher, endpoint)
    }

    pub(super) fn view(
        &self,
        endpoint: EndpointRecord,
        reveal: bool,
    ) -> Result<EndpointView, AppError> {
        let secret = if reveal || endpoint.tenant.environment.is_sandbox() {
            Some(self.open(&endpoint)?)
        } else {
            None
        };
        Ok(EndpointView { endpoint, secret })
    }

    pub(super) async fn load(&self, tenant: &Tenant, id: &str) -> Result<EndpointRecord, AppError> {
        self.endpoints
            .get_endpoint(tenant, id)
            .await
            .map_err(AppError::from_repo("webhook endpoint"))
    }
}

pub(super) fn open_secret(cipher: &Cipher, endpoint: &EndpointRecord) -> Result<String, AppError> {
    cipher
        .open_text(&endpoint.secret_encrypted, &secret_context(&endpoint.id))
        .map_err(|e| AppError::Internal(format!("webhook secret of {}: {e}", endpoint.id)))
}

pub(super) fn attempt_error(r: &WebhookResponse) -> Option<String> {
    if r.is_success() {
        None
    } else if let Some(e) = &r.error {
        Some(e.clone())
    } else {
        r.status.map(|s| format!("HTTP {s}"))
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn send_signed(
    transport: &dyn WebhookTransport,
    settings: &WebhookSettings,
    url: &str,
    secret: &str,
    delivery_id: &str,
    event_type: &str,
    body: &[u8],
    at: DateTime<Utc>,
) -> WebhookResponse {
    let sig = signature::sign(secret, at.timestamp(), body);
    let request = WebhookRequest {
        url: url.to_owned(),
        headers: delivery_headers(&sig, delivery_id, event_type),
        body: body.to_vec(),
        timeout: DELIVERY_TIMEOUT,
        allow_private_networks: settings.allow_private_networks,
    };
    transport.send(&request).await
}
