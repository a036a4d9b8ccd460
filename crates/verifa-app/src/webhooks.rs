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

use crate::api_keys::Caller;
use crate::crypto::Cipher;
use crate::error::{AppError, FieldError};
use crate::ids::new_id;
use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use rand::RngCore;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use verifa_domain::inflection::Inflection;
use verifa_domain::pagination::{Page, PageRequest};
use verifa_domain::tenancy::Tenant;
use verifa_domain::webhooks::payload::{
    PayloadOptions, WebhookEvent, build_payload, matches_filter_conditions, to_body,
    validate_blocklist, validate_filter_conditions,
};
use verifa_domain::webhooks::schedule::{
    self, CIRCUIT_BREAKER_THRESHOLD, DELIVERY_TIMEOUT, DeliveryDecision,
};
use verifa_domain::webhooks::{delivery_headers, events, secret, signature, ssrf};
use verifa_ports::RepoError;
use verifa_ports::clock::Clock;
use verifa_ports::webhook_store::{
    AttemptNext, AttemptRecord, DeliveryFilter, DeliveryRecord, DeliveryStatus, EndpointRecord,
    OutboxEvent, WebhookStore,
};
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

/// `POST /webhooks/endpoints`.
#[derive(Debug, Clone, Default)]
pub struct NewEndpoint {
    /// Destination (required).
    pub url: String,
    /// Label.
    pub label: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Events (omit or `["*"]` = all).
    pub enabled_events: Option<Vec<String>>,
    /// Attribute paths to remove.
    pub attribute_blocklist: Option<Vec<String>>,
    /// Filter conditions (object).
    pub event_filter_conditions: Option<Value>,
    /// Payload API version.
    pub api_version: Option<String>,
    /// `snake` | `camel` | `kebab`.
    pub key_inflection: Option<String>,
    /// Starts enabled (default true).
    pub enabled: Option<bool>,
}

/// `PATCH /webhooks/endpoints/{id}`: `None` = unchanged; `Some(None)` clears.
#[derive(Debug, Clone, Default)]
pub struct EndpointChanges {
    /// Destination.
    pub url: Option<String>,
    /// Label.
    pub label: Option<Option<String>>,
    /// Description.
    pub description: Option<Option<String>>,
    /// Enabled (re-enabling resets the failure counter).
    pub enabled: Option<bool>,
    /// Events.
    pub enabled_events: Option<Vec<String>>,
    /// Blocklist.
    pub attribute_blocklist: Option<Vec<String>>,
    /// Filter conditions (`Some(None)` clears).
    pub event_filter_conditions: Option<Option<Value>>,
    /// API version.
    pub api_version: Option<Option<String>>,
    /// Key inflection.
    pub key_inflection: Option<String>,
}

/// An endpoint as returned to the caller, with its secret when it may be shown.
#[derive(Debug, Clone)]
pub struct EndpointView {
    /// The endpoint.
    pub endpoint: EndpointRecord,
    /// The plaintext secret: on create, clone and rotate, and always in sandbox.
    pub secret: Option<String>,
}

/// Result of `POST …/test`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestOutcome {
    /// A 2xx was received.
    pub success: bool,
    /// HTTP status received.
    pub http_status: Option<u16>,
    /// Why it failed.
    pub error: Option<String>,
    /// Destination.
    pub url: Option<String>,
    /// The recorded delivery.
    pub delivery_id: String,
}

fn check_len(field: &str, value: Option<&str>, max: usize, errors: &mut Vec<FieldError>) {
    if value.is_some_and(|v| v.chars().count() > max) {
        errors.push(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
}

fn secret_context(endpoint_id: &str) -> String {
    format!("webhook_endpoint:{endpoint_id}")
}

fn new_secret() -> Result<String, AppError> {
    let mut bytes = [0u8; secret::DEFAULT_SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    secret::generate_secret(&bytes).map_err(|e| AppError::Internal(e.to_string()))
}

fn jitter() -> f64 {
    // Uniform in [-1, 1].
    let x = rand::rng().next_u32();
    f64::from(x) / f64::from(u32::MAX) * 2.0 - 1.0
}

fn inflection_of(endpoint: &EndpointRecord) -> Inflection {
    Inflection::parse(&endpoint.key_inflection).unwrap_or(Inflection::Snake)
}

/// Validated endpoint settings (shared by create, update and clone).
struct Validator<'a> {
    settings: &'a WebhookSettings,
    errors: Vec<FieldError>,
}

impl Validator<'_> {
    fn url(&mut self, url: &str) {
        if url.trim().is_empty() {
            self.errors.push(FieldError::new("url", "is required"));
        } else if url.len() > MAX_URL_LEN {
            self.errors.push(FieldError::new(
                "url",
                format!("must be at most {MAX_URL_LEN} characters"),
            ));
        } else if let Err(e) = ssrf::check_url(url, self.settings.allow_private_networks) {
            self.errors.push(FieldError::new("url", e.to_string()));
        }
    }

    fn events(&mut self, list: &[String]) {
        if list.len() > MAX_ENABLED_EVENTS {
            self.errors.push(FieldError::new(
                "enabled_events",
                format!("must have at most {MAX_ENABLED_EVENTS} entries"),
            ));
        } else if let Err(e) = events::validate_enabled_events(list) {
            self.errors
                .push(FieldError::new("enabled_events", e.to_string()));
        }
    }

    fn blocklist(&mut self, list: &[String]) {
        if let Err(e) = validate_blocklist(list) {
            self.errors
                .push(FieldError::new("attribute_blocklist", e.to_string()));
        }
    }

    fn conditions(&mut self, value: &Value) -> Map<String, Value> {
        match validate_filter_conditions(value) {
            Ok(()) => value.as_object().cloned().unwrap_or_default(),
            Err(e) => {
                self.errors
                    .push(FieldError::new("event_filter_conditions", e.to_string()));
                Map::new()
            }
        }
    }

    fn api_version(&mut self, v: Option<&str>) {
        if let Some(v) = v
            && !self.settings.known_api_versions.iter().any(|k| k == v)
        {
            self.errors.push(FieldError::new(
                "api_version",
                format!(
                    "unknown API version '{v}'; known: {}",
                    self.settings.known_api_versions.join(", ")
                ),
            ));
        }
    }

    fn inflection(&mut self, v: &str) {
        if !matches!(v, "snake" | "camel" | "kebab") {
            self.errors.push(FieldError::new(
                "key_inflection",
                "must be one of snake, camel, kebab",
            ));
        }
    }

    fn finish(self) -> Result<(), AppError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.errors))
        }
    }
}

/// Normalises `enabled_events`: `["*"]` is stored as empty (all events).
fn normalise_events(list: Vec<String>) -> Vec<String> {
    if list.iter().any(|e| e == "*") {
        Vec::new()
    } else {
        list
    }
}

/// The webhook use cases.
pub struct WebhookService {
    store: Arc<dyn WebhookStore>,
    transport: Arc<dyn WebhookTransport>,
    clock: Arc<dyn Clock>,
    cipher: Arc<Cipher>,
    settings: Arc<WebhookSettings>,
}

impl WebhookService {
    /// Builds the service.
    pub fn new(
        store: Arc<dyn WebhookStore>,
        transport: Arc<dyn WebhookTransport>,
        clock: Arc<dyn Clock>,
        cipher: Arc<Cipher>,
        settings: WebhookSettings,
    ) -> Self {
        Self {
            store,
            transport,
            clock,
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
            store: self.store.clone(),
            transport: self.transport.clone(),
            clock,
            cipher: self.cipher.clone(),
            settings: self.settings.clone(),
            owner: owner.into(),
        }
    }

    fn seal(&self, endpoint_id: &str, secret: &str) -> String {
        self.cipher.seal_text(secret, &secret_context(endpoint_id))
    }

    fn open(&self, endpoint: &EndpointRecord) -> Result<String, AppError> {
        open_secret(&self.cipher, endpoint)
    }

    fn view(&self, endpoint: EndpointRecord, reveal: bool) -> Result<EndpointView, AppError> {
        let secret = if reveal || endpoint.tenant.environment.is_sandbox() {
            Some(self.open(&endpoint)?)
        } else {
            None
        };
        Ok(EndpointView { endpoint, secret })
    }

    async fn load(&self, tenant: &Tenant, id: &str) -> Result<EndpointRecord, AppError> {
        self.store
            .get_endpoint(tenant, id)
            .await
            .map_err(AppError::from_repo("webhook endpoint"))
    }

    /// Creates an endpoint with a fresh secret (returned once, or always in sandbox).
    pub async fn create(
        &self,
        caller: &Caller,
        input: NewEndpoint,
    ) -> Result<EndpointView, AppError> {
        let mut v = Validator {
            settings: &self.settings,
            errors: Vec::new(),
        };
        v.url(&input.url);
        check_len(
            "label",
            input.label.as_deref(),
            MAX_LABEL_LEN,
            &mut v.errors,
        );
        check_len(
            "description",
            input.description.as_deref(),
            MAX_DESCRIPTION_LEN,
            &mut v.errors,
        );
        let enabled_events = input.enabled_events.unwrap_or_default();
        v.events(&enabled_events);
        let blocklist = input.attribute_blocklist.unwrap_or_default();
        v.blocklist(&blocklist);
        let conditions = match &input.event_filter_conditions {
            Some(Value::Null) | None => Map::new(),
            Some(c) => v.conditions(c),
        };
        v.api_version(input.api_version.as_deref());
        let inflection = input.key_inflection.unwrap_or_else(|| "snake".into());
        v.inflection(&inflection);
        v.finish()?;
        let now = self.clock.now();
        let id = new_id(prefix::ENDPOINT);
        let secret = new_secret()?;
        let endpoint = EndpointRecord {
            secret_encrypted: self.seal(&id, &secret),
            id,
            tenant: caller.tenant(),
            url: input.url.trim().to_owned(),
            label: input.label,
            description: input.description,
            enabled: input.enabled.unwrap_or(true),
            enabled_events: normalise_events(enabled_events),
            attribute_blocklist: blocklist,
            event_filter_conditions: conditions,
            api_version: input.api_version,
            key_inflection: inflection,
            consecutive_failures: 0,
            disabled_at: None,
            created_at: now,
            updated_at: now,
        };
        self.store.insert_endpoint(&endpoint).await?;
        Ok(EndpointView {
            endpoint,
            secret: Some(secret),
        })
    }

    /// Lists endpoints, newest first.
    pub async fn list(
        &self,
        caller: &Caller,
        page: PageRequest,
    ) -> Result<Page<EndpointView>, AppError> {
        let page = self.store.list_endpoints(&caller.tenant(), page).await?;
        let mut items = Vec::with_capacity(page.items.len());
        for e in page.items {
            items.push(self.view(e, false)?);
        }
        Ok(Page {
            items,
            total: page.total,
            request: page.request,
        })
    }

    /// Gets an endpoint.
    pub async fn get(&self, caller: &Caller, id: &str) -> Result<EndpointView, AppError> {
        let e = self.load(&caller.tenant(), id).await?;
        self.view(e, false)
    }

    /// Updates the provided fields.
    pub async fn update(
        &self,
        caller: &Caller,
        id: &str,
        changes: EndpointChanges,
    ) -> Result<EndpointView, AppError> {
        let mut e = self.load(&caller.tenant(), id).await?;
        let mut v = Validator {
            settings: &self.settings,
            errors: Vec::new(),
        };
        if let Some(url) = &changes.url {
            v.url(url);
        }
        if let Some(Some(l)) = &changes.label {
            check_len("label", Some(l), MAX_LABEL_LEN, &mut v.errors);
        }
        if let Some(Some(d)) = &changes.description {
            check_len("description", Some(d), MAX_DESCRIPTION_LEN, &mut v.errors);
        }
        if let Some(list) = &changes.enabled_events {
            v.events(list);
        }
        if let Some(list) = &changes.attribute_blocklist {
            v.blocklist(list);
        }
        let conditions = match &changes.event_filter_conditions {
            None => None,
            Some(None) | Some(Some(Value::Null)) => Some(Map::new()),
            Some(Some(c)) => Some(v.conditions(c)),
        };
        if let Some(api) = &changes.api_version {
            v.api_version(api.as_deref());
        }
        if let Some(i) = &changes.key_inflection {
            v.inflection(i);
        }
        v.finish()?;
        if let Some(url) = changes.url {
            e.url = url.trim().to_owned();
        }
        if let Some(l) = changes.label {
            e.label = l;
        }
        if let Some(d) = changes.description {
            e.description = d;
        }
        if let Some(enabled) = changes.enabled {
            if enabled && !e.enabled {
                e.consecutive_failures = 0;
                e.disabled_at = None;
            }
            e.enabled = enabled;
        }
        if let Some(list) = changes.enabled_events {
            e.enabled_events = normalise_events(list);
        }
        if let Some(list) = changes.attribute_blocklist {
            e.attribute_blocklist = list;
        }
        if let Some(c) = conditions {
            e.event_filter_conditions = c;
        }
        if let Some(api) = changes.api_version {
            e.api_version = api;
        }
        if let Some(i) = changes.key_inflection {
            e.key_inflection = i;
        }
        e.updated_at = self.clock.now();
        self.store
            .update_endpoint(&e)
            .await
            .map_err(AppError::from_repo("webhook endpoint"))?;
        self.view(e, false)
    }

    /// Deletes an endpoint and its deliveries.
    pub async fn delete(&self, caller: &Caller, id: &str) -> Result<(), AppError> {
        self.store
            .delete_endpoint(&caller.tenant(), id)
            .await
            .map_err(AppError::from_repo("webhook endpoint"))
    }

    /// Replaces the secret; the old one stops working immediately.
    pub async fn rotate_secret(&self, caller: &Caller, id: &str) -> Result<EndpointView, AppError> {
        let mut e = self.load(&caller.tenant(), id).await?;
        let secret = new_secret()?;
        e.secret_encrypted = self.seal(&e.id, &secret);
        e.updated_at = self.clock.now();
        self.store
            .update_endpoint(&e)
            .await
            .map_err(AppError::from_repo("webhook endpoint"))?;
        Ok(EndpointView {
            endpoint: e,
            secret: Some(secret),
        })
    }

    /// Copies an endpoint's settings into a new endpoint with a fresh secret.
    pub async fn clone_endpoint(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<EndpointView, AppError> {
        let src = self.load(&caller.tenant(), id).await?;
        let mut v = Validator {
            settings: &self.settings,
            errors: Vec::new(),
        };
        v.url(&src.url);
        v.finish()?;
        let now = self.clock.now();
        let new_id = new_id(prefix::ENDPOINT);
        let secret = new_secret()?;
        let endpoint = EndpointRecord {
            secret_encrypted: self.seal(&new_id, &secret),
            id: new_id,
            enabled: true,
            consecutive_failures: 0,
            disabled_at: None,
            created_at: now,
            updated_at: now,
            ..src
        };
        self.store.insert_endpoint(&endpoint).await?;
        Ok(EndpointView {
            endpoint,
            secret: Some(secret),
        })
    }

    /// Sends a signed test event now (no retries) and records it as a delivery.
    pub async fn test(
        &self,
        caller: &Caller,
        id: &str,
        event_type: Option<String>,
    ) -> Result<TestOutcome, AppError> {
        let e = self.load(&caller.tenant(), id).await?;
        let event_type = event_type.unwrap_or_else(|| DEFAULT_TEST_EVENT.to_owned());
        if !events::is_known(&event_type) {
            return Err(AppError::invalid(
                "event_type",
                format!("unknown event type '{event_type}'"),
            ));
        }
        let now = self.clock.now();
        let delivery_id = new_id(prefix::DELIVERY);
        let idk = new_id(prefix::IDEMPOTENCY_KEY);
        let fields = json!({
            "session_id": new_id("ses_test"),
            "external_ref": null,
            "status": "approved",
            "is_sandbox": e.tenant.environment.is_sandbox(),
            "test": true,
        });
        let event = WebhookEvent {
            event: event_type.clone(),
            fields: fields.as_object().cloned().unwrap_or_default(),
            created_at: now,
        };
        let body = to_body(&build_payload(
            &event,
            &idk,
            &PayloadOptions {
                key_inflection: inflection_of(&e),
                attribute_blocklist: &e.attribute_blocklist,
            },
        ));
        let secret = self.open(&e)?;
        let response = send_signed(
            self.transport.as_ref(),
            &self.settings,
            &e.url,
            &secret,
            &delivery_id,
            &event_type,
            &body,
            now,
        )
        .await;
        let success = response.is_success();
        let error = attempt_error(&response);
        let record = DeliveryRecord {
            id: delivery_id.clone(),
            endpoint_id: e.id.clone(),
            tenant: e.tenant.clone(),
            event_id: new_id(prefix::TEST_EVENT),
            event_seq: None,
            session_id: None,
            event_type,
            idempotency_key: idk,
            body: String::from_utf8_lossy(&body).into_owned(),
            status: if success {
                DeliveryStatus::Succeeded
            } else {
                DeliveryStatus::Failed
            },
            attempts: 1,
            next_attempt_at: None,
            lease_owner: None,
            lease_until: None,
            last_attempt_at: Some(now),
            last_status_code: response.status,
            last_error: error.clone(),
            last_duration_ms: Some(response.duration_ms),
            is_test: true,
            created_at: now,
            updated_at: now,
            completed_at: Some(now),
        };
        self.store.insert_delivery(&record).await?;
        tracing::info!(endpoint_id = %e.id, delivery_id = %delivery_id, success, status = ?response.status, "webhook test delivery");
        Ok(TestOutcome {
            success,
            http_status: response.status,
            error,
            url: Some(e.url),
            delivery_id,
        })
    }

    /// Deliveries of an endpoint, newest first.
    pub async fn deliveries(
        &self,
        caller: &Caller,
        endpoint_id: &str,
        filter: DeliveryFilter,
        page: PageRequest,
    ) -> Result<Page<DeliveryRecord>, AppError> {
        let tenant = caller.tenant();
        self.load(&tenant, endpoint_id).await?;
        Ok(self
            .store
            .list_deliveries(&tenant, endpoint_id, &filter, page)
            .await?)
    }

    /// Puts a failed delivery back in the queue (same body, same `idempotency_key`).
    pub async fn retry(
        &self,
        caller: &Caller,
        delivery_id: &str,
    ) -> Result<DeliveryRecord, AppError> {
        let tenant = caller.tenant();
        let d = self
            .store
            .get_delivery(&tenant, delivery_id)
            .await
            .map_err(AppError::from_repo("webhook delivery"))?;
        if d.is_test {
            return Err(AppError::InvalidState(
                "Test deliveries cannot be retried; send a new test instead.".into(),
            ));
        }
        let endpoint = self.load(&tenant, &d.endpoint_id).await?;
        if !endpoint.enabled {
            return Err(AppError::InvalidState(
                "The endpoint is disabled; enable it before retrying its deliveries.".into(),
            ));
        }
        match self
            .store
            .requeue_failed(&tenant, delivery_id, self.clock.now())
            .await
        {
            Ok(d) => Ok(d),
            Err(RepoError::Conflict(_)) => Err(AppError::InvalidState(format!(
                "Only failed deliveries can be retried; this one is {}.",
                d.status.as_str()
            ))),
            Err(e) => Err(AppError::from_repo("webhook delivery")(e)),
        }
    }
}

fn open_secret(cipher: &Cipher, endpoint: &EndpointRecord) -> Result<String, AppError> {
    cipher
        .open_text(&endpoint.secret_encrypted, &secret_context(&endpoint.id))
        .map_err(|e| AppError::Internal(format!("webhook secret of {}: {e}", endpoint.id)))
}

fn attempt_error(r: &WebhookResponse) -> Option<String> {
    if r.is_success() {
        None
    } else if let Some(e) = &r.error {
        Some(e.clone())
    } else {
        r.status.map(|s| format!("HTTP {s}"))
    }
}

#[allow(clippy::too_many_arguments)]
async fn send_signed(
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

/// What one delivery step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryStepSummary {
    /// Attempts made.
    pub attempted: usize,
    /// Of which delivered.
    pub succeeded: usize,
    /// Of which scheduled for a retry.
    pub retried: usize,
    /// Of which failed for good.
    pub failed: usize,
    /// Endpoints disabled by the circuit breaker.
    pub endpoints_disabled: usize,
}

/// Turns outbox events into deliveries and delivers them. Several dispatchers (threads or
/// processes) may run at once; leases keep them from sending a delivery concurrently.
pub struct Dispatcher {
    store: Arc<dyn WebhookStore>,
    transport: Arc<dyn WebhookTransport>,
    clock: Arc<dyn Clock>,
    cipher: Arc<Cipher>,
    settings: Arc<WebhookSettings>,
    owner: String,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("owner", &self.owner)
            .finish()
    }
}

impl Dispatcher {
    /// The lease owner name.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// One fan-out step: outbox rows after the cursor become deliveries. Returns the number of
    /// deliveries created (0 when another dispatcher did this batch).
    pub async fn fan_out_once(&self) -> Result<usize, AppError> {
        let now = self.clock.now();
        let from = self.store.fan_out_cursor().await?;
        let rows = self
            .store
            .outbox_after(from, self.settings.batch_size.max(1))
            .await?;
        let mut taken: Vec<OutboxEvent> = Vec::with_capacity(rows.len());
        let mut expected = from.saturating_add(1);
        for row in rows {
            if row.seq != expected
                && now.signed_duration_since(row.created_at) < self.settings.gap_grace
            {
                // An earlier number may still commit: wait for it (or for the grace to pass).
                break;
            }
            expected = row.seq.saturating_add(1);
            taken.push(row);
        }
        let Some(to) = taken.last().map(|r| r.seq) else {
            return Ok(0);
        };
        let mut endpoints: HashMap<Tenant, Vec<EndpointRecord>> = HashMap::new();
        let mut batch = Vec::new();
        for row in &taken {
            let fields = match serde_json::from_str::<Value>(&row.data) {
                Ok(Value::Object(m)) => m,
                _ => {
                    tracing::warn!(event_id = %row.id, seq = row.seq, "outbox event data is not a JSON object; skipped");
                    continue;
                }
            };
            let event = WebhookEvent {
                event: row.event_type.clone(),
                fields,
                created_at: row.created_at,
            };
            if !endpoints.contains_key(&row.tenant) {
                let list = self.store.enabled_endpoints(&row.tenant).await?;
                endpoints.insert(row.tenant.clone(), list);
            }
            let targets = endpoints.get(&row.tenant).map(Vec::as_slice).unwrap_or(&[]);
            for ep in targets {
                if ep.created_at > row.created_at
                    || !events::is_enabled(&ep.enabled_events, &row.event_type)
                    || !matches_filter_conditions(&ep.event_filter_conditions, &event)
                {
                    continue;
                }
                let idk = new_id(prefix::IDEMPOTENCY_KEY);
                let body = to_body(&build_payload(
                    &event,
                    &idk,
                    &PayloadOptions {
                        key_inflection: inflection_of(ep),
                        attribute_blocklist: &ep.attribute_blocklist,
                    },
                ));
                batch.push(DeliveryRecord {
                    id: new_id(prefix::DELIVERY),
                    endpoint_id: ep.id.clone(),
                    tenant: row.tenant.clone(),
                    event_id: row.id.clone(),
                    event_seq: Some(row.seq),
                    session_id: Some(row.session_id.clone()),
                    event_type: row.event_type.clone(),
                    idempotency_key: idk,
                    body: String::from_utf8_lossy(&body).into_owned(),
                    status: DeliveryStatus::Pending,
                    attempts: 0,
                    next_attempt_at: Some(now),
                    lease_owner: None,
                    lease_until: None,
                    last_attempt_at: None,
                    last_status_code: None,
                    last_error: None,
                    last_duration_ms: None,
                    is_test: false,
                    created_at: now,
                    updated_at: now,
                    completed_at: None,
                });
            }
        }
        let created = batch.len();
        if self.store.commit_fan_out(from, to, &batch, now).await? {
            if created > 0 {
                tracing::debug!(
                    events = taken.len(),
                    deliveries = created,
                    to_seq = to,
                    "webhook fan-out"
                );
            }
            Ok(created)
        } else {
            Ok(0)
        }
    }

    /// Claims (leases to this dispatcher) up to `batch_size` deliveries due at `now` that are not
    /// waiting behind an earlier event of the same session. Exposed to test crash recovery.
    pub async fn claim_due(&self, now: DateTime<Utc>) -> Result<Vec<DeliveryRecord>, AppError> {
        Ok(self
            .store
            .claim_due(
                &self.owner,
                now,
                now + self.settings.lease,
                self.settings.batch_size.max(1),
            )
            .await?)
    }

    /// One delivery step: up to `batch_size` due deliveries are claimed in one statement, sent
    /// concurrently, and their attempts recorded in one transaction. A slow receiver holds its
    /// batch until the 30 s timeout (the lease is longer); other dispatcher loops go on.
    pub async fn deliver_due_once(
        &self,
        now: DateTime<Utc>,
    ) -> Result<DeliveryStepSummary, AppError> {
        let mut summary = DeliveryStepSummary::default();
        let claimed = self.claim_due(now).await?;
        if claimed.is_empty() {
            return Ok(summary);
        }
        let mut endpoint_ids: Vec<String> = claimed.iter().map(|d| d.endpoint_id.clone()).collect();
        endpoint_ids.sort_unstable();
        endpoint_ids.dedup();
        let endpoints: HashMap<String, EndpointRecord> = self
            .store
            .endpoints_by_ids(&endpoint_ids)
            .await?
            .into_iter()
            .map(|e| (e.id.clone(), e))
            .collect();
        // A deleted endpoint's deliveries are deleted with it: nothing to attempt or record.
        let claimed: Vec<(DeliveryRecord, &EndpointRecord)> = claimed
            .into_iter()
            .filter_map(|d| endpoints.get(&d.endpoint_id).map(|e| (d, e)))
            .collect();
        // Each endpoint's secret is opened once per batch.
        let secrets: HashMap<&str, Result<String, String>> = endpoints
            .values()
            .map(|e| {
                (
                    e.id.as_str(),
                    open_secret(&self.cipher, e).map_err(|err| err.to_string()),
                )
            })
            .collect();
        let sends = claimed
            .iter()
            .map(|(d, endpoint)| self.send(d, endpoint, secrets.get(endpoint.id.as_str()), now));
        let responses = join_all(sends).await;
        let records: Vec<AttemptRecord> = claimed
            .iter()
            .zip(&responses)
            .map(|((d, _), response)| {
                let attempt_number = d.attempts.saturating_add(1);
                let outcome = schedule::classify(response.status, response.timed_out());
                let next = match schedule::decide(outcome, attempt_number, now, jitter()) {
                    DeliveryDecision::Delivered => AttemptNext::Succeeded,
                    DeliveryDecision::RetryAt(t) => AttemptNext::RetryAt(t),
                    DeliveryDecision::Failed => AttemptNext::Failed,
                };
                AttemptRecord {
                    delivery_id: d.id.clone(),
                    endpoint_id: d.endpoint_id.clone(),
                    lease_owner: self.owner.clone(),
                    attempted_at: now,
                    status_code: response.status,
                    error: attempt_error(response),
                    duration_ms: response.duration_ms,
                    next,
                }
            })
            .collect();
        let finished = self
            .store
            .finish_attempts(&records, CIRCUIT_BREAKER_THRESHOLD)
            .await?;
        for (record, finished) in records.iter().zip(finished) {
            summary.attempted += 1;
            match record.next {
                AttemptNext::Succeeded => summary.succeeded += 1,
                AttemptNext::RetryAt(_) => summary.retried += 1,
                AttemptNext::Failed => summary.failed += 1,
            }
            if finished.endpoint_disabled {
                summary.endpoints_disabled += 1;
                tracing::warn!(endpoint_id = %record.endpoint_id, "webhook endpoint disabled after {CIRCUIT_BREAKER_THRESHOLD} consecutive failed deliveries");
            }
            if !finished.recorded {
                tracing::warn!(delivery_id = %record.delivery_id, "webhook delivery lease lost before the attempt was recorded");
            }
            tracing::debug!(
                delivery_id = %record.delivery_id,
                endpoint_id = %record.endpoint_id,
                status = ?record.status_code,
                error = ?record.error,
                next = ?record.next,
                "webhook delivery attempt"
            );
        }
        Ok(summary)
    }

    /// Signs and sends one claimed delivery (no store access).
    async fn send(
        &self,
        d: &DeliveryRecord,
        endpoint: &EndpointRecord,
        secret: Option<&Result<String, String>>,
        at: DateTime<Utc>,
    ) -> WebhookResponse {
        match secret {
            Some(Ok(secret)) => {
                send_signed(
                    self.transport.as_ref(),
                    &self.settings,
                    &endpoint.url,
                    secret,
                    &d.id,
                    &d.event_type,
                    d.body.as_bytes(),
                    at,
                )
                .await
            }
            Some(Err(e)) => {
                tracing::error!(endpoint_id = %endpoint.id, error = %e, "webhook secret cannot be decrypted");
                WebhookResponse::failure("signing secret unavailable", 0)
            }
            None => WebhookResponse::failure("signing secret unavailable", 0),
        }
    }

    /// The background loop: fan out, deliver what is due, then `sleep_or_stop(delay)`, until it
    /// returns `true` (stop). `sleep_or_stop` waits up to `delay` (zero after a busy step) and
    /// says whether to stop; the composition root builds it from its stop signal. Errors are
    /// logged and the loop goes on.
    pub async fn run<W, F>(&self, mut sleep_or_stop: W)
    where
        W: FnMut(Duration) -> F + Send,
        F: Future<Output = bool> + Send,
    {
        loop {
            let mut busy = false;
            match self.fan_out_once().await {
                Ok(n) => busy |= n > 0,
                Err(e) => tracing::warn!(error = %e, "webhook fan-out failed"),
            }
            match self.deliver_due_once(self.clock.now()).await {
                Ok(s) => busy |= s.attempted > 0,
                Err(e) => tracing::warn!(error = %e, "webhook delivery step failed"),
            }
            let delay = if busy {
                Duration::ZERO
            } else {
                self.settings.poll_interval
            };
            if sleep_or_stop(delay).await {
                return;
            }
        }
    }
}
