//! The endpoints API: create (a fresh secret, shown once), list, read, update, delete, rotate the
//! secret, clone.

use super::validation::{Validator, check_len, normalise_events};
use super::{MAX_DESCRIPTION_LEN, MAX_LABEL_LEN, WebhookService, new_secret, prefix};
use crate::api_keys::Caller;
use crate::error::AppError;
use crate::ids::new_id;
use crate::retry::{retrying, written};
use serde_json::{Map, Value};
use verifa_domain::pagination::{Page, PageRequest};
use verifa_ports::webhook_store::EndpointRecord;

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

impl WebhookService {
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
        let inflection = v.inflection(input.key_inflection.as_deref().unwrap_or("snake"));
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
            revision: 0,
        };
        let audit = caller
            .audit(
                "webhook_endpoint.created",
                "webhook_endpoint",
                &endpoint.id,
                now,
            )
            .with_changes(CREATED_FIELDS);
        self.endpoints.insert_endpoint(&endpoint, &[audit]).await?;
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
        let page = self
            .endpoints
            .list_endpoints(&caller.tenant(), page)
            .await?;
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
        let inflection = changes.key_inflection.as_deref().map(|i| v.inflection(i));
        v.finish()?;
        let changed = changes.field_names();
        let e = retrying!(
            "the webhook endpoint",
            async {
                let mut e = self.load(&caller.tenant(), id).await?;
                apply_changes(&mut e, changes.clone(), conditions.clone(), inflection);
                e.updated_at = self.clock.now();
                let audit = caller
                    .audit(
                        "webhook_endpoint.updated",
                        "webhook_endpoint",
                        &e.id,
                        e.updated_at,
                    )
                    .with_changes(changed.iter().copied());
                let outcome = self.endpoints.update_endpoint(&e, &[audit]).await;
                e.revision += 1;
                written(outcome, e)
            }
            .await
        )?;
        self.view(e, false)
    }

    /// Deletes an endpoint and its deliveries.
    pub async fn delete(&self, caller: &Caller, id: &str) -> Result<(), AppError> {
        let audit = caller.audit(
            "webhook_endpoint.deleted",
            "webhook_endpoint",
            id,
            self.clock.now(),
        );
        self.endpoints
            .delete_endpoint(&caller.tenant(), id, &[audit])
            .await
            .map_err(AppError::from_repo("webhook endpoint"))
    }

    /// Replaces the secret; the old one stops working immediately.
    pub async fn rotate_secret(&self, caller: &Caller, id: &str) -> Result<EndpointView, AppError> {
        let secret = new_secret()?;
        let e = retrying!(
            "the webhook endpoint",
            async {
                let mut e = self.load(&caller.tenant(), id).await?;
                e.secret_encrypted = self.seal(&e.id, &secret);
                e.updated_at = self.clock.now();
                let audit = caller
                    .audit(
                        "webhook_endpoint.secret_rotated",
                        "webhook_endpoint",
                        &e.id,
                        e.updated_at,
                    )
                    .with_changes(["secret"]);
                let outcome = self.endpoints.update_endpoint(&e, &[audit]).await;
                e.revision += 1;
                written(outcome, e)
            }
            .await
        )?;
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
        let audit = caller
            .audit(
                "webhook_endpoint.cloned",
                "webhook_endpoint",
                &endpoint.id,
                now,
            )
            .with_changes(CREATED_FIELDS)
            .with_metadata("source_id", id);
        self.endpoints.insert_endpoint(&endpoint, &[audit]).await?;
        Ok(EndpointView {
            endpoint,
            secret: Some(secret),
        })
    }
}

/// The fields a `webhook_endpoint.created` (or `.cloned`) event names.
const CREATED_FIELDS: [&str; 4] = ["url", "enabled", "enabled_events", "secret"];

impl EndpointChanges {
    /// The names of the fields this PATCH sets (the audit trail keeps names, never values).
    fn field_names(&self) -> Vec<&'static str> {
        [
            ("url", self.url.is_some()),
            ("label", self.label.is_some()),
            ("description", self.description.is_some()),
            ("enabled", self.enabled.is_some()),
            ("enabled_events", self.enabled_events.is_some()),
            ("attribute_blocklist", self.attribute_blocklist.is_some()),
            (
                "event_filter_conditions",
                self.event_filter_conditions.is_some(),
            ),
            ("api_version", self.api_version.is_some()),
            ("key_inflection", self.key_inflection.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }
}

/// Applies validated changes to an endpoint as read.
fn apply_changes(
    e: &mut EndpointRecord,
    changes: EndpointChanges,
    conditions: Option<Map<String, Value>>,
    inflection: Option<verifa_domain::inflection::Inflection>,
) {
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
    if let Some(i) = inflection {
        e.key_inflection = i;
    }
}
