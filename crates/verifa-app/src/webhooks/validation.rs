//! Validation of endpoint settings, shared by create, update and clone.

use super::{MAX_ENABLED_EVENTS, MAX_URL_LEN, WebhookSettings};
use crate::error::{AppError, FieldError};
use serde_json::{Map, Value};
use verifa_domain::inflection::Inflection;
use verifa_domain::webhooks::payload::{validate_blocklist, validate_filter_conditions};
use verifa_domain::webhooks::{events, ssrf};

pub(super) fn check_len(
    field: &str,
    value: Option<&str>,
    max: usize,
    errors: &mut Vec<FieldError>,
) {
    if value.is_some_and(|v| v.chars().count() > max) {
        errors.push(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
}

/// Validated endpoint settings (shared by create, update and clone).
pub(super) struct Validator<'a> {
    pub(super) settings: &'a WebhookSettings,
    pub(super) errors: Vec<FieldError>,
}

impl Validator<'_> {
    pub(super) fn url(&mut self, url: &str) {
        if url.trim().is_empty() {
            self.errors.push(FieldError::new("url", "is required"));
        } else if url.chars().count() > MAX_URL_LEN {
            self.errors.push(FieldError::new(
                "url",
                format!("must be at most {MAX_URL_LEN} characters"),
            ));
        } else if let Err(e) = ssrf::check_url(url, self.settings.allow_private_networks) {
            self.errors.push(FieldError::new("url", e.to_string()));
        }
    }

    pub(super) fn events(&mut self, list: &[String]) {
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

    pub(super) fn blocklist(&mut self, list: &[String]) {
        if let Err(e) = validate_blocklist(list) {
            self.errors
                .push(FieldError::new("attribute_blocklist", e.to_string()));
        }
    }

    pub(super) fn conditions(&mut self, value: &Value) -> Map<String, Value> {
        match validate_filter_conditions(value) {
            Ok(()) => value.as_object().cloned().unwrap_or_default(),
            Err(e) => {
                self.errors
                    .push(FieldError::new("event_filter_conditions", e.to_string()));
                Map::new()
            }
        }
    }

    pub(super) fn api_version(&mut self, v: Option<&str>) {
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

    /// The key inflection named exactly by `v` (snake when it is not one).
    pub(super) fn inflection(&mut self, v: &str) -> Inflection {
        match [Inflection::Snake, Inflection::Camel, Inflection::Kebab]
            .into_iter()
            .find(|i| i.as_str() == v)
        {
            Some(i) => i,
            None => {
                self.errors.push(FieldError::new(
                    "key_inflection",
                    "must be one of snake, camel, kebab",
                ));
                Inflection::Snake
            }
        }
    }

    pub(super) fn finish(self) -> Result<(), AppError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.errors))
        }
    }
}

/// Normalises `enabled_events`: `["*"]` is stored as empty (all events).
pub(super) fn normalise_events(list: Vec<String>) -> Vec<String> {
    if list.iter().any(|e| e == "*") {
        Vec::new()
    } else {
        list
    }
}
